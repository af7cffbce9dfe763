"""`RemoteEngine` on its own, against the engine test double (`tests.support.fake_engine`): what
goes over the wire for the embedded engine's options (`lead`, `avoid_first`, stop tokens), the
stats it fills, and the health watch's outage and recovery."""

from __future__ import annotations

import threading

import pytest

from lsp_server.worker.engine.stats import EvalStats
from lsp_server.worker.remote import Failed, Malformed, RemoteEngine, Unreachable
from lsp_server.worker.remote.health import HealthWatch
from tests.support.fake_engine import FakeEngine


@pytest.fixture
def fake():
    engine = FakeEngine(answer="hello")
    yield engine
    engine.close()


def completions(fake: FakeEngine) -> list[dict]:
    return [b for p, b in fake.requests if p == "/completion"]


def run(engine: RemoteEngine, **options) -> tuple[str, EvalStats]:
    stats = EvalStats()
    text = "".join(engine.generate([1, 1001], cancelled=lambda: False, stats=stats, **options))
    return text, stats


def test_a_plain_completion(fake):
    engine = RemoteEngine(fake.url, "llama-server")
    text, stats = run(engine, max_tokens=3)
    assert text == "hel" and stats.stop_reason == "max_tokens" and stats.generated_tokens == 3
    assert stats.first_token == 1000 + ord("h") and stats.evaluated_tokens == 10 and stats.prompt_ms == 5.0
    [body] = completions(fake)
    assert body["prompt"] == [1, 1001] and body["n_predict"] == 3 and body["cache_prompt"] and "id_slot" not in body
    assert engine.uncached([1, 1001, 1000 + ord("h"), 7]) == 1  # the prompt and what it generated are cached


def test_a_stream_closed_before_the_engines_timings_still_measures_the_prompt(fake):
    """A stop token (or the stop check, or a cancel) closes the stream before the engine sends its
    timings: the prompt's tokens are those the slot lacked, its time that until the first piece."""
    fake.delay_s = 0.05
    engine = RemoteEngine(fake.url, "llama-server")
    prompt = [1] * 9 + [1001]
    stats = EvalStats()
    text = "".join(engine.generate(prompt, max_tokens=8, cancelled=lambda: False, stats=stats,
                                   stop_tokens=frozenset({1000 + ord("l")})))
    assert text == "he" and stats.stop_reason == "eos"
    assert (stats.evaluated_tokens, stats.reused_tokens) == (10, 0) and stats.prompt_ms >= 40
    engine.rates.update(stats)
    assert engine.rates.prompt_tps > 0  # what sizes the suffix window of an engine that cannot move it
    stats = EvalStats()
    "".join(engine.generate([*prompt, 1000 + ord("h"), 1002], max_tokens=1, cancelled=lambda: False, stats=stats,
                            stop_tokens=frozenset({1000 + ord("h")})))
    assert (stats.evaluated_tokens, stats.reused_tokens) == (1, 11)  # the slot held the rest


@pytest.mark.parametrize("options, prompts, limits, text", [
    # the lead's whitespace is appended to the prompt (and yielded), all but a final space
    ({"lead": "   "}, [[1, 1001, 1032, 1032]], [6], "  hello"),
    # a barred first token: one token with logit_bias, then the rest after it
    ({"avoid_first": frozenset({1000 + ord("h")})}, [[1, 1001], [1, 1001, 1000 + ord("h")]], [1, 7], "hhello"),
    ({"stop_tokens": frozenset({1000 + ord("l")})}, [[1, 1001]], [8], "he"),
])
def test_the_embedded_options_over_the_wire(fake, options, prompts, limits, text):
    engine = RemoteEngine(fake.url, "llama-server")
    got, _ = run(engine, max_tokens=8, **options)
    assert got == text  # the double answers the same text to any prompt
    assert [b["prompt"] for b in completions(fake)] == prompts
    assert [b["n_predict"] for b in completions(fake)] == limits
    if "avoid_first" in options:
        assert completions(fake)[0]["logit_bias"] == [[1000 + ord("h"), False]]


@pytest.mark.parametrize("mode, error", [("500", Failed), ("truncated", Malformed), ("malformed", Malformed)])
def test_failures_raise_remote_errors(fake, mode, error):
    engine = RemoteEngine(fake.url, "llama-server")
    fake.mode = mode
    with pytest.raises(error):
        run(engine, max_tokens=8)


def test_the_health_watch_polls_an_engine_that_went_away():
    fake = FakeEngine()
    port = int(fake.url.rsplit(":", 1)[1])
    engine = RemoteEngine(fake.url, "llama-server")
    events, got = [], threading.Event()
    watch = HealthWatch(engine.health, lambda e: (events.append(e), got.set()))
    fake.close()
    with pytest.raises(Unreachable) as exc:
        run(engine, max_tokens=3)
    watch.failed(exc.value)
    watch.failed(exc.value)  # said once
    assert watch.down and [e.ok for e in events] == [False]
    got.clear()
    back = FakeEngine(port=port)
    try:
        assert got.wait(10)
        assert [e.ok for e in events] == [False, True] and watch.down is None
        assert run(engine, max_tokens=3)[0] == "hel"
    finally:
        watch.close()
        back.close()


def test_the_key_is_sent_but_never_logged(caplog, monkeypatch):
    import logging

    from lsp_server.worker.remote import open_remote

    fake = FakeEngine(key="s3cret-key-value")
    monkeypatch.setenv("REMOTE_TEST_KEY", "s3cret-key-value")
    try:
        with caplog.at_level(logging.DEBUG):  # httpx and httpcore log every request at DEBUG
            engine = open_remote("llama-server", fake.url, api_key_env="REMOTE_TEST_KEY")
            assert run(engine, max_tokens=3)[0] == "hel"  # the double refuses any other key
            engine.close()
    finally:
        fake.close()
    assert "POST" in caplog.text or "completion" in caplog.text  # the requests were logged
    assert "s3cret-key-value" not in caplog.text


@pytest.mark.parametrize("prompt_tokens, answered", [
    (30, True),  # 30 tokens at no less than 20 a second: 1.5 s more than the 0.3 s between pieces
    (2, False),  # 0.1 s more: the engine's 0.5 s per event is too slow
])
def test_the_wait_for_the_first_piece_includes_the_prompts_time(fake, prompt_tokens, answered):
    fake.delay_s = 0.5
    engine = RemoteEngine(fake.url, "llama-server", timeout_s=0.3)
    stats = EvalStats()
    pieces = engine.generate([1] * (prompt_tokens - 1) + [1001], max_tokens=2, cancelled=lambda: False, stats=stats)
    if answered:
        assert "".join(pieces)
    else:
        with pytest.raises(Unreachable):
            "".join(pieces)


@pytest.mark.parametrize("seen_tps, tokens, wait_s", [(0.0, 200, 10.0), (100.0, 200, 2.0), (5.0, 200, 10.0)])
def test_prompt_wait(fake, seen_tps, tokens, wait_s):
    engine = RemoteEngine(fake.url, "llama-server")
    engine.rates.prompt_tps = seen_tps
    assert engine.prompt_wait_s(tokens) == pytest.approx(wait_s)
