"""What tokenizing costs a remote backend: the engine's /tokenize (one round trip per text) against
the same GGUF's vocabulary loaded here (`modelPath`), and a cached text.

    .venv/bin/python -m benchmarks.remote.tokenize_cost --model tiny      (any model: the cost is the tokenizer's)

A llama-server with the model on 127.0.0.1 (loopback: a network adds its round trip to every
uncached /tokenize); 30 different texts of `--chars` characters of this project's source each way.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from benchmarks.latency.backends import ROOT
from benchmarks.remote.engine import model_file, start_engine
from lsp_server.worker.remote import RemoteEngine
from lsp_server.worker.remote.tokens import LocalVocabulary, ServerTokenizer

RUNS = 30


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["default", "small", "tiny"], default="tiny")
    p.add_argument("--chars", type=int, default=4000)
    args = p.parse_args()
    model = model_file(args.model)
    work = ROOT / "benchmarks" / "work" / "tokenize"
    work.mkdir(parents=True, exist_ok=True)
    server = start_engine(model, work)
    try:
        engine = RemoteEngine(server.url, "llama-server")
        text = (ROOT / "lsp_server" / "worker" / "pipeline.py").read_text()[: args.chars]
        for name, tokenizer in (("engine /tokenize", ServerTokenizer(engine.conn.post)), ("local vocabulary", LocalVocabulary(model))):
            times = []
            for i in range(RUNS):
                t0 = time.perf_counter()
                tokenizer.tokenize(f"{text}{i}")
                times.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            tokenizer.tokenize(f"{text}0")
            cached = (time.perf_counter() - t0) * 1000
            print(f"{name}: {args.chars} characters, median {statistics.median(times):.2f} ms, "
                  f"p95 {sorted(times)[int(RUNS * 0.95) - 1]:.2f} ms; cached {cached:.3f} ms")
        engine.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
