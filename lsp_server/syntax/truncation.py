"""Truncation: after (and while) the model generates, cut its output to what fits the code.

Owns `clean` (characters that have no place in code), `truncate` (the syntax-aware cut: the
longest cut of the output, within the scope the gate chose, whose completed file has no more
tree-sitter ERROR/MISSING nodes than the file without it and keeps the code after the cursor
as it was), `loop_end` (where a model that repeats itself started to) and `StopChecker` (stop
generating once that cut is certain, or the model is in a loop).
Must not decide whether to complete (`gating`), build prompts, or call the model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import tree_sitter

from lsp_server.syntax import textops
from lsp_server.syntax.gating import Gate
from lsp_server.syntax.languages import new_parser, spec_for

# Each cut is checked by parsing a window around the cursor, not the whole file: the prefix from
# the closest column-0 line (else the least indented line) at most PREFIX_WINDOW_LINES back, the
# suffix up to the next definition, at most SUFFIX_WINDOW_LINES (`textops.suffix_window`).
PREFIX_WINDOW_LINES = 200
SUFFIX_WINDOW_LINES = 40
MAX_PARSES = 24
STRUCTURE_LEAVES = 24  # tokens after the cursor that must keep their types
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


@dataclass
class _Context:
    """What truncation needs to know about the document around the cursor."""

    rules: textops.Rules
    gate: Gate
    eol: str
    prefix: str  # window of the prefix, "\n" line ends
    suffix: str  # window of the suffix, "\n" line ends
    left: str  # the cursor line left of the cursor
    right: str  # the cursor line right of the cursor, stripped
    next_line: str | None  # the first non-blank line after the cursor line, right-stripped
    after_next: str | None  # the non-blank line after that one
    header: str | None  # block scope: the header line (the cursor line or the line above) that opens it
    next_indent: int  # indentation of the first line of code after the cursor line (0: none)
    open_indent: int | None  # expression scope the suffix does not close: indentation of the line
    # holding the open bracket (the completion closes it and goes on as a statement scope there)
    style: tuple[bool, int] | None  # (tabs, unit) of the document's indentation
    open_end: bool  # the suffix window stops inside code that goes on (brackets may close further down)
    overran: bool = False  # the model did not end the middle itself: keep one statement at most

    @classmethod
    def build(cls, language: str | None, prefix: str, suffix: str, gate: Gate, overran: bool = False) -> "_Context":
        rules = textops.rules_for(language)
        pstart = textops.window_start(prefix, len(prefix), PREFIX_WINDOW_LINES)
        pw = prefix[pstart:]
        eol = "\r\n" if "\r\n" in pw or "\r\n" in suffix[:2000] else "\n"
        pw = pw.replace("\r\n", "\n")
        sn = suffix.replace("\r\n", "\n")
        sw, open_end = textops.suffix_window(sn, rules, SUFFIX_WINDOW_LINES)
        left = pw[pw.rfind("\n") + 1 :]
        # the lines after the cursor's, also past the window (the next definition starts it)
        first, _, rest = sn[: textops.window_end(sn, SUFFIX_WINDOW_LINES)].partition("\n")
        following = (ln.rstrip() for ln in rest.split("\n") if ln.strip())
        next_line, after_next = next(following, None), next(following, None)
        header = None
        if gate.scope == "block":
            if left.strip():
                header = left
            else:
                prev = textops.previous_nonblank_line(pw, len(pw) - len(left))
                if prev is not None and textops.opens_block(rules, textops.code_of(rules, prev)):
                    header = prev
        style = textops.indent_style(pw[-8000:]) or ((True, 4) if rules.indent_tabs else None)
        open_indent = None
        if gate.scope == "expression" and not left.strip():
            stack, _ = textops.bracket_state(pw, rules)
            if len(stack) == 1 and not textops.closes_open_bracket(sw, rules):
                open_indent = textops.indent_width(pw[pw.rfind("\n", 0, stack[0][1]) + 1 :])
        next_indent = textops.indent_width(next_line) if next_line is not None and next_line.lstrip()[0] not in textops.CLOSERS else 0
        return cls(rules, gate, eol, pw, sw, left, first.strip(), next_line, after_next, header, next_indent, open_indent, style,
                   open_end, overran)

    @cached_property
    def inside(self) -> textops.Token | None:
        """The comment or string the prefix window ends inside (the cursor is in it), if any."""
        return textops.bracket_state(self.prefix, self.rules)[1]

    def enclosing(self, indent: int) -> str | None:
        """The closest line of the prefix before the cursor line indented less than `indent`."""
        end = len(self.prefix) - len(self.left) - 1
        while end > 0:
            start = self.prefix.rfind("\n", 0, end) + 1
            line = self.prefix[start:end]
            if line.strip() and textops.code_of(self.rules, line).strip() and textops.indent_width(line) < indent:
                return line
            end = start - 1
        return None

    def normalize(self, candidate: str) -> str:
        """Cleaned model output with "\\n" line ends, indented in the document's style."""
        text = clean(candidate).replace("\r\n", "\n").replace("\r", "\n")
        if self.style is None or "\n" not in text and self.left.strip():
            return text
        lines = text.split("\n")
        head = [] if not self.left.strip() else [lines.pop(0)]
        return "\n".join(head + textops.reindent(lines, *self.style))


