"""The repository-level benchmark's hole rules (benchmarks/context/holes.py): which uses of a
line count as another file's API, where a hole may be cut, and the deterministic sampling."""

from __future__ import annotations

import random

import pytest

from benchmarks.context.holes import Use, allocate, api_uses, cuts, first_use, pick
from lsp_server.workspace.model import WILDCARD
from lsp_server.workspace.resolve import Binding

NAMED = {
    "area": Binding("area", ("geo.py",), "area"),  # from geo import area
    "sq": Binding("sq", ("geo.py",), "square"),  # from geo import square as sq
    "geo": Binding("geo", ("geo.py",)),  # import geo
    "a.b": Binding("a.b", ("a/b.py",)),  # import a.b
    "Fetcher": Binding("Fetcher", ("fetcher.js",)),  # const Fetcher = require('./fetcher.js')
    "local": Binding("local", ("geo.py",), "local"),
}
WILD = [Binding(WILDCARD, ("io.h",))]
DEFINED = {"geo.py": {"area", "square", "volume", "local"}, "a/b.py": {"run"}, "io.h": {"read_file"},
           "fetcher.js": {"FetcherBase"}}
EXPORTS = {"fetcher.js": "FetcherBase"}


def defines(paths, name):
    return next((p for p in paths if name in DEFINED.get(p, ())), None)


def exported(paths):
    return next(((p, EXPORTS[p]) for p in paths if p in EXPORTS), None)


@pytest.mark.parametrize("code, wild, expected", [
    ("    x = area(w, h)", [], [Use("area", 8, "geo.py", "area")]),
    ("    x = sq(w)", [], [Use("sq", 8, "geo.py", "square")]),  # aliased: the name in the line, the symbol there
    ("    return geo.volume(r)", [], [Use("volume", 11, "geo.py")]),  # module.name
    ("    return geo.missing(r)", [], []),  # not defined there
    ("    a.b.run()", [], [Use("run", 4, "a/b.py")]),  # import a.b: the dotted binding
    ("    f = new Fetcher(spec)", [], [Use("Fetcher", 12, "fetcher.js", "FetcherBase")]),  # module.exports = Name
    ("    y = local(1)", [], []),  # the current file defines it too
    ("    n = read_file(name, 0, &buf);", WILD, [Use("read_file", 8, "io.h")]),  # through #include "io.h"
    ("    n = fread(buf, 1, n, f);", WILD, []),  # not in the project's header
    ("    x = compute(1)", [], []),  # not imported
])
def test_api_uses(code, wild, expected):
    assert api_uses(code, NAMED, wild, {"local"}, defines, exported) == expected


@pytest.mark.parametrize("line, start, expected", [
    ("    x = area(w, h)", 8, [4, 8]),  # the line's code, or from the API's use
    ("    area(w, h)", 4, [4]),  # the same point once
    ("area(w)", 0, [0]),
])
def test_cuts(line, start, expected):
    assert cuts(line, Use("area", start, "geo.py")) == expected


@pytest.mark.parametrize("available, total, cap, expected", [
    ({"a": 10, "b": 10}, 8, 0, {"a": 4, "b": 4}),
    ({"a": 2, "b": 10}, 8, 0, {"a": 2, "b": 6}),  # a short project leaves its share to the others
    ({"a": 7, "b": 6, "c": 6, "d": 11}, 25, 0, {"a": 7, "b": 6, "c": 6, "d": 6}),
    ({"a": 10, "b": 10}, 25, 0, {"a": 10, "b": 10}),  # fewer than asked
    ({"a": 10, "b": 10}, 20, 3, {"a": 3, "b": 3}),  # at most `cap` each
    ({"a": 0}, 5, 0, {"a": 0}),
])
def test_allocate(available, total, cap, expected):
    assert allocate(available, total, cap) == expected


def test_pick_takes_one_per_file_per_round_and_is_deterministic():
    by_file = {"x": [1, 2, 3], "y": [4], "z": [5, 6]}
    first = pick(by_file, 4, random.Random(7))
    assert first == pick(by_file, 4, random.Random(7))
    assert {1, 2, 3} & set(first[:3]) and 4 in first[:3] and {5, 6} & set(first[:3])  # every file once first
    assert len(pick(by_file, 10, random.Random(0))) == 6


@pytest.mark.parametrize("text, api, language, expected", [
    ("from geo import area\n\ndef f(r):\n    return area(r)\n", "area", "python", True),  # only its import before
    ("from geo import area\nx = area(1)\n\ndef f(r):\n    return area(r)\n", "area", "python", False),  # used above
    ("from geo import (\n    area,\n    square,\n)\n\ndef f(r):\n    return area(r)\n", "area", "python", True),
    ("import geo\n# area() is in geo\ndef f(r):\n    s = 'area'\n    return geo.area(r)\n", "area", "python", True),
    ("def f(r):\n    return 1\n\ndef g(r):\n    return area(r)\n", "area", "python", True),
    ("def f(r):\n    return area2(r)\n\ndef g(r):\n    return area(r)\n", "area", "python", True),  # another name
    ("const { area } = require('./geo');\nfunction f(r) {\n  return area(r);\n}\n", "area", "javascript", True),
    ("import { area } from './geo';\nconst a = area(1);\nfunction f(r) {\n  return area(r);\n}\n", "area", "javascript", False),
    ("#include \"io.h\"\nint main(void) {\n  read_file(\"a\");\n  read_file(\"b\");\n}\n", "read_file", "c", False),
    ("#include \"io.h\"\nint main(void) {\n  read_file(\"b\");\n}\n", "read_file", "c", True),
])
def test_first_use(text, api, language, expected):
    line = max(i for i, x in enumerate(text.split("\n")) if api + "(" in x)  # the hole: the last use
    assert first_use(text, line, api, language) is expected
