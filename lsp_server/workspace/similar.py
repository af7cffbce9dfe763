"""Windows of other files that look like the code at the cursor (Copilot's "similar files"):
60-line windows scored by the Jaccard similarity of their identifier sets with the cursor's
scope. Pure; windows of a text are cached by the text itself, so a file that did not change
is split once. Must not know where the texts come from (`recent`, `index`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

WINDOW_LINES = 60
STEP_LINES = 10
MIN_SCORE = 0.1
_IDENT = re.compile(r"[A-Za-z_]\w+")
_CACHE_SIZE = 64
_cache: OrderedDict[tuple[str, str], list[tuple[int, frozenset[str]]]] = OrderedDict()


@dataclass(frozen=True)
class Window:
    path: str
    start_line: int  # 0-based
    text: str
    score: float


def identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENT.findall(text))


def _windows(path: str, text: str) -> list[tuple[int, frozenset[str]]]:
    key = (path, text)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    lines = text.splitlines()
    starts = range(0, max(1, len(lines) - WINDOW_LINES + STEP_LINES), STEP_LINES)
    found = [(s, identifiers("\n".join(lines[s: s + WINDOW_LINES]))) for s in starts]
    _cache[key] = found
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return found


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def best_windows(query: str, files: Iterable[tuple[str, str]], top: int = 4) -> list[Window]:
    """The best window of each (path, text) by similarity with `query`, the `top` best overall
    (ties: by path, then line), at least `MIN_SCORE`."""
    wanted = identifiers(query)
    if not wanted:
        return []
    best: list[Window] = []
    for path, text in files:
        scored = [(jaccard(wanted, ids), -start) for start, ids in _windows(path, text)]
        if not scored:
            continue
        score, neg_start = max(scored)
        if score >= MIN_SCORE:
            lines = text.splitlines()[-neg_start: -neg_start + WINDOW_LINES]
            best.append(Window(path, -neg_start, "\n".join(lines), round(score, 4)))
    best.sort(key=lambda w: (-w.score, w.path, w.start_line))
    return best[:top]
