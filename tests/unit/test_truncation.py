"""Truncation: cutting model output to what fits the code, in every language (real tree-sitter).

Each row: prefix, candidate (the model's raw output at the cursor), suffix, and the exact text
expected to be inserted. The gate comes from `gating.decide` on prefix + suffix, as in the server."""

from __future__ import annotations


import pytest

from lsp_server.syntax.gating import Gate
from lsp_server.syntax.truncation import StopChecker, clean, loop_end, truncate
from tests.support.gates import gate_at


# Fifteen short methods after the cursor's: the code below goes on past the parse window's 40 lines.
JAVA_METHODS = "".join(f"\n    void m{i}() {{\n        x({i});\n    }}\n" for i in range(15))

# A CUDA-style header: a macro before each function, which tree-sitter cannot read.
_CUDA_FN = ("  __DECL__ void mma_sync(frag<acc, 16, float>& d, const frag<a, 16, half>& a) {\n"
            "    __hmma((int*)&d, (const int*)&a, 1);\n  }\n")
CUDA_PREFIX = ("namespace wmma {\n" + _CUDA_FN
               + "  __DECL__ void mma_sync(frag<acc, 16, half>& d, const frag<a, 16, float>& a) {\n    __hmma((int*)&d, (const int*")
CUDA_SUFFIX = "\n  }\n" + _CUDA_FN * 3 + "}\n"

