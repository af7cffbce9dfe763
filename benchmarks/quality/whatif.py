"""What-if cuts on a committed HumanEval run: the project's own `truncate`, given another gate.

Usage: .venv/bin/python -m benchmarks.quality.whatif benchmarks/results/quality-...json

No model runs: the raw outputs come from the results file. Variants (each is `truncate(...)` from
lsp_server.syntax.truncation on the same raw output; only the Gate passed to it differs):
  no-scope-end  Gate(True, "expression", 64): no statement/block end by indentation; the cut still
                stops at a line that repeats the next line of the suffix, at a bracket the prefix
                opened, and must parse without new errors with the suffix's structure intact.
  trust-eos     no-scope-end when the model ended the middle itself (stop_reason "eos"), the
                server's gate when it hit the token limit (an overrunning model stays bounded).
Also an oracle row: how often the server's gate keeps the canonical solution whole when it is
given as the model's output (the ceiling that the gating and truncation allow).
Prints a Markdown table (and updates RESULTS.md unless --no-write).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.quality import common
from benchmarks.quality.run import DATA, URI, load_tasks, place
from lsp_server.completer import make_request
from lsp_server.config import Settings
from lsp_server.documents import DocumentStore
from lsp_server.pipeline import CompletionRequest
from lsp_server.syntax.gating import Gate, decide
from lsp_server.syntax.truncation import clean, truncate

WIDE = Gate(True, "expression", 64, "what-if: no scope end")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.quality.whatif")
    ap.add_argument("results", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    data = json.loads(args.results.read_text())
    meta, rows = data["meta"], data["tasks"]
    tasks = {t["task_id"]: t for t in load_tasks(DATA, meta["split"], meta["n"], meta["seed"])}
    settings = Settings(max_tokens=meta["max_tokens"])
    variants: dict[str, list[str]] = {"server syntax-aware (as run)": [], "no-scope-end": [], "trust-eos": [], "oracle: canonical through the server's gate": []}
    programs, parses = {}, {}
    for row in rows:
        task = tasks[row["task_id"]]
        text, offset = place(task, meta["placement"])
        store = DocumentStore()
        doc = store.open(URI, "python", 1, text)
        snap = store.snapshot(URI, *doc.position_at(offset))
        gate = decide(snap.language, snap.tree, snap.text, snap.offset)
        req = CompletionRequest.from_dict(make_request(snap, gate, settings))
        raw = clean(row["completions"]["raw"])
        wide = truncate(req.language, req.prefix, raw, req.suffix, WIDE) if gate.complete else ""
        eos = row["raw_stats"].get("stop_reason") == "eos"
        canonical = task["canonical_solution"].removesuffix("\n") if meta["placement"] == "blank-line" else task["canonical_solution"]
        outs = {
            "server syntax-aware (as run)": row["completions"]["syntax-aware"],
            "no-scope-end": wide,
            "trust-eos": wide if eos else row["completions"]["syntax-aware"],
            "oracle: canonical through the server's gate": truncate(req.language, req.prefix, canonical, req.suffix, gate) if gate.complete else "",
        }
        for name, completion in outs.items():
            filled = text[:offset] + completion + text[offset:]
            program = f"{filled}\n{task['test']}\ncheck({task['entry_point']})\n"
            variants[name].append((program, filled, completion, task["canonical_solution"]))
    unique = list(dict.fromkeys(p for v in variants.values() for p, *_ in v))
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = dict(zip(unique, pool.map(common.run_program, unique)))
    n = len(rows)
    lines = [
        f"#### What-if cuts on `{args.results.name}` (no model run; `{' '.join(['.venv/bin/python -m benchmarks.quality.whatif', *(argv if argv is not None else sys.argv[1:])])}`)",
        "",
        "| cut | pass@1 | exact first line | edit similarity | file still parses (tree-sitter) | file still parses (Python `ast`) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, items in variants.items():
        passed = sum(results[p][0] for p, *_ in items)
        exact = sum(common.first_nonempty_line(c) == common.first_nonempty_line(ref) for _, _, c, ref in items)
        sim = sum(common.edit_similarity(c, ref) for _, _, c, ref in items) / n
        ok = sum(common.ts_errors("python", f) == 0 for _, f, _, _ in items)
        ok_ast = sum(common.python_parses(f) for _, f, _, _ in items)
        lines.append(f"| {name} | {common.pct(passed, n)} | {common.pct(exact, n)} | {sim:.3f} | {common.pct(ok, n)} | {common.pct(ok_ast, n)} |")
    md = "\n".join(lines)
    print(md)
    if not args.no_write:
        common.update_results_md(f"whatif-{args.results.stem}", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
