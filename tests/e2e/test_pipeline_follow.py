"""A followed completion through the real pipeline and llama.cpp (the tiny generated model): it
stops at the first character the typing disagrees with, and waits (or gives up) where the
worker's limit on running ahead of the typing says so."""

from __future__ import annotations

import pytest

from lsp_server.context.templates import choose_template
from lsp_server.model.engine import Engine
from lsp_server.pipeline import CompletionRequest, run_completion

REQUEST = CompletionRequest(prefix="def total(items):\n    return ", suffix="\n", language="python", max_tokens=12)


@pytest.fixture(scope="module")
def engine(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=1024)
    yield e
    e.close()


def complete(engine, typed=None, hold=None):
    template = choose_template(engine.info.metadata)
    return run_completion(engine, template, REQUEST, lambda: False, typed, hold)


def test_a_hold_that_lets_it_run_changes_nothing(engine):
    alone = complete(engine)
    calls = []
    followed = complete(engine, lambda: "", lambda typed, ahead: calls.append(ahead) or True)
    assert followed.text == alone.text and followed.stats["generated_tokens"] == alone.stats["generated_tokens"]
    assert calls == list(range(1, len(calls) + 1))  # nothing typed: every token is one more ahead


def test_it_stops_where_the_hold_gives_up(engine):
    result = complete(engine, lambda: "", lambda typed, ahead: ahead < 3)
    assert result.stats["stop_reason"] == "held"
    assert result.stats["generated_tokens"] == 3
    assert result.text == ""


def test_tokens_the_user_typed_are_not_ahead(engine):
    alone = complete(engine).raw
    assert len(alone) > 2
    seen = []
    complete(engine, lambda: alone[:2], lambda typed, ahead: seen.append((typed, ahead)) or ahead < 2)
    # this model writes a character per token: the two typed ones are not ahead of the typing
    assert seen == [(alone[:2], 0), (alone[:2], 0), (alone[:2], 1), (alone[:2], 2)]


def test_typing_that_disagrees_stops_it_with_no_text(engine):
    alone = complete(engine).raw
    other = "#" if not alone.startswith("#") else "@"
    result = complete(engine, lambda: other, lambda typed, ahead: True)
    assert result.stats["stop_reason"] == "disagrees" and result.text == ""

