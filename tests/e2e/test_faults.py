"""Faults: the model worker killed with SIGKILL mid-generation, mid-load and mid-chat. The server
survives, says what happened (its status goes back to loading, then ready), answers the request
that was waiting, restarts the worker, and the next suggestion arrives once it is back. A worker
killed while loading is started once more before the model file is blamed.

The client going away (stdin closed without `exit`, its stdout pipe broken mid-request, a socket
client vanishing mid-request): the server and its worker end within seconds, leave no orphan, and
never spin. The model file replaced, rewritten, truncated or deleted under a running worker: the
next suggestion is still answered (or one clear message), and nothing crashes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.lsp import start_server
from tests.support.procs import worker_pid
from tests.support.raw_server import ROOT, RawServer, RawSocket, frame
from tests.support.tiny_gguf import write_tiny_qwen2

URI = "file:///work/faults.py"
PY = "def add(a, b):\n    return \n"


async def _worker(s, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while (pid := worker_pid(s.client._server.pid)) is None:
        assert time.monotonic() < deadline, "no model worker process"
        await asyncio.sleep(0.05)
    return pid


async def _kill(s) -> int:
    pid = await _worker(s)
    os.kill(pid, signal.SIGKILL)
    return pid


async def _next_suggestion(s, old_pid: int, timeout: float = 60.0) -> list:
    """A request made right after a kill: held while the worker restarts, then answered."""
    items = await asyncio.wait_for(s.inline(URI, 1, 11), timeout)
    assert await _worker(s) != old_pid, "the worker was not restarted"
    return items


async def test_worker_killed_mid_generation(slow_model_path):
    async with start_server(slow_model_path, init_options={"maxTokens": 3000, "latencyTargetMs": 0}) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        pending = asyncio.ensure_future(s.inline(URI, 1, 11))
        await asyncio.sleep(1.0)  # generating (3,000 tokens of the slow model take far longer)
        assert not pending.done()
        old = await _kill(s)
        assert await asyncio.wait_for(pending, 30) == []  # the waiting request is answered, empty
        s.change(URI, " ", (1, 11))
        s.change(URI, "", (1, 11), (1, 12))  # a keystroke and its undo: a new request, same text
        await s.wait_status("ready")
        assert await _next_suggestion(s, old)
        assert (await s.status())["state"] == "ready"


async def test_worker_killed_while_loading(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        old = await _kill(s)  # at once: the worker is starting or loading
        await s.wait_status("ready", timeout=60)
        s.open(URI, PY)
        assert await _next_suggestion(s, old)


async def test_worker_killed_mid_chat(slow_model_path):
    async with start_server(slow_model_path, init_options={"latencyTargetMs": 0}) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        explain = asyncio.ensure_future(s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="localLlm.explain", arguments=[{"uri": URI, "range": {
                "start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 11}}}])))
        await asyncio.sleep(1.0)
        assert not explain.done()
        old = await _kill(s)
        with pytest.raises(JsonRpcException):  # the explanation fails with a message, it does not hang
            await asyncio.wait_for(explain, 30)
        await s.wait_status("ready")
        assert await _next_suggestion(s, old) is not None
        assert (await s.status())["state"] == "ready"


# -- the client goes away ------------------------------------------------------------------------

def _gone(pid: int) -> bool:
    """The process ended (or is a zombie waiting for a parent that is not this test)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ends_with_its_worker(proc, worker: int, timeout: float = 10.0) -> float:
    """Seconds until the server process and its worker have both ended (asserted within `timeout`)."""
    start = time.monotonic()
    proc.wait(timeout)
    while not _gone(worker):
        assert time.monotonic() - start < timeout, f"the worker {worker} outlived the server: an orphan"
        time.sleep(0.05)
    return time.monotonic() - start


def _worker_of(proc) -> int:
    deadline = time.monotonic() + 30
    while (pid := worker_pid(proc.pid)) is None:
        assert time.monotonic() < deadline, "no model worker process"
        time.sleep(0.05)
    return pid


