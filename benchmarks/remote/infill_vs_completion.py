"""Repository context on llama-server: its `/infill` with `input_extra` against our rendered prompt
on `/completion` (what the remote backend sends). Which is faster per keystroke?

    .venv/bin/python -m benchmarks.remote.infill_vs_completion --model default [--keys 30]
    .venv/bin/python -m benchmarks.remote.infill_vs_completion --model tiny --keys 10   (a smoke run)

One llama-server (`-np 1`) with the model. The same document (a trace file of the latency
benchmark, cursor in its middle), the same context pieces (`--context N` chunks of 64 lines of the
project's own source files, as llama.vim picks chunks) are sent both ways; the windows are each
way's own: llama.vscode's 256 prefix and 64 suffix lines to `/infill` (llama-server then applies
its own limits), our token windows (`prefixTokens` 1024, `suffixTokens` 256) to `/completion`;
`--keys` keystrokes each (one character typed at the cursor per request, as the user types),
greedy, `n_predict` 16, `cache_prompt`: `/infill` with `input_prefix`, `input_suffix`,
`input_extra` (llama-server renders the repository-level form itself), and `/completion` with the
token ids of our prompt (`worker.prompts.fim_prompt`, with the same pieces as its cross-file
context). Reported per way: the first (cold) request, the median and p95 of the rest, and the
prompt tokens the engine computed per keystroke (its timings). Each way first on a fresh server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

from benchmarks import output
from benchmarks.latency.backends import ROOT
from benchmarks.latency.traces import SOURCES
from benchmarks.remote.engine import model_file, start_engine
from lsp_server.context.templates import choose_template
from lsp_server.worker.prompts import fim_prompt
from lsp_server.worker.remote import RemoteEngine
from lsp_server.worker_protocol import CompletionRequest, ContextFile

N_PREDICT = 16
CHUNK_LINES = 64


def context_pieces(n: int) -> list[tuple[str, str]]:
    """`n` chunks of CHUNK_LINES lines of this project's source files (stable across runs)."""
    pieces = []
    for path in sorted((ROOT / "lsp_server" / "syntax").glob("*.py")):
        lines = path.read_text().splitlines(keepends=True)
        for start in range(0, len(lines), CHUNK_LINES):
            pieces.append((str(path.relative_to(ROOT)), "".join(lines[start:start + CHUNK_LINES])))
            if len(pieces) == n:
                return pieces
    return pieces


def document(trace: str) -> tuple[str, str, str]:
    path, _ = SOURCES[trace]
    text = Path(path).read_text()
    lines = text.splitlines(keepends=True)
    cut = sum(len(x) for x in lines[: len(lines) // 2])
    return Path(path).name, text[:cut], text[cut:]


def time_infill(client: httpx.Client, prefix: str, suffix: str, pieces, path: str) -> tuple[float, int]:
    prefix = "".join(prefix.splitlines(keepends=True)[-256:])  # llama.vscode's windows
    suffix = "".join(suffix.splitlines(keepends=True)[:64])
    body = {"input_prefix": prefix, "input_suffix": suffix, "prompt": "",
            "input_extra": [{"filename": p, "text": t} for p, t in pieces], "n_predict": N_PREDICT,
            "cache_prompt": True, "temperature": 0.0, "top_k": 1, "samplers": ["top_k"]}
    t0 = time.perf_counter()
    r = client.post("/infill", json=body)
    if r.status_code != 200:
        raise RuntimeError(f"/infill: HTTP {r.status_code}: {r.text[:300]}")
    return (time.perf_counter() - t0) * 1000, int(r.json().get("timings", {}).get("prompt_n", 0))


def time_completion(client: httpx.Client, engine: RemoteEngine, template, prefix: str, suffix: str, pieces,
                    path: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    req = CompletionRequest(prefix=prefix, suffix=suffix, path=path, language="python",
                            context=tuple(ContextFile(p, t) for p, t in pieces), repo="local-llm-lsp")
    tokens = fim_prompt(engine, template, req).tokens  # tokenizing is part of the way's cost
    body = {"prompt": tokens, "n_predict": N_PREDICT, "cache_prompt": True, "temperature": 0.0, "top_k": 1,
            "samplers": ["top_k"]}
    r = client.post("/completion", json=body)
    if r.status_code != 200:
        raise RuntimeError(f"/completion: HTTP {r.status_code}: {r.text[:300]}")
    return (time.perf_counter() - t0) * 1000, int(r.json().get("timings", {}).get("prompt_n", 0))


def run_way(way: str, model: str, args, work: Path) -> dict:
    server = start_engine(model, work, 1, f"infill-{way}")
    try:
        client = httpx.Client(base_url=server.url, timeout=600)
        engine = RemoteEngine(server.url, "llama-server", vocab_path=model if args.tokenizer == "local" else "")
        template = choose_template(engine.info.metadata)
        name, prefix, suffix = document(args.trace)
        pieces = context_pieces(args.context)
        times, computed = [], []
        for k in range(args.keys + 1):
            typed = prefix + "x" * k
            if way == "infill":
                ms, n = time_infill(client, typed, suffix, pieces, name)
            else:
                ms, n = time_completion(client, engine, template, typed, suffix, pieces, name)
            times.append(ms)
            computed.append(n)
        engine.close()
        client.close()
    finally:
        server.stop()
    warm = times[1:]
    return {"way": way, "cold_ms": times[0], "warm_p50_ms": statistics.median(warm),
            "warm_p95_ms": sorted(warm)[max(0, int(len(warm) * 0.95) - 1)], "cold_computed": computed[0],
            "warm_computed_median": statistics.median(computed[1:]), "times_ms": times, "computed": computed}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["default", "small", "tiny"], default="default")
    p.add_argument("--trace", choices=list(SOURCES), default="py-4k")
    p.add_argument("--context", type=int, default=4, help="context chunks of 64 lines (about 600 Qwen tokens each; the prompt must fit 4,096)")
    p.add_argument("--keys", type=int, default=30)
    p.add_argument("--tokenizer", choices=["local", "server"], default="server")
    output.add_record_option(p)
    args = p.parse_args()
    model = model_file(args.model)
    work = ROOT / "benchmarks" / "work" / "infill"
    work.mkdir(parents=True, exist_ok=True)
    rows = [run_way(way, model, args, work) for way in ("infill", "completion")]
    print("| way | cold ms | warm p50 / p95 ms | prompt tokens computed: cold, warm median |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['way']} | {r['cold_ms']:.0f} | {r['warm_p50_ms']:.0f} / {r['warm_p95_ms']:.0f} | "
              f"{r['cold_computed']}, {r['warm_computed_median']:.0f} |")
    out = output.results_dir(args.record) / f"infill-vs-completion-{args.model}-{args.trace}.json"
    out.write_text(json.dumps({"command": " ".join([".venv/bin/python -m benchmarks.remote.infill_vs_completion",
                                                     *sys.argv[1:]]), "rows": rows}, indent=1))
    print(f"\n(results: {output.shown(out)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
