"""Load and cancel storm at scale: a typist at 20 keystrokes a second for a minute across three
documents, each keystroke cancelling the request before (tests/support/storm.py), against the
real server with the bundled model (or the tiny test model). Records requests, answers
(results / cancelled / errors), requests answered other than exactly once, the latency of a
request before and after the storm, and the server's and worker's RSS.

    .venv/bin/python -m benchmarks.robustness.storm [--model default|small|tiny] [--seconds 60] [--record]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from benchmarks.output import add_record_option, results_dir, shown
from tests.conftest import tiny_model
from tests.support.raw_server import RawServer
from tests.support.storm import Storm


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default", help="default, small (bundled) or tiny (the tests' model)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=20.0)
    add_record_option(ap)
    args = ap.parse_args(argv)
    server = RawServer(tiny_model()) if args.model == "tiny" else RawServer(None, *(["--small"] if args.model == "small" else []))
    server.initialize()
    server.wait_ready()
    try:
        result = Storm(server).run(args.seconds, args.rate)
        alive = server.proc.poll() is None
        problems = result.problems()
    finally:
        server.close()
    record = {"benchmark": "cancel-storm", "date": time.strftime("%Y-%m-%d %H:%M"), "model": args.model,
              "rate_per_s": args.rate, **result.summary(), "problems": problems[:20], "server_alive": alive}
    path = results_dir(args.record) / f"robustness-storm-{args.model}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    print(f"written to {shown(path)}")
    return 0 if alive and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
