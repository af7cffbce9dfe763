"""What was typed at a cursor, and the recent suggestions cache (`completion.reuse`)."""

from __future__ import annotations

import pytest

from lsp_server.lsp.completion.reuse import RecentSuggestions, typed_at


@pytest.mark.parametrize(
    "old, offset, new, expected",
    [
        ("ab|cd".replace("|", ""), 2, "abXYcd", "XY"),
        ("abcd", 2, "abcd", ""),  # nothing typed yet
        ("abcd", 4, "abcdef", "ef"),  # at the end of the file
        ("abcd", 0, "Xabcd", "X"),  # at its start
        ("abcd", 2, "abXd", None),  # text after the cursor replaced
        ("abcd", 2, "aXbcd", None),  # typed before the cursor
        ("abcd", 2, "acd", None),  # deleted
        ("abcd", 2, "ab()cd", "()"),
        ("ab\ncd", 3, "ab\n    x\ncd", "    x\n"),
        ("", 0, "x", "x"),
    ],
)
def test_typed_at(old, offset, new, expected):
    assert typed_at(old, offset, new) == expected


def test_recent_suggestion_served_after_typing_its_start_and_counted_once():
    used = []
    recent = RecentSuggestions()
    recent.remember("u", "def f(", ")", "a, b", lambda: used.append(1))
    assert recent.lookup("u", "def f(a", ")") == ", b"
    assert recent.lookup("u", "def f(a,", ")") == " b"
    assert used == [1]
    assert recent.lookup("u", "def f(x", ")") is None  # typed something else
    assert recent.lookup("u", "def f(a, b", ")") is None  # all of it typed: nothing left
    assert recent.lookup("other", "def f(a", ")") is None
    assert recent.lookup("u", "def f(a", "):") is None  # the text after the cursor changed


def test_recent_suggestion_served_after_the_editor_closed_a_bracket_or_quote():
    recent = RecentSuggestions()
    recent.remember("u", "x = add", "\n", "(1, 2)\nprint(x)")
    # `(` typed, `)` added by the editor: the cursor is between them
    assert recent.lookup("u", "x = add(", ")\n") == "1, 2"
    assert recent.lookup("u", "x = add(1", ")\n") == ", 2"
    assert recent.lookup("u", "x = add(9", ")\n") is None
    # past the closer (typed over): the rest after it
    assert recent.lookup("u", "x = add(1, 2)", "\n") == "\nprint(x)"
    # text after the cursor that is not the suggestion's closer
    assert recent.lookup("u", "x = add(", "]\n") is None
    assert recent.lookup("u", "x = add(", "1, 2)\n") is None
    recent.remember("u", "print(", ")", '"hello"')
    assert recent.lookup("u", 'print("', '")') == "hello"


def test_recent_suggestion_served_after_enter_between_the_editors_brackets():
    recent = RecentSuggestions()
    recent.remember("u", "function f() ", "\n", "{\n    return 1;\n}")
    assert recent.lookup("u", "function f() {", "}\n") == "\n    return 1;\n"
    # Enter: the editor puts the `}` on a line of its own and the cursor between
    assert recent.lookup("u", "function f() {\n    ", "\n}\n") == "return 1;"
    assert recent.lookup("u", "function f() {\n    r", "\n}\n") == "eturn 1;"
    # the suggestion made at `{|}` (the `}` was there): Enter puts only a line break after the cursor
    recent = RecentSuggestions()
    recent.remember("u", "function f() {", "}\n", "\n    return 1;\n")
    assert recent.lookup("u", "function f() {\n    ", "\n}\n") == "return 1;"
    assert recent.lookup("u", "function f() {\n    ret", "\n}\n") == "urn 1;"
