"""What a completion at a cursor sees of the rest of the workspace (`workspace.usage`,
`workspace.similar`, `workspace.select`): names in scope, resolved definitions, skeletons,
similar windows of recent files and of the workspace, the budget, and a stable order."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server.syntax.languages import new_parser
from lsp_server.workspace.index import WorkspaceIndex
from lsp_server.workspace.search import SearchIndex, index_root
from lsp_server.workspace.select import _one_line, estimate_tokens, select_context
from lsp_server.workspace.similar import best_windows, jaccard
from lsp_server.workspace.usage import blank_code, usage_at

CURSOR = "‸"


def _at(text: str) -> tuple[str, int]:
    return text.replace(CURSOR, ""), text.index(CURSOR)


# -- usage -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "text", "typed", "receiver", "some_names", "instances"),
    [
        ("python", "import u\n\ndef f(req):\n    # u.hidden\n    x = Shape(req)\n    y: Db = conn()\n    u.run(x)\n    x.ar‸\n",
         "ar", "x", {"u.run", "Shape", "req", "x", "Db"}, {("x", "Shape"), ("y", "Db")}),
        ("typescript", "function f() {\n  const s = new Store();\n  s.ge‸\n}\n", "ge", "s", {"s", "Store"}, {("s", "Store")}),
        ("go", "func f() {\n\tp := &util.Point{}\n\tutil.Dist(p)\n\tp.‸\n}\n", "", "p", {"util.Dist", "util.Point"},
         {("p", "util.Point")}),
        ("java", "class A {\n  void f() {\n    Helper h = make();\n    h.‸\n  }\n}\n", "", "h", {"h", "make"}, {("h", "Helper")}),
        ("rust", "fn f() {\n    let v = net::tcp::connect();\n    v‸\n}\n", "v", "", {"net.tcp.connect"}, set()),
        ("c", "int f(void) {\n    point_t p;\n    p->x = add(1, 2);\n    ad‸\n}\n", "ad", "", {"add", "p.x"}, set()),
    ],
)
def test_usage(language, text, typed, receiver, some_names, instances) -> None:
    text, offset = _at(text)
    tree = new_parser(language).parse(text.encode())
    u = usage_at(text, offset, language, tree)
    assert (u.typed, u.receiver) == (typed, receiver)
    assert some_names <= set(u.names)
    assert instances <= set(u.instances)
    assert "hidden" not in " ".join(u.names)  # comments do not count


def test_usage_does_not_depend_on_where_in_the_scope_the_cursor_is() -> None:
    text = "def other():\n    pass\n\ndef f(a):\n    b = helper(a)\n    return b\n\ndef g():\n    pass\n"
    tree = new_parser("python").parse(text.encode())
    at = [usage_at(text, text.index(s), "python", tree) for s in ("b = helper", "helper(", "return b")]
    assert at[0].names == at[1].names == at[2].names and at[0].scope == at[2].scope
    assert "other" not in at[0].names and "g" not in at[0].names
    # no tree: from the column-0 line before to the next one
    no_tree = usage_at(text, text.index("return b"), "python", None)
    assert text[no_tree.scope[0]: no_tree.scope[1]] == "def f(a):\n    b = helper(a)\n    return b\n\n"


def test_blank_code() -> None:
    assert blank_code('x = "a.b"  # c.d\ny', "python") == "x = " + " " * 5 + "  " + " " * 5 + "\ny"


# -- similar windows ------------------------------------------------------------------------------
def test_similar_windows() -> None:
    assert jaccard(frozenset("ab"), frozenset("bc")) == 1 / 3
    near = "\n".join(["alpha beta gamma"] * 3)
    files = [("b.py", "unrelated words only\n" * 100 + near + "\n" + "more unrelated\n" * 100),
             ("a.py", near), ("c.py", "nothing alike")]
    found = best_windows("alpha beta gamma delta", files, top=4)
    assert [(w.path, w.start_line) for w in found] == [("a.py", 0), ("b.py", 100)]
    assert found[0].score == 0.75 and "alpha" in found[1].text
    assert best_windows("", files) == []


# -- selection over small projects ----------------------------------------------------------------
PY_PROJECT = {
    "pkg/__init__.py": "",
    "pkg/geometry.py": '''"""Geometry."""

def area(w, h):
    """The area of a w x h rectangle."""
    return w * h


def unused():
    pass


class Shape:
    """A shape."""
    sides: int = 0

    def __init__(self, name):
        self.name = name

    def perimeter(self):
        """Its perimeter."""
        return 0
''' + "".join(f"\n    def extra{i}(self):\n        return {i}\n" for i in range(20)),
    "pkg/util.py": "def helper(x):\n    return x\n\n\ndef hello():\n    pass\n\n\ndef help_more():\n    pass\n",
    "app.py": "",
}
APP = '''from pkg.geometry import area, Shape
from pkg import util


def first():
    return 1


def compute(s: Shape):
    total = area(2, 3)
    util.helper(total)
    ‸
    return total


def last():
    pass
'''


def _index(tmp_path: Path, files: dict[str, str]) -> WorkspaceIndex:
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    index = WorkspaceIndex()
    index.index_folder(tmp_path)
    return index


def _select(index, tmp_path, rel, text, language, budget=2000, **kwargs):
    text, offset = _at(text)
    tree = new_parser(language).parse(text.encode())
    return select_context(index, str(tmp_path / rel), text, offset, language, tree, budget=budget, **kwargs)


def test_python_definitions_and_skeletons(tmp_path: Path) -> None:
    index = _index(tmp_path, PY_PROJECT)
    ctx = _select(index, tmp_path, "app.py", APP, "python")
    assert ctx.path == "app.py"
    got = [(s.path, s.kind, s.text.splitlines()[0]) for s in ctx.snippets]
    assert got == [
        ("pkg/geometry.py", "definition", "def area(w, h):"),
        ("pkg/geometry.py", "skeleton", "class Shape:"),
        ("pkg/util.py", "definition", "def helper(x):"),
    ]
    skeleton = ctx.snippets[1].text
    # a long class: its header, docstring and members' signatures, not their bodies
    assert '    def perimeter(self):\n        """Its perimeter."""\n        ...' in skeleton
    assert "return 0" not in skeleton and "sides: int = 0" in skeleton
    assert ctx.snippets[0].text == 'def area(w, h):\n    """The area of a w x h rectangle."""\n    return w * h'
    assert "unused" not in "".join(s.text for s in ctx.snippets)
    assert ctx.tokens == sum(estimate_tokens()(f"{s.path}\n{s.text}\n") for s in ctx.snippets)


def test_the_typed_word_and_the_receiver_come_last(tmp_path: Path) -> None:
    index = _index(tmp_path, PY_PROJECT)
    typed = _select(index, tmp_path, "app.py", APP.replace("‸", "util.hel‸"), "python")
    assert [s.text.splitlines()[0] for s in typed.snippets][-2:] == ["def hello():", "def help_more():"]
    assert typed.snippets[-1].reason == "`util.hel` at the cursor"
    module = _select(index, tmp_path, "app.py", APP.replace("‸", "util.‸"), "python")
    assert module.snippets[-1].kind == "module" and "def hello():" in module.snippets[-1].text
    prefix = _select(index, tmp_path, "app.py", APP.replace("‸", "are‸"), "python")
    assert prefix.snippets[0].reason == "`area` is used here"  # also typed: it stays where the scope put it


def test_stable_across_cursor_moves_in_a_scope(tmp_path: Path) -> None:
    index = _index(tmp_path, PY_PROJECT)
    text = APP.replace("‸", "")
    tree = new_parser("python").parse(text.encode())
    start, end = text.index("def compute"), text.index("def last")
    results = {repr(select_context(index, str(tmp_path / "app.py"), text, offset, "python", tree, budget=2000))
               for offset in range(start + 20, end - 2) if text[offset - 1] in " \n(,"}
    assert len(results) == 1
    # another function sees other names
    other = select_context(index, str(tmp_path / "app.py"), text, text.index("return 1"), "python", tree, budget=2000)
    assert other.snippets == ()


def test_budget_keeps_the_best_and_counts_tokens(tmp_path: Path) -> None:
    index = _index(tmp_path, PY_PROJECT)
    full = _select(index, tmp_path, "app.py", APP, "python")
    words = _select(index, tmp_path, "app.py", APP, "python", budget=40, count_tokens=lambda s: len(s.split()))
    assert words.tokens <= 40 and 0 < len(words.snippets) < len(full.snippets)
    assert _select(index, tmp_path, "app.py", APP, "python", budget=5).snippets == ()


def test_similar_windows_of_recent_files_come_first(tmp_path: Path) -> None:
    index = _index(tmp_path, PY_PROJECT)
    recent_text = "def compute_other(s):\n    total = area(4, 5)\n    util.helper(total)\n    return total\n"
    text, _ = _at(APP)
    ctx = _select(index, tmp_path, "app.py", APP, "python",
                  recent=[(str(tmp_path / "app.py"), text), (str(tmp_path / "recent.py"), recent_text)])
    assert ctx.snippets[0].kind == "similar" and ctx.snippets[0].path == "recent.py"
    assert ctx.snippets[0].score < ctx.snippets[1].score
    assert all(s.path != "app.py" for s in ctx.snippets)


JS_PROJECT = {
    "src/store.ts": "/** A store. */\nexport class Store {\n  get(key: string): string { return key; }\n  put(key: string): void {}\n}\n",
    "src/math.ts": "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
    "src/index.ts": "export { add } from './math';\nexport * from './store';\n",
    "src/app.ts": "",
}
GO_PROJECT = {
    "go.mod": "module example.com/m\n",
    "geo/point.go": "package geo\n\n// Point is a point.\ntype Point struct {\n\tX, Y int\n}\n\n// Dist measures.\n"
                    "func (p Point) Dist(q Point) int {\n\treturn 0\n}\n\nfunc New() Point { return Point{} }\n",
    "main/main.go": "",
    "main/helpers.go": "package main\n\nfunc localHelper() int { return 1 }\n",
}
RUST_PROJECT = {
    "Cargo.toml": "[package]\nname = 'x'\n", "src/lib.rs": "mod net;\n", "src/net/mod.rs": "pub mod tcp;\n",
    "src/net/tcp.rs": "/// Connects.\npub fn connect(addr: &str) -> Conn { Conn {} }\n\npub struct Conn {}\n",
    "src/main.rs": "",
}
JAVA_PROJECT = {
    "src/main/java/com/ex/util/Helper.java": "package com.ex.util;\n\n/** Helps. */\npublic class Helper {\n"
                                             "  public int help(int x) { return x; }\n}\n",
    "src/main/java/com/ex/app/Other.java": "package com.ex.app;\nclass Other { static int more() { return 1; } }\n",
    "src/main/java/com/ex/app/App.java": "",
}
CJS_PROJECT = {
    "lib/relpath.js": "const { relative } = require('path')\nconst relpath = (a, b) => relative(a, b)\nmodule.exports = relpath\n",
    "lib/fetcher.js": "class FileFetcher {\n  manifest () { return 1 }\n}\nmodule.exports = FileFetcher\n",
    "lib/app.js": "",
}
C_PROJECT = {
    "include/geo.h": "/* A point. */\ntypedef struct point { int x; int y; } point_t;\n\n/* Adds. */\nint add(int a, int b);\n",
    "src/main.c": "",
    "compile_commands.json": '[{"directory": "DIR", "command": "cc -Iinclude -c src/main.c"}]',
}


@pytest.mark.parametrize(
    ("files", "rel", "language", "text", "expected"),
    [
        # TypeScript through a barrel file (index.ts re-exports), an instance's class skeleton
        (JS_PROJECT, "src/app.ts", "typescript",
         "import { add, Store } from './index';\n\nfunction f() {\n  const s = new Store();\n  const n = add(1, 2);\n  s.‸\n}\n",
         [("src/math.ts", "export function add(a: number, b: number): number {"), ("src/store.ts", "/** A store. */")]),
        # Go: the package folder from go.mod, a struct with its methods, the same package's other files
        (GO_PROJECT, "main/main.go", "go",
         'package main\n\nimport "example.com/m/geo"\n\nfunc main() {\n\tp := geo.New()\n\tlocalHelper()\n\tp‸\n}\n',
         [("geo/point.go", "func New() Point { return Point{} }"), ("main/helpers.go", "func localHelper() int { return 1 }")]),
        # JavaScript, CommonJS: a module used as the value it exports, the definition of its name there
        (CJS_PROJECT, "lib/app.js", "javascript",
         "const relpath = require('./relpath.js')\nconst FileFetcher = require('./fetcher.js')\n\nfunction f (a, b) {\n"
         "  const p = relpath(a, b)\n  return FileFetcher.prototype.manifest.apply(this)‸\n}\n",
         [("lib/fetcher.js", "class FileFetcher {"), ("lib/relpath.js", "const relpath = (a, b) => relative(a, b)")]),
        # C: the header through the include folder of compile_commands.json
        (C_PROJECT, "src/main.c", "c", '#include <geo.h>\n\nint main(void) {\n    point_t p;\n    return add(p.x, 1)‸;\n}\n',
         [("include/geo.h", "/* A point. */"), ("include/geo.h", "/* Adds. */")]),
        # Rust: `use crate::...` through `mod` files; an imported name the scope does not use (but
        # another function does) is left out
        (RUST_PROJECT, "src/main.rs", "rust", 'use crate::net::tcp::{connect, Conn};\n\nfn main() {\n    let c = connect("x");\n    c.‸\n}\n'
         'fn keep(c: Conn) {}\n',
         [("src/net/tcp.rs", "/// Connects.")]),
        # Java: an imported class, and a class of the same package
        (JAVA_PROJECT, "src/main/java/com/ex/app/App.java", "java",
         "package com.ex.app;\nimport com.ex.util.Helper;\n\nclass App {\n  void f() {\n    Helper h = new Helper();\n"
         "    Other.more();\n    h.‸\n  }\n}\n",
         [("src/main/java/com/ex/app/Other.java", "class Other { static int more() { return 1; } }"),
          ("src/main/java/com/ex/util/Helper.java", "/** Helps. */")]),
    ],
)
def test_other_languages(tmp_path: Path, files, rel, language, text, expected) -> None:
    files = {k: v.replace("DIR", str(tmp_path)) for k, v in files.items()}
    index = _index(tmp_path, files)
    ctx = _select(index, tmp_path, rel, text, language)
    assert [(s.path, s.text.splitlines()[0]) for s in ctx.snippets] == expected


@pytest.mark.parametrize(
    ("files", "rel", "language", "text", "expected"),
    [
        # Python: `helper` is imported and used nowhere yet (the line being written is its first
        # use): it comes, after what the scope uses; `hello` is used in another function: not here
        (PY_PROJECT, "app.py", "python",
         "from pkg.geometry import area\nfrom pkg.util import helper, hello\n\n\ndef f():\n    hello()\n\n\n"
         "def g(w):\n    a = area(w, w)\n    ‸\n",
         [("pkg/geometry.py", "def area(w, h):", "`area` is used here"),
          ("pkg/util.py", "def helper(x):", "`helper` is imported and not used yet")]),
        # TypeScript: an imported class no code uses yet; a name mentioned twice is "used"
        (JS_PROJECT, "src/app.ts", "typescript",
         "import { add, Store } from './index';\n\nfunction f() {\n  ‸\n}\n",
         [("src/math.ts", "export function add(a: number, b: number): number {", "`add` is imported and not used yet"),
          ("src/store.ts", "/** A store. */", "`Store` is imported and not used yet")]),
        # CommonJS: a required module whose value is not used yet
        (CJS_PROJECT, "lib/app.js", "javascript", "const relpath = require('./relpath.js')\n\nfunction f (a, b) {\n  ‸\n}\n",
         [("lib/relpath.js", "const relpath = (a, b) => relative(a, b)", "`relpath` is imported and not used yet")]),
        # nothing imported is unused: nothing more
        (PY_PROJECT, "app.py", "python", "from pkg.util import helper\n\n\ndef f():\n    return helper(1)\n\n\ndef g():\n    ‸\n", []),
    ],
)
def test_imported_names_not_used_yet(tmp_path: Path, files, rel, language, text, expected) -> None:
    index = _index(tmp_path, files)
    ctx = _select(index, tmp_path, rel, text, language)
    assert [(s.path, s.text.splitlines()[0], s.reason) for s in ctx.snippets] == expected
    used = [s.score for s in ctx.snippets if "is used here" in s.reason]
    assert all(u > s.score for u in used for s in ctx.snippets if "not used yet" in s.reason)


@pytest.mark.parametrize(
    ("language", "files", "rel", "text", "expected"),
    [
        ("python", PY_PROJECT, "app.py",
         "from pkg.geometry import Shape\n\n\nclass Square(Shape):\n    def grow(self):\n        self.‸\n", "class Shape:"),
        ("typescript", JS_PROJECT, "src/app.ts",
         "import { Store } from './store';\n\nclass Cache extends Store {\n  run() {\n    this.‸\n  }\n}\n", "/** A store. */"),
    ],
)
def test_self_in_a_method_gets_the_imported_base_class(tmp_path: Path, language, files, rel, text, expected) -> None:
    index = _index(tmp_path, files)
    ctx = _select(index, tmp_path, rel, text, language)
    assert [(s.kind, s.text.splitlines()[0]) for s in ctx.snippets] == [("skeleton", expected)]
    assert "Shape" in ctx.snippets[0].reason or "Store" in ctx.snippets[0].reason


def test_go_struct_skeleton_lists_its_methods(tmp_path: Path) -> None:
    index = _index(tmp_path, GO_PROJECT)
    text = 'package main\n\nimport "example.com/m/geo"\n\nfunc main() {\n\tvar p geo.Point\n\tp.‸\n}\n'
    ctx = _select(index, tmp_path, "main/main.go", text, "go")
    skeleton = next(s.text for s in ctx.snippets if s.kind == "skeleton")
    assert skeleton.startswith("// Point is a point.\ntype Point struct {\n\tX, Y int\n}")


def test_a_file_outside_the_workspace_gets_only_similar_windows(tmp_path: Path) -> None:
    index = _index(tmp_path / "ws", PY_PROJECT)
    ctx = _select(index, tmp_path, "elsewhere.py", APP, "python")
    assert ctx.path == "elsewhere.py" and ctx.snippets == ()


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("def f(a, b):", "def f(a, b):"),
        ("def f(\n    a,\n    b,\n):", "def f(a, b):"),  # a parameter list over several lines
        ("@property\ndef f(self):", "@property\ndef f(self):"),  # a decorator keeps its line
        ("@cache(\n    size=1)\ndef f(\n        x: list[\n            int]):", "@cache(size=1)\ndef f(x: list[int]):"),
        ("  pipe<A>(\n    op1: OperatorFunction<T, A>\n  ): Observable<A>", "  pipe<A>(op1: OperatorFunction<T, A>): Observable<A>"),
        ("void *\nxalloc(size_t size);", "void *\nxalloc(size_t size);"),
    ],
)
def test_one_line(signature, expected) -> None:
    assert _one_line(signature) == expected


def test_a_skeleton_shows_one_of_a_members_overloads_on_one_line(tmp_path: Path) -> None:
    overloads = "".join(f"  pipe<A{i}>(\n    op{i}: Op<T, A{i}>,\n  ): Obs<A{i}>;\n" for i in range(12))
    files = {"src/obs.ts": "export class Obs<T> {\n" + overloads + "  pipe(...ops: Op[]): Obs<any> {\n    return this;\n  }\n"
                           + "".join(f"  m{i}(): void {{}}\n" for i in range(20)) + "}\n",
             "src/app.ts": ""}
    index = _index(tmp_path, files)
    ctx = _select(index, tmp_path, "src/app.ts", "import { Obs } from './obs';\n\nfunction f(o: Obs<number>) {\n  o.‸\n}\n",
                  "typescript")
    skeleton = next(s.text for s in ctx.snippets if s.kind == "skeleton").splitlines()
    assert skeleton[:2] == ["export class Obs<T> {", "  pipe<A0>(op0: Op<T, A0>): Obs<A0>"]
    assert sum("pipe" in line for line in skeleton) == 1 and len(skeleton) == 2 + 20 + 1


def test_a_name_mentioned_only_in_comments_or_strings_is_not_used_yet(tmp_path: Path) -> None:
    index = _index(tmp_path, JS_PROJECT)
    text = ("import { add } from './math';\n\n/** Use `add` like this: add(1, 2) */\nfunction f() {\n"
            "  const s = 'add';\n  ‸\n}\n")
    ctx = _select(index, tmp_path, "src/app.ts", text, "typescript")
    assert [(s.path, s.reason) for s in ctx.snippets] == [("src/math.ts", "`add` is imported and not used yet")]


def test_an_included_headers_declarations_come_when_none_is_used_yet(tmp_path: Path) -> None:
    files = {k: v.replace("DIR", str(tmp_path)) for k, v in C_PROJECT.items()}
    files["include/io.h"] = "void *\nxalloc(size_t size);\n\nint\nwrite_data(FILE *f, size_t size, const void *data);\n"
    index = _index(tmp_path, files)
    text = '#include <geo.h>\n#include "../include/io.h"\n\nint main(void) {\n    char *b = xalloc(8);\n    ‸\n}\n'
    ctx = _select(index, tmp_path, "src/main.c", text, "c")
    by_path = {(s.path, s.kind): s for s in ctx.snippets}
    # io.h: xalloc is used (its definition), write_data not yet: the rest of the header's outline
    assert by_path[("include/io.h", "definition")].text == "void *\nxalloc(size_t size);"
    assert by_path[("include/io.h", "module")].text == "int\nwrite_data(FILE *f, size_t size, const void *data);"
    assert by_path[("include/geo.h", "module")].reason == "`include/geo.h` is included"
    assert by_path[("include/io.h", "module")].score < by_path[("include/io.h", "definition")].score


# -- windows of the workspace like the scope ------------------------------------------------------
def _searched(index: WorkspaceIndex) -> SearchIndex:
    search = SearchIndex()
    index_root(search, index.roots()[0], 1000, 1_000_000)
    return search


def _main(name: str, lines: int = 20) -> str:
    body = "".join(f"    step_{i}(input, {i});\n" for i in range(lines))
    return (f'#include "io.h"\n\nint {name}(int argc, char **argv)\n{{\n    char *input = xalloc (CHUNK);\n{body}'
            f'    if (!write_data (stdout, encoded_bytes, result))\n      return 1;\n    return 0;\n}}\n')


C_SIBLINGS = {
    "io.h": "void *\nxalloc(size_t size);\n\nint\nwrite_data(FILE *f, size_t size, const void *data);\n",
    "enc.c": _main("main", lines=4),
    "dec.c": _main("main", lines=4),  # on disk whole; the document open in the editor is cut at the hole
    "other.c": "double\nhypotenuse(double a, double b)\n{\n    return sqrt(a * a + b * b);\n}\n",
}
DEC = _main("main", lines=4).replace("    if (!write_data (stdout, encoded_bytes, result))\n", "    if (!‸\n")


def test_windows_of_the_workspace_show_how_the_project_calls_its_apis(tmp_path: Path) -> None:
    index = _index(tmp_path, C_SIBLINGS)
    ctx = _select(index, tmp_path, "dec.c", DEC, "c", search=_searched(index))
    windows = [s for s in ctx.snippets if s.kind == "similar"]
    assert [w.path for w in windows] == ["enc.c"]  # never the file itself, nor one that is not alike
    w = windows[0]
    assert "write_data (stdout, encoded_bytes, result)" in w.text  # what the line being written may be
    assert w.reason.startswith("similar to the scope (jaccard ") and w.reason.endswith(", in the workspace")
    assert w.text == "\n".join(C_SIBLINGS["enc.c"].splitlines()[w.start_line: w.start_line + 12])
    assert ctx.snippets[0] == w  # windows come first in the prompt, and are ranked below every definition
    assert all(w.score < s.score for s in ctx.snippets if s.kind != "similar")
    # without the search (or with nothing like the scope): only what the imports lead to
    assert all(s.kind != "similar" for s in _select(index, tmp_path, "dec.c", DEC, "c").snippets)
    lonely = _select(index, tmp_path, "dec.c", "int f(void)\n{\n    ‸\n}\n", "c", search=_searched(index))
    assert all(s.kind != "similar" for s in lonely.snippets)


def test_workspace_windows_are_few_apart_and_stable_in_a_scope(tmp_path: Path) -> None:
    files = dict(C_SIBLINGS) | {f"enc{i}.c": _main(f"main{i}", lines=40) for i in range(6)}
    index = _index(tmp_path, files)
    search = _searched(index)
    text, _ = _at(DEC)
    tree = new_parser("c").parse(text.encode())
    start, end = text.index("{\n"), text.rindex("}")
    results = {select_context(index, str(tmp_path / "dec.c"), text, offset, "c", tree, budget=4000, search=search)
               for offset in range(start + 2, end) if text[offset - 1] in " \n(,"}
    assert len(results) == 1
    windows = [s for s in results.pop().snippets if s.kind == "similar"]
    assert len(windows) == 3 and all(len(w.text.splitlines()) <= 12 for w in windows)
    spans = [(w.path, w.start_line, w.start_line + 11) for w in windows]
    assert not any(a != b and a[0] == b[0] and a[1] <= b[2] and b[1] <= a[2] for a in spans for b in spans)


def test_a_workspace_window_does_not_repeat_a_definition_shown(tmp_path: Path) -> None:
    files = {"util.py": "def helper(data, size):\n" + "".join(f"    data = data + {i}\n" for i in range(6))
             + "    return data\n", "app.py": ""}
    index = _index(tmp_path, files)
    text = "from util import helper\n\n\ndef run(data, size):\n    data = data + 1\n    ‸\n"
    ctx = _select(index, tmp_path, "app.py", text, "python", search=_searched(index))
    assert [(s.path, s.kind) for s in ctx.snippets] == [("util.py", "definition")]


def test_a_file_changed_since_its_passages_were_read_gives_no_window(tmp_path: Path) -> None:
    index = _index(tmp_path, C_SIBLINGS)
    search = _searched(index)
    (tmp_path / "enc.c").write_text("int main(void)\n{\n}\n")  # shorter: its passages point past the end
    ctx = _select(index, tmp_path, "dec.c", DEC, "c", search=search)
    assert all(s.kind != "similar" for s in ctx.snippets)
