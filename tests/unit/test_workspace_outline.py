"""A file's outline: its top-level definitions, class members and imports (`workspace.outline`)."""

from __future__ import annotations

import pytest

from lsp_server.workspace.model import Import
from lsp_server.workspace.outline import QUERY_FILES, parse_outline, tags_query

PY = '''import os
from .x import y

@dec
def f(a, b=1):
    """Doc of f."""
    def inner(): pass
    return a

# Leading comment
class C(Base):
    """C doc."""
    x: int = 0
    def m(self, q):
        return q

VALUE = 3
'''
JS = '''import D from "./m";
/** Adds. */
export function add(x, y) { return x + y; }
export const mul = (x, y) => x * y;
class K extends B {
  f = 1;
  method(a) { return a; }
}
const obj = { notAMember() {} };
'''
TS = '''export interface Shape { area(): number; name: string }
export type Id = string;
export abstract class Base<T> { abstract run(x: T): void; go(): void {} }
export enum Color { Red }
'''
GO = '''package util

import "fmt"

// Point is a point.
type Point struct {
\tX int
}

type Shape interface { Area() float64 }

// Dist measures.
func (p *Point) Dist(q Point) float64 { return 0 }
func New() *Point { return nil }
const Pi = 3.14
'''
C = '''#include "foo.h"
#define MAX 10
/* adds */
int add(int a, int b) { return a + b; }
static char *name(void);
typedef struct point { int x; } point_t;
'''
CPP = '''namespace n { class Foo { public: int bar(int x); }; }
int n::Foo::bar(int x) { return x; }
'''
RUST = '''use crate::a::b;
/// A point.
pub struct Point { pub x: i32 }
impl Point { pub fn new() -> Self { Point { x: 0 } } }
trait Tr { fn go(&self); }
fn main() { fn nested() {} }
'''
JAVA = '''package com.ex.app;
import com.ex.util.Helper;
/** App. */
public class App {
  private int n;
  public int run(String a) { return 0; }
}
'''


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("python", PY, [("function", "", "f"), ("class", "", "C"), ("field", "C", "x"), ("method", "C", "m"),
                        ("variable", "", "VALUE")]),
        ("javascript", JS, [("function", "", "add"), ("variable", "", "mul"), ("class", "", "K"), ("field", "K", "f"),
                            ("method", "K", "method"), ("variable", "", "obj")]),
        ("typescript", TS, [("class", "", "Shape"), ("method", "Shape", "area"), ("field", "Shape", "name"),
                            ("type", "", "Id"), ("class", "", "Base"), ("method", "Base", "run"), ("method", "Base", "go"),
                            ("type", "", "Color")]),
        ("go", GO, [("class", "", "Point"), ("field", "Point", "X"), ("class", "", "Shape"), ("method", "Shape", "Area"),
                    ("method", "Point", "Dist"), ("function", "", "New"), ("variable", "", "Pi")]),
        ("c", C, [("variable", "", "MAX"), ("function", "", "add"), ("function", "", "name"), ("type", "", "point_t"),
                  ("class", "", "point"), ("field", "point", "x")]),
        ("cpp", CPP, [("class", "", "Foo"), ("method", "Foo", "bar"), ("method", "Foo", "bar")]),
        ("rust", RUST, [("class", "", "Point"), ("field", "Point", "x"), ("method", "Point", "new"), ("class", "", "Tr"),
                        ("method", "Tr", "go"), ("function", "", "main")]),
        ("java", JAVA, [("class", "", "App"), ("field", "App", "n"), ("method", "App", "run")]),
    ],
)
def test_symbols(language: str, source: str, expected: list[tuple[str, str, str]]) -> None:
    found = parse_outline(language, source.encode())
    assert [(s.kind, s.container, s.name) for s in found.symbols] == expected


@pytest.mark.parametrize(
    ("language", "source", "name", "signature", "doc"),
    [
        # decorators belong to the header; the body does not
        ("python", PY, "f", "@dec\ndef f(a, b=1):", '"""Doc of f."""'),
        # a comment directly above, even where the grammar puts it inside the block before
        ("python", PY, "C", "class C(Base):", '"""C doc."""'),
        ("python", PY, "m", "    def m(self, q):", ""),
        ("javascript", JS, "add", "export function add(x, y)", "/** Adds. */"),
        ("go", GO, "Point", "type Point struct", "// Point is a point."),
        ("go", GO, "Dist", "func (p *Point) Dist(q Point) float64", "// Dist measures."),
        ("go", GO, "Shape", "type Shape interface", ""),
        ("c", C, "add", "int add(int a, int b)", "/* adds */"),
        ("rust", RUST, "Point", "pub struct Point", "/// A point."),
        # a member on its header's line: no indentation, no comment of the line above
        ("rust", RUST, "x", "pub x: i32", ""),
        ("java", JAVA, "App", "public class App", "/** App. */"),
    ],
)
def test_signature_and_doc(language: str, source: str, name: str, signature: str, doc: str) -> None:
    sym = next(s for s in parse_outline(language, source.encode()).symbols if s.name == name)
    assert (sym.signature, sym.doc) == (signature, doc)


def test_ranges_and_comment_without_gap() -> None:
    found = parse_outline("python", PY.encode())
    f = next(s for s in found.symbols if s.name == "f")
    assert (f.start_line, f.end_line) == (3, 7)
    assert PY.encode()[f.start_byte:f.end_byte].startswith(b"@dec")
    c = next(s for s in found.symbols if s.name == "C")
    assert "Leading comment" not in c.doc  # the class has a docstring: it wins
    only_comment = parse_outline("python", b"x = 1\n\n# About g.\n# More.\ndef g():\n    pass\n")
    assert only_comment.symbols[-1].doc == "# About g.\n# More."
    gap = parse_outline("python", b"# Not about g.\n\ndef g():\n    pass\n")
    assert gap.symbols[0].doc == ""


def test_imports_and_package() -> None:
    assert parse_outline("python", PY.encode()).imports == (Import("os", alias="os"), Import(".x", (("y", "y"),), line=1, end_line=1))
    assert parse_outline("go", GO.encode()).package == "util"
    assert parse_outline("java", JAVA.encode()).package == "com.ex.app"
    assert parse_outline("go", GO.encode()).imports == (Import("fmt", line=2, end_line=2),)


def test_every_language_has_a_query_that_compiles() -> None:
    assert all(tags_query(language) is not None for language in QUERY_FILES)
    assert parse_outline("lua", b"x = 1") is None


def test_broken_and_invalid_text_still_outlines() -> None:
    found = parse_outline("python", b"def ok():\n    pass\n\ndef broken(:\n\xff\xfe = 1\nclass K:\n    pass\n")
    assert {"ok", "K"} <= {s.name for s in found.symbols}
