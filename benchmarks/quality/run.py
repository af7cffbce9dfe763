"""HumanEval-infilling quality benchmark through the server's own completion path (issue 3).

Usage: .venv/bin/python -m benchmarks.quality.run --model default|small --split single|multi \
           [--n 200] [--seed 0] [--placement blank-line|literal] [--data DIR] [--max-tokens N]

For each task the benchmark opens the document in the server's DocumentStore, snapshots it at the
hole, asks the server's gating (`decide`), builds the worker request with `completion.request.make_request`
and runs `pipeline.run_completion` in-process on the model loaded as the worker loads it: the
server's code path minus the JSON-RPC hop. The model runs once with `truncate=False` (raw output);
the modes are cuts of that same output:

  raw          the output up to end-of-text or the token limit
  first-line   through the first line break (common.first_line_cut)
  indentation  the standard indentation cut (common.indentation_cut)
  syntax-aware the project's `truncate(...)` applied post hoc with the gate ("" when gated out)
  stop-early   the server's real answer: a second run with `truncate=True` (StopChecker stops the
               generation; the model is not called when gated out). Its text is compared with
               syntax-aware (agreement rate).

Placement of the hole (HumanEval holes are whole lines ending with a line break):
  blank-line (default)  the document is prompt + "\\n" + suffix, the cursor at the start of that
                        empty line: what an editor shows after the user opened a line to write
                        the missing code. The completion is inserted before that line break.
  literal               the document is prompt + suffix, the cursor at len(prompt): the start of
                        the line after the hole, with that line's code right of the cursor.

Scoring runs after all generation, in 2 worker threads that each start `python -I` in a temporary
directory with a 10 s timeout: pass@1 (prefix + completion + suffix + test + check(entry_point)),
exact match of the first non-empty line, edit similarity (difflib ratio, trailing whitespace
stripped) against the canonical solution, and whether the completed file (without the tests)
parses with tree-sitter python (the project's grammar) with no ERROR/MISSING node, and with
Python's own `ast.parse` (tree-sitter python does not flag indentation errors such as an
unexpected indent, so the two differ). `--rescore FILE` scores a results file again. Results go to
benchmarks/work/results/, or with `--record` to benchmarks/results/ (`benchmarks.output`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from benchmarks import output
from benchmarks.quality import common
from lsp_server.lsp.completion.request import make_request
from lsp_server.lsp.settings import Settings
from lsp_server.lsp.documents import DocumentStore
from lsp_server.worker.pipeline import run_completion
from lsp_server.syntax.gating import decide
from lsp_server.syntax.truncation import clean, truncate

DATA = common.REPO.parent / "shared" / "bench" / "humaneval-infilling"
FILES = {"single": "HumanEval-SingleLineInfilling.jsonl.gz", "multi": "HumanEval-MultiLineInfilling.jsonl.gz"}
MAX_TOKENS = {"single": 64, "multi": 128}  # the limits the baseline table shows (0.5B hits them)
URI = "file:///bench/task.py"
MODES = ("raw", "first-line", "indentation", "syntax-aware", "stop-early")


def load_tasks(data_dir: Path, split: str, n: int, seed: int) -> list[dict]:
    with gzip.open(data_dir / FILES[split], "rt", encoding="utf-8") as f:
        tasks = [json.loads(line) for line in f if line.strip()]
    random.Random(seed).shuffle(tasks)
    return tasks[:n]


def place(task: dict, placement: str) -> tuple[str, int]:
    """(document text, cursor offset) for a task."""
    if placement == "literal":
        return task["prompt"] + task["suffix"], len(task["prompt"])
    return task["prompt"] + "\n" + task["suffix"], len(task["prompt"])


def never() -> bool:
    return False


def generate(tasks: list[dict], engine, template, settings: Settings, placement: str, shipped: bool = False) -> list[dict]:
    """Run every task. `shipped`: the server's answer (stop-early) is asked first, with `settings` as
    they are (the latency budget on), on the task's cold prompt, as a user gets the first suggestion
    in a newly opened file; the raw output for the post-hoc cuts comes after it, without a budget.
    Otherwise the raw run comes first and both run without a budget (`settings` as given)."""
    store = DocumentStore()
    rows = []
    t_start = time.perf_counter()
    for i, task in enumerate(tasks):
        text, offset = place(task, placement)
        doc = store.open(URI, "python", i + 1, text)
        line, character = doc.position_at(offset)
        snap = store.snapshot(URI, line, character)
        gate = decide(snap.language, snap.tree, snap.text, snap.offset)
        req = make_request(snap, gate, settings)
        early_text, early_stats = "", {"generated_tokens": 0, "stop_reason": "gated_out"}  # the server does not call the model
        if shipped and gate.complete:
            early = run_completion(engine, template, req, never)
            early_text, early_stats = early.text, early.stats
        raw_res = run_completion(engine, template, attrs.evolve(req, truncate=False, latency_target_ms=0), never)
        raw = raw_res.raw
        overran = raw_res.stats.get("stop_reason") == "max_tokens"  # as the server's pipeline does
        syntax = truncate(req.language, req.prefix, clean(raw), req.suffix, gate, overran=overran) if gate.complete else ""
        if not shipped and gate.complete:
            early = run_completion(engine, template, req, never)
            early_text, early_stats = early.text, early.stats
        left = snap.text[snap.text.rfind("\n", 0, snap.offset) + 1 : snap.offset]
        rows.append({
            "task_id": task["task_id"],
            "gate": {"complete": gate.complete, "scope": gate.scope, "max_lines": gate.max_lines, "reason": gate.reason},
            "raw_stats": _stats(raw_res.stats),
            "early_stats": _stats(early_stats),
            "completions": {
                "raw": raw,
                "first-line": common.first_line_cut(raw),
                "indentation": common.indentation_cut(raw, left),
                "syntax-aware": syntax,
                "stop-early": early_text,
            },
            "early_equals_posthoc": early_text == syntax,
        })
        done = time.perf_counter() - t_start
        print(f"[{i + 1}/{len(tasks)}] {task['task_id']} gate={gate.scope if gate.complete else 'no'} "
              f"raw={raw_res.stats.get('generated_tokens')}tok early={early_stats.get('generated_tokens')}tok "
              f"({done / (i + 1):.1f} s/task)", file=sys.stderr, flush=True)
    return rows


def _stats(stats: dict) -> dict:
    keep = ("prompt_tokens", "evaluated_tokens", "generated_tokens", "prompt_ms", "generate_ms", "stop_reason", "late",
            "token_budget")
    return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in stats.items() if k in keep}


def score(tasks: list[dict], rows: list[dict], placement: str, workers: int = 2) -> None:
    """Fill in the scores of every mode (and of the canonical solution, as a check of the harness)."""
    jobs = []
    for task, row in zip(tasks, rows):
        text, offset = place(task, placement)
        canonical = task["canonical_solution"]
        if placement == "blank-line":
            canonical = canonical[:-1] if canonical.endswith("\n") else canonical
        row["completions"]["canonical"] = canonical
        row["scores"] = {}
        for mode, completion in row["completions"].items():
            filled = text[:offset] + completion + text[offset:]
            program = f"{filled}\n{task['test']}\ncheck({task['entry_point']})\n"
            row["scores"][mode] = {
                "exact": common.first_nonempty_line(completion) == common.first_nonempty_line(task["canonical_solution"]),
                "edit_sim": round(common.edit_similarity(completion, task["canonical_solution"]), 4),
                "parses": common.ts_errors("python", filled) == 0,
                "ast_parses": common.python_parses(filled),
            }
            jobs.append((row["scores"][mode], program))
    cache: dict[str, tuple[bool, str]] = {}
    unique = list(dict.fromkeys(p for _, p in jobs))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for program, result in zip(unique, pool.map(common.run_program, unique)):
            cache[program] = result
    for entry, program in jobs:
        entry["passed"], entry["error"] = cache[program]
    for row in rows:
        del row["completions"]["canonical"]


def summarize(rows: list[dict]) -> dict:
    n = len(rows)
    out = {"n": n, "modes": {}}
    for mode in (*MODES, "canonical"):
        s = [r["scores"][mode] for r in rows]
        out["modes"][mode] = {
            "pass@1": sum(x["passed"] for x in s) / n,
            "exact": sum(x["exact"] for x in s) / n,
            "edit_sim": sum(x["edit_sim"] for x in s) / n,
            "parses": sum(x["parses"] for x in s) / n,
            "ast_parses": sum(x["ast_parses"] for x in s) / n,
        }
    out["gated_out"] = sum(not r["gate"]["complete"] for r in rows)
    out["raw_tokens_median"] = common.median(r["raw_stats"].get("generated_tokens") for r in rows)
    out["early_tokens_median"] = common.median(r["early_stats"].get("generated_tokens") for r in rows)
    called = [r for r in rows if r["gate"]["complete"]]
    out["early_tokens_median_called"] = common.median(r["early_stats"].get("generated_tokens") for r in called)
    out["raw_hit_limit"] = sum(r["raw_stats"].get("stop_reason") == "max_tokens" for r in rows)
    out["agreement"] = sum(r["early_equals_posthoc"] for r in rows) / n
    out["agreement_called"] = (sum(r["early_equals_posthoc"] for r in called) / len(called)) if called else None
    out["raw_ms_median"] = common.median(r["raw_stats"].get("prompt_ms", 0) + r["raw_stats"].get("generate_ms", 0) for r in rows)
    out["early_generate_ms_median"] = common.median(r["early_stats"].get("generate_ms") for r in called)
    out["early_ms_median"] = common.median(r["early_stats"].get("prompt_ms", 0) + r["early_stats"].get("generate_ms", 0)
                                           for r in called)
    return out


def markdown(meta: dict, summary: dict) -> str:
    m = summary["modes"]
    lines = [
        f"### HumanEval {meta['split']}-line infilling, {meta['model_label']}, n={meta['n']} (seed {meta['seed']}), placement {meta['placement']}",
        "",
        f"- command: `{meta['command']}`",
        f"- model: {meta['model_file']} ({meta['template']} template), max_tokens {meta['max_tokens']}, greedy",
        f"- machine: {meta['machine']}",
        f"- date: {meta['date']}; git commit: {meta['commit']}; generation took {meta['generation_s']:.0f} s",
        f"- results: `{meta['results_file']}`",
        "",
        "| mode | pass@1 | exact first line | edit similarity | file still parses (tree-sitter) | file still parses (Python `ast`) | generated tokens (median) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    n = summary["n"]
    tokens = {"raw": f"{summary['raw_tokens_median']:g} ({summary['raw_hit_limit']}/{n} hit the limit)",
              "stop-early": f"{summary['early_tokens_median']:g} (over model calls: {summary['early_tokens_median_called']})"}
    for mode in (*MODES, "canonical"):
        x = m[mode]
        name = "reference: canonical solution" if mode == "canonical" else mode
        lines.append(f"| {name} | {100 * x['pass@1']:.1f}% | {100 * x['exact']:.1f}% | {x['edit_sim']:.3f} | "
                     f"{100 * x['parses']:.1f}% | {100 * x['ast_parses']:.1f}% | {tokens.get(mode, '')} |")
    lines += [
        "",
        f"Gated out (no model call, empty suggestion): {summary['gated_out']}/{n}. "
        f"Stop-early text equals the post-hoc syntax-aware cut in {100 * summary['agreement']:.1f}% of tasks"
        + (f" ({100 * summary['agreement_called']:.1f}% of the tasks the model was called for)." if summary["agreement_called"] is not None else "."),
        (f"Median latency: stop-early, the server's answer on the cold prompt, {summary.get('early_ms_median') or 0:.0f} ms "
         f"(prompt + generation); raw run {summary['raw_ms_median']:.0f} ms (prompt cached)."
         if meta.get("settings", "budget-off") == "shipped" else
         f"Median latency: raw run {summary['raw_ms_median']:.0f} ms (prompt + generation); "
         f"stop-early generation {summary['early_generate_ms_median'] or 0:.0f} ms (prompt cached)."),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.quality.run", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="default", help="default, small, or a GGUF path")
    ap.add_argument("--split", choices=sorted(FILES), default="single")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--placement", choices=("blank-line", "literal"), default="blank-line")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--max-tokens", type=int, default=0,
                    help="budget-off default: 64 single, 128 multi; shipped: the server's default")
    ap.add_argument("--settings", choices=("shipped", "budget-off"), default="shipped",
                    help="shipped (default): the server's default settings, the answer asked on the cold prompt; "
                         "budget-off: no latency budget, load-independent")
    ap.add_argument("--backend", choices=("embedded", "llama-server", "openai"), default="embedded",
                    help="embedded (default): the model in-process; llama-server / openai: the same GGUF served by a "
                         "llama-server started here, through the remote backend (same prompt, greedy)")
    ap.add_argument("--workers", type=int, default=2, help="scoring subprocesses in parallel")
    ap.add_argument("--rescore", type=Path, help="score the outputs of an existing results file again (no model run)")
    output.add_record_option(ap)
    args = ap.parse_args(argv)
    if args.rescore:
        data = json.loads(args.rescore.read_text())
        meta, rows = data["meta"], data["tasks"]
        tasks = load_tasks(args.data, meta["split"], meta["n"], meta["seed"])
        score(tasks, rows, meta["placement"], args.workers)
        write(args.rescore.stem, meta, summarize(rows), rows, args.record)
        return 0
    commit = common.git_commit()  # of the code this run imports

    tasks = load_tasks(args.data, args.split, args.n, args.seed)
    shipped = args.settings == "shipped"
    if shipped:
        settings = Settings(max_tokens=args.max_tokens) if args.max_tokens else Settings()
    else:  # no budget: load-independent
        settings = Settings(max_tokens=args.max_tokens or MAX_TOKENS[args.split], latency_target_ms=0)
    t0 = time.perf_counter()
    server = None
    if args.backend == "embedded":
        engine, template, path = common.load_engine(args.model, settings)
    else:
        from benchmarks.remote.engine import remote_engine  # deferred: needs llama-server

        engine, template, path, server = remote_engine(args.model, settings, args.backend,
                                                       Path(__file__).resolve().parents[1] / "work" / "quality")
    print(f"loaded {path} in {time.perf_counter() - t0:.1f} s; template {template.name}; backend {args.backend}",
          file=sys.stderr)
    t0 = time.perf_counter()
    try:
        rows = generate(tasks, engine, template, settings, args.placement, shipped)
    finally:
        engine.close()
        if server is not None:
            server.stop()
    generation_s = time.perf_counter() - t0
    score(tasks, rows, args.placement, args.workers)
    summary = summarize(rows)
    label = {"default": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (default)", "small": "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (small)"}.get(args.model, str(path))
    name = (f"quality-{Path(args.model).stem if args.model not in ('default', 'small') else args.model}-{args.split}"
            f"-n{args.n}-s{args.seed}-{args.placement}{'' if shipped else '-budget-off'}"
            f"{'' if args.backend == 'embedded' else '-' + args.backend}")
    meta = {
        "command": ".venv/bin/python -m benchmarks.quality.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "model": args.model, "model_label": label, "model_file": Path(path).name, "template": template.name,
        "split": args.split, "n": args.n, "seed": args.seed, "placement": args.placement,
        "max_tokens": settings.max_tokens, "settings": args.settings, "backend": args.backend, "latency_target_ms": settings.latency_target_ms,
        "machine": common.machine(), "date": common.now(),
        "commit": commit, "generation_s": generation_s,
    }
    write(name, meta, summary, rows, args.record)
    return 0


def write(name: str, meta: dict, summary: dict, rows: list[dict], record: bool) -> None:
    """Print the run's tables and write its results file where `output` says."""
    out = output.results_dir(record) / f"{name}.json"
    meta["results_file"] = output.shown(out)
    md = markdown(meta, summary)
    print(md)
    out.write_text(json.dumps({"meta": meta, "summary": summary, "tasks": rows}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
