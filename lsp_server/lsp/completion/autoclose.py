"""What the user typed at a suggestion's cursor, in an editor that closes brackets and quotes itself.

VS Code (by default), and Neovim, Helix or Emacs with an autopairs setting, insert the closing
`)`, `]`, `}` or quote together with the opening one and leave the cursor between them: typing
`(` after `foo` gives `foo(|)`, and Enter between the two then gives `foo(\n    |\n)`. The text
inserted at a suggestion's cursor is then not a prefix of the suggestion (`()` against `(a, b)`),
though the user typed exactly what it proposed. These pure functions split such an insertion into
what was typed before the cursor and the closers (with the line breaks around them) the editor
put after it, and give what is left of the suggestion there (`a, b`), so that a recent suggestion
or a followed model job serves the next request instead of a new model call.
"""

from __future__ import annotations

CLOSER_OF = {"(": ")", "[": "]", "{": "}", '"': '"', "'": "'", "`": "`"}  # opener -> the closer it needs
QUOTES = "\"'`"
CLOSING = frozenset(CLOSER_OF.values())
MAX_CLOSERS = 64  # characters after the cursor looked at as an editor's closers (and their line breaks)
WHITESPACE = " \t\r\n"


class _Open:
    """The brackets and quotes open after the characters fed so far (a quote holds no brackets;
    inside one, a backslash escapes the next character)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self._escaped = False

    def feed(self, text: str) -> None:
        for ch in text:
            top = self.stack[-1] if self.stack else None
            if top is not None and top in QUOTES:
                if self._escaped:
                    self._escaped = False
                elif ch == "\\":
                    self._escaped = True
                elif ch == top:
                    self.stack.pop()
                continue
            if ch in CLOSER_OF and ch not in CLOSING or ch in QUOTES:
                self.stack.append(ch)
            elif ch in CLOSING and top is not None and CLOSER_OF[top] == ch:
                self.stack.pop()  # a closer of something opened before the text is no opener

    def closers(self) -> str:
        """The text that closes them, innermost first."""
        return "".join(CLOSER_OF[c] for c in reversed(self.stack))


def open_closers(text: str) -> str:
    """The closers of the brackets and quotes that `text` leaves open, innermost first."""
    state = _Open()
    state.feed(text)
    return state.closers()


def _bare(text: str) -> str:
    return "".join(text.split())


def typed_part(inserted: str) -> str:
    """The shortest start of `inserted` whose open brackets and quotes the rest closes exactly
    (line breaks and indentation aside): what the user may have typed before the cursor, the
    editor having added the rest after it (`()` -> `(`, `("")` -> `("`, `(a)` -> `(a`,
    `(\n    \n)` -> `(`, `ab` -> `ab`). Lenient where it cannot be told apart from typing both
    (`()` typed by hand): the caller's next request has the cursor."""
    run = len(inserted) - len(inserted.rstrip("".join(CLOSING) + WHITESPACE))  # could be closers
    start = len(inserted) - min(run, MAX_CLOSERS)
    state = _Open()
    state.feed(inserted[:start])
    for k in range(start, len(inserted)):
        tail = inserted[k:]
        want = _bare(tail)
        if want and tail[-1] in CLOSING and state.closers().startswith(want) or not want and _line_break_after(inserted[:k], tail):
            return inserted[:k]
        state.feed(inserted[k])
    return inserted


def _line_break_after(typed: str, after: str) -> bool:
    """`after` (blank) is the line break an editor's Enter puts after the cursor between brackets
    that were there before (`{|}` + Enter: `{\n    |\n}`): `typed` begins with that Enter."""
    return after.startswith(("\n", "\r\n")) and typed.startswith(("\n", "\r\n"))


def rest_of(suggestion: str, typed: str, closers: str = "") -> str | None:
    """What is left to suggest of `suggestion` (made for a cursor) after the user typed `typed`
    there and the editor holds `closers` right after the cursor: the rest of it, or with closers,
    the rest up to where it closes what they close. None when the typing left the suggestion or
    nothing is left of it. Closers on a line of their own (`\n)`: Enter between the brackets)
    match the suggestion's closers wherever its line breaks put them; a line break alone (Enter
    between brackets that were there before the suggestion) stands for its own last one."""
    if not suggestion.startswith(typed):
        return None
    rest = suggestion[len(typed):]
    if not closers:
        return rest or None
    want = _bare(closers)
    if not want and _line_break_after(typed, closers):
        return rest.rstrip(WHITESPACE) or None  # the suggestion's own last line break is there
    state = _Open()
    state.feed(typed)
    if not want or not state.closers().startswith(want):
        return None  # they close nothing the typing opened
    depth = len(state.stack)
    for i, ch in enumerate(rest):
        # back at the typing's own brackets, with nothing the suggestion opened still open
        if i and len(state.stack) == depth and rest.startswith(want, i):
            head = rest[:i].rstrip(WHITESPACE) if closers[0] in WHITESPACE else rest[:i]
            return head or None
        state.feed(ch)
        if len(state.stack) < depth:
            return None  # it closed them elsewhere
    return None
