"""Following a model job that its request no longer waits for, while the user types on at its cursor.

Owns the follow-typing state machine (`followTyping`), at most one followed job per document: a
job whose request the client cancelled, or that answered early, goes on while each edit of its
document inserts text at its cursor, and that typing is sent to the worker (which stops the job
at the first character that disagrees with what it writes). The job is stopped when an edit is
anything else, when the next request comes from elsewhere, or, if nothing was typed yet, when no
keystroke comes within FOLLOW_WAIT_S. The next request at the cursor takes its result over
(`adopt`); a result that nobody took goes to the recent suggestions.

Does not start jobs or decide which ones to follow (the completer does), and knows nothing of
LSP types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from lsp_server.lsp.completion.autoclose import rest_of, typed_part
from lsp_server.lsp.completion.reuse import RecentSuggestions, typed_at
from lsp_server.lsp.documents import DocumentStore, Snapshot
from lsp_server.lsp.model.client import RequestCancelled, WorkerError
from lsp_server.lsp.model.manager import ModelManager, ModelUnavailable

# A request cancelled with no text typed at its cursor yet: its job is followed this long for the
# keystroke's change to arrive (clients send the cancel and the change in either order).
FOLLOW_WAIT_S = 0.1

CallLater = Callable[..., object]  # (delay in seconds, callback, *args), as the event loop's call_later


@dataclass
class _Followed:
    """A model job kept running for its request's cursor (the request cancelled or answered early)."""

    job_id: str
    snap: Snapshot
    future: asyncio.Future
    typed: str = ""
    used: bool = False


class Follower:
    """The followed jobs, by document. `on_used` is called with a followed job's result the first
    time it serves a request; `call_later` schedules the FOLLOW_WAIT_S expiry (the running event
    loop's by default)."""

    def __init__(self, docs: DocumentStore, manager: ModelManager, recent: RecentSuggestions,
                 on_used: Callable[[dict], None], call_later: CallLater | None = None) -> None:
        self.docs = docs
        self.manager = manager
        self.recent = recent
        self.on_used = on_used
        self._call_later = call_later
        self._followed: dict[str, _Followed] = {}  # uri -> its followed job

    def follow(self, job_id: str, snap: Snapshot, future: asyncio.Future, *, early: bool = False) -> bool:
        """Keep the job running for `snap`'s document while the user types at its cursor; False
        when the document was edited elsewhere or the job is over (the caller stops it).
        `early`: its request took its early answer (the user reads it: no wait for a keystroke)."""
        doc = self.docs.get(snap.uri)
        typed = _typed_since(snap, doc.text if doc is not None else None)
        if typed is None or future.done():
            return False
        previous = self._followed.get(snap.uri)
        if previous is not None:
            self._unfollow(previous)
        followed = _Followed(job_id, snap, future, typed)
        self._followed[snap.uri] = followed
        self.manager.follow(job_id, typed_part(typed))
        future.add_done_callback(lambda f: self._done(followed, f))
        if not typed and not early:  # the cancel came before the keystroke's change (or without one)
            call_later = self._call_later or asyncio.get_running_loop().call_later
            call_later(FOLLOW_WAIT_S, self._expire, followed)
        return True

    def document_changed(self, uri: str) -> None:
        """After an edit: a followed job goes on only if the edit typed on at its cursor."""
        followed = self._followed.get(uri)
        if followed is None:
            return
        doc = self.docs.get(uri)
        typed = _typed_since(followed.snap, doc.text if doc is not None else None)
        if typed is None:
            self._unfollow(followed)
        elif typed != followed.typed:
            followed.typed = typed
            self.manager.follow(followed.job_id, typed_part(typed))

    async def adopt(self, snap: Snapshot) -> dict | None:
        """The result of the document's followed job, for a request made after the user typed
        on at its cursor: what is left of it after what was typed (up to the closers an editor
        added after the cursor), when it begins with that. None: no such job,
        or its result does not fit (the caller asks the model)."""
        followed = self._followed.get(snap.uri)
        if followed is None:
            return None
        typed = _typed_since(followed.snap, snap.text)
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

    def _expire(self, followed: _Followed) -> None:
        if not followed.typed:
            self._unfollow(followed)

    def _unfollow(self, followed: _Followed) -> None:
        if self._followed.get(followed.snap.uri) is followed:
            del self._followed[followed.snap.uri]
        if not followed.future.done():
            self.manager.cancel(followed.job_id)

    def _done(self, followed: _Followed, future: asyncio.Future) -> None:
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
            self.on_used(result)


def _typed_since(snap: Snapshot, text: str | None) -> str | None:
    """What was typed at `snap`'s cursor to give `text` (None: no such document or another edit)."""
    return typed_at(snap.text, snap.offset, text) if text is not None else None
