"""A load and cancel storm against the real server (tiny model): 20 keystrokes a second across
three documents, each cancelling the request before. Every request is answered exactly once (a
result, or RequestCancelled), the server keeps answering, and the requests after the storm are
answered. `STORM_SECONDS` (default 5); `python -m benchmarks.robustness.storm` runs a minute and
records the latency before and after.
"""

from __future__ import annotations

import os

from tests.support.raw_server import RawServer
from tests.support.storm import Storm


def test_every_request_of_a_cancel_storm_is_answered_once(tiny_model_path):
    server = RawServer(tiny_model_path)
    try:
        server.initialize()
        server.wait_ready()
        result = Storm(server).run(float(os.environ.get("STORM_SECONDS", "5")))
        assert result.problems() == []
        assert result.requests > 50 and result.cancelled + result.results == result.requests
        assert server.proc.poll() is None
        server.still_answers("after")
    finally:
        server.close()
