"""Cost of syntax-aware truncation on a 2,000-line file (no column-0 line near the cursor).

Run: .venv/bin/python -m benchmarks.truncation_cost
Prints the mean time of `truncate` for a cut that fits and for the worst case (every cut parsed
and rejected), and of one `StopChecker.feed` call.
"""

from __future__ import annotations

import time

from lsp_server.lsp.documents import Document
from lsp_server.syntax.gating import decide
from lsp_server.syntax.truncation import StopChecker, truncate


def main() -> None:
    body = "".join(f"    def f{i}(self, x):\n        y = x + {i}\n        return y\n\n" for i in range(250))
    prefix = "class Big:\n" + body + "    def target(self, xs):\n"
    suffix = "\n\n" + body
    doc = Document.open("file:///big.py", "python", 1, prefix + suffix)
    gate = decide("python", doc.tree, doc.text, len(prefix))
    cases = {
        "fits": "".join(f"        v{i} = xs[{i}]\n" for i in range(20)) + "        return v0\n\n    def extra(self):\n        pass\n",
        "worst (nothing fits)": "".join(f"        v{i} = xs[{i}\n" for i in range(24)),
    }
    for name, candidate in cases.items():
        truncate("python", prefix, candidate, suffix, gate)
        t0 = time.perf_counter()
        for _ in range(20):
            truncate("python", prefix, candidate, suffix, gate)
        print(f"truncate, {name}: {(time.perf_counter() - t0) / 20 * 1000:.2f} ms")
    checker = StopChecker("python", prefix, suffix, gate)
    text = cases["fits"]
    t0 = time.perf_counter()
    for i in range(1, len(text)):
        checker.feed(text[:i])
    print(f"StopChecker.feed: {(time.perf_counter() - t0) / (len(text) - 1) * 1e6:.1f} µs per call")


if __name__ == "__main__":
    main()
