"""The workspace index: the outline of every source file of the workspace folders, the files'
set and the project facts (`project.Project`) per folder, kept current file by file.

Owns the state and its updates: indexing a folder (walk, read, parse, outline; cancellable,
with progress and `IndexStats`), re-indexing or removing one file, and the outlines of open
documents, which come from their live text (and tree) rather than the disk. A folder is
indexed into a new `Root` that replaces the old one whole, so a reader never sees it half
built; a single file's update replaces its entries. Readers on another thread see either the
old or the new entry. Must not know about LSP or decide what a completion sees (`select`).
"""

from __future__ import annotations

import logging
import os
import posixpath
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter

from lsp_server.syntax.languages import spec_for
from lsp_server.workspace import project as project_config
from lsp_server.workspace.fileset import FileSet
from lsp_server.workspace.model import Outline
from lsp_server.workspace.outline import QUERY_FILES, outline, parse_outline
from lsp_server.workspace.walk import CONFIG_FILES, WalkStats, read_source, walk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_files: int = 20000
    max_file_bytes: int = 1_000_000


@dataclass
class IndexStats:
    """What one indexing run did (and the index as a whole after it)."""

    folder: str = ""
    files: int = 0  # files outlined
    symbols: int = 0
    bytes: int = 0
    seconds: float = 0.0
    capped: bool = False  # stopped at the file cap (`Limits.max_files`)
    cancelled: bool = False
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count

    def as_dict(self) -> dict:
        return dict(self.__dict__, skipped=dict(sorted(self.skipped.items())))


@dataclass
class Root:
    """One workspace folder's part of the index."""

    path: Path
    files: FileSet = field(default_factory=FileSet)
    outlines: dict[str, Outline] = field(default_factory=dict)  # relative POSIX path -> outline
    project: project_config.Project = field(default_factory=project_config.Project)
    live: dict[str, str] = field(default_factory=dict)  # open documents: relative path -> text
    real: str = ""  # the folder's real path (links resolved)

    def __post_init__(self) -> None:
        self.real = self.real or os.path.realpath(self.path)

    def put(self, rel: str, found: Outline | None) -> None:
        if found is None:
            self.outlines.pop(rel, None)
            self.files.discard(rel)
        else:
            self.outlines[rel] = found
            self.files.add(rel)


def _key(path: Path | str) -> str:
    return os.path.abspath(os.fspath(path))


