"""The real server (`lsp_server.cli.main`), with a passive observer of the worker's job events.

Stopgap until the server reports per-request stats itself: every `done` / `cancelled` /
`partial` / `refreshed` / `warmed` (a prefill's) event the worker sends (with its EvalStats: prompt, reused, shifted, evaluated and
generated tokens) is appended as one JSON line to the file named by LOCAL_LLM_LSP_BENCH_EVENTS,
then handled exactly as before; so is a `used` line when a followed job's result serves a later
request (`Follower._used`). Nothing else changes. Run as `python -m benchmarks.latency.observed_server [server args]`.
"""

from __future__ import annotations

import json
import os
import time

from lsp_server import cli
from lsp_server.lsp.completion import follow
from lsp_server.lsp.model import client
from lsp_server.worker_protocol import encode

_path = os.environ.get("LOCAL_LLM_LSP_BENCH_EVENTS")
_original = client.WorkerClient._dispatch
_original_used = follow.Follower._used


def _write(record: dict) -> None:
    if _path:
        with open(_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"t": time.time(), **record}) + "\n")


def _dispatch(self, event) -> None:
    data = json.loads(encode(event))  # the typed event as it was on the wire
    if data.get("event") in ("done", "cancelled", "error", "refreshed", "warmed", "partial"):
        result = data.get("result") or {}
        stats = data.get("stats") or result.get("stats") or {}
        _write({"event": data["event"], "id": data.get("id"), "stats": stats,
                "text": result.get("text"), "raw": result.get("raw", data.get("raw")),
                **({"complete": data["complete"]} if "complete" in data else {})})
    _original(self, event)


def _used(self, followed, result: dict) -> None:
    if not followed.used:
        _write({"event": "used", "id": followed.job_id, "stats": {}})
    _original_used(self, followed, result)


client.WorkerClient._dispatch = _dispatch
follow.Follower._used = _used

if __name__ == "__main__":
    cli.main()
