"""The files the user worked in lately, newest first: opened, edited, or asked for a completion
in (with the line of the last cursor position seen). Bounded; no file contents. Must not read
files or decide what a completion sees."""

from __future__ import annotations

from collections import OrderedDict

MAX_RECENT = 20


class RecentFiles:
    def __init__(self, size: int = MAX_RECENT) -> None:
        self.size = size
        self._files: OrderedDict[str, int] = OrderedDict()  # uri -> last cursor line (-1: unknown)

    def touch(self, uri: str, line: int | None = None) -> None:
        previous = self._files.pop(uri, -1)
        self._files[uri] = previous if line is None else line
        while len(self._files) > self.size:
            self._files.popitem(last=False)

    def forget(self, uri: str) -> None:
        self._files.pop(uri, None)

    def newest_first(self) -> list[tuple[str, int]]:
        return list(reversed(self._files.items()))