CASES = [
    # ---- python
    ("python", "block-then-next-function",
     "def add(a, b):\n", "    return a + b\n\n\ndef sub(a, b):\n    return a - b\n", "\n\nprint(add(1, 2))\n",
     "    return a + b"),
    ("python", "header-end-then-dedent",
     "def f(x):", "\n    y = x * 2\n    return y\nprint(f(3))\n", "\n",
     "\n    y = x * 2\n    return y"),
    ("python", "one-line-if-body",
     "def f(x):\n    if x:", " return 1\n    return 2\n", "\n    return 0\n",
     " return 1"),
    # words in a string that read like a C header (`for ... )`) are text, and Python has no such header
    ("python", "a-for-inside-a-string-is-text",
     "def f(domain):\n    raise FileNotFoundError(2,\n                            'No file found",
     " for domain', domain)", "\n    return None\n",
     " for domain', domain)"),
    ("python", "repeats-next-line",
     "def f(xs):\n    total = 0\n    ", "for x in xs:\n        total += x\n    return total\n",
     "\n    return total\n",
     "for x in xs:\n        total += x"),
    ("python", "suffix-closes-bracket",
     "print(", "'hello')", ")\n", "'hello'"),
    ("python", "suffix-closes-quote-and-bracket",
     'print("', 'hello")', '")\n', "hello"),
    ("python", "nested-call-keeps-own-parens",
     "x = max(", "abs(a), abs(b))", ")\n", "abs(a), abs(b)"),
    ("python", "nested-open-call-gets-closed",
     "x = foo(a, ", "bar(b), c)\ny = 2\n", "\n", "bar(b), c)"),
    ("python", "comment-one-line",
     "def f():\n    # compute the ", "sum of squares\n    return 1\n", "\n",
     "sum of squares"),
    ("python", "crlf",
     "def f(x):\r\n", "    y = x + 1\r\n    return y\r\n\r\ndef g():\r\n    pass\r\n", "\r\n",
     "    y = x + 1\r\n    return y"),
    # a model stuck in a loop: the repeated line is kept once
    ("python", "model-in-a-loop",
     "def f(xs):\n    total = 0\n    ", "total += xs[0]\n    total += xs[0]\n    total += xs[0]\n    total += xs[0]\n",
     "\n    return total\n", "total += xs[0]"),
    # the editor closed the bracket (`(|)`): a completion that goes on below it ends with a line
    # break, so the `)` goes on a line of its own
    ("python", "editor-closed-call-over-lines",
     "def build(parser):\n    parser.add_argument(", '\n        "--x",\n        help="x",\n    )\n    return parser\n',
     ")\n    return parser\n",
     '\n        "--x",\n        help="x",\n    '),
    ("python", "editor-closed-call-over-lines-crlf",
     "def build(parser):\r\n    parser.add_argument(", '\r\n        "--x",\r\n    )\r\n', ")\r\n",
     '\r\n        "--x",\r\n    '),
    # the block scope goes on to the end of the function (the suffix has nothing more of it)
    ("python", "tab-document-space-output",
     "def f(x):\n\tif x:\n", "        return 1\n    return 2\n", "\n",
     "\t\treturn 1\n\treturn 2"),
    ("python", "space-document-tab-output",
     "def f(x):\n    if x:\n", "\t\treturn 1\n\treturn 2\n", "\n",
     "        return 1\n    return 2"),
    ("python", "unbalanced-output-is-dropped",
     "def f(x):\n    return ", "foo(x, [1, 2\n", "\n", ""),
    ("python", "line-scope-first-line",
     "def f():\n    x = ", "1\n    y = 2\n", "\n    return x\n", "1"),
    # the rest of a line whose completion opens a bracket goes on to the line that closes it
    ("python", "line-scope-call-over-lines",
     "def f(a, b):\n    x = comb", "ine(\n        a,\n        b,\n    )\n    return x\n", "\n    return x\n",
     "ine(\n        a,\n        b,\n    )"),
    ("python", "line-scope-bracket-never-closed",
     "def f(a, b):\n    x = comb", "ine(\n        a,\n        b,\n", "\n    return x\n", ""),
    ("python", "invisible-characters",
     "def f():\n    x = ", "\u202e1\u200b + 2\x07\n", "\n", "1 + 2"),
    ("python", "trailing-blank-lines",
     "def f():\n", "    pass\n    \n\n", "\n", "    pass"),
    # an empty line in a body gets several statements, up to the end of the block
    ("python", "statements-on-empty-line",
     "def f(xs):\n    n = 0\n", "    n += 1\n    n += 2\n", "\n    return n\n", "    n += 1\n    n += 2"),
    ("python", "compound-statement-on-empty-line",
     "def f(xs):\n    n = 0\n", "    for x in xs:\n        n += x\n    n = 7\n", "\n    return n\n",
     "    for x in xs:\n        n += x\n    n = 7"),
    # the next definition is not in the parse window, but it is still the line below
    ("python", "module-level-repeat-of-the-next-definition",
     "import os\n\n", "def g():\n    pass\n", "\ndef g():\n    pass\n", ""),
    # a string the completion opens and the suffix closes is kept (the docstring's tail is below)
    ("python", "docstring-the-suffix-closes",
     "def f(a):\n    ", '"""Return the index of a.\n', "\n    More text.\n    \"\"\"\n    return a\n",
     '"""Return the index of a.'),
    ("python", "statements-end-with-the-block",
     "def f(xs):\n    n = 0\n", "    n += 1\n\ndef g():\n    pass\n", "\n    return n\n", "    n += 1"),
    ("python", "statements-until-repeat-of-next-line",
     "def f(a, b):\n", "    ta = str(a)\n    tb = str(b)\n    return ta == tb\n", "\n    return ta == tb\n",
     "    ta = str(a)\n    tb = str(b)"),
    ("python", "same-line-as-next-but-goes-on-differently",
     "def f(xs):\n    if not xs:\n        return 0\n",
     "    if len(xs) > 9:\n        return 0\n    if xs[0] < 0:\n", "\n        return 0\n    return 1\n",
     "    if len(xs) > 9:\n        return 0\n    if xs[0] < 0:"),
    ("python", "else-clause-belongs-to-the-block",
     "def f(x):\n    if x:\n", "        return 1\n    else:\n        return 2\n\n\ndef g():\n    pass\n", "\n",
     "        return 1\n    else:\n        return 2"),
    ("python", "except-clause-belongs-to-the-block",
     "def f(s):\n    try:\n", "        return int(s)\n    except ValueError:\n        return 0\nx = f('1')\n", "\n",
     "        return int(s)\n    except ValueError:\n        return 0"),
    ("python", "end-of-inner-block-goes-on-to-the-function-end",
     "def f(xs):\n    n = 0\n    for x in xs:\n", "        n += x\n    return n\ndef g():\n    pass\n",
     "\n\nprint(f([1]))\n", "        n += x\n    return n"),
    ("python", "module-level-one-definition",
     "import os\n\n", "def f():\n    return 1\n\ndef g():\n    return 2\n", "\n\nprint(f())\n",
     "def f():\n    return 1"),
    ("python", "module-level-decorated-definition",
     "import functools\n\n", "@functools.cache\ndef f():\n    return 1\nx = 2\n", "\n\nprint(f())\n",
     "@functools.cache\ndef f():\n    return 1"),
    ("python", "module-level-if-else-is-one-statement",
     "import os\n\n", "if os.name:\n    x = 1\nelse:\n    x = 2\ny = 3\n", "\n\nprint(x)\n",
     "if os.name:\n    x = 1\nelse:\n    x = 2"),
    ("python", "class-body-one-method",
     "class A:\n    def f(self):\n        return 1\n\n", "    def g(self):\n        return 2\n\n    def h(self):\n        return 3\n",
     "\n    def z(self):\n        pass\n", "    def g(self):\n        return 2"),
    ("python", "def-body-only",
     "def f(x):\n    def inner(y):\n", "        return y + 1\n    return inner(x)\n", "\n",
     "        return y + 1"),
    # a bracket the suffix does not close: the completion closes it and finishes the statement's block
    ("python", "dict-the-suffix-does-not-close",
     "def f(arr):\n    dic = {\n        1: 'One',\n", "        2: 'Two'\n    }\n    out = [dic[x] for x in arr]\n\ndef g():\n",
     "\n    return sorted(out)\n", "        2: 'Two'\n    }\n    out = [dic[x] for x in arr]"),
    ("python", "dict-the-suffix-closes",
     "d = {\n    'a': 1,\n", "    'b': 2,\n}\nx = 1\n", "\n}\n", "    'b': 2,"),
    # indentation errors that tree-sitter-python accepts are rejected: an unexpected indent of the
    # suffix after the cut, a dedent to a level that was never open
    ("python", "unexpected-indent-of-suffix-rejected",
     "def f(nums):\n", "    count = 0\n    return count\n", "\n            count += 1\n    return count\n", ""),
    ("python", "suffix-body-needs-the-header",
     "def f(nums):\n", "    count = 0\n    for n in nums:\n        if n > 10:\n",
     "\n            count += 1\n    return count\n",
     "    count = 0\n    for n in nums:\n        if n > 10:"),
    # the suffix's own indentation error, hidden while a bracket at the cursor is open (lines
    # deleted below the cursor line): closing the bracket is not blamed for it; anything more is
    ("python", "closing-bracket-reveals-the-suffix-own-error",
     "def f(w):\n    if w <= 0:\n        raise ValueError(\"bad width %r (must be > 0)\" ", "% w)\n\n",
     "\n            raise ValueError('too large')\n    return w\n", "% w)"),
    ("python", "closing-string-and-bracket-reveals-it",
     "def f(w):\n    if w <= 0:\n        raise ValueError(\"bad width %r (must", " be > 0)\" % w)\n",
     "\n            raise ValueError('too large')\n    return w\n", " be > 0)\" % w)"),
    ("python", "after-closing-a-new-error-is-still-rejected",
     "def f(w):\n    if w <= 0:\n        raise ValueError(\"bad\" ", "% w)\n          x = 1\n",
     "\n            raise ValueError('too large')\n    return w\n", "% w)"),
    # a block header the user is writing on the cursor line is finished before its body exists
    # (the code below is not indented under it yet): not blamed for the missing body
    ("python", "header-being-written-above-code",
     "def f(key):\n    for k in ra", "nge(3):\n", "\n    return 1\n", "nge(3):"),
    ("python", "def-header-being-written-in-a-class",
     "class A:\n    def g(self", "):\n", "\n    x = 1\n", "):"),
    ("python", "a-colon-that-makes-no-header-still-rejected",
     "def f(key):\n    x = ", "g(1):\n", "\n    return 1\n", ""),
    ("python", "dedent-to-unopened-level-rejected",
     "def f(x):\n    if x:\n        y = 1\n", "      z = 2\n", "\n    return y\n", ""),
    # ---- javascript
    ("javascript", "editor-closed-brace",
     "function add(a, b) {", "\n    return a + b;\n}\n\nconsole.log(add(1, 2));\n", "}\n\nconsole.log(add(1, 2));\n",
     "\n    return a + b;\n"),
    ("javascript", "block-suffix-has-brace",
     "function f(a) {", "\n  return a + 1;\n}\n\nfunction g() {}\n", "\n}\n",
     "\n  return a + 1;"),
    ("javascript", "block-closes-itself",
     "function f(a) {", "\n  return a + 1;\n}\n\nfunction g() {}\n", "\n",
     "\n  return a + 1;\n}"),
    ("javascript", "nested-block-inner-brace-kept",
     "function f(xs) {\n", "  for (const x of xs) {\n    use(x);\n  }\n}\n", "}\n",
     "  for (const x of xs) {\n    use(x);\n  }"),
    ("javascript", "suffix-closes-call",
     "console.log(", "'a', b);", ");\n", "'a', b"),
    ("javascript", "one-line-if",
     "function f(x) {\n  if (x) ", "return 1;\n  return 2;\n}\n", "\n}\n", "return 1;"),
    ("javascript", "array-expression",
     "const xs = [", "1, 2, 3];\nconst ys = [];\n", "\n", "1, 2, 3];"),
    ("javascript", "several-statements-until-repeat",
     "function f() {\n  const x = 1;\n", "  const y = 2;\n  const z = 3;\n  return x;\n}\n", "\n  return x;\n}\n",
     "  const y = 2;\n  const z = 3;"),
    ("javascript", "statements-up-to-the-closing-brace",
     "function f() {\n  let x = 1;\n", "  x += 1;\n  x += 2;\n}\n\nfunction g() {}\n", "\n  return x;\n}\n",
     "  x += 1;\n  x += 2;"),
    ("javascript", "string-one-line",
     "const s = 'hello ", "world';\nconst t = 1;\n", "';\n", "world"),
    # ---- typescript
    ("typescript", "line-scope-callback-over-lines",
     "function f(input: number[]) {\n  return input.ma", "p((x) => {\n    return x * 2;\n  });\n}\n", "\n}\n",
     "p((x) => {\n    return x * 2;\n  });"),
    ("typescript", "method-body",
     "class A {\n  get(): number {", "\n    return 1;\n  }\n\n  set(v: number) {}\n}\n", "\n  }\n}\n",
     "\n    return 1;"),
    ("typescript", "repeats-next-line",
     "function f(): number {\n  const x = 1;\n  ", "const y = 2;\n  return x + y;\n}\n",
     "\n  return x + y;\n}\n", "const y = 2;"),
    ("typescript", "if-else-statement-whole",
     "function f(x: number): number {\n  let y = 0;\n",
     "  if (x > 0) {\n    y = 1;\n  }\n  else {\n    y = 2;\n  }\n  return y;\n}\n", "\n  return y;\n}\n",
     "  if (x > 0) {\n    y = 1;\n  }\n  else {\n    y = 2;\n  }"),
    ("typescript", "nested-expression",
     "const v = Math.max(", "Math.min(a, b), c);", ");\n", "Math.min(a, b), c"),
    # ---- tsx
    ("tsx", "component-body",
     "function App() {", "\n  return <div />;\n}\n\nexport default App;\n", "\n}\n",
     "\n  return <div />;"),
    ("tsx", "call-args-crlf",
     "function App() {\r\n  use(", "a, b);\r\n  more();\r\n", ");\r\n}\r\n", "a, b"),
    # ---- go
    ("go", "func-body-then-next-func",
     "package main\n\nfunc f() int {", "\n\tx := 1\n\treturn x\n}\n\nfunc g() {}\n", "\n}\n",
     "\n\tx := 1\n\treturn x"),
    # statement scope: several statements, up to the brace that closes the body
    ("go", "if-inside-body",
     "package main\n\nfunc f(x int) int {\n\t", "if x > 0 {\n\t\treturn x\n\t}\n\treturn 0\n}\n",
     "\n\treturn -x\n}\n", "if x > 0 {\n\t\treturn x\n\t}\n\treturn 0"),
    ("go", "several-statements-until-repeat",
     "package main\n\nfunc f() int {\n\tx := 1\n", "\tx++\n\tx *= 2\n\treturn x\n}\n", "\n\treturn x\n}\n",
     "\tx++\n\tx *= 2"),
    ("go", "space-output-in-tab-file",
     "package main\n\nfunc f() int {\n", "    return 1\n}\n", "}\n", "\treturn 1"),
    ("go", "suffix-closes-call",
     "package main\n\nfunc f() {\n\tfmt.Println(", "\"hi\")\n}\n", ")\n}\n", "\"hi\""),
    # ---- rust
    ("rust", "fn-body",
     "fn add(a: i32, b: i32) -> i32 {", "\n    a + b\n}\n\nfn main() {}\n", "\n}\n",
     "\n    a + b"),
    ("rust", "vec-crlf",
     "fn main() {\r\n    let v = vec![1, ", "2, 3];\r\n    println!()", "];\r\n}\r\n", "2, 3"),
    ("rust", "lifetime-in-output",
     "fn f<'a>(x: &'a str) -> &'a str {", "\n    let y: &'a str = x;\n    y\n}\nfn g() {}\n", "\n}\n",
     "\n    let y: &'a str = x;\n    y"),
    ("rust", "several-statements-to-closing-brace",
     "fn f() -> i32 {\n    let mut x = 1;\n", "    x += 1;\n    x *= 2;\n}\n\nfn g() {}\n", "\n    x\n}\n",
     "    x += 1;\n    x *= 2;"),
    ("rust", "comment-one-line",
     "fn main() {\n    // first ", "we parse\n    let x = 1;\n", "\n}\n", "we parse"),
    # ---- c
    # a loop of two lines is kept once
    ("c", "model-in-a-two-line-loop",
     "void f(z_stream *strm) {\n",
     "    if (strm->avail_in != 4)\n        bail();\n    strm->next_in += 4;\n    strm->avail_in -= 4;\n"
     "    strm->next_in += 4;\n    strm->avail_in -= 4;\n    strm->next_in += 4;\n    strm->avail_in -= 4;\n    strm",
     "}\n",
     "    if (strm->avail_in != 4)\n        bail();\n    strm->next_in += 4;\n    strm->avail_in -= 4;"),
    # the line below is aligned under the expression above it, not indented as a body: a header
    # without a body at the end is refused, the statement before it is kept
    ("c", "aligned-line-below-is-no-body",
     "int main(int argc, char **argv)\n{\n    ", "__m256 a = _mm256_set1_ps(1.0f);\n    for (int i = 0; i < 8; i++)\n",
     "\n           a = _mm256_macc_ps(a, a, a);\n    return (int)a[0];\n}\n",
     "__m256 a = _mm256_set1_ps(1.0f);"),
    ("c", "editor-closed-brace-in-a-block",
     "int main(void) {\n    if (x) {", "\n        y();\n    }\n    return 0;\n}\n", "}\n    return 0;\n}\n",
     "\n        y();\n    "),
    ("c", "line-scope-arguments-over-lines",
     "int f(int a) {\n    return g", "(a,\n             a + 1);\n}\n", "\n}\n",
     "(a,\n             a + 1);"),
    # ... but not where the code below is indented deeper: that is the block the bracket opens
    ("c", "line-scope-bracket-whose-inside-is-below",
     "int f(int a) {\n    if (a > 0) ", "{\n        a = 0;\n    }\n", "\n        return a;\n    }\n    return 0;\n}\n",
     "{"),
    ("c", "function-body",
     "int add(int a, int b) {", "\n    return a + b;\n}\n\nint main(void) { return 0; }\n", "\n}\n",
     "\n    return a + b;"),
    ("c", "printf-suffix-closes",
     "int main(void) {\n    printf(", "\"%d\\n\", x);", ");\n}\n", "\"%d\\n\", x"),
    ("c", "string-one-line",
     "int main(void) {\n    puts(\"hello ", "world\");\n    return 0;\n", "\");\n}\n", "world"),
    ("c", "repeats-next-line",
     "int f(int x) {\n    int y = x;\n    ", "y += 1;\n    return y;\n}\n", "\n    return y;\n}\n", "y += 1;"),
    ("c", "file-level-one-definition",
     "#include <stdio.h>\n\n", "int f(void) {\n    return 1;\n}\n\nint g(void) {\n    return 2;\n}\n",
     "\n\nint main(void) { return f(); }\n", "int f(void) {\n    return 1;\n}"),
    # ---- cpp
    ("cpp", "method-body",
     "class A {\n  int m() {", "\n    return 1;\n  }\n  int n() { return 2; }\n};\n", "\n  }\n};\n",
     "\n    return 1;"),
    ("cpp", "tab-indent-kept",
     "int f() {\n\tif (x) {", "\n\t\treturn 1;\n\t}\n\treturn 0;\n}\n", "\n\t}\n\treturn 0;\n}\n", "\n\t\treturn 1;"),
    ("cpp", "try-catch-is-one-statement",
     "int f() {\n  int x = 0;\n", "  try {\n    x = g();\n  }\n  catch (...) {\n    x = -1;\n  }\n  return x;\n}\n",
     "\n  return x;\n}\n", "  try {\n    x = g();\n  }\n  catch (...) {\n    x = -1;\n  }"),
    ("cpp", "nested-call",
     "int main() {\n  std::cout << std::max(", "f(a), g(b)) << std::endl;", ");\n}\n", "f(a), g(b)"),
    # ---- java
    # a window that stops inside code that goes on (the class below the cursor is long) is
    # closed where it stops: the block opener the condition ends with is kept
    ("java", "long-class-condition-then-block",
     "class A {\n    void f() {\n        if (!paused && !queue.isEmpty", "()) {",
     "\n            g();\n        }\n    }\n" + JAVA_METHODS + "}\n", "()) {"),
    # a cut that leaves a string open (the model stopped mid-string) is not offered
    ("java", "unterminated-string-is-dropped",
     "class A {\n    void f() {\n        String s = ", '"abc', ";\n    }\n" + JAVA_METHODS + "}\n", ""),
    ("java", "method-body",
     "class A {\n  int m() {", "\n    return 1;\n  }\n\n  int n() { return 2; }\n}\n", "\n  }\n}\n",
     "\n    return 1;"),
    ("java", "println-suffix-closes",
     "class A {\n  void m() {\n    System.out.println(", "\"hi\");", ");\n  }\n}\n", "\"hi\""),
    ("java", "crlf-body",
     "class A {\r\n  int m() {", "\r\n    int x = 1;\r\n    return x;\r\n  }\r\n}\r\n", "\r\n  }\r\n}\r\n",
     "\r\n    int x = 1;\r\n    return x;"),
    ("java", "class-body-one-method",
     "class A {\n  int m() { return 1; }\n\n", "  int n() {\n    return 2;\n  }\n\n  int o() {\n    return 3;\n  }\n}\n",
     "\n  int p() { return 4; }\n}\n", "  int n() {\n    return 2;\n  }"),
    ("javascript", "closing-brace-then-catch-continues-the-statement",
     "async function f(p) {\n  try {\n    return await load(p)\n  ", "} catch (err) {\n    throw err\n  }\n}\n",
     "\n    log(err)\n    return null\n  }\n}\n",
     "} catch (err) {\n    throw err"),
    ("c", "block-body-then-else-clause",
     "int f(int x) {\n    if (x > 0) {\n        ", "return 1;\n    } else {\n        return 2;\n    }\n    return 0;\n}\n",
     "\n    return 3;\n}\n",
     "return 1;\n    } else {\n        return 2;\n    }"),
    # the code below closes the block with a `}` at this level: the model's `} else {` there is
    # not the hole's (it would turn that `}` into the end of an else the user never asked for)
    ("c", "block-body-then-else-where-the-code-below-closes-the-block",
     "int f(int x) {\n    if (x > 0) {\n        ", "return 1;\n    } else {\n        return 2;\n    }\n    return 0;\n}\n",
     "\n    }\n    return 3;\n}\n",
     "return 1;"),
    ("c", "never-ends-with-a-header-whose-body-would-be-the-code-below",
     "int f(int n) {\n    int s = 0;\n    ", "int a = g(n);\n    for (int i = 0; i < n; i++)\n",
     "\n    s += i;\n    return s;\n}\n",
     "int a = g(n);"),
    # ... but where the code below is indented as that header's body, it already is the body:
    # the header is what is missing (a braceless `if` above `break;`)
    ("c", "a-header-whose-body-the-code-below-already-is",
     "int f(FILE *in) {\n    for (;;) {\n        int done = fread(b, 1, 8, in);\n        ", "if (done < 8)\n",
     "\n            break;\n    }\n    return 0;\n}\n",
     "if (done < 8)"),
    ("javascript", "a-header-whose-body-the-code-below-already-is",
     "function f(xs) {\n  for (const x of xs)\n    ", "if (x > 0)",
     "\n      g(x);\n  return 1;\n}\n",
     "if (x > 0)"),
    # the cursor in a block comment whose end is the hole's: the code below is code again
    ("c", "a-hole-that-closes-the-comment-the-cursor-is-in",
     "int f(void) {\n    /* flush the\n       ", "buffers */", "\n    g();\n    /* done */\n    return 0;\n}\n",
     "buffers */"),
    ("c", "a-hole-that-closes-the-comment-and-breaks-the-code-is-refused",
     "int f(void) {\n    /* flush the\n       ", "buffers */ if (", "\n    g();\n    /* done */\n    return 0;\n}\n",
     ""),
    # the code below is indented as a body: the hole is its header, whatever the model wrote after
    # it (a braced copy of the body, then the code below again); braceless where the code below has
    # no closing brace of its own
    ("c", "braced-loop-around-a-copy-of-the-body-below",
     "int sum(const int *xs, int n) {\n    int total = 0;\n    ",
     "for (int i = 0; i < n; i++) {\n        total += xs[i];\n    }\n    return total;\n}\n",
     "\n        total += xs[i];\n    return total;\n}\n",
     "for (int i = 0; i < n; i++)"),
    ("javascript", "braced-loop-around-a-copy-of-the-body-below",
     "function f(xs) {\n  let t = 0;\n  ", "for (const x of xs) {\n    t += x;\n  }\n  return t;\n}\n",
     "\n    t += x;\n  }\n  return t;\n}\n",
     "for (const x of xs) {"),
    # ... but where the model writes the first lines of that body and then the code below goes
    # on with it (the model leaves the brace open: the code below closes it), those lines are new
    ("rust", "the-first-arm-of-a-match-the-code-below-goes-on-with",
     "fn f() {\n    ", 'let arch = match env::var("A") {\n        Err(_) => return,',
     '\n        Ok(arch) => arch,\n    };\n    g(arch);\n}\n',
     'let arch = match env::var("A") {\n        Err(_) => return,'),
    ("c", "the-first-lines-of-the-body-up-to-a-copy-of-the-code-below",
     "int f(int n) {\n    int t = 0;\n    ", "for (int i = 0; i < n; i++) {\n        t += 1;\n        t += i;\n    }\n",
     "\n        t += i;\n    }\n    return t;\n}\n",
     "for (int i = 0; i < n; i++) {\n        t += 1;"),
    ("c", "a-first-body-line-that-opens-a-call-over-lines",
     "int f(int n) {\n    int t = 0;\n    ", "if (n > 0) {\n        t = g(n,\n              1);\n",
     "\n        t += n;\n    }\n    return t;\n}\n",
     "if (n > 0) {\n        t = g(n,\n              1);"),
    ("java", "a-braced-block-with-a-body-of-its-own-is-still-cut-to-the-header",
     "class A {\n    int f(int n) {\n        int t = 0;\n        ",
     "for (int i = 0; i < n; i++) {\n            t += 2 * i;\n        }\n        return t;",
     "\n            t += i;\n        return t;\n    }\n}\n",
     "for (int i = 0; i < n; i++)"),
    # the code below has errors of its own (macros tree-sitter cannot read), which the recovery
    # merges into one ERROR node while a bracket at the cursor is open: the answer that closes it
    # has more error nodes than the hole, but none where the hole had none
    ("cpp", "an-answer-where-the-code-below-has-errors-of-its-own",
     CUDA_PREFIX, ")&a, 1);", CUDA_SUFFIX, ")&a, 1);"),
    ("cpp", "a-broken-answer-there-is-still-refused",
     CUDA_PREFIX, ")&a, 1;", CUDA_SUFFIX, ""),
    ("cpp", "a-broken-line-after-the-answer-there-is-cut",
     CUDA_PREFIX, ")&a, 1);\n    x = ;", CUDA_SUFFIX, ")&a, 1);"),
    ("c", "a-header-above-code-at-its-own-level-is-still-refused",
     "int f(FILE *in) {\n    for (;;) {\n        int done = fread(b, 1, 8, in);\n        ", "if (done < 8)\n",
     "\n        break;\n    }\n    return 0;\n}\n",
     ""),
    ("go", "a-braced-if-is-kept-whole",
     "func f(n int) int {\n\ts := 0\n\t", "s = g(n)\n\tif s > 0 {\n\t\ts++\n\t}\n",
     "\n\treturn s\n}\n",
     "s = g(n)\n\tif s > 0 {\n\t\ts++\n\t}"),
    ("java", "closing-brace-the-code-below-already-has",
     "class A {\n  void m(int q) {\n    this.q = q;\n    ", "this.r = q;\n  }\n\n  void n() {\n  }\n",
     "\n  }\n" + "\n  int k() {\n    return 1;\n  }\n" * 12 + "}\n",  # the class's brace is beyond the parsed window
     "this.r = q;"),
    ("java", "one-line-if",
     "class A {\n  int m(int x) {\n    if (x > 0) ", "return 1;\n    return 0;\n  }\n}\n", "\n    return 0;\n  }\n}\n",
     "return 1;"),
]


