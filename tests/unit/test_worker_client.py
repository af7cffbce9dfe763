"""The client's side of the worker protocol: each event the worker may send, well formed or not,
and what becomes of the request waiting for it. An event that cannot be read is logged as an
error and fails the request it names (WorkerError) instead of leaving it waiting.

The worker is a stand-in process object whose stdout the test writes to; the real worker is in
tests/e2e/test_worker_protocol.py.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from lsp_server.lsp.model.client import WorkerClient
from lsp_server.worker_protocol import (
    Chat, ChatMessage, ChatResult, Complete, CompletionRequest, CompletionResult, Load, Loaded, LoadFailed, Progress,
    parse_command,
)


class FakeWorker:
    """What WorkerClient uses of an asyncio subprocess: stdin (commands are kept), stdout (fed by
    the test), returncode and wait()."""

    def __init__(self) -> None:
        self.stdout = asyncio.StreamReader()
        self.stdin = self
        self.sent: list = []
        self.returncode: int | None = None

    def write(self, data: bytes) -> None:
        self.sent += [parse_command(line) for line in data.splitlines()]

    def close(self) -> None:
        self.stdout.feed_eof()

    async def wait(self) -> int:
        self.returncode = 0
        return 0

    def says(self, *events: dict | str) -> None:
        for e in events:
            self.stdout.feed_data((e if isinstance(e, str) else json.dumps(e)).encode() + b"\n")


async def _client() -> tuple[WorkerClient, FakeWorker]:
    progress: list = []
    client = WorkerClient(on_progress=progress.append)
    client.progress = progress
    client.proc = worker = FakeWorker()
    client._reader = asyncio.create_task(client._read_events())
    return client, worker


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _outcome(fut: asyncio.Future):
    if not fut.done():
        return "waiting"
    if fut.exception() is not None:
        return type(fut.exception()).__name__
    return fut.result()


COMPLETION = CompletionResult(text="x", raw="x\n", stats={"generated_tokens": 2})

# (what the worker says, the outcome of the completion job "complete-1" and of the chat job
# "chat-2", whether an error is logged)
EVENTS = [
    ({"event": "done", "id": "complete-1", "result": {"text": "x", "raw": "x\n", "stats": {"generated_tokens": 2}}},
     COMPLETION, "waiting", False),
    ({"event": "done", "id": "chat-2", "result": {"text": "hi", "stats": {}}}, "waiting", ChatResult(text="hi"), False),
    ({"event": "cancelled", "id": "complete-1", "stats": {"generated_tokens": 3}, "raw": "ab"}, "RequestCancelled", "waiting",
     False),
    ({"event": "error", "id": "chat-2", "message": "no model is loaded"}, "waiting", "WorkerError", False),
    ({"event": "progress", "stage": "load", "done": 1, "total": 1, "id": None}, "waiting", "waiting", False),
    # a result of the other kind than the job's
    ({"event": "done", "id": "complete-1", "result": {"text": "hi", "stats": {}}}, "WorkerError", "waiting", False),
    ({"event": "done", "id": "chat-2", "result": {"text": "x", "raw": "x", "stats": {}}}, "waiting", "WorkerError", False),
    # events that cannot be read fail the job they name
    ({"event": "done", "id": "complete-1", "result": {"text": 1, "raw": "", "stats": {}}}, "WorkerError", "waiting", True),
    ({"event": "done", "id": "chat-2"}, "waiting", "WorkerError", True),
    ({"event": "cancelled", "id": "complete-1", "stats": {}, "why": "?"}, "WorkerError", "waiting", True),
    ({"event": "finished", "id": "chat-2"}, "waiting", "WorkerError", True),
    ({"event": "partial", "id": "complete-1", "result": None}, "WorkerError", "waiting", True),
    ({"event": "chat_text", "id": "chat-2", "text": None}, "waiting", "WorkerError", True),
    # a streamed chat's text so far: the job goes on
    ({"event": "chat_text", "id": "chat-2", "text": "Beca"}, "waiting", "waiting", False),
    # ... and are logged when they name none
    ("not json at all", "waiting", "waiting", True),
    ({"event": "done", "id": 1, "result": {"text": "x", "raw": "", "stats": {}}}, "waiting", "waiting", True),
    ({"event": "error", "id": None, "message": "bad command: not JSON"}, "waiting", "waiting", True),
    # an answer for a job no one waits for
    ({"event": "done", "id": "complete-9", "result": {"text": "x", "raw": "", "stats": {}}}, "waiting", "waiting", False),
    ({"event": "error", "id": "complete-9", "message": "late"}, "waiting", "waiting", False),
]


@pytest.mark.parametrize("event, completion, chat, logged", EVENTS)
async def test_what_an_event_does_to_the_waiting_jobs(event, completion, chat, logged, caplog):
    client, worker = await _client()
    done = client.submit(Complete(id="complete-1", request=CompletionRequest(prefix="a", suffix="")))
    answered = client.submit(Chat(id="chat-2", messages=[ChatMessage("user", "hi")]))
    assert worker.sent == [Complete(id="complete-1", request=CompletionRequest(prefix="a", suffix="")),
                           Chat(id="chat-2", messages=[ChatMessage("user", "hi")])]
    worker.says(event)
    await _settle()
    assert (_outcome(done), _outcome(answered)) == (completion, chat)
    assert any(r.levelname == "ERROR" for r in caplog.records) == logged
    worker.close()
    await client._reader  # the worker exits: what still waits fails as crashed
    assert [_outcome(done), _outcome(answered)] == [
        "WorkerCrashed" if expected == "waiting" else expected for expected in (completion, chat)]


async def test_an_early_answer_goes_to_its_taker_and_the_job_goes_on():
    client, worker = await _client()
    early: list = []
    done = client.submit(Complete(id="complete-1", request=CompletionRequest(prefix="a", suffix="")), on_partial=early.append)
    worker.says({"event": "partial", "id": "complete-1", "result": {"text": "x", "raw": "x", "stats": {"partial": True}}})
    await _settle()
    assert (early, _outcome(done)) == ([CompletionResult(text="x", raw="x", stats={"partial": True})], "waiting")


async def test_a_streamed_chat_text_goes_to_its_taker_and_the_job_goes_on():
    client, worker = await _client()
    texts: list = []
    answered = client.submit(Chat(id="chat-2", messages=[ChatMessage("user", "hi")], stream=True), on_partial=texts.append)
    worker.says({"event": "chat_text", "id": "chat-2", "text": "Be"}, {"event": "chat_text", "id": "chat-2", "text": "Because"},
                {"event": "chat_text", "id": "chat-9", "text": "not ours"})
    await _settle()
    assert (texts, _outcome(answered)) == (["Be", "Because"], "waiting")
    worker.says({"event": "done", "id": "chat-2", "result": {"text": "Because.", "stats": {}}})
    await _settle()
    assert _outcome(answered) == ChatResult(text="Because.")


# (what the worker says while a load waits, what the load gets)
LOAD_ANSWERS = [
    ({"event": "loaded", "info": {"name": "tiny"}}, Loaded(info={"name": "tiny"})),
    ({"event": "load_failed", "message": "no such file"}, LoadFailed(message="no such file")),
    ({"event": "loaded", "info": "tiny"}, "WorkerError"),
    ({"event": "load_failed"}, "WorkerError"),
    ({"event": "error", "id": None, "message": "bad command: 'load': extra fields found (x) @ $"}, "WorkerError"),
    ({"event": "progress", "stage": "load", "done": "0", "total": 1}, "waiting"),  # logged only
    ({"event": "error", "id": "load", "message": "?"}, "waiting"),  # no job has that id: logged only
]


@pytest.mark.parametrize("event, outcome", LOAD_ANSWERS)
async def test_what_an_event_does_to_a_waiting_load(event, outcome):
    client, worker = await _client()
    load = asyncio.ensure_future(client.load(Load(path="/m.gguf")))
    await _settle()
    assert worker.sent == [Load(path="/m.gguf")]
    worker.says({"event": "progress", "stage": "load", "done": 0, "total": 1}, event)
    await _settle()
    assert client.progress[0] == Progress(stage="load", done=0, total=1)
    assert _outcome(load) == outcome
    worker.close()
    await client._reader
    load.cancel()


async def test_a_cancelled_call_cancels_the_job_in_the_worker():
    client, worker = await _client()
    task = asyncio.ensure_future(client.call(Chat(id="chat-1", messages=[])))
    await _settle()
    task.cancel()
    await _settle()
    assert worker.sent[-1] == parse_command('{"op": "cancel", "id": "chat-1"}')
    worker.says({"event": "cancelled", "id": "chat-1", "stats": {}})
    await _settle()
    assert client.counters["cancelled_jobs"] == 1
    with pytest.raises(asyncio.CancelledError):
        await task
