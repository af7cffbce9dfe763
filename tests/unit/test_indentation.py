"""Indentation that the grammar does not check (Python): `indentation.indentation_violations`."""

from __future__ import annotations

import pytest

from lsp_server.syntax.indentation import indentation_violations
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