@pytest.mark.parametrize(
    ("language", "prefix", "candidate", "suffix", "expected"),
    [pytest.param(*row[:1], *row[2:], id=f"{row[0]}-{row[1]}") for row in CASES],
)
def test_truncate(language: str, prefix: str, candidate: str, suffix: str, expected: str) -> None:
    gate = gate_at(language, prefix, suffix)
    assert gate.complete, gate.reason
    assert truncate(language, prefix, candidate, suffix, gate) == expected


@pytest.mark.parametrize(
    ("language", "prefix", "candidate", "suffix", "expected"),
    [pytest.param(*row[:1], *row[2:], id=f"{row[0]}-{row[1]}") for row in CASES],
)
def test_stop_checker_never_stops_before_the_cut(
    language: str, prefix: str, candidate: str, suffix: str, expected: str
) -> None:
    """Feeding the output char by char: where the checker stops, truncating what was
    generated so far gives the same text as truncating everything."""
    gate = gate_at(language, prefix, suffix)
    checker = StopChecker(language, prefix, suffix, gate)
    for i in range(1, len(candidate) + 1):
        if checker.feed(candidate[:i]):
            assert truncate(language, prefix, candidate[:i], suffix, gate) == expected
            return
    assert truncate(language, prefix, candidate, suffix, gate) == expected


