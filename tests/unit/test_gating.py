"""Gating: whether and how much to complete at a cursor, in every language (real tree-sitter).

Each row is a document with `‸` at the cursor and the expected (complete, scope, max_lines)."""

from __future__ import annotations

import pytest

from lsp_server.syntax.gating import BLOCK_MAX_LINES as B
from lsp_server.syntax.gating import EXPRESSION_MAX_LINES as E
from lsp_server.syntax.gating import STATEMENT_MAX_LINES as S
from lsp_server.syntax.gating import decide
from lsp_server.syntax.languages import new_parser

NO = (False, "line", 0)
LINE = (True, "line", 1)
REST = (True, "line", E)  # the rest of the line, on to where a bracket the completion opens closes
BLOCK = (True, "block", B)
STMT = (True, "statement", S)
EXPR = (True, "expression", E)
EXPR1 = (True, "expression", 1)
EXPR_ON = (True, "expression", S)  # an open bracket the code below does not close: on to the statement's end

CASES = [
    # python
    ("python", "mid-identifier", "def f():\n    retu‸rn 1\n", NO),
    ("python", "code-right", "x = ‸foo(1)\n", NO),
    ("python", "end-of-def", "def f(x):‸\n", BLOCK),
    ("python", "empty-line-after-if", "def f(x):\n    if x:\n        ‸\n    return 1\n", BLOCK),
    ("python", "empty-line-after-def-no-indent", "def f(x):\n‸\n", BLOCK),
    ("python", "empty-line-after-def-body-follows", "def f(x):\n    ‸\n    return x\n", STMT),
    ("python", "in-comment", "x = 1  # set ‸\n", LINE),
    ("python", "in-string", 'x = "abc‸"\n', LINE),
    ("python", "in-docstring", 'def f():\n    """Return ‸\n    """\n', LINE),
    # code inside an f-string is code, but the open bracket is not seen there: one line
    ("python", "f-string-code-is-code", 'x = f"{foo(‸)}"\n', LINE),
    ("python", "open-call-closed-by-suffix", "print(‸)\n", EXPR),
    ("python", "open-call-mid-args", "foo(a, ‸)\n", EXPR1),
    ("python", "dict-literal", "d = {‸\n", EXPR),
    ("python", "rest-of-line", "def f():\n    x = ‸\n    return x\n", REST),
    ("python", "empty-line-mid-block", "def f():\n    x = 1\n    ‸\n    return x\n", STMT),
    ("python", "empty-line-end-of-block", "def f():\n    x = 1\n    ‸\n\ndef g():\n    pass\n", BLOCK),
    ("python", "empty-line-in-dict-closed-below", "d = {\n    'a': 1,\n‸\n}\n", EXPR),
    ("python", "empty-line-in-dict-not-closed-below", "def f():\n    d = {\n        'a': 1,\n‸\n    return d\n", EXPR_ON),
    ("python", "dict-colon-is-not-block", "d = {'a':‸}\n", EXPR1),
    ("python", "else-opens-block", "if x:\n    pass\nelse:‸\n", BLOCK),
    ("python", "comment-after-colon", "if x:  # why‸\n", LINE),
    ("python", "tabs", "def f():\n\tif x:\n\t\t‸\n\treturn 1\n", BLOCK),
    ("python", "crlf", "def f():\r\n    ‸\r\n", BLOCK),
    # javascript
    ("javascript", "mid-identifier", "const fooBar = fo‸Bar;\n", NO),
    ("javascript", "function-brace", "function f(a) {‸\n", BLOCK),
    ("javascript", "arrow-brace-closed-by-suffix", "const f = (a) => {‸}\n", BLOCK),
    ("javascript", "open-call", "console.log(‸);\n", EXPR),
    ("javascript", "array", "const xs = [1, ‸];\n", EXPR1),
    ("javascript", "empty-line-in-array-not-closed-below", "const xs = [\n  1,\n‸\nconsole.log(xs);\n", EXPR_ON),
    ("javascript", "template-string", "const s = `hello ‸`;\n", LINE),
    ("javascript", "template-substitution-is-code", "const s = `a ${foo(‸)}`;\n", LINE),
    ("javascript", "block-comment", "/* note ‸ */\n", NO),
    ("javascript", "block-comment-end", "/* note ‸\n", LINE),
    ("javascript", "statement-in-body", "function f() {\n  const x = 1;\n  ‸\n  return x;\n}\n", STMT),
    ("javascript", "end-of-body", "function f() {\n  const x = 1;\n  ‸\n}\n", BLOCK),
    ("javascript", "rest-of-line-in-body", "function f() {\n  return ‸\n}\n", REST),
    # typescript
    ("typescript", "method-brace", "class A {\n  m(): number {‸\n  }\n}\n", BLOCK),
    ("typescript", "code-right-after-generic", "const m = new Map<string, ‸>();\n", NO),
    ("typescript", "mid-identifier", "let value: numb‸er = 1;\n", NO),
    ("typescript", "line-comment", "// TODO ‸\n", LINE),
    # tsx
    ("tsx", "jsx-call", "const el = render(‸);\n", EXPR),
    ("tsx", "function-brace", "function App() {‸\n}\n", BLOCK),
    ("tsx", "string", "const s = 'ab‸';\n", LINE),
    ("tsx", "mid-identifier", "const el = <Butt‸on />;\n", NO),
    # go
    ("go", "func-brace", "package main\n\nfunc f() {‸\n}\n", BLOCK),
    ("go", "if-brace-empty-line", "package main\n\nfunc f() {\n\tif x {\n\t\t‸\n\t}\n}\n", BLOCK),
    ("go", "empty-line-after-brace-body-follows", "package main\n\nfunc f() {\n\t‸\n\treturn\n}\n", STMT),
    ("go", "statement-in-body", "package main\n\nfunc f() {\n\tx := 1\n\t‸\n\treturn\n}\n", STMT),
    ("go", "raw-string", "package main\n\nvar s = `abc‸`\n", LINE),
    ("go", "call", "package main\n\nfunc f() {\n\tfmt.Println(‸)\n}\n", EXPR),
    ("go", "code-right", "package main\n\nfunc f() {\n\t‸x := 1\n}\n", NO),
    # rust
    ("rust", "fn-brace", "fn main() {‸\n}\n", BLOCK),
    ("rust", "lifetime-is-not-a-char", "fn f<'a>(x: &'a str) {‸\n}\n", BLOCK),
    ("rust", "macro-args", "fn main() {\n    println!(‸);\n}\n", EXPR),
    ("rust", "doc-comment", "/// Returns ‸\nfn f() {}\n", LINE),
    ("rust", "mid-identifier", "fn main() {\n    let va‸lue = 1;\n}\n", NO),
    # c
    ("c", "function-brace", "int main(void) {‸\n}\n", BLOCK),
    ("c", "string", 'int main(void) {\n    printf("%d‸");\n}\n', LINE),
    ("c", "call-args", "int main(void) {\n    printf(‸);\n}\n", EXPR),
    ("c", "block-comment-open", "/* ‸\n", LINE),
    ("c", "mid-identifier", "int main(void) {\n    int cou‸nt = 0;\n}\n", NO),
    ("c", "rest-of-line", "int main(void) {\n    int x = ‸\n}\n", REST),
    # cpp
    ("cpp", "class-method-brace", "class A {\n  int m() {‸\n  }\n};\n", BLOCK),
    ("cpp", "template-args", "std::vector<‸> v;\n", NO),
    ("cpp", "init-list", "std::vector<int> v = {1, ‸};\n", REST),
    ("cpp", "code-right", "int x = ‸y + 1;\n", NO),
    # java
    ("java", "method-brace", "class A {\n  int m() {‸\n  }\n}\n", BLOCK),
    ("java", "string", 'class A {\n  String s = "hi ‸";\n}\n', LINE),
    ("java", "call", "class A {\n  void m() {\n    System.out.println(‸);\n  }\n}\n", EXPR),
    ("java", "javadoc", "/** Returns ‸\n", LINE),
    ("java", "mid-identifier", "class A {\n  int cou‸nt;\n}\n", NO),
]


