"""Multi-language check: holes cut from real source files that ship on this machine, completed
through the server's code path, scored by exact match, edit similarity and "breaks the file".

Usage: .venv/bin/python -m benchmarks.quality.multilang --model default|small [--n 20] [--seed 0]
           [--split single|multi] [--prefix-tokens 256] [--suffix-tokens 64] [--languages python,go,...]

Sources (found deterministically: fixed roots, sorted paths, then a seeded shuffle):
  python      the interpreter's own standard library (sysconfig stdlib, top-level *.py)
  javascript  Debian's npm (/usr/lib/node_modules/npm/node_modules/**/*.js)
  typescript  npm rxjs 7.8.2 sources (src/**/*.ts), installed into benchmarks/work/npm (gitignored)
  go          /usr/share/doc/git/contrib/**/*.go (git's docs), /usr/lib/go*/src if present
  rust        Debian librust-memchr-dev 2.5.0-1 (`apt-get download`, `dpkg-deb -x` into
              benchmarks/work/deb/root), /usr/share/cargo/registry, rustup's docs
  c           /usr/share/doc/**/*.c (dev packages' examples), site-packages *.c
  cpp         CUDA's *.hpp headers (inline function bodies), CMake's and CPython's test *.cpp
  java        npm cordova-android 15.1.0 (**/*.java), installed into benchmarks/work/npm
To recreate benchmarks/work: `npm install --ignore-scripts --prefix benchmarks/work/npm
rxjs@7.8.2 cordova-android@15.1.0` and `apt-get download librust-memchr-dev=2.5.0-1` then
`dpkg-deb -x` into benchmarks/work/deb/root.

A hole (`--split single`, the default): a random non-blank, non-comment line strictly inside a
function body without parse errors (tree-sitter), one per file per round (more rounds when there
are few files); the cursor goes either after the line's indentation (the whole line is the hole)
or at a random point of its code (the rest of the line is the hole); the hole's text is removed,
the line break stays. `--split multi`, as HumanEval's multi-line infilling: 2-4 consecutive
non-blank lines of one body, the first not a comment, from the first line's indentation to the
end of the last (its line break stays); exact match is then of the whole hole (lines compared
without trailing blanks), and the indentation cut is scored as a fourth mode. The model runs once raw (truncate=False): modes raw and first-line cut; then
once as the server runs it (`run_completion` with the gate: the stop check, the syntax-aware cut,
the retries of a refused completion, on the cached prompt): mode syntax-aware ("" when gated out).
"Breaks the file": the completed file has more tree-sitter ERROR/MISSING nodes than the original
file. `--rescore` cuts the stored raw outputs again (no model); a row whose syntax-aware text came
from a retry keeps it where the new cut of the raw output is still refused. Results go to
benchmarks/work/results/, or with `--record` to benchmarks/results/ (`benchmarks.output`).
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import sys
import sysconfig
import time
from pathlib import Path

import attrs

from benchmarks import output
from benchmarks.quality import common
from lsp_server.lsp.completion.request import make_request
from lsp_server.lsp.settings import Settings
from lsp_server.lsp.documents import DocumentStore, Snapshot
from lsp_server.worker.pipeline import run_completion
from lsp_server.worker_protocol import CompletionRequest
from lsp_server.syntax.gating import Gate, decide
from lsp_server.syntax.languages import new_parser
from lsp_server.syntax.truncation import clean, truncate

WORK = common.REPO / "benchmarks" / "work"
STDLIB = sysconfig.get_paths()["stdlib"]
SOURCES: dict[str, list[str]] = {
    "python": [f"{STDLIB}/*.py"],
    "javascript": ["/usr/lib/node_modules/npm/node_modules/**/*.js"],
    "typescript": [f"{WORK}/npm/node_modules/rxjs/src/**/*.ts"],
    "go": ["/usr/share/doc/git/contrib/**/*.go", "/usr/lib/go*/src/**/*.go"],
    "rust": [f"{WORK}/deb/root/usr/share/cargo/registry/**/*.rs", "/usr/share/cargo/registry/**/*.rs",
             "/root/.rustup/toolchains/stable-*/share/doc/rust/html/**/*.rs"],
    "c": ["/usr/share/doc/**/*.c", "/root/.pyenv/versions/*/lib/python*/site-packages/**/*.c"],
    "cpp": ["/usr/local/cuda*/include/**/*.hpp", "/usr/share/cmake*/Modules/**/*.cpp",
            "/root/.pyenv/versions/*/lib/python*/test/**/*.cpp"],
    "java": [f"{WORK}/npm/node_modules/cordova-android/**/*.java"],
}
FUNCTION_TYPES = {
    "python": {"function_definition"},
    "javascript": {"function_declaration", "function_expression", "arrow_function", "method_definition", "generator_function_declaration"},
    "typescript": {"function_declaration", "function_expression", "arrow_function", "method_definition"},
    "go": {"function_declaration", "method_declaration", "func_literal"},
    "rust": {"function_item", "closure_expression"},
    "c": {"function_definition"},
    "cpp": {"function_definition"},
    "java": {"method_declaration", "constructor_declaration"},
}
MAX_FILE_BYTES = 200_000
MODES = ("raw", "first-line", "syntax-aware")
MULTI_MODES = ("raw", "first-line", "indentation", "syntax-aware")


def source_files(language: str) -> list[str]:
    files: set[str] = set()
    for pattern in SOURCES[language]:
        files.update(p for p in glob.glob(pattern, recursive=True) if not p.endswith(".d.ts"))
    return sorted(p for p in files if Path(p).is_file() and 200 < Path(p).stat().st_size <= MAX_FILE_BYTES and ".min." not in p)


def body_lines(language: str, text: str) -> list[int]:
    """0-based rows strictly inside function bodies that have no parse error."""
    tree = new_parser(language).parse(text.encode("utf-8"))
    rows: set[int] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type in FUNCTION_TYPES[language]:
            body = node.child_by_field_name("body")
            if body is not None and not body.has_error and body.end_point[0] - body.start_point[0] >= 2:
                start = body.start_point[0] + (0 if language == "python" else 1)
                rows.update(range(start, body.end_point[0]))
    return sorted(rows)


def make_holes(language: str, n: int, seed: int, split: str = "single") -> list[dict]:
    """`n` holes: files in a seeded order, one hole per file per round, more rounds while the
    corpus is too small (a row is used once)."""
    rng = random.Random(f"{seed}:{language}" if split == "single" else f"{seed}:{language}:{split}")
    files = source_files(language)
    rng.shuffle(files)
    comment = "#" if language == "python" else "//"
    candidates: dict[str, tuple[str, list[int], set[int]]] = {}
    holes: list[dict] = []
    for _round in range(n):
        added = False
        for path in files:
            if len(holes) >= n:
                return holes
            if path not in candidates:
                try:
                    text = Path(path).read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    text = ""
                lines = text.split("\n")
                if not text or "\r" in text or max(len(l) for l in lines) > 300:
                    body: list[int] = []
                else:
                    body = body_lines(language, text)
                ok = {r for r in body if 4 <= len(lines[r].strip()) <= 120}
                rows = [r for r in sorted(ok) if not lines[r].strip().startswith((comment, "/*", "*", '"""'))]
                if split == "multi":
                    rows = [r for r in rows if r + 1 in ok]  # at least two lines of the body from here
                candidates[path] = (text, rows, ok)
            text, rows, ok = candidates[path]
            if not rows:
                continue
            row = rows.pop(rng.randrange(len(rows)))
            lines = text.split("\n")
            line = lines[row]
            indent = len(line) - len(line.lstrip())
            line_start = sum(len(l) + 1 for l in lines[:row])
            if split == "multi":
                want = rng.randint(2, 4)
                count = 1
                while count < want and row + count in ok:
                    count += 1
                col = indent
                end = line_start + sum(len(l) + 1 for l in lines[row: row + count]) - 1  # the last line's end
            else:
                count = 1
                code_end = len(line.rstrip())
                col = indent if rng.random() < 0.5 else rng.randrange(indent + 1, code_end)
                end = line_start + len(line)
            holes.append({
                "file": path, "row": row, "rows": count, "column": col, "whole_line": col == indent,
                "original": text, "offset": line_start + col, "hole": text[line_start + col: end],
                "text": text[: line_start + col] + text[end:],
            })
            added = True
        if not added:
            break
    return holes


