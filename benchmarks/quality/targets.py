"""Issue 3's targets against the committed HumanEval and multi-language results: met / not met.

Usage: .venv/bin/python -m benchmarks.quality.targets [--n 80] [--seed 0] [--placement blank-line]
Reads benchmarks/results/*.json (or `--results DIR`, e.g. benchmarks/work/results for runs not
recorded; no model run) and prints the table; writes nothing.
The server's answer is the "stop-early" mode (truncate=True, what an editor gets); the baselines
are the same run's raw output cut post hoc, and the issue's own measurements are shown beside.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks import output

ISSUE = {  # the issue's table (plain PSM, 80 tasks, seed 0)
    ("default", "single"): {"raw": 0.85, "first-line": 0.863, "indentation": 0.887},
    ("default", "multi"): {"raw": 0.50, "first-line": 0.188, "indentation": 0.412},
    ("small", "single"): {"raw": 0.062, "first-line": 0.562},
    ("small", "multi"): {"raw": 0.013, "first-line": 0.125, "indentation": 0.138},
}


def load(name: str, folder: Path = output.RECORDED) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.quality.targets")
    ap.add_argument("--n", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-small", type=int, default=0, help="n of the small model's runs (default: --n)")
    ap.add_argument("--n-multilang", type=int, default=32, help="holes per language of the single-line split")
    ap.add_argument("--n-multilang-multi", type=int, default=16, help="holes per language of the multi-line split")
    ap.add_argument("--placement", default="blank-line")
    ap.add_argument("--results", type=Path, default=output.RECORDED, help="the folder of the results files")
    args = ap.parse_args(argv)
    rows = ["| model | target | measured | met? |", "| --- | --- | --- | --- |"]

    def res(model: str, split: str):
        """The run with the shipped settings, else the budget-off one (its figures are marked)."""
        n = args.n_small or args.n if model == "small" else args.n
        name = f"quality-{model}-{split}-n{n}-s{args.seed}-{args.placement}"
        data = load(name, args.results)
        if data is None and (data := load(name + "-budget-off", args.results)) is not None:
            for mode in data["summary"]["modes"].values():
                mode["settings"] = "budget-off"
        return data["summary"] if data else None

    def add(model: str, target: str, measured: str, ok: bool | None) -> None:
        rows.append(f"| {model} | {target} | {measured} | {'-' if ok is None else ('met' if ok else '**not met**')} |")

    def p(x: float) -> str:
        return f"{100 * x:.1f}%"

    for split, goal in (("multi", 0.55), ("single", 0.90)):
        s = res("default", split)
        if s is None:
            add("1.5B", f"{split}-line pass@1 >= {p(goal)}", "not run", None)
            continue
        m = s["modes"]
        add("1.5B", f"{split}-line pass@1 >= {p(goal)}",
            f"stop-early {p(m['stop-early']['pass@1'])}{' (budget off)' if m['stop-early'].get('settings') else ''} (post-hoc syntax-aware {p(m['syntax-aware']['pass@1'])}; raw {p(m['raw']['pass@1'])}, "
            f"indentation {p(m['indentation']['pass@1'])}; issue's raw {p(ISSUE[('default', split)]['raw'])})",
            m["stop-early"]["pass@1"] >= goal)
        add("1.5B", f"{split}-line: file parses >= 98%",
            f"stop-early {p(m['stop-early']['parses'])} by tree-sitter, {p(m['stop-early'].get('ast_parses', float('nan')))} by Python's `ast`",
            m["stop-early"]["parses"] >= 0.98 and m["stop-early"].get("ast_parses", 0) >= 0.98)
    sm, ss = res("small", "multi"), res("small", "single")
    if not sm:
        add("0.5B", "multi-line pass@1 >= 1.25x its indentation cut; parses >= 95%; tokens <= half of raw", "not run", None)
    if not ss:
        add("0.5B", "single-line pass@1 >= its first-line cut; parses >= 95%; tokens <= half of raw", "not run", None)
    if sm:
        m = sm["modes"]
        goal = 1.25 * m["indentation"]["pass@1"]
        add("0.5B", "multi-line pass@1 >= 1.25x its indentation cut",
            f"stop-early {p(m['stop-early']['pass@1'])} vs 1.25 x {p(m['indentation']['pass@1'])} = {p(goal)} (issue's indentation cut {p(ISSUE[('small', 'multi')]['indentation'])})",
            m["stop-early"]["pass@1"] >= goal and m["stop-early"]["pass@1"] > 0)
        add("0.5B", "multi-line: file parses >= 95%",
            f"stop-early {p(m['stop-early']['parses'])} by tree-sitter, {p(m['stop-early'].get('ast_parses', float('nan')))} by Python's `ast`",
            m["stop-early"]["parses"] >= 0.95 and m["stop-early"].get("ast_parses", 0) >= 0.95)
        add("0.5B", "multi-line: median generated tokens <= half of raw",
            f"stop-early {sm['early_tokens_median']:g} vs raw {sm['raw_tokens_median']:g}", sm["early_tokens_median"] <= sm["raw_tokens_median"] / 2)
    if ss:
        m = ss["modes"]
        add("0.5B", "single-line pass@1 >= its first-line cut",
            f"stop-early {p(m['stop-early']['pass@1'])} vs first-line {p(m['first-line']['pass@1'])} (issue's {p(ISSUE[('small', 'single')]['first-line'])})",
            m["stop-early"]["pass@1"] >= m["first-line"]["pass@1"])
        add("0.5B", "single-line: file parses >= 95%",
            f"stop-early {p(m['stop-early']['parses'])} by tree-sitter, {p(m['stop-early'].get('ast_parses', float('nan')))} by Python's `ast`",
            m["stop-early"]["parses"] >= 0.95 and m["stop-early"].get("ast_parses", 0) >= 0.95)
        add("0.5B", "single-line: median generated tokens <= half of raw",
            f"stop-early {ss['early_tokens_median']:g} vs raw {ss['raw_tokens_median']:g}", ss["early_tokens_median"] <= ss["raw_tokens_median"] / 2)
    ml_splits = (("single-line holes", f"n{args.n_multilang}-s{args.seed}"),
                 ("multi-line holes", f"n{args.n_multilang_multi}-s{args.seed}-multi"))
    for model in ("default", "small"):
        label = "1.5B" if model == "default" else "0.5B"
        for holes, suffix in ml_splits:
            ml = load(f"multilang-{model}-{suffix}", args.results)
            target = f"multi-language ({holes}): no language where syntax-aware is worse than first-line cut"
            if not ml:
                add(label, target, "not run", None)
                continue
            worse = [l for l, x in ml["summary"].items()
                     if x["syntax-aware"]["exact"] < x["first-line"]["exact"] or x["syntax-aware"]["edit_sim"] < x["first-line"]["edit_sim"]
                     or x["syntax-aware"]["breaks"] > x["first-line"]["breaks"]]
            add(label, target,
                "worse in: " + (", ".join(worse) if worse else "none") + " (worse = lower exact match or edit similarity, or breaks the file more often)",
                not worse)
    md = "\n".join([f"### Issue 3 targets (HumanEval seed {args.seed}, n={args.n} for the 1.5B, n={args.n_small or args.n} for the 0.5B, placement {args.placement}; `.venv/bin/python -m benchmarks.quality.targets {' '.join(argv if argv is not None else sys.argv[1:])}`)", "", *rows])
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
