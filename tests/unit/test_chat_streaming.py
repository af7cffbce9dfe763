"""A streamed chat's text reaches the server while the model writes: the first piece at once,
however fast the model is, then at most one `chat_text` per `STREAM_INTERVAL_S`.

The worker's `op_chat` runs on a named test double of the engine (`InstantChat`: its pieces come
at once, as the tiny test model's do, or with a pause between them); the real model streams in
tests/e2e/test_ask.py and in the editors' tests.
"""

from __future__ import annotations

import io
import json
import time

import pytest

from lsp_server.worker.scheduler import Job, Worker
from lsp_server.worker_protocol import STREAM_INTERVAL_S, Chat, ChatMessage


class InstantChat:
    """Test double of an engine's `chat`: yields `pieces`, sleeping `pause_s` before each but the first."""

    def __init__(self, pieces: list[str], pause_s: float = 0.0) -> None:
        self.pieces, self.pause_s = pieces, pause_s

    def chat(self, messages, continuation, *, max_tokens, cancelled, stats):
        for i, piece in enumerate(self.pieces):
            if i:
                time.sleep(self.pause_s)
            stats.generated_tokens += 1
            yield piece


def _events(pieces: list[str], pause_s: float, stream: bool) -> list[dict]:
    out = io.StringIO()
    worker = Worker(out)
    worker.engine = InstantChat(pieces, pause_s)
    worker.op_chat(Job(command=Chat(id="chat-1", messages=[ChatMessage("user", "why?")], max_tokens=64, stream=stream), seq=1))
    return [json.loads(line) for line in out.getvalue().splitlines()]


# (pieces, pause between them, streamed, the chat_text texts the server gets)
CASES = [
    (["Because", " it", " adds."], 0.0, True, ["Because"]),  # faster than the interval: the first piece still goes out
    (["One"], 0.0, True, ["One"]),
    (["A", "B", "C"], STREAM_INTERVAL_S * 1.5, True, ["A", "AB", "ABC"]),  # slower than the interval: every piece
    (["Because", " it"], 0.0, False, []),  # not streamed: the answer only
]


@pytest.mark.parametrize("pieces, pause_s, stream, texts", CASES)
def test_a_streamed_chat_sends_its_first_piece_at_once(pieces, pause_s, stream, texts):
    events = _events(pieces, pause_s, stream)
    assert [e["text"] for e in events if e["event"] == "chat_text"] == texts
    assert events[-1]["event"] == "done" and events[-1]["result"]["text"] == "".join(pieces)
