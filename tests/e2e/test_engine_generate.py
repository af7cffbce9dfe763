"""Constrained generation through the real llama.cpp with the tiny generated model: held to a
required leading indentation (`Engine.generate(lead=...)`; left alone that model writes one long
identifier from its first token, so every whitespace character below is the constraint's doing),
and with barred first tokens (`avoid_first`, what a retry of a refused completion uses)."""

from __future__ import annotations

import pytest

from lsp_server.worker.engine import Engine, EvalStats

PREFIX = "def f(x):\n    if x:\n"
SUFFIX = "\n    return 1\n"


@pytest.fixture(scope="module")
def engine(tiny_model_path):
    e = Engine(str(tiny_model_path), n_ctx=1024)
    yield e
    e.close()


def generate(engine: Engine, lead: str | None, max_tokens: int = 8, avoid: frozenset[int] = frozenset()) -> tuple[str, EvalStats]:
    r = engine.info.roles
    tokens = [r["fim_pre"], *engine.tokenize(PREFIX), r["fim_suf"], *engine.tokenize(SUFFIX), r["fim_mid"]]
    stats = EvalStats()
    text = "".join(engine.generate(tokens, max_tokens=max_tokens, cancelled=lambda: False, stats=stats, lead=lead, avoid_first=avoid))
    return text, stats


def run(engine: Engine, lead: str | None, max_tokens: int = 8) -> str:
    return generate(engine, lead, max_tokens)[0]


def test_unconstrained_output_starts_with_code(engine):
    assert not run(engine, None)[:1].isspace()


@pytest.mark.parametrize("lead", ["        ", "  ", " ", "   \t", ""])
def test_output_starts_with_exactly_the_lead_then_code(engine, lead):
    text = run(engine, lead, max_tokens=len(lead) + 4)
    assert text.startswith(lead)
    assert text[len(lead) : len(lead) + 1] not in ("", " ", "\t", "\n"), repr(text)



@pytest.mark.parametrize("lead", [None, "        "])
def test_each_barred_first_token_gives_the_next_choice(engine, lead):
    firsts: list[int] = []
    for _ in range(3):
        text, stats = generate(engine, lead, 6, frozenset(firsts))
        assert stats.first_token is not None and stats.first_token not in firsts
        assert engine.vocab.piece(stats.first_token).decode("utf-8", "replace") in text
        firsts.append(stats.first_token)
    # barring nothing gives the first choice again, and only the first token is barred
    assert generate(engine, lead, 6)[1].first_token == firsts[0]
    assert generate(engine, lead, 6, frozenset(firsts[1:]))[1].first_token == firsts[0]


def test_a_barred_run_changes_the_output_and_nothing_after_it(engine):
    first, stats = generate(engine, None, 6)
    second, _ = generate(engine, None, 6, frozenset({stats.first_token}))
    assert first != second
    assert generate(engine, None, 6)[0] == first  # the cache left by a barred run changes nothing
