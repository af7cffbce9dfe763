"""The first suggestion in a newly opened file, as shipped: time to it and its text (issue 17).

Usage: .venv/bin/python -m benchmarks.latency.first_suggestion [--model default|small|PATH] [--files 6]
           [--seed 0] [--read-s 10] [--baseline DIR] [--record]

Real Python files of 900-1,400 lines from this machine's standard library (`/usr/lib/python3*/`,
drawn with `--seed`); in each, one statement line inside a function body (drawn the same way) is
emptied to its indentation, and the cursor put there: the user opened the file to write that line.
For each file the server (its default settings, the real process over stdio) gets, as a newly
opened document:

  revealed     didOpen, a code action request at the cursor (what VS Code sends when the cursor
               lands there; the Neovim client sends `localLlm/cursor`), `--read-s` seconds of the
               user looking, then the inline completion request: time from request to answer
  unrevealed   didOpen and at once the request (a client that shows the server nothing)

and, for the text, `budget-off`: the same request with `latencyTargetMs: 0` (no budget, no small
window): the full window's answer, which is the warm path's (greedy decoding). Reported per mode: p50/max time to
the first suggestion, exact first line (against the line that was there), and the share of first
suggestions equal to the warm path's text. `--baseline DIR` runs the same with the code checked
out in DIR (e.g. a `git worktree` of an older commit) in the same run, one server at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import output
from benchmarks.latency.backends import ROOT, LspBackend, position
from benchmarks.quality.common import git_commit, machine, median

STATEMENT = re.compile(r"^( {4,})(?![#\"')\]}@])(\S.{8,78})$")
SKIP_START = ("else", "elif", "except", "finally", "def ", "class ", "return\n", "pass", "break", "continue")


def pick_files(n: int, seed: int) -> list[Path]:
    files = [Path(f) for f in sorted(glob.glob("/usr/lib/python3*/*.py")) if "sysconfigdata" not in f]
    files = [f for f in files if 900 <= len(f.read_text(errors="replace").splitlines()) <= 1400]
    return sorted(random.Random(seed).sample(files, min(n, len(files))))


def pick_hole(text: str, seed: int) -> tuple[str, int, str] | None:
    """(document with the line emptied to its indentation, cursor offset, the line's code)."""
    lines = text.splitlines(keepends=True)
    candidates = []
    for i in range(len(lines) * 3 // 10, len(lines) * 8 // 10):
        m = STATEMENT.match(lines[i].rstrip("\n"))
        prev = lines[i - 1].rstrip()
        if not m or m.group(2).startswith(SKIP_START) or prev.endswith(("\\", ",", "(", "[", "{")) or not prev:
            continue
        if m.group(2).rstrip().endswith((":", "\\", ",", "(", "[", "{")) or '"""' in m.group(2) or "'''" in m.group(2):
            continue
        candidates.append(i)
    if not candidates:
        return None
    i = random.Random(seed).choice(candidates)
    indent, code = STATEMENT.match(lines[i].rstrip("\n")).groups()
    before = "".join(lines[:i]) + indent
    return before + "\n" + "".join(lines[i + 1:]), len(before), code.strip()


class Server(LspBackend):
    """Our server process from the checkout at `code` (its default settings plus `options`)."""

    def __init__(self, name: str, model: str, options: dict, work: Path, code: Path) -> None:
        super().__init__(name, model, options, work)
        self.code = code

    async def launch(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(self.code))
        self.stderr = open(self.work / f"{self.name}-server.log", "wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "lsp_server", "--model", self.model, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=self.stderr, cwd=str(self.code), env=env, limit=1 << 24)
        self._reader = asyncio.create_task(self._read())
        caps = {"general": {"positionEncodings": ["utf-16"]},
                "textDocument": {"inlineCompletion": {}, "codeAction": {}, "synchronization": {"didSave": False}}}
        _, fut = self.request("initialize", {"processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": caps,
                                             "initializationOptions": self.init_options})
        await fut
        self.notify("initialized", {})
        while not any(s.get("state") in ("ready", "error") for s in self.statuses):
            self._status.clear()
            await asyncio.wait_for(self._status.wait(), 900)

    async def call(self, method: str, params) -> dict:
        _, fut = self.request(method, params)
        return await asyncio.wait_for(fut, 600)

    async def status(self) -> dict:
        return (await self.call("workspace/executeCommand", {"command": "localLlm.status", "arguments": []})).get("result") or {}

    async def idle(self, limit_s: float = 120.0) -> None:
        """Until the worker's idle work (prefill, growing the window) stops advancing."""
        last, t0 = -1, time.monotonic()
        while time.monotonic() - t0 < limit_s:
            warmed = (await self.status()).get("worker", {}).get("warmed_tokens", 0)
            if warmed == last:
                return
            last = warmed
            await asyncio.sleep(1.0)

    async def first_suggestion(self, uri: str, text: str, offset: int, reveal: bool, read_s: float) -> dict:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
        line, col = position(text, offset)
        where = {"line": line, "character": col}
        if reveal:
            await self.call("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": {"start": where, "end": where},
                                                         "context": {"diagnostics": []}})
            await asyncio.sleep(read_s)
        t0 = time.perf_counter()
        msg = await self.call("textDocument/inlineCompletion", {"textDocument": {"uri": uri}, "position": where,
                                                                 "context": {"triggerKind": 2}})
        ms = (time.perf_counter() - t0) * 1000
        items = (msg.get("result") or {}).get("items") or []
        history = (await self.status()).get("history") or [{}]
        stats = history[-1]
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        keep = ("outcome", "prompt_tokens", "evaluated_tokens", "generated_tokens", "prompt_ms", "small_window", "late",
                "stop_reason", "prefix_window_tokens")
        return {"ms": ms, "text": items[0]["insertText"] if items else "", "stats": {k: stats.get(k) for k in keep}}


def baseline_commit(code: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code, capture_output=True, text=True).stdout.strip() or "?"


def first_line(text: str) -> str:
    return next((x.strip() for x in text.splitlines() if x.strip()), "")


async def run_code(name: str, code: Path, model: str, holes: list[dict], read_s: float, work: Path) -> dict:
    results: dict[str, list[dict]] = {"revealed": [], "unrevealed": [], "budget-off": []}
    for mode in ("revealed", "unrevealed", "budget-off"):
        server = Server(f"{name}-{mode}", model, {"latencyTargetMs": 0} if mode == "budget-off" else {}, work, code)
        await server.launch()
        try:
            for k, hole in enumerate(holes):
                uri = Path(f"/tmp/first-suggestion/{mode}/{k}/{Path(hole['file']).name}").as_uri()
                r = await server.first_suggestion(uri, hole["text"], hole["offset"], mode == "revealed", read_s)
                r["exact"] = first_line(r["text"]) == hole["expected"]
                results[mode].append(r)
                print(f"[{time.strftime('%H:%M:%S')}] {name} {mode} {Path(hole['file']).name}: {r['ms'] / 1000:.1f} s "
                      f"{r['text'][:40]!r} (expected {hole['expected'][:40]!r}) {r['stats']}", file=sys.stderr, flush=True)
                await server.idle()
        finally:
            await server.stop()
    return results


def summarize(results: dict[str, list[dict]]) -> dict:
    warm = [r["text"] for r in results["budget-off"]]
    out = {}
    for mode, rows in results.items():
        times = [r["ms"] for r in rows]
        out[mode] = {"n": len(rows), "p50_ms": median(times), "max_ms": max(times) if times else None,
                     "exact_first_line": sum(r["exact"] for r in rows), "empty": sum(not r["text"] for r in rows),
                     "same_as_warm": sum(r["text"] == w for r, w in zip(rows, warm)),
                     "small_window": sum(bool(r["stats"].get("small_window")) for r in rows)}
    return out


def markdown(meta: dict, summaries: dict) -> str:
    lines = [f"### First suggestion in a newly opened file ({meta['model']}, {meta['files']} files of 900-1,400 lines, "
             f"user reads {meta['read_s']} s when the cursor was revealed)", "",
             "| code | mode | p50 s | max s | exact first line | same text as the warm path | empty | small window |",
             "|---|---|---|---|---|---|---|---|"]
    for name, summary in summaries.items():
        for mode, s in summary.items():
            lines.append(f"| {name} | {mode} | {s['p50_ms'] / 1000:.1f} | {s['max_ms'] / 1000:.1f} | {s['exact_first_line']}/{s['n']} "
                         f"| {s['same_as_warm']}/{s['n']} | {s['empty']} | {s['small_window']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.latency.first_suggestion", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--read-s", type=float, default=10.0, help="seconds between the revealing request and the typing")
    ap.add_argument("--baseline", type=Path, help="a checkout of older code to run the same against (same run)")
    output.add_record_option(ap)
    args = ap.parse_args(argv)
    from lsp_server.bundled import BUNDLED, ensure_assembled

    model = str(ensure_assembled(BUNDLED[args.model])) if args.model in BUNDLED else args.model
    holes = []
    for i, f in enumerate(pick_files(args.files, args.seed)):
        hole = pick_hole(f.read_text(errors="replace"), args.seed + i)
        if hole is not None:
            holes.append({"file": str(f), "text": hole[0], "offset": hole[1], "expected": hole[2]})
    work = ROOT / "benchmarks" / "work" / "first_suggestion"
    work.mkdir(parents=True, exist_ok=True)
    codes = {"current": ROOT} | ({f"baseline {baseline_commit(args.baseline)}": args.baseline} if args.baseline else {})
    results = {name: asyncio.run(run_code(name.split()[0], code, model, holes, args.read_s, work)) for name, code in codes.items()}
    summaries = {name: summarize(r) for name, r in results.items()}
    meta = {"command": ".venv/bin/python -m benchmarks.latency.first_suggestion " + " ".join(argv if argv is not None else sys.argv[1:]),
            "model": args.model, "files": len(holes), "seed": args.seed, "read_s": args.read_s, "machine": machine(),
            "commit": git_commit(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    name = f"first-suggestion-{args.model if args.model in BUNDLED else Path(args.model).stem}"
    data = {"meta": meta, "summary": summaries, "holes": [{k: h[k] for k in ("file", "expected")} for h in holes],
            "results": results}
    folder = output.results_dir(args.record)
    (folder / f"{name}.json").write_text(json.dumps(data, indent=1))
    (folder / f"{name}.md").write_text(markdown(meta, summaries))
    print(markdown(meta, summaries))
    print("wrote", output.shown(folder / f"{name}.json"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
