"""Line and indentation maths on plain text.

Owns where a line starts and ends (`start_of_line`, `end_of_line`, `line_bounds`), the line above
(`previous_nonblank_line`), a line's indentation (`leading_ws`, `indent_width` with Python's
tab rule) and a document's indentation style (`indent_style`, `reindent`), and its line ends
(`eol_of`).
Must not know about languages, comments, strings or brackets (that is `lexer`), run
tree-sitter, or know about LSP positions.
"""

from __future__ import annotations

import math

TAB_SIZE = 8  # Python's rule for comparing indentation that mixes tabs and spaces


def eol_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def start_of_line(text: str, offset: int | None = None, *, lone_cr: bool = False) -> int:
    """Where the line holding `offset` (default: the end of `text`) starts: after the last "\\n"
    before it; with `lone_cr` after the last "\\r" too (LSP counts a lone "\\r" as a line end)."""
    end = len(text) if offset is None else offset
    start = text.rfind("\n", 0, end)
    if lone_cr:
        start = max(start, text.rfind("\r", 0, end))
    return start + 1


def end_of_line(text: str, offset: int) -> int:
    """Where the line holding `offset` ends: at its "\\n" (any "\\r" before it kept), else the end
    of `text`."""
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def line_bounds(text: str, offset: int) -> tuple[int, int]:
    """Start and end (before the newline and any \\r) of the line holding `offset`."""
    start = start_of_line(text, offset)
    end = end_of_line(text, offset)
    if end > start and text[end - 1] == "\r":
        end -= 1
    return start, max(end, offset)


def previous_nonblank_line(text: str, line_start: int, max_lines: int = 50) -> str | None:
    """The closest non-blank line before the line starting at `line_start` (without eol)."""
    end = line_start - 1
    for _ in range(max_lines):
        if end < 0:
            return None
        start = start_of_line(text, end)
        line = text[start:end].rstrip("\r")
        if line.strip():
            return line
        end = start - 1
    return None


def leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_width(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width = (width // TAB_SIZE + 1) * TAB_SIZE
        else:
            break
    return width


def reindent(lines: list[str], use_tabs: bool, unit: int) -> list[str]:
    """Leading indentation of `lines` in the document's style: tabs, or `unit` spaces."""
    out = []
    for line in lines:
        ws = leading_ws(line)
        if not ws:
            out.append(line)
            continue
        if use_tabs and " " in ws:
            width = len(ws.replace("\t", " " * unit))
            ws = "\t" * (width // unit) + " " * (width % unit)
        elif not use_tabs and "\t" in ws:
            ws = ws.replace("\t", " " * unit)
        out.append(ws + line[len(leading_ws(line)):])
    return out


def indent_style(text: str, max_lines: int = 200) -> tuple[bool, int] | None:
    """(uses tabs, indentation unit in spaces) of a document, from its indented lines;
    None when no line is indented."""
    tabs = spaces = 0
    unit = 0
    for line in text.splitlines()[:max_lines]:
        ws = leading_ws(line)
        if not ws or not line.strip():
            continue
        if ws[0] == "\t":
            tabs += 1
        else:
            spaces += 1
            if "\t" not in ws:
                unit = len(ws) if unit == 0 else math.gcd(unit, len(ws))
    if not tabs and not spaces:
        return None
    return tabs > spaces, unit if unit >= 2 else 4