@dataclass
class _Scan:
    end: int | None  # where the scope ends in the candidate; None: not yet known
    cuts: list[int] = field(default_factory=list)  # extra cut points: around closing brackets


def _scan(ctx: _Context, cand: str, final: bool) -> _Scan:
    """Walk the candidate line by line and find where the gate's scope ends.

    `final`: the candidate is complete (else its last line may still grow, and the end is only
    reported once it is certain)."""
    gate = ctx.gate
    left_blank = not ctx.left.strip()
    starts = [0] + [i + 1 for i, c in enumerate(cand) if c == "\n"]
    n_lines = len(starts)
    scan = _Scan(None)
    events: list[tuple[int, int]] = []
    spans: list[tuple[int, int]] = []  # comments and strings that span lines
    for tok in textops.lex(cand, ctx.rules):
        if tok.kind == "open":
            events.append((tok.start, 1))
        elif tok.kind == "close":
            events.append((tok.start, -1))
        elif "\n" in cand[tok.start : tok.end]:
            spans.append((tok.start, tok.end))
    first = (ctx.left + cand[: starts[1] - 1 if n_lines > 1 else len(cand)]) if left_blank else ctx.left
    start_indent = textops.indent_width(first)
    rules = ctx.rules
    # Statement and block scopes end where the block around the cursor ends: at a line indented
    # less than `floor` (the header's level, else the cursor's), continuation clauses (`else:`)
    # excepted. Where the lines are definitions (module level, a class body, a definition's own
    # body at its header's level) a line at `floor` ends the scope too: one statement, one
    # definition, not the next function.
    # The suffix goes on at `ctx.next_indent`: when that is shallower (the cursor is at the end of
    # its block), the lines down to it belong to the hole too.
    # A definition's block scope is its body only.
    if ctx.header is not None:
        definition = textops.matches(rules.definition, ctx.header)
        floor = textops.indent_width(ctx.header) if definition else min(textops.indent_width(ctx.header), ctx.next_indent)
        inline_body = not left_blank and bool(cand[: starts[1] - 1 if n_lines > 1 else len(cand)].strip())
        single = floor == 0 or inline_body or definition or ctx.overran
    else:
        floor = min(start_indent, ctx.next_indent)
        outer = ctx.enclosing(floor) if floor else None
        single = ctx.overran or floor == 0 or (outer is not None and textops.matches(rules.definitions_body, textops.code_of(rules, outer)))
    statement_like = gate.scope in ("block", "statement")
    # A model that ran on: the code below the cursor already goes on with a continuation clause
    # (`elif`) at this level, so the candidate's own clauses repeat its structure; or the code
    # below is indented deeper than the candidate's first line, so the hole is the header of the
    # block whose body is that code: it ends with the block opener that the candidate's next line
    # would start the body of at that code's indentation.
    suffix_continues = ctx.overran and ctx.next_line is not None and textops.matches(rules.continuation, ctx.next_line)
    # Where indentation is not checked by the parse (brace languages) this holds for any model:
    # a braced block with the code below's lines inside it, then those lines again, would parse.
    header_only = ((ctx.overran or rules.indent_opener is None) and statement_like and left_blank
                   and ctx.next_indent > start_indent)
    last_header: int | None = None  # header_only: end of the last line of code if it opens a block
    # header_only, the header's `{` still open, for a model that ended by itself: the candidate
    # may be writing the first lines of the body whose rest the code below is; cut at the header
    # (end, depth inside its brace) only if the candidate closes that brace itself (then the
    # code below was to be its body)
    braced: tuple[int, int] | None = None
    header_depth = 0  # the bracket depth after the last header line
    depth = 0
    ev = 0
    seen_code = bool(first.strip())
    joins = False  # the last line of code belongs to the next one (a decorator)
    for i in range(n_lines):
        ls = starts[i]
        le = starts[i + 1] - 1 if i + 1 < n_lines else len(cand)
        complete = i + 1 < n_lines or final
        line = cand[ls:le]
        before = ls - 1 if i else 0  # cut point that drops this line
        if i and line.strip() and not any(s < ls < e for s, e in spans):
            indent = textops.indent_width(line)
            stripped = line.lstrip()
            if (statement_like and depth == 0 and stripped[0] not in textops.CLOSERS
                    and (indent < floor or single and not header_only and seen_code and indent <= floor) and not joins):
                if not complete and _may_become_continuation(rules, stripped):
                    return scan
                if not textops.matches(rules.continuation, line) or suffix_continues:
                    scan.end = before
                    return scan
        if complete and ctx.next_line is not None and (i or left_blank):
            full = ctx.left + line if i == 0 else line
            if full.rstrip() == ctx.next_line:
                repeat = _repeats_suffix(ctx, cand, starts, i, final)
                if repeat is None:
                    return scan
                if repeat:
                    scan.end = before
                    return scan
        while ev < len(events) and events[ev][0] < le:
            pos, step = events[ev]
            ev += 1
            depth += step
            if braced is not None and depth < braced[1]:
                scan.end = braced[0]  # it closed the block: the code below was to be its body
                scan.cuts.append(len(cand[: braced[0]].rstrip()) - 1)
                return scan
            if depth >= 0:
                continue
            net, line_ev = _rest_of_line(events, ev, le)
            if depth == -1 and net == 1 and complete and gate.scope in ("statement", "block") \
                    and textops.matches(rules.continuation, line) and not cand[ls:pos].strip() \
                    and not _suffix_has_closer(ctx, line):
                # `} else {`, `} catch (e) {`: the line closes the block the cursor is in and opens
                # the next clause of the same statement (as `else:` continues a Python block)
                depth, ev = 0, line_ev
                continue
            if not complete and statement_like and rules.continuation is not None and not cand[ls:pos].strip():
                rest = cand[pos + 1 : le].strip()
                if not rest or _may_become_continuation(rules, rest) or textops.matches(rules.continuation, line):
                    return scan  # `}` may still become `} else {`: not known yet
            scan.cuts += [pos, pos + 1]
            if ctx.open_indent is not None and not statement_like:
                # closes the bracket the suffix leaves open: go on as a statement scope at its line
                statement_like, depth, floor = True, 0, ctx.open_indent
                outer = ctx.enclosing(floor) if floor else None
                single = floor == 0 or (outer is not None and textops.matches(rules.definitions_body, textops.code_of(rules, outer)))
                continue
            if gate.scope == "statement":
                scan.end = before if i and not cand[ls:pos].strip() else pos
                return scan
            if i and not cand[ls:pos].strip() and ctx.next_line is not None and ctx.next_line.lstrip()[:1] == cand[pos]:
                scan.end = before  # the code below already closes the block with this bracket
                return scan
            if not complete:
                return scan
            scan.end = le
            return scan
        if header_only and line.strip() and not any(s < ls < e for s, e in spans):
            full = first if i == 0 else line
            if i and last_header is not None and textops.indent_width(full) == ctx.next_indent and braced is None:
                if not complete:
                    return scan  # is it the code below's first line? not known yet
                head = cand[:last_header].rstrip()
                if head.endswith("{") and full.rstrip() != ctx.next_line and not ctx.overran:
                    # the first lines of that body, then the code below goes on with it (up to
                    # where the candidate repeats that code, or closes the brace)
                    braced = (last_header, header_depth)
                    scan.cuts.append(len(head) - 1)  # the header without its brace, if nothing fits
                else:
                    scan.end = last_header  # this line starts the body that the code below already is
                    if head.endswith("{"):  # the body below may be braceless: the header without its brace too
                        scan.cuts.append(len(head) - 1)
                    return scan
            code = textops.code_of(rules, full.rstrip()).rstrip()
            # at the statement level, but for the bracket that the line ends with (`{` opens it)
            opens = depth == (1 if code.endswith(("{", "(", "[")) else 0) and textops.opens_block(rules, code)
            last_header = le if opens and textops.indent_width(full) < ctx.next_indent else None
            header_depth = depth
        if line.strip() and not any(s < ls < e for s, e in spans):
            joins = textops.matches(rules.joins_next, line)
        seen_code = seen_code or bool(line.strip())
        if gate.scope == "line" and depth > 0 and i + 1 < gate.max_lines and ctx.next_indent <= start_indent:
            # the completion opened a bracket on the line: it goes on to where that closes (not
            # where the code below is indented deeper: that is already what the bracket holds)
            continue
        if gate.scope == "line" or i + 1 >= gate.max_lines:
            if complete:
                scan.end = le
            return scan
    if final:
        scan.end = len(cand)
    return scan


