"""A completion still generating after `partial_after_ms` answers early with the complete lines it
has (`run_completion`'s `on_partial`), once, and goes on as a followed job for the rest.

The engine is a test double (`PacedEngine`) that yields scripted pieces on a fake clock: a real
model's timing cannot be scripted. The server side (the early answer shown, the rest served to
the next request at the cursor without a model call) is tested with the real server and the
bundled model in tests/real_model/test_completions.py.
"""

from __future__ import annotations


import pytest

from lsp_server.worker import pipeline
from lsp_server.context.templates import choose_template
from lsp_server.worker.pipeline import run_completion
from lsp_server.worker_protocol import CompletionRequest
from lsp_server.syntax.gating import Gate
from tests.support.engines import Clock, PacedEngine


PREFIX = "def f(items):\n    total = 0\n    "
SUFFIX = "\n    return total\n"
GATE = Gate(True, "block", 24, "empty line", indent="    ")
# one token per piece; the body of a loop, then a second statement
LOOP = ["for x in items:", "\n", "        total += x", "\n", "    total *= 2", "\n"]
REPEAT = ["return total", "\n"] + LOOP  # starts by repeating the line below: refused as a first line


def run(pieces, *, after_ms, ms_per_token=100.0, typed_from=None, max_tokens=64):
    """(early answers, final result, typed() as the pipeline saw it after the early answer)."""
    clock = Clock()
    state: dict = {"typed": None}

    def on_piece(i):
        if typed_from is not None and i == typed_from:
            state["typed"] = ""  # the request was cancelled while the user typed on: followed

    engine = PacedEngine(pieces, clock, ms_per_token, on_piece)
    req = CompletionRequest(prefix=PREFIX, suffix=SUFFIX, language="python", gate=GATE, max_tokens=max_tokens,
                            partial_after_ms=after_ms)
    early = []

    def on_partial(result):
        early.append((result.text, result.stats["generated_tokens"], clock.now))
        state["typed"] = ""  # as the worker does: the job is followed from now on

    old = pipeline.time
    pipeline.time = clock
    try:
        result = run_completion(engine, choose_template({}), req, lambda: False, lambda: state["typed"], on_partial)
    finally:
        pipeline.time = old
    return early, result


@pytest.mark.parametrize(
    "pieces, after_ms, typed_from, expected",
    [
        # after 250 ms (3 tokens): the header alone is no answer; the first complete loop is
        (LOOP, 250, None, [("for x in items:\n        total += x", 4)]),
        # the deadline passes later: all the complete lines at that point
        (LOOP, 550, None, [("for x in items:\n        total += x\n    total *= 2", 6)]),
        # finished before the deadline: no early answer
        (LOOP, 5000, None, []),
        # off
        (LOOP, 0, None, []),
        # a first line the cut refuses (it repeats the code below) is never shown early
        (REPEAT, 100, None, []),
        # a followed job (its request is gone) answers no one
        (LOOP, 100, 0, []),
        # no line completed yet when generation ends: nothing early
        (["for x", " in items:"], 50, None, []),
    ],
)
def test_early_answer(pieces, after_ms, typed_from, expected):
    early, result = run(pieces, after_ms=after_ms, typed_from=typed_from)
    assert [(text, tokens) for text, tokens, _ in early] == expected
    assert (result.stats.get("partial_tokens") is not None) == bool(expected)
    if expected:
        # the final text goes on from the early one
        assert result.text.startswith(early[0][0])


def test_the_early_answer_comes_once():
    early, result = run(LOOP * 3, after_ms=250)
    assert len(early) == 1
    assert result.stats["partial_tokens"] == 4
    assert result.stats["generated_tokens"] > 4
