"""Minimal text edits: the changed lines between a node's text and its replacement.

Owns `minimal_edits`, a line diff (difflib) of two texts as (start, end, new_text) string
offsets into the old text, so an editor shows and undoes only what changed. Pure.
"""

from __future__ import annotations

import difflib


def minimal_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """Edits that turn `old` into `new`, one per run of changed lines, offsets into `old`.

    Runs that only add or remove blank lines, or only change trailing whitespace, are left out:
    models reflow those freely and an editor should not show them as part of a fix."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or _same_but_blank(a[i1:i2], b[j1:j2]):
            continue
        # Keep blank lines at the edges of a hunk as they were (the model dropped or added them).
        while i1 < i2 and not a[i1].strip() and (j1 == j2 or b[j1].strip()):
            i1 += 1
        while j1 < j2 and not b[j1].strip() and (i1 == i2 or a[i1].strip()):
            j1 += 1
        while i2 > i1 and not a[i2 - 1].strip() and (j1 == j2 or b[j2 - 1].strip()):
            i2 -= 1
        while j2 > j1 and not b[j2 - 1].strip() and (i1 == i2 or a[i2 - 1].strip()):
            j2 -= 1
        edits.append((starts[i1], starts[i2], "".join(b[j1:j2])))
    return edits


def _same_but_blank(a: list[str], b: list[str]) -> bool:
    return [x.rstrip() for x in a if x.strip()] == [y.rstrip() for y in b if y.strip()]


def apply_edits(text: str, edits: list[tuple[int, int, str]]) -> str:
    """`text` with non-overlapping edits applied (as an editor would)."""
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:start] + new + text[end:]
    return text
