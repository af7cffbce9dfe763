"""The token limit sized to the latency target from measured speeds (pure)."""

from __future__ import annotations

import pytest

from lsp_server.worker.engine import EvalStats, Rates
from lsp_server.worker.pipeline import MIN_BUDGET_TOKENS, budget_tokens, ending_evidence
from lsp_server.worker_protocol import CompletionRequest


@pytest.mark.parametrize(
    "target_ms, prompt_tps, gen_tps, new_tokens, max_tokens, expected",
    [
        (0, 100, 30, 10, 128, 128),  # budget off
        (1000, 0, 0, 10, 128, 128),  # nothing measured yet
        (1000, 100, 30, 10, 128, 27),  # 100 ms of prompt, 900 ms of generation at 30 tok/s
        (1000, 100, 30, 500, 128, MIN_BUDGET_TOKENS),  # a cold prompt eats the budget: a short line still
        (5000, 100, 30, 0, 64, 64),  # never above the request's limit
    ],
)
def test_budget_tokens(target_ms, prompt_tps, gen_tps, new_tokens, max_tokens, expected):
    req = CompletionRequest(prefix="", suffix="", max_tokens=max_tokens, latency_target_ms=target_ms)
    assert budget_tokens(req, Rates(prompt_tps, gen_tps), new_tokens) == expected


def test_rates_average_measurements():
    rates = Rates()
    rates.update(EvalStats(evaluated_tokens=100, prompt_ms=1000, generated_tokens=30, generate_ms=1000))
    assert (rates.prompt_tps, rates.generate_tps) == (100, 30)
    rates.update(EvalStats(evaluated_tokens=100, prompt_ms=500, generated_tokens=2, generate_ms=10))
    assert rates.prompt_tps == pytest.approx(130) and rates.generate_tps == 30  # too few tokens to count


@pytest.mark.parametrize(
    "stop_reason, budget, requested, expected",
    [
        ("eos", 20, 128, True),  # it ended the middle itself, whatever the limit
        ("max_tokens", 128, 128, False),  # wrote to the request's limit
        ("max_tokens", 64, 64, False),
        ("max_tokens", 82, 128, False),  # a latency budget large enough to tell (the 0.5B here)
        ("max_tokens", 49, 128, None),  # a budget too small to tell (the 1.5B here)
        ("max_tokens", 8, 8, False),  # the request asked for 8: that is its limit
        ("stop_check", 128, 128, None),  # the stop check ended it: says nothing
        ("cancelled", 128, 128, None),
        ("disagrees", 128, 128, None),
    ],
)
def test_ending_evidence(stop_reason, budget, requested, expected):
    assert ending_evidence(stop_reason, budget, requested) is expected
