"""The engine's KV cache reuse through the real llama.cpp (tiny generated model).

Typing in front of a FIM suffix reuses the common prefix in place and moves the suffix's KV
entries instead of recomputing them; every state reached that way must stay decodable (llama.cpp
rejects non-consecutive positions), also after an interrupted evaluation.
"""

from __future__ import annotations

import pytest

from lsp_server.worker.engine import Engine, EvalStats, Interrupted
from lsp_server.worker.engine.kv import REFRESH_CHUNK
from lsp_server.worker.engine.layout import FRESH_SUFFIX_HEAD

CHUNK = 32  # small batches, so that these short prompts take several

PREFIX = "def total(values):\n    result = 0\n    for v in values:\n        "
SUFFIX = "\n    return result\n\n\nprint(total([1, 2, 3]))\n" * 3


@pytest.fixture(scope="module")
def engine(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=2048, chunk=CHUNK)
    yield e
    e.close()


def fim(engine: Engine, prefix: str, suffix: str = SUFFIX) -> list[int]:
    r = engine.info.roles
    return [r["fim_pre"], *engine.tokenize(prefix), r["fim_suf"], *engine.tokenize(suffix), r["fim_mid"]]


def complete(engine: Engine, tokens: list[int], max_tokens: int = 4) -> EvalStats:
    stats = EvalStats()
    list(engine.generate(tokens, max_tokens=max_tokens, cancelled=lambda: False, stats=stats))
    return stats


@pytest.mark.parametrize("typed", [["r", "re", "res", "resu"], ["result", "resul", "resu"], ["x = 1", "x = 12", "y"]],
                         ids=["typing", "deleting", "replacing"])
def test_keystrokes_move_the_suffix_instead_of_recomputing_it(engine, typed):
    complete(engine, fim(engine, PREFIX))
    suffix_tokens = len(engine.tokenize(SUFFIX))
    for text in typed:
        stats = complete(engine, fim(engine, PREFIX + text))
        # the suffix was moved, all but its first tokens (the role token and what follows it)
        assert stats.shifted_tokens >= suffix_tokens + 1 - FRESH_SUFFIX_HEAD
        # Only the retokenized end of the prefix and the suffix's head are computed (BPE may merge
        # the last few tokens anew).
        assert stats.evaluated_tokens <= len(engine.tokenize(text)) + 8 + FRESH_SUFFIX_HEAD
        assert stats.generated_tokens == 4


def test_without_shift_the_suffix_is_recomputed(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=2048, chunk=CHUNK, reuse_shifted=False)
    try:
        complete(e, fim(e, PREFIX))
        stats = complete(e, fim(e, PREFIX + "r"))
        assert stats.shifted_tokens == 0
        assert stats.evaluated_tokens >= len(e.tokenize(SUFFIX))
    finally:
        e.close()


def test_interrupted_evaluation_leaves_a_usable_cache(engine):
    complete(engine, fim(engine, PREFIX))
    calls = iter([False, True])  # N needs more than one chunk: stop after the first
    long_insert = "value = " + "x + " * 40
    with pytest.raises(Interrupted):
        engine.evaluate(fim(engine, PREFIX + long_insert), lambda: next(calls, True), EvalStats())
    stats = complete(engine, fim(engine, PREFIX + "r"))
    assert stats.generated_tokens == 4
    stats = complete(engine, fim(engine, PREFIX + "re"))
    assert stats.generated_tokens == 4


def test_identical_prompt_recomputes_only_the_last_token(engine):
    tokens = fim(engine, PREFIX)
    complete(engine, tokens)
    stats = complete(engine, tokens)
    assert stats.evaluated_tokens == 1 and stats.reused_tokens == len(tokens) - 1


def test_a_cancel_during_the_suffix_finishes_it_so_the_next_keystroke_can_move_it(engine):
    engine.reset()
    calls = iter([False])  # the first check (in the prefix) passes; every later one says "cancelled"
    tokens = fim(engine, "x = 1\n")
    stats = EvalStats()
    list(engine.generate(tokens, max_tokens=4, cancelled=lambda: next(calls, True), stats=stats))
    assert stats.stop_reason == "cancelled" and stats.generated_tokens == 0
    assert engine.kv.cached == tokens  # the suffix was finished despite the cancel
    again = complete(engine, fim(engine, "x = 12\n"))
    assert again.shifted_tokens >= len(engine.tokenize(SUFFIX)) + 1 - FRESH_SUFFIX_HEAD


def last_logits(engine: Engine, tokens: list[int]):
    engine.evaluate(tokens, lambda: False, EvalStats())
    return engine.kv.logits().copy()


@pytest.fixture(scope="module")
def fresh(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=2048, chunk=CHUNK, reuse_shifted=False)
    yield e
    e.close()


def test_idle_refresh_makes_the_moved_suffix_exact(engine, fresh):
    import numpy as np

    typed = fim(engine, PREFIX + "result = result + v * 2")
    fresh.reset()
    exact = last_logits(fresh, typed)
    engine.reset()
    complete(engine, fim(engine, PREFIX))
    moved = last_logits(engine, typed)
    assert engine.needs_refresh and engine.kv.moved.at is not None
    # the moved entries were computed after other text: the model's view differs (else this test proves nothing)
    assert not np.allclose(moved, exact, atol=1e-3)
    assert engine.refresh(lambda: False) >= len(engine.tokenize(SUFFIX)) + 1 - FRESH_SUFFIX_HEAD
    assert not engine.needs_refresh and engine.kv.moved.typed == 0
    stats = EvalStats()
    engine.evaluate(typed, lambda: False, stats)
    assert stats.evaluated_tokens == 1  # nothing but the last token is computed again
    np.testing.assert_allclose(engine.kv.logits(), exact, atol=1e-3, rtol=1e-3)


def test_an_interrupted_refresh_keeps_its_progress_and_a_usable_cache(engine, fresh):
    import numpy as np

    typed = fim(engine, PREFIX + "total = 0")
    engine.reset()
    complete(engine, fim(engine, PREFIX))
    complete(engine, typed)
    start = engine.kv.moved.at
    calls = iter([False, True])  # one batch, then "a request came in"
    done = engine.refresh(lambda: next(calls, True))
    assert done == REFRESH_CHUNK and engine.kv.moved.at == start + done and engine.needs_refresh
    assert complete(engine, fim(engine, PREFIX + "total = 01")).generated_tokens == 4  # still decodable
    engine.refresh(lambda: False)
    assert not engine.needs_refresh
    fresh.reset()
    np.testing.assert_allclose(last_logits(engine, typed), last_logits(fresh, typed), atol=1e-3, rtol=1e-3)


def test_moved_entries_stay_marked_until_recomputed(engine, fresh):
    import numpy as np

    engine.reset()
    complete(engine, fim(engine, PREFIX))
    assert not engine.needs_refresh
    complete(engine, fim(engine, PREFIX + "r"))
    assert engine.needs_refresh
    # an edit after the cursor: the common prefix now runs into the moved entries, which stay marked
    edited = fim(engine, PREFIX + "r", SUFFIX.replace("return result", "return None", 1))
    complete(engine, edited)
    assert engine.needs_refresh
    engine.refresh(lambda: False)
    fresh.reset()
    np.testing.assert_allclose(last_logits(engine, edited), last_logits(fresh, edited), atol=1e-3, rtol=1e-3)
    complete(engine, engine.tokenize("x = 1\n"))  # nothing in common: everything computed anew
    assert not engine.needs_refresh and engine.kv.moved.typed == 0
