"""From (document, position) to a suggestion: snapshot, gating, reuse, model call, staleness.

Owns the request-side flow that both completion features and the one-shot CLI share: take a
snapshot of the document, ask the gating whether and how much to complete, serve the rest of the
previous suggestion when the user typed exactly what it proposed (`reuse`), otherwise take over
the result of the document's followed job (`follow`) or ask the model (a newer request for the
same document supersedes an older one), and drop a result computed for a document version that
has since changed. A model job its request no longer waits for (the client cancelled it because
the user typed on, or it answered early) is handed to the follower or stopped. Knows nothing of
LSP types (features adapt them); the follow-typing rules are the follower's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from lsp_server.lsp.completion.follow import CallLater, Follower
from lsp_server.lsp.completion.request import make_request
from lsp_server.lsp.completion.reuse import RecentSuggestions
from lsp_server.lsp.completion.scope_context import ScopeContexts
from lsp_server.lsp.documents import DocumentStore, Snapshot
from lsp_server.lsp.model.client import RequestCancelled, WorkerError
from lsp_server.lsp.model.manager import ModelManager, ModelUnavailable
from lsp_server.lsp.settings import Settings
from lsp_server.syntax.gating import Gate, decide
from lsp_server.syntax.languages import new_parser
from lsp_server.worker_protocol import ContextFile

log = logging.getLogger(__name__)

# (uri, offset) -> ([(context piece, why it was chosen)], workspace folder name), or None
ContextFor = Callable[[str, int], "tuple[list[tuple[ContextFile, str]], str] | None"]


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
    followed: int = 0  # jobs kept running after their request was cancelled (the user typed on) or answered early
    followed_used: int = 0  # of those, jobs whose result served a later request
    followed_used_tokens: int = 0  # tokens those generated
    # requests answered early with a completion's first lines (`partialAfterMs`); the status
    # command reports it under this name
    partial: int = 0


def _early(result: dict | None) -> bool:
    """Is `result` a job's early answer (the manager marks one `partial`; the job goes on)?"""
    return bool(result and result.get("partial"))


