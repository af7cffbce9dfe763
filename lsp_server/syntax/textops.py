"""Pure text helpers shared by completion gating and truncation.

Owns: the per-language rules in `queries/rules.toml` (loaded once), line and indentation maths,
and a small regex lexer that finds brackets outside comments and strings, for when there is no
tree (unknown language, the model's partial output while it streams).
Must not run tree-sitter, know about LSP positions, or call the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

from lsp_server.data import load_toml, package_file
from lsp_server.syntax.languages import spec_for

RULES_FILE = package_file("syntax", "queries", "rules.toml")

OPENERS = "([{"
CLOSERS = ")]}"
PAIRS = {")": "(", "]": "[", "}": "{"}
MATCHING = {"(": ")", "[": "]", "{": "}"}
TAB_SIZE = 8  # Python's rule for comparing indentation that mixes tabs and spaces


@dataclass(frozen=True)
class TokenRule:
    kind: str  # "comment" or "string"
    end: str | None  # literal closing delimiter; None: the start regex matches the whole token
    multiline: bool
    end_re: re.Pattern[str] | None


@dataclass(frozen=True)
class Rules:
    name: str
    comment_nodes: frozenset[str]
    string_nodes: frozenset[str]
    code_in_string_nodes: frozenset[str]
    block_opener: re.Pattern[str]
    indent_blocks: bool
    indent_tabs: bool
    tokens: tuple[TokenRule, ...]
    lexer: re.Pattern[str]  # token starts as groups t0, t1, ..., then "open" and "close"
    continuation: re.Pattern[str] | None = None  # `else:`, `except`: continues the statement above
    definition: re.Pattern[str] | None = None  # a header whose block scope is its body only
    definitions_body: re.Pattern[str] | None = None  # a header whose body holds definitions (class)
    joins_next: re.Pattern[str] | None = None  # a line that belongs to the next one (decorator)
    indent_opener: re.Pattern[str] | None = None  # indentation-sensitive: a logical line opening a block
    block_exit: re.Pattern[str] | None = None  # indentation-sensitive: a statement that leaves its block
    dangling_header: re.Pattern[str] | None = None  # a header whose body is the next statement (`if (x)`)
    inner_column0: re.Pattern[str] | None = None  # a column-0 line that may stand inside a body (`#endif`)


@dataclass(frozen=True)
class Token:
    kind: str  # "open", "close", "comment", "string"
    start: int
    end: int
    closed: bool = True  # comment/string: terminated before the end of the text


@lru_cache(maxsize=1)
def _data() -> dict:
    return load_toml(RULES_FILE)


def _compile(name: str, table: dict) -> Rules:
    tokens: list[TokenRule] = []
    parts: list[str] = []
    for i, tok in enumerate(table["tokens"]):
        end = tok.get("end")
        multiline = bool(tok.get("multiline", False))
        end_re = None
        if end is not None:
            body = r"(?:\\[\s\S]|[^\\])*?" if multiline else r"(?:\\.|[^\\\n])*?"
            end_re = re.compile(body + re.escape(end))
        parts.append(f"(?P<t{i}>{tok.get('regex') or tok['start']})")
        tokens.append(TokenRule(tok["kind"], end, multiline, end_re))
    parts += [r"(?P<open>[(\[{])", r"(?P<close>[)\]}])"]
    return Rules(
        name=name,
        comment_nodes=frozenset(table["comment_nodes"]),
        string_nodes=frozenset(table["string_nodes"]),
        code_in_string_nodes=frozenset(table["code_in_string_nodes"]),
        block_opener=re.compile(table["block_opener"]),
        indent_blocks=bool(table["indent_blocks"]),
        indent_tabs=bool(table.get("indent_tabs", False)),
        tokens=tuple(tokens),
        lexer=re.compile("|".join(parts)),
        **{key: re.compile(table[key]) if table.get(key) else None for key in _OPTIONAL},
    )


# optional regexes; a language table without one takes the generic table's (indent_opener, block_exit: none)
_OPTIONAL = ("continuation", "definition", "definitions_body", "joins_next", "indent_opener", "block_exit", "dangling_header",
             "inner_column0")


@lru_cache(maxsize=None)
def rules_for(language: str | None) -> Rules:
    """The rules of a language (canonical name or LSP languageId); "generic" when unknown."""
    data = _data()
    spec = spec_for(language) if language else None
    name = spec.name if spec is not None and spec.name in data else "generic"
    table = data[name]
    while "inherit" in table:
        table = {**data[table["inherit"]], **{k: v for k, v in table.items() if k != "inherit"}}
    table = {**{k: data["generic"].get(k) for k in _OPTIONAL if k != "indent_opener"}, **table}
    return _compile(name, table)


# -- lexing -----------------------------------------------------------------------------------


def lex(text: str, rules: Rules, pos: int = 0) -> Iterator[Token]:
    """Brackets, comments and strings of `text` from `pos`, in order. Other code is skipped."""
    search = rules.lexer.search
    n = len(text)
    while True:
        m = search(text, pos)
        if m is None:
            return
        kind = m.lastgroup
        if kind == "open" or kind == "close":
            yield Token(kind, m.start(), m.end())
            pos = m.end()
            continue
        rule = rules.tokens[int(kind[1:])]
        if rule.end_re is None:
            end = m.end()
            # a line comment that runs to the end of the text is still open
            closed = not (rule.kind == "comment" and end == n)
        else:
            mm = rule.end_re.match(text, m.end())
            if mm is not None:
                end, closed = mm.end(), True
            elif rule.multiline:
                end, closed = n, False
            else:
                nl = text.find("\n", m.end())
                end, closed = (n, False) if nl < 0 else (nl, True)  # broken at the newline
        yield Token(rule.kind, m.start(), end, closed)
        if end <= m.start():  # pragma: no cover - empty token regex
            end = m.start() + 1
        pos = end


def bracket_state(text: str, rules: Rules, pos: int = 0) -> tuple[list[tuple[str, int]], Token | None]:
    """The brackets still open at the end of `text` (char, offset), and the comment or string
    the end of `text` is inside (or None). Closers without an opener are ignored."""
    stack: list[tuple[str, int]] = []
    last: Token | None = None
    for tok in lex(text, rules, pos):
        last = tok
        if tok.kind == "open":
            stack.append((text[tok.start], tok.start))
        elif tok.kind == "close":
            want = PAIRS[text[tok.start]]
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == want:
                    del stack[i:]
                    break
    inside = last if last is not None and not last.closed and last.end == len(text) else None
    return stack, inside


def token_rule_at(text: str, pos: int, rules: Rules) -> TokenRule | None:
    """The rule of the comment or string token that starts at `pos` of `text` (None: none)."""
    m = rules.lexer.match(text, pos)
    return rules.tokens[int(m.lastgroup[1:])] if m is not None and m.lastgroup and m.lastgroup[0] == "t" else None


def closing_text(text: str, rules: Rules) -> str:
    """The shortest text that closes the string and the brackets open at the end of `text`
    ("" at the end of a comment, whose end is the line's)."""
    stack, inside = bracket_state(text, rules)
    head = ""
    if inside is not None:
        head = token_closer(text, inside, rules) if inside.kind == "string" else ""
        if not head:
            return ""
    return head + "".join(MATCHING[c] for c, _ in reversed(stack))


def token_closer(text: str, inside: Token, rules: Rules) -> str:
    """The delimiter that ends the comment or string `inside` (open at the end of `text`); ""
    where none is written (a line comment ends with its line)."""
    rule = token_rule_at(text, inside.start, rules)
    return rule.end if rule is not None and rule.end else ""


# -- lines and indentation ---------------------------------------------------------------------


def eol_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_width(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width = (width // TAB_SIZE + 1) * TAB_SIZE
        else:
            break
    return width


def line_bounds(text: str, offset: int) -> tuple[int, int]:
    """Start and end (before the newline and any \\r) of the line holding `offset`."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    if end < 0:
        end = len(text)
    if end > start and text[end - 1] == "\r":
        end -= 1
    return start, max(end, offset)


def previous_nonblank_line(text: str, line_start: int, max_lines: int = 50) -> str | None:
    """The closest non-blank line before the line starting at `line_start` (without eol)."""
    end = line_start - 1
    for _ in range(max_lines):
        if end < 0:
            return None
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].rstrip("\r")
        if line.strip():
            return line
        end = start - 1
    return None


def window_start(text: str, offset: int, max_lines: int = 200) -> int:
    """Where to start reading `text` to understand `offset`: the closest line before the cursor
    line that starts at column 0 with code, at most `max_lines` lines back; failing that, the
    closest of the least indented lines there (e.g. the header of the enclosing method)."""
    end = text.rfind("\n", 0, offset)
    best, best_indent = end + 1, None
    for _ in range(max_lines):
        if end < 0:
            return 0
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        ch = line[:1]
        if ch and not ch.isspace() and ch not in CLOSERS:
            return start
        if line.strip() and line.lstrip()[0] not in CLOSERS:
            indent = indent_width(line)
            if best_indent is None or indent < best_indent:
                best, best_indent = start, indent
        end = start - 1
    return best


def window_end(text: str, max_lines: int = 80) -> int:
    """How much of a suffix to read: through the first line (after the first) that starts at
    column 0 with code, at most `max_lines` lines."""
    pos = text.find("\n")
    if pos < 0:
        return len(text)
    for _ in range(max_lines):
        nxt = text.find("\n", pos + 1)
        line_end = len(text) if nxt < 0 else nxt
        ch = text[pos + 1 : pos + 2]
        if nxt < 0 or (ch and not ch.isspace() and ch not in CLOSERS):
            return line_end
        pos = nxt
    return pos


def suffix_window(suffix: str, rules: Rules, max_lines: int = 40) -> tuple[str, bool]:
    """The part of `suffix` to parse after the prefix's window (see `window_start`), so that the
    window ends on whole definitions where the file allows: whole lines, up to (not through)
    the first line after the cursor's that starts at column 0 with code (the next definition;
    a line that `inner_column0` says may stand there inside a body, such as C's `#endif`, does
    not end it). At most `max_lines` lines: then cut back, within the second half, to the last
    line of code at the shallowest bracket depth that is no decorator (the end of a block rather
    than the middle of a statement), and say so (True: the code goes on after the window, which
    may leave brackets open that the file closes further down)."""
    first_end = suffix.find("\n")
    if first_end < 0:
        return suffix, False
    limit = first_end
    for _ in range(max_lines + 1):  # lex only what the window can hold
        nxt = suffix.find("\n", limit + 1)
        limit = len(suffix) if nxt < 0 else nxt
    tokens = [t for t in lex(suffix[:limit], rules) if t.kind in ("open", "close")]
    ti = depth = 0
    pos = first_end
    best_end, best_depth = None, 0
    for i in range(max_lines):
        if pos >= len(suffix):
            return suffix, False
        nxt = suffix.find("\n", pos + 1)
        line_end = len(suffix) if nxt < 0 else nxt
        line = suffix[pos + 1 : line_end]
        ch = line[:1]
        if ch and not ch.isspace() and ch not in CLOSERS and code_of(rules, line).strip() \
                and not matches(rules.inner_column0, line):
            return suffix[:pos], False  # the next definition
        while ti < len(tokens) and tokens[ti].start < line_end:
            depth += 1 if tokens[ti].kind == "open" else -1
            ti += 1
        pos = line_end
        # a line of code that does not belong to the next one (not a decorator or annotation)
        if i >= max_lines // 2 and (best_end is None or depth <= best_depth) and code_of(rules, line).strip() \
                and not matches(rules.joins_next, line):
            best_end, best_depth = line_end, depth
    if pos >= len(suffix):
        return suffix, False
    return suffix[: best_end if best_end is not None else pos], True


def closes_open_bracket(text: str, rules: Rules) -> bool:
    """Does `text` (the code after the cursor) close a bracket that was open before it?"""
    depth = 0
    for tok in lex(text, rules):
        if tok.kind == "open":
            depth += 1
        elif tok.kind == "close":
            depth -= 1
            if depth < 0:
                return True
    return False


def opens_block(rules: Rules, code: str) -> bool:
    """Does a line whose code (comments excluded) is `code` open a block at its end?"""
    return bool(rules.block_opener.search(code.rstrip()))


def matches(pattern: re.Pattern[str] | None, line: str) -> bool:
    return pattern is not None and pattern.search(line) is not None


def code_of(rules: Rules, line: str) -> str:
    """A line without its trailing comment."""
    for tok in lex(line, rules):
        if tok.kind == "comment":
            return line[: tok.start]
    return line


def reindent(lines: list[str], use_tabs: bool, unit: int) -> list[str]:
    """Leading indentation of `lines` in the document's style: tabs, or `unit` spaces."""
    out = []
    for line in lines:
        ws = leading_ws(line)
        if not ws:
            out.append(line)
            continue
        if use_tabs and " " in ws:
            width = len(ws.replace("\t", " " * unit))
            ws = "\t" * (width // unit) + " " * (width % unit)
        elif not use_tabs and "\t" in ws:
            ws = ws.replace("\t", " " * unit)
        out.append(ws + line[len(leading_ws(line)):])
    return out


def indent_style(text: str, max_lines: int = 200) -> tuple[bool, int] | None:
    """(uses tabs, indentation unit in spaces) of a document, from its indented lines;
    None when no line is indented."""
    tabs = spaces = 0
    unit = 0
    for line in text.splitlines()[:max_lines]:
        ws = leading_ws(line)
        if not ws or not line.strip():
            continue
        if ws[0] == "\t":
            tabs += 1
        else:
            spaces += 1
            if "\t" not in ws:
                unit = len(ws) if unit == 0 else _gcd(unit, len(ws))
    if not tabs and not spaces:
        return None
    return tabs > spaces, unit if unit >= 2 else 4


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


# -- indentation (indentation-sensitive languages) ----------------------------------------------


@dataclass
class IndentState:
    """Where `indentation_violations` is after some whole lines (to go on from there)."""

    stack: list[int] = field(default_factory=list)  # the open indentation levels
    depth: int = 0  # brackets open
    continued: bool = False  # the last line ends with a backslash
    opens: bool = False  # the last logical line opens a block

    def copy(self) -> "IndentState":
        return IndentState(list(self.stack), self.depth, self.continued, self.opens)


def indentation_violations(text: str, rules: Rules, state: IndentState | None = None) -> list[int]:
    """The start offsets of the logical lines of `text` that break the indentation rules a
    grammar may not flag (tree-sitter python accepts all of these): a line indented deeper than
    the previous logical line although that line opens no block; a dedent to a level that is not
    open; a line that opens a block followed by a line that is not deeper. [] for languages
    without `indent_opener`. Strings and comments are blanked out first; lines inside brackets,
    strings or after a backslash continue the logical line. A dedent below the first line's
    level starts a new base level (the text is a window of a larger file). `state`: go on from
    it (text then starts a line and is read as if it followed the lines `state` came from); it is
    updated in place."""
    opener = rules.indent_opener
    if opener is None:
        return []
    chars = list(text)
    for tok in lex(text, rules):
        if tok.kind == "string":
            chars[tok.start : tok.end] = "S" * (tok.end - tok.start)  # joins the lines it spans
        elif tok.kind == "comment":
            chars[tok.start : tok.end] = [" " if c != "\n" else c for c in text[tok.start : tok.end]]
    masked = "".join(chars)
    st = state if state is not None else IndentState()
    stack = st.stack
    bad: list[int] = []
    pos = 0
    for line in masked.split("\n"):
        start, pos = pos, pos + len(line) + 1
        code = line.rstrip()
        if not code:
            continue
        if st.depth == 0 and not st.continued:
            indent = indent_width(line)
            if not stack or indent < stack[0]:
                stack[:] = [indent]
            elif indent > stack[-1]:
                if not st.opens:
                    bad.append(start)
                stack.append(indent)
            else:
                if st.opens:
                    bad.append(start)
                while stack[-1] > indent:
                    stack.pop()
                if stack[-1] != indent:
                    bad.append(start)
                    stack.append(indent)
        for ch in code:
            if ch in OPENERS:
                st.depth += 1
            elif ch in CLOSERS and st.depth:
                st.depth -= 1
        st.continued = code.endswith("\\")
        if st.depth == 0 and not st.continued:
            st.opens = opener.search(code) is not None
    return bad


def ends_outside_tokens(text: str, rules: Rules) -> bool:
    """Is the end of `text` outside any comment or string (so that the text after it lexes the
    same on its own)?"""
    last = None
    for last in lex(text, rules):
        pass
    return last is None or last.kind in ("open", "close") or (last.closed and last.end < len(text))
