"""Greedy generation, token by token, and the constraints on its first tokens.

Owns the loop that picks tokens (the likeliest one) and when it stops: end of generation, a stop
token, the token limit, the context's end or `cancelled()`; the `lead` constraint (the text starts
with exactly the required indentation and then code) with its per-token whitespace table;
`avoid_first` (first choices a retry bars); and decoding the pieces to text. Must not arrange the
KV cache (`kv` does) nor know about prompts, documents or truncation.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lsp_server.worker.engine.kv import Cancelled, Interrupted, KVCache
from lsp_server.worker.engine.stats import EvalStats
from lsp_server.worker.engine.vocab import Vocabulary


class Pieces(Protocol):
    """What the lead constraint needs of a vocabulary (`vocab.Vocabulary` has it)."""

    def piece(self, token: int) -> bytes: ...

    def tokenize(self, text: str) -> list[int]: ...


@dataclass(frozen=True)
class LeadTable:
    """Per token: how many leading spaces/tabs its text has (`blanks`), and whether code (not a
    line break) follows them (`code_after`)."""

    blanks: np.ndarray
    code_after: np.ndarray


def lead_table(pieces: Sequence[bytes | None]) -> LeadTable:
    """The table for token texts `pieces` (None: an end-of-generation token, never a lead's end)."""
    blanks = np.zeros(len(pieces), dtype=np.int32)
    code_after = np.zeros(len(pieces), dtype=bool)
    for t, piece in enumerate(pieces):
        if piece is None:
            continue
        body = piece.lstrip(b" \t")
        blanks[t] = len(piece) - len(body)
        if body and body[:1] not in b"\r\n\x0b\x0c":
            code_after[t] = True
    return LeadTable(blanks, code_after)


def split_lead(lead: str) -> tuple[str, bytes]:
    """(the whitespace written as the vocabulary writes it, what the next token must start with):
    all but a final space, which BPE joins to the word after it ("   " + " if")."""
    head = lead[:-1] if lead.endswith(" ") else lead
    return head, lead[len(head) :].encode("utf-8")


def lead_token(logits: np.ndarray, need: bytes, table: LeadTable, vocab: Pieces) -> tuple[int, bytes | None]:
    """The likeliest token that starts with `need` (b"" or the lead's final space) and then
    code, and None (the lead is done). If the vocabulary has none: `need` on its own, then
    code (b""); the model's own likeliest token when even that cannot be."""
    masked = np.where((table.blanks == len(need)) & table.code_after, logits, -np.inf)
    for _ in range(64):  # the likeliest first: a piece with a tab where a space is needed is skipped
        t = int(np.argmax(masked))
        if masked[t] == -np.inf:
            break
        if vocab.piece(t).startswith(need):
            return t, None
        masked[t] = -np.inf
    alone = vocab.tokenize(need.decode("utf-8")) if need else []
    if len(alone) == 1:
        return alone[0], b""
    return int(np.argmax(logits)), None


class Sampler:
    """Generates on `kv` with the tokens of `vocab`."""

    def __init__(self, kv: KVCache, vocab: Vocabulary) -> None:
        self.kv = kv
        self.vocab = vocab
        self._lead: LeadTable | None = None

    def lead_table(self) -> LeadTable:
        """Built once, on first use (a scan of the whole vocabulary)."""
        if self._lead is None:
            v = self.vocab
            self._lead = lead_table([None if v.is_eog(t) else v.piece(t) for t in range(v.n_vocab)])
        return self._lead

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
        (`split_lead`), and the next token is the model's likeliest one that completes it with
        code. `avoid_first`: tokens the model may not choose as its first one (after the lead): a
        retry takes its next choice. The first token chosen is left in `stats.first_token`."""
        kv, vocab = self.kv, self.vocab
        stats = stats if stats is not None else EvalStats()
        need: bytes | None = None
        forced: list[int] = []
        if lead is not None:
            head, need = split_lead(lead)
            forced = vocab.tokenize(head)
        try:
            kv.evaluate(prompt, cancelled, stats)
        except Interrupted:
            stats.stop_reason = "cancelled"
            return
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        t0 = time.perf_counter()
        try:
            if forced and kv.room() <= len(forced) + 1:
                need = None  # no room for the lead: generate as the model would
            elif forced:
                kv.append(forced)
                stats.generated_tokens += len(forced)
                yield head
            while True:
                if stats.generated_tokens >= max_tokens:
                    stats.stop_reason = "max_tokens"
                    break
                if cancelled():
                    stats.stop_reason = "cancelled"
                    break
                if kv.room() <= 1:
                    stats.stop_reason = "context_full"
                    break
                logits = kv.logits()
                if stats.first_token is None and avoid_first:
                    logits = logits.copy()
                    logits[list(avoid_first)] = -np.inf
                if need is None:
                    token = int(np.argmax(logits))
                else:
                    token, need = lead_token(logits, need, self.lead_table(), vocab)
                if vocab.is_eog(token) or token in stop_tokens:
                    stats.stop_reason = "eos"
                    break
                if stats.first_token is None and need is None:  # not whitespace the lead still forces
                    stats.first_token = token
                stats.generated_tokens += 1
                kv.append([token])
                text = decoder.decode(vocab.piece(token))
                if text:
                    yield text
        finally:
            stats.generate_ms = (time.perf_counter() - t0) * 1000
