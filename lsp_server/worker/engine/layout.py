"""Where a prompt's tokens sit in the KV cache: the plan for the next prompt, as pure arithmetic.

Owns the rules that bring the cache from the previous prompt to a new one with the least
computation: the common token prefix is kept in place; where the model allows it, the end of the
previous prompt (the FIM suffix) is moved to its new positions instead of computed again, all
but its first tokens; a cancel no longer stops prompt evaluation once it reaches the FIM suffix
(so that the next keystroke can move it); and the record of moved entries (`Moved`), which are
approximate until an idle refresh recomputes them. Must not call llama.cpp or hold the cache's
state: `kv` carries the plans out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Plan:
    """How the cache goes from the previous prompt (`prev_size` tokens) to a new one (`size`):

        previous: kept [0, keep) | dropped [keep, old_end) | moved [old_end, prev_size - 1) | last
        new:      kept [0, keep) | computed [keep, new_end) | moved [new_end, size - 1)    | last

    With nothing moved (`move` == 0) all the cache holds after `keep` is dropped and every new
    token after it is computed. The last token is always computed again, on its own, so that its
    logits do not depend on how the cache was reached."""

    size: int
    keep: int
    move: int = 0
    prev_size: int = 0
    finish_at: int = 0  # from this token on, computing goes on despite a cancel (the FIM suffix)

    @property
    def old_end(self) -> int:
        return self.prev_size - 1 - self.move

    @property
    def new_end(self) -> int:
        return self.size - 1 - self.move

    @property
    def shift(self) -> int:
        """How far the moved entries move (negative: toward the start)."""
        return self.new_end - self.old_end

    @property
    def computed(self) -> int:
        """Prompt tokens computed, the last one included."""
        return self.size - self.keep - self.move


def plan(
    cached: Sequence[int], prompt_len: int, tokens: Sequence[int], *, can_shift: bool, typed: int = 0,
    fim_suf: int | None = None,
) -> Plan:
    """The plan for `tokens` when the cache holds `cached`, of which the first `prompt_len` were the
    previous prompt (the rest was generated after it). `typed`: tokens typed in front of the moved
    entries since they were computed (`Moved.typed`); `fim_suf`: the FIM suffix marker's token."""
    keep = min(common_prefix(cached, tokens), max(0, len(tokens) - 1))
    prev = cached[:prompt_len]
    move = _movable_suffix(prev, tokens, keep, typed) if can_shift else 0
    start = suffix_start(tokens, fim_suf)
    return Plan(len(tokens), keep, move, len(prev), len(tokens) - 1 if start is None else start)


def _movable_suffix(prev: Sequence[int], tokens: Sequence[int], keep: int, typed: int) -> int:
    """Tokens at the end of the previous prompt, not counting its last one (computed anew anyway),
    that are worth moving rather than computing."""
    if keep >= len(prev) - 1:
        return 0
    limit = min(len(prev), len(tokens)) - 1 - keep
    same = common_suffix(prev[:-1], tokens[:-1], max(0, limit))
    # The first suffix tokens (the FIM suffix marker and what follows it) are computed anew:
    # their entries depend most on the text just before them, which the keystroke changed.
    same -= FRESH_SUFFIX_HEAD
    if same >= MIN_SHIFT and typed + abs(len(tokens) - len(prev)) <= MAX_STALE:
        return same
    return 0


def suffix_start(tokens: Sequence[int], fim_suf: int | None) -> int | None:
    """Where the FIM suffix block starts, if it is short enough to be finished regardless."""
    if fim_suf is None:
        return None
    for i in range(len(tokens) - 1, max(-1, len(tokens) - 1 - FINISH_SUFFIX), -1):
        if tokens[i] == fim_suf:
            return i
    return None


@dataclass(frozen=True)
class Moved:
    """The cached prompt's moved entries: computed after text that no longer stands before them."""

    at: int | None = None  # first position of sequence 0 holding moved entries; None: all exact
    typed: int = 0  # tokens typed in front of them since they were computed


def moved_after(plan: Plan, moved: Moved, *, finished: bool) -> Moved:
    """The record of moved entries once `plan` was carried out (`finished`) or stopped by a cancel
    (what is computed is kept; entries that were to be moved are dropped). Moved entries inside the
    kept prefix (an edit after the cursor) stay moved."""
    kept = moved.at if moved.at is not None and moved.at < plan.keep else None
    if not plan.move:
        return Moved(kept, 0 if finished and kept is None else moved.typed)
    if not finished:
        return Moved(kept, 0 if kept is None else moved.typed)
    head = FRESH_SUFFIX_HEAD  # the suffix's head is computed anew, in what is dropped and computed: not stale
    typed = moved.typed + max(0, plan.new_end - plan.keep - head) + max(0, plan.old_end - plan.keep - head)
    return Moved(plan.new_end if kept is None else kept, typed)


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def common_suffix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    n = 0
    while n < limit and a[len(a) - 1 - n] == b[len(b) - 1 - n]:
        n += 1
    return n
