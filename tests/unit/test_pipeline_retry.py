"""A completion that the cut refuses is asked again with the model's next choice of first token
(`run_completion`'s retries): when, how often, and what the request's stats say.

The engine here is a test double (`ScriptedEngine`): which output a real model gives after its
first choice is barred cannot be scripted. The real llama.cpp side of it, generation with barred
first tokens, is tested in tests/e2e/test_engine_generate.py with the tiny generated model.
"""

from __future__ import annotations


import pytest

from lsp_server.context.templates import choose_template
from lsp_server.worker.engine import EvalStats
from lsp_server.worker.pipeline import MAX_RETRIES, run_completion
from lsp_server.worker_protocol import CompletionRequest
from lsp_server.syntax.gating import Gate
from tests.support.engines import EngineDouble


class ScriptedEngine(EngineDouble):
    """Test double of `Engine`: answers with `outputs[first token]`, its first token being the
    lowest id not barred by `avoid_first` (ids 10, 11, 12, ... stand for the model's choices in
    order of likelihood)."""

    def __init__(self, outputs: list[str], generate_tps: float = 0.0) -> None:
        super().__init__(generate_tps)
        self.outputs = outputs
        self.calls: list[frozenset[int]] = []

    def generate(self, prompt, *, max_tokens, cancelled, stop_tokens=frozenset(), stats=None, lead=None, avoid_first=frozenset()):
        stats = stats if stats is not None else EvalStats()
        self.calls.append(avoid_first)
        choice = next(i for i in range(len(self.outputs)) if 10 + i not in avoid_first)
        stats.first_token = 10 + choice
        text = self.outputs[choice]
        pieces = [text[i:i + 3] for i in range(0, len(text), 3)][:max_tokens]
        stats.generated_tokens = len(pieces)
        stats.evaluated_tokens = 1
        stats.stop_reason = "eos" if len(pieces) * 3 >= len(text) else "max_tokens"
        yield from pieces


PREFIX = "def f(items):\n    total = 0\n"
SUFFIX = "\n    return total\n"
GATE = Gate(True, "statement", 24, "empty line", indent="    ")
REPEAT = "    return total"  # repeats the line below: refused
BROKEN = "    if total:"  # opens a block with no body above code that is not indented under it: refused
GOOD = "    for x in items:\n        total += x"


def complete(outputs, *, latency_target_ms=0, generate_tps=0.0, typed=None, gate=GATE, truncate=True):
    engine = ScriptedEngine(outputs, generate_tps)
    req = CompletionRequest(prefix=PREFIX + "    ", suffix=SUFFIX, language="python", gate=gate, max_tokens=64,
                            latency_target_ms=latency_target_ms, truncate=truncate)
    result = run_completion(engine, choose_template({}), req, lambda: False, typed)
    return result, engine.calls


@pytest.mark.parametrize(
    "outputs, text, retries",
    [
        ([GOOD, REPEAT], "for x in items:\n        total += x", 0),  # accepted: no retry
        ([REPEAT, GOOD], "for x in items:\n        total += x", 1),  # refused, next choice accepted
        ([REPEAT, BROKEN, GOOD], "for x in items:\n        total += x", 2),
        ([REPEAT, BROKEN, REPEAT, GOOD], "", MAX_RETRIES),  # gives up after MAX_RETRIES
        (["", GOOD], "", 0),  # the model wrote nothing: its answer, not a refusal
        (["   \n", GOOD], "", 0),  # only blanks: nothing to refuse
    ],
)
def test_retries_of_a_refused_completion(outputs, text, retries):
    result, calls = complete(outputs)
    assert (result.text, result.stats["retries"]) == (text, retries)
    assert calls == [frozenset(range(10, 10 + i)) for i in range(retries + 1)]  # each retry bars one more first choice
    assert result.stats["generated_tokens"] == sum(min(64, -(-len(outputs[i]) // 3)) for i in range(retries + 1))
    assert "first_token" not in result.stats


def test_no_retry_for_a_followed_job():
    # the user types on at the cursor: the next request asks anew, nothing is generated ahead of it
    result, calls = complete([REPEAT, GOOD], typed=lambda: "")
    assert (result.text, len(calls)) == ("", 1)


def test_no_retry_without_the_cut():
    result, calls = complete([REPEAT, GOOD], truncate=False)  # raw output (the benchmarks' modes)
    assert (result.text, len(calls)) == ("return total", 1)


@pytest.mark.parametrize(
    "latency_target_ms, generate_tps, calls",
    [
        (0, 30.0, 2),  # no latency target: retried
        (2000, 30.0, 2),  # time left for 60 tokens
        (100, 30.0, 1),  # 3 tokens' worth left: fewer than a short line needs
    ],
)
def test_retry_only_within_the_latency_target(latency_target_ms, generate_tps, calls):
    result, made = complete([REPEAT, GOOD], latency_target_ms=latency_target_ms, generate_tps=generate_tps)
    assert len(made) == calls
