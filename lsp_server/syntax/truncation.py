"""Truncation: after (and while) the model generates, cut its output to what fits the code.

Owns the entry points: `clean` (characters that have no place in code), `truncate` (the
syntax-aware cut: the longest cut of the output, within the scope the gate chose (`scan`),
whose completed file has no more tree-sitter ERROR/MISSING nodes than the file without it and
keeps the code after the cursor as it was (`parsecheck`)), `loop_end` (where a model that
repeats itself started to) and `StopChecker` (stop generating once that cut is certain, or the
model is in a loop); and which cuts are tried (the scope's line ends and cut points, none that
ends with a dangling header or leaves a string open) and how the chosen one is inserted.
Must not decide whether to complete (`gating`), build prompts, or call the model.
"""

from __future__ import annotations

import re
import unicodedata

from lsp_server.syntax.gating import Gate
from lsp_server.syntax.lexer import CLOSERS, bracket_state, ends_outside_tokens, lex, token_rule_at
from lsp_server.syntax.lines import TAB_SIZE, indent_style, indent_width, leading_ws, reindent, start_of_line
from lsp_server.syntax.parsecheck import ParseCheck, parser_name
from lsp_server.syntax.scan import scan
from lsp_server.syntax.surroundings import Surroundings

MAX_PARSES = 24
# A model stuck in a loop writes the same lines over and over (`defer p.ul.Close()` eight times):
# a block of 1-3 lines that comes this many times in a row is kept once, and generation stops.
LOOP_REPEATS = 3
# a line that counts for a loop: a word and something more (not `}`, `end`, `fi` or `pass`)
_LOOP_LINE = re.compile(r"\w.*[^\w\s]|[^\w\s].*\w|\w\s+\w")

_INVISIBLE = (
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_CLEAN_TABLE = {
    cp: None
    for cp in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *map(ord, _INVISIBLE)]
    if chr(cp) not in "\t\n\r"
}


def clean(text: str) -> str:
    """`text` without bidi overrides/isolates, zero-width characters and control characters
    other than tab, newline and carriage return."""
    return text.translate(_CLEAN_TABLE)


assert all(unicodedata.category(chr(cp)) in ("Cc", "Cf") for cp in _CLEAN_TABLE)


def truncate(language: str | None, prefix: str, candidate: str, suffix: str, gate: Gate, overran: bool = False) -> str:
    """The part of `candidate` (model output at the cursor between `prefix` and `suffix`) to
    insert: cut to the gate's scope, without what the suffix already has, and only if it does
    not break the file. Line ends follow the document's; "" when nothing fits.
    `overran`: the model hit its token limit instead of ending the middle itself. A model that
    runs on has lost track of where the hole ends (it writes the code after it again, then
    tests and prose), so only its first statement is trusted: the statement and block scopes
    keep one statement."""
    if not gate.complete:
        return ""
    if not overran:
        return _truncate(language, prefix, candidate, suffix, gate, False)[0]
    # one statement; where it does not make the code around it whole (the code below needs more
    # of the candidate: an `except:`, a closing line), the gate's scope when that has fewer errors
    narrow, narrow_errors = _truncate(language, prefix, candidate, suffix, gate, True)
    if narrow and narrow_errors == 0:
        return narrow
    wide, wide_errors = _truncate(language, prefix, candidate, suffix, gate, False)
    if not narrow or wide_errors is not None and narrow_errors is not None and wide_errors < narrow_errors:
        return wide
    return narrow


def loop_end(text: str) -> int | None:
    """Where the first of LOOP_REPEATS consecutive copies of the same 1-3 complete lines ends
    (indentation aside; lines with code, `_LOOP_LINE`), or None: the model is repeating itself."""
    lines = text.split("\n")[:-1]  # complete lines only
    code = [ln.strip() for ln in lines]
    ends = []
    at = 0
    for ln in lines:
        at += len(ln)
        ends.append(at)
        at += 1
    for start in range(len(code)):
        for k in (1, 2, 3):
            block = code[start : start + k]
            if len(block) < k or not any(_LOOP_LINE.search(ln) for ln in block):
                continue
            if all(code[start + j * k : start + (j + 1) * k] == block for j in range(1, LOOP_REPEATS)):
                return ends[start + k - 1]
    return None


class StopChecker:
    """Tells the generation loop when the cut point is certain, so decoding can stop early.

    feed() gets the whole output so far after each token and is cheap (a regex lex and a walk
    over its lines; no parsing). It never stops earlier than `truncate` would cut (with
    `overran`: than the one statement `truncate(..., overran=True)` tries first)."""

    def __init__(self, language: str | None, prefix: str, suffix: str, gate: Gate, overran: bool = False) -> None:
        self._ctx = Surroundings.build(language, prefix, suffix, gate, overran)
        self._complete = gate.complete
        self._lines = 0

    def feed(self, text_so_far: str) -> bool:
        if not self._complete:
            return True
        cand = _normalize(self._ctx, text_so_far)
        lines = cand.count("\n")
        if lines > self._lines:  # a line was completed: is the model repeating itself?
            self._lines = lines
            if loop_end(cand) is not None:
                return True
        return scan(self._ctx, cand, final=False).end is not None


