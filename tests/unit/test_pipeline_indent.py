"""The cursor's typed indentation: left out of the prompt, removed from the model's text."""

from __future__ import annotations

import pytest

from lsp_server.worker.pipeline import drop_typed_indent
from lsp_server.worker.prompts import split_indent


@pytest.mark.parametrize(
    "prefix, prompt_prefix, indent",
    [
        ("def f():\n    ", "def f():\n", "    "),
        ("def f():\r\n\t", "def f():\r\n", "\t"),
        ("x = 1\n", "x = 1\n", ""),  # column 0: nothing typed
        ("    return ", "    return ", ""),  # code on the line: unchanged
        ("   ", "", "   "),  # first line of the file
        ("", "", ""),
    ],
)
def test_split_indent(prefix, prompt_prefix, indent):
    assert split_indent(prefix) == (prompt_prefix, indent)


@pytest.mark.parametrize(
    "text, indent, expected",
    [
        ("    ret = 1;", "    ", "ret = 1;"),
        ("        deeper()", "    ", "    deeper()"),  # the model indents further: kept
        ("  ", "    ", None),  # not decided yet
        ("x = 1", "    ", "x = 1"),  # the model wrote no indentation
        ("  shallow()", "    ", "shallow()"),  # cannot un-type: leading blanks dropped
        ("\n    next()", "    ", "\n    next()"),
        ("anything", "", "anything"),
    ],
)
def test_drop_typed_indent(text, indent, expected):
    assert drop_typed_indent(text, indent) == expected
