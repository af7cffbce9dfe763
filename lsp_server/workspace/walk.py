"""Which files of a folder the index reads, and reading one safely.

Owns the walk: breadth first (so that a capped walk of a huge folder keeps the shallow files),
in sorted order, honouring `.gitignore` files (`pathspec`, git's own rules) and a fixed list of
folders nobody wants indexed, never leaving the folder through a symbolic link and never
entering a folder twice (symlink loops), surviving folders that vanish or cannot be read, and
stopping at a file cap. Reading skips files over a size limit and binary files. Counts what it
skipped and why (`WalkStats`). Must not parse files or know what is in them.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from lsp_server.syntax.languages import spec_for

log = logging.getLogger(__name__)

SKIPPED_FOLDERS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "build", "dist", "target", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".idea", ".vscode", ".cache",
})
# Files the resolvers read about the project (`project.load`), found during the same walk.
CONFIG_FILES = frozenset({"go.mod", "tsconfig.json", "jsconfig.json", "compile_commands.json", "Cargo.toml"})
# Documentation and configuration the passage search reads (`walk(docs=True)`), with the language `DOC`.
DOC_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".txt", ".toml", ".cfg", ".ini", ".yaml", ".yml"})
DOC = "text"
BINARY_PROBE = 8192


@dataclass
class WalkStats:
    seen: int = 0  # source files found (before the cap)
    capped: bool = False
    skipped: Counter = field(default_factory=Counter)  # reason -> files or folders


@dataclass(frozen=True)
class Found:
    path: Path  # as reached from the root (not resolved)
    rel: str  # POSIX path relative to the root
    language: str | None  # None for a config file


class _Ignores:
    """The .gitignore files met so far, each applying below its own folder."""

    def __init__(self) -> None:
        self._specs: dict[str, pathspec.PathSpec] = {}

    def load(self, folder: Path, rel: str, stats: WalkStats) -> None:
        try:
            lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return
        except OSError:
            stats.skipped["unreadable .gitignore"] += 1
            return
        self._specs[rel] = pathspec.GitIgnoreSpec.from_lines(lines)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        parts = rel.split("/")
        for i in range(len(parts)):
            spec = self._specs.get("/".join(parts[:i]))
            if spec is not None and spec.match_file("/".join(parts[i:]) + ("/" if is_dir else "")):
                return True
        return False


def walk(root: Path, max_files: int, stats: WalkStats | None = None, *, docs: bool = False) -> Iterator[Found]:
    """The source files (a language we parse) and config files under `root`, at most
    `max_files` source files; with `docs`, also documentation files (`DOC_SUFFIXES`, language
    `DOC`), which count towards `max_files`."""
    stats = stats if stats is not None else WalkStats()
    try:
        real_root = root.resolve(strict=True)
    except OSError:
        stats.skipped["missing root"] += 1
        return
    ignores = _Ignores()
    visited = {real_root}
    seen_files: set[Path] = set()
    queue: deque[tuple[Path, str, Path]] = deque([(root, "", real_root)])
    while queue:
        folder, rel, real_folder = queue.popleft()
        ignores.load(folder, rel, stats)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:  # vanished, or no permission
            stats.skipped["unreadable folder"] += 1
            continue
        for entry in entries:
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            link = is_dir = is_file = False
            try:
                link = entry.is_symlink()
                is_dir = entry.is_dir()  # follows links; a broken link or a loop is neither (or raises)
                is_file = not is_dir and entry.is_file()
            except OSError:
                if not link:
                    stats.skipped["unreadable"] += 1
                    continue
            if link and not (is_dir or is_file):
                stats.skipped["broken link"] += 1
                continue
            if is_dir:
                if entry.name in SKIPPED_FOLDERS:
                    stats.skipped["skipped folder"] += 1
                    continue
                if ignores.ignored(child_rel, True):
                    stats.skipped["gitignored"] += 1
                    continue
                real = _inside(Path(entry.path), real_root, stats) if link else real_folder / entry.name
                if real is None or real in visited:
                    if real is not None:
                        stats.skipped["folder seen before (link)"] += 1
                    continue
                visited.add(real)
                queue.append((Path(entry.path), child_rel, real))
                continue
            if not is_file:
                continue
            language = None if entry.name in CONFIG_FILES else (spec.name if (spec := spec_for(path=entry.name)) else "")
            if language == "" and docs and os.path.splitext(entry.name)[1].lower() in DOC_SUFFIXES:
                language = DOC
            if language == "":
                continue  # not a language we parse
            if ignores.ignored(child_rel, False):
                stats.skipped["gitignored"] += 1
                continue
            real = _inside(Path(entry.path), real_root, stats) if link else real_folder / entry.name
            if real is None or real in seen_files:
                continue
            seen_files.add(real)
            if language is not None:
                stats.seen += 1
                if stats.seen > max_files:
                    stats.capped = True
                    log.warning("indexing %s stopped at %d files (indexMaxFiles)", root, max_files)
                    return
            yield Found(Path(entry.path), child_rel, language)


def _inside(path: Path, real_root: Path, stats: WalkStats) -> Path | None:
    """The real path of `path` if it stays inside the root, else None (counted)."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a broken link, or a loop
        stats.skipped["broken link"] += 1
        return None
    if real != real_root and real_root not in real.parents:
        stats.skipped["link out of the workspace"] += 1
        return None
    return real


def read_source(path: Path, max_bytes: int) -> tuple[bytes | None, str]:
    """A file's bytes, or None and why not: too big, binary, unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError:
        return None, "unreadable"
    if len(data) > max_bytes:
        return None, "too big"
    if b"\0" in data[:BINARY_PROBE]:
        return None, "binary"
    return data, ""
