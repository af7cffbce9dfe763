"""Windows of other files that look like the code at the cursor (Copilot's "similar files"):
windows scored by the Jaccard similarity of their identifier sets with the cursor's scope;
60 lines of a recent file (`best_windows`), or a few lines of a passage the workspace search
found (`best_window`). Pure; windows of a text are cached by the text itself, so a file that
did not change is split once. Must not know where the texts come from (`recent`, `search`).
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
_cache: OrderedDict[tuple[str, str, int, int], list[tuple[int, frozenset[str]]]] = OrderedDict()


@dataclass(frozen=True)
class Window:
    path: str
    start_line: int  # 0-based
    text: str
    score: float


def identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENT.findall(text))


def _windows(path: str, text: str, size: int = WINDOW_LINES, step: int = STEP_LINES) -> list[tuple[int, frozenset[str]]]:
    key = (path, text, size, step)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    lines = text.splitlines()
    starts = range(0, max(1, len(lines) - size + step), step)
    found = [(s, identifiers("\n".join(lines[s: s + size]))) for s in starts]
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
    found = (best_window(wanted, path, text) for path, text in files)
    best = [w for w in found if w is not None]
    best.sort(key=lambda w: (-w.score, w.path, w.start_line))
    return best[:top]


def best_window(wanted: frozenset[str], path: str, text: str, first_line: int = 0, size: int = WINDOW_LINES,
                step: int = STEP_LINES) -> Window | None:
    """The window of `size` lines of `text` (which starts at line `first_line` of `path`) whose
    identifiers are most like `wanted` (ties: the first), if it scores at least `MIN_SCORE`."""
    scored = [(jaccard(wanted, ids), -start) for start, ids in _windows(path, text, size, step)]
    if not scored:
        return None
    score, neg_start = max(scored)
    if score < MIN_SCORE:
        return None
    lines = text.splitlines()[-neg_start: -neg_start + size]
    return Window(path, first_line - neg_start, "\n".join(lines), round(score, 4))
