"""How far a followed job may run ahead of the typing: the token count the pipeline measures,
and the worker's wait (driven through its real command reader, as the server's lines arrive)."""

from __future__ import annotations

import io
import json
import queue
import threading
import time

import pytest

from lsp_server.model import worker as worker_module
from lsp_server.model.worker import Job, Worker
from lsp_server.pipeline import tokens_ahead


@pytest.mark.parametrize(
    "pieces, chars, expected",
    [
        (["foo", "(", "x", ")"], 0, 0),  # level with the typing
        (["foo", "(", "x", ")"], 1, 1),
        (["foo", "(", "x", ")"], 2, 2),
        (["foo", "(", "x", ")"], 3, 3),
        (["foo", "(", "x", ")"], 4, 4),  # the last "o" of the piece "foo": that token counts whole
        (["foo", "(", "x", ")"], 99, 4),  # never more tokens than were generated
        (["a", "", "b"], 1, 1),  # an empty piece (a partial UTF-8 character) after the rest
        ([], 3, 0),
        (["abc"], -2, 0),  # the typing is ahead of the job
    ],
)
def test_tokens_ahead(pieces, chars, expected):
    assert tokens_ahead(pieces, chars) == expected


class Commands:
    """The worker's stdin: lines put here reach its reader thread."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def send(self, **msg) -> None:
        self.q.put(json.dumps(msg) + "\n")

    def __iter__(self):
        while (line := self.q.get()) is not None:
            yield line


@pytest.fixture
def worker():
    w = Worker(io.StringIO())
    commands = Commands()
    reader = threading.Thread(target=w.read_commands, args=(commands,), daemon=True)
    reader.start()
    job = Job("complete", "complete-1", {}, 1, typed="de")
    w.running = job
    yield w, commands, job
    commands.q.put(None)
    reader.join(5)


def hold_in_thread(w: Worker, job: Job, typed: str, ahead: int) -> tuple[threading.Thread, list]:
    out: list = []
    t = threading.Thread(target=lambda: out.append(w._hold(job, typed, ahead)), daemon=True)
    t.start()
    return t, out


def test_below_the_limit_or_without_one_it_does_not_wait(worker):
    w, _, job = worker
    job.ahead = 4
    assert w._hold(job, "de", 3) is True
    job.ahead = None
    assert w._hold(job, "de", 100) is True


@pytest.mark.parametrize(
    "command, result",
    [
        ({"op": "follow", "id": "complete-1", "typed": "def", "ahead": 4}, True),  # the user typed on
        ({"op": "follow", "id": "complete-1", "typed": "de", "ahead": None}, True),  # a request took it over
        ({"op": "follow", "id": "complete-1", "typed": "de", "ahead": 8}, True),  # a larger limit
        ({"op": "cancel", "id": "complete-1"}, True),  # the generation loop then sees it cancelled
        ({"op": "complete", "id": "complete-2", "request": {}}, False),  # other work: give up
    ],
)
def test_at_the_limit_it_waits_until_something_changes(worker, command, result):
    w, commands, job = worker
    job.ahead = 4
    t, out = hold_in_thread(w, job, "de", 4)
    time.sleep(0.2)
    assert t.is_alive() and not out  # waiting
    commands.send(**command)
    t.join(5)
    assert out == [result]


def test_a_follow_for_another_job_does_not_wake_it(worker):
    w, commands, job = worker
    job.ahead = 4
    t, out = hold_in_thread(w, job, "de", 4)
    commands.send(op="follow", id="complete-9", typed="xyz", ahead=None)
    time.sleep(0.2)
    assert t.is_alive() and not out
    commands.send(op="follow", id="complete-1", typed="def", ahead=4)
    t.join(5)
    assert out == [True]


def test_it_gives_up_when_nothing_changes(worker, monkeypatch):
    monkeypatch.setattr(worker_module, "HOLD_S", 0.3)
    w, _, job = worker
    job.ahead = 2
    t0 = time.monotonic()
    assert w._hold(job, "de", 5) is False
    assert time.monotonic() - t0 >= 0.29