class Completer:
    """`call_later` schedules the follower's expiry (the running event loop's by default)."""

    def __init__(self, docs: DocumentStore, manager: ModelManager, settings: Callable[[], Settings],
                 *, call_later: CallLater | None = None, context_for: ContextFor | None = None,
                 context_stamp: Callable[[str], object] | None = None) -> None:
        self.docs = docs
        self.manager = manager
        self.settings = settings
        self.recent = RecentSuggestions()
        self.counters = Counters()
        self.history: deque[dict] = deque(maxlen=64)  # per-request stats, newest last (status command)
        self.follower = Follower(docs, manager, self.recent, self._followed_used, call_later)
        self._speculation: asyncio.Future | None = None
        self.context_for = context_for  # the workspace index's context at a position (None: no index)
        # changes when what a document's context is chosen from changes (other files, the index)
        self.context_stamp = context_stamp or (lambda uri: None)
        self.scope_contexts: ScopeContexts[tuple[tuple[ContextFile, ...], str]] = ScopeContexts()
        self._revealed: tuple[str, int] | None = None  # the line the worker last computed a prompt for
        self._pending_reveal: tuple[str, int, int, str] | None = None  # shown while the model loaded
        self._reveal_task: asyncio.Future | None = None

    def reveal(self, uri: str, line: int, character: int, encoding: str) -> bool:
        """The editor showed the user this place (it asked for code actions there, or said the
        cursor rests there): have the worker compute the prompt of a request here while it is
        idle (`prefill` setting). Once per line: typing on the line is the warm path. Returns
        whether it asked."""
        settings = self.settings()
        if not settings.prefill or self._revealed == (uri, line):
            return False
        snap = self.docs.snapshot(uri, line, character, encoding)
        if snap is None or snap.is_one_of(settings.disabled_languages):
            return False
        if not self.manager.prefill(make_request(snap, None, settings, *self._context(snap, settings))):
            self._reveal_once_ready((uri, line, character, encoding))
            return False
        self._revealed = (uri, line)
        log.debug("prefill at %s:%d:%d", uri, line, character)
        return True

    def _reveal_once_ready(self, where: tuple[str, int, int, str]) -> None:
        """The model is not ready: the newest place shown is prefilled once it is, however long the
        load takes (no one waits for a prefill, and the cursor resting there says nothing again)."""
        self._pending_reveal = where
        if self._reveal_task is not None and not self._reveal_task.done():
            return

        async def later() -> None:
            if await self.manager.until_ready(None) and self._pending_reveal:
                where, self._pending_reveal = self._pending_reveal, None
                self.reveal(*where)

        try:
            self._reveal_task = asyncio.ensure_future(later())
        except RuntimeError:  # no event loop running (a synchronous caller): nothing to wait in
            self._reveal_task = None

    async def suggest(self, uri: str, line: int, character: int, encoding: str, *, max_lines: int | None = None) -> Suggestion | None:
        self.counters.requests += 1
        self._revealed = (uri, line)  # the request computes this line's prompt itself
        snap = self.docs.snapshot(uri, line, character, encoding)
        if snap is None:
            return None  # never opened: nothing is read from disk
        settings = self.settings()
        if snap.is_one_of(settings.disabled_languages):
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
        adopted = await self.follower.adopt(snap)
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
        if settings.precompute_next and not _early(result):
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

    @staticmethod
    def uses_context(snap: Snapshot, settings: Settings) -> bool:
        """Whether completions in `snap`'s document get the cross-file context (`crossFileContext`,
        for the languages of `crossFileContextLanguages`)."""
        return settings.cross_file_context and snap.is_one_of(settings.cross_file_context_languages)

    def _context(self, snap: Snapshot, settings: Settings) -> tuple[tuple[ContextFile, ...], str]:
        """(the cross-file context of the snapshot's cursor, the workspace folder's name), when the
        `crossFileContext` setting is on for its language (`crossFileContextLanguages`); a failure of
        the index costs the context, not the request."""
        if not self.uses_context(snap, settings) or self.context_for is None:
            return (), ""
        # held while the cursor stays in one scope: a change would recompute the whole window after it
        return self.scope_contexts.get(snap, lambda: self._select_context(snap), worth_holding=lambda found: bool(found[0]),
                                       stamp=self.context_stamp(snap.uri))

    def _select_context(self, snap: Snapshot) -> tuple[tuple[ContextFile, ...], str]:
        try:
            found = self.context_for(snap.uri, snap.offset)
        except Exception:  # the index is best-effort: complete without it
            log.exception("cross-file context failed for %s", snap.uri)
            return (), ""
        if found is None:
            return (), ""
        context, repo = found
        if context and log.isEnabledFor(logging.DEBUG):
            log.debug("context for %s:%d: %s", snap.uri, snap.offset, "; ".join(f"{c.path} ({why})" for c, why in context))
        return tuple(c for c, _ in context), repo

    async def _ask_model(self, snap: Snapshot, gate: Gate, settings: Settings) -> tuple[str, dict | None]:
        request = make_request(snap, gate, settings, *self._context(snap, settings))
        # a request made while the model loads is held until it is ready (the client may cancel it)
        if not await self.manager.until_ready(settings.wait_for_model_ms / 1000):
            self.counters.unavailable += 1
            log.debug("no model ready after waiting %d ms", settings.wait_for_model_ms)
            return "unavailable", None
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
            self._let_go(job_id, snap, future, follow=settings.follow_typing)
            raise
        if outcome == "ok" and _early(result):
            if future.done() and not future.cancelled() and future.exception() is None:
                return "ok", future.result()  # it finished meanwhile: the whole answer
            # answered early: the job goes on for the rest, which the next request at the cursor takes
            self.counters.partial += 1
            self._let_go(job_id, snap, future, follow=True, early=True)
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

    # -- the job a request no longer waits for ----------------------------------------------------
    def _let_go(self, job_id: str, snap: Snapshot, future: asyncio.Future, *, follow: bool, early: bool = False) -> None:
        """The job no longer stands for the document's newest request: the follower keeps it
        running if `follow` and the user types on at its cursor, else it stops."""
        self.manager.release(snap.uri, job_id)
        if follow and self.follower.follow(job_id, snap, future, early=early):
            self.counters.followed += 1
        else:
            self.manager.cancel(job_id)

    def _followed_used(self, result: dict) -> None:
        """A followed job's result served a request (once a job)."""
        self.counters.followed_used += 1
        self.counters.followed_used_tokens += int(result.get("stats", {}).get("generated_tokens", 0))

    def document_changed(self, uri: str) -> None:
        """After an edit: a followed job goes on only if the edit typed on at its cursor."""
        self.follower.document_changed(uri)