def _suffix_has_closer(ctx: _Context, line: str) -> bool:
    """Does the code below the cursor go on with a line that starts with the same closing
    bracket at the same indentation as `line` (so `} else {` there is the suffix's to write)?"""
    nxt = ctx.next_line
    return (nxt is not None and nxt.lstrip()[:1] == line.lstrip()[:1]
            and textops.indent_width(nxt) == textops.indent_width(line))


def _rest_of_line(events: list[tuple[int, int]], ev: int, line_end: int) -> tuple[int, int]:
    """The net bracket depth change of events[ev:] before `line_end`, and the index after them."""
    net = 0
    while ev < len(events) and events[ev][0] < line_end:
        net += events[ev][1]
        ev += 1
    return net, ev


def _repeats_suffix(ctx: _Context, cand: str, starts: list[int], i: int, final: bool) -> bool | None:
    """Line `i` of the candidate equals the suffix's next line: is it the model repeating the
    suffix (the candidate's next line of code is the suffix's line after it too, or there is
    no such line), or code that only looks the same (it goes on differently)? None: not known
    yet (the next line is still being generated)."""
    if ctx.after_next is None:
        return True
    for j in range(i + 1, len(starts)):
        end = starts[j + 1] - 1 if j + 1 < len(starts) else len(cand)
        line = cand[starts[j] : end]
        if not line.strip():
            continue
        if j + 1 == len(starts) and not final:
            return None
        return line.rstrip() == ctx.after_next
    return True if final else None


