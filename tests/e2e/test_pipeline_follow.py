"""A followed completion through the real pipeline and llama.cpp (the tiny generated model): it
goes on while the typing agrees with what it writes, and stops with no text at the first
character that does not."""

from __future__ import annotations

import pytest

from lsp_server.context.templates import choose_template
from lsp_server.worker.engine import Engine
from lsp_server.worker.pipeline import run_completion
from lsp_server.worker_protocol import CompletionRequest

REQUEST = CompletionRequest(prefix="def total(items):\n    return ", suffix="\n", language="python", max_tokens=12)


@pytest.fixture(scope="module")
def engine(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=1024)
    yield e
    e.close()


def complete(engine, typed=None):
    template = choose_template(engine.info.metadata)
    return run_completion(engine, template, REQUEST, lambda: False, typed)


@pytest.mark.parametrize("typed_chars", [0, 1, 3])
def test_typing_that_agrees_changes_nothing(engine, typed_chars):
    alone = complete(engine)
    assert len(alone.raw) > 3
    followed = complete(engine, lambda: alone.raw[:typed_chars])
    assert (followed.text, followed.stats["generated_tokens"]) == (alone.text, alone.stats["generated_tokens"])


def test_typing_that_disagrees_stops_it_with_no_text(engine):
    alone = complete(engine)
    typed = alone.raw[:2] + ("#" if alone.raw[2] != "#" else "@")
    result = complete(engine, lambda: typed)
    assert result.stats["stop_reason"] == "disagrees" and result.text == ""
    assert result.stats["generated_tokens"] < alone.stats["generated_tokens"]
