"""The KV cache layout as a plan (pure): what the next prompt keeps in place, moves and computes,
where a cancel stops counting, and the record of moved entries. The llama.cpp side that carries
the plans out is tested in tests/e2e/test_engine_cache.py."""

from __future__ import annotations

import pytest

from lsp_server.worker.engine.layout import FINISH_SUFFIX, Moved, Plan, moved_after, plan, suffix_start

A = [1, 2, 3]  # the start of the file, up to the edit
S = list(range(100, 130))  # the FIM suffix block: 30 tokens after the edit
L = [9]  # the last prompt token (the FIM middle marker)
G = [7, 7]  # generated after the previous prompt


@pytest.mark.parametrize(
    "cached, prompt_len, tokens, can_shift, typed, expected",
    [
        # (keep, move, prev_size, computed, shift of the moved entries)
        ([], 0, A + S + L, True, 0, (0, 0, 0, 34, None)),  # cold
        (A + S + L, 34, A + S + L, True, 0, (33, 0, 34, 1, None)),  # same prompt: the last token again
        (A + S + L + G, 34, A + S + L, True, 0, (33, 0, 34, 1, None)),  # the generation is dropped
        (A + S + L + G, 34, A + S + L + G + [5], True, 0, (36, 0, 34, 1, None)),  # accepted and continued
        (A + S + L, 34, A + S + [8], True, 0, (33, 0, 34, 1, None)),  # another last token
        # a keystroke: the suffix moves, all but its first FRESH_SUFFIX_HEAD (8) tokens
        (A + [50] + S + L + G, 35, A + [50, 51] + S + L, True, 0, (4, 22, 35, 10, 1)),  # typed
        (A + [50, 51] + S + L, 36, A + [50] + S + L, True, 0, (4, 22, 36, 9, -1)),  # deleted
        (A + [50] + S + L, 35, A + [60] + S + L, True, 0, (3, 22, 35, 10, 0)),  # replaced
        (A + [50] + S + L, 35, A + [50, 51] + S + L, False, 0, (4, 0, 35, 32, None)),  # the model cannot shift
        # MIN_SHIFT (8): fewer movable tokens are computed
        (A + [50] + S[:16] + L, 21, A + [60] + S[:16] + L, True, 0, (3, 8, 21, 10, 0)),
        (A + [50] + S[:15] + L, 20, A + [60] + S[:15] + L, True, 0, (3, 0, 20, 17, None)),
        # MAX_STALE (64): tokens typed since the moved entries were computed, this keystroke's included
        (A + [50] + S + L, 35, A + [50, 51] + S + L, True, 63, (4, 22, 35, 10, 1)),
        (A + [50] + S + L, 35, A + [50, 51] + S + L, True, 64, (4, 0, 35, 32, None)),
    ],
    ids=["cold", "same", "after-generation", "continued", "last-token", "typed", "deleted", "replaced",
         "no-shift", "min-shift", "below-min-shift", "stale-limit", "too-stale"],
)
def test_plan(cached, prompt_len, tokens, can_shift, typed, expected):
    p = plan(cached, prompt_len, tokens, can_shift=can_shift, typed=typed)
    assert (p.keep, p.move, p.prev_size, p.computed, p.shift if p.move else None) == expected
    if p.move:  # the kept, computed, moved and last parts make up the new prompt
        assert tokens[p.new_end : -1] == cached[p.old_end : p.prev_size - 1]


@pytest.mark.parametrize(
    "tokens, fim_suf, expected",
    [
        ([1, 2, 100, 5, 6, 9], 100, 2),
        ([1, 100, 2, 100, 5, 9], 100, 3),  # the last marker
        ([1, 2, 5, 6, 9], 100, None),
        ([1, 100, 2, 9], None, None),  # no FIM suffix marker in this vocabulary
        ([100] + [5] * FINISH_SUFFIX, 100, None),  # too far from the end to finish regardless
        ([100] + [5] * (FINISH_SUFFIX - 1), 100, 0),
    ],
)
def test_suffix_start(tokens, fim_suf, expected):
    assert suffix_start(tokens, fim_suf) == expected


@pytest.mark.parametrize(
    "tokens, expected",
    [
        (A + [50, 100] + S[1:] + L, 4),  # from the FIM suffix marker on, a cancel is not heard
        (A + [50] + S[1:] + L, 33),  # no marker: up to the last token
    ],
)
def test_plan_finishes_from_the_suffix(tokens, expected):
    assert plan([], 0, tokens, can_shift=True, fim_suf=100).finish_at == expected


TYPED = Plan(size=36, keep=4, move=22, prev_size=35)  # new_end 13, old_end 12
LONG = Plan(size=47, keep=4, move=22, prev_size=35)  # 20 tokens computed: new_end 24
PREFIX = Plan(size=34, keep=4)


@pytest.mark.parametrize(
    "p, moved, finished, expected",
    [
        (PREFIX, Moved(), True, Moved()),
        (PREFIX, Moved(20, 5), True, Moved()),  # the moved entries were dropped and computed anew
        (PREFIX, Moved(2, 5), True, Moved(2, 5)),  # moved entries inside the kept prefix stay moved
        (PREFIX, Moved(20, 5), False, Moved(None, 5)),  # interrupted: the count waits for a finished one
        # a move: the moved entries start after the computed tokens; the tokens typed and deleted
        # beyond the suffix's fresh head (8) are counted
        (TYPED, Moved(), True, Moved(13, 1)),
        (LONG, Moved(), True, Moved(24, 12)),
        (Plan(size=30, keep=4, move=10, prev_size=40), Moved(), True, Moved(19, 24)),  # 15 new, 25 old: 7 + 17 past the head
        (TYPED, Moved(20, 5), True, Moved(13, 6)),
        (TYPED, Moved(2, 5), True, Moved(2, 6)),
        (TYPED, Moved(20, 5), False, Moved()),  # interrupted: nothing was moved
        (TYPED, Moved(2, 5), False, Moved(2, 5)),
    ],
)
def test_moved_after(p, moved, finished, expected):
    assert moved_after(p, moved, finished=finished) == expected
