"""From (document, position) to a suggestion: snapshot, gating, reuse, model call, staleness.

Owns the request-side flow that both completion features and the one-shot CLI share: take a
snapshot of the document, ask the gating whether and how much to complete, serve the rest of the
previous suggestion when the user typed exactly what it proposed, otherwise ask the model (a
newer request for the same document supersedes an older one), and drop a result computed for a
document version that has since changed. Knows nothing of LSP types (features adapt them).
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote, urlparse

from lsp_server.config import Settings
from lsp_server.documents import DocumentStore, Snapshot
from lsp_server.model.client import RequestCancelled, WorkerError
from lsp_server.model.manager import ModelManager, ModelUnavailable
from lsp_server.syntax.gating import Gate, decide
from lsp_server.syntax.languages import new_parser

log = logging.getLogger(__name__)

PREFIX_CHARS = 48_000  # text sent to the worker around the cursor; windows are cut in tokens there
SUFFIX_CHARS = 16_000


@dataclass
class Suggestion:
    text: str
    offset: int  # where it is inserted (string offset in the snapshot's text)
    version: int
    source: str  # "model" or "reuse"
    stats: dict = field(default_factory=dict)


@dataclass
class Counters:
    requests: int = 0
    gated_out: int = 0
    reused: int = 0
    model_calls: int = 0
    stale_dropped: int = 0
    cancelled: int = 0
    unavailable: int = 0
    errors: int = 0
    precomputed: int = 0


def document_path(uri: str) -> str:
    """A short path for the prompt's file header: the last two path components of the URI."""
    parsed = urlparse(uri)
    path = unquote(parsed.path or parsed.netloc or uri)
    parts = [p for p in path.split("/") if p]
    return posixpath.join(*parts[-2:]) if parts else ""


def make_request(snap: Snapshot, gate: Gate, settings: Settings) -> dict:
    """The worker's completion request (CompletionRequest fields) for a snapshot and a gate."""
    return {
        "prefix": snap.text[max(0, snap.offset - PREFIX_CHARS): snap.offset],
        "suffix": snap.text[snap.offset: snap.offset + SUFFIX_CHARS],
        "path": document_path(snap.uri),
        "language": snap.language,
        "gate": asdict(gate),
        "max_tokens": settings.max_tokens,
        "latency_target_ms": settings.latency_target_ms,
        "prefix_tokens": settings.prefix_tokens,
        "suffix_tokens": settings.suffix_tokens,
    }


class RecentSuggestions:
    """A small cache of recent suggestions, keyed by document and the text around the cursor.

    When the user types a prefix of what was suggested, the rest is served without the model;
    a suggestion precomputed for "the previous one was accepted" is served the same way.
    """

    def __init__(self, size: int = 16) -> None:
        self._items: deque[tuple[str, str, str, str]] = deque(maxlen=size)  # (uri, prefix, suffix, text)

    def remember(self, uri: str, prefix: str, suffix: str, text: str) -> None:
        self._items.append((uri, prefix, suffix, text))

    def lookup(self, uri: str, prefix: str, suffix: str) -> str | None:
        for item_uri, old_prefix, old_suffix, text in reversed(self._items):
            if item_uri != uri or suffix != old_suffix or not prefix.startswith(old_prefix):
                continue
            typed = prefix[len(old_prefix):]
            if len(typed) < len(text) and text.startswith(typed):
                return text[len(typed):]
        return None

    def forget(self, uri: str) -> None:
        self._items = deque((i for i in self._items if i[0] != uri), maxlen=self._items.maxlen)