@lru_cache(maxsize=None)
def _continuation_words(pattern: str) -> tuple[str, ...]:
    """The words of a continuation regex (`else`, `except`, ...; not escapes such as `\\s`)."""
    return tuple(re.findall(r"(?<![\\\w])[A-Za-z_]\w*", pattern))


def _may_become_continuation(rules: textops.Rules, partial: str) -> bool:
    """Can a still-growing line whose code so far is `partial` turn into a continuation clause?"""
    if rules.continuation is None:
        return False
    word = re.match(r"\w*", partial).group()
    return word == partial and any(w.startswith(word) for w in _continuation_words(rules.continuation.pattern))


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


def _truncate(language: str | None, prefix: str, candidate: str, suffix: str, gate: Gate, overran: bool) -> tuple[str, int | None]:
    """The cut and the errors of the window with it (None: not parsed)."""
    ctx = _Context.build(language, prefix, suffix, gate, overran)
    cand = ctx.normalize(candidate)
    end = loop_end(cand)
    if end is not None:
        cand = cand[:end]
    scan = _scan(ctx, cand, final=True)
    region = cand[: scan.end]
    points = {len(region), *(i for i, c in enumerate(region) if c == "\n"), *(p for p in scan.cuts if p <= len(region))}
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
    ordered = sorted(texts, key=len, reverse=True)
    name = _parser_name(language)
    if name is None:
        chosen = ordered[-1] if ordered and ctx.right else (ordered[0] if ordered else "")
        return _finish(ctx, chosen), None
    # The longest cut that fits with the fewest errors: where the file around the cursor is
    # broken without the completion (a hole, an edit in progress), a shorter cut that repairs
    # it wins over a longer one that does not (e.g. the model's last line is cut off mid-string).
    checker = _ParseCheck.around(name, ctx)
    best, best_errors = "", None
    for t in ordered[:MAX_PARSES]:
        errors = checker.errors(t)
        if errors == 0:
            return _finish(ctx, t), 0
        if errors is not None and (best_errors is None or errors < best_errors):
            best, best_errors = t, errors
    return _finish(ctx, best), best_errors


