"""The server's workspace index: keeps `workspace.WorkspaceIndex` current in a background
thread and answers "what context does this position get" (`context`) on the event loop.

Owns the index's thread (one job at a time: index a folder, re-read a file; a folder's job is
cancelled when the folder goes or the settings change), the events that feed it (workspace
folders, saves, watched-file changes, open documents' edits, whose live outlines are brought
up to date lazily, when a context is asked for), the recent-files list (opens, edits and
completion requests), a count of the changes to what contexts are chosen from (`stamp`: the
completer holds a scope's context until another file changes), and its reports (begin,
progress, end, warnings) through one callback that the server turns into `$/progress` and
`window/showMessage`. Must not know LSP types or run the model; the selection itself is
`workspace.select`. The passage search of "ask the workspace" (`workspace.search`) is fed by
the same thread and events: a folder's passages after its outlines, a file's on save and on
watched-file changes.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsp_server.lsp.documents import DocumentStore
from lsp_server.lsp.settings import Settings
from lsp_server.workspace.index import IndexStats, Limits, WorkspaceIndex
from lsp_server.workspace.recent import RecentFiles
from lsp_server.workspace.search import Hit, SearchIndex, index_root, update_file
from lsp_server.workspace.select import Context, CountTokens, select_context

log = logging.getLogger(__name__)

# report(kind, message): kind is "begin", "report", "end" or "warning"; called from the index's thread
Report = Callable[[str, str], None]


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


class IndexService:
    def __init__(self, docs: DocumentStore, settings: Callable[[], Settings], report: Report | None = None) -> None:
        self.docs = docs
        self._settings = settings
        self.report: Report = report or (lambda kind, message: None)
        self.index = WorkspaceIndex(self._limits())
        self.search = SearchIndex()
        self.recent = RecentFiles()
        self.folders: list[Path] = []
        self.stats: dict[str, dict] = {}  # folder -> its last IndexStats.as_dict()
        self._dirty: set[str] = set()  # open documents whose live outline is out of date
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped to cancel the folder jobs queued or running
        self._stopped = False
        self.idle = threading.Event()  # set while no job waits or runs (tests, the status command)
        self.idle.set()
        self._pending = 0
        self._pending_lock = threading.Lock()
        # changes to what a context is chosen from, per file ("": to every file), and in all
        self._changes: dict[str, int] = {}
        self._changes_total = 0
        self._changes_lock = threading.Lock()

    def _limits(self) -> Limits:
        s = self._settings()
        return Limits(max_files=s.index_max_files, max_file_bytes=s.index_max_file_bytes)

    @property
    def enabled(self) -> bool:
        return self._settings().workspace_index and not self._stopped

    # -- the thread ----------------------------------------------------------------------------------
    def _submit(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="workspace-index", daemon=True)
            self._thread.start()
        with self._pending_lock:
            self._pending += 1
            self.idle.clear()
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # a bug in one job must not end the thread
                log.exception("workspace index job failed")
            with self._pending_lock:
                self._pending -= 1
                if self._pending == 0:
                    self.idle.set()

    def stop(self) -> None:
        self._stopped = True
        self._generation += 1
        if self._thread is not None:
            self._jobs.put(None)

    # -- what changed -------------------------------------------------------------------------------------
    def _changed(self, where: str | Path | None = None) -> None:
        """Count a change to the file `where` (a URI or a path; None: to the whole index)."""
        key = "" if where is None else _file_key(where)
        with self._changes_lock:
            self._changes[key] = self._changes.get(key, 0) + 1
            self._changes_total += 1

    def stamp(self, uri: str) -> int:
        """A number that changes when anything a context for `uri` is chosen from changes, except
        `uri`'s own text: another file's text (open, saved, or changed on disk), or the index as a
        whole (a folder indexed, the settings). The user typing in `uri` leaves it as it is."""
        with self._changes_lock:
            return self._changes_total - self._changes.get(_file_key(uri), 0)

    # -- folders -------------------------------------------------------------------------------------------
    def start(self, folders: list[Path]) -> None:
        """Index these folders (the workspace's, at `initialized`)."""
        self.folders = list(dict.fromkeys(folders))
        if self.enabled:
            self._index_all()

    def folders_changed(self, added: list[Path], removed: list[Path]) -> None:
        for folder in removed:
            if folder in self.folders:
                self.folders.remove(folder)
            self.index.remove_folder(folder)
            self._changed()
            search = self.search
            self._submit(lambda f=folder: search.remove_root(os.path.abspath(f)))
            self.stats.pop(str(folder), None)
        fresh = [f for f in added if f not in self.folders]
        self.folders += fresh
        if self.enabled:
            for folder in fresh:
                self._submit(self._folder_job(folder, self._generation))

    def settings_changed(self, before: Settings) -> None:
        now = self._settings()
        if now != before:  # contextTokens and the like: contexts are chosen anew
            self._changed()
        limits = (now.workspace_index, now.index_max_files, now.index_max_file_bytes)
        if limits == (before.workspace_index, before.index_max_files, before.index_max_file_bytes):
            return
        self._generation += 1  # cancel what runs with the old settings
        self.index = WorkspaceIndex(self._limits())
        self.search = SearchIndex()
        self.stats.clear()
        if self.enabled:
            self._index_all()

    def _index_all(self) -> None:
        generation = self._generation = self._generation + 1
        for folder in self.folders:
            self._submit(self._folder_job(folder, generation))
        for uri in self.docs.uris():
            self._dirty.add(uri)

    def _folder_job(self, folder: Path, generation: int) -> Callable[[], None]:
        def job() -> None:
            if generation != self._generation:
                return
            self.report("begin", f"Indexing {folder.name or folder}")
            stats = self.index.index_folder(
                folder, cancelled=lambda: generation != self._generation,
                progress=lambda n: self.report("report", f"{folder.name}: {n} files"))
            if stats.cancelled:
                self.report("end", f"{folder.name}: cancelled")
                return
            self.stats[str(folder)] = stats.as_dict()
            self._changed()
            self.report("end", _summary(stats))
            limits = self.index.limits
            index_root(self.search, self.index.add_folder(folder), limits.max_files, limits.max_file_bytes,
                       cancelled=lambda: generation != self._generation)
            if stats.capped:
                self.report("warning", f"the workspace folder {folder} has more than {self.index.limits.max_files} "
                                       "source files (indexMaxFiles); only the first ones (shallowest first) are indexed")
        return job

    # -- files ---------------------------------------------------------------------------------------------
    def files_changed(self, paths: list[tuple[Path, bool]]) -> None:
        """Files created or changed (False) or deleted (True) on disk (watched files, saves)."""
        if not self.enabled or not paths:
            return
        index, search = self.index, self.search

        def job() -> None:
            for path, deleted in paths:
                if deleted:
                    index.remove_file(path)
                else:
                    index.update_file(path)
                update_file(search, index, path, deleted)
                self._changed(path)
        self._submit(job)

    def saved(self, uri: str) -> None:
        self._dirty.add(uri)
        self._changed(uri)
        if (path := uri_to_path(uri)) is not None and self.enabled:
            index, search = self.index, self.search
            self._submit(lambda: update_file(search, index, path))

    # -- open documents (event loop) --------------------------------------------------------------------
    def opened(self, uri: str) -> None:
        self._dirty.add(uri)
        self._changed(uri)
        self.recent.touch(uri)

    def changed(self, uri: str, line: int | None) -> None:
        self._dirty.add(uri)
        self._changed(uri)
        self.recent.touch(uri, line)

    def closed(self, uri: str) -> None:
        self._dirty.discard(uri)
        self._changed(uri)
        if (path := uri_to_path(uri)) is not None and self.enabled:
            index = self.index
            self._submit(lambda: index.drop_live(path))

    def cursor(self, uri: str, line: int) -> None:
        self.recent.touch(uri, line)

    def _refresh_open(self) -> None:
        """Bring the live outlines of edited open documents up to date (a few ms each)."""
        for uri in sorted(self._dirty):
            doc = self.docs.get(uri)
            path = uri_to_path(uri)
            if doc is not None and path is not None:
                self.index.set_live(path, doc.text, doc.language, doc.tree)
        self._dirty.clear()

    # -- the completion path's question ---------------------------------------------------------------
    def context(self, uri: str, offset: int, *, budget: int | None = None,
                count_tokens: CountTokens | None = None) -> Context | None:
        """The cross-file context for `offset` of the open document `uri` (None: not open, or
        the index is off). Runs on the caller's thread in a few milliseconds."""
        doc = self.docs.get(uri)
        path = uri_to_path(uri)
        if doc is None or path is None or not self.enabled:
            return None
        self._refresh_open()
        recent = []
        for other, _ in self.recent.newest_first():
            other_doc = self.docs.get(other)
            other_path = uri_to_path(other)
            if other_doc is not None and other_path is not None and other != uri:
                recent.append((str(other_path), other_doc.text))
        return select_context(self.index, str(path), doc.text, offset, doc.language, doc.tree,
                              budget=self._settings().context_tokens if budget is None else budget,
                              count_tokens=count_tokens, recent=recent, search=self.search)

    # -- "ask the workspace" ----------------------------------------------------------------------------
    def passages(self, question: str, top: int, wait: float = 30.0) -> list[Hit] | None:
        """The `top` passages that answer `question` best ([] if none matches; None if there is
        nothing to search: the index is off, or no file of the workspace has passages). Waits up
        to `wait` seconds for indexing that is under way: call it off the event loop."""
        if not self.enabled:
            return None
        self.idle.wait(wait)
        search = self.search
        if not len(search):
            return None
        return search.search(question, top, roots=[str(r.path) for r in self.index.roots()])

    def folder_name(self, uri: str) -> str:
        """The name of the workspace folder holding `uri` ("" outside every folder)."""
        path = uri_to_path(uri)
        for folder in self.folders:
            if path is not None and path.is_relative_to(folder):
                return folder.name
        return ""

    def status(self) -> dict:
        return {"enabled": self.enabled, "busy": not self.idle.is_set(), **self.index.totals(),
                "passages": len(self.search), "runs": dict(self.stats)}


def _file_key(where: str | Path) -> str:
    """One key per file, whether it is named by a `file:` URI or a path (other URIs as they are)."""
    path = uri_to_path(where) if isinstance(where, str) and "://" in where else where
    return os.path.abspath(path) if path is not None else str(where)


def _summary(stats: IndexStats) -> str:
    return (f"indexed {stats.files} files ({stats.symbols} symbols) in {stats.seconds:.1f} s"
            + (" (capped)" if stats.capped else ""))