def _inline(msg_id, uri: str = URI) -> bytes:
    return frame({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/inlineCompletion", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 1, "character": 11}, "context": {"triggerKind": 1}}})


def _open(raw, text: str = PY) -> None:
    raw.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": URI, "languageId": "python", "version": 1, "text": text}}}))


def test_stdin_closed_without_exit_ends_server_and_worker(tiny_model_path):
    raw = RawServer(tiny_model_path)
    try:
        raw.initialize()
        raw.wait_ready()
        worker = _worker_of(raw.proc)
        raw.proc.stdin.close()  # the editor died: no shutdown, no exit
        assert _ends_with_its_worker(raw.proc, worker) < 5
    finally:
        if raw.proc.poll() is None:
            raw.proc.kill()


def test_stdout_broken_mid_request_the_server_neither_spins_nor_hangs(slow_model_path):
    raw = RawServer(slow_model_path)
    try:
        raw.initialize({"maxTokens": 3000, "latencyTargetMs": 0})
        raw.wait_ready()
        worker = _worker_of(raw.proc)
        _open(raw)
        raw.send(_inline(1))
        time.sleep(0.5)  # generating
        raw.proc.stdout.close()  # the reader is gone: the server's next write breaks the pipe
        raw.send(_inline(2))  # answered into the broken pipe
        raw.send(frame({"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand",
                        "params": {"command": "localLlm.status", "arguments": []}}))
        time.sleep(1.0)
        if raw.proc.poll() is None:  # still up: idle, not spinning on the broken pipe
            before = _cpu_seconds(raw.proc.pid)
            time.sleep(2.0)
            assert _cpu_seconds(raw.proc.pid) - before < 0.5, "the server spins after its stdout broke"
            raw.proc.stdin.close()
        _ends_with_its_worker(raw.proc, worker)
    finally:
        if raw.proc.poll() is None:
            raw.proc.kill()


def test_socket_client_vanishes_mid_request(slow_model_path, tmp_path):
    path = tmp_path / "lsp.sock"
    proc = subprocess.Popen([sys.executable, "-m", "lsp_server", "serve", "--model", str(slow_model_path),
                             "--socket", str(path)], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not path.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the server did not listen"
            time.sleep(0.05)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(path))
        raw = RawSocket(sock)
        raw.initialize({"maxTokens": 3000, "latencyTargetMs": 0})
        raw.wait_ready()
        worker = _worker_of(proc)
        _open(raw)
        raw.send(_inline(1))
        time.sleep(0.5)  # generating
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # gone, with a reset: no shutdown, no exit
        assert _ends_with_its_worker(proc, worker) < 10
        assert proc.returncode == 0 and not path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()


# -- the model file changes under a running worker -------------------------------------------------

@pytest.mark.parametrize("how", ["replaced", "overwritten", "truncated", "deleted"])
async def test_model_file_changed_under_the_worker(tiny_model_path, tmp_path, how):
    model = tmp_path / "model.gguf"
    shutil.copy(tiny_model_path, model)
    async with start_server(model) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        assert await s.inline(URI, 1, 11)
        if how == "replaced":  # a new file renamed over it (how tools update a file)
            write_tiny_qwen2(tmp_path / "new.gguf", seed=7)
            os.replace(tmp_path / "new.gguf", model)
        elif how == "overwritten":  # the same inode rewritten with other bytes
            model.write_bytes(os.urandom(model.stat().st_size))
        elif how == "truncated":
            os.truncate(model, 100)
        else:
            model.unlink()
        s.change(URI, "a", (1, 11))
        items = await asyncio.wait_for(s.inline(URI, 1, 12), 60)  # answered, perhaps empty
        status = await s.status()
        assert status["state"] in ("ready", "loading", "error")
        if how in ("replaced", "deleted"):  # the worker's mapping of the old file stays valid
            assert items and status["state"] == "ready"
        if status["state"] == "error":
            errors = [m for m in s.client.messages if m.type.value == 1]
            assert len(errors) == 1 and "local-llm-lsp" in errors[0].message
