"""Where imports lead inside the workspace (`workspace.resolve`) and the project facts the
resolvers use (`workspace.project`)."""

from __future__ import annotations

import json

import pytest

from lsp_server.workspace.fileset import FileSet
from lsp_server.workspace.model import Import
from lsp_server.workspace.project import Project, go_module, include_dirs, ts_paths
from lsp_server.workspace.resolve import Binding, implicit, resolve

W = ("*", "*")
PY_FILES = ["app/main.py", "app/__init__.py", "app/util.py", "app/sub/__init__.py", "app/sub/deep.py",
            "src/lib/__init__.py", "src/lib/core.py", "top.py", "stubs/only.pyi", "ns/mod.py"]
JS_FILES = ["src/app.ts", "src/util.ts", "src/comp/index.tsx", "src/old.js", "src/esm.mts", "lib/a.js",
            "src/types.d.ts", "src/shared/x.ts"]
GO_FILES = ["go.mod", "cmd/main.go", "pkg/util/util.go", "pkg/util/more.go", "pkg/util/util_test.go",
            "v2/pkg/x.go"]
C_FILES = ["src/main.c", "src/local.h", "include/api/api.h", "top.h", "third/vendor.h"]
RUST_FILES = ["Cargo.toml", "src/lib.rs", "src/net/mod.rs", "src/net/tcp.rs", "src/util.rs", "src/util/fmt.rs"]
JAVA_FILES = ["src/main/java/com/ex/app/App.java", "src/main/java/com/ex/app/Other.java",
              "src/main/java/com/ex/util/Helper.java", "src/main/java/com/ex/util/Math.java"]


