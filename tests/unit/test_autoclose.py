"""Typing at a suggestion's cursor in an editor that closes brackets and quotes itself."""

from __future__ import annotations

import pytest

from lsp_server.lsp.completion.autoclose import open_closers, rest_of, typed_part


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ""),
        ("foo(", ")"),
        ("foo(a, [b", "])"),
        ("foo(a)", ""),
        ('print("', '")'),
        ('print("(', '")'),  # no brackets inside a quote
        ('x = "a\\"', '"'),  # an escaped quote does not close it
        ("f(`${", "`)"),  # a template's braces are inside its quote
        ("a) + (b", ")"),  # a closer of something opened before the text
        ("{'k': [1, 2", "]}"),
    ],
)
def test_open_closers(text, expected):
    assert open_closers(text) == expected


@pytest.mark.parametrize(
    "inserted, expected",
    [
        ("()", "("),  # the editor closed it: the cursor is between
        ('("")', '("'),
        ("(a)", "(a"),
        ("(a, b", "(a, b"),
        ("ab", "ab"),
        ("", ""),
        ("x)", "x)"),  # closes nothing it opened: typed by hand
        ("[]", "["),
        ("don't", "don't"),
        ("foo(bar())", "foo(bar("),
        ("(\n    \n)", "("),  # Enter between the editor's brackets
        ("{\n    x\n}", "{\n    x"),
        ("x = ", "x = "),  # trailing blanks alone are typed
        ("\n    \n", "\n    "),  # Enter between brackets that were there: the editor's line break after
        ("\n    r\n", "\n    r"),
        ("()\n    ", "()\n    "),  # `)` and Enter typed: the editor puts no line break after a closer
    ],
)
def test_typed_part(inserted, expected):
    assert typed_part(inserted) == expected


@pytest.mark.parametrize(
    "suggestion, typed, closers, expected",
    [
        ("(a, b)", "(", "", "a, b)"),  # no closers: the rest
        ("(a, b)", "(", ")", "a, b"),  # up to where it closes the editor's `)`
        ("(a, b)", "(a", ")", ", b"),
        ("(a, b)", "(x", ")", None),  # typed something else
        ("()", "(", ")", None),  # nothing left before the closer
        ("(a, b)", "(a, b", ")", None),
        ("(f(x), y)\nreturn z", "(", ")", "f(x), y"),  # the inner `)` closes f's bracket, not the editor's
        ('("hi")', '("', '")', "hi"),
        ('"a)b"', '"', '"', "a)b"),
        ("(a, b)", "(", "]", None),  # the closer after the cursor is not one the suggestion has
        ("(a", "(", ")", None),  # never closed
        ("(a) + (b)", "(", ")", "a"),
        ("(a]", "(", ")", None),
        ("a, b)", "", ")", None),  # typed nothing that the closer closes
        ("abc", "abc", "", None),  # all of it typed
        ("abc", "", "", "abc"),
        # Enter between the editor's brackets: the closer on a line of its own
        ("(\n    a,\n    b\n)", "(\n    ", "\n)", "a,\n    b"),
        ("{\n    return x;\n}", "{\n    ", "\n}", "return x;"),
        ("{\n    return x;\n}", "{", "}", "\n    return x;\n"),
        ("{\n}", "{\n", "\n}", None),  # nothing left but the line break
        ("(a)", "(", "  ", None),  # blanks are no closer
        # Enter between brackets that were there before the suggestion (`{|}`): a line break after
        # the cursor stands for the suggestion's own last one
        ("\n    return x;\n", "\n    ", "\n", "return x;"),
        ("\n    return x;\n", "\n    re", "\n", "turn x;"),
        ("\n    return x;", "\n    ", "\n", "return x;"),
        ("\n    x\n", "\n    x", "\n", None),  # nothing left
        ("a b", "a", "\n", None),  # a line break after the cursor with no Enter typed
    ],
)
def test_rest_of(suggestion, typed, closers, expected):
    assert rest_of(suggestion, typed, closers) == expected