def _dangling(ctx: _Context, text: str) -> bool:
    """Does `text` end with a header (`if (x)`) whose body would be the code below, which is not
    indented as that body?"""
    cut = text.rfind("\n") + 1
    last = text[cut:]
    if not ctx.rules.dangling_header.search(last):
        return False
    # a line that goes on inside a string or comment is text, not a header
    if ctx.inside is not None and not cut or not textops.ends_outside_tokens(
            text[:cut] if ctx.inside is None else ctx.prefix + text[:cut], ctx.rules):
        return False
    line = last if cut else ctx.left + last
    # the code below is its body when indented deeper by whole indentation steps (not aligned
    # under something on the line above it)
    deeper = ctx.next_indent - textops.indent_width(line)
    style = ctx.style or textops.indent_style(ctx.suffix)
    step = (textops.TAB_SIZE if style[0] else style[1]) if style is not None else 1
    return deeper <= 0 or deeper % step != 0


def _leaves_string_open(ctx: _Context, text: str) -> bool:
    """Does `text` end inside a string that the suffix window does not close?"""
    inside = textops.bracket_state(text, ctx.rules)[1]
    if inside is None or inside.kind != "string":
        return False
    window = ctx.prefix + text + ctx.suffix
    at = len(ctx.prefix) + inside.start
    rule = textops.token_rule_at(window, at, ctx.rules)
    tok = next(textops.lex(window, ctx.rules, at), None)
    if rule is None or tok is None or tok.start != at or not tok.closed:
        return True
    end = rule.end
    # a one-line string broken at the line's end is "closed" there without its delimiter
    return end is not None and not (tok.end - at > len(end) and window[tok.start : tok.end].endswith(end))


def _finish(ctx: _Context, text: str) -> str:
    """The cut as it is inserted. A completion that goes on below a bracket the cursor line
    closes right of the cursor (`{|}`, as editors that close brackets leave it) ends with a line
    break, so that the closer goes on a line of its own at the cursor line's indentation."""
    if text.startswith("\n") and ctx.right.startswith(tuple(textops.CLOSERS)) and ctx.inside is None:
        text += "\n" + textops.leading_ws(ctx.left)
    return text.replace("\n", ctx.eol) if ctx.eol != "\n" else text


@lru_cache(maxsize=None)
def _parser_name(language: str | None) -> str | None:
    spec = spec_for(language) if language else None
    return spec.name if spec is not None and new_parser(spec.name) is not None else None