def run(language: str, holes: list[dict], engine, template, settings: Settings, split: str = "single",
        shipped: bool = False) -> list[dict]:
    """`shipped`: the server's answer is asked first, on the hole's cold prompt, with `settings` as
    they are (the latency budget on), as the first suggestion in a newly opened file; the raw
    output comes after it without a budget, and the server's answer without a budget last
    (`budget-off`: what the shipped answer is held to). Otherwise the raw call comes first
    (caching the prompt)."""
    store = DocumentStore()
    rows = []
    for i, h in enumerate(holes):
        snap, gate, request = at_cursor(store, i + 1, Path(h["file"]), language, h["text"], h["offset"], settings)
        # syntax-aware: what an editor gets, the server's own call (cut while generating, and
        # asked again when the cut refuses)
        early = run_completion(engine, template, request, lambda: False) if shipped and gate.complete else None
        res = run_completion(engine, template, attrs.evolve(request, truncate=False, latency_target_ms=0), lambda: False)
        if not shipped and gate.complete:
            early = run_completion(engine, template, request, lambda: False)
        completions = {
            "raw": res.raw,
            "first-line": common.first_line_cut(res.raw),
            **({"indentation": common.indentation_cut(res.raw, snap.text[snap.text.rfind("\n", 0, snap.offset) + 1: snap.offset])}
               if split == "multi" else {}),
            "syntax-aware": early.text if early is not None else "",
        }
        if shipped:
            off = (run_completion(engine, template, attrs.evolve(request, latency_target_ms=0), lambda: False)
                   if gate.complete else None)
            completions["budget-off"] = off.text if off is not None else ""
        base_errors = common.ts_errors(language, h["original"])
        scores = {mode: score(language, snap.text, snap.offset, completion, h["hole"], base_errors, split)
                  for mode, completion in completions.items()}
        rows.append({
            "file": h["file"], "row": h["row"], "rows": h["rows"], "column": h["column"], "whole_line": h["whole_line"], "hole": h["hole"],
            "gate": {"complete": gate.complete, "scope": gate.scope, "reason": gate.reason},
            "generated_tokens": res.stats.get("generated_tokens"), "stop_reason": res.stats.get("stop_reason"),
            "retries": early.stats.get("retries", 0) if early is not None else 0,
            "completions": completions, "scores": scores,
        })
        print(f"[{language} {i + 1}/{len(holes)}] gate={gate.scope if gate.complete else 'no'} "
              f"tok={res.stats.get('generated_tokens')} exact={scores['syntax-aware']['exact']}", file=sys.stderr, flush=True)
    return rows