STOPS = [
    # (language, name, prefix, suffix, output so far, stop?)
    ("python", "line-newline", "x = ", "\n", "1\n", True),
    ("python", "line-no-newline-yet", "x = ", "\n", "1 + ", False),
    ("python", "line-open-bracket-goes-on", "x = f", "\n", "oo(\n", False),
    ("python", "line-bracket-closed", "x = f", "\n", "oo(\n    1,\n)\n", True),
    ("python", "block-dedent", "def f():\n", "\n", "    return 1\ndef", True),
    ("python", "block-still-inside", "def f():\n", "\n", "    x = 1\n    ", False),
    ("javascript", "block-closed", "function f() {", "\n", "\n  return 1;\n}\n", True),
    ("javascript", "block-closing-line-unfinished", "function f() {", "\n", "\n  return 1;\n}", False),
    ("go", "expression-closed", "package main\nfunc f() {\n\tg(", ")\n}\n", "a, b)\n", True),
    ("rust", "max-lines", "fn f() {\n    let v = vec![", "];\n}\n", "1,\n" * 8, True),
    ("c", "repeats-next-line", "int f() {\n", "\n}\n", "    x++;\n}\n", True),
    ("c", "block-body-going-on", "int f() {\n", "\n}\n", "    x++;\n", False),
    # an empty line in a body gets several statements: the next one does not end it, the repeat
    # of the suffix's next lines (or the closing brace) does
    ("c", "statement-goes-on-at-next-statement", "int f() {\n    int x = 1;\n", "\n    return x;\n}\n",
     "    x++;\n    ret", False),
    ("c", "statement-done-at-repeat-of-next-lines", "int f() {\n    int x = 1;\n", "\n    return x;\n}\n",
     "    x++;\n    return x;\n}\n", True),
    ("c", "statement-done-at-closing-brace", "int f() {\n    int x = 1;\n", "\n    return x;\n}\n",
     "    x++;\n}\n", True),
    ("python", "repeat-of-next-line-waits-for-the-line-after", "def f(x):\n", "\n    y = 1\n    return y\n",
     "    x += 1\n    y = 1\n", False),
    ("python", "repeat-of-next-two-lines", "def f(x):\n", "\n    y = 1\n    return y\n",
     "    x += 1\n    y = 1\n    return y\n", True),
    ("python", "module-level-next-definition", "import os\n", "\n\nprint(1)\n", "def f():\n    pass\ndef g", True),
    ("python", "partial-line-may-become-else", "def f(x):\n    if x:\n", "\n", "        y = 1\n    el", False),
    ("python", "partial-line-is-no-continuation", "def f(x):\n    def g():\n", "\n", "        y = 1\n    ret", True),
    ("c", "statement-not-yet-done", "int f() {\n    int x = 1;\n", "\n    return x;\n}\n", "    if (x)\n", False),
]


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "so_far", "stop"),
    [pytest.param(row[0], *row[2:], id=f"{row[0]}-{row[1]}") for row in STOPS],
)
def test_stop_checker(language: str, prefix: str, suffix: str, so_far: str, stop: bool) -> None:
    checker = StopChecker(language, prefix, suffix, gate_at(language, prefix, suffix))
    assert checker.feed(so_far) is stop


