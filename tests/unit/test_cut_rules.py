"""The rules that end the gate's scope in the model's output (`cut_rules`), one table each.

Each row: the document around the cursor (prefix, suffix: the gate comes from `gating.decide`,
as in the server), the candidate, and what the scan keeps of it (None: not known yet, the
candidate is still being generated), with the rule and with the rule taken out of the scan's
tables. A rule that ends the scan is the one `Scan.by` names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lsp_server.syntax import cut_rules
from lsp_server.syntax import scan as scan_module
from lsp_server.syntax.scan import Scan, scan
from lsp_server.syntax.surroundings import Surroundings
from tests.support.gates import gate_at

TABLES = ("BEFORE_BRACKETS", "ON_BRACKET", "ON_CLOSER", "AFTER_BRACKETS", "AT_LINE_END")


@dataclass(frozen=True)
class Case:
    id: str
    language: str
    prefix: str
    candidate: str
    suffix: str
    kept: str | None  # the candidate up to where the scope ends
    without: str | None  # the same with the rule taken out
    final: bool = True  # the candidate is complete
    overran: bool = False  # the model hit its token limit
    by: str | None = "rule"  # the rule that ends the scan: this table's ("rule"), or another

    def scan(self) -> Scan:
        ctx = Surroundings.build(self.language, self.prefix, self.suffix, gate_at(self.language, self.prefix, self.suffix),
                                 self.overran)
        return scan(ctx, self.candidate, self.final)

    def kept_by(self, found: Scan) -> str | None:
        return self.candidate[: found.end] if found.end is not None else None


PY_F = "def f(x):\n"
JAVA_M = "class A {\n  void m(int q) {\n    int r = 0;\n"  # statement scope on the empty line after it
JAVA_IF = "class A {\n  void m(int q) {\n    if (q > 0) {\n      int r = 0;\n"
JAVA_BELOW = "\n      r = q;\n    }\n    return;\n  }\n}\n"  # the body of a block the hole opens
C_IF = "int f(int x) {\n  if (x) {\n"  # block scope: the body of the `if`

RULES: dict[str, list[Case]] = {
    "dedent_ends_scope": [
        Case("below-the-block", "python", PY_F + "    y = 1\n", "    z = 2\n    return z\nprint(f(1))\n", "",
             "    z = 2\n    return z", "    z = 2\n    return z\nprint(f(1))\n"),
        Case("one-statement-at-module-level", "python", "import os\n", "x = 1\ny = 2\n", "\nprint(x)\n",
             "x = 1", "x = 1\ny = 2\n"),
        Case("a-decorator-joins-its-definition", "python", "import os\n", "@cache\ndef g():\n    return 1\ndef h():\n    pass\n",
             "\nprint(x)\n", "@cache\ndef g():\n    return 1", "@cache\ndef g():\n    return 1\ndef h():\n    pass\n"),
        Case("a-clause-the-code-below-has-already", "python", "def f(g):\n    if g > 3:\n",
             "        r = 1\n    elif g > 2:\n        r = 2\n", "\n    elif g > 1:\n        r = 3\n    return r\n",
             "        r = 1", "        r = 1\n    elif g > 2:\n        r = 2\n", overran=True),
        Case("not-before-a-clause", "python", "def f(g):\n    if g > 3:\n",
             "        r = 1\n    elif g > 2:\n        r = 2\n", "\n    elif g > 1:\n        r = 3\n    return r\n",
             "        r = 1\n    elif g > 2:\n        r = 2\n", "        r = 1\n    elif g > 2:\n        r = 2\n", by=None),
        Case("may-become-a-clause", "python", PY_F + "    y = 1\n", "    z = 2\nel", "", None, None, final=False),
    ],
    "repeats_the_suffix": [
        Case("the-code-below-again", "python", PY_F, "    y = x + 1\n    z = y * 2\n    return z\n", "\n    z = y * 2\n    return z\n",
             "    y = x + 1", "    y = x + 1\n    z = y * 2\n    return z\n"),
        Case("only-looks-the-same", "python", PY_F, "    y = x + 1\n    z = y * 2\n    return y\n", "\n    z = y * 2\n    return z\n",
             "    y = x + 1\n    z = y * 2\n    return y\n", "    y = x + 1\n    z = y * 2\n    return y\n", by=None),
        Case("next-line-not-written-yet", "python", PY_F, "    y = x + 1\n    z = y * 2\n    ret", "\n    z = y * 2\n    return z\n",
             None, None, final=False),
    ],
    "header_brace_closed": [
        Case("a-body-of-its-own", "java", JAVA_M, "    if (q > 0) {\n      other();\n    }\n", JAVA_BELOW,
             "    if (q > 0) {", "    if (q > 0) {\n      other();\n    }\n"),
    ],
    "closer_opens_next_clause": [
        Case("else-goes-on", "c", C_IF, "    a();\n  } else {\n    b();\n  }\n  c();\n", "\n  return 0;\n}\n",
             "    a();\n  } else {\n    b();\n  }", "    a();\n  } else {", by="block_closer"),
    ],
    "closer_may_open_next_clause": [
        Case("a-brace-alone", "java", JAVA_IF, "      r++;\n    }", "\n      x();\n    }\n  }\n}\n", None, "      r++;", final=False),
        Case("may-become-else", "java", JAVA_IF, "      r++;\n    } el", "\n      x();\n    }\n  }\n}\n", None, "      r++;",
             final=False),
    ],
    "closes_open_expression": [
        Case("then-statements", "python", "def f():\n    x = foo(\n", "        1)\n    y = x\n    return y\n", "\n    return x\n",
             "        1)\n    y = x\n    return y\n", "        1)", by=None),
    ],
    "statement_closer": [
        Case("before-the-closing-line", "java", JAVA_IF, "      r++;\n    }\n    x();\n", "\n      x();\n    }\n  }\n}\n",
             "      r++;", "      r++;\n    }"),
        Case("at-the-closer", "java", JAVA_IF, "      r++; }\n    x();\n", "\n      x();\n    }\n  }\n}\n",
             "      r++; ", "      r++; }"),
    ],
    "suffix_starts_with_closer": [
        Case("the-code-below-closes-it", "c", C_IF, "    a();\n  } // done\n", "\n  }\n  return 0;\n}\n",
             "    a();", "    a();\n  } // done"),
    ],
    "block_closer": [
        Case("through-the-closing-line", "c", C_IF, "    a();\n  }\n  b();\n", "\n  return 0;\n}\n",
             "    a();\n  }", "    a();\n  }\n  b();\n"),
    ],
    "body_below_starts": [
        Case("the-code-below-is-its-body", "java", JAVA_M, "    if (q > 0) {\n      r = q;\n      log(r);\n", JAVA_BELOW,
             "    if (q > 0) {", "    if (q > 0) {\n      r = q;\n      log(r);\n"),
        Case("not-known-yet", "java", JAVA_M, "    if (q > 0) {\n      r", JAVA_BELOW, None, None, final=False),
    ],
    "line_scope_ends": [
        Case("the-line", "python", "x = ", "foo(1)\ny = 3\n", "\n", "foo(1)", "foo(1)\ny = 3\n"),
        Case("down-to-the-bracket's-closer", "python", "x = ", "foo(1,\n      2)\ny = 3\n", "\n", "foo(1,\n      2)",
             "foo(1,\n      2)\ny = 3\n"),
        Case("not-known-yet", "python", "x = ", "foo(1)", "\n", None, None, final=False),
    ],
    "max_lines": [
        Case("eight-lines-of-an-expression", "python", "x = foo(", "\n".join(f"a{i}," for i in range(12)), ")\n",
             "\n".join(f"a{i}," for i in range(8)), "\n".join(f"a{i}," for i in range(12))),
    ],
}

# The cut points a closer adds (the cuts tried beside the scope's line ends), with and without it.
CUTS = [
    Case("before-and-after-the-closer", "c", C_IF, "    a();\n  }\n", "\n  return 0;\n}\n", "    a();\n  ", "    a();\n  }"),
]


def _without(monkeypatch: pytest.MonkeyPatch, rule: str) -> None:
    for table in TABLES:
        monkeypatch.setattr(scan_module, table, tuple(r for r in getattr(scan_module, table) if r.__name__ != rule))


def test_every_rule_has_a_table():
    in_tables = [r.__name__ for table in TABLES for r in getattr(cut_rules, table)]
    assert sorted(in_tables) == sorted(RULES.keys() | {"cut_around_closer"})


@pytest.mark.parametrize(("rule", "case"), [pytest.param(rule, case, id=f"{rule}-{case.id}") for rule, cases in RULES.items()
                                            for case in cases])
def test_rule(rule: str, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    found = case.scan()
    assert case.kept_by(found) == case.kept
    assert found.by == (rule if case.by == "rule" else case.by)
    _without(monkeypatch, rule)
    assert case.kept_by(case.scan()) == case.without


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CUTS])
def test_cut_around_closer(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    found = case.scan()
    assert [case.candidate[:p] for p in found.cuts] == [case.kept, case.without]
    _without(monkeypatch, "cut_around_closer")
    assert case.scan().cuts == []
