"""The passage search of "ask the workspace": a BM25 index of the workspace's passages
(`passages`) in SQLite FTS5, kept current file by file.

Owns the tokenising (code identifiers split at `snake_case` and `camelCase` humps with the
whole kept too; runs of CJK characters as bigrams), the FTS5 tables (in memory; one writer
lock; a reader on another thread sees a file's passages before or after an update, never half),
feeding them from a workspace folder (`index_root`: walk with documentation files, read, cut
into passages, using the workspace index's outlines) and from one changed file
(`update_file`), and ranking (`search`). Bounded: the walk's file cap and size limit
(`index.Limits`) and at most `MAX_PASSAGES` passages. Must not know about LSP or the model.

Why FTS5: it is in the standard library (no dependency), its `bm25()` ranks, and a file's
passages are deleted and inserted in place (a saved file costs milliseconds, not a rebuild,
which the in-memory `rank_bm25`/`bm25s` corpora would need).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lsp_server.syntax.languages import spec_for
from lsp_server.workspace.index import Root, WorkspaceIndex
from lsp_server.workspace.outline import QUERY_FILES, parse_outline
from lsp_server.workspace.passages import Passage, doc_passages, source_passages
from lsp_server.workspace.walk import DOC, DOC_SUFFIXES, read_source, walk

log = logging.getLogger(__name__)

MAX_PASSAGES = 40_000  # about 40 MB: /usr/lib/python3.11 (669 files) gives 30,370 passages in +28 MB RSS
MAX_QUERY_TERMS = 256  # a question's first distinct terms (a long function's identifiers: the search stays a few ms)
WEIGHTS = (4.0, 2.0, 1.0)  # bm25() weights of the title, path and text columns

_WORD = re.compile(r"\w+")
_HUMP = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+)")
# Words of a question that every passage could match; left out of the query only.
STOP_WORDS = frozenset("""a an and are as at be by can do does for from how i if in is it its of on or the this
that to what when where which who why will with you your there their into about""".split())


def tokens(text: str) -> list[str]:
    """Lower-cased search terms: each word, and the parts of an identifier (`parse_HTTPHeader`
    -> parse_httpheader, parse, http, header); a run of CJK characters as its bigrams."""
    out: list[str] = []
    for run in _WORD.findall(text):
        for i, word in enumerate(_CJK.split(run)):
            if i % 2:  # a CJK run (the split's captured group)
                out += [word[j:j + 2] for j in range(max(1, len(word) - 1))]
            elif word:
                out.append(word.lower())
                chunks = [c for c in word.split("_") if c]
                parts = [p.lower() for c in chunks for p in (_HUMP.findall(c) if c.isascii() else [c])]
                if len(parts) > 1:
                    out += parts
    return out


def query_terms(question: str) -> list[str]:
    """The distinct terms of a question, stop words left out (unless nothing else is left)."""
    terms = list(dict.fromkeys(tokens(question)))
    kept = [t for t in terms if t not in STOP_WORDS and len(t) > 1]
    return kept or terms


@dataclass(frozen=True)
class Hit:
    root: str  # the workspace folder
    passage: Passage
    score: float  # higher is better

    @property
    def file(self) -> Path:
        return Path(self.root) / self.passage.path


class SearchIndex:
    def __init__(self, max_passages: int = MAX_PASSAGES) -> None:
        self.max_passages = max_passages
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript("""
            CREATE TABLE passage(id INTEGER PRIMARY KEY, root TEXT, path TEXT, start INTEGER, end INTEGER,
                                 title TEXT, kind TEXT, text TEXT);
            CREATE INDEX passage_file ON passage(root, path);
            CREATE VIRTUAL TABLE terms USING fts5(title, path, text, tokenize="unicode61 tokenchars '_'");
            CREATE VIRTUAL TABLE vocab USING fts5vocab(terms, 'row');
        """)
        self._count = 0
        self.capped = False

    def __len__(self) -> int:
        return self._count

    def put_file(self, root: str, path: str, passages: list[Passage]) -> None:
        """Replace what the index has of one file."""
        with self._lock, self._db:
            self._delete(root, path)
            room = self.max_passages - self._count
            if len(passages) > room:
                self.capped = True
                passages = passages[:max(0, room)]
            for p in passages:
                cur = self._db.execute("INSERT INTO passage(root, path, start, end, title, kind, text) VALUES (?,?,?,?,?,?,?)",
                                       (root, path, p.start_line, p.end_line, p.title, p.kind, p.text))
                self._db.execute("INSERT INTO terms(rowid, title, path, text) VALUES (?,?,?,?)",
                                 (cur.lastrowid, " ".join(tokens(p.title)), " ".join(tokens(path)), " ".join(tokens(p.text))))
            self._count += len(passages)

    def remove_file(self, root: str, path: str) -> None:
        """A file, or a folder with everything in it, is gone."""
        with self._lock, self._db:
            self._delete(root, path)
            rows = self._db.execute("SELECT DISTINCT path FROM passage WHERE root = ? AND path >= ? AND path < ?",
                                    (root, path + "/", path + "0")).fetchall()  # "0" sorts right after "/"
            for (inside,) in rows:
                self._delete(root, inside)

    def remove_root(self, root: str) -> None:
        for path in self.paths(root):
            self.remove_file(root, path)

    def paths(self, root: str) -> list[str]:
        """The files of `root` that have passages."""
        with self._lock:
            return [p for (p,) in self._db.execute("SELECT DISTINCT path FROM passage WHERE root = ? ORDER BY path", (root,))]

    def _delete(self, root: str, path: str) -> None:
        ids = [i for (i,) in self._db.execute("SELECT id FROM passage WHERE root = ? AND path = ?", (root, path))]
        if ids:
            self._db.executemany("DELETE FROM terms WHERE rowid = ?", [(i,) for i in ids])
            self._db.execute("DELETE FROM passage WHERE root = ? AND path = ?", (root, path))
            self._count -= len(ids)
            self.capped = self.capped and self._count >= self.max_passages

    def _rarest(self, terms: list[str], budget: int) -> list[str]:
        if not terms:
            return []
        with self._lock:
            counts = dict(self._db.execute(f"SELECT term, doc FROM vocab WHERE term IN ({','.join('?' * len(terms))})", terms))
        return _rarest_first(terms, counts, budget)

    def files(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT root, path FROM passage)").fetchone()[0]

    def search(self, question: str, top: int = 5, roots: list[str] | None = None, *,
               kinds: tuple[str, ...] | None = None, leave_out: tuple[str, str] | None = None,
               max_matches: int | None = None) -> list[Hit]:
        """The `top` passages that match `question` best (BM25), best first; [] if nothing matches.
        Only passages of `roots` and of `kinds` (all: None), none of the file `leave_out` (root, path).
        `max_matches`: the question's rarest terms only, as many as match about that many passages
        in all (ranking costs a few microseconds per passage a term matches; the commonest terms,
        such as `self` or `return` in code, match most passages and weigh next to nothing)."""
        terms = query_terms(question)[:MAX_QUERY_TERMS]
        if max_matches is not None:
            terms = self._rarest(terms, max_matches)
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        where, args = "", [match]
        if roots is not None:
            where = f" AND passage.root IN ({','.join('?' * len(roots))})"
            args += roots
        if kinds is not None:
            where += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += kinds
        if leave_out is not None:
            where += " AND NOT (passage.root = ? AND passage.path = ?)"
            args += leave_out
        sql = (f"SELECT passage.root, passage.path, start, end, passage.title, kind, passage.text, bm25(terms, {', '.join(map(str, WEIGHTS))}) AS rank "
               f"FROM terms JOIN passage ON passage.id = terms.rowid WHERE terms MATCH ?{where} "
               f"ORDER BY rank, passage.path, start LIMIT ?")
        with self._lock:
            rows = self._db.execute(sql, (*args, top)).fetchall()
        return [Hit(root, Passage(path, start, end, title, kind, text), round(-rank, 4))
                for root, path, start, end, title, kind, text, rank in rows]


def _rarest_first(terms: list[str], counts: dict[str, int], budget: int) -> list[str]:
    """The rarest of `terms` (by their passage `counts`; absent: in none, left out) whose counts
    sum to at most `budget`, the rarest always; in their order in `terms`."""
    kept, total = set(), 0
    for term in sorted((t for t in terms if counts.get(t)), key=lambda t: (counts[t], t)):
        if kept and total + counts[term] > budget:
            break
        kept.add(term)
        total += counts[term]
    return [t for t in terms if t in kept]


def file_passages(rel: str, data: bytes, language: str, outline=None) -> list[Passage]:
    """A file's passages from its bytes: documentation by sections, source by symbols."""
    text = data.decode("utf-8", "replace")
    if language == DOC:
        return doc_passages(rel, text)
    spec = spec_for(language_id=language)
    if outline is None and language in QUERY_FILES:
        outline = parse_outline(language, data)
    return source_passages(rel, text, outline, spec.comment_prefix if spec else "")


