"""What-if cuts on a committed HumanEval run: the project's own `truncate`, given another gate.

Usage: .venv/bin/python -m benchmarks.quality.whatif benchmarks/results/quality-...json

No model runs: the raw outputs come from the results file. Variants (each is `truncate(...)` from
lsp_server.syntax.truncation on the same raw output; only the Gate passed to it differs):
  no-scope-end  Gate(True, "expression", 64): no statement/block end by indentation; the cut still
                stops at a line that repeats the next line of the suffix, at a bracket the prefix
                opened, and must parse without new errors with the suffix's structure intact.
  trust-eos     no-scope-end when the model ended the middle itself (stop_reason "eos"), the
                server's gate when it hit the token limit (an overrunning model stays bounded).
  server (current code)  the server's gate and `truncate` as the working tree has them now (the
                "as run" row is the cut saved in the results file, made by the code of its run).
Also an oracle row: how often the server's gate keeps the canonical solution whole when it is
given as the model's output (the ceiling that the gating and truncation allow).
Prints a Markdown table; writes nothing.

`--oracle single|multi [--n 80] [--seed 0]` (no results file, no model): only the oracle, on any
split: how many canonical solutions the server's gate + `truncate` keep whole, the tasks where
they do not, and pass@1 / parse of the canonical-through-the-server files.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.quality import common
from benchmarks.quality.run import DATA, URI, load_tasks, place
from lsp_server.lsp.completion.request import make_request
from lsp_server.lsp.settings import Settings
from lsp_server.lsp.documents import DocumentStore
from lsp_server.syntax.gating import Gate, decide
from lsp_server.syntax.truncation import clean, truncate

WIDE = Gate(True, "expression", 64, "what-if: no scope end")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.quality.whatif")
    ap.add_argument("results", type=Path, nargs="?")
    ap.add_argument("--oracle", choices=("single", "multi"))
    ap.add_argument("--n", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--placement", default="blank-line")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    if args.oracle:
        return oracle(args.oracle, args.n, args.seed, args.placement, args.workers)
    data = json.loads(args.results.read_text())
    meta, rows = data["meta"], data["tasks"]
    tasks = {t["task_id"]: t for t in load_tasks(DATA, meta["split"], meta["n"], meta["seed"])}
    settings = Settings(max_tokens=meta["max_tokens"])
    variants: dict[str, list[str]] = {"server syntax-aware (as run)": [], "no-scope-end": [], "trust-eos": [], "server (current code)": [], "oracle: canonical through the server's gate": []}
    for row in rows:
        task = tasks[row["task_id"]]
        text, offset = place(task, meta["placement"])
        store = DocumentStore()
        doc = store.open(URI, "python", 1, text)
        snap = store.snapshot(URI, *doc.position_at(offset))
        gate = decide(snap.language, snap.tree, snap.text, snap.offset)
        req = make_request(snap, gate, settings)
        raw = clean(row["completions"]["raw"])
        wide = truncate(req.language, req.prefix, raw, req.suffix, WIDE) if gate.complete else ""
        eos = row["raw_stats"].get("stop_reason") == "eos"
        canonical = canonical_of(task, meta["placement"])
        outs = {
            "server syntax-aware (as run)": row["completions"]["syntax-aware"],
            "no-scope-end": wide,
            "trust-eos": wide if eos else row["completions"]["syntax-aware"],
            "server (current code)": truncate(req.language, req.prefix, raw, req.suffix, gate, overran=row["raw_stats"].get("stop_reason") == "max_tokens") if gate.complete else "",
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
    kept = sum(c.rstrip() == canonical_of(tasks[r["task_id"]], meta["placement"]).rstrip() for r, (_, _, c, _) in zip(rows, variants["oracle: canonical through the server's gate"]))
    lines += ["", f"Oracle: the canonical solution kept whole (trailing whitespace aside) in {kept}/{n} tasks."]
    md = "\n".join(lines)
    print(md)
    return 0


def canonical_of(task: dict, placement: str) -> str:
    return task["canonical_solution"].removesuffix("\n") if placement == "blank-line" else task["canonical_solution"]


def oracle(split: str, n: int, seed: int, placement: str, workers: int) -> int:
    """The oracle alone on a split (no model, no results file): canonical solution as the model's
    output through the server's gate + truncate."""
    tasks = load_tasks(DATA, split, n, seed)
    settings = Settings(max_tokens=64 if split == "single" else 128)
    kept, kept_repeat, cut, programs = 0, 0, [], []
    for task in tasks:
        text, offset = place(task, placement)
        store = DocumentStore()
        doc = store.open(URI, "python", 1, text)
        snap = store.snapshot(URI, *doc.position_at(offset))
        gate = decide(snap.language, snap.tree, snap.text, snap.offset)
        req = make_request(snap, gate, settings)
        canonical = canonical_of(task, placement)
        out = truncate(req.language, req.prefix, canonical, req.suffix, gate) if gate.complete else ""
        # the same, followed by a copy of the suffix's next lines (a model that repeats them)
        tail = "\n".join(text[offset:].split("\n")[1:4])
        out_repeat = truncate(req.language, req.prefix, canonical + "\n" + tail, req.suffix, gate) if gate.complete else ""
        kept_repeat += out_repeat.rstrip() == canonical.rstrip()
        if out.rstrip() == canonical.rstrip():
            kept += 1
        else:
            cut.append((task["task_id"], gate.scope if gate.complete else "no", len(out.splitlines()), len(canonical.splitlines())))
        filled = text[:offset] + out + text[offset:]
        programs.append((f"{filled}\n{task['test']}\ncheck({task['entry_point']})\n", filled))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        passed = sum(ok for ok, _ in pool.map(common.run_program, [p for p, _ in programs]))
    ok_ast = sum(common.python_parses(f) for _, f in programs)
    print(f"oracle {split} n={n} seed={seed} placement={placement}: canonical kept whole (trailing whitespace aside) {kept}/{n}, "
          f"also when followed by a copy of the suffix's next 3 lines {kept_repeat}/{n}; "
          f"pass@1 {common.pct(passed, n)}; ast parses {common.pct(ok_ast, n)}")
    for task_id, scope, got, want in cut:
        print(f"  cut: {task_id} scope={scope} kept {got}/{want} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
