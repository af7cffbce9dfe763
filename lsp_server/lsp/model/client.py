"""The server's handle on the model worker process: asyncio, never blocking the event loop.

Owns starting and stopping the worker subprocess, matching its events to waiting requests, and
turning a cancelled asyncio task into a `cancel` command (so generation stops between tokens).
If the worker dies (a llama.cpp abort), every waiting request fails with WorkerCrashed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

ProgressCallback = Callable[[dict], None]


class WorkerCrashed(Exception):
    pass


class WorkerError(Exception):
    pass


class RequestCancelled(Exception):
    """The worker stopped the job before it finished (cancelled or superseded)."""

    def __init__(self, stats: dict):
        super().__init__("cancelled")
        self.stats = stats


class WorkerClient:
    def __init__(self, on_progress: ProgressCallback | None = None) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._on_partial: dict[str, Callable[[dict], None]] = {}  # job id -> who takes its early answer
        self._load: asyncio.Future | None = None
        self._ids = itertools.count(1)
        self.on_progress = on_progress
        self.exit_code: int | None = None
        self.counters = {"cancelled_jobs": 0, "cancelled_generated_tokens": 0, "refreshed_tokens": 0}

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        env = dict(os.environ)
        env.setdefault("LOCAL_LLM_LSP_LOG_LEVEL", logging.getLevelName(logging.getLogger().level))
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "lsp_server.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,  # the worker's log goes where ours goes
            env=env,
            limit=1 << 26,
        )
        self.exit_code = None
        self._reader = asyncio.create_task(self._read_events())

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                self._send({"op": "shutdown"})
                self.proc.stdin.close()
                await asyncio.wait_for(self.proc.wait(), 5)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                self.proc.kill()
                await self.proc.wait()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)

    def _send(self, msg: dict) -> None:
        if not self.alive or self.proc.stdin is None:
            raise WorkerCrashed("the model worker is not running")
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())

    async def _read_events(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            while line := await self.proc.stdout.readline():
                try:
                    event = json.loads(line)
                except ValueError:
                    log.warning("worker wrote a line that is not JSON: %.200r", line)
                    continue
                self._dispatch(event)
        finally:
            code = await self.proc.wait()
            self.exit_code = code
            err = WorkerCrashed(f"the model worker exited with code {code}")
            for fut in [*self._pending.values(), self._load]:
                if fut is not None and not fut.done():
                    fut.set_exception(err)
            self._pending.clear()
            self._on_partial.clear()

    def _dispatch(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "progress":
            if self.on_progress:
                self.on_progress(event)
            return
        if kind == "refreshed":  # idle work of the worker (Engine.refresh), no one waits for it
            self.counters["refreshed_tokens"] += int(event.get("stats", {}).get("evaluated_tokens", 0))
            return
        if kind in ("loaded", "load_failed"):
            if self._load is not None and not self._load.done():
                self._load.set_result(event)
            return
        if kind == "partial":  # an early answer; the job goes on
            handler = self._on_partial.get(str(event.get("id")))
            if handler is not None:
                handler(event.get("result") or {})
            return
        if kind == "cancelled":  # counted once per job, whether or not anyone still waits for it
            self.counters["cancelled_jobs"] += 1
            self.counters["cancelled_generated_tokens"] += int(event.get("stats", {}).get("generated_tokens", 0))
        self._on_partial.pop(str(event.get("id")), None)
        fut = self._pending.pop(str(event.get("id")), None)
        if fut is None or fut.done():
            return
        if kind == "done":
            fut.set_result(event["result"])
        elif kind == "cancelled":
            fut.set_exception(RequestCancelled(event.get("stats", {})))
        else:
            fut.set_exception(WorkerError(event.get("message", "worker error")))

    async def load(self, **params: Any) -> dict:
        """Load a model; returns the worker's `loaded` or `load_failed` event."""
        self._load = asyncio.get_running_loop().create_future()
        self._send({"op": "load", **params})
        return await self._load

    def new_id(self, op: str) -> str:
        return f"{op}-{next(self._ids)}"

    def submit(self, op: str, job_id: str, on_partial: Callable[[dict], None] | None = None, **params: Any) -> asyncio.Future:
        """Send a job; the future gets its result (or RequestCancelled, WorkerError, WorkerCrashed).
        `on_partial` is called with a completion's early answer, if it sends one."""
        fut = asyncio.get_running_loop().create_future()
        self._pending[job_id] = fut
        if on_partial is not None:
            self._on_partial[job_id] = on_partial
        self._send({"op": op, "id": job_id, **params})
        return fut

    async def call(self, op: str, job_id: str | None = None, **params: Any) -> dict:
        """Run a job; cancelling the awaiting task cancels the job in the worker."""
        job_id = job_id or self.new_id(op)
        fut = self.submit(op, job_id, **params)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            fut.add_done_callback(_consume)
            self.cancel(job_id)
            raise

    def follow(self, job_id: str, typed: str) -> None:
        """The job's request is gone because the user typed `typed` at its cursor: the worker
        keeps generating while the output agrees with that (see the worker's `follow`)."""
        if job_id in self._pending and self.alive:
            try:
                self._send({"op": "follow", "id": job_id, "typed": typed})
            except WorkerCrashed:
                pass

    def cancel(self, job_id: str) -> None:
        if job_id in self._pending and self.alive:
            try:
                self._send({"op": "cancel", "id": job_id})
            except WorkerCrashed:
                pass


def _consume(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()
