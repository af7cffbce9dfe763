"""The llama.cpp engine: one loaded GGUF model, its KV cache, and greedy generation.

Owns the `Llama` object and everything that touches it: reading the model's FIM token ids and
metadata, tokenizing, evaluating a prompt while reusing the KV cache (the common token prefix,
and, where possible, the suffix moved to its new positions), and generating token by token with
a `cancelled()` check between prompt batches and between tokens. Not thread-safe (llama.cpp is
not): only the worker's engine thread may call it. Must not know about LSP or documents.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

Cancelled = Callable[[], bool]


class Interrupted(Exception):
    """Prompt evaluation was stopped by `cancelled()`."""


@dataclass
class EvalStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0  # KV entries kept in place (common prefix)
    shifted_tokens: int = 0  # KV entries kept but moved to new positions
    evaluated_tokens: int = 0  # prompt tokens actually computed
    generated_tokens: int = 0
    prompt_ms: float = 0.0
    generate_ms: float = 0.0
    stop_reason: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def default_threads() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 2
    return max(1, min(n, 8))


@dataclass
class ModelInfo:
    path: str
    name: str
    architecture: str
    n_ctx: int
    n_ctx_train: int
    n_vocab: int
    roles: dict[str, int]
    metadata: dict[str, str] = field(default_factory=dict)
    has_chat_template: bool = False


class Engine:
    """A loaded model. `chunk` is the prompt batch size between cancellation checks."""

    def __init__(self, path: str, *, n_ctx: int = 4096, threads: int = 0, chunk: int = 64) -> None:
        import llama_cpp

        self._lib = llama_cpp
        threads = threads or default_threads()
        self.llm = llama_cpp.Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_batch=max(chunk, 64),
            n_ubatch=max(chunk, 64),
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self.chunk = chunk
        self.ctx = self.llm._ctx.ctx
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm._model.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.n_ctx = llama_cpp.llama_n_ctx(self.ctx)
        self._batch = llama_cpp.llama_batch_init(max(chunk, 64), 0, 1)
        self.cached: list[int] = []  # tokens whose KV entries sit at positions 0..len-1
        meta = {k: str(v) for k, v in self.llm.metadata.items() if not k.startswith("tokenizer.ggml.") or k.endswith(".pre")}
        self.info = ModelInfo(
            path=path,
            name=meta.get("general.name", os.path.basename(path)),
            architecture=meta.get("general.architecture", ""),
            n_ctx=self.n_ctx,
            n_ctx_train=llama_cpp.llama_model_n_ctx_train(self.llm._model.model),
            n_vocab=self.n_vocab,
            roles=self._read_roles(),
            metadata={k: v for k, v in meta.items() if len(v) < 200},
            has_chat_template="tokenizer.chat_template" in self.llm.metadata,
        )
        self.bos = llama_cpp.llama_vocab_bos(self.vocab)

    def close(self) -> None:
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None
        self.llm.close()

    # -- vocabulary -------------------------------------------------------------------------
    def _read_roles(self) -> dict[str, int]:
        lib, roles = self._lib, {}
        for role, fn in (
            ("fim_pre", lib.llama_vocab_fim_pre), ("fim_suf", lib.llama_vocab_fim_suf),
            ("fim_mid", lib.llama_vocab_fim_mid), ("fim_pad", lib.llama_vocab_fim_pad),
            ("fim_rep", lib.llama_vocab_fim_rep), ("fim_sep", lib.llama_vocab_fim_sep),
        ):
            tok = fn(self.vocab)
            if tok is not None and tok >= 0:
                roles[role] = int(tok)
        return roles

    def tokenize(self, text: str) -> list[int]:
        """The user's text as tokens; special-token texts in it stay plain text (no injection)."""
        if not text:
            return []
        return self.llm.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=False, special=False)

    def tokenize_special(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def piece(self, token: int) -> bytes:
        return self.llm.detokenize([token], special=False)

    def is_eog(self, token: int) -> bool:
        return bool(self._lib.llama_vocab_is_eog(self.vocab, token))

    # -- KV cache and evaluation --------------------------------------------------------------
    def _decode(self, tokens: list[int], start_pos: int, seq: int = 0) -> None:
        b = self._batch
        b.n_tokens = len(tokens)
        for i, tok in enumerate(tokens):
            b.token[i] = tok
            b.pos[i] = start_pos + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = i == len(tokens) - 1
        rc = self._lib.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc} (context full or out of memory)")

    def _logits(self) -> np.ndarray:
        ptr = self._lib.llama_get_logits_ith(self.ctx, -1)
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))

    def evaluate(self, tokens: list[int], cancelled: Cancelled, stats: EvalStats) -> None:
        """Bring the KV cache to exactly `tokens`, computing only what is not cached yet.

        Leaves the logits of the last token ready. Raises Interrupted between batches when
        `cancelled()`; the cache then holds a valid prefix of `tokens`.
        """
        t0 = time.perf_counter()
        if len(tokens) >= self.n_ctx:
            raise ValueError(f"prompt of {len(tokens)} tokens does not fit the context of {self.n_ctx}")
        common = 0
        for a, b in zip(self.cached, tokens):
            if a != b:
                break
            common += 1
        if common == len(tokens):  # everything cached: recompute the last token for its logits
            common -= 1
        if common < len(self.cached):
            self._lib.llama_memory_seq_rm(self.memory, 0, common, -1)
            del self.cached[common:]
        stats.prompt_tokens = len(tokens)
        stats.reused_tokens = common
        pos = common
        while pos < len(tokens):
            if cancelled():
                stats.prompt_ms = (time.perf_counter() - t0) * 1000
                raise Interrupted()
            part = tokens[pos : pos + self.chunk]
            self._decode(part, pos)
            self.cached.extend(part)
            pos += len(part)
            stats.evaluated_tokens += len(part)
        stats.prompt_ms = (time.perf_counter() - t0) * 1000

    def generate(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        cancelled: Cancelled,
        stop_tokens: frozenset[int] = frozenset(),
        stats: EvalStats | None = None,
    ) -> Iterator[str]:
        """Greedy decoding: yields text pieces until end-of-generation, a stop token, the token
        limit, the context's end, or `cancelled()`. Sets `stats.stop_reason` accordingly."""
        stats = stats if stats is not None else EvalStats()
        try:
            self.evaluate(prompt, cancelled, stats)
        except Interrupted:
            stats.stop_reason = "cancelled"
            return
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        t0 = time.perf_counter()
        try:
            while True:
                if stats.generated_tokens >= max_tokens:
                    stats.stop_reason = "max_tokens"
                    break
                if cancelled():
                    stats.stop_reason = "cancelled"
                    break
                if len(self.cached) + 1 >= self.n_ctx:
                    stats.stop_reason = "context_full"
                    break
                token = int(np.argmax(self._logits()))
                if self.is_eog(token) or token in stop_tokens:
                    stats.stop_reason = "eos"
                    break
                stats.generated_tokens += 1
                self._decode([token], len(self.cached))
                self.cached.append(token)
                text = decoder.decode(self.piece(token))
                if text:
                    yield text
        finally:
            stats.generate_ms = (time.perf_counter() - t0) * 1000
