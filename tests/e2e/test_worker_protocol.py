"""The real worker process (`python -m lsp_server.worker`) answers every malformed command line
with an `error` event (for the line's id when it is a string, else with id null), logs it, and
still answers a valid command afterwards; with the tiny model it loads and completes as typed.

The lines are written as raw bytes to the worker's stdin (the server's client can only send
well-formed commands); the cases are the unit tests' table (tests/unit/test_worker_protocol.py).
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lsp_server.worker_protocol import (
    Complete, CompletionRequest, CompletionResult, Done, Error, Event, Load, Loaded, LoadFailed, Progress, Shutdown,
    encode, parse_event,
)
from tests.unit.test_worker_protocol import MALFORMED_COMMANDS

ROOT = Path(__file__).resolve().parents[2]


class RawWorker:
    """The worker process driven with raw lines; its events are read on a thread, with a timeout."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "lsp_server.worker"], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log.open("wb"))
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, line: bytes | str) -> None:
        self.proc.stdin.write(line if isinstance(line, bytes) else line.encode() + b"\n")
        self.proc.stdin.flush()

    def event(self, timeout: float = 20.0) -> Event:
        try:
            return parse_event(self.lines.get(timeout=timeout))  # every line it writes is an event
        except queue.Empty:
            raise AssertionError(f"no event from the worker (exit code {self.proc.poll()})") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.send(encode(Shutdown()))
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    w = RawWorker(tmp_path_factory.mktemp("worker") / "worker.log")
    yield w
    w.close()


@pytest.mark.parametrize("line, answer_id, says", MALFORMED_COMMANDS)
def test_a_malformed_command_is_answered_and_the_worker_goes_on(worker, line, answer_id, says):
    worker.send(line if isinstance(line, bytes) else line.encode() + b"\n")
    error = worker.event()
    assert isinstance(error, Error) and error.id == answer_id and says in error.message, error
    # a valid command is still answered (no model is loaded: a completion fails as such)
    worker.send(encode(Complete(id="after", request=CompletionRequest(prefix="x = ", suffix=""))))
    assert worker.event() == Error(id="after", message="no model is loaded")
    assert worker.proc.poll() is None


def test_the_bad_commands_are_logged(worker):
    worker.send("{}")
    assert isinstance(worker.event(), Error)
    assert "bad command" in worker.log.read_text(errors="replace")


def test_it_loads_and_completes_after_bad_commands(tmp_path, tiny_model_path):
    w = RawWorker(tmp_path / "worker.log")
    try:
        w.send('{"op": "load", "path": "%s", "n_ctx": "1024"}' % tiny_model_path)
        assert w.event() == Error(id=None, message="bad command: 'load': invalid value for type, expected int @ $.n_ctx")
        w.send(encode(Load(path=str(tmp_path / "none.gguf"))))
        failed = w.event()
        assert isinstance(failed, LoadFailed) and "does not exist" in failed.message
        w.send(encode(Load(path=str(tiny_model_path), n_ctx=1024)))
        while isinstance(event := w.event(), Progress):
            pass
        assert isinstance(event, Loaded) and event.info["fim_ok"] is True
        w.send(encode(Complete(id="c1", request=CompletionRequest(prefix="def f():\n    return ", suffix="\n",
                                                                   language="python", max_tokens=4))))
        while isinstance(event := w.event(), Progress):
            pass
        assert isinstance(event, Done) and event.id == "c1" and isinstance(event.result, CompletionResult)
        assert event.result.stats["generated_tokens"] <= 4
        w.send(encode(Shutdown()))
        assert w.proc.wait(10) == 0
    finally:
        w.close()