def index_root(search: SearchIndex, root: Root, max_files: int, max_file_bytes: int,
               cancelled: Callable[[], bool] = lambda: False) -> int:
    """(Re)build one folder's passages (the folder's outlines from the workspace index when it
    has them); the number of files read. A cancelled run leaves what it has put."""
    began = time.perf_counter()
    key, seen = str(root.path), set()
    for found in walk(root.path, max_files, docs=True):
        if cancelled():
            break
        if found.language is None:
            continue
        data, _ = read_source(found.path, max_file_bytes)
        if data is None:
            continue
        seen.add(found.rel)
        search.put_file(key, found.rel, file_passages(found.rel, data, found.language, root.outlines.get(found.rel)))
        time.sleep(0)  # let the event loop's thread in between files
    else:
        for path in search.paths(key):
            if path not in seen:
                search.remove_file(key, path)
    log.info("passages of %s: %d files, %d passages in all, %.2f s", key, len(seen), len(search),
             time.perf_counter() - began)
    return len(seen)


def update_file(search: SearchIndex, index: WorkspaceIndex, path: Path | str, deleted: bool = False) -> bool:
    """One file was saved, created, changed or deleted: re-read its passages (or drop them)."""
    where = index.locate(path)
    if where is None:
        return False
    root, rel = where
    if deleted:
        search.remove_file(str(root.path), rel)
        return True
    spec = spec_for(path=rel)
    language = spec.name if spec else (DOC if Path(rel).suffix.lower() in DOC_SUFFIXES else None)
    if language is None:
        return False
    data, _ = read_source(Path(path), index.limits.max_file_bytes)
    if data is None:
        search.remove_file(str(root.path), rel)
    else:
        search.put_file(str(root.path), rel, file_passages(rel, data, language, root.outlines.get(rel)))
    return True
