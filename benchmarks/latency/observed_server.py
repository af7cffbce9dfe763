"""The real server (`lsp_server.cli.main`), with a passive observer of the worker's job events.

Stopgap until the server reports per-request stats itself: every `done` / `cancelled` event the
worker sends (with its EvalStats: prompt, reused, shifted, evaluated and generated tokens) is
appended as one JSON line to the file named by LOCAL_LLM_LSP_BENCH_EVENTS, then handled exactly as
before. Nothing else changes. Run as `python -m benchmarks.latency.observed_server [server args]`.
"""

from __future__ import annotations

import json
import os
import time

from lsp_server import cli
from lsp_server.model import client

_path = os.environ.get("LOCAL_LLM_LSP_BENCH_EVENTS")
_original = client.WorkerClient._dispatch


def _dispatch(self, event: dict) -> None:
    if _path and event.get("event") in ("done", "cancelled", "error", "refreshed"):
        stats = event.get("stats") or (event.get("result") or {}).get("stats") or {}
        with open(_path, "a", encoding="utf-8") as fh:
            result = event.get("result") or {}
            fh.write(json.dumps({"t": time.time(), "event": event["event"], "id": event.get("id"), "stats": stats,
                                 "text": result.get("text"), "raw": result.get("raw", event.get("raw"))}) + "\n")
    _original(self, event)


client.WorkerClient._dispatch = _dispatch

if __name__ == "__main__":
    cli.main()