class WorkspaceIndex:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._roots: dict[str, Root] = {}
        self._lock = threading.Lock()  # writers; readers go without it

    # -- folders ------------------------------------------------------------------------------------
    def roots(self) -> list[Root]:
        return list(self._roots.values())

    def add_folder(self, folder: Path | str) -> Root:
        """Register a folder without walking it (its files come with `index_folder` or one by one)."""
        key = _key(folder)
        with self._lock:
            return self._roots.setdefault(key, Root(Path(key)))

    def remove_folder(self, folder: Path | str) -> None:
        with self._lock:
            self._roots.pop(_key(folder), None)

    def index_folder(self, folder: Path | str, *, cancelled: Callable[[], bool] = lambda: False,
                     progress: Callable[[int], None] | None = None) -> IndexStats:
        """Walk and outline a folder, replacing what the index had of it."""
        key = _key(folder)
        began = time.perf_counter()
        root = Root(Path(key))
        stats, walked = IndexStats(folder=key), WalkStats()
        configs: list[str] = []
        for found in walk(root.path, self.limits.max_files, walked):
            if cancelled():
                stats.cancelled = True
                break
            if found.language is None:
                configs.append(found.rel)
                continue
            data, why = read_source(found.path, self.limits.max_file_bytes)
            if data is None:
                walked.skipped[why] += 1
                continue
            result = parse_outline(found.language, data)
            root.put(found.rel, result)
            stats.files += 1
            stats.bytes += len(data)
            stats.symbols += len(result.symbols) if result else 0
            if progress is not None and stats.files % 200 == 0:
                progress(stats.files)
            time.sleep(0)  # let the event loop's thread in between files
        root.project = project_config.load(root.path, configs)
        stats.capped, stats.skipped = walked.capped, dict(walked.skipped)
        stats.seconds = round(time.perf_counter() - began, 3)
        with self._lock:
            old = self._roots.get(key)
            if old is not None:  # open documents keep their live outlines
                for rel, text in old.live.items():
                    root.live[rel] = text
                    root.put(rel, old.outlines.get(rel))
            if not stats.cancelled or old is None:
                self._roots[key] = root
        log.info("indexed %s: %d files, %d symbols in %.2f s%s", key, stats.files, stats.symbols, stats.seconds,
                 " (capped)" if stats.capped else "")
        return stats

    # -- files ----------------------------------------------------------------------------------------
    def locate(self, path: Path | str) -> tuple[Root, str] | None:
        """The folder a file belongs to (the innermost one) and its path relative to it; a path
        through a link to the folder (or the folder's own real path) is found too."""
        key = _key(path)
        for real in (False, True):
            best = None
            for root in list(self._roots.values()):
                root_key = root.real if real else str(root.path)
                if key.startswith(root_key.rstrip(os.sep) + os.sep) and (best is None or len(root_key) > len(best[1])):
                    best = (root, root_key)
            if best is not None:
                return best[0], Path(os.path.relpath(key, best[1])).as_posix()
            key = os.path.realpath(key)
        return None

    def update_file(self, path: Path | str) -> bool:
        """Re-read one file from the disk (it was saved, created or changed); a file that is gone
        or no longer indexable is removed. An open document keeps its live outline."""
        where = self.locate(path)
        if where is None:
            return False
        root, rel = where
        if rel in root.live:
            return False
        if posixpath.basename(rel) in CONFIG_FILES:
            self._reload_project(root)
            return True
        spec = spec_for(path=rel)
        data, _ = read_source(Path(path), self.limits.max_file_bytes) if spec and spec.name in QUERY_FILES else (None, "")
        with self._lock:
            root.put(rel, parse_outline(spec.name, data) if data is not None and spec else None)
        return True

    def remove_file(self, path: Path | str) -> None:
        """A file (or a folder, with everything in it) was deleted."""
        if (where := self.locate(path)) is None:
            return
        root, rel = where
        gone = [rel] if rel in root.files else [p for p in list(root.outlines) if p.startswith(rel + "/")]
        with self._lock:
            for p in gone:
                if p not in root.live:
                    root.put(p, None)

    def set_live(self, path: Path | str, text: str, language: str | None = None,
                 tree: tree_sitter.Tree | None = None) -> bool:
        """Outline an open document from its text (and its tree, when it has one)."""
        where = self.locate(path)
        if where is None:
            return False
        root, rel = where
        language = language or (spec.name if (spec := spec_for(path=rel)) else None)
        if language not in QUERY_FILES:
            return False
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > self.limits.max_file_bytes:
            return False
        found = outline(language, tree, data) if tree is not None else parse_outline(language, data)
        with self._lock:
            root.live[rel] = text
            root.put(rel, found)
        return True

    def drop_live(self, path: Path | str) -> None:
        """An open document was closed: its outline comes from the disk again."""
        if (where := self.locate(path)) is not None:
            with self._lock:
                where[0].live.pop(where[1], None)
            self.update_file(path)

    def source(self, root: Root, rel: str) -> str | None:
        """A file's text: an open document's live text, else the disk's (None if unreadable)."""
        if (text := root.live.get(rel)) is not None:
            return text
        data, _ = read_source(root.path / rel, self.limits.max_file_bytes)
        return data.decode("utf-8", "replace") if data is not None else None

    def _reload_project(self, root: Root) -> None:
        configs = [str(p.relative_to(root.path).as_posix()) for name in CONFIG_FILES
                   for p in [root.path / name] if p.is_file()]
        root.project = project_config.load(root.path, configs)

    def totals(self) -> dict:
        roots = self.roots()
        return {"folders": [str(r.path) for r in roots], "files": sum(len(r.outlines) for r in roots),
                "symbols": sum(len(o.symbols) for r in roots for o in list(r.outlines.values())),
                "open": sum(len(r.live) for r in roots)}
