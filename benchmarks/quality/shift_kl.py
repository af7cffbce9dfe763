"""How much moving the FIM suffix's KV entries changes the model's next-token distribution.

For a few keystrokes in real files (the standard library's bisect.py and textwrap.py: the text
before the cursor grows from an old to a new state, the suffix stays), the engine first holds the
old prompt, then evaluates the new one reusing the suffix's entries moved to their new positions
while recomputing the first K suffix tokens (`Engine.FRESH_SUFFIX_HEAD` = K); the last token's
next-token distribution is compared with a full recompute (KL divergence, and whether the top
token is the same). No generation, no scoring: this is what chose FRESH_SUFFIX_HEAD.

    .venv/bin/python -m benchmarks.quality.shift_kl --model default
"""

from __future__ import annotations

import argparse
import bisect
import textwrap

import numpy as np

from lsp_server.bundled import BUNDLED, ensure_assembled
from lsp_server.worker.engine import Engine, EvalStats

CASES = [  # (module, the line the cursor is on, typed before, typed now)
    (bisect, "        lo = bisect_right(a, x, lo, hi)", "        lo = bis", "        lo = bisect"),
    (textwrap, "        lines = []", "        lin", "        lines"),
    (textwrap, "            indent = self.subsequent_indent", "            ind", "            indent ="),
    (textwrap, "        if self.width <= 0:", "        if s", "        if self.wid"),
]


def kl(p_logits: np.ndarray, q_logits: np.ndarray) -> float:
    p = np.exp(p_logits - p_logits.max())
    p /= p.sum()
    q = np.exp(q_logits - q_logits.max())
    q /= q.sum()
    return float((p * np.log(p / q)).sum())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default", choices=sorted(BUNDLED))
    ap.add_argument("--heads", default="0,2,4,8,16")
    args = ap.parse_args()
    path = str(ensure_assembled(BUNDLED[args.model]))
    moved, exact = Engine(path, n_ctx=4096), Engine(path, n_ctx=4096, reuse_shifted=False)
    roles = moved.info.roles
    heads = [int(h) for h in args.heads.split(",")]
    print("| keystroke | " + " | ".join(f"K={k}: KL (top same), computed" for k in heads) + " |")
    print("| --- |" + " --- |" * len(heads))
    for module, anchor, before, now in CASES:
        src = open(module.__file__, encoding="utf-8").read()
        cut = src.index(anchor)
        prefix, suffix = src[max(0, cut - 3000) : cut], src[cut + len(anchor) : cut + len(anchor) + 900]

        def fim(text: str) -> list[int]:
            return [roles["fim_pre"], *moved.tokenize(prefix + text), roles["fim_suf"], *moved.tokenize(suffix), roles["fim_mid"]]

        exact.reset()
        exact.evaluate(fim(now), lambda: False, EvalStats())
        reference = exact._logits().copy()
        cells = []
        for k in heads:
            moved.FRESH_SUFFIX_HEAD = k
            moved.reset()
            moved.evaluate(fim(before), lambda: False, EvalStats())
            stats = EvalStats()
            moved.evaluate(fim(now), lambda: False, stats)
            logits = moved._logits()
            same = int(logits.argmax()) == int(reference.argmax())
            cells.append(f"{kl(reference, logits):.3f} ({'yes' if same else 'no'}), {stats.evaluated_tokens}")
        print(f"| `{before.strip()}` -> `{now.strip()}` | " + " | ".join(cells) + " |")
    moved.close()
    exact.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
