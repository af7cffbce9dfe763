"""The generation budget left by the latency target, from measured speeds (pure)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lsp_server.worker.engine import EvalStats, Rates
from lsp_server.worker.pipeline import MIN_BUDGET_TOKENS, ending_evidence, generation_budget, at_line_end
from lsp_server.worker.scheduler import _held_enough
from lsp_server.worker.prompts import (
    COLD_FACTOR, MIN_AFFORDABLE_TOKENS, MIN_SHIFTLESS_SUFFIX_TOKENS, SMALL_PREFIX_TOKENS, SMALL_SUFFIX_TOKENS,
    affordable_tokens, serves, shiftless_suffix_tokens,
)


@pytest.mark.parametrize(
    "target_ms, elapsed_ms, gen_tps, max_tokens, expected",
    [
        (0, 100, 30, 128, None),  # budget off
        (1000, 100, 0, 128, None),  # no speed measured yet
        (1000, 100, 30, 128, 27),  # 100 ms of prompt, 900 ms left at 30 tok/s
        (1000, 400, 30, 128, 24),  # 400 ms of prompt: 600 ms left, but twice the prompt is 800 ms
        (1000, 900, 30, 128, 54),  # little left, but never less than twice what the prompt took: 1.8 s
        (1000, 100, 5, 128, MIN_BUDGET_TOKENS),  # a slow machine: still a short line
        (1000, 1000, 30, 128, 60),  # late by nothing: twice as long as the prompt
        (2000, 25000, 15, 128, None),  # a cold prompt of 25 s: to its natural end
        (5000, 0, 30, 64, None),  # the time left buys more than the request's limit: that limit
    ],
)
def test_generation_budget(target_ms, elapsed_ms, gen_tps, max_tokens, expected):
    assert generation_budget(target_ms, elapsed_ms, gen_tps, max_tokens) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", False),
        ("return x", False),  # the line is still being written
        ("return x\n", True),
        ("\n\n    ", False),  # blank lines only
        ("\n    return x", False),
        ("\n    return x\n    ", True),
        ("a = 1\r\n", True),
        ("x = 1\ny", False),  # the next line is being written
        ("x = 1\n    y = 2\n  ", True),
    ],
)
def test_at_line_end(text, expected):
    assert at_line_end(text) is expected


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


@pytest.mark.parametrize(
    "suffix_tokens, target_ms, prompt_tps, expected",
    [
        (256, 0, 60, 256),  # budget off: the setting
        (256, 2000, 0, 256),  # no speed measured yet: the setting
        (256, 2000, 3000, 256),  # a GPU engine affords all of it
        (256, 2000, 200, 160),  # 200 tokens a second: 200 less a keystroke's 16, in steps of 32
        (256, 2000, 60, MIN_SHIFTLESS_SUFFIX_TOKENS),  # 2 CPU cores: the next few lines
        (256, 2000, 5, MIN_SHIFTLESS_SUFFIX_TOKENS),  # slower still: never below the floor
        (16, 2000, 60, 16),  # the setting asks for less than the floor: the setting
        (100, 10000, 60, 100),  # a patient user's target affords the setting's 100
    ],
)
def test_the_suffix_window_of_an_engine_that_computes_it_at_every_keystroke(suffix_tokens, target_ms, prompt_tps, expected):
    assert shiftless_suffix_tokens(suffix_tokens, target_ms, prompt_tps) == expected


@pytest.mark.parametrize(
    "target_ms, prompt_tps, expected",
    [
        (2000, 0, COLD_FACTOR * (SMALL_PREFIX_TOKENS + SMALL_SUFFIX_TOKENS)),  # no speed measured yet
        (2000, 52, MIN_AFFORDABLE_TOKENS),  # 2 cores, the 1.5B: 52 tokens in half the target, but a keystroke's prompt always
        (2000, 200, 200),  # half the target at 200 tokens a second
        (2000, 2000, 2000),  # a GPU: the full window, never the small one
        (1, 100000, MIN_AFFORDABLE_TOKENS),
    ],
)
def test_affordable_tokens(target_ms, prompt_tps, expected):
    assert affordable_tokens(target_ms, prompt_tps) == expected


PRE, SUF, MID = 1, 2, 3  # FIM marker tokens of the stand-in vocabulary below
BODY_TOKENS = list(range(100, 900))  # the text before the cursor
AFTER_TOKENS = list(range(1000, 1250))  # the text after it


def fim_tokens(typed: list[int], before: list[int] = BODY_TOKENS) -> list[int]:
    return [PRE, *before, *typed, SUF, *AFTER_TOKENS, MID]


@pytest.mark.parametrize(
    "target, tokens, can_shift, expected",
    [
        (fim_tokens([]), fim_tokens([5, 6, 7]), True, True),  # three tokens typed since: its suffix moves
        (fim_tokens([]), fim_tokens(list(range(5, 85))), True, False),  # typed on too far
        (fim_tokens([]), fim_tokens([5]), False, False),  # no shifting: the whole suffix again
        (fim_tokens([]), fim_tokens([], before=list(range(100, 500))), True, False),  # another place
    ],
)
def test_a_prompt_computed_ahead_serves_later_keystrokes_at_the_same_place(target, tokens, can_shift, expected):
    # `serves` reads only these attributes of an engine (a stand-in, not a model)
    engine = SimpleNamespace(can_shift=can_shift, info=SimpleNamespace(roles={"fim_pre": PRE, "fim_suf": SUF, "fim_mid": MID}))
    assert serves(engine, target, tokens) is expected


@pytest.mark.parametrize(
    "size, held, expected",
    [
        (30, 0, False),  # a short prompt, cold cache: computed
        (30, 29, True),  # all but its last token
        (1200, 1180, True),  # a few keystrokes since it was computed
        (1200, 1100, False),  # the suffix after the cursor again
        (40, 20, False),  # half of a short one
    ],
)
def test_what_is_held_enough_not_to_compute_ahead(size, held, expected):
    assert _held_enough(size, held) is expected