@pytest.mark.parametrize(
    ("language", "files", "project", "importer", "imp", "expected"),
    [
        # Python: absolute from the root and from src/, packages, submodules, relative
        ("python", PY_FILES, Project(), "app/main.py", Import("app.util", alias="app.util"),
         [Binding("app.util", ("app/util.py",))]),
        ("python", PY_FILES, Project(), "app/main.py", Import("app", (("util", "u"),)), [Binding("u", ("app/util.py",))]),
        ("python", PY_FILES, Project(), "app/main.py", Import("app.util", (("helper", "h"),)),
         [Binding("h", ("app/util.py",), "helper")]),
        ("python", PY_FILES, Project(), "app/main.py", Import("app.sub", (("thing", "thing"),)),
         [Binding("thing", ("app/sub/__init__.py",), "thing")]),
        ("python", PY_FILES, Project(), "app/main.py", Import("lib.core", (("run", "run"),)),
         [Binding("run", ("src/lib/core.py",), "run")]),
        ("python", PY_FILES, Project(), "app/main.py", Import(".", (("util", "util"),)), [Binding("util", ("app/util.py",))]),
        ("python", PY_FILES, Project(), "app/main.py", Import(".sub.deep", (("f", "f"),)),
         [Binding("f", ("app/sub/deep.py",), "f")]),
        ("python", PY_FILES, Project(), "app/sub/deep.py", Import("..util", (("f", "g"),)), [Binding("g", ("app/util.py",), "f")]),
        ("python", PY_FILES, Project(), "app/sub/deep.py", Import("..", (("util", "util"),)), [Binding("util", ("app/util.py",))]),
        ("python", PY_FILES, Project(), "app/main.py", Import("app.util", (W,)), [Binding("*", ("app/util.py",))]),
        ("python", PY_FILES, Project(python_roots=("", "stubs")), "top.py", Import("only", alias="only"),
         [Binding("only", ("stubs/only.pyi",))]),
        # a namespace package (no __init__.py): its modules are found
        ("python", PY_FILES, Project(), "top.py", Import("ns", (("mod", "mod"),)), [Binding("mod", ("ns/mod.py",))]),
        # the standard library, a dependency, a relative import above the root: nothing
        ("python", PY_FILES, Project(), "app/main.py", Import("os", alias="os"), []),
        ("python", PY_FILES, Project(), "top.py", Import("..x", (("y", "y"),)), []),
        # JS/TS: extensions, index files, compiled-name imports, tsconfig paths and baseUrl
        ("typescript", JS_FILES, Project(), "src/app.ts", Import("./util", (("f", "f"),)), [Binding("f", ("src/util.ts",), "f")]),
        ("typescript", JS_FILES, Project(), "src/app.ts", Import("./util.js", alias="u"), [Binding("u", ("src/util.ts",))]),
        ("typescript", JS_FILES, Project(), "src/app.ts", Import("./comp", (("default", "Comp"),)),
         [Binding("Comp", ("src/comp/index.tsx",), "default")]),
        ("typescript", JS_FILES, Project(), "src/app.ts", Import("./esm.mjs", alias="e"), [Binding("e", ("src/esm.mts",))]),
        ("typescript", JS_FILES, Project(), "src/app.ts", Import("./types", (("T", "T"),)), [Binding("T", ("src/types.d.ts",), "T")]),
        ("javascript", JS_FILES, Project(), "src/app.ts", Import("../lib/a", (("a", "a"),)), [Binding("a", ("lib/a.js",), "a")]),
        ("typescript", JS_FILES, Project(ts_base="src", ts_paths=(("@/*", ("shared/*",)),)), "src/app.ts",
         Import("@/x", (("x", "x"),)), [Binding("x", ("src/shared/x.ts",), "x")]),
        ("typescript", JS_FILES, Project(ts_base="src"), "src/comp/index.tsx", Import("util", (("f", "f"),)),
         [Binding("f", ("src/util.ts",), "f")]),
        ("typescript", JS_FILES, Project(), "src/app.ts", Import("react", (("useState", "useState"),)), []),
        ("typescript", JS_FILES, Project(), "src/app.ts", Import("./util", (("f", "f"),), kind="reexport"), []),
        # Go: the module path from go.mod, the package folder's non-test files, /vN suffixes
        ("go", GO_FILES, Project(go_modules=(("", "example.com/m"),)), "cmd/main.go", Import("example.com/m/pkg/util"),
         [Binding("util", ("pkg/util/more.go", "pkg/util/util.go"))]),
        ("go", GO_FILES, Project(go_modules=(("", "example.com/m"),)), "cmd/main.go", Import("example.com/m/pkg/util", alias="u"),
         [Binding("u", ("pkg/util/more.go", "pkg/util/util.go"))]),
        ("go", GO_FILES, Project(go_modules=(("", "example.com/m"),)), "cmd/main.go", Import("example.com/m/pkg/util", (W,)),
         [Binding("*", ("pkg/util/more.go", "pkg/util/util.go"))]),
        ("go", GO_FILES, Project(go_modules=(("v2", "example.com/m/v2"), ("", "example.com/m"))), "cmd/main.go",
         Import("example.com/m/v2/pkg"), [Binding("pkg", ("v2/pkg/x.go",))]),
        ("go", GO_FILES, Project(go_modules=(("", "example.com/m"),)), "cmd/main.go", Import("fmt"), []),
        # C/C++: next to the file, the include folders of compile_commands.json, the root; <> only the include folders
        ("c", C_FILES, Project(), "src/main.c", Import("local.h", (W,), kind="include"), [Binding("*", ("src/local.h",))]),
        ("c", C_FILES, Project(include_dirs=("include",)), "src/main.c", Import("api/api.h", (W,), kind="include"),
         [Binding("*", ("include/api/api.h",))]),
        ("c", C_FILES, Project(include_dirs=("include",)), "src/main.c", Import("<api/api.h>", (W,), kind="include"),
         [Binding("*", ("include/api/api.h",))]),
        ("c", C_FILES, Project(), "src/main.c", Import("top.h", (W,), kind="include"), [Binding("*", ("top.h",))]),
        ("c", C_FILES, Project(), "src/main.c", Import("<top.h>", (W,), kind="include"), []),
        ("cpp", C_FILES, Project(), "src/main.c", Import("<vector>", (W,), kind="include"), []),
        # Rust: mod x; (file or folder), crate:: paths to modules and items, super::, self::
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/lib.rs", Import("net", alias="net", kind="mod"),
         [Binding("net", ("src/net/mod.rs",))]),
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/net/mod.rs", Import("tcp", alias="tcp", kind="mod"),
         [Binding("tcp", ("src/net/tcp.rs",))]),
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/util.rs", Import("fmt", alias="fmt", kind="mod"),
         [Binding("fmt", ("src/util/fmt.rs",))]),
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/lib.rs", Import("crate::net::tcp", (("connect", "connect"),)),
         [Binding("connect", ("src/net/tcp.rs",), "connect")]),
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/lib.rs", Import("crate::net", (("tcp", "t"),)),
         [Binding("t", ("src/net/tcp.rs",))]),
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/net/tcp.rs", Import("super", (("Thing", "Thing"),)),
         [Binding("Thing", ("src/net/mod.rs",), "Thing")]),
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/net/tcp.rs", Import("crate::util", (W,)),
         [Binding("*", ("src/util.rs",))]),
        ("rust", RUST_FILES, Project(rust_crates=("",)), "src/lib.rs", Import("std::collections", (("HashMap", "HashMap"),)), []),
        # Java: package folders under any source root, classes, static members, wildcards
        ("java", JAVA_FILES, Project(), "src/main/java/com/ex/app/App.java", Import("com.ex.util", (("Helper", "Helper"),)),
         [Binding("Helper", ("src/main/java/com/ex/util/Helper.java",), "Helper")]),
        ("java", JAVA_FILES, Project(), "src/main/java/com/ex/app/App.java", Import("com.ex.util.Math", (("max", "max"),)),
         [Binding("max", ("src/main/java/com/ex/util/Math.java",), "max")]),
        ("java", JAVA_FILES, Project(), "src/main/java/com/ex/app/App.java", Import("com.ex.util", (W,)),
         [Binding("*", ("src/main/java/com/ex/util/Helper.java", "src/main/java/com/ex/util/Math.java"))]),
        ("java", JAVA_FILES, Project(), "src/main/java/com/ex/app/App.java", Import("java.util", (("List", "List"),)), []),
    ],
)
def test_resolve(language, files, project, importer, imp, expected) -> None:
    assert resolve(language, imp, importer, FileSet(files), project) == expected


