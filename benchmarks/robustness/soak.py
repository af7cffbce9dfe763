"""Soak: the latency traces (benchmarks/latency/traces.py) replayed in a loop against one real
server for N minutes, at the human pace of the latency benchmark, sampling every minute the
server's and the worker's RSS, open file descriptors (/proc/PID/fd) and threads (/proc/PID/status).

Reports the growth from the first sample after the warm-up (5 minutes) to the last, against the
targets: RSS at most +10%, no growth of file descriptors or threads (each process). Also counts the
requests and how they ended, whether the server and its worker stayed the same processes, and the
most model jobs that ran at once (from the worker's own timings of every job: target 1).

    .venv/bin/python -m benchmarks.robustness.soak [--model default|small|tiny|PATH.gguf] [--minutes 30] [--record]

(`--model tiny` or a path: a quick check of the runner itself; the figures mean something only
for a bundled model.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.latency.backends import LspBackend
from benchmarks.latency.run import replay
from benchmarks.latency.traces import SOURCES, load_traces
from benchmarks.output import add_record_option, results_dir, shown
from tests.support.procs import worker_pid

RSS_GROWTH_MAX = 0.10
DEBOUNCE_MS = 150.0


class SoakBackend(LspBackend):
    """One server for every replay: the first `start` starts it; later ones close the previous
    document and open the next trace's; `finish` reads nothing (a replay's stats are not needed)."""

    async def start(self, text: str, language: str, uri: str) -> None:
        if self.proc is None:
            await super().start(text, language, uri)
            return
        self.notify("textDocument/didClose", {"textDocument": {"uri": self.uri}})
        self.uri = uri
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}})

    async def finish(self) -> dict:
        return {}


OVERLAP_SLACK_S = 0.05  # an event reaches the server a little after the job ends: not an overlap


def jobs_at_once(events: list[dict]) -> dict:
    """The most model jobs that ran at the same time, from the worker's own timings: each `done` or
    `cancelled` event the server received at time t (observed_server's record) ran over
    [t - (prompt_ms + generate_ms), t]; an event of a job that never started has no time."""
    spans = sorted((e["t"] - (e["stats"].get("prompt_ms", 0) + e["stats"].get("generate_ms", 0)) / 1000, e["t"])
                   for e in events if e.get("event") in ("done", "cancelled")
                   and e["stats"].get("prompt_ms", 0) + e["stats"].get("generate_ms", 0) > 0)
    most, running = (1 if spans else 0), []
    for start, end in spans:
        running = [e for e in running if e - OVERLAP_SLACK_S > start] + [end]
        most = max(most, len(running))
    return {"jobs": len(spans), "most_at_once": most}


def proc_sample(pid: int | None) -> dict | None:
    """RSS (MiB), open file descriptors and threads of one process, from /proc; None if it is gone."""
    if pid is None:
        return None
    try:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    return {"pid": pid, "rss_mb": round(int(status["VmRSS"].split()[0]) / 1024, 1), "fds": fds,
            "threads": int(status["Threads"])}


def growth(samples: list[dict], warmup_s: float) -> dict:
    """Per process: the change from the first sample at or after `warmup_s` (else the first) to the last."""
    out: dict = {}
    for role in ("server", "worker"):
        seen = [s for s in samples if s.get(role)]
        if not seen:
            continue
        base = next((s for s in seen if s["t_s"] >= warmup_s), seen[0])
        last = seen[-1]
        b, l = base[role], last[role]
        rss = (l["rss_mb"] - b["rss_mb"]) / b["rss_mb"] if b["rss_mb"] else 0.0
        out[role] = {
            "from_t_s": base["t_s"], "to_t_s": last["t_s"], "after_warmup": base["t_s"] >= warmup_s,
            "rss_mb": [b["rss_mb"], l["rss_mb"]], "rss_growth": round(rss, 4),
            "max_rss_mb": max(s[role]["rss_mb"] for s in seen if s["t_s"] >= base["t_s"]),
            "fds": [b["fds"], l["fds"]], "threads": [b["threads"], l["threads"]],
            "same_process": b["pid"] == l["pid"],
        }
        out[role]["meets_targets"] = (rss <= RSS_GROWTH_MAX and l["fds"] <= b["fds"] and l["threads"] <= b["threads"]
                                      and b["pid"] == l["pid"])
    return out


def _model_path(name: str) -> str:
    if name == "tiny":
        from tests.conftest import tiny_model  # deferred: writes the tests' tiny model

        return str(tiny_model())
    if name in ("default", "small"):
        from lsp_server.bundled import BUNDLED, ensure_assembled  # deferred, as above

        return str(ensure_assembled(BUNDLED[name]))
    return name


async def soak(model: str, minutes: float, interval_s: float, warmup_s: float, work: Path) -> dict:
    traces = load_traces([n for n, (path, _) in SOURCES.items() if path.is_file()])
    backend = SoakBackend("soak", model, {}, work)
    samples: list[dict] = []
    outcomes: dict[str, int] = {}
    replays = 0
    started = time.monotonic()
    end = started + minutes * 60

    def sample() -> None:
        samples.append({"t_s": round(time.monotonic() - started, 1), "server": proc_sample(backend.proc.pid),
                        "worker": proc_sample(worker_pid(backend.proc.pid))})
        print(f"[{samples[-1]['t_s']:7.1f} s] {json.dumps({k: v for k, v in samples[-1].items() if k != 't_s'})}",
              flush=True)

    async def sampler() -> None:
        while backend.proc is None or not any(s.get("state") == "ready" for s in backend.statuses):
            await asyncio.sleep(0.2)  # the first sample once the model is loaded
        while True:
            sample()
            await asyncio.sleep(interval_s)

    task = asyncio.create_task(sampler())
    try:
        while time.monotonic() < end:
            trace = traces[replays % len(traces)]
            run = await replay(backend, trace, DEBOUNCE_MS)
            replays += 1
            for rec in run["records"]:
                outcomes[rec.get("outcome", "unanswered")] = outcomes.get(rec.get("outcome", "unanswered"), 0) + 1
        sample()
        alive = backend.proc.returncode is None
    finally:
        task.cancel()
        await backend.stop()
    events = [json.loads(line) for line in backend.events_path.read_text().splitlines() if line.strip()] \
        if backend.events_path.exists() else []
    return {"replays": replays, "traces": [t.name for t in traces], "requests": outcomes, "server_alive": alive,
            "model_jobs": jobs_at_once(events), "samples": samples, "growth": growth(samples, warmup_s)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default", help="default, small (bundled), tiny (the tests' model) or a GGUF path")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--warmup-minutes", type=float, default=5.0, help="growth is measured from the first sample after this")
    add_record_option(ap)
    args = ap.parse_args(argv)
    model = _model_path(args.model)
    label = args.model if args.model in ("default", "small", "tiny") else Path(args.model).stem
    with tempfile.TemporaryDirectory(prefix="soak-") as work:
        result = asyncio.run(soak(model, args.minutes, args.interval, args.warmup_minutes * 60, Path(work)))
    record = {"benchmark": "soak", "date": time.strftime("%Y-%m-%d %H:%M"), "model": label, "minutes": args.minutes,
              "interval_s": args.interval, "warmup_minutes": args.warmup_minutes,
              "targets": {"rss_growth_max": RSS_GROWTH_MAX, "fd_growth_max": 0, "thread_growth_max": 0}, **result}
    ok = result["server_alive"] and bool(result["growth"]) and all(g["meets_targets"] for g in result["growth"].values()) \
        and result["model_jobs"]["most_at_once"] <= 1
    record["meets_targets"] = ok
    path = results_dir(args.record) / f"robustness-soak-{label}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "samples"}, indent=2))
    print(f"written to {shown(path)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
