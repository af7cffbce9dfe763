"""Test doubles of `lsp_server.worker.engine.Engine` for the pipeline's unit tests: what a real
model writes next cannot be scripted, so these stand in for it (named as doubles where used).
The real llama.cpp side is tested in tests/e2e with the tiny generated model."""

from __future__ import annotations

from lsp_server.worker.engine import Rates

ROLES = {"fim_pre": 1, "fim_suf": 2, "fim_mid": 3}


class EngineDouble:
    """What `run_completion` needs of an engine besides `generate`: FIM roles, a tokenizer (one
    token per character) and an empty KV cache."""

    def __init__(self, generate_tps: float = 0.0) -> None:
        self.rates = Rates(generate_tps=generate_tps)
        self.bos = None
        self.info = type("Info", (), {"roles": ROLES, "metadata": {}})()

    def tokenize(self, text: str) -> list[int]:
        return [100 + ord(c) % 50 for c in text]

    def uncached(self, tokens: list[int]) -> int:
        return 0