@pytest.mark.parametrize(
    ("language", "files", "importer", "expected"),
    [
        ("go", GO_FILES, "pkg/util/util.go", [Binding("*", ("pkg/util/more.go",))]),
        ("go", GO_FILES, "pkg/util/util_test.go", [Binding("*", ("pkg/util/more.go", "pkg/util/util.go"))]),
        ("java", JAVA_FILES, "src/main/java/com/ex/app/App.java", [Binding("*", ("src/main/java/com/ex/app/Other.java",))]),
        ("python", PY_FILES, "app/main.py", []),
        ("go", ["a/only.go"], "a/only.go", []),
    ],
)
def test_implicit(language, files, importer, expected) -> None:
    assert implicit(language, importer, FileSet(files)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("module example.com/m\n\ngo 1.22\n", "example.com/m"), ('// c\nmodule "quoted/m"\n', "quoted/m"), ("go 1.22\n", "")],
)
def test_go_module(text: str, expected: str) -> None:
    assert go_module(text) == expected


@pytest.mark.parametrize(
    ("text", "folder", "expected"),
    [
        ('{"compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["src/*"]}}}', "", ("", (("@/*", ("src/*",)),))),
        # comments and trailing commas; a tsconfig in a sub-folder
        ('{\n // c\n "compilerOptions": {"baseUrl": "./src", /* x */ "paths": {"#a": ["a.ts"],},},\n}', "web",
         ("web/src", (("#a", ("a.ts",)),))),
        ('{"compilerOptions": {}}', "", ("", ())),
        ("not json", "", ("", ())),
        ('{"compilerOptions": {"paths": {"x/*": ["http://not-a-comment/*"]}}}', "", ("", (("x/*", ("http://not-a-comment/*",)),))),
    ],
)
def test_ts_paths(text: str, folder: str, expected) -> None:
    assert ts_paths(text, folder) == expected


def test_include_dirs() -> None:
    entries = [
        {"directory": "/w/build", "command": "cc -I../include -I /w/src -isystem /usr/include -c ../src/a.c"},
        {"directory": "/w", "arguments": ["cc", "-Iinclude", "-iquote", "third", "-c", "src/b.c"]},
    ]
    assert include_dirs(json.dumps(entries), "/w") == ("include", "src", "third")
    assert include_dirs("[", "/w") == ()
