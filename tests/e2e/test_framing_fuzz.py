"""Framing fuzz: generated hostile frames interleaved with valid requests, sent to the real server.

Every request with a usable id (an integer or a string) is answered exactly once, and the server
answers a valid request after every hostile example. CI runs a few hundred examples
(`FRAMING_EXAMPLES`, default 300); `python -m benchmarks.robustness.framing --examples 10000`
runs the recorded figure.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.framing import Ids, exchange, hostile, must_answer
from tests.support.raw_server import RawServer, frame

EXAMPLES = int(os.environ.get("FRAMING_EXAMPLES", "300"))


@pytest.fixture(scope="module")
def server(tiny_model_path):
    raw = RawServer(tiny_model_path)
    raw.initialize()
    yield raw
    raw.close()


@pytest.fixture(scope="module")
def ids():
    return Ids()


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames=st.lists(hostile, min_size=1, max_size=4))
def test_every_request_is_answered_once_and_the_server_keeps_answering(server, ids, frames):
    outcome = exchange(server, frames, ids)
    assert outcome.problems() == []
    assert server.proc.poll() is None


ORACLE = [
    # (body, must it be answered)
    (b'{"jsonrpc": "2.0", "id": 1, "method": "x"}', True),
    (b'{"jsonrpc": "2.0", "id": "a", "method": "x"}', True),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "x"}', True),  # Invalid Request, answered with its id
    (b'{"id": 1}', True),  # no jsonrpc: Invalid Request
    (b'{"jsonrpc": "2.0", "id": 1, "result": null}', False),  # a response
    (b'{"jsonrpc": "2.0", "id": null, "method": "x"}', False),
    (b'{"jsonrpc": "2.0", "id": true, "method": "x"}', False),
    (b'{"jsonrpc": "2.0", "id": 1.5, "method": "x"}', False),
    (b'{"jsonrpc": "2.0", "method": "x"}', False),  # a notification
    (b"[" * 5000 + b"]" * 5000, False),
    (b'{"jsonrpc": "2.0", "id": 3, "method": "x", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", True),
    (b"[1]", False),
    (b"not json", False),
]


@pytest.mark.parametrize("body, answered", ORACLE)
def test_the_oracle(body, answered):
    assert (must_answer(body) is not None) == answered


def test_frame_builds_an_honest_length():
    assert frame({"a": 1}) == b'Content-Length: 8\r\n\r\n{"a": 1}'
