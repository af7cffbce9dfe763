"""Test doubles of `lsp_server.worker.engine.Engine` for the pipeline's unit tests: what a real
model writes next cannot be scripted, so these stand in for it (named as doubles where used).
The real llama.cpp side is tested in tests/e2e with the tiny generated model."""

from __future__ import annotations

from lsp_server.worker.engine import EvalStats, Rates

ROLES = {"fim_pre": 1, "fim_suf": 2, "fim_mid": 3}


class EngineDouble:
    """What `run_completion` needs of an engine besides `generate`: FIM roles, a tokenizer (one
    token per character) and an empty KV cache that moves KV entries as the embedded one does."""

    can_shift = True

    def __init__(self, generate_tps: float = 0.0) -> None:
        self.rates = Rates(generate_tps=generate_tps)
        self.bos = None
        self.info = type("Info", (), {"roles": ROLES, "metadata": {}})()

    def tokenize(self, text: str) -> list[int]:
        return [100 + ord(c) % 50 for c in text]

    def uncached(self, tokens: list[int]) -> int:
        return 0

    def adopt(self, tokens: list[int]) -> bool:
        return False


class Clock:
    """A fake `time` module for the pipeline: `perf_counter` reads `now`, which the test double moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class PacedEngine(EngineDouble):
    """Test double of `Engine`: spends `prompt_ms` on the prompt, then yields `pieces` one per
    token, each taking `ms_per_token` on `clock`; `on_piece(i)` is called before piece i is yielded."""

    def __init__(self, pieces: list[str], clock: Clock, ms_per_token: float, on_piece=lambda i: None, *,
                 prompt_ms: float = 0.0, generate_tps: float = 0.0) -> None:
        super().__init__(generate_tps)
        self.pieces, self.clock, self.ms, self.on_piece, self.prompt_ms = pieces, clock, ms_per_token, on_piece, prompt_ms

    def generate(self, prompt, *, max_tokens, cancelled, stop_tokens=frozenset(), stats=None, lead=None, avoid_first=frozenset()):
        stats = stats if stats is not None else EvalStats()
        self.clock.now += self.prompt_ms / 1000
        stats.first_token = 10
        stats.stop_reason = "eos"
        for i, piece in enumerate(self.pieces[:max_tokens]):
            self.clock.now += self.ms / 1000
            self.on_piece(i)
            stats.generated_tokens += 1
            yield piece
        if len(self.pieces) > max_tokens:
            stats.stop_reason = "max_tokens"
