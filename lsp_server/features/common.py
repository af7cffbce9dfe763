"""Small LSP-type helpers shared by the features (ranges at the cursor, the word before it)."""

from __future__ import annotations

import re

from lsprotocol import types

_WORD_TAIL = re.compile(r"\w*$")


def suggestion_range(pos: types.Position) -> types.Range:
    return types.Range(start=pos, end=pos)


def word_before(text: str, offset: int) -> str:
    """The identifier characters immediately left of `offset` (on the same line)."""
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return _WORD_TAIL.search(text[line_start:offset]).group(0)