class _ParseCheck:
    """Does prefix + text + suffix parse with no more errors than prefix + suffix, and with the
    tokens after the cursor unchanged (when prefix + suffix had no errors)? Errors are the tree's
    ERROR/MISSING nodes plus, in indentation-sensitive languages, the indentation violations the
    grammar does not flag (`textops.indentation_violations`: an unexpected indent, a dedent to a
    level never opened, a block opener without a body), also on the suffix's lines, none of
    them on a suffix line that had none. A suffix line inside the brackets open at the cursor has
    none until they are closed: one that it has when they are simply closed is its own, and an
    insertion that closes them is not blamed for it. Nor is an insertion that finishes, on the
    cursor's line, a block header the user started there blamed for the body not written yet
    (the code below not indented deeper). With `open_end` (the suffix window stops inside code
    that goes on) the brackets still open at the window's end are closed on a line after it,
    for the window without the insertion and with it alike. With the cursor inside a comment or
    string, the tokens after the cursor may also be those of the window where just its closing
    delimiter (`closer`) is inserted (a hole that ends the comment: the code below is code again).
    Where the window has errors, an insertion with more error nodes still fits when every one of
    them lies where the window had errors already, none at the insertion or on the line of code
    after it (`_only_old_errors`: tree-sitter merges the errors of the code after an unclosed
    bracket into one node, so closing it shows them one by one)."""

    def __init__(self, language: str, prefix: str, suffix: str, rules: textops.Rules, open_end: bool = False,
                 closer: str = "") -> None:
        self._parser = new_parser(language)
        self._rules = rules
        self._open_end = open_end
        self._prefix_text, self._suffix_text = prefix, suffix
        self._prefix = prefix.encode("utf-8")
        self._suffix = suffix.encode("utf-8")
        tree = self._parser.parse(self._prefix + self._suffix + self._closers(prefix + suffix))
        self._errors = _count_errors(tree.root_node)
        violations = textops.indentation_violations(prefix + suffix, rules)
        self._indent_errors = len(violations)
        # where in the suffix they are: an insertion may not move one to another line there
        suffix_violations = {b - len(prefix) for b in violations if b >= len(prefix)}
        hidden: set[int] = set()  # the suffix's own, hidden by the brackets open at the cursor
        closers = textops.closing_text(prefix, rules) if rules.indent_opener is not None else ""
        if closers:
            closed = textops.indentation_violations(prefix + closers + suffix, rules)
            at = len(prefix) + len(closers)
            hidden = {b - at for b in closed if b >= at} - suffix_violations
            self._indent_errors = max(self._indent_errors, len(closed))
        self._hidden = hidden
        self._own = suffix_violations | hidden  # suffix lines whose violations are not the insertion's
        self._line_start = prefix.rfind("\n") + 1
        # the whole lines before the cursor line are read once (when no string spans the cursor line)
        head = prefix[: self._line_start]
        self._head_state: textops.IndentState | None = None
        self._head_bad = 0
        if rules.indent_opener is not None and textops.ends_outside_tokens(head, rules):
            self._head_state = textops.IndentState()
            self._head_bad = len(textops.indentation_violations(head, rules, self._head_state))
        following = re.search(r"\n[ \t]*\S[^\n]*", suffix)  # the first line of code after the cursor line
        self._suffix_check = following.end() if following else len(suffix)
        # a header the user is writing on the cursor line (code before the cursor, none after it):
        # where the code below would have to be indented as its body
        left = prefix[self._line_start :]
        writing = rules.indent_opener is not None and bool(left.strip()) and not suffix.split("\n", 1)[0].strip()
        self._header_left = left if writing and following else None
        self._body_at = following.start() + 1 if following else -1
        self._leaves = _leaf_types(tree.root_node, len(self._prefix)) if self._errors == 0 else None
        self._error_spans = _error_spans(tree.root_node) if self._errors else []
        # the suffix up to the end of its first line of code: an error there is the insertion's
        line = re.match(r"[ \t]*(?:\r?\n[ \t]*)*\S[^\n]*", suffix)
        self._next_code_end = len(suffix[: line.end()].encode("utf-8")) if line else len(self._suffix)
        # the cursor inside a comment or string that the hole closes (` */`): the code after it
        # is code again, as it is in the window with just that closer
        self._closed_leaves = None
        if self._leaves is not None and closer:
            closed = (prefix + closer).encode("utf-8")
            alt = self._parser.parse(closed + self._suffix + self._closers(prefix + closer + suffix))
            if _count_errors(alt.root_node) == 0:
                self._closed_leaves = _leaf_types(alt.root_node, len(closed))

    @classmethod
    def around(cls, language: str, ctx: _Context) -> "_ParseCheck":
        """The check of the window that `ctx` holds around the cursor."""
        closer = textops.token_closer(ctx.prefix, ctx.inside, ctx.rules) if ctx.inside is not None else ""
        return cls(language, ctx.prefix, ctx.suffix, ctx.rules, ctx.open_end, closer)

    def _closers(self, window: str) -> bytes:
        """Where the window stops inside code that goes on: a line closing the brackets still
        open at its end (the file closes them further down), so that they count as no error."""
        if not self._open_end:
            return b""
        stack, inside = textops.bracket_state(window, self._rules)
        if not stack or inside is not None and inside.kind == "string":
            return b""
        return ("\n" + "".join(textops.MATCHING[c] for c, _ in reversed(stack))).encode("utf-8")

    def _only_old_errors(self, root: tree_sitter.Node, inserted: int) -> bool:
        """Are all the errors of the window with an insertion of `inserted` bytes at the cursor
        where the window without it had errors already, and none at the insertion? Where the
        code after an unclosed bracket has errors of its own (macros tree-sitter cannot read in
        C and C++ headers), the recovery merges them into one ERROR node: the answer that closes
        the bracket has more error nodes than the hole, none of them new."""
        if not self._error_spans:
            return False
        at = len(self._prefix)

        def old(pos: int) -> int:
            return pos if pos <= at else pos - inserted

        own_end = at + inserted + self._next_code_end
        for start, end in _error_spans(root):
            if start <= own_end and end >= at:
                return False  # at the insertion or on the line of code after it: its own
            s, e = old(start), old(end)
            if not any(bs <= s and e <= be for bs, be in self._error_spans):
                return False
        return True

    def fits(self, text: str) -> bool:
        return self.errors(text) is not None

    def errors(self, text: str) -> int | None:
        """None if `text` does not fit, else the errors of the window with it (at most those
        without it)."""
        violations = 0
        if self._rules.indent_opener is not None:
            # none on the cursor line, the inserted lines and the first line of code after them;
            # elsewhere (the window's far ends) not more than without the insertion
            if self._head_state is not None:
                tail = self._prefix_text[self._line_start :] + text + self._suffix_text
                bad = textops.indentation_violations(tail, self._rules, self._head_state.copy())
                start, head_bad = 0, self._head_bad
            else:
                bad = textops.indentation_violations(self._prefix_text + text + self._suffix_text, self._rules)
                start, head_bad = self._line_start, 0
            suffix_at = start + len(self._prefix_text) - self._line_start + len(text)
            end = suffix_at + self._suffix_check
            if self._header_left is not None and "\n" not in text:  # line ends are "\n" here
                line = textops.code_of(self._rules, self._header_left + text).rstrip()
                if line and self._rules.block_opener.search(line):  # a header by its keyword
                    bad = [b for b in bad if b - suffix_at != self._body_at]  # its body comes next
            if head_bad + len(bad) > self._indent_errors:
                return None
            if any(start <= b < end and not (b >= suffix_at and b - suffix_at in self._hidden) for b in bad):
                return None
            if any(b >= end and b - suffix_at not in self._own for b in bad):
                return None  # it mends one line of the suffix and breaks another
            violations = head_bad + len(bad)
        middle = text.encode("utf-8")
        tree = self._parser.parse(self._prefix + middle + self._suffix + self._closers(self._prefix_text + text + self._suffix_text))
        errors = _count_errors(tree.root_node)
        if errors > self._errors:
            if not self._only_old_errors(tree.root_node, len(middle)):
                return None
            errors = self._errors  # more error nodes, but all where the window had errors already
        if self._leaves is not None:
            if _leaf_types(tree.root_node, len(self._prefix) + len(middle)) not in (self._leaves, self._closed_leaves):
                return None
        return errors + violations