class Completer:
    def __init__(self, docs: DocumentStore, manager: ModelManager, settings: Callable[[], Settings]) -> None:
        self.docs = docs
        self.manager = manager
        self.settings = settings
        self.recent = RecentSuggestions()
        self.counters = Counters()
        self.history: deque[dict] = deque(maxlen=64)  # per-request stats, newest last (status command)
        self._speculation: asyncio.Future | None = None

    async def suggest(self, uri: str, line: int, character: int, encoding: str, *, max_lines: int | None = None) -> Suggestion | None:
        self.counters.requests += 1
        snap = self.docs.snapshot(uri, line, character, encoding)
        if snap is None:
            return None  # never opened: nothing is read from disk
        settings = self.settings()
        if snap.language_id in settings.disabled_languages or (snap.language or "") in settings.disabled_languages:
            return None
        gate = decide(snap.language, snap.tree, snap.text, snap.offset)
        if not gate.complete:
            self.counters.gated_out += 1
            log.debug("no completion at %s:%d:%d: %s", uri, line, character, gate.reason)
            return None
        if max_lines is not None:
            gate = type(gate)(**{**asdict(gate), "max_lines": min(gate.max_lines, max_lines)})
        prefix, suffix = snap.prefix, snap.suffix
        reused = self.recent.lookup(uri, prefix, suffix)
        if reused:
            self.counters.reused += 1
            self._record(snap, "reuse", {"scope": gate.scope})
            return Suggestion(reused, snap.offset, snap.version, "reuse")
        outcome, result = await self._ask_model(snap, gate, settings)
        stats = {"scope": gate.scope, **(result.get("stats", {}) if result else {})}
        if outcome != "ok":
            self._record(snap, outcome, stats)
            return None
        current = self.docs.get(uri)
        if current is None or current.version != snap.version:
            self.counters.stale_dropped += 1
            self._record(snap, "stale", stats)
            return None
        text = result["text"]
        self._record(snap, "ok" if text else "empty", {**stats, "chars": len(text)})
        if not text:
            return None
        self.recent.remember(uri, prefix, suffix, text)
        if settings.precompute_next:
            self._speculation = asyncio.ensure_future(self._precompute_after(snap, text, settings))
        return Suggestion(text, snap.offset, snap.version, "model", result.get("stats", {}))

    async def _precompute_after(self, snap: Snapshot, text: str, settings: Settings) -> None:
        """While the user reads a suggestion, compute the one that follows its acceptance.

        Runs as an ordinary completion for the document, so any real request supersedes it.
        """
        accepted = snap.text[: snap.offset] + text + snap.text[snap.offset :]
        offset = snap.offset + len(text)
        parser = new_parser(snap.language) if snap.language else None
        tree = parser.parse(accepted.encode("utf-8", "surrogatepass")) if parser else None
        future = Snapshot(snap.uri, snap.version, snap.language, snap.language_id, accepted, offset, tree)
        gate = decide(future.language, future.tree, future.text, future.offset)
        if not gate.complete:
            return
        self.counters.precomputed += 1
        outcome, result = await self._ask_model(future, gate, settings)
        if outcome == "ok" and result and result.get("text"):
            self.recent.remember(snap.uri, future.prefix, future.suffix, result["text"])
            self._record(future, "precomputed", {"scope": gate.scope, **result.get("stats", {})})

    def _record(self, snap: Snapshot, outcome: str, stats: dict | None = None) -> None:
        entry = {"uri": snap.uri, "version": snap.version, "outcome": outcome, **(stats or {})}
        self.history.append(entry)
        log.debug("completion %s", entry)

    async def _ask_model(self, snap: Snapshot, gate: Gate, settings: Settings) -> tuple[str, dict | None]:
        request = make_request(snap, gate, settings)
        self.counters.model_calls += 1
        try:
            return "ok", await self.manager.complete(snap.uri, request)
        except RequestCancelled as exc:
            self.counters.cancelled += 1
            return "cancelled", {"stats": exc.stats}
        except ModelUnavailable as exc:
            self.counters.unavailable += 1
            log.debug("model unavailable: %s", exc)
            return "unavailable", None
        except WorkerError as exc:
            self.counters.errors += 1
            log.warning("completion failed: %s", exc)
            return "error", None