def _doc(marked: str) -> tuple[str, int]:
    return marked.replace("‸", ""), marked.index("‸")


@pytest.mark.parametrize(
    ("language", "marked", "expected"),
    [pytest.param(lang, marked, want, id=f"{lang}-{name}") for lang, name, marked, want in CASES],
)
def test_decide_with_tree(language: str, marked: str, expected: tuple) -> None:
    text, offset = _doc(marked)
    tree = new_parser(language).parse(text.encode("utf-8"))
    gate = decide(language, tree, text, offset)
    assert (gate.complete, gate.scope, gate.max_lines) == expected, gate.reason


# Without a tree (or an unknown language) the same rules run on the text alone.
TEXT_ONLY = [
    ("python", "in-string", 'x = "abc‸', LINE),
    ("python", "in-comment", "x = 1  # ‸", LINE),
    ("python", "in-triple-quoted", 'def f():\n    """Doc\n    ‸', LINE),
    ("python", "end-of-def", "def f():‸", BLOCK),
    ("rust", "lifetime", "fn f<'a>(x: &'a str) {‸", BLOCK),
    ("c", "char-literal-paren", "int c = '(';\nint main(void) {‸", BLOCK),
    (None, "unknown-brace", "thing {‸", BLOCK),
    (None, "unknown-call", "call(‸)", EXPR),
    (None, "unknown-mid-identifier", "abc‸def", NO),
]


