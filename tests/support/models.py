"""Test doubles of the model side for the completer's unit tests: `FakeModelManager` stands in for
`lsp_server.lsp.model.manager.ModelManager` (the part of its API the completer uses: start_complete,
result, release, follow, cancel), with jobs whose outcome the test sets by hand, and `FakeClock`
for the event loop's `call_later`. The completion rules are so tested without a worker process,
its timing or sleeps; the real manager and worker are tested in tests/e2e.

What the worker would do is the test's to say: `cancel` and `follow` only record what was asked
(a cancelled job goes on until the test stops it), as the real worker answers them later.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from lsp_server.lsp.model.client import RequestCancelled, WorkerError
from lsp_server.lsp.model.manager import ModelUnavailable
from lsp_server.worker_protocol import CompletionRequest


def _retrieved(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()  # an exception nobody awaited is not reported as never retrieved


@dataclass
class FakeJob:
    """A completion job started through the fake: its request, and what was asked of it."""

    id: str
    uri: str
    request: CompletionRequest
    future: asyncio.Future  # its result
    first: asyncio.Future  # its early answer, else its result
    followed: list[str] = field(default_factory=list)  # the typing `follow` sent it, in order

    def answer_early(self, text: str, **stats) -> None:
        """The worker's early answer (`partialAfterMs`): the job goes on."""
        self.first.set_result({"text": text, "stats": stats, "partial": True})

    def finish(self, text: str, **stats) -> None:
        self._end(result={"text": text, "stats": stats})

    def stop(self, **stats) -> None:
        """The worker stopped it (cancelled, superseded, or the typing disagreed with it)."""
        self._end(exc=RequestCancelled(stats))

    def fail(self, message: str = "fake failure") -> None:
        self._end(exc=WorkerError(message))

    def _end(self, result: dict | None = None, exc: Exception | None = None) -> None:
        for fut in (self.future, self.first):
            if fut.done():
                continue
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(result)


class FakeModelManager:
    """ModelManager's completion API over jobs the test ends by hand. Like the real one, a newer
    completion for a document asks the worker to cancel the older (unless it was released) and a
    finished job no longer stands for its document."""

    def __init__(self) -> None:
        self.jobs: list[FakeJob] = []
        self.cancelled: list[str] = []  # ids of the jobs `cancel` was asked for, in order
        self.available = True  # False: start_complete raises ModelUnavailable
        self.loading: asyncio.Future | None = None  # unfinished: the model is loading (until_ready waits)
        self._active: dict[str, str] = {}
        self._ids = itertools.count(1)

    def job(self, job_id: str) -> FakeJob:
        return next(j for j in self.jobs if j.id == job_id)

    def start_complete(self, uri: str, request: CompletionRequest) -> tuple[str, asyncio.Future, asyncio.Future]:
        if not self.available:
            raise ModelUnavailable("the fake model is not ready")
        if uri in self._active:
            self.cancel(self._active[uri])
        loop = asyncio.get_running_loop()
        job = FakeJob(f"complete-{next(self._ids)}", uri, request, loop.create_future(), loop.create_future())
        self.jobs.append(job)
        self._active[uri] = job.id
        job.future.add_done_callback(lambda f: (self.release(uri, job.id), _retrieved(f)))
        job.first.add_done_callback(_retrieved)
        return job.id, job.future, job.first

    async def until_ready(self, timeout: float | None) -> bool:
        """Ready when `available`; while `loading` is an unfinished future, wait for it (bounded
        unless `timeout` is None)."""
        if self.loading is not None and not self.loading.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.loading), timeout)
            except asyncio.TimeoutError:
                return False
        return self.available

    async def result(self, fut: asyncio.Future) -> dict:
        return await asyncio.shield(fut)

    def release(self, uri: str, job_id: str) -> None:
        if self._active.get(uri) == job_id:
            del self._active[uri]

    def follow(self, job_id: str, typed: str) -> None:
        self.job(job_id).followed.append(typed)

    def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)


class FakeClock:
    """The event loop's `call_later` for a test: callbacks run when the test advances the time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._due: list[tuple[float, int, object, tuple]] = []
        self._order = itertools.count()

    def call_later(self, delay: float, callback, *args) -> None:
        self._due.append((self.now + delay, next(self._order), callback, args))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = sorted(d for d in self._due if d[0] <= self.now)
        self._due = [d for d in self._due if d[0] > self.now]
        for _, _, callback, args in due:
            callback(*args)
