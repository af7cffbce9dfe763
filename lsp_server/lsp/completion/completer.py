"""From (document, position) to a suggestion: snapshot, gating, reuse, model call, staleness.

Owns the request-side flow that both completion features and the one-shot CLI share: take a
snapshot of the document, ask the gating whether and how much to complete, serve the rest of the
previous suggestion when the user typed exactly what it proposed (also where the editor closed a
bracket or quote after the cursor: `autoclose`), otherwise ask the model (a
newer request for the same document supersedes an older one), and drop a result computed for a
document version that has since changed. A model job whose request the client cancels because
the user typed on is followed (`followTyping`): it goes on while the typing agrees with what it
generates, and the next request takes its result over. Knows nothing of LSP types (features
adapt them).
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote, urlparse

from lsp_server.lsp.completion.autoclose import rest_of, typed_part
from lsp_server.lsp.settings import Settings
from lsp_server.lsp.documents import DocumentStore, Snapshot
from lsp_server.lsp.model.client import RequestCancelled, WorkerError
from lsp_server.lsp.model.manager import ModelManager, ModelUnavailable
from lsp_server.syntax.gating import Gate, decide
from lsp_server.syntax.languages import new_parser
from lsp_server.worker_protocol import CompletionRequest

log = logging.getLogger(__name__)

PREFIX_CHARS = 48_000  # text sent to the worker around the cursor; windows are cut in tokens there
SUFFIX_CHARS = 16_000
# A request cancelled with no text typed at its cursor yet: its job is followed this long for the
# keystroke's change to arrive (clients send the cancel and the change in either order).
FOLLOW_WAIT_S = 0.1


@dataclass
class Suggestion:
    text: str
    offset: int  # where it is inserted (string offset in the snapshot's text)
    version: int
    source: str  # "model", "reuse" (the rest of a recent suggestion) or "followed" (a job of an earlier keystroke)
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
    followed: int = 0  # jobs kept running after their request was cancelled (the user typed on)
    followed_used: int = 0  # of those, jobs whose result served a later request
    followed_used_tokens: int = 0  # tokens those generated
    partial: int = 0  # requests answered early with a completion's first lines (`partialAfterMs`)


def document_path(uri: str) -> str:
    """A short path for the prompt's file header: the last two path components of the URI."""
    parsed = urlparse(uri)
    path = unquote(parsed.path or parsed.netloc or uri)
    parts = [p for p in path.split("/") if p]
    return posixpath.join(*parts[-2:]) if parts else ""


def make_request(snap: Snapshot, gate: Gate, settings: Settings) -> CompletionRequest:
    """The worker's completion request for a snapshot and a gate."""
    return CompletionRequest(
        prefix=snap.text[max(0, snap.offset - PREFIX_CHARS): snap.offset],
        suffix=snap.text[snap.offset: snap.offset + SUFFIX_CHARS],
        path=document_path(snap.uri),
        language=snap.language,
        gate=gate,
        max_tokens=settings.max_tokens,
        latency_target_ms=settings.latency_target_ms,
        prefix_tokens=settings.prefix_tokens,
        suffix_tokens=settings.suffix_tokens,
        # the rest of an early answer is generated for the next request, which takes it over
        # only when jobs are followed
        partial_after_ms=settings.partial_after_ms if settings.follow_typing else 0,
    )


class RecentSuggestions:
    """A small cache of recent suggestions, keyed by document and the text around the cursor.

    When the user types a prefix of what was suggested, the rest is served without the model;
    a suggestion precomputed for "the previous one was accepted" is served the same way.
    """

    def __init__(self, size: int = 16) -> None:
        # (uri, prefix, suffix, text, called the first time the entry serves a request)
        self._items: deque[tuple[str, str, str, str, Callable[[], None] | None]] = deque(maxlen=size)

    def remember(self, uri: str, prefix: str, suffix: str, text: str, on_use: Callable[[], None] | None = None) -> None:
        self._items.append((uri, prefix, suffix, text, on_use))

    def lookup(self, uri: str, prefix: str, suffix: str) -> str | None:
        """The rest of a recent suggestion whose start the user typed since (with the closing
        brackets or quotes an editor added after the cursor: `autoclose`)."""
        for i in range(len(self._items) - 1, -1, -1):
            item_uri, old_prefix, old_suffix, text, on_use = self._items[i]
            if item_uri != uri or not prefix.startswith(old_prefix) or not suffix.endswith(old_suffix):
                continue
            rest = rest_of(text, prefix[len(old_prefix):], suffix[: len(suffix) - len(old_suffix)])
            if rest is not None:
                if on_use is not None:
                    self._items[i] = (item_uri, old_prefix, old_suffix, text, None)
                    on_use()
                return rest
        return None

    def forget(self, uri: str) -> None:
        self._items = deque((i for i in self._items if i[0] != uri), maxlen=self._items.maxlen)


def typed_at(old_text: str, offset: int, new_text: str) -> str | None:
    """What was inserted at `offset` of `old_text` to give `new_text`; None if it was any other
    edit (text before or after that point changed)."""
    tail = len(old_text) - offset
    if len(new_text) < len(old_text) or not new_text.startswith(old_text[:offset]):
        return None
    if tail and not new_text.endswith(old_text[offset:]):
        return None
    return new_text[offset : len(new_text) - tail]


@dataclass
class _Followed:
    """A model job whose request the client cancelled while the user typed at its cursor."""

    job_id: str
    snap: Snapshot
    future: asyncio.Future
    typed: str = ""
    used: bool = False


