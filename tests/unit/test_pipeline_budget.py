"""The latency target limits what is still to be spent (`run_completion` with `generation_budget`):
a suggestion whose prompt was cheap stops at the end of the line in which its budget ran out; one
whose prompt took long (a cold prompt) gets at least twice as long again (SUNK_SHARE), to its
natural end when the prompt took seconds: the paid prompt is not thrown away.

The engine is a test double (`PacedEngine`, a fake clock): a real model's timing cannot be
scripted. The real-model figures are the quality benchmark's, run with the default settings.
"""

from __future__ import annotations

import pytest

from lsp_server.context.templates import choose_template
from lsp_server.syntax.gating import Gate
from lsp_server.worker import pipeline
from lsp_server.worker.pipeline import run_completion
from lsp_server.worker_protocol import CompletionRequest
from tests.support.engines import Clock, PacedEngine

PREFIX = "def f(items):\n    total = 0\n    "
SUFFIX = "\n    return total\n"
GATE = Gate(True, "block", 24, "empty line", indent="    ")
# one token per piece: a loop of two statements, then two more statements
BLOCK = ["for x ", "in items:", "\n", "        total ", "+= x", "\n", "        total ", "*= 2", "\n",
         "    total ", "-= 1", "\n", "    total ", "+= 5", "\n"]


def run(prompt_ms: float, *, target_ms: int = 2000, tps: float = 10.0, pieces=BLOCK, measured: bool = True):
    clock = Clock()
    engine = PacedEngine(pieces, clock, 1000 / tps, prompt_ms=prompt_ms, generate_tps=tps if measured else 0.0)
    req = CompletionRequest(prefix=PREFIX, suffix=SUFFIX, language="python", gate=GATE, max_tokens=128,
                            latency_target_ms=target_ms)
    old = pipeline.time
    pipeline.time = clock
    try:
        return run_completion(engine, choose_template({}), req, lambda: False)
    finally:
        pipeline.time = old


@pytest.mark.parametrize(
    "prompt_ms, target_ms, generated, stop_reason, late",
    [
        # 0.1 s of prompt, the first token at 0.2 s of a 1.2 s target: 1 s left buys 10 tokens at
        # 10 tok/s; the line they run out in is finished (12)
        (100, 1200, 12, "budget", False),
        # the first token at 0.3 s of a 1 s target: 0.7 s buys 7, raised to MIN_BUDGET_TOKENS (8),
        # then the line is finished
        (200, 1000, 9, "budget", False),
        # the first token at 1 s of 2 s: 1 s is left, but the suggestion gets twice what the prompt
        # took (2 s: 20 tokens), more than the block
        (900, 2000, len(BLOCK), "eos", False),
        # the first token after the target: late, and generated to its natural end
        (1950, 2000, len(BLOCK), "eos", True),
        # a cold prompt of 25 s: late already, so the whole block (the model's natural end)
        (25000, 2000, len(BLOCK), "eos", True),
        # the budget off
        (25000, 0, len(BLOCK), "eos", False),
        # a cheap prompt: the time left buys more than the block
        (100, 2000, len(BLOCK), "eos", False),
    ],
)
def test_budget(prompt_ms, target_ms, generated, stop_reason, late):
    result = run(prompt_ms, target_ms=target_ms)
    assert (result.stats["generated_tokens"], result.stats["stop_reason"], result.stats["late"]) == (
        generated, stop_reason, late)


@pytest.mark.parametrize(
    "prompt_ms, target_ms, generated, stop_reason",
    [
        # the model's first completion: no speed measured; 4 tokens after the first (0.4 s) say
        # 10 tok/s, and the 1 s left at the first token buys 10 tokens: the line they run out in (12)
        (100, 1200, 12, "budget"),
        # a cold first prompt of 25 s: the whole block, as with a measured speed
        (25000, 2000, len(BLOCK), "eos"),
        # the budget off: nothing to decide
        (100, 0, len(BLOCK), "eos"),
    ],
)
def test_the_first_completion_decides_its_budget_from_its_own_first_tokens(prompt_ms, target_ms, generated, stop_reason):
    result = run(prompt_ms, target_ms=target_ms, measured=False)
    assert (result.stats["generated_tokens"], result.stats["stop_reason"]) == (generated, stop_reason)


def test_a_budget_stop_keeps_the_complete_lines_as_the_cut_allows():
    result = run(100, target_ms=1200)
    assert result.stats["stop_reason"] == "budget"
    assert result.text == "for x in items:\n        total += x\n        total *= 2"  # never a line cut in the middle


def test_a_late_suggestion_keeps_the_whole_block():
    result = run(25000)
    assert result.text == "for x in items:\n        total += x\n        total *= 2\n    total -= 1\n    total += 5"
