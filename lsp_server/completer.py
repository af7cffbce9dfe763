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
# A job whose request the client cancelled (the user typed on) keeps running this long, so that
# the next request can take its result over instead of starting again (see `Completer._adopt`).
ADOPT_GRACE_S = 1.0
ADOPT_MAX_TYPED = 32  # characters typed since the job's snapshot, at most, for it to be adopted


@dataclass
class Suggestion:
    text: str
    offset: int  # where it is inserted (string offset in the snapshot's text)
    version: int
    source: str  # "model", "reuse" (the rest of a recent suggestion) or "adopted" (a job started for an earlier keystroke)
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
    adopted: int = 0  # requests answered by a job started for an earlier keystroke


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


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


@dataclass
class _InFlight:
    """A model job for a document: the snapshot it is for, and who still waits for it."""

    prefix: str
    suffix: str
    task: asyncio.Future
    waiters: int = 1


class Completer:
    def __init__(self, docs: DocumentStore, manager: ModelManager, settings: Callable[[], Settings]) -> None:
        self.docs = docs
        self.manager = manager
        self.settings = settings
        self.recent = RecentSuggestions()
        self.counters = Counters()
        self.history: deque[dict] = deque(maxlen=64)  # per-request stats, newest last (status command)
        self._speculation: asyncio.Future | None = None
        self._inflight: dict[str, _InFlight] = {}  # uri -> the newest model job for it

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
        source = "adopted"
        adopted = await self._adopt(uri, prefix, suffix)
        if adopted is None:
            source = "model"
            outcome, result = await self._model_job(snap, gate, settings)
        else:
            outcome, result = adopted
            self.counters.adopted += 1
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
        self._record(snap, ("ok" if source == "model" else source) if text else "empty", {**stats, "chars": len(text)})
        if not text:
            return None
        self.recent.remember(uri, prefix, suffix, text)
        if settings.precompute_next:
            self._speculation = asyncio.ensure_future(self._precompute_after(snap, text, settings))
        return Suggestion(text, snap.offset, snap.version, source, result.get("stats", {}))

    async def _model_job(self, snap: Snapshot, gate: Gate, settings: Settings) -> tuple[str, dict | None]:
        """Ask the model in a job that outlives this request by ADOPT_GRACE_S if the client cancels
        it: the user typed on, and the next request may take the result over (`_adopt`), or find
        it among the recent suggestions."""
        task = asyncio.ensure_future(self._ask_model(snap, gate, settings))
        flight = _InFlight(snap.prefix, snap.suffix, task)
        self._inflight[snap.uri] = flight
        task.add_done_callback(lambda t: self._landed(snap.uri, flight))
        return await self._wait(flight)

    async def _wait(self, flight: _InFlight) -> tuple[str, dict | None]:
        try:
            return await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            if not flight.task.done():
                flight.waiters -= 1
                asyncio.get_running_loop().call_later(ADOPT_GRACE_S, self._expire, flight)
            raise

    def _expire(self, flight: _InFlight) -> None:
        if flight.waiters <= 0 and not flight.task.done():
            flight.task.cancel()  # stops the job in the worker (ModelManager / WorkerClient)

    def _landed(self, uri: str, flight: _InFlight) -> None:
        if self._inflight.get(uri) is flight:
            del self._inflight[uri]
        if flight.task.cancelled() or flight.waiters > 0:
            return
        outcome, result = flight.task.result()
        if outcome == "ok" and result and result.get("text"):  # nobody waits: keep it for a later keystroke
            self.recent.remember(uri, flight.prefix, flight.suffix, result["text"])

    async def _adopt(self, uri: str, prefix: str, suffix: str) -> tuple[str, dict | None] | None:
        """Take over the running job of an earlier keystroke whose request the client cancelled,
        when the user only typed on since
        (the same text after the cursor, the text before it extended by at most ADOPT_MAX_TYPED
        characters): its result, without what was typed, when it begins with what was typed.
        None: nothing to adopt, or its result does not fit (the caller asks the model)."""
        flight = self._inflight.get(uri)
        if flight is None or flight.task.done() or flight.waiters > 0:
            return None  # a job still awaited by its own request is superseded, not shared
        if flight.suffix != suffix or not prefix.startswith(flight.prefix):
            return None
        typed = prefix[len(flight.prefix):]
        if len(typed) > ADOPT_MAX_TYPED:
            return None
        flight.waiters += 1
        try:
            outcome, result = await self._wait(flight)
        except asyncio.CancelledError:
            if flight.task.cancelled() and not _current_task_cancelling():
                return None  # the job was stopped (a newer job for the document): ask the model
            raise
        if outcome != "ok" or not result:
            return None
        text = result.get("text", "")
        if typed and not (text.startswith(typed) and len(text) > len(typed)):
            return None
        return outcome, {**result, "text": text[len(typed):]}

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