def test_gate_says_no() -> None:
    gate = Gate(False, "line", 0, "inside an identifier")
    assert truncate("python", "x = fo", "o", "o\n", gate) == ""
    assert StopChecker("python", "x = fo", "o\n", gate).feed("") is True


def test_unknown_language_cuts_by_scope_only() -> None:
    gate = Gate(True, "line", 1, "rest of the line")
    assert truncate(None, "x = ", "1 + 2\ny = 3\n", "\n", gate) == "1 + 2"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("a\u202eb\u2066c\u2069", "abc", id="bidi"),
        pytest.param("a\u200bb\u200dc\ufeff", "abc", id="zero-width"),
        pytest.param("a\x00b\x1bc\x7f\x85", "abc", id="controls"),
        pytest.param("a\tb\r\nc\n", "a\tb\r\nc\n", id="keeps-tab-cr-lf"),
        pytest.param("naïve ✓ 名前", "naïve ✓ 名前", id="keeps-unicode"),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize(
    ("candidate", "expected_tail"),
    [
        pytest.param("".join(f"        v{i} = xs[{i}]\n" for i in range(20)) + "        return v0\n\n"
                     "    def extra(self):\n        pass\n", "        return v0", id="fits"),
        pytest.param("".join(f"        v{i} = xs[{i}\n" for i in range(24)), "", id="worst-nothing-fits"),
    ],
)
def test_large_file(candidate: str, expected_tail: str) -> None:
    """truncate on a 2,000-line file (a class of 250 methods, so no column-0 line near the
    cursor) gives the right cut. Its cost (about 15 ms here when every cut is parsed and
    rejected) is measured by `python -m benchmarks.truncation_cost`, not asserted here."""
    body = "".join(f"    def f{i}(self, x):\n        y = x + {i}\n        return y\n\n" for i in range(250))
    prefix = "class Big:\n" + body + "    def target(self, xs):\n"
    suffix = "\n\n" + body
    gate = gate_at("python", prefix, suffix)
    out = truncate("python", prefix, candidate, suffix, gate)
    assert out.endswith(expected_tail) and (out.count("\n") == 20 if expected_tail else out == "")


