"""Generation held to a required leading indentation (`Engine.generate(lead=...)`), through the
real llama.cpp with the tiny generated model. Left alone that model writes one long identifier
from its first token, so every whitespace character below is the constraint's doing."""

from __future__ import annotations

import pytest

from lsp_server.model.engine import Engine, EvalStats

PREFIX = "def f(x):\n    if x:\n"
SUFFIX = "\n    return 1\n"


@pytest.fixture(scope="module")
def engine(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=1024)
    yield e
    e.close()


def run(engine: Engine, lead: str | None, max_tokens: int = 8) -> str:
    r = engine.info.roles
    tokens = [r["fim_pre"], *engine.tokenize(PREFIX), r["fim_suf"], *engine.tokenize(SUFFIX), r["fim_mid"]]
    return "".join(engine.generate(tokens, max_tokens=max_tokens, cancelled=lambda: False, stats=EvalStats(), lead=lead))


def test_unconstrained_output_starts_with_code(engine):
    assert not run(engine, None)[:1].isspace()


@pytest.mark.parametrize("lead", ["        ", "  ", " ", "   \t", ""])
def test_output_starts_with_exactly_the_lead_then_code(engine, lead):
    text = run(engine, lead, max_tokens=len(lead) + 4)
    assert text.startswith(lead)
    assert text[len(lead) : len(lead) + 1] not in ("", " ", "\t", "\n"), repr(text)

