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
    first_token: int | None = None  # the first token the model chose (after a lead)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Rates:
    """This machine's measured speeds for the loaded model, and how the model ends its output
    (exponential moving averages)."""

    prompt_tps: float = 0.0
    generate_tps: float = 0.0
    alpha: float = 0.3

    def update(self, stats: EvalStats) -> None:
        if stats.evaluated_tokens >= 4 and stats.prompt_ms > 0:
            self.prompt_tps = self._mix(self.prompt_tps, stats.evaluated_tokens / stats.prompt_ms * 1000)
        if stats.generated_tokens >= 4 and stats.generate_ms > 0:
            self.generate_tps = self._mix(self.generate_tps, stats.generated_tokens / stats.generate_ms * 1000)

    def _mix(self, old: float, new: float) -> float:
        return new if old <= 0 else old + self.alpha * (new - old)

    # How the model ends its suggestions: the share of generations given their whole token limit
    # that it ended itself (end of text) rather than running to the limit (a moving average).
    ends_itself: float = 1.0
    endings: int = 0

    def note_ending(self, ended_itself: bool) -> None:
        x = 1.0 if ended_itself else 0.0
        self.ends_itself = x if self.endings == 0 else self.ends_itself + self.alpha * (x - self.ends_itself)
        self.endings += 1

    @property
    def runs_on(self) -> bool:
        """The model habitually writes on to its token limit instead of ending the middle itself
        (small models do): what it writes after its first statement is not to be trusted."""
        return self.endings >= 3 and self.ends_itself < 0.5


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

    def __init__(
        self, path: str, *, n_ctx: int = 4096, threads: int = 0, chunk: int = 32, reuse_shifted: bool = True
    ) -> None:
        import llama_cpp  # deferred: a heavy import, needed only where a model is loaded

        self._lib = llama_cpp
        threads = threads or default_threads()
        # The Llama object gives us the model, tokenizer and metadata; its own context stays
        # small and unused. Generation runs in our context, which has two sequences in one
        # unified KV cache: the second one lets new tokens be decoded in front of suffix
        # entries that were moved to their new positions (see `_evaluate_shifted`).
        self.llm = llama_cpp.Llama(
            model_path=path,
            n_ctx=256,
            n_batch=64,
            n_ubatch=64,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        params = llama_cpp.llama_context_params.from_buffer_copy(self.llm.context_params)
        params.n_ctx = n_ctx
        params.n_batch = max(chunk, 64)
        params.n_ubatch = max(chunk, 64)
        params.n_seq_max = 2
        params.kv_unified = True
        self.ctx = llama_cpp.llama_init_from_model(self.llm._model.model, params)
        if self.ctx is None:
            raise RuntimeError("llama.cpp could not create a context (out of memory?)")
        self.chunk = chunk
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.can_shift = bool(llama_cpp.llama_memory_can_shift(self.memory)) and reuse_shifted
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm._model.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.n_ctx = llama_cpp.llama_n_ctx(self.ctx)
        self._batch = llama_cpp.llama_batch_init(max(chunk, 64), 0, 2)
        self.cached: list[int] = []  # tokens whose KV entries sit at positions 0..len-1 of seq 0
        self.prompt_len = 0  # how many of `cached` were the last prompt (the rest was generated)
        self.stale = 0  # tokens typed since the reused suffix entries were computed
        # First position of seq 0 whose KV entries were moved rather than computed in their
        # present context (the shifted suffix); None when every entry is exact. `refresh`
        # recomputes them when the worker is idle.
        self.stale_at: int | None = None
        self.rates = Rates()
        self._lead: tuple[np.ndarray, np.ndarray] | None = None  # see _lead_table
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
        if self.ctx is not None:
            self._lib.llama_free(self.ctx)
            self.ctx = None
        self.llm.close()

    def uncached(self, tokens: list[int]) -> int:
        """How many tokens of a prompt `evaluate` would compute now (same rules as evaluate)."""
        common = min(_common_prefix(self.cached, tokens), max(0, len(tokens) - 1))
        same = self._reusable_suffix(tokens, common)
        return len(tokens) - common - same

    def _reusable_suffix(self, tokens: list[int], common: int) -> int:
        """Tokens at the end of the previous prompt that `evaluate` would move, not recompute."""
        prev = self.cached[: self.prompt_len]
        if not self.can_shift or common >= len(prev) - 1:
            return 0
        limit = min(len(prev), len(tokens)) - 1 - common
        same = _common_suffix(prev[:-1], tokens[:-1], max(0, limit))
        # The first suffix tokens (the FIM suffix marker and what follows it) are computed anew:
        # their entries depend most on the text just before them, which the keystroke changed.
        same -= self.FRESH_SUFFIX_HEAD
        if same >= self.MIN_SHIFT and self.stale + abs(len(tokens) - len(prev)) <= self.MAX_STALE:
            return same
        return 0

    def reset(self) -> None:
        """Forget the KV cache (both sequences)."""
        self._lib.llama_memory_clear(self.memory, True)
        self.cached, self.prompt_len, self.stale, self.stale_at = [], 0, 0, None

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

    MIN_SHIFT = 8  # fewer reusable suffix tokens than this: not worth a shift
    # Suffix tokens right after the edit that are recomputed rather than moved. Measured with both
    # bundled models on four keystrokes in real files (KL divergence of the next-token
    # distribution from a full recompute): moving every suffix entry gives KL 4.6-27 (another
    # suggestion: the FIM suffix marker's entry is computed from the text just before it);
    # computing the first 2 again gives <= 0.08, the first 8 <= 0.03.
    FRESH_SUFFIX_HEAD = 8
    MAX_STALE = 64  # typed tokens after which moved suffix entries are recomputed (idle time refreshes them first)
    # Once prompt evaluation reaches the FIM suffix (at most this many tokens before the end), it
    # is finished even if the job is cancelled: the next keystroke's request needs the same suffix,
    # and a suffix never computed to the end could never be reused (typing would starve it).
    FINISH_SUFFIX = 384

    def evaluate(self, tokens: list[int], cancelled: Cancelled, stats: EvalStats) -> None:
        """Bring the KV cache to exactly `tokens`, computing only what is not cached yet.

        Reuses the common token prefix in place and, where the model allows it, the common
        token suffix of the previous prompt (the FIM suffix) moved to its new positions. Leaves
        the logits of the last token ready. Raises Interrupted between batches when
        `cancelled()`; the cache then holds a valid state.
        """
        t0 = time.perf_counter()
        try:
            if len(tokens) >= self.n_ctx:
                raise ValueError(f"prompt of {len(tokens)} tokens does not fit the context of {self.n_ctx}")
            stats.prompt_tokens = len(tokens)
            common = _common_prefix(self.cached, tokens)
            if common == len(tokens):  # everything cached: recompute the last token for its logits
                common -= 1
            # The common suffix of the two prompts, not counting their last token (recomputed anyway).
            same = self._reusable_suffix(tokens, common)
            if same:
                self._evaluate_shifted(tokens, self.cached[: self.prompt_len], common, same, cancelled, stats)
                return
            self._evaluate_prefix(tokens, common, cancelled, stats)
            if self.stale_at is None:
                self.stale = 0
        finally:
            stats.prompt_ms = (time.perf_counter() - t0) * 1000

    def _evaluate_prefix(self, tokens: list[int], common: int, cancelled: Cancelled, stats: EvalStats) -> None:
        if common < len(self.cached):
            self._lib.llama_memory_seq_rm(self.memory, 0, common, -1)
            del self.cached[common:]
        if self.stale_at is not None and self.stale_at >= common:
            self.stale_at = None
        self.prompt_len = len(self.cached)
        stats.reused_tokens = common
        # The last token is always decoded on its own, as in the warm and shifted paths, so that
        # its logits (and the greedy suggestion) do not depend on how the cache was reached.
        body = tokens[common:-1]
        suffix_at = self._suffix_start(tokens)
        finish_from = max(0, suffix_at - common) if suffix_at is not None else len(body)
        try:
            self._decode_chunks(body, common, 0, cancelled, stats, finish_from=finish_from)
            self._decode_chunks(tokens[-1:], len(tokens) - 1, 0, lambda: False, stats)
        finally:
            if len(self.cached) == len(tokens):
                self.prompt_len = len(tokens)

    def _suffix_start(self, tokens: list[int]) -> int | None:
        """Where the FIM suffix block starts, if it is short enough to be finished regardless."""
        suf = self.info.roles.get("fim_suf")
        if suf is None:
            return None
        for i in range(len(tokens) - 1, max(-1, len(tokens) - 1 - self.FINISH_SUFFIX), -1):
            if tokens[i] == suf:
                return i
        return None

    def _evaluate_shifted(
        self, tokens: list[int], prev: list[int], common: int, same: int, cancelled: Cancelled, stats: EvalStats
    ) -> None:
        """prev = A + O + S + [last]; tokens = A + N + S + [last']: keep A, move S, compute N.

        llama.cpp decodes a batch only at positions that follow a sequence's last one, so N is
        decoded in sequence 1 (a copy of A) and then copied into sequence 0 in front of S.
        """
        lib, mem = self._lib, self.memory
        # moved entries left from before inside A stay moved (an edit after the cursor)
        kept_stale = self.stale_at if self.stale_at is not None and self.stale_at < common else None
        old_end = len(prev) - 1 - same  # O = prev[common:old_end]
        new = tokens[common : len(tokens) - 1 - same]  # N
        delta = len(new) - (old_end - common)
        lib.llama_memory_seq_rm(mem, 0, len(prev) - 1, -1)  # the old last token and the generation
        lib.llama_memory_seq_rm(mem, 0, common, old_end)  # O
        if delta:
            lib.llama_memory_seq_add(mem, 0, old_end, len(prev) - 1, delta)  # S to its new place
        self.cached = tokens[:common]  # a valid prefix state, should N be interrupted
        self.prompt_len = common
        if new:
            lib.llama_memory_seq_rm(mem, 1, -1, -1)
            lib.llama_memory_seq_cp(mem, 0, 1, 0, common)
            try:
                self._decode_chunks(new, common, 1, cancelled, stats)
            except Interrupted:
                lib.llama_memory_seq_rm(mem, 1, -1, -1)
                lib.llama_memory_seq_rm(mem, 0, common, -1)  # drop S: it no longer lines up
                self.stale_at = kept_stale
                if kept_stale is None:
                    self.stale = 0
                raise
            lib.llama_memory_seq_cp(mem, 1, 0, common, common + len(new))
            lib.llama_memory_seq_rm(mem, 1, -1, -1)
        self._decode([tokens[-1]], len(tokens) - 1, 0)
        stats.evaluated_tokens += 1
        self.cached = list(tokens)
        self.prompt_len = len(tokens)
        stats.reused_tokens = common
        stats.shifted_tokens = same
        head = self.FRESH_SUFFIX_HEAD  # the suffix's head is in `new` and `old`, computed anew: not stale
        self.stale += max(0, len(new) - head) + max(0, old_end - common - head)
        self.stale_at = common + len(new) if kept_stale is None else kept_stale

    REFRESH_CHUNK = 16  # small batches: a request waits at most one of them

    @property
    def needs_refresh(self) -> bool:
        return self.stale_at is not None

    def refresh(self, cancelled: Cancelled) -> int:
        """Recompute the moved KV entries of the cached prompt in their present context.

        Moved suffix entries were computed after the text that was there before the user typed,
        and the model's suggestions drift toward that old text as more is typed. The worker calls
        this when it has nothing else to do: small batches are decoded in sequence 1 (a copy of
        the exact entries before them) and replace the moved ones in sequence 0 one batch at a
        time, so a `cancelled()` between batches keeps what is done and leaves a valid cache.
        Generated tokens after the prompt are dropped. Returns the tokens computed."""
        if self.stale_at is None:
            return 0
        lib, mem = self._lib, self.memory
        if len(self.cached) > self.prompt_len:
            lib.llama_memory_seq_rm(mem, 0, self.prompt_len, -1)
            del self.cached[self.prompt_len :]
        prompt = self.cached
        pos = self.stale_at
        done = 0
        lib.llama_memory_seq_rm(mem, 1, -1, -1)
        lib.llama_memory_seq_cp(mem, 0, 1, 0, pos)
        try:
            while pos < len(prompt) and not cancelled():
                part = prompt[pos : pos + self.REFRESH_CHUNK]
                self._decode(part, pos, 1)
                lib.llama_memory_seq_rm(mem, 0, pos, pos + len(part))
                lib.llama_memory_seq_cp(mem, 1, 0, pos, pos + len(part))
                pos += len(part)
                done += len(part)
                self.stale_at = pos
        finally:
            lib.llama_memory_seq_rm(mem, 1, -1, -1)
        if pos >= len(prompt):
            self.stale_at, self.stale = None, 0
        return done

    def _decode_chunks(
        self, tokens: list[int], start: int, seq: int, cancelled: Cancelled, stats: EvalStats, finish_from: int | None = None
    ) -> None:
        """Decode in chunks, checking `cancelled()` before each chunk that starts before `finish_from`."""
        pos = start
        finish_from = len(tokens) if finish_from is None else finish_from
        for i in range(0, len(tokens), self.chunk):
            if i < finish_from and cancelled():
                raise Interrupted()
            part = tokens[i : i + self.chunk]
            self._decode(part, pos, seq)
            if seq == 0:  # keep `cached` equal to what sequence 0 holds, also when interrupted
                self.cached.extend(part)
            pos += len(part)
            stats.evaluated_tokens += len(part)

    def generate(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        cancelled: Cancelled,
        stop_tokens: frozenset[int] = frozenset(),
        stats: EvalStats | None = None,
        lead: str | None = None,
        avoid_first: frozenset[int] = frozenset(),
    ) -> Iterator[str]:
        """Greedy decoding: yields text pieces until end-of-generation, a stop token, the token
        limit, the context's end, or `cancelled()`. Sets `stats.stop_reason` accordingly.
        `lead` (whitespace, maybe empty): the text starts with exactly it and then a character
        that is not whitespace. Its tokens are written as the vocabulary writes that whitespace
        (all but a final space, which BPE joins to the word after it: "   " + " if"), and the
        next token is the model's likeliest one that completes it with code.
        `avoid_first`: tokens the model may not choose as its first one (after the lead): a retry
        takes its next choice. The first token chosen is left in `stats.first_token`."""
        stats = stats if stats is not None else EvalStats()
        need: bytes | None = None
        forced: list[int] = []
        if lead is not None:
            head = lead[:-1] if lead.endswith(" ") else lead
            forced = self.tokenize(head)
            need = lead[len(head):].encode("utf-8")
        try:
            self.evaluate(prompt, cancelled, stats)
        except Interrupted:
            stats.stop_reason = "cancelled"
            return
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        t0 = time.perf_counter()
        try:
            if forced and len(self.cached) + len(forced) + 1 >= self.n_ctx:
                need = None  # no room for the lead: generate as the model would
            elif forced:
                self._decode(forced, len(self.cached))
                self.cached.extend(forced)
                stats.generated_tokens += len(forced)
                yield head
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
                logits = self._logits()
                if stats.first_token is None and avoid_first:
                    logits = logits.copy()
                    logits[list(avoid_first)] = -np.inf
                if need is None:
                    token = int(np.argmax(logits))
                else:
                    token, need = self._lead_token(logits, need)
                if self.is_eog(token) or token in stop_tokens:
                    stats.stop_reason = "eos"
                    break
                if stats.first_token is None and need is None:  # not whitespace the lead still forces
                    stats.first_token = token
                stats.generated_tokens += 1
                self._decode([token], len(self.cached))
                self.cached.append(token)
                text = decoder.decode(self.piece(token))
                if text:
                    yield text
        finally:
            stats.generate_ms = (time.perf_counter() - t0) * 1000

    def _lead_token(self, logits: np.ndarray, need: bytes) -> tuple[int, bytes | None]:
        """The likeliest token that starts with `need` (b"" or the lead's final space) and then
        code, and None (the lead is done). If the vocabulary has none: `need` on its own, then
        code (b""); the model's own likeliest token when even that cannot be."""
        lead_len, code_after = self._lead_table()
        masked = np.where((lead_len == len(need)) & code_after, logits, -np.inf)
        for _ in range(64):  # the likeliest first: a piece with a tab where a space is needed is skipped
            t = int(np.argmax(masked))
            if masked[t] == -np.inf:
                break
            if self.piece(t).startswith(need):
                return t, None
            masked[t] = -np.inf
        alone = self.tokenize(need.decode("utf-8")) if need else []
        if len(alone) == 1:
            return alone[0], b""
        return int(np.argmax(logits)), None

    def prepare_lead(self) -> None:
        """Build the table `generate(lead=...)` uses now rather than on first use."""
        self._lead_table()

    def _lead_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Per token: how many leading spaces/tabs its piece has, and whether code (not a line
        break) follows them. Built once, on first use."""
        if self._lead is None:
            lead_len = np.zeros(self.n_vocab, dtype=np.int32)
            code_after = np.zeros(self.n_vocab, dtype=bool)
            for t in range(self.n_vocab):
                if self.is_eog(t):
                    continue
                piece = self.piece(t)
                body = piece.lstrip(b" \t")
                lead_len[t] = len(piece) - len(body)
                if body and body[:1] not in b"\r\n\x0b\x0c":
                    code_after[t] = True
            self._lead = (lead_len, code_after)
        return self._lead


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: list[int], b: list[int], limit: int) -> int:
    n = 0
    while n < limit and a[len(a) - 1 - n] == b[len(b) - 1 - n]:
        n += 1
    return n
