"""Prompts computed ahead into spare sequences (`Engine.warm`) and swapped in (`Engine.adopt`),
through the real llama.cpp (tiny generated model).

A prompt computed ahead never disturbs the prompt in use; once adopted it serves its request
with only the last token computed, and its logits are those of a fresh evaluation; the prompt
it replaces becomes a spare in turn (going back to the other file is free); an interrupted warm
keeps its progress and a usable cache.
"""

from __future__ import annotations

import numpy as np
import pytest

from lsp_server.worker.engine import Engine, EvalStats

CHUNK, IDLE_CHUNK = 32, 16  # small batches, so that these short prompts take several

A = "def total(values):\n    result = 0\n    for v in values:\n        result += v\n    return result\n" * 4
B = "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n" * 4


@pytest.fixture(scope="module")
def engine(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=2048, chunk=CHUNK, idle_chunk=IDLE_CHUNK)
    yield e
    e.close()


@pytest.fixture(scope="module")
def fresh(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=2048, chunk=CHUNK, idle_chunk=IDLE_CHUNK, reuse_shifted=False)
    yield e
    e.close()


def fim(engine: Engine, prefix: str, suffix: str = "\n\nprint(1)\n") -> list[int]:
    r = engine.info.roles
    return [r["fim_pre"], *engine.tokenize(prefix), r["fim_suf"], *engine.tokenize(suffix), r["fim_mid"]]


def evaluate(engine: Engine, tokens: list[int]) -> EvalStats:
    stats = EvalStats()
    engine.evaluate(tokens, lambda: False, stats)
    return stats


def exact_logits(fresh: Engine, tokens: list[int]) -> np.ndarray:
    fresh.reset()
    evaluate(fresh, tokens)
    return fresh.kv.logits().copy()


def test_a_warmed_prompt_leaves_the_one_in_use_and_serves_its_request_exactly(engine, fresh):
    engine.reset()
    a, b = fim(engine, A), fim(engine, B)
    evaluate(engine, a)
    done, finished = engine.warm(b, lambda: False)
    assert finished and done == len(b)
    # the prompt in use is untouched: asking for it again computes only its last token
    assert evaluate(engine, a).evaluated_tokens == 1
    # the warmed one is adopted: only its last token is computed, and its logits are exact
    assert engine.adopt(b)
    assert evaluate(engine, b).evaluated_tokens == 1
    np.testing.assert_allclose(engine.kv.logits(), exact_logits(fresh, b), atol=1e-3, rtol=1e-3)
    # the prompt it replaced became a spare: going back costs one token too
    assert engine.adopt(a)
    assert evaluate(engine, a).evaluated_tokens == 1
    np.testing.assert_allclose(engine.kv.logits(), exact_logits(fresh, a), atol=1e-3, rtol=1e-3)


def test_no_adoption_when_the_prompt_in_use_holds_as_much(engine):
    engine.reset()
    a = fim(engine, A)
    evaluate(engine, a)
    engine.warm(fim(engine, B), lambda: False)
    assert not engine.adopt(fim(engine, A + "x"))  # typing on in the same file: sequence 0 serves it


def test_an_interrupted_warm_keeps_its_progress_and_resumes(engine, fresh):
    engine.reset()
    evaluate(engine, fim(engine, A))
    b = fim(engine, B)
    calls = iter(range(100))
    done, finished = engine.warm(b, lambda: next(calls) >= 2)  # two batches, then a job arrives
    assert (done, finished) == (2 * IDLE_CHUNK, False)
    done, finished = engine.warm(b, lambda: False)
    assert finished and done == len(b) - 2 * IDLE_CHUNK
    assert engine.adopt(b) and evaluate(engine, b).evaluated_tokens == 1
    np.testing.assert_allclose(engine.kv.logits(), exact_logits(fresh, b), atol=1e-3, rtol=1e-3)


def test_prompts_computed_ahead_measure_the_prompt_speed(tiny_model_path):
    # a server whose requests find their prompts computed ahead knows its speed all the same
    e = Engine(str(tiny_model_path), n_ctx=2048, chunk=CHUNK, idle_chunk=IDLE_CHUNK)
    try:
        assert e.rates.prompt_tps == 0
        assert e.warm(fim(e, A), lambda: False)[1]
        assert e.rates.prompt_tps > 0
        e.rates.prompt_tps = 0.0
        e.warm(fim(e, A), lambda: False)  # nothing left to compute: no measurement
        assert e.rates.prompt_tps == 0
        e.adopt(fim(e, A))
        evaluate(e, fim(e, A))
        evaluate(e, fim(e, A.replace("result = 0", "result = 10", 1)))  # the suffix moves
        assert e.needs_refresh and e.refresh(lambda: False) > 0
        assert e.rates.prompt_tps > 0
    finally:
        e.close()


