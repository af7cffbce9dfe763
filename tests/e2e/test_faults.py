"""Faults: the model worker killed with SIGKILL mid-generation, mid-load and mid-chat. The server
survives, says what happened (its status goes back to loading, then ready), answers the request
that was waiting, restarts the worker, and the next suggestion arrives once it is back. A worker
killed while loading is started once more before the model file is blamed."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.lsp import start_server
from tests.support.procs import worker_pid

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
