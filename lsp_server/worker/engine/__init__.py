"""The llama.cpp engine: one loaded GGUF model, its KV cache, and greedy generation.

`Engine` is the façade the worker's scheduler and pipeline (and the doctor) use; it loads the
model and composes the parts, each with one job:

    vocab     the vocabulary and metadata: tokenizing, token texts, FIM role ids, `ModelInfo`
    layout    where a prompt's tokens sit in the KV cache, as a pure plan (keep, move, compute)
    kv        the KV cache through llama.cpp: carries out the plans, idle refresh of moved entries
    sampling  the generation loop: greedy choice, stops, the `lead` and `avoid_first` constraints
    chat      a chat's messages rendered with the model's own template
    stats     what one evaluation measured (`EvalStats`) and the running averages (`Rates`)

Not thread-safe (llama.cpp is not): only the worker's engine thread may call it. Must not know
about LSP or documents.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from lsp_server.worker.engine.chat import ChatTemplateError, format_chat
from lsp_server.worker.engine.kv import CHUNK, IDLE_CHUNK, Cancelled, Interrupted, KVCache
from lsp_server.worker.engine.sampling import Sampler
from lsp_server.worker.engine.stats import EvalStats, Rates
from lsp_server.worker.engine.vocab import ModelInfo, Vocabulary

__all__ = ["Cancelled", "ChatTemplateError", "Engine", "EvalStats", "Interrupted", "ModelInfo", "Rates", "default_threads"]


def default_threads() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 2
    return max(1, min(n, 8))


class Engine:
    """A loaded model. `chunk` and `idle_chunk` are the prompt batch sizes of a request and of
    work done while idle (`KVCache`); `reuse_shifted=False` computes the FIM suffix again after
    every edit instead of moving it."""

    has_spares = True  # spare KV sequences: prompts computed ahead beside the one in use

    def __init__(
        self, path: str, *, n_ctx: int = 4096, threads: int = 0, chunk: int = CHUNK, idle_chunk: int = IDLE_CHUNK,
        reuse_shifted: bool = True,
    ) -> None:
        import llama_cpp  # deferred: a heavy import, needed only where a model is loaded

        threads = threads or default_threads()
        # The Llama object gives us the model, tokenizer and metadata; its own context stays
        # small and unused. Generation runs in the KV cache's own context (`kv`).
        self.llm = llama_cpp.Llama(
            model_path=path,
            n_ctx=256,
            n_batch=64,
            n_ubatch=64,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self.vocab = Vocabulary(self.llm)
        self.kv = KVCache(self.llm, n_ctx=n_ctx, chunk=chunk, idle_chunk=idle_chunk, reuse_shifted=reuse_shifted,
                          fim_suf=self.vocab.roles.get("fim_suf"))
        self.sampler = Sampler(self.kv, self.vocab)
        self.info = self.vocab.info(path, self.kv.n_ctx)
        self.bos = self.vocab.bos
        self.rates = Rates()

    def close(self) -> None:
        self.kv.close()
        self.llm.close()

    # -- tokens (`vocab`) ---------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """The user's text as tokens; special-token texts in it stay plain text (no injection)."""
        return self.vocab.tokenize(text)

    def tokenize_special(self, text: str) -> list[int]:
        """A prompt template's text as tokens: special-token texts in it become those tokens."""
        return self.vocab.tokenize_special(text)

    # -- the KV cache (`kv`) ------------------------------------------------------------------
    def evaluate(self, tokens: list[int], cancelled: Cancelled, stats: EvalStats) -> None:
        """Bring the KV cache to exactly `tokens` (`KVCache.evaluate`)."""
        self.kv.evaluate(tokens, cancelled, stats)

    def uncached(self, tokens: list[int]) -> int:
        """How many tokens of a prompt would be computed now, from the prompt in use or the best
        spare once adopted (`held`)."""
        return len(tokens) - self.held(tokens)

    @property
    def needs_refresh(self) -> bool:
        """Some KV entries were moved rather than computed where they are: `refresh` when idle."""
        return self.kv.needs_refresh

    def refresh(self, cancelled: Cancelled) -> int:
        """Recompute moved KV entries until done or `cancelled()` (`KVCache.refresh`); returns the
        tokens computed."""
        started = time.perf_counter()
        done = self.kv.refresh(cancelled)
        self._measure_ahead(done, started)
        return done

    def reset(self) -> None:
        """Forget the KV cache."""
        self.kv.reset()

    def warm(self, tokens: list[int], cancelled: Cancelled) -> tuple[int, bool]:
        """Compute a prompt ahead of its request into a spare sequence, leaving the prompt in use
        alone (`KVCache.warm`): (tokens computed, finished)."""
        started = time.perf_counter()
        done, finished = self.kv.warm(tokens, cancelled)
        self._measure_ahead(done, started)
        return done, finished

    def _measure_ahead(self, computed: int, started: float) -> None:
        """Tokens computed while the worker was idle count toward the measured prompt speed
        (`Rates`), so that a request whose prompt was computed ahead (the cursor revealed, a
        prefill on opening) still leaves the speed known to the next one, which would otherwise
        judge what it can afford without it (`prompts.affordable_tokens`). Idle work decodes smaller
        batches than a request's, so its speed errs on the slow side."""
        self.rates.update(EvalStats(evaluated_tokens=computed, prompt_ms=(time.perf_counter() - started) * 1000))

    def held(self, tokens: list[int]) -> int:
        """How many of a prompt's tokens the cache would not compute, from the prompt in use or a
        spare once adopted (kept or moved)."""
        return len(tokens) - min(self.kv.plan(tokens).computed, self.kv.cheapest_spare(tokens)[1])

    def adopt(self, tokens: list[int]) -> bool:
        """Make a spare the prompt in use if `tokens` compute fewer from it (`KVCache.adopt`)."""
        return self.kv.adopt(tokens)

    @property
    def can_shift(self) -> bool:
        """Whether a prompt's suffix may be moved instead of computed (a benchmark switches it)."""
        return self.kv.can_shift

    @can_shift.setter
    def can_shift(self, value: bool) -> None:
        self.kv.can_shift = value

    # -- generation (`sampling`) --------------------------------------------------------------
    def generate(self, prompt: list[int], **options) -> Iterator[str]:
        """Greedy generation after `prompt`, yielding text pieces; the keyword `options` are those
        of `Sampler.generate` (max_tokens, cancelled, stop_tokens, stats, lead, avoid_first)."""
        return self.sampler.generate(prompt, **options)

    def prepare_lead(self) -> None:
        """Build the table `generate(lead=...)` uses now rather than on first use."""
        self.sampler.lead_table()

    def chat(self, messages: list[dict], continuation: str, *, max_tokens: int, cancelled: Cancelled,
             stats: EvalStats) -> Iterator[str]:
        """The model's answer to `messages` ({"role", "content"}), rendered with its chat template
        (`chat`), continuing `continuation` (the answer so far) when given. Raises
        ChatTemplateError at once when the template does not render."""
        prompt = self.tokenize_special(format_chat(self.llm, self.bos, messages))
        prompt += self.tokenize(continuation) if continuation else []
        return self.generate(prompt, max_tokens=max_tokens, cancelled=cancelled, stats=stats)
