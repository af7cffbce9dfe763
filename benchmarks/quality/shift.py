"""Does reusing the moved FIM-suffix KV entries change suggestions? (issue 4's quality check)

For each HumanEval task (the quality benchmark's task list and placement), the served suggestion
is computed twice through the server's code path (`make_request` + `run_completion`):
  recompute: an empty KV cache, the whole prompt computed;
  shifted:   the cache first holds the prompt of the previous keystroke state (the last K
             characters of the prefix not yet typed), then the real request reuses the suffix's
             entries moved to their new positions (`KVCache._evaluate_moved (lsp_server/worker/engine/kv.py)`).
Reports how often the two texts are identical, and pass@1 of both where they differ.

Run: .venv/bin/python -m benchmarks.quality.shift --model default --n 100 --k 8
The results file goes to benchmarks/work/results/, or with `--record` to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import output
from benchmarks.quality import common
from benchmarks.quality.run import DATA as DATA_DIR, URI, load_tasks, place
from lsp_server.lsp.completion.request import make_request
from lsp_server.lsp.settings import Settings
from lsp_server.lsp.documents import DocumentStore
from lsp_server.worker.pipeline import run_completion
from lsp_server.worker_protocol import CompletionRequest
from lsp_server.syntax.gating import decide


def request_for(store: DocumentStore, version: int, text: str, offset: int, settings: Settings) -> CompletionRequest | None:
    doc = store.open(URI, "python", version, text)
    line, character = doc.position_at(offset)
    snap = store.snapshot(URI, line, character)
    gate = decide(snap.language, snap.tree, snap.text, snap.offset)
    return make_request(snap, gate, settings) if gate.complete else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--split", default="multi", choices=["single", "multi"])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=8, help="characters typed between the two requests")
    ap.add_argument("--data", type=Path, default=DATA_DIR)
    output.add_record_option(ap)
    args = ap.parse_args(argv)
    settings = Settings(max_tokens=128 if args.split == "multi" else 64, latency_target_ms=0)
    engine, template, path = common.load_engine(args.model, settings)
    never = lambda: False  # noqa: E731
    rows, t0 = [], time.perf_counter()
    store = DocumentStore()
    for i, task in enumerate(load_tasks(args.data, args.split, args.n, args.seed)):
        text, offset = place(task, "blank-line")
        k = min(args.k, offset)
        full = request_for(store, 1, text, offset, settings)
        before = request_for(store, 2, text[: offset - k] + text[offset:], offset - k, settings)
        if full is None or before is None:
            continue
        engine.reset()
        engine.can_shift = False
        fresh = run_completion(engine, template, full, never)
        engine.reset()
        engine.can_shift = True
        run_completion(engine, template, before, never)
        shifted = run_completion(engine, template, full, never)
        row = {"task_id": task["task_id"], "same": fresh.text == shifted.text,
               "shifted_tokens": shifted.stats["shifted_tokens"], "evaluated": shifted.stats["evaluated_tokens"],
               "fresh": fresh.text, "shifted": shifted.text}
        if not row["same"]:
            def passes(completion: str) -> bool:
                src = task["prompt"] + completion + "\n" + task["suffix"] + "\n" + task["test"] + f"\ncheck({task['entry_point']})\n"
                return common.run_program(src)[0]
            row["fresh_pass"], row["shifted_pass"] = passes(fresh.text), passes(shifted.text)
        rows.append(row)
        print(f"[{i + 1}] {task['task_id']} same={row['same']} shifted={row['shifted_tokens']} "
              f"evaluated={row['evaluated']} ({(time.perf_counter() - t0) / (i + 1):.1f} s/task)", file=sys.stderr, flush=True)
    n = len(rows)
    same = sum(r["same"] for r in rows)
    used_shift = sum(r["shifted_tokens"] > 0 for r in rows)
    differ = [r for r in rows if not r["same"]]
    fresh_pass = sum(r["fresh_pass"] for r in differ)
    shifted_pass = sum(r["shifted_pass"] for r in differ)
    label = args.model if args.model in ("default", "small") else Path(args.model).stem
    out = output.results_dir(args.record) / f"shift-{label}-{args.split}-n{args.n}-k{args.k}.json"
    out.write_text(json.dumps({"meta": {"model": str(path), "args": vars(args) | {"data": str(args.data)},
                                        "machine": common.machine(), "date": common.now(), "commit": common.git_commit()},
                               "rows": rows}, indent=1))
    body = (
        f"### Shifted suffix cache vs full recompute, {path.name}, HumanEval {args.split}, n={n}, K={args.k}\n\n"
        f"- command: `.venv/bin/python -m benchmarks.quality.shift --model {args.model} --split {args.split} --n {args.n} --k {args.k}`\n"
        f"- date: {common.now()}; commit {common.git_commit()}; machine: {common.machine()}\n\n"
        f"| tasks | the shift was used | identical suggestion | differ | of those, pass (recompute) | of those, pass (shifted) |\n"
        f"| --- | --- | --- | --- | --- | --- |\n"
        f"| {n} | {used_shift} | {same} ({common.pct(same, n)}) | {len(differ)} | {fresh_pass} | {shifted_pass} |\n\n"
        f"Net pass@1 difference (shifted - recompute): {shifted_pass - fresh_pass:+d} of {n} tasks.\n"
    )
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
