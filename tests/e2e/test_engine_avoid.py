"""Generation with barred first tokens (`Engine.generate(avoid_first=...)`, what a retry of a
refused completion uses), through the real llama.cpp with the tiny generated model."""

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


def run(engine: Engine, avoid: frozenset[int] = frozenset(), lead: str | None = None) -> tuple[str, EvalStats]:
    r = engine.info.roles
    tokens = [r["fim_pre"], *engine.tokenize(PREFIX), r["fim_suf"], *engine.tokenize(SUFFIX), r["fim_mid"]]
    stats = EvalStats()
    text = "".join(engine.generate(tokens, max_tokens=6, cancelled=lambda: False, stats=stats, lead=lead, avoid_first=avoid))
    return text, stats


@pytest.mark.parametrize("lead", [None, "        "])
def test_each_barred_first_token_gives_the_next_choice(engine, lead):
    firsts = []
    for _ in range(3):
        text, stats = run(engine, frozenset(firsts), lead)
        assert stats.first_token is not None and stats.first_token not in firsts
        assert engine.piece(stats.first_token).decode("utf-8", "replace") in text
        firsts.append(stats.first_token)
    # barring nothing gives the first choice again, and only the first token is barred
    again, stats = run(engine, frozenset(), lead)
    assert stats.first_token == firsts[0]
    later = run(engine, frozenset(firsts[1:]), lead)[1]
    assert later.first_token == firsts[0]


def test_the_rest_of_the_generation_is_greedy_as_before(engine):
    first, stats = run(engine)
    second, _ = run(engine, frozenset({stats.first_token}))
    assert first != second
    assert run(engine)[0] == first  # the cache left by a barred run changes nothing
