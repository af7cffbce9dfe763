"""The repository-level benchmark runner's pure parts (benchmarks/context/repo.py): cutting the
hole, positions, scoring, the retrieval hit, the oracle's piece and the --limit selection."""

from __future__ import annotations

import pytest

from benchmarks.context.repo import (
    FIRST_USE, cut_document, limited, oracle_pieces, retrieval, score, summarize, utf16_column,
)


def test_cut_document_removes_the_rest_of_the_line_from_the_cut():
    text = "import geo\n\ndef f(w):\n    x = geo.area(w, w)\n    return x\n"
    doc, offset = cut_document(text, 3, 8, "geo.area(w, w)")
    assert doc == "import geo\n\ndef f(w):\n    x = \n    return x\n" and doc[offset:].startswith("\n    return")
    with pytest.raises(AssertionError):
        cut_document(text, 3, 8, "area(w, w)")  # the set no longer matches the file


@pytest.mark.parametrize("line, column, expected", [("abc", 2, 2), ("é€x", 2, 2), ("😀 = f(", 2, 3)])
def test_utf16_column(line, column, expected):
    assert utf16_column(line, column) == expected


@pytest.mark.parametrize("suggestion, expected, api, result", [
    ("geo.area(w, w)\n    return x", "geo.area(w, w)", "area", {"exact": True, "edit_sim": 1.0, "api_hit": True}),
    ("  geo.area(w, w)  ", "geo.area(w, w)", "area", {"exact": True, "edit_sim": 1.0, "api_hit": True}),
    ("geo.volume(w)", "geo.area(w, w)", "area", {"exact": False, "edit_sim": 0.5926, "api_hit": False}),
    ("", "f(x)", "f", {"exact": False, "edit_sim": 0.0, "api_hit": False}),
    ("x\nf(x)", "f(x)", "f", {"exact": False, "edit_sim": 0.4, "api_hit": False}),  # the first line only
])
def test_score(suggestion, expected, api, result):
    assert score(suggestion, expected, api) == result


def _s(path, start, text, kind="definition"):
    return {"path": path, "start_line": start, "text": text, "kind": kind}


@pytest.mark.parametrize("snippets, result", [
    ([], {"file_hit": False, "def_hit": False}),
    ([_s("p/geo.py", 10, "def area(w, h):\n    return w * h")], {"file_hit": True, "def_hit": True}),
    ([_s("p/geo.py", 30, "def volume(r):\n    ...")], {"file_hit": True, "def_hit": False}),  # another definition
    ([_s("p/geo.py", 0, "def volume(r): ...\ndef area(w, h): ...", "module")], {"file_hit": True, "def_hit": True}),
    ([_s("p/geo.py", 0, "class Shape: ...\nclass Square(Shape): ...", "module")], {"file_hit": True, "def_hit": False}),
    ([_s("p/geo.py", 8, "class Shapes:\n    x = 1\n    y = 2\n    z = 3", "skeleton")], {"file_hit": True, "def_hit": True}),
    ([_s("p/other.py", 10, "def area(w, h):")], {"file_hit": False, "def_hit": False}),
])
def test_retrieval(snippets, result):
    assert retrieval(snippets, "p/geo.py", "def area(w, h):", (10, 11)) == result


def test_oracle_piece_is_the_definition_cut_at_a_line_to_the_budget():
    text = "def f():\n" + "".join(f"    x{i} = {i}\n" for i in range(50))
    assert oracle_pieces("p/a.py", "def f():\n    pass") == [["p/a.py", "def f():\n    pass"]]
    [[path, cut]] = oracle_pieces("p/a.py", text, budget=20)
    assert path == "p/a.py" and text.startswith(cut) and cut.count("\n") < 10 and cut.startswith("def f():")


def test_limited_takes_projects_in_turn_per_language():
    rows = [{"language": "python", "project": p, "i": i} for p, i in (("a", 1), ("a", 2), ("a", 3), ("b", 4))]
    rows += [{"language": "c", "project": "n", "i": 5}]
    assert [r["i"] for r in limited(rows, None, 3)] == [1, 4, 2, 5]
    assert [r["i"] for r in limited(rows, ["c"], 0)] == [5]
    assert len(limited(rows, None, 0)) == 5


def test_summarize_gives_the_first_use_holes_a_row_of_their_own():
    def answer(exact):
        return {"suggestion": "x", "score": {"exact": exact, "edit_sim": 1.0 if exact else 0.0, "api_hit": exact},
                "stats": {"prompt_tokens": 10, "prompt_ms": 1.0, "generate_ms": 1.0}}
    results = [
        {"language": "python", "first_use": True, "infile": answer(False)},
        {"language": "python", "first_use": False, "infile": answer(True)},
        {"language": "c", "first_use": True, "infile": answer(True)},
        {"language": "c", "infile": answer(True)},  # recorded before first_use existed: not a first use
    ]
    table = summarize(results, ["infile"])["infile"]
    assert {k: (v["n"], v["exact"]) for k, v in table.items()} == {
        "all": (4, 0.75), "c": (2, 1.0), "python": (2, 0.5), FIRST_USE: (2, 0.5)}
