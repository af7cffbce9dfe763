"""Running one chat job for a feature: progress, cancellation, and what the user is told.

Shared by `code_actions`, `translate` and `explain` (not a feature itself: it registers nothing).
Owns `run_chat` (and `chat_or_reason`, its outcome in words for the user): server-initiated `$/progress` (cancellable) when the client supports it, and the
wiring that turns a progress cancel into cancelling the awaiting task (the model client then
cancels the job in the worker, between tokens; `$/cancelRequest` cancels that task directly, see
`server.Protocol`), and streaming: with `on_text`, the text so far is passed on as the model
writes it and its last line is the progress message. Must not build prompts.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from lsprotocol import types

from lsp_server.i18n.messages import _
from lsp_server.lsp.model.client import RequestCancelled, WorkerError
from lsp_server.lsp.model.manager import ModelUnavailable

log = logging.getLogger(__name__)

PROGRESS_CREATE_TIMEOUT = 5.0
PROGRESS_CHARS = 80


@dataclass
class ChatCounters:
    chats: int = 0
    cancelled: int = 0
    failed: int = 0


def counters(ls) -> ChatCounters:
    if not hasattr(ls, "chat_counters"):
        ls.chat_counters = ChatCounters()
    return ls.chat_counters


def _cancel_task_when_cancelled(fut: Future | asyncio.Future | None, task: asyncio.Task) -> None:
    if fut is None:
        return
    loop = asyncio.get_running_loop()

    def done(f) -> None:
        if f.cancelled():
            loop.call_soon_threadsafe(task.cancel)

    fut.add_done_callback(done)


async def run_chat(ls, title: str, messages: list[dict], max_tokens: int,
                   on_text: Callable[[str], None] | None = None) -> str:
    """The model's answer to `messages`. Raises ModelUnavailable, WorkerError, RequestCancelled,
    or asyncio.CancelledError when the client cancels."""
    stats = counters(ls)
    stats.chats += 1
    token = await _begin_progress(ls, title)
    task = asyncio.current_task()
    if token is not None and task is not None:
        _cancel_task_when_cancelled(ls.work_done_progress.tokens.get(token), task)
    ended = "done"
    try:
        streamed = None
        if on_text is not None:
            def streamed(text: str) -> None:
                on_text(text)
                if token is not None:
                    ls.work_done_progress.report(token, types.WorkDoneProgressReport(message=progress_line(text)))
        result = await ls.manager.chat(messages, max_tokens=max_tokens, on_text=streamed)
        return str(result.get("text", ""))
    except asyncio.CancelledError:
        stats.cancelled += 1
        ended = "cancelled"
        raise
    except Exception:
        stats.failed += 1
        ended = "failed"
        raise
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=ended))
            ls.work_done_progress.tokens.pop(token, None)


def progress_line(text: str, width: int = PROGRESS_CHARS) -> str:
    """The end of the text so far, on one line, for a progress message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else "…" + flat[-(width - 1):]


async def chat_or_reason(ls, title: str, messages: list[dict], max_tokens: int, *, uri: str, version: int,
                         cancelled: str, changed: str) -> tuple[str | None, str]:
    """`run_chat`'s answer about document `uri` at `version`, or None and why there is none in
    words for the user: `cancelled` when the job was cancelled in the worker, `changed` when the
    document is no longer at `version` once the model answered."""
    try:
        answer = await run_chat(ls, title, messages, max_tokens)
    except ModelUnavailable as exc:
        return None, _("the model is not ready ({error})", error=exc)
    except RequestCancelled:
        return None, cancelled
    except WorkerError as exc:
        return None, _("the model failed: {error}", error=exc)
    current = ls.docs.get(uri)
    if current is None or current.version != version:
        return None, changed
    return answer, ""


async def _begin_progress(ls, title: str) -> str | None:
    if not ls._supports_progress():
        return None
    token = f"local-llm-lsp-chat-{uuid.uuid4().hex[:8]}"
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), PROGRESS_CREATE_TIMEOUT)
    except Exception as exc:  # a client that refuses or never answers: no progress, same work
        log.debug("no progress for %s: %s", title, exc)
        return None
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True,
                                                                    message=_("waiting for the model")))
    return token
