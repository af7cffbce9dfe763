"""The server's handle on the model worker process: asyncio, never blocking the event loop.

Owns starting and stopping the worker subprocess, sending it `lsp_server.worker_protocol` commands,
matching its events to waiting requests, and turning a cancelled asyncio task into a `cancel`
command (so generation stops between tokens). If the worker dies (a llama.cpp abort), every
waiting request fails with WorkerCrashed. An event that cannot be read is logged as an error and
fails the request it names (WorkerError) rather than leaving it waiting.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from lsp_server.worker_protocol import (
    Cancel, Cancelled, Chat, ChatResult, ChatText, Complete, CompletionRequest, CompletionResult, Done, Error, Event, Follow,
    Health, Load, Loaded, LoadFailed, Partial, Prefill, Progress, ProtocolError, Refreshed, Shutdown, Warmed, encode, parse_event,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]


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
    def __init__(self, on_progress: ProgressCallback | None = None,
                 on_health: Callable[[Health], None] | None = None) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        # job id -> (the future of its result, the result's class)
        self._pending: dict[str, tuple[asyncio.Future, type]] = {}
        self._on_partial: dict[str, Callable[[Any], None]] = {}  # job id -> who takes its early answer (or streamed text)
        self._load: asyncio.Future | None = None
        self._ids = itertools.count(1)
        self.on_progress = on_progress
        self.on_health = on_health  # a remote engine's failures and recovery (`worker_protocol.Health`)
        self.exit_code: int | None = None
        self.counters = {"cancelled_jobs": 0, "cancelled_generated_tokens": 0, "refreshed_tokens": 0, "warmed_tokens": 0}

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
                self._send(Shutdown())
                self.proc.stdin.close()
                await asyncio.wait_for(self.proc.wait(), 5)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                self.proc.kill()
                await self.proc.wait()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)

    def _send(self, command: Load | Complete | Chat | Follow | Cancel | Prefill | Shutdown) -> None:
        if not self.alive or self.proc.stdin is None:
            raise WorkerCrashed("the model worker is not running")
        self.proc.stdin.write((encode(command) + "\n").encode())

    async def _read_events(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            while line := await self.proc.stdout.readline():
                try:
                    event = parse_event(line)
                except ProtocolError as exc:
                    log.error("the model worker sent a bad event (%s; %d bytes, not logged: they may hold code)", exc, len(line))
                    self._fail(exc)
                    continue
                self._dispatch(event)
        finally:
            code = await self.proc.wait()
            self.exit_code = code
            err = WorkerCrashed(f"the model worker exited with code {code}")
            for fut in [*(f for f, _ in self._pending.values()), self._load]:
                if fut is not None and not fut.done():
                    fut.set_exception(err)
            self._pending.clear()
            self._on_partial.clear()

    def _fail(self, exc: ProtocolError) -> None:
        """A bad event fails the request it names: the job of its id, or the waiting load."""
        error = WorkerError(f"the model worker sent a bad event: {exc}")
        if exc.id is not None and exc.id in self._pending:
            self._on_partial.pop(exc.id, None)
            fut, _ = self._pending.pop(exc.id)
            if not fut.done():
                fut.set_exception(error)
        elif exc.tag in ("loaded", "load_failed") and self._load is not None and not self._load.done():
            self._load.set_exception(error)

    def _dispatch(self, event: Event) -> None:
        match event:
            case Progress():
                if self.on_progress:
                    self.on_progress(event)
                return
            case Health():
                if self.on_health:
                    self.on_health(event)
                return
            case Refreshed():  # idle work of the worker (Engine.refresh), no one waits for it
                self.counters["refreshed_tokens"] += int(event.stats.get("evaluated_tokens", 0))
                return
            case Warmed():  # idle work too: a prompt computed ahead of its request
                self.counters["warmed_tokens"] += int(event.stats.get("evaluated_tokens", 0))
                log.debug("worker: computed %s prompt tokens ahead (%s)", event.stats.get("evaluated_tokens"),
                          "all" if event.complete else "interrupted")
                return
            case Loaded() | LoadFailed():
                if self._load is not None and not self._load.done():
                    self._load.set_result(event)
                return
            case Partial():  # an early answer; the job goes on
                handler = self._on_partial.get(event.id)
                if handler is not None:
                    handler(event.result)
                return
            case ChatText():  # a streamed chat's text so far; the job goes on
                handler = self._on_partial.get(event.id)
                if handler is not None:
                    handler(event.text)
                return
            case Error(id=None):
                # a command the worker could not read and attribute: a bug on this side; the only
                # request without an id is a load, which would otherwise wait for ever
                log.error("the model worker could not read a command: %s", event.message)
                if self._load is not None and not self._load.done():
                    self._load.set_exception(WorkerError(event.message))
                return
            case Cancelled():  # counted once per job, whether or not anyone still waits for it
                self.counters["cancelled_jobs"] += 1
                self.counters["cancelled_generated_tokens"] += int(event.stats.get("generated_tokens", 0))
        self._on_partial.pop(event.id, None)
        fut, expected = self._pending.pop(event.id, (None, None))
        if fut is None:
            if isinstance(event, Error):
                log.warning("the model worker reported an error for job %s, which no one waits for: %s", event.id, event.message)
            return
        if fut.done():
            return
        match event:
            case Done(result=result) if isinstance(result, expected):
                fut.set_result(result)
            case Done():
                fut.set_exception(WorkerError(f"the model worker answered job {event.id} with a {type(event.result).__name__}"))
            case Cancelled():
                fut.set_exception(RequestCancelled(event.stats))
            case Error():
                fut.set_exception(WorkerError(event.message))

    async def load(self, command: Load) -> Loaded | LoadFailed:
        """Load a model; returns the worker's answer (WorkerError: an answer it could not read)."""
        self._load = asyncio.get_running_loop().create_future()
        self._send(command)
        return await self._load

    def new_id(self, op: str) -> str:
        return f"{op}-{next(self._ids)}"

    def submit(self, command: Complete | Chat, on_partial: Callable[[Any], None] | None = None) -> asyncio.Future:
        """Send a job; the future gets its result, a CompletionResult or a ChatResult (or
        RequestCancelled, WorkerError, WorkerCrashed). `on_partial` is called with a completion's
        early answer, if it sends one, or a streamed chat's text so far."""
        fut = asyncio.get_running_loop().create_future()
        self._pending[command.id] = (fut, CompletionResult if isinstance(command, Complete) else ChatResult)
        if on_partial is not None:
            self._on_partial[command.id] = on_partial
        self._send(command)
        return fut

    async def call(self, command: Complete | Chat, on_partial: Callable[[Any], None] | None = None) -> CompletionResult | ChatResult:
        """Run a job; cancelling the awaiting task cancels the job in the worker."""
        fut = self.submit(command, on_partial)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            fut.add_done_callback(_consume)
            self.cancel(command.id)
            raise

    def follow(self, job_id: str, typed: str) -> None:
        """The job's request is gone because the user typed `typed` at its cursor: the worker
        keeps generating while the output agrees with that (see `worker_protocol.Follow`)."""
        if job_id in self._pending and self.alive:
            try:
                self._send(Follow(id=job_id, typed=typed))
            except WorkerCrashed:
                pass

    def prefill(self, request: CompletionRequest) -> None:
        """Ask the worker to compute `request`'s prompt while it is idle (`worker_protocol.Prefill`)."""
        if self.alive:
            try:
                self._send(Prefill(request=request))
            except WorkerCrashed:
                pass

    def cancel(self, job_id: str) -> None:
        if job_id in self._pending and self.alive:
            try:
                self._send(Cancel(id=job_id))
            except WorkerCrashed:
                pass


def _consume(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()
