"""Idle work of the real worker process (tiny generated model): a `prefill` is computed while
nothing else runs and serves the request that follows it; a cold request is answered from the
small window and the full window is computed after it, so the next request at that place gets
the full window without computing it; a new cross-file context likewise, the one the cache
holds answering meanwhile.
"""

from __future__ import annotations

import time

import pytest

from lsp_server.worker.prompts import SMALL_PREFIX_TOKENS
from lsp_server.worker_protocol import (
    Complete, CompletionRequest, ContextFile, Done, Load, Loaded, Prefill, Progress, Refreshed, Shutdown, Warmed, encode,
)
from tests.e2e.test_worker_protocol import RawWorker

BODY = "".join(f"def f{i}(x):\n    y = x * {i} + {i * 7}\n    return y - {i}\n\n\n" for i in range(60))


# The tiny model computes any of these prompts well within a real latency target (so a request
# would compute its full prompt itself): 1 ms affords only a keystroke's prompt (MIN_AFFORDABLE_TOKENS).
TARGET_MS = 1


def request(prefix: str, target_ms: int = TARGET_MS, **kw) -> CompletionRequest:
    return CompletionRequest(prefix=prefix, suffix="\n\nprint(f1(2))\n" * 20, path="m.py", language="python",
                             max_tokens=4, latency_target_ms=target_ms, **kw)


@pytest.fixture
def worker(tmp_path, tiny_model_path):
    w = RawWorker(tmp_path / "worker.log")
    w.send(encode(Load(path=str(tiny_model_path), n_ctx=4096)))
    while isinstance(event := w.event(), Progress):
        pass
    assert isinstance(event, Loaded)
    yield w
    w.send(encode(Shutdown()))
    w.close()


def answer(w: RawWorker, job_id: str) -> Done:
    while isinstance(event := w.event(), Progress | Warmed | Refreshed):
        pass
    assert isinstance(event, Done) and event.id == job_id, event
    return event


def test_a_prefill_serves_the_request_that_follows_it(worker):
    worker.send(encode(Complete(id="a", request=request("import os\n\n\ndef g():\n    "))))
    answer(worker, "a")
    expected = request(BODY + "def h(x):\n    ")
    worker.send(encode(Prefill(request=expected)))
    warmed = [worker.event(timeout=60)]
    while not warmed[-1].complete:
        warmed.append(worker.event(timeout=60))
    assert all(isinstance(w, Warmed) for w in warmed)
    worker.send(encode(Complete(id="b", request=expected)))
    stats = answer(worker, "b").result.stats
    # the full window, computed ahead: nothing but the last token is computed now
    assert stats["prefix_window_tokens"] > SMALL_PREFIX_TOKENS and not stats.get("small_window")
    assert stats["evaluated_tokens"] <= 2 + stats["generated_tokens"]
    # a prefill of the place being typed at (VS Code asks for code actions at every keystroke)
    # computes nothing: the prompt in use has it
    worker.send(encode(Prefill(request=expected)))
    time.sleep(1.0)
    worker.send(encode(Complete(id="b2", request=expected)))
    event = worker.event()
    assert isinstance(event, Done) and event.id == "b2", event


def test_a_cold_request_gets_the_small_window_and_the_next_one_the_full(worker):
    cold = request(BODY + "def h(x):\n    ")
    worker.send(encode(Complete(id="c", request=cold)))
    first = answer(worker, "c").result.stats
    assert first["small_window"] and first["prefix_window_tokens"] <= SMALL_PREFIX_TOKENS
    assert first["evaluated_tokens"] < first["prompt_tokens"] + first["generated_tokens"] + 1
    event = worker.event(timeout=60)
    assert isinstance(event, Warmed) and event.complete  # the full window, computed while idle
    worker.send(encode(Complete(id="d", request=request(BODY + "def h(x):\n    r"))))
    stats = answer(worker, "d").result.stats
    assert not stats.get("small_window") and stats["prefix_window_tokens"] > SMALL_PREFIX_TOKENS
    assert stats["evaluated_tokens"] < 40  # the typed character and the suffix's head, not the window


def test_no_small_window_without_a_latency_budget(worker):
    worker.send(encode(Complete(id="e", request=CompletionRequest(prefix=BODY, suffix="\n", language="python",
                                                                   max_tokens=4, latency_target_ms=0))))
    stats = answer(worker, "e").result.stats
    assert not stats.get("small_window") and stats["prefix_window_tokens"] > SMALL_PREFIX_TOKENS


C1 = (ContextFile("lib/geometry.py", "def area(w, h):\n    return w * h\n" * 8),)
C2 = (ContextFile("lib/money.py", "def cents(amount):\n    return round(amount * 100)\n" * 8),)


def until_warmed(w: RawWorker) -> None:
    while not (isinstance(event := w.event(timeout=60), Warmed) and event.complete):
        assert isinstance(event, Warmed | Refreshed), event


def test_a_new_cross_file_context_is_computed_while_idle_and_the_held_one_answers_meanwhile(worker):
    at = BODY + "def h(x):\n    "
    worker.send(encode(Complete(id="k1", request=request(at, context=C1, repo="proj"))))
    assert answer(worker, "k1").result.stats["small_window"]  # cold: the small window, no context
    until_warmed(worker)
    worker.send(encode(Complete(id="k2", request=request(at + "r", context=C1, repo="proj"))))
    with_c1 = answer(worker, "k2").result.stats
    assert with_c1["context_tokens"] > 0 and not with_c1.get("small_window") and with_c1["evaluated_tokens"] < 40
    # the context changes (the cursor moved to another scope): the held one answers at once ...
    worker.send(encode(Complete(id="k3", request=request(at + "re", context=C2, repo="proj"))))
    held = answer(worker, "k3").result.stats
    assert held["older_context"] and held["context_tokens"] == with_c1["context_tokens"]
    assert held["evaluated_tokens"] < 40
    # ... and the new one is computed while idle, then used
    until_warmed(worker)
    worker.send(encode(Complete(id="k4", request=request(at + "ret", context=C2, repo="proj"))))
    new = answer(worker, "k4").result.stats
    assert not new.get("older_context") and new["context_tokens"] != with_c1["context_tokens"]
    assert new["evaluated_tokens"] < 40


def test_the_rest_of_a_cold_requests_target_grows_the_full_window_before_the_next_request(worker):
    # a user typing on leaves the worker no idle time; what is left of the cold request's latency
    # target is spent on the full window even though the next keystroke's request waits for it
    worker.send(encode(Complete(id="g1", request=request(BODY + "def h(x):\n    ", target_ms=30000))))
    first = answer(worker, "g1").result.stats
    assert first["small_window"]
    worker.send(encode(Complete(id="g2", request=request(BODY + "def h(x):\n    r", target_ms=30000))))
    stats = answer(worker, "g2").result.stats
    assert not stats.get("small_window") and stats["prefix_window_tokens"] > SMALL_PREFIX_TOKENS
    assert stats["evaluated_tokens"] < 40


def test_a_short_file_is_prefilled_too(worker):
    # a prompt of a few dozen tokens in a cold cache costs little, but nothing holds it: it is computed
    short = CompletionRequest(prefix="def add(a, b):\n    ", suffix="\n", path="s.py", language="python",
                              max_tokens=4, latency_target_ms=2000)
    worker.send(encode(Prefill(request=short)))
    event = worker.event(timeout=60)
    assert isinstance(event, Warmed) and event.complete and event.stats["evaluated_tokens"] > 0, event