@pytest.mark.parametrize(
    ("language", "marked", "expected"),
    [pytest.param(lang, marked, want, id=f"{lang}-{name}") for lang, name, marked, want in TEXT_ONLY],
)
def test_decide_without_tree(language: str | None, marked: str, expected: tuple) -> None:
    text, offset = _doc(marked)
    gate = decide(language, None, text, offset)
    assert (gate.complete, gate.scope, gate.max_lines) == expected, gate.reason


def test_offset_is_a_str_index_not_bytes() -> None:
    text = 'x = "héllo wörld ✓"  # ünïcode\nprint(‸)\n'
    plain, offset = _doc(text)
    tree = new_parser("python").parse(plain.encode("utf-8"))
    gate = decide("python", tree, plain, offset)
    assert (gate.complete, gate.scope) == (True, "expression")


# The indentation an empty cursor line's completion must start with (None: free).
INDENTS = [
    ("body-missing", "def f(x):\n    if x:\n‸\n    return 1\n", "        "),
    ("body-missing-cursor-typed", "def f(x):\n    if x:\n        ‸\n    return 1\n", "        "),
    ("body-below-deeper", "def f(x):\n    if x:\n‸\n            y()\n", "        "),  # the hole opens a block
    ("body-below-irregular", "def f(x):\n    if x:\n‸\n      y()\n", "      "),  # the body's own level
    ("header-step", "class A:\n  def f(self):\n‸\n", "    "),  # one step as deep as the header's own
    ("tabs", "def f(x):\n\tif x:\n‸\n", "\t\t"),
    ("deeper-below-needs-opener", 'def f(x):\n    """Doc."""\n‸\n        return 1\n    return 0\n', "    "),
    ("deeper-below-after-return", "def f(x):\n    if x:\n        return 1\n‸\n            y()\n", None),
    ("same-level", "def f(x):\n    a = 1\n‸\n    return a\n", None),  # or a dedent: free
    ("end-of-block", "def f(x):\n    if x:\n        a = 1\n‸\n    return a\n", None),
    ("after-comment", "def f(x):\n    if x:\n    # note\n‸\n", "        "),
    ("inside-brackets", "x = [\n‸\n]\n", None),
    ("inside-string", 'x = """\n‸\n"""\n', None),
    ("code-on-line", "def f(x):\n    if x: ‸\n", None),
    ("module-level", "import os\n‸\nx = 1\n", None),
    ("crlf", "def f(x):\r\n    if x:\r\n‸\r\n", "        "),
]


@pytest.mark.parametrize(("marked", "expected"), [pytest.param(m, w, id=n) for n, m, w in INDENTS])
def test_required_indent(marked: str, expected: str | None) -> None:
    text, offset = _doc(marked)
    gate = decide("python", new_parser("python").parse(text.encode("utf-8")), text, offset)
    assert gate.indent == expected, gate.reason


@pytest.mark.parametrize("language", ["javascript", "c", "go", "rust", None])
def test_no_required_indent_where_indentation_is_free(language: str | None) -> None:
    text, offset = _doc("function f(x) {\n  if (x) {\n‸\n}\n")
    assert decide(language, None, text, offset).indent is None