class Completer:
    def __init__(self, docs: DocumentStore, manager: ModelManager, settings: Callable[[], Settings]) -> None:
        self.docs = docs
        self.manager = manager
        self.settings = settings
        self.recent = RecentSuggestions()
        self.counters = Counters()
        self.history: deque[dict] = deque(maxlen=64)  # per-request stats, newest last (status command)
        self._speculation: asyncio.Future | None = None
        self._followed: dict[str, _Followed] = {}  # uri -> its followed job

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
        adopted = await self._adopt(snap)
        outcome, result = ("ok", adopted) if adopted is not None else await self._ask_model(snap, gate, settings)
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
        if settings.precompute_next and not result.get("partial"):
            self._speculation = asyncio.ensure_future(self._precompute_after(snap, text, settings))
        return Suggestion(text, snap.offset, snap.version, "followed" if adopted is not None else "model", result.get("stats", {}))

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
            job_id, future, first = self.manager.start_complete(snap.uri, request)
        except ModelUnavailable as exc:
            self.counters.unavailable += 1
            log.debug("model unavailable: %s", exc)
            return "unavailable", None
        try:
            outcome, result = await self._outcome(first)
        except asyncio.CancelledError:
            # the client gave the request up: follow the job if the user typed on at its cursor
            self.manager.release(snap.uri, job_id)
            if not (settings.follow_typing and self._follow(job_id, snap, future)):
                self.manager.cancel(job_id)
            raise
        if outcome == "ok" and result and result.get("partial"):
            if future.done() and not future.cancelled() and future.exception() is None:
                return "ok", future.result()  # it finished meanwhile: the whole answer
            # answered early: the job goes on for the rest, which the next request at the cursor takes
            self.counters.partial += 1
            self.manager.release(snap.uri, job_id)
            if not self._follow(job_id, snap, future, answered=True):
                self.manager.cancel(job_id)
        return outcome, result

    async def _outcome(self, future: asyncio.Future) -> tuple[str, dict | None]:
        try:
            return "ok", await self.manager.result(future)
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

    # -- following a job whose request was cancelled ---------------------------------------------
    def _follow(self, job_id: str, snap: Snapshot, future: asyncio.Future, *, answered: bool = False) -> bool:
        """Keep the job running for `snap`'s document while the user types at its cursor.
        `answered`: its request took its early answer (the user reads it: no wait for a keystroke)."""
        doc = self.docs.get(snap.uri)
        typed = typed_at(snap.text, snap.offset, doc.text) if doc is not None else None
        if typed is None or future.done():
            return False
        previous = self._followed.get(snap.uri)
        if previous is not None:
            self._unfollow(previous)
        followed = _Followed(job_id, snap, future, typed)
        self._followed[snap.uri] = followed
        self.counters.followed += 1
        self.manager.follow(job_id, typed_part(typed))
        future.add_done_callback(lambda f: self._followed_done(followed, f))
        if not typed and not answered:  # the cancel came before the keystroke's change (or without one)
            asyncio.get_running_loop().call_later(FOLLOW_WAIT_S, self._expire, followed)
        return True

    def _expire(self, followed: _Followed) -> None:
        if not followed.typed:
            self._unfollow(followed)

    def document_changed(self, uri: str) -> None:
        """After an edit: a followed job goes on only if the edit typed on at its cursor."""
        followed = self._followed.get(uri)
        if followed is None:
            return
        doc = self.docs.get(uri)
        typed = typed_at(followed.snap.text, followed.snap.offset, doc.text) if doc is not None else None
        if typed is None:
            self._unfollow(followed)
        elif typed != followed.typed:
            followed.typed = typed
            self.manager.follow(followed.job_id, typed_part(typed))

    def _unfollow(self, followed: _Followed) -> None:
        if self._followed.get(followed.snap.uri) is followed:
            del self._followed[followed.snap.uri]
        if not followed.future.done():
            self.manager.cancel(followed.job_id)

    def _followed_done(self, followed: _Followed, future: asyncio.Future) -> None:
        if self._followed.get(followed.snap.uri) is followed:
            del self._followed[followed.snap.uri]
        if future.cancelled() or future.exception() is not None:
            return
        result = future.result()
        if result.get("text") and not followed.used:  # nobody took it over: keep it for the next request
            snap = followed.snap
            self.recent.remember(snap.uri, snap.prefix, snap.suffix, result["text"], lambda: self._used(followed, result))

    def _used(self, followed: _Followed, result: dict) -> None:
        if not followed.used:
            followed.used = True
            self.counters.followed_used += 1
            self.counters.followed_used_tokens += int(result.get("stats", {}).get("generated_tokens", 0))

    async def _adopt(self, snap: Snapshot) -> dict | None:
        """The result of the document's followed job, for a request made after the user typed
        on at its cursor: what is left of it after what was typed (up to the closers an editor
        added after the cursor), when it begins with that. None: no such job,
        or its result does not fit (the caller asks the model)."""
        followed = self._followed.get(snap.uri)
        if followed is None:
            return None
        typed = typed_at(followed.snap.text, followed.snap.offset, snap.text)
        if typed is None:
            self._unfollow(followed)
            return None
        # the request's cursor splits it into what was typed and the closers an editor added
        cut = snap.offset - followed.snap.offset
        if not 0 <= cut <= len(typed):
            self._unfollow(followed)  # the request is elsewhere: the job's text is of no use to it
            return None
        try:
            result = await self.manager.result(followed.future)
        except (RequestCancelled, ModelUnavailable, WorkerError):
            return None  # it stopped (the typing turned away from it) or failed: ask the model
        rest = rest_of(result.get("text", ""), typed[:cut], typed[cut:])
        if rest is None:
            return None
        self._used(followed, result)
        return {**result, "text": rest}