# A model that hit its token limit (`overran`): one statement at most; a block's header alone when
# the code below is its body; the gate's scope when no single statement fits. Each row: prefix,
# candidate, suffix, expected with overran=True, expected as the model's own stop would give it.
OVERRAN = [
    ("python", "runs-on-into-the-next-statements",
     "def f(xs):\n    total = 0\n", "    count = 0\n    for x in xs:\n        total += x\n    return total\n\nprint(f([1]))\n",
     "\n    for x in xs:\n        total += x\n    return total\n",
     "    count = 0", "    count = 0"),
    ("python", "header-whose-body-is-below",
     "def f(x):\n    y = 0\n", "    if x > 2:\n        y = 1\n    elif x > 0:\n        y = 2\n    return y\n",
     "\n        y = 1\n    return y\n",
     "    if x > 2:", "    if x > 2:\n        y = 1\n    elif x > 0:\n        y = 2"),
    ("python", "statements-then-the-header-of-the-body-below",
     "def f(s):\n", "    depth = 0\n    for c in s:\n        if c == '(':\n            depth += 1\n            x = 2\n",
     "\n            depth += 1\n    return depth\n",
     "    depth = 0\n    for c in s:\n        if c == '(':", "    depth = 0\n    for c in s:\n        if c == '(':\n            depth += 1\n            x = 2"),
    ("python", "body-before-an-elif-the-code-below-has",
     "def f(g):\n    if g > 3:\n", "        r = 'A'\n    elif g > 2:\n        r = 'B'\n    elif g > 1:\n",
     "\n    elif g > 1:\n        r = 'C'\n    return r\n",
     "        r = 'A'", "        r = 'A'\n    elif g > 2:\n        r = 'B'"),
    ("java", "brace-header-whose-body-is-below",
     "class A {\n  void m(int q) {\n    int r = 0;\n", "    if (q > 0) {\n      r = q;\n      log(r);\n",
     "\n      r = q;\n    }\n    return;\n  }\n}\n",
     # a model that ends by itself gets the same: in a brace language the parse does not see the
     # code below's lines written twice (inside the new block, then as they were)
     "    if (q > 0) {", "    if (q > 0) {"),
    ("c", "c-runs-on",
     "int f(int n) {\n    int s = 0;\n", "    int k = 1;\n    for (int i = 0; i < n; i++) {\n        s += i;\n    }\n    return s;\n}\n",
     "\n    return s;\n}\n",
     "    int k = 1;", "    int k = 1;\n    for (int i = 0; i < n; i++) {\n        s += i;\n    }"),
]


