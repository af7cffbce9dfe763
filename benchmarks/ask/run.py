"""Benchmark: "ask the workspace" on questions whose answer lies in a known file
(benchmarks/ask/questions.toml: workspace, question, file, fact).

Without `--model` (model-free, seconds): index each workspace with the server's own code
(`WorkspaceIndex.index_folder`, then `search.index_root`), search each question and score
retrieval: recall@5 (the answer's file among the files of the top 5 passages) and recall@1, per
workspace; it also checks that each fact occurs in its file (the set's own sanity check).

With `--model default|small|PATH`: one real server per workspace (`python -m lsp_server --model
PATH`, LSP over stdio, the workspace as its root), `localLlm.ask` per question; scores the answer
(correct: it contains the fact), whether it cites the right file, recall@5 of the passages the
server answered from, and the latency of each question.

    .venv/bin/python -m benchmarks.ask.run                        # retrieval only, no model
    .venv/bin/python -m benchmarks.ask.run --model small          # answers, the 0.5B
    .venv/bin/python -m benchmarks.ask.run --model default        # answers, the 1.5B

The "repo" workspace is a temporary copy of this repository's git-tracked files without
benchmarks/ask/ (so that the questions are not found in their own file). Results go to
benchmarks/work/results/, or with `--record` to benchmarks/results/ (`benchmarks.output`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from importlib import metadata
from pathlib import Path

from benchmarks import output
from lsp_server.data import load_toml

QUESTIONS = Path(__file__).with_name("questions.toml")
TOP = 5


def load() -> tuple[dict, list[dict]]:
    data = load_toml(QUESTIONS)
    return data.get("versions", {}), data["q"]


def normalized(text: str) -> str:
    return re.sub(r"(?<=\d)[_,](?=\d)", "", text).lower()


def has_fact(text: str, fact: str) -> bool:
    return normalized(fact) in normalized(text)


def check_versions(pins: dict) -> list[str]:
    problems = []
    for pin in pins.values():
        name, version = pin.split("==")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            problems.append(f"{pin} pinned, {installed} installed")
    return problems


def prepare(workspace: str, scratch: Path) -> Path:
    if workspace == "repo":
        target = scratch / "repo"
        if not target.exists():
            files = subprocess.run(["git", "ls-files", "-z"], cwd=output.REPO, capture_output=True, check=True).stdout
            for rel in filter(None, files.decode().split("\0")):
                if rel.startswith("benchmarks/ask/") or not (output.REPO / rel).is_file():
                    continue
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(output.REPO / rel, target / rel)
        return target
    kind, _, name = workspace.partition("/")
    if kind != "site-packages" or not name:
        raise SystemExit(f"unknown workspace {workspace!r}")
    return Path(sysconfig.get_paths()["purelib"]) / name


def retrieval(questions: list[dict], scratch: Path) -> tuple[list[dict], dict]:
    from lsp_server.workspace.index import WorkspaceIndex
    from lsp_server.workspace.search import SearchIndex, index_root

    built: dict[str, tuple[SearchIndex, Path, float]] = {}
    rows = []
    for q in questions:
        if q["workspace"] not in built:
            root = prepare(q["workspace"], scratch)
            t0 = time.perf_counter()
            index, search = WorkspaceIndex(), SearchIndex()
            index.index_folder(root)
            index_root(search, index.roots()[0], index.limits.max_files, index.limits.max_file_bytes)
            built[q["workspace"]] = (search, root, time.perf_counter() - t0)
        search, root, _ = built[q["workspace"]]
        t0 = time.perf_counter()
        hits = search.search(q["question"], TOP)
        ms = (time.perf_counter() - t0) * 1000
        files = [h.passage.path for h in hits]
        answer_file = root / q["file"]
        rows.append({"workspace": q["workspace"], "question": q["question"], "file": q["file"],
                     "rank": files.index(q["file"]) + 1 if q["file"] in files else None,
                     "top": [f"{h.passage.path}:{h.passage.start_line + 1} {h.passage.title}" for h in hits],
                     "search_ms": round(ms, 2),
                     "fact_in_file": answer_file.is_file() and has_fact(answer_file.read_text(encoding="utf-8", errors="replace"), q["fact"])})
    index_s = {w: {"passages": len(s), "files": s.files(), "build_s": round(t, 2)} for w, (s, _, t) in built.items()}
    return rows, index_s


def summarize(rows: list[dict], key: str = "rank") -> dict:
    def part(rs: list[dict]) -> dict:
        n = len(rs)
        return {"questions": n, "recall@5": round(sum(r[key] is not None for r in rs) / n, 3) if n else None,
                "recall@1": round(sum(r[key] == 1 for r in rs) / n, 3) if n else None}
    out = {"all": part(rows)}
    for w in dict.fromkeys(r["workspace"] for r in rows):
        out[w] = part([r for r in rows if r["workspace"] == w])
    return out


async def answers(questions: list[dict], scratch: Path, model: str) -> list[dict]:
    from lsprotocol import types

    from benchmarks.fix.run import start  # deferred: the model-free run needs no LSP client

    rows = []
    for workspace in dict.fromkeys(q["workspace"] for q in questions):
        root = prepare(workspace, scratch)
        client, _, _ = await start(model, root, {"clientShowsExplanations": True}, name="ask-bench")
        first_text: list[float] = []  # when the first streamed piece of the current answer came

        @client.feature("localLlm/askText")
        def streamed(params) -> None:
            if not first_text:
                first_text.append(time.monotonic())

        try:
            for q in [q for q in questions if q["workspace"] == workspace]:
                first_text.clear()
                t0 = time.monotonic()
                result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
                    command="localLlm.ask", arguments=[{"question": q["question"]}]))
                seconds = time.monotonic() - t0
                files = [p["path"] for p in result["passages"]]
                cited = [c["path"] for c in result["citations"]]
                rows.append({"workspace": workspace, "question": q["question"], "file": q["file"], "fact": q["fact"],
                             "seconds": round(seconds, 2),
                             "first_text_s": round(first_text[0] - t0, 2) if first_text else None, "correct": has_fact(result["answer"], q["fact"]),
                             "cites_file": q["file"] in cited, "citations": len(cited),
                             "rank": files.index(q["file"]) + 1 if q["file"] in files else None,
                             "answer": result["answer"]})
                print(f"{'ok ' if rows[-1]['correct'] else '-- '} {seconds:5.1f} s  {q['question']}", flush=True)
        finally:
            await asyncio.wait_for(client.shutdown_async(None), 30)
            client.exit(None)
            await client.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help='"default", "small" or a GGUF path; without it, retrieval only (no model)')
    ap.add_argument("--limit", type=int, help="only the first N questions")
    output.add_record_option(ap)
    args = ap.parse_args()
    pins, questions = load()
    questions = questions[:args.limit] if args.limit else questions
    problems = check_versions(pins)
    for p in problems:
        print("version:", p, file=sys.stderr)
    folder = output.results_dir(args.record)
    with tempfile.TemporaryDirectory(prefix="ask-bench-") as scratch:
        if not args.model:
            rows, indexes = retrieval(questions, Path(scratch))
            summary = {"versions": pins, "version_problems": problems, "index": indexes, **summarize(rows),
                       "facts_missing_from_their_file": [r["question"] for r in rows if not r["fact_in_file"]],
                       "median_search_ms": round(statistics.median(r["search_ms"] for r in rows), 2)}
            path = folder / "ask-retrieval.json"
            path.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1, ensure_ascii=False) + "\n")
            for r in rows:
                print(f"{r['rank'] or '-':>2}  {r['workspace']:<24} {r['question']}")
        else:
            name = args.model if args.model in ("default", "small") else Path(args.model).stem
            from benchmarks.fix.run import model_path  # deferred: the model-free run needs no LSP client

            rows = asyncio.run(answers(questions, Path(scratch), model_path(args.model)))
            times = [r["seconds"] for r in rows]
            firsts = [r["first_text_s"] for r in rows if r.get("first_text_s") is not None]
            summary = {"model": name, "versions": pins, "version_problems": problems, **summarize(rows),
                       "correct": round(sum(r["correct"] for r in rows) / len(rows), 3),
                       "cites_right_file": round(sum(r["cites_file"] for r in rows) / len(rows), 3),
                       "median_s": round(statistics.median(times), 2),
                       "median_first_text_s": round(statistics.median(firsts), 2) if firsts else None, "p90_s": round(sorted(times)[int(0.9 * (len(times) - 1))], 2)}
            path = folder / f"ask-{name}.json"
            path.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=1))
    print("written:", output.shown(path))


if __name__ == "__main__":
    main()
