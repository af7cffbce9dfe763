"""Re-wrapping prose to a display width, for scripts with and without spaces between words.

Owns the display width of a text (East Asian wide and full-width characters count 2 columns:
`unicodedata.east_asian_width`), joining wrapped lines back into one paragraph (no space where
two CJK characters meet), and a greedy wrap that breaks at spaces and between CJK characters,
never inside a backtick span, and never puts closing punctuation (、。」) at the
start of a line. Pure.
"""

from __future__ import annotations

import re
import unicodedata

# The units a line can break around: a code span, spaces, one wide character, a word.
_UNIT = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)|\s+|[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef`]+|.", re.S)
_NO_LINE_START = set("、。，．,.!?！？)]}」』】〕）：；:;ーぁぃぅぇぉっゃゅょァィゥェォッャュョ々…")


def width(text: str) -> int:
    """Columns `text` takes in a monospaced editor."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def _wide(ch: str) -> bool:
    return bool(ch) and unicodedata.east_asian_width(ch) in "WF"


def join_lines(lines: list[str]) -> str:
    """Wrapped lines -> one paragraph: a space between them, none where wide characters meet."""
    out = ""
    for line in (x.strip() for x in lines):
        if not line:
            continue
        if out and not (_wide(out[-1]) and _wide(line[0])):
            out += " "
        out += line
    return out


def wrap(text: str, first_width: int, rest_width: int | None = None) -> list[str]:
    """`text` in lines of at most `first_width` (then `rest_width`) columns where it can be broken;
    a unit wider than the line gets a line of its own."""
    rest_width = first_width if rest_width is None else rest_width
    units = [m.group(0) for m in _UNIT.finditer(text.strip())]
    lines: list[str] = []
    line, used = "", 0
    for unit in units:
        if unit.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        limit = first_width if not lines else rest_width
        w = width(unit)
        fits = used + w <= limit or not line.strip() or unit[0] in _NO_LINE_START
        if fits:
            line, used = line + unit, used + w
            continue
        lines.append(line.rstrip())
        line, used = unit, w
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]
