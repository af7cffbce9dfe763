"""Line and indentation maths (`lines`)."""

from __future__ import annotations

import pytest

from lsp_server.syntax.lines import end_of_line, indent_style, line_bounds, start_of_line


@pytest.mark.parametrize(
    ("text", "offset", "lone_cr", "start"),
    [
        ("ab\ncd", None, False, 3),  # the end of the text
        ("ab\ncd", 4, False, 3),
        ("ab\ncd", 3, False, 3),  # at the line's start
        ("ab\ncd", 2, False, 0),  # at the "\n": the line before
        ("abcd", None, False, 0),
        ("", None, False, 0),
        ("ab\r\ncd", None, False, 4),
        ("ab\rcd", None, False, 0),  # a lone "\r" ends no line ...
        ("ab\rcd", None, True, 3),  # ... unless LSP's line ends count
        ("ab\r\ncd", None, True, 4),
        ("a\nb\rc", 3, True, 2),
    ],
)
def test_start_of_line(text: str, offset: int | None, lone_cr: bool, start: int) -> None:
    assert start_of_line(text, offset, lone_cr=lone_cr) == start


@pytest.mark.parametrize(
    ("text", "offset", "end"),
    [
        ("ab\ncd", 0, 2),
        ("ab\ncd", 2, 2),
        ("ab\ncd", 3, 5),  # the last line: the end of the text
        ("ab\r\ncd", 0, 3),  # the "\r" stays
        ("ab", 5, 2),  # past the end
    ],
)
def test_end_of_line(text: str, offset: int, end: int) -> None:
    assert end_of_line(text, offset) == end


@pytest.mark.parametrize(
    ("text", "offset", "bounds"),
    [
        ("ab\ncd\n", 4, (3, 5)),
        ("ab\r\ncd", 1, (0, 2)),  # without the "\r"
        ("ab\r\ncd", 3, (0, 3)),  # between "\r" and "\n": never before the offset
        ("", 0, (0, 0)),
    ],
)
def test_line_bounds(text: str, offset: int, bounds: tuple[int, int]) -> None:
    assert line_bounds(text, offset) == bounds


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("a\n    b\n        c\n", (False, 4)),
        ("a\n      b\n    c\n", (False, 2)),  # the greatest common step
        ("a\n   b\n", (False, 3)),
        ("a\n b\n", (False, 4)),  # a one-space step is no unit
        ("a\n\tb\n\t\tc\n    d\n", (True, 4)),
        ("a\nb\n", None),
    ],
)
def test_indent_style(text: str, style: tuple[bool, int] | None) -> None:
    assert indent_style(text) == style