def _truncate(language: str | None, prefix: str, candidate: str, suffix: str, gate: Gate, overran: bool) -> tuple[str, int | None]:
    """The cut and the errors of the window with it (None: not parsed)."""
    ctx = Surroundings.build(language, prefix, suffix, gate, overran)
    cuts = _cuts(ctx, _normalize(ctx, candidate))
    name = parser_name(language)
    if name is None:
        chosen = cuts[-1] if cuts and ctx.right else (cuts[0] if cuts else "")
        return _finish(ctx, chosen), None
    # The longest cut that fits with the fewest errors: where the file around the cursor is
    # broken without the completion (a hole, an edit in progress), a shorter cut that repairs
    # it wins over a longer one that does not (e.g. the model's last line is cut off mid-string).
    checker = ParseCheck.around(name, ctx)
    best, best_errors = "", None
    for t in cuts[:MAX_PARSES]:
        errors = checker.errors(t)
        if errors == 0:
            return _finish(ctx, t), 0
        if errors is not None and (best_errors is None or errors < best_errors):
            best, best_errors = t, errors
    return _finish(ctx, best), best_errors


def _cuts(ctx: Surroundings, cand: str) -> list[str]:
    """The cuts of the candidate to try, longest first: at the line ends and cut points of the
    scope (`scan`), also without what the cursor line has right of the cursor already."""
    end = loop_end(cand)
    if end is not None:
        cand = cand[:end]
    found = scan(ctx, cand, final=True)
    region = cand[: found.end]
    points = {len(region), *(i for i, c in enumerate(region) if c == "\n"), *(p for p in found.cuts if p <= len(region))}
    texts = {region[:p].rstrip() for p in points}
    for t in list(texts):  # what the cursor line already has right of the cursor
        for k in range(len(ctx.right), 0, -1):
            if t.endswith(ctx.right[:k]):
                texts.add(t[:-k].rstrip())
    texts.discard("")
    if ctx.rules.dangling_header is not None:
        # not a header whose body would be the code below, unless that code is indented deeper
        # than the header's line: then it already is the body, and the header is what is missing
        texts = {t for t in texts if not _dangling(ctx, t)}
    if ctx.inside is None:
        # among code, not a cut that leaves open a string the suffix does not close (a model
        # stopped mid-string by its token limit), which a parse whose window has errors anyway
        # may not count
        texts = {t for t in texts if not _leaves_string_open(ctx, t)}
    return sorted(texts, key=len, reverse=True)


def _dangling(ctx: Surroundings, text: str) -> bool:
    """Does `text` end with a header (`if (x)`) whose body would be the code below, which is not
    indented as that body?"""
    cut = start_of_line(text)
    last = text[cut:]
    if not ctx.rules.dangling_header.search(last):
        return False
    # a line that goes on inside a string or comment is text, not a header
    if ctx.inside is not None and not cut or not ends_outside_tokens(
            text[:cut] if ctx.inside is None else ctx.prefix + text[:cut], ctx.rules):
        return False
    line = last if cut else ctx.left + last
    # the code below is its body when indented deeper by whole indentation steps (not aligned
    # under something on the line above it)
    deeper = ctx.next_indent - indent_width(line)
    style = ctx.style or indent_style(ctx.suffix)
    step = (TAB_SIZE if style[0] else style[1]) if style is not None else 1
    return deeper <= 0 or deeper % step != 0


def _leaves_string_open(ctx: Surroundings, text: str) -> bool:
    """Does `text` end inside a string that the suffix window does not close?"""
    inside = bracket_state(text, ctx.rules)[1]
    if inside is None or inside.kind != "string":
        return False
    window = ctx.prefix + text + ctx.suffix
    at = len(ctx.prefix) + inside.start
    rule = token_rule_at(window, at, ctx.rules)
    tok = next(lex(window, ctx.rules, at), None)
    if rule is None or tok is None or tok.start != at or not tok.closed:
        return True
    end = rule.end
    # a one-line string broken at the line's end is "closed" there without its delimiter
    return end is not None and not (tok.end - at > len(end) and window[tok.start : tok.end].endswith(end))


def _normalize(ctx: Surroundings, candidate: str) -> str:
    """Cleaned model output with "\\n" line ends, indented in the document's style."""
    text = clean(candidate).replace("\r\n", "\n").replace("\r", "\n")
    if ctx.style is None or "\n" not in text and ctx.left.strip():
        return text
    lines = text.split("\n")
    head = [] if not ctx.left.strip() else [lines.pop(0)]
    return "\n".join(head + reindent(lines, *ctx.style))


def _finish(ctx: Surroundings, text: str) -> str:
    """The cut as it is inserted. A completion that goes on below a bracket the cursor line
    closes right of the cursor (`{|}`, as editors that close brackets leave it) ends with a line
    break, so that the closer goes on a line of its own at the cursor line's indentation."""
    if text.startswith("\n") and ctx.right.startswith(tuple(CLOSERS)) and ctx.inside is None:
        text += "\n" + leading_ws(ctx.left)
    return text.replace("\n", ctx.eol) if ctx.eol != "\n" else text
