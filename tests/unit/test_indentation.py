"""Indentation that the grammar does not check (Python): `indentation.indentation_violations`."""

from __future__ import annotations

import pytest

from lsp_server.syntax.indentation import IndentCheck, indentation_violations
from lsp_server.syntax.rules import rules_for


@pytest.mark.parametrize(
    ("text", "violations"),
    [
        pytest.param("def f(n):\n    count = 0\n        if n:\n            pass\n", 1, id="unexpected-indent"),
        pytest.param("def f(n):\n    if n:\n        x = 1\n      y = 2\n", 1, id="dedent-to-unopened-level"),
        pytest.param("def f(n):\n    if n:\n    return 1\n", 1, id="opener-without-body"),
        pytest.param("def f(n):\n    x = (1,\n  2)\n    s = \"\"\"a\nb:\n        \"\"\"\n    if x:  # c:\n        pass\n", 0,
                     id="brackets-strings-comments"),
        pytest.param("def f(n):\n    y = n + \\\n            1\n    return y\n", 0, id="backslash-continuation"),
        pytest.param("class A:\n    def f(self): return 1\n\n    def g(self):\n        pass\nx = 1\n", 0, id="one-line-body"),
        pytest.param("        return 1\n    return 2\nx = 3\n", 0, id="window-starts-deep"),
        pytest.param("def f():\n\tif x:\n\t\treturn 1\n\treturn 2\n", 0, id="tabs"),
    ],
)
def test_indentation_violations(text: str, violations: int) -> None:
    assert len(indentation_violations(text, rules_for("python"))) == violations
    assert indentation_violations(text, rules_for("c")) == []  # braces: no rule


# IndentCheck: the violations of the window with the insertion, None where it breaks a rule.
PY_BODY = ("def f(x):\n    y = 1\n", "\n    return y\n")
INSERTIONS = [
    ("fits", *PY_BODY, "    z = 2", 0),
    ("an-unexpected-indent-it-writes", *PY_BODY, "        z = 2", None),
    ("a-block-opener-without-a-body", *PY_BODY, "    if y:", None),
    # the suffix's own violation, which the window shows only once the insertion closes its bracket
    ("hidden-by-the-open-bracket", "def f():\n    x = foo(1,\n", "\n        2)\n    return x\n", "2)", 1),
    # the header the user is writing on the cursor line, finished: its body is not written yet
    ("finishes-the-header-on-the-cursor-line", "def f(x):\n    if x", "\n    return 1\n", ":", 0),
    ("a-violation-the-window-had-already", "def f(x):\n", "\n    y = 1\n        z = 2\n    return z\n", "    w = 0", 1),
]


@pytest.mark.parametrize(("prefix", "suffix", "text", "violations"),
                         [pytest.param(*row[1:], id=row[0]) for row in INSERTIONS])
def test_indent_check(prefix: str, suffix: str, text: str, violations: int | None) -> None:
    assert IndentCheck(prefix, suffix, rules_for("python")).violations(text) == violations