def at_cursor(store: DocumentStore, version: int, path: Path, language: str, text: str, offset: int,
              settings: Settings) -> tuple[Snapshot, Gate, CompletionRequest]:
    """The document opened in `store` as the server would hold it, its gate at `offset`, and the
    worker's completion request there."""
    uri = "file:///bench/" + "/".join(path.parts[-2:])
    doc = store.open(uri, language, version, text)
    snap = store.snapshot(uri, *doc.position_at(offset))
    gate = decide(snap.language, snap.tree, snap.text, snap.offset)
    return snap, gate, make_request(snap, gate, settings)


def score(language: str, text: str, offset: int, completion: str, hole: str, base_errors: int, split: str = "single") -> dict:
    filled = text[:offset] + completion + text[offset:]
    if split == "multi":
        exact = _lines(completion) == _lines(hole)
    else:
        exact = common.first_nonempty_line(completion) == hole.strip()
    return {
        "exact": exact,
        "edit_sim": round(common.edit_similarity(completion, hole), 4),
        "breaks": common.ts_errors(language, filled) > base_errors,
    }


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").split("\n")]


def rescore(results: dict, settings: Settings, split: str = "single") -> None:
    """The syntax-aware cut of each stored raw output again, with the code as it is now (no model run)."""
    store = DocumentStore()
    for language, rows in results.items():
        for i, r in enumerate(rows):
            src = Path(r["file"]) if Path(r["file"]).is_absolute() else common.REPO / r["file"]
            original = src.read_text(encoding="utf-8")
            lines = original.split("\n")
            line_start = sum(len(x) + 1 for x in lines[: r["row"]])
            offset = line_start + r["column"]
            end = line_start + sum(len(x) + 1 for x in lines[r["row"]: r["row"] + r.get("rows", 1)]) - 1
            text = original[:offset] + original[end:]
            snap, gate, req = at_cursor(store, i + 1, src, language, text, offset, settings)
            raw = r["completions"]["raw"]
            sa = truncate(req.language, req.prefix, clean(raw), req.suffix, gate,
                          overran=r["stop_reason"] == "max_tokens") if gate.complete else ""
            if not sa and r.get("retries"):
                sa = r["completions"]["syntax-aware"]  # the model's next choice: only a model run can redo it
            r["completions"]["syntax-aware"] = sa
            r["scores"]["syntax-aware"] = score(language, snap.text, snap.offset, sa, r["hole"], common.ts_errors(language, original),
                                                split)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.quality.multilang", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--n", type=int, default=20, help="holes per language")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--languages", default=",".join(SOURCES))
    ap.add_argument("--split", choices=("single", "multi"), default="single",
                    help="single: one line (or its rest) per hole; multi: 2-4 consecutive lines")
    ap.add_argument("--max-tokens", type=int, help="default 64 (single), 128 (multi), as the issue's baselines")
    ap.add_argument("--prefix-tokens", type=int, default=256)
    ap.add_argument("--suffix-tokens", type=int, default=64)
    ap.add_argument("--settings", choices=("budget-off", "shipped"), default="budget-off",
                    help="budget-off (default): no latency budget, the windows above; shipped: the server's default "
                         "settings (windows, token limit and budget), the answer asked on the cold prompt")
    ap.add_argument("--rescore", type=Path, help="cut a results file's raw outputs again with the current code (no model run)")
    output.add_record_option(ap)
    args = ap.parse_args(argv)
    if args.max_tokens is None:
        args.max_tokens = 128 if args.split == "multi" else 64
    commit = common.git_commit()  # of the code this run imports
    shipped = args.settings == "shipped"
    settings = Settings() if shipped else Settings(
        max_tokens=args.max_tokens, prefix_tokens=args.prefix_tokens, suffix_tokens=args.suffix_tokens,
        latency_target_ms=0)  # no latency budget: load-independent results
    if args.rescore:
        data = json.loads(args.rescore.read_text(encoding="utf-8"))
        meta, results = data["meta"], data["holes"]
        split = meta.get("split", "single")
        settings = Settings(max_tokens=meta["max_tokens"], prefix_tokens=meta["prefix_tokens"],
                            suffix_tokens=meta["suffix_tokens"], latency_target_ms=0)
        rescore(results, settings, split)
        languages = list(results)
        name = args.rescore.stem
        meta["rescored"] = f"syntax-aware cut again on {common.now()} with commit {commit} (`--rescore`, same raw outputs)"
        template_name = meta["template"]
    else:
        split = args.split
        languages = [l for l in args.languages.split(",") if l]
        holes = {l: make_holes(l, args.n, args.seed, split) for l in languages}
        engine, template, path = common.load_engine(args.model, settings)
        t0 = time.perf_counter()
        results = {l: run(l, holes[l], engine, template, settings, split, shipped) for l in languages if holes[l]}
        generation_s = time.perf_counter() - t0
        engine.close()
        template_name = template.name
        name = f"multilang-{args.model if args.model in ('default', 'small') else Path(args.model).stem}-n{args.n}-s{args.seed}"
        name += ("-multi" if split == "multi" else "") + ("-shipped" if shipped else "")
        meta = {
            "split": split,
            "command": ".venv/bin/python -m benchmarks.quality.multilang " + " ".join(argv if argv is not None else sys.argv[1:]),
            "model_file": Path(path).name, "template": template.name, "max_tokens": settings.max_tokens,
            "prefix_tokens": settings.prefix_tokens, "suffix_tokens": settings.suffix_tokens,
            "settings": args.settings, "latency_target_ms": settings.latency_target_ms, "machine": common.machine(),
            "date": common.now(), "commit": commit, "generation_s": generation_s,
        }
    out = output.results_dir(args.record) / f"{name}.json"
    meta["results_file"] = output.shown(out)
    n_holes = max((len(r) for r in results.values()), default=0)
    modes = MULTI_MODES if split == "multi" else MODES
    shown = ("first-line", "indentation", "syntax-aware") if split == "multi" else ("first-line", "syntax-aware")
    what = "2-4 consecutive lines" if split == "multi" else "one line or its rest"
    header = (["language", "holes", "gated out"] + [f"exact ({m})" for m in shown] + [f"edit sim ({m})" for m in shown]
              + [f"breaks file ({m})" for m in ("raw", *shown)] + ["syntax-aware worse than first-line?"])
    lines = [
        f"### Multi-language check, {meta['model_file']}, {n_holes} holes per language"
        + (f" of {what}" if split == "multi" else ""),
        "",
        f"- command: `{meta['command']}`",
        (f"- model: {meta['model_file']} ({template_name} template), max_tokens {meta['max_tokens']}, prompt windows "
         f"{meta['prefix_tokens']} prefix / {meta['suffix_tokens']} suffix tokens"
         + (" (the server's)" if meta.get("settings") == "shipped" else " (reduced from the server's 1024/256 to fit the time box)")
         + ", greedy"),
        f"- machine: {meta['machine']}",
        f"- date: {meta['date']}; git commit: {meta['commit']}; generation took {meta['generation_s']:.0f} s",
        *([f"- {meta['rescored']}"] if meta.get("rescored") else []),
        f"- results: `{meta['results_file']}`",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    summary = {}
    for l in languages:
        rows = results.get(l, [])
        if not rows:
            lines.append(f"| {l} | 0 (no sources found) |" + " |" * (len(header) - 2))
            continue
        n = len(rows)
        agg = {m: {k: sum(r["scores"][m][k] for r in rows) / n for k in ("exact", "edit_sim", "breaks")} for m in modes}
        gated = sum(not r["gate"]["complete"] for r in rows)
        fl, sa = agg["first-line"], agg["syntax-aware"]
        worse = sa["exact"] < fl["exact"] or sa["edit_sim"] < fl["edit_sim"] or sa["breaks"] > fl["breaks"]
        summary[l] = {"n": n, "gated_out": gated, **{m: agg[m] for m in modes}}
        if all("budget-off" in r["scores"] for r in rows):  # shipped: the same answer without a budget
            summary[l]["budget-off"] = {k: sum(r["scores"]["budget-off"][k] for r in rows) / n for k in ("exact", "edit_sim", "breaks")}
        cells = ([l, str(n), str(gated)] + [f"{100 * agg[m]['exact']:.0f}%" for m in shown]
                 + [f"{agg[m]['edit_sim']:.3f}" for m in shown] + [f"{100 * agg[m]['breaks']:.0f}%" for m in ("raw", *shown)]
                 + ["yes" if worse else "no"])
        lines.append("| " + " | ".join(cells) + " |")
    if any("budget-off" in v for v in summary.values()):
        lines += ["", "The shipped answer (syntax-aware above) against the server's answer without a budget, same holes:", "",
                  "| language | exact: shipped / budget off (holes) | edit sim: shipped / budget off | breaks file: shipped / budget off |",
                  "| --- | --- | --- | --- |"]
        for l, v in summary.items():
            if "budget-off" in v:
                sa, off = v["syntax-aware"], v["budget-off"]
                lines.append(f"| {l} | {round(sa['exact'] * v['n'])} / {round(off['exact'] * v['n'])} ({v['n']}) "
                             f"| {sa['edit_sim']:.3f} / {off['edit_sim']:.3f} | {100 * sa['breaks']:.0f}% / {100 * off['breaks']:.0f}% |")
    md = "\n".join(lines)
    print(md)
    for rows in results.values():
        for r in rows:
            r["file"] = r["file"].replace(str(common.REPO) + "/", "")
    out.write_text(json.dumps({"meta": meta, "summary": summary, "holes": results}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