def _error_spans(node: tree_sitter.Node) -> list[tuple[int, int]]:
    """Byte spans of the outermost ERROR nodes and of the MISSING ones (empty) under `node`."""
    if not node.has_error:
        return []
    if node.is_error or node.is_missing:
        return [(node.start_byte, node.end_byte)]
    return [span for child in node.children for span in _error_spans(child)]


def _count_errors(node: tree_sitter.Node) -> int:
    if not node.has_error:
        return 0
    n = 1 if node.is_error or node.is_missing else 0
    for child in node.children:
        n += _count_errors(child)
    return n


def _leaf_types(root: tree_sitter.Node, start: int) -> list[str]:
    """Types of the first STRUCTURE_LEAVES tokens that start at or after byte `start` (every
    kind of identifier as "identifier")."""
    out: list[str] = []
    cursor = root.walk()
    while len(out) < STRUCTURE_LEAVES:
        node = cursor.node
        if node.end_byte <= start and node.end_byte > node.start_byte or node.end_byte < start:
            pass  # entirely before the cursor
        elif cursor.goto_first_child():
            continue
        elif node.start_byte >= start and not node.is_missing:
            # a name's kind may follow from what precedes it (C's `a b(c);` declares, `a(c);`
            # calls): names are one kind here
            out.append("identifier" if node.type.endswith("identifier") else node.type)
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out
    return out


class StopChecker:
    """Tells the generation loop when the cut point is certain, so decoding can stop early.

    feed() gets the whole output so far after each token and is cheap (a regex lex and a walk
    over its lines; no parsing). It never stops earlier than `truncate` would cut (with
    `overran`: than the one statement `truncate(..., overran=True)` tries first)."""

    def __init__(self, language: str | None, prefix: str, suffix: str, gate: Gate, overran: bool = False) -> None:
        self._ctx = _Context.build(language, prefix, suffix, gate, overran)
        self._complete = gate.complete
        self._lines = 0

    def feed(self, text_so_far: str) -> bool:
        if not self._complete:
            return True
        cand = self._ctx.normalize(text_so_far)
        lines = cand.count("\n")
        if lines > self._lines:  # a line was completed: is the model repeating itself?
            self._lines = lines
            if loop_end(cand) is not None:
                return True
        return _scan(self._ctx, cand, final=False).end is not None
