"""Text sync differential at scale: N random incremental edit sequences checked against the
reference model of the LSP text and against a fresh parse (tests/support/text_sync.py).

    .venv/bin/python -m benchmarks.robustness.text_sync --sequences 5000 [--record]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from hypothesis import HealthCheck, given, seed, settings

from benchmarks.output import add_record_option, results_dir, shown
from tests.support.text_sync import check_sequence, sequences

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    add_record_option(ap)
    args = ap.parse_args(argv)
    totals: Counter = Counter()
    divergences: list[str] = []
    started = time.monotonic()

    @seed(args.seed)
    @settings(max_examples=args.sequences, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(sequences)
    def run(case) -> None:
        (language, uri), text, edits = case
        totals["sequences"] += 1
        totals["edits"] += len(edits)
        totals[f"language:{language}"] += 1
        try:
            check_sequence(language, uri, text, edits)
        except AssertionError as exc:
            divergences.append(f"{language}: {exc}")

    run()
    result = {
        "benchmark": "text-sync-differential",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "sequences": totals["sequences"],
        "edits": totals["edits"],
        "by_language": {k.split(":", 1)[1]: v for k, v in sorted(totals.items()) if k.startswith("language:")},
        "divergences": len(divergences),
        "first_divergences": divergences[:20],
        "seconds": round(time.monotonic() - started, 1),
    }
    path = results_dir(args.record) / "robustness-text-sync.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {shown(path)}")
    return 0 if not divergences else 1


if __name__ == "__main__":
    sys.exit(main())
