"""Import statements as text -> what they name and bind (`workspace.imports`)."""

from __future__ import annotations

import pytest

from lsp_server.workspace.imports import parse_import
from lsp_server.workspace.model import Import

W = ("*", "*")


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # Python
        ("python", "import os", [Import("os", alias="os")]),
        ("python", "import a.b as c, d", [Import("a.b", alias="c"), Import("d", alias="d")]),
        ("python", "import a.b", [Import("a.b", alias="a.b")]),
        ("python", "from .x import (y as z,\n    w)  # note", [Import(".x", (("y", "z"), ("w", "w")), end_line=1)]),
        ("python", "from . import mod", [Import(".", (("mod", "mod"),))]),
        ("python", "from ..pkg.m import *", [Import("..pkg.m", (W,))]),
        ("python", "from a import \\\n    b", [Import("a", (("b", "b"),), end_line=1)]),
        # JavaScript / TypeScript
        ("javascript", 'import D, {a as b, c} from "./m";', [Import("./m", (("default", "D"), ("a", "b"), ("c", "c")))]),
        ("javascript", "import * as ns from '../lib';", [Import("../lib", alias="ns")]),
        ("javascript", "import D, * as ns from './m';", [Import("./m", (("default", "D"),), alias="ns")]),
        ("javascript", "import './side-effect.css';", [Import("./side-effect.css")]),
        ("javascript", "const {q, r: s} = require('./req');", [Import("./req", (("q", "q"), ("r", "s")))]),
        ("javascript", "const lib = require('./lib')", [Import("./lib", alias="lib")]),
        ("javascript", "export {z as y} from './zz';", [Import("./zz", (("z", "y"),), kind="reexport")]),
        ("javascript", "export * from './all';", [Import("./all", (W,), kind="reexport")]),
        ("typescript", 'import type {T, type U} from "./types";', [Import("./types", (("T", "T"), ("U", "U")))]),
        ("tsx", "import React, {useState} from 'react';", [Import("react", (("default", "React"), ("useState", "useState")))]),
        # Go
        ("go", 'import "fmt"', [Import("fmt")]),
        ("go", 'import (\n\t"fmt"\n\ts "strings"\n\t. "example.com/m/dot"\n\t_ "embed"\n)',
         [Import("fmt", line=1, end_line=5), Import("strings", alias="s", line=2, end_line=5),
          Import("example.com/m/dot", (W,), line=3, end_line=5)]),
        # C / C++
        ("c", '#include "foo/bar.h"', [Import("foo/bar.h", (W,), kind="include")]),
        ("cpp", "#include <vector>", [Import("<vector>", (W,), kind="include")]),
        # Rust
        ("rust", "use crate::a::{b, c::d as e, self};",
         [Import("crate::a", (("b", "b"),)), Import("crate::a::c", (("d", "e"),)), Import("crate", (("a", "a"),))]),
        ("rust", "pub use super::x::*;", [Import("super::x", (W,))]),
        ("rust", "use std;", [Import("std", alias="std")]),
        ("rust", "mod util;", [Import("util", alias="util", kind="mod")]),
        ("rust", "pub(crate) mod util;", [Import("util", alias="util", kind="mod")]),
        # Java
        ("java", "import com.ex.util.Helper;", [Import("com.ex.util", (("Helper", "Helper"),))]),
        ("java", "import static com.ex.util.Math.max;", [Import("com.ex.util.Math", (("max", "max"),))]),
        ("java", "import com.ex.model.*;", [Import("com.ex.model", (W,))]),
        # a language without imports we know
        ("lua", "require 'x'", []),
    ],
)
def test_parse_import(language: str, text: str, expected: list[Import]) -> None:
    assert parse_import(language, text) == expected
