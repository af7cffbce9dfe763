"""What truncation knows about the document around the cursor, read once from the text.

Owns `Surroundings`: the windows of the prefix and suffix that truncation parses (the prefix
from the closest column-0 line, else the least indented line, at most PREFIX_WINDOW_LINES back;
the suffix up to the next definition, at most SUFFIX_WINDOW_LINES: `windows`), the cursor
line's two sides, the lines of code below, the header whose block is the scope, the indentation
the code below goes on at, the document's indentation style and line ends.
Must not look at the model's output, cut it, or parse (`scan`, `parsecheck`, `truncation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from lsp_server.syntax.gating import Gate
from lsp_server.syntax.lexer import CLOSERS, Token, bracket_state, closes_open_bracket, code_of
from lsp_server.syntax.lines import indent_style, indent_width, previous_nonblank_line, start_of_line
from lsp_server.syntax.rules import Rules, opens_block, rules_for
from lsp_server.syntax.windows import suffix_parse_window, window_end, window_start

PREFIX_WINDOW_LINES = 200
SUFFIX_WINDOW_LINES = 40


@dataclass
class Surroundings:
    """What truncation needs to know about the document around the cursor."""

    rules: Rules
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
    def build(cls, language: str | None, prefix: str, suffix: str, gate: Gate, overran: bool = False) -> Surroundings:
        rules = rules_for(language)
        pw = prefix[window_start(prefix, len(prefix), PREFIX_WINDOW_LINES) :]
        eol = "\r\n" if "\r\n" in pw or "\r\n" in suffix[:2000] else "\n"
        pw = pw.replace("\r\n", "\n")
        sn = suffix.replace("\r\n", "\n")
        sw, open_end = suffix_parse_window(sn, rules, SUFFIX_WINDOW_LINES)
        cursor_line = start_of_line(pw)
        left = pw[cursor_line:]
        # the lines after the cursor's, also past the window (the next definition starts it)
        first, _, rest = sn[: window_end(sn, SUFFIX_WINDOW_LINES)].partition("\n")
        following = (ln.rstrip() for ln in rest.split("\n") if ln.strip())
        next_line, after_next = next(following, None), next(following, None)
        header = _header(rules, pw, cursor_line) if gate.scope == "block" else None
        style = indent_style(pw[-8000:]) or ((True, 4) if rules.indent_tabs else None)
        open_indent = _open_indent(rules, pw, sw) if gate.scope == "expression" and not left.strip() else None
        next_indent = indent_width(next_line) if next_line is not None and next_line.lstrip()[0] not in CLOSERS else 0
        return cls(rules, gate, eol, pw, sw, left, first.strip(), next_line, after_next, header, next_indent, open_indent, style,
                   open_end, overran)

    @cached_property
    def inside(self) -> Token | None:
        """The comment or string the prefix window ends inside (the cursor is in it), if any."""
        return bracket_state(self.prefix, self.rules)[1]

    def enclosing(self, indent: int) -> str | None:
        """The closest line of the prefix before the cursor line indented less than `indent`."""
        end = len(self.prefix) - len(self.left) - 1
        while end > 0:
            start = start_of_line(self.prefix, end)
            line = self.prefix[start:end]
            if line.strip() and code_of(self.rules, line).strip() and indent_width(line) < indent:
                return line
            end = start - 1
        return None


def _header(rules: Rules, prefix: str, cursor_line: int) -> str | None:
    """Block scope: the line that opens the block, the cursor line or the non-blank line above."""
    left = prefix[cursor_line:]
    if left.strip():
        return left
    prev = previous_nonblank_line(prefix, cursor_line)
    return prev if prev is not None and opens_block(rules, code_of(rules, prev)) else None


def _open_indent(rules: Rules, prefix: str, suffix: str) -> int | None:
    """Expression scope on an empty line: the indentation of the line holding the one bracket open
    at the cursor, when the suffix does not close it."""
    stack, _ = bracket_state(prefix, rules)
    if len(stack) == 1 and not closes_open_bracket(suffix, rules):
        return indent_width(prefix[start_of_line(prefix, stack[0][1]) :])
    return None
