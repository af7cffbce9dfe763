"""Framing fuzz at scale: N generated hostile examples against one real server process.

The same strategies, oracle and exchange as tests/e2e/test_framing_fuzz.py (tests/support/framing.py),
run for many more examples. Reports examples and frames run (by kind), requests that had to be
answered, those answered exactly once, violations, server exits, and the server's RSS before and
after.

    .venv/bin/python -m benchmarks.robustness.framing --examples 10000 [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from benchmarks.output import add_record_option, results_dir, shown
from tests.conftest import tiny_model
from tests.support.framing import Ids, exchange, hostile
from tests.support.raw_server import RawServer

def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    add_record_option(ap)
    args = ap.parse_args(argv)

    server = RawServer(tiny_model())
    server.initialize()
    ids = Ids()
    kinds: Counter = Counter()
    totals = Counter()
    violations: list[str] = []
    probe_s: list[float] = []
    rss_start = rss_kib(server.proc.pid)
    started = time.monotonic()

    @settings(max_examples=args.examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(frames=st.lists(hostile, min_size=1, max_size=4))
    def run(frames) -> None:
        outcome = exchange(server, frames, ids)
        totals["examples"] += 1
        totals["frames"] += len(frames)
        kinds.update(h.kind for h in frames)
        totals["requests"] += sum(outcome.expected.values())
        totals["answered_once"] += sum(1 for k, n in outcome.expected.items() if outcome.answered[k] == n for _ in range(n))
        probe_s.append(outcome.probe_s)
        if problems := outcome.problems():
            violations.extend(problems)
        if server.proc.poll() is not None:
            raise SystemExit(f"the server exited with code {server.proc.returncode}")

    try:
        seed(args.seed)(run)()
        alive = server.proc.poll() is None
    except SystemExit as exc:
        alive = False
        violations.append(str(exc))
    rss_end = rss_kib(server.proc.pid) if server.proc.poll() is None else 0
    elapsed = time.monotonic() - started
    server.close()
    probe_s.sort()
    result = {
        "benchmark": "framing-fuzz",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
        "examples": totals["examples"],
        "frames": totals["frames"],
        "frames_by_kind": dict(sorted(kinds.items())),
        "requests_to_answer": totals["requests"],
        "answered_exactly_once": totals["answered_once"],
        "violations": violations[:50],
        "violation_count": len(violations),
        "server_alive_at_end": alive,
        "probe_reply_ms_p50": round(probe_s[len(probe_s) // 2] * 1000, 1) if probe_s else None,
        "probe_reply_ms_max": round(probe_s[-1] * 1000, 1) if probe_s else None,
        "server_rss_kib_start": rss_start,
        "server_rss_kib_end": rss_end,
        "seconds": round(elapsed, 1),
    }
    path = results_dir(args.record) / "robustness-framing.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "violations"}, indent=2))
    print(f"written to {shown(path)}")
    return 0 if alive and not violations else 1


if __name__ == "__main__":
    sys.exit(main())
