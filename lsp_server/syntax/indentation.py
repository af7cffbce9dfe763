"""Indentation that the grammar does not check, in indentation-sensitive languages (Python).

Owns `indentation_violations` (the lines of a text that break the indentation rules:
an unexpected indent, a dedent to a level never opened, a block opener without a body) and
`IndentCheck` (does an insertion at the cursor add any to a window of a file). Languages
without `indent_opener` in their rules have none.
Must not run tree-sitter (the parse check, `parsecheck`, adds the tree's errors), decide where
a completion ends, or know about LSP positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lsp_server.syntax.lexer import CLOSERS, OPENERS, closing_text, code_of, ends_outside_tokens, lex
from lsp_server.syntax.lines import indent_width, start_of_line
from lsp_server.syntax.rules import Rules


@dataclass
class IndentState:
    """Where `indentation_violations` is after some whole lines (to go on from there)."""

    stack: list[int] = field(default_factory=list)  # the open indentation levels
    depth: int = 0  # brackets open
    continued: bool = False  # the last line ends with a backslash
    opens: bool = False  # the last logical line opens a block

    def copy(self) -> IndentState:
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


class IndentCheck:
    """Does an insertion at the cursor, between `prefix` and `suffix` (a window of a file in an
    indentation-sensitive language, "\\n" line ends), keep its indentation as good as it was?

    `violations(text)` is None when the window with `text` inserted breaks one of these rules,
    else the number of violations in it:
    - none on the cursor line, the inserted lines and the first line of code after them;
    - elsewhere (the window's far ends) not more than without the insertion, and none on a
      suffix line that had none (an insertion that mends one line of the suffix and breaks
      another does not fit);
    - a suffix line inside the brackets open at the cursor has none until they are closed: one
      that it has when they are simply closed is its own (`_hidden`), and an insertion that
      closes them is not blamed for it;
    - an insertion that finishes, on the cursor's line, a block header the user started there
      is not blamed for the body not written yet (the code below not indented deeper)."""

    def __init__(self, prefix: str, suffix: str, rules: Rules) -> None:
        self._rules = rules
        self._prefix, self._suffix = prefix, suffix
        violations = indentation_violations(prefix + suffix, rules)
        self._errors = len(violations)
        # where in the suffix they are: an insertion may not move one to another line there
        suffix_violations = {b - len(prefix) for b in violations if b >= len(prefix)}
        hidden: set[int] = set()  # the suffix's own, hidden by the brackets open at the cursor
        closers = closing_text(prefix, rules)
        if closers:
            closed = indentation_violations(prefix + closers + suffix, rules)
            at = len(prefix) + len(closers)
            hidden = {b - at for b in closed if b >= at} - suffix_violations
            self._errors = max(self._errors, len(closed))
        self._hidden = hidden
        self._own = suffix_violations | hidden  # suffix lines whose violations are not the insertion's
        self._line_start = start_of_line(prefix)
        # the whole lines before the cursor line are read once (when no string spans the cursor line)
        head = prefix[: self._line_start]
        self._head_state: IndentState | None = None
        self._head_bad = 0
        if ends_outside_tokens(head, rules):
            self._head_state = IndentState()
            self._head_bad = len(indentation_violations(head, rules, self._head_state))
        following = re.search(r"\n[ \t]*\S[^\n]*", suffix)  # the first line of code after the cursor line
        self._suffix_check = following.end() if following else len(suffix)
        # a header the user is writing on the cursor line (code before the cursor, none after it):
        # where the code below would have to be indented as its body
        left = prefix[self._line_start :]
        writing = bool(left.strip()) and not suffix.split("\n", 1)[0].strip()
        self._header_left = left if writing and following else None
        self._body_at = following.start() + 1 if following else -1

    def violations(self, text: str) -> int | None:
        """None if the window with `text` inserted breaks the rules, else its violations."""
        bad, start, head_bad = self._violations(text)
        suffix_at = start + len(self._prefix) - self._line_start + len(text)
        end = suffix_at + self._suffix_check
        if self._finishes_header(text):
            bad = [b for b in bad if b - suffix_at != self._body_at]  # its body comes next
        if head_bad + len(bad) > self._errors:
            return None
        if any(start <= b < end and not (b >= suffix_at and b - suffix_at in self._hidden) for b in bad):
            return None
        if any(b >= end and b - suffix_at not in self._own for b in bad):
            return None  # it mends one line of the suffix and breaks another
        return head_bad + len(bad)

    def _violations(self, text: str) -> tuple[list[int], int, int]:
        """The violations of the window with `text` from the cursor line on (offsets from where
        the text read starts), where that text starts in the window, and those before it."""
        if self._head_state is not None:
            tail = self._prefix[self._line_start :] + text + self._suffix
            return indentation_violations(tail, self._rules, self._head_state.copy()), 0, self._head_bad
        return indentation_violations(self._prefix + text + self._suffix, self._rules), self._line_start, 0

    def _finishes_header(self, text: str) -> bool:
        """Does `text` finish, on the cursor's line, a block header (by its keyword) that the
        user is writing there?"""
        if self._header_left is None or "\n" in text:  # line ends are "\n" here
            return False
        line = code_of(self._rules, self._header_left + text).rstrip()
        return bool(line) and bool(self._rules.block_opener.search(line))