@pytest.mark.parametrize(
    ("language", "prefix", "candidate", "suffix", "narrow", "wide"),
    [pytest.param(*row[:1], *row[2:], id=row[1]) for row in OVERRAN],
)
def test_truncate_when_the_model_overran(language: str, prefix: str, candidate: str, suffix: str, narrow: str, wide: str) -> None:
    gate = gate_at(language, prefix, suffix)
    assert truncate(language, prefix, candidate, suffix, gate, overran=True) == narrow
    assert truncate(language, prefix, candidate, suffix, gate) == wide


@pytest.mark.parametrize(
    ("language", "prefix", "candidate", "suffix", "narrow", "wide"),
    [pytest.param(*row[:1], *row[2:], id=row[1]) for row in OVERRAN],
)
def test_overran_stop_checker_stops_at_the_one_statement_cut(
    language: str, prefix: str, candidate: str, suffix: str, narrow: str, wide: str
) -> None:
    """The stop check for a model that runs on (a followed job's): where it stops, the one-statement
    cut of what was generated so far is the same as that of everything, and it does stop before
    the end when the candidate goes on past that statement."""
    gate = gate_at(language, prefix, suffix)
    checker = StopChecker(language, prefix, suffix, gate, overran=True)
    for i in range(1, len(candidate) + 1):
        if checker.feed(candidate[:i]):
            assert truncate(language, prefix, candidate[:i], suffix, gate, overran=True) == narrow
            return
    assert narrow == wide, "never stopped although the candidate goes on past the statement"


@pytest.mark.parametrize(
    "text, kept",
    [
        ("a = 1\nb()\nb()\nb()\n", "a = 1\nb()"),
        ("a = 1\nb()\nb()\n", None),  # twice is no loop
        ("f(1);\ng(2);\nf(1);\ng(2);\nf(1);\ng(2);\nf(1", "f(1);\ng(2);"),
        ("    x.next()\n        x.next()\n  x.next()\n", "    x.next()"),  # indentation aside
        ("g();\n}\n}\n}\n", None),  # closing braces
        ("end\nend\nend\n", None),  # a lone keyword
        ("b()\nb()\nb()", None),  # the last line may still grow
    ],
)
def test_loop_end(text, kept):
    end = loop_end(text)
    assert (text[:end] if end is not None else None) == kept
