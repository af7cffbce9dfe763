"""A small regex lexer: the brackets of a text outside its comments and strings.

Owns `lex` (brackets, comments and strings in order, from the token regexes of
`rules.Rules`) and what follows from it: the brackets still open and the comment or string a
text ends inside (`bracket_state`), the text that closes them (`closing_text`, `token_closer`),
a line without its trailing comment (`code_of`). It is for when there is no tree: an unknown
language, the model's partial output while it streams, a window of a file.
Must not run tree-sitter, know about lines and indentation beyond `code_of`, or know about
LSP positions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lsp_server.syntax.rules import Rules, TokenRule

OPENERS = "([{"
CLOSERS = ")]}"
OPENER_OF = {")": "(", "]": "[", "}": "{"}  # closer -> the opener it closes
CLOSER_OF = {"(": ")", "[": "]", "{": "}"}  # opener -> the closer that closes it


@dataclass(frozen=True)
class Token:
    kind: str  # "open", "close", "comment", "string"
    start: int
    end: int
    closed: bool = True  # comment/string: terminated before the end of the text


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
            want = OPENER_OF[text[tok.start]]
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
    return head + "".join(CLOSER_OF[c] for c, _ in reversed(stack))


def token_closer(text: str, inside: Token, rules: Rules) -> str:
    """The delimiter that ends the comment or string `inside` (open at the end of `text`); ""
    where none is written (a line comment ends with its line)."""
    rule = token_rule_at(text, inside.start, rules)
    return rule.end if rule is not None and rule.end else ""


def ends_outside_tokens(text: str, rules: Rules) -> bool:
    """Is the end of `text` outside any comment or string (so that the text after it lexes the
    same on its own)?"""
    last = None
    for last in lex(text, rules):
        pass
    return last is None or last.kind in ("open", "close") or (last.closed and last.end < len(text))


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


def code_of(rules: Rules, line: str) -> str:
    """A line without its trailing comment."""
    for tok in lex(line, rules):
        if tok.kind == "comment":
            return line[: tok.start]
    return line
