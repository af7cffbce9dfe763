"""The regex lexer: brackets outside comments and strings (`lexer`)."""

from __future__ import annotations

import pytest

from lsp_server.syntax.lexer import closing_text
from lsp_server.syntax.rules import rules_for


@pytest.mark.parametrize(
    "language, text, closers",
    [
        ("python", "ok()", ""),
        ("python", "f(a, [1, {2: (3", ")}])"),
        ("python", 'raise ValueError("bad width %r (', '")'),  # the "(" in the string is text
        ("python", "s = '''abc(", "'''"),
        ("python", "x = f(1)  # (", ""),  # a comment ends at the line's end
        ("c", "int a[] = {f(1,", ")}"),
        ("c", 'puts("a(', '")'),
        ("c", "x = f(/* (", ""),  # inside a block comment: nothing closes it here
        ("javascript", "const s = `a${f(", "`"),  # the lexer reads a template literal as one string
    ],
)
def test_closing_text(language: str, text: str, closers: str) -> None:
    assert closing_text(text, rules_for(language)) == closers
