"""Many developers on one engine: N simulated typists against one llama-server with `-np N`.

    .venv/bin/python -m benchmarks.remote.typists --model default --typists 1 2 4 8 [--record]
    .venv/bin/python -m benchmarks.remote.typists --model tiny --typists 1 2 --max-keys 40   (a smoke run)

For each N, one llama-server is started with the model (`-np N`, 4,096 tokens of context per
slot, the embedded engine's threads), then N typists start at once: each is our real server (its
own process, `backend: llama-server`) replaying a latency trace (benchmarks/latency/traces.py:
trace i mod the traces given) in real time, as the latency benchmark does. Per N: p50/p95 per
keystroke (request sent -> answer, and keystroke -> answer), kept characters, generated and
wasted tokens, the engine's throughput from its /metrics (prompt and generated tokens per second
of the run), lost requests (an error answer, or none: every request must be answered, empty or
not), and crossed suggestions. Each typist's document starts with a comment holding an identifier
of its own (`typist_<n>_<hex>`); a suggestion holding another typist's identifier was meant for
someone else (a slot mix-up). The knee is where p95 grows faster than N.
`--model tiny` uses the tests' tiny random GGUF (noise: for smoke runs only).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import secrets
import sys
import time
from pathlib import Path

from benchmarks import output
from benchmarks.latency.backends import ROOT
from benchmarks.latency.run import git_commit, machine, pct, replay, summarize
from benchmarks.latency.traces import SOURCES, Trace, load_traces
from benchmarks.remote.engine import RemoteLspBackend, metrics, model_file, start_engine

COMMENT = {"python": "#", "c": "//"}


def marked(trace: Trace, marker: str) -> Trace:
    """`trace` with a first line naming `marker` (the cursor's line moves down one)."""
    line = f"{COMMENT.get(trace.language, '#')} owner: {marker}\n"
    return dataclasses.replace(trace, original=line + trace.original, start_text=line + trace.start_text,
                               line=trace.line + 1)


def crossed(run: dict, own: str, markers: list[str]) -> int:
    """Suggestions of this typist that name another typist's marker."""
    others = [m for m in markers if m != own]
    return sum(any(m in (r.get("text") or "") for m in others) for r in run["records"])


def lost(run: dict) -> int:
    """Requests answered with an error (not cancelled by the typist itself) or never answered, and
    model jobs that failed (the server answers those empty: the worker's `error` events)."""
    return (sum(1 for r in run["records"] if r.get("outcome") is None
                or r.get("outcome") == "cancelled" and not r.get("cancelled"))
            + sum(1 for j in run.get("jobs", []) if j.get("event") == "error"))


async def one_round(model: str, n: int, traces: list[Trace], args, work: Path) -> dict:
    engine = await asyncio.to_thread(start_engine, model, work, n, f"typists-{n}")
    try:
        markers = [f"typist_{i}_{secrets.token_hex(4)}" for i in range(n)]
        typists = [(marked(traces[i % len(traces)], markers[i]),
                    RemoteLspBackend(f"typist-{n}-{i}", model, {}, work, engine=engine, tokenizer=args.tokenizer))
                   for i in range(n)]
        before, t0 = metrics(engine.url), time.monotonic()
        runs = await asyncio.gather(*(replay(backend, trace, args.debounce_ms) for trace, backend in typists),
                                    return_exceptions=True)
        wall = time.monotonic() - t0
        after = metrics(engine.url)
    finally:
        for _, backend in typists:
            await backend.stop()
        engine.stop()
    failed = [f"{type(r).__name__}: {r}" for r in runs if isinstance(r, BaseException)]
    ok = [(trace, r, m) for (trace, _), r, m in zip(typists, runs, markers) if not isinstance(r, BaseException)]
    rows = [summarize(r, trace) for trace, r, _ in ok]
    lat = [x["latency_ms"] for _, r, _ in ok for x in r["records"] if x.get("outcome") in ("shown", "empty")]
    key_lat = [x["key_latency_ms"] for _, r, _ in ok for x in r["records"] if x.get("outcome") in ("shown", "empty")]

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    return {
        "typists": n, "failed_typists": failed, "wall_s": round(wall, 1),
        "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95), "key_p50_ms": pct(key_lat, 0.5), "key_p95_ms": pct(key_lat, 0.95),
        "requests": sum(r["requests"] for r in rows), "shown": sum(r["shown"] for r in rows),
        "kept_total": sum(r["kept_total"] for r in rows),
        "generated_total": sum(r["generated_total"] for r in rows), "wasted_total": sum(r["generated_wasted"] for r in rows),
        "engine_prompt_tps": delta("prompt_tokens_total") / wall if wall else None,
        "engine_generated_tps": delta("tokens_predicted_total") / wall if wall else None,
        "lost_requests": sum(lost(r) for _, r, _ in ok),
        "crossed_suggestions": sum(crossed(r, m, markers) for _, r, m in ok),
        "own_marker_suggestions": sum(sum(m in (x.get("text") or "") for x in r["records"]) for _, r, m in ok),
        "per_typist": rows,
    }


def table(rounds: list[dict]) -> str:
    def f(v, d=0):
        return "-" if v is None else f"{v:.{d}f}"

    lines = ["| typists | p50 / p95 ms (request) | p50 / p95 ms (keystroke) | requests (shown) | kept chars | generated (wasted) "
             "| engine prompt / generated tok/s | lost | crossed |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rounds:
        lines.append(f"| {r['typists']} | {f(r['p50_ms'])} / {f(r['p95_ms'])} | {f(r['key_p50_ms'])} / {f(r['key_p95_ms'])} | "
                     f"{r['requests']} ({r['shown']}) | {r['kept_total']} | {r['generated_total']} ({r['wasted_total']}) | "
                     f"{f(r['engine_prompt_tps'], 1)} / {f(r['engine_generated_tps'], 1)} | {r['lost_requests']} | "
                     f"{r['crossed_suggestions']} |")
    return "\n".join(lines)


async def main_async(args) -> int:
    model = model_file(args.model, args.model_path)
    traces = load_traces(args.traces, max_keys=args.max_keys, seed=args.seed)
    work = ROOT / "benchmarks" / "work" / "typists"
    work.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    rounds = []
    for n in args.typists:
        print(f"[{time.strftime('%H:%M:%S')}] {n} typist(s)", file=sys.stderr, flush=True)
        rounds.append(await one_round(model, n, traces, args, work))
        print(table(rounds[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    data = {"command": " ".join([".venv/bin/python -m benchmarks.remote.typists", *sys.argv[1:]]), "model": model,
            "machine": machine(), "date": started.isoformat(timespec="minutes"), "git_commit": git_commit(),
            "debounce_ms": args.debounce_ms, "tokenizer": args.tokenizer, "rounds": rounds}
    name = f"typists-{args.model}-{started.strftime('%Y%m%d-%H%M')}"
    out = output.results_dir(args.record) / f"{name}.json"
    out.write_text(json.dumps(data, indent=1, default=str))
    print(table(rounds))
    print(f"\n(results: {output.shown(out)})")
    bad = [r for r in rounds if r["lost_requests"] or r["crossed_suggestions"] or r["failed_typists"]]
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["default", "small", "tiny"], default="default")
    p.add_argument("--model-path", help="a GGUF file instead of the bundled model")
    p.add_argument("--typists", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--traces", nargs="+", default=list(SOURCES), choices=list(SOURCES))
    p.add_argument("--max-keys", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--debounce-ms", type=float, default=150.0)
    p.add_argument("--tokenizer", choices=["local", "server"], default="server",
                   help="each typist tokenizes with the engine's /tokenize (a team's usual case) or the GGUF here")
    output.add_record_option(p)
    return asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