def test_a_half_warmed_prompt_is_adopted_for_what_it_holds(engine):
    engine.reset()
    evaluate(engine, fim(engine, A))
    b = fim(engine, B)
    calls = iter(range(100))
    engine.warm(b, lambda: next(calls) >= 3)
    assert engine.adopt(b)
    assert evaluate(engine, b).evaluated_tokens == len(b) - 3 * IDLE_CHUNK


def test_generation_after_adoption_and_a_keystroke_stays_decodable(engine):
    engine.reset()
    evaluate(engine, fim(engine, A))
    engine.warm(fim(engine, B + "        "), lambda: False)
    for typed in ("", "s", "se", "sel"):
        stats = EvalStats()
        list(engine.generate(fim(engine, B + "        " + typed), max_tokens=4, cancelled=lambda: False, stats=stats))
        assert stats.generated_tokens == 4


def test_spares_give_way_when_the_context_is_full(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=1024)
    try:
        big = "x = [" + ", ".join(str(i) for i in range(150)) + "]\n"
        a, b, c = fim(e, "# a\n" + big), fim(e, "# b\n" + big), fim(e, "# c\n" + big)
        evaluate(e, a)
        e.warm(b, lambda: False)
        e.warm(c, lambda: False)  # no room for both spares beside the prompt in use: b gives way
        assert sum(bool(held) for held in e.kv.spares.values()) <= 1
        stats = EvalStats()
        list(e.generate(fim(e, "# d\n" + big), max_tokens=8, cancelled=lambda: False, stats=stats))
        assert stats.generated_tokens == 8
    finally:
        e.close()


def test_held_counts_the_prompt_in_use_and_the_spares(engine):
    engine.reset()
    a, b = fim(engine, A), fim(engine, B)
    evaluate(engine, a)
    assert engine.held(a) == len(a) - 1  # the last token is always computed again
    assert engine.held(b) < 8
    engine.warm(b, lambda: False)
    assert engine.held(b) == len(b) - 1


def test_two_prompts_that_share_only_a_header_are_warmed_side_by_side(engine):
    engine.reset()
    evaluate(engine, fim(engine, A))
    header = "# path/of/the/file.py\n"  # the path line both prompts start with
    small, full = fim(engine, header + B[-80:]), fim(engine, header + B)
    assert engine.warm(small, lambda: False)[1] and engine.warm(full, lambda: False)[1]
    # the second did not overwrite the first (they share the header only): both are held
    assert engine.held(small) == len(small) - 1 and engine.held(full) == len(full) - 1


def test_a_spare_of_an_older_keystroke_is_adopted_with_its_suffix_moved(engine):
    # the user typed on after the spare was computed: adopting it computes the typed tokens and the
    # suffix's fresh head, and moves the rest of its suffix, as sequence 0 would
    engine.reset()
    evaluate(engine, fim(engine, A))
    suffix = "\n\n" + "print(total([1, 2, 3]))\n" * 12
    older, newer = fim(engine, B + "        ", suffix), fim(engine, B + "        self.z = 0", suffix)
    assert engine.warm(older, lambda: False)[1]
    cost = len(newer) - engine.held(newer)
    assert cost < 24, cost  # not the whole suffix after the cursor
    assert engine.adopt(newer)
    assert evaluate(engine, newer).evaluated_tokens == cost


def once_then_stop():
    """A `cancelled()` that says go at the check before the first batch and stop from then on: in a
    batch that asks while it computes, the stop comes inside the batch."""
    calls = iter(range(1_000_000))
    return lambda: next(calls) >= 1


def test_a_batch_computed_ahead_is_aborted_while_it_computes_and_leaves_nothing(tiny_model_path):
    import llama_cpp

    e = Engine(str(tiny_model_path), n_ctx=2048)  # the shipped batch sizes
    fresh_engine = Engine(str(tiny_model_path), n_ctx=2048, reuse_shifted=False)
    try:
        e.kv.abort.after_s = 0.0  # ask at once (a real model's batch takes long enough)
        a, b = fim(e, A), fim(e, B[:30], suffix="\n")
        assert len(b) <= e.kv.idle_chunk
        evaluate(e, a)
        # aborted inside its only batch: nothing warmed, the spare holds nothing
        assert e.warm(b, once_then_stop()) == (0, False)
        assert all(llama_cpp.llama_memory_seq_pos_max(e.kv.memory, s) == -1 for s in (2, 3))
        # the prompt in use is untouched, and generation runs on after it
        assert evaluate(e, a).evaluated_tokens == 1
        np.testing.assert_allclose(e.kv.logits(), exact_logits(fresh_engine, a), atol=1e-3, rtol=1e-3)
        stats = EvalStats()
        assert len(list(e.generate(a, max_tokens=4, cancelled=lambda: False, stats=stats))) == 4
        # warmed again, then adopted: exact
        assert e.warm(b, lambda: False)[1] and e.adopt(b) and evaluate(e, b).evaluated_tokens == 1
        np.testing.assert_allclose(e.kv.logits(), exact_logits(fresh_engine, b), atol=1e-3, rtol=1e-3)
    finally:
        e.close()
        fresh_engine.close()
