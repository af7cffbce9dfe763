"""The set of files of one workspace folder, as POSIX paths relative to it, with the files of
each folder: what the import resolvers look paths up in. Must not touch the disk."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable


class FileSet:
    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._files: set[str] = set()
        self._dirs: dict[str, set[str]] = {}
        for path in paths:
            self.add(path)

    def add(self, rel: str) -> None:
        self._files.add(rel)
        self._dirs.setdefault(posixpath.dirname(rel), set()).add(rel)

    def discard(self, rel: str) -> None:
        self._files.discard(rel)
        folder = self._dirs.get(posixpath.dirname(rel))
        if folder is not None:
            folder.discard(rel)
            if not folder:
                del self._dirs[posixpath.dirname(rel)]

    def __contains__(self, rel: object) -> bool:
        return rel in self._files

    def __len__(self) -> int:
        return len(self._files)

    def in_dir(self, folder: str) -> list[str]:
        """The files directly in `folder` ("" for the root), sorted."""
        return sorted(self._dirs.get(folder, ()))

    def dirs_ending(self, tail: str) -> list[str]:
        """The folders that are `tail` or end with "/tail", sorted."""
        return sorted(d for d in list(self._dirs) if d == tail or d.endswith("/" + tail))

    def first(self, candidates: Iterable[str]) -> str | None:
        return next((c for c in candidates if c in self._files), None)
