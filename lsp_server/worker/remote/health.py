"""Whether a remote engine works, as the worker tells the server: failures, the outage, recovery.

Owns the rule: a failed request reports `Health(ok=False)` once per distinct message; an engine
that does not answer (`Unreachable`) is then down: jobs fail at once without waiting on timeouts
while a thread polls it (`health()`) with a growing pause (BACKOFF_S, doubling to BACKOFF_MAX_S),
and the first answer reports `Health(ok=True)`. Any request that works after a failure reports it
too. Must not know how requests are made (`check` does) nor about jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from lsp_server.worker.remote.http import RemoteError, Unreachable
from lsp_server.worker_protocol import Health

log = logging.getLogger(__name__)

BACKOFF_S = 0.25
BACKOFF_MAX_S = 5.0


class HealthWatch:
    def __init__(self, check: Callable[[], None], emit: Callable[[Health], None]) -> None:
        self._check, self._emit = check, emit
        self._lock = threading.Lock()
        self._reported: str | None = None  # the failure last reported, until a success
        self._down = threading.Event()
        self._closed = threading.Event()

    @property
    def down(self) -> str | None:
        """The message of the outage under way, or None."""
        return self._reported if self._down.is_set() else None

    def failed(self, exc: RemoteError) -> None:
        with self._lock:
            message = str(exc)
            if message != self._reported:
                self._reported = message
                log.warning("remote engine: %s", message)
                self._emit(Health(ok=False, message=message))
            if isinstance(exc, Unreachable) and not self._down.is_set():
                self._down.set()
                threading.Thread(target=self._poll, daemon=True, name="remote-health").start()

    def worked(self) -> None:
        with self._lock:
            if self._reported is not None and not self._down.is_set():
                self._reported = None
                self._emit(Health(ok=True, message="the engine answers again"))

    def close(self) -> None:
        self._closed.set()

    def _poll(self) -> None:
        pause = BACKOFF_S
        while not self._closed.wait(pause):
            try:
                self._check()
            except RemoteError:
                pause = min(pause * 2, BACKOFF_MAX_S)
                continue
            except Exception:  # a bug here must not end the polling silently
                log.exception("remote engine: health check failed")
                pause = BACKOFF_MAX_S
                continue
            self._down.clear()
            self.worked()
            return
