"""The loaded model's KV cache, driven through llama.cpp: carries out `layout`'s plans.

Owns the llama.cpp context (four sequences in one unified KV cache: sequence 0 is the prompt in
use; sequence 1 lets new tokens be decoded in front of entries that were moved to later positions
of sequence 0; sequences 2 and 3 are spare prompts computed while the worker is idle, `warm`, and
swapped into sequence 0 by `adopt` when a request finds more of its prompt there), its decode
batch, and the record of what sequence 0 holds: `cached` (the tokens at positions 0..n-1),
`prompt_len` (how many of them were the last prompt; the rest was generated) and `moved` (which
entries were moved rather than computed where they are). Evaluates a prompt, appends generated
tokens, hands out the last token's logits and recomputes moved entries when the worker is idle,
checking `cancelled()` between batches (a prompt computed ahead also within a batch, through
llama.cpp's abort callback: `_Abort`) and leaving a valid cache when it says stop. Uses
llama-cpp-python's public API only (`Llama.model`, `Llama.context_params`, `llama_*` functions).
Must not decide what to keep or move (`layout` does) nor choose tokens (`sampling` does). Not
thread-safe (llama.cpp is not).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable

import numpy as np

from lsp_server.worker.engine.layout import Moved, Plan, common_prefix, moved_after
from lsp_server.worker.engine.layout import plan as make_plan
from lsp_server.worker.engine.stats import EvalStats

Cancelled = Callable[[], bool]

# Prompt batch sizes. Larger batches compute a prompt faster on a CPU (1.5B, 2 cores, tokens/s
# at batch 16 / 32 / 64 / 128: 74 / 84 / 92 / 95).
# - A live request's prompt (CHUNK): its batch is finished even when the request is cancelled
#   meanwhile, since the next keystroke's prompt mostly starts with the same tokens.
# - A prompt computed ahead while idle (IDLE_CHUNK): a request waits for none of its batches (a
#   batch still computing after ABORT_AFTER_S asks `cancelled()` every ABORT_EVERY_S, and is
#   dropped when it says stop).
# - The idle refresh of moved entries (REFRESH_CHUNK) decodes small batches between a typing
#   user's requests: a request waits at most one of them.
CHUNK = 128
IDLE_CHUNK = 64
REFRESH_CHUNK = 16
ABORT_AFTER_S = 0.1
ABORT_EVERY_S = 0.05
SPARES = (2, 3)  # the sequences that hold spare prompts (`warm`, `adopt`)
ADOPT_MARGIN = 16  # a spare replaces sequence 0 only when it holds this many more of the prompt
GENERATION_ROOM = 512  # cells kept free for the prompt in use to generate into (a spare gives way)


class Interrupted(Exception):
    """Prompt evaluation was stopped by `cancelled()`."""


class _Abort:
    """llama.cpp's abort callback for one context: while a batch that may be cancelled is decoded,
    asks its `cancelled()` (at most every ABORT_EVERY_S, from ABORT_AFTER_S after the batch began,
    so that short batches never ask), and tells llama.cpp to stop when it says so: `llama_decode`
    then returns 2 and drops what it computed of that batch. Set only around such batches: it is
    called between every two graph nodes, and generation does not need it."""

    def __init__(self, lib, ctx) -> None:
        self._lib, self._ctx = lib, ctx
        self._callback = lib.ggml_abort_callback(self._ask)  # kept alive: llama.cpp holds the pointer
        self._none = lib.ggml_abort_callback()
        self._cancelled: Cancelled | None = None
        self._next = 0.0
        self.after_s = ABORT_AFTER_S

    def _ask(self, _data) -> bool:
        cancelled = self._cancelled
        if cancelled is None:
            return False
        now = time.perf_counter()
        if now < self._next:
            return False
        self._next = now + ABORT_EVERY_S
        try:
            return bool(cancelled())
        except Exception:  # an exception must not cross into C; the batch goes on
            return False

    def arm(self, cancelled: Cancelled) -> None:
        self._cancelled, self._next = cancelled, time.perf_counter() + self.after_s
        self._lib.llama_set_abort_callback(self._ctx, self._callback, None)

    def disarm(self) -> None:
        self._cancelled = None
        self._lib.llama_set_abort_callback(self._ctx, self._none, None)


class KVCache:
    """The KV cache of `llm` (a loaded `llama_cpp.Llama`). `chunk` is a live prompt's batch size and
    `idle_chunk` that of a prompt computed ahead (`cancelled()` is asked between two batches, and
    within one computed ahead); `fim_suf` the FIM suffix marker (see `layout.FINISH_SUFFIX`)."""

    def __init__(self, llm, *, n_ctx: int, chunk: int, reuse_shifted: bool, fim_suf: int | None,
                 idle_chunk: int = IDLE_CHUNK) -> None:
        import llama_cpp  # deferred: a heavy import, needed only where a model is loaded

        self._lib = llama_cpp
        # The Llama object's own context stays small and unused: ours has room for two sequences.
        params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
        params.n_ctx = n_ctx
        # one batch is one micro-batch: an aborted batch leaves nothing of itself in the cache
        params.n_batch = params.n_ubatch = max(chunk, idle_chunk, 64)
        params.n_seq_max = 2 + len(SPARES)
        params.kv_unified = True
        self.ctx = llama_cpp.llama_init_from_model(llm.model, params)
        if self.ctx is None:
            raise RuntimeError("llama.cpp could not create a context (out of memory?)")
        self.chunk, self.idle_chunk = chunk, idle_chunk
        self.abort = _Abort(llama_cpp, self.ctx)
        self.fim_suf = fim_suf
        self.n_vocab = llm.n_vocab()
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.can_shift = bool(llama_cpp.llama_memory_can_shift(self.memory)) and reuse_shifted
        self.n_ctx = llama_cpp.llama_n_ctx(self.ctx)
        self._batch = llama_cpp.llama_batch_init(params.n_batch, 0, 2 + len(SPARES))
        self.cached: list[int] = []  # tokens whose KV entries sit at positions 0..len-1 of seq 0
        self.prompt_len = 0  # how many of `cached` were the last prompt (the rest was generated)
        self.moved = Moved()  # `refresh` recomputes these entries when the worker is idle
        self.spares: dict[int, list[int]] = {seq: [] for seq in SPARES}  # the tokens each spare holds
        self._spare_use = list(SPARES)  # least recently warmed first

    def close(self) -> None:
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None
        if self.ctx is not None:
            self._lib.llama_free(self.ctx)
            self.ctx = None

    def plan(self, tokens: list[int]) -> Plan:
        """What `evaluate(tokens)` would keep, move and compute now."""
        return make_plan(self.cached, self.prompt_len, tokens, can_shift=self.can_shift, typed=self.moved.typed,
                         fim_suf=self.fim_suf)

    def reset(self) -> None:
        """Forget the KV cache (every sequence)."""
        self._lib.llama_memory_clear(self.memory, True)
        self.cached, self.prompt_len, self.moved = [], 0, Moved()
        self.spares = {seq: [] for seq in SPARES}

    # -- spare prompts ----------------------------------------------------------------------------
    def spare_for(self, tokens: list[int]) -> tuple[int, int]:
        """(the spare sequence holding most of `tokens`, how many of their first tokens it holds)."""
        best = max(SPARES, key=lambda seq: (common_prefix(self.spares[seq], tokens), -self._spare_use.index(seq)))
        return best, min(common_prefix(self.spares[best], tokens), max(0, len(tokens) - 1))

    def _spare_plan(self, seq: int, tokens: list[int]) -> Plan:
        """The plan for `tokens` once spare `seq` is adopted (its prompt then moves, as sequence 0's)."""
        held = self.spares[seq]
        return make_plan(held, len(held), tokens, can_shift=self.can_shift, fim_suf=self.fim_suf)

    def cheapest_spare(self, tokens: list[int]) -> tuple[int, int]:
        """(the spare from which `tokens` would compute the fewest tokens once adopted, that many).
        A spare holding an older version of the prompt (the user typed since it was computed)
        counts its end as movable, as sequence 0's would be."""
        costs = {seq: self._spare_plan(seq, tokens).computed for seq in SPARES}
        best = min(SPARES, key=lambda seq: (costs[seq], self._spare_use.index(seq)))
        return best, costs[best]

    def warm(self, tokens: list[int], cancelled: Cancelled) -> tuple[int, bool]:
        """Compute `tokens` into a spare sequence (the one holding most of them, when at least half
        of what it holds is theirs; else the least recently warmed, so that a prompt warmed just
        before, such as the small window before the full one, stays), in small batches, until done or `cancelled()`: a later `adopt` swaps it
        in. Sequence 0 is not touched. Returns (tokens computed, finished)."""
        seq, keep = self.spare_for(tokens)
        if keep >= len(tokens) - 1:
            return 0, True
        if keep * 2 < len(self.spares[seq]):  # a spare mostly of another prompt (a common header): the older one
            seq = self._spare_use[0]
            keep = min(common_prefix(self.spares[seq], tokens), max(0, len(tokens) - 1))
        lib, mem = self._lib, self.memory
        other = [s for s in SPARES if s != seq]
        if len(self.cached) + len(tokens) + sum(len(self.spares[s]) for s in other) + GENERATION_ROOM > self.n_ctx:
            for s in other:  # make room: the other spare goes first
                lib.llama_memory_seq_rm(mem, s, -1, -1)
                self.spares[s] = []
            if len(self.cached) + len(tokens) + GENERATION_ROOM > self.n_ctx:
                return 0, True  # no room beside the prompt in use: not worth it
        self._spare_use.remove(seq)
        self._spare_use.append(seq)
        lib.llama_memory_seq_rm(mem, seq, keep, -1)
        held = self.spares[seq] = list(tokens[:keep])
        done = 0
        while len(held) < len(tokens) and not cancelled():
            part = tokens[len(held) : len(held) + self.idle_chunk]
            try:
                self._decode(part, len(held), seq, cancelled)
            except Interrupted:
                break
            held.extend(part)
            done += len(part)
        return done, len(held) >= len(tokens)

    def adopt(self, tokens: list[int]) -> bool:
        """Swap the spare from which `tokens` compute the fewest (`cheapest_spare`) into sequence 0
        when that saves at least ADOPT_MARGIN tokens over sequence 0; sequence 0's prompt becomes
        that spare (its exact entries: moved ones and generated tokens are dropped). Returns
        whether it swapped."""
        seq, cost = self.cheapest_spare(tokens)
        if cost + ADOPT_MARGIN > self.plan(tokens).computed:
            return False
        lib, mem = self._lib, self.memory
        exact = min(self.prompt_len, len(self.cached), self.moved.at if self.moved.at is not None else len(self.cached))
        lib.llama_memory_seq_rm(mem, 0, exact, -1)
        lib.llama_memory_seq_rm(mem, 1, -1, -1)
        lib.llama_memory_seq_cp(mem, 0, 1, -1, -1)
        lib.llama_memory_seq_rm(mem, 0, -1, -1)
        lib.llama_memory_seq_cp(mem, seq, 0, -1, -1)
        lib.llama_memory_seq_rm(mem, seq, -1, -1)
        lib.llama_memory_seq_cp(mem, 1, seq, -1, -1)
        lib.llama_memory_seq_rm(mem, 1, -1, -1)
        self.cached, self.spares[seq] = self.spares[seq], self.cached[:exact]
        self.prompt_len, self.moved = len(self.cached), Moved()
        return True

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
            p = self.plan(tokens)
            if p.move:
                self._evaluate_moved(tokens, p, cancelled, stats)
            else:
                self._evaluate_prefix(tokens, p, cancelled, stats)
        finally:
            stats.prompt_ms = (time.perf_counter() - t0) * 1000

    def _evaluate_prefix(self, tokens: list[int], p: Plan, cancelled: Cancelled, stats: EvalStats) -> None:
        if p.keep < len(self.cached):
            self._lib.llama_memory_seq_rm(self.memory, 0, p.keep, -1)
            del self.cached[p.keep :]
        self.moved = moved_after(p, self.moved, finished=False)
        self.prompt_len = len(self.cached)
        stats.reused_tokens = p.keep
        try:
            self._decode_chunks(tokens[p.keep : -1], p.keep, 0, cancelled, stats, finish_from=max(0, p.finish_at - p.keep))
            self._decode_chunks(tokens[-1:], len(tokens) - 1, 0, lambda: False, stats)
        finally:
            if len(self.cached) == len(tokens):
                self.prompt_len = len(tokens)
        self.moved = moved_after(p, self.moved, finished=True)

    def _evaluate_moved(self, tokens: list[int], p: Plan, cancelled: Cancelled, stats: EvalStats) -> None:
        """Keep the prefix, move the suffix by `p.shift`, compute what lies between.

        llama.cpp decodes a batch only at positions that follow a sequence's last one, so the new
        tokens are decoded in sequence 1 (a copy of the kept prefix) and then copied into sequence
        0 in front of the moved entries.
        """
        lib, mem, keep = self._lib, self.memory, p.keep
        new = tokens[keep : p.new_end]
        lib.llama_memory_seq_rm(mem, 0, p.prev_size - 1, -1)  # the old last token and the generation
        lib.llama_memory_seq_rm(mem, 0, keep, p.old_end)  # what the new tokens replace
        if p.shift:
            lib.llama_memory_seq_add(mem, 0, p.old_end, p.prev_size - 1, p.shift)  # the suffix to its new place
        self.cached = tokens[:keep]  # a valid prefix state, should the new tokens be interrupted
        self.prompt_len = keep
        if new:
            lib.llama_memory_seq_rm(mem, 1, -1, -1)
            lib.llama_memory_seq_cp(mem, 0, 1, 0, keep)
            try:
                self._decode_chunks(new, keep, 1, cancelled, stats)
            except Interrupted:
                lib.llama_memory_seq_rm(mem, 1, -1, -1)
                lib.llama_memory_seq_rm(mem, 0, keep, -1)  # drop the suffix: it no longer lines up
                self.moved = moved_after(p, self.moved, finished=False)
                raise
            lib.llama_memory_seq_cp(mem, 1, 0, keep, p.new_end)
            lib.llama_memory_seq_rm(mem, 1, -1, -1)
        self._decode([tokens[-1]], len(tokens) - 1, 0)
        stats.evaluated_tokens += 1
        self.cached = list(tokens)
        self.prompt_len = len(tokens)
        stats.reused_tokens = keep
        stats.shifted_tokens = p.move
        self.moved = moved_after(p, self.moved, finished=True)

    def append(self, tokens: list[int]) -> None:
        """Compute `tokens` after what the cache holds (generated ones): their logits are next."""
        self._decode(tokens, len(self.cached))
        self.cached.extend(tokens)

    def room(self) -> int:
        """How many more tokens the context holds."""
        return self.n_ctx - len(self.cached)

    def logits(self) -> np.ndarray:
        """The next-token logits after the last computed token (a view into llama.cpp's buffer)."""
        ptr = self._lib.llama_get_logits_ith(self.ctx, -1)
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))

    @property
    def needs_refresh(self) -> bool:
        return self.moved.at is not None

    def refresh(self, cancelled: Cancelled) -> int:
        """Recompute the moved KV entries of the cached prompt in their present context.

        Moved suffix entries were computed after the text that was there before the user typed,
        and the model's suggestions drift toward that old text as more is typed. The worker calls
        this when it has nothing else to do: small batches are decoded in sequence 1 (a copy of
        the exact entries before them) and replace the moved ones in sequence 0 one batch at a
        time, so a `cancelled()` between batches keeps what is done and leaves a valid cache.
        Generated tokens after the prompt are dropped. Returns the tokens computed."""
        if self.moved.at is None:
            return 0
        lib, mem = self._lib, self.memory
        if len(self.cached) > self.prompt_len:
            lib.llama_memory_seq_rm(mem, 0, self.prompt_len, -1)
            del self.cached[self.prompt_len :]
        prompt = self.cached
        pos = self.moved.at
        done = 0
        lib.llama_memory_seq_rm(mem, 1, -1, -1)
        lib.llama_memory_seq_cp(mem, 0, 1, 0, pos)
        try:
            while pos < len(prompt) and not cancelled():
                part = prompt[pos : pos + REFRESH_CHUNK]
                self._decode(part, pos, 1)
                lib.llama_memory_seq_rm(mem, 0, pos, pos + len(part))
                lib.llama_memory_seq_cp(mem, 1, 0, pos, pos + len(part))
                pos += len(part)
                done += len(part)
                self.moved = Moved(pos, self.moved.typed)
        finally:
            lib.llama_memory_seq_rm(mem, 1, -1, -1)
        if pos >= len(prompt):
            self.moved = Moved()
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

    def _decode(self, tokens: list[int], start_pos: int, seq: int = 0, cancelled: Cancelled | None = None) -> None:
        """Decode one batch at `start_pos` in `seq`. With `cancelled`, a batch still computing
        after ABORT_AFTER_S is aborted when it says stop (`_Abort`): Interrupted, and nothing of
        the batch is left in the cache."""
        b = self._batch
        b.n_tokens = len(tokens)
        for i, tok in enumerate(tokens):
            b.token[i] = tok
            b.pos[i] = start_pos + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = i == len(tokens) - 1
        if cancelled is not None:
            self.abort.arm(cancelled)
        try:
            rc = self._lib.llama_decode(self.ctx, b)
            if rc == 1 and seq not in SPARES and any(self.spares.values()):  # no free cells: the spares give way
                for spare in SPARES:
                    self._lib.llama_memory_seq_rm(self.memory, spare, -1, -1)
                    self.spares[spare] = []
                rc = self._lib.llama_decode(self.ctx, b)
        finally:
            if cancelled is not None:
                self.abort.disarm()
        if rc == 2:  # aborted: only an armed batch can be
            raise Interrupted()
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc} (context full or out of memory)")
