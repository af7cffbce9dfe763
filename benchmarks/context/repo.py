"""Repository-level benchmark (issue 19): completions at holes whose line uses an API defined in
another file of the same project, through the real server over stdio, with and without the
workspace context.

Usage: .venv/bin/python -m benchmarks.context.repo --model tiny|small|default [--settings shipped|budget-off]
           [--modes infile,context,oracle] [--langs python,c] [--limit N] [--first-use] [--record]
       .venv/bin/python -m benchmarks.context.repo --retrieval-only [--record]   (no model needed: the tiny one)
       .venv/bin/python -m benchmarks.context.repo --summarize RESULTS_JSON   (the summary again, no model)

The holes are benchmarks/context/data/repo-holes.jsonl (`benchmarks.context.holes`); a hole's
file or defining file whose hash changed is refused. Per project, its files are staged as the
hole builder staged them (the files the index's walk reads, copied into a temporary folder),
and per mode one server is started on that folder (`initialize` with its `rootUri`; the
server indexes it; the runner waits until the index is idle). Per hole the client opens only
the hole's file, with the hole cut out (the rest of the line from the cut), says the cursor
rests there (`localLlm/cursor`: the server computes the prompt while idle, as when a user
pauses at a place; the runner waits for that job), asks `textDocument/inlineCompletion` at the
hole, asks `localLlm.context` at the same place, and closes the file. With `--settings
budget-off` there is no prefill: without a latency budget the request computes its full prompt
itself (its latency then includes the cold prompt). Modes:

  infile   `crossFileContext` false: the file's own windows only
  context  `crossFileContext` true in every language: the workspace index's selection (the product path)
  oracle   `crossFileContext` true, and the context is the true definition (the defining file's
           lines of the definition the outline gives, cut to `contextTokens` by the index's own
           token estimate) through `benchmarks.context.oracle_server`, which replaces only the
           server's `_context_for` seam; the prompt (`build_fim_prompt`'s repo-level form) and
           everything after it are the product's

Settings: `shipped` = the defaults (with `precomputeNext` off, so that no speculative job of
one hole runs into the next); `budget-off` = `latencyTargetMs` 0 and `maxTokens` 64, as
benchmarks/quality/run.py. Scores per mode and language: exact match of the suggestion's first
line with the hole (whitespace-trimmed), edit similarity of the same (difflib, as the quality
benchmark's `common.edit_similarity`: rapidfuzz is not in the shared venv), API hit (the API's
identifier appears in the first line), prompt tokens and latency (prompt + generation ms) from
the worker's own stats of the request's job (`observed_server`), how many were answered from
another prompt than their full one (the worker's `small_window` / `older_context`: with the
latency budget on, a cold full prompt is not waited for), and the retrieval hit of the
context mode: whether `localLlm.context` had a snippet of the defining file, and one showing the
definition. `--retrieval-only` asks only `localLlm.context` at every hole (the tiny model is
loaded but never asked). Results: benchmarks/work/results/, or with `--record`
benchmarks/results/repo-context-<model>-<settings>.json (repo-retrieval.json) and a .md summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks import output
from benchmarks.context import holes as holeset
from benchmarks.latency.backends import LspBackend
from benchmarks.quality import common
from lsp_server.workspace.select import estimate_tokens

MODES = ("infile", "context", "oracle")
LANGUAGE_IDS = {"python": "python", "javascript": "javascript", "typescript": "typescript", "c": "c"}
CONTEXT_TOKENS = 1024  # the shipped `contextTokens`: the oracle's pieces are cut to it too
WAIT_S = 600.0
# The worker reports no prefill it skips: one with no room in the KV cache beside the prompt in
# use (`KVCache.warm`: the prompt in use + the new one + generation room > n_ctx), which long
# prompts with context hit; the runner then asks after this long, and the answer comes from the
# small window (counted as "not the full prompt").
PREFILL_WAIT_S = 30.0


# -- pure parts -------------------------------------------------------------------------------------
def cut_document(text: str, line: int, cut: int, expected: str) -> tuple[str, int]:
    """(the file with the hole removed, the hole's offset)."""
    lines = text.split("\n")
    start = sum(len(x) + 1 for x in lines[:line]) + cut
    assert text[start: start + len(expected)] == expected, "the hole does not match the file"
    return text[:start] + text[start + len(expected):], start


def utf16_column(line_text: str, column: int) -> int:
    return len(line_text[:column].encode("utf-16-le")) // 2


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].strip()


def score(suggestion: str, expected: str, api: str) -> dict:
    got = first_line(suggestion)
    return {"exact": got == expected.strip(), "edit_sim": round(common.edit_similarity(got, expected.strip()), 4),
            "api_hit": api in got}


def retrieval(snippets: list[dict], def_path: str, def_first_line: str, def_lines: tuple[int, int]) -> dict:
    """Did the context hold the defining file, and the definition (its first line, or a snippet
    of that file whose lines overlap it)?"""
    of_file = [s for s in snippets if s["path"] == def_path]
    shown = any(def_first_line and def_first_line in s["text"] or
                s["kind"] != "module" and s["start_line"] <= def_lines[1] and s["start_line"] + s["text"].count("\n") >= def_lines[0]
                for s in of_file)
    return {"file_hit": bool(of_file), "def_hit": shown}


def oracle_pieces(def_path: str, def_text: str, budget: int = CONTEXT_TOKENS) -> list[list[str]]:
    """The definition as the one context piece, cut at a line to the budget (the index's estimate)."""
    count = estimate_tokens()
    lines = def_text.split("\n")
    while len(lines) > 1 and count(f"{def_path}\n" + "\n".join(lines) + "\n") > budget:
        lines.pop()
    return [[def_path, "\n".join(lines)]]


def limited(rows: list[dict], langs: list[str] | None, limit: int) -> list[dict]:
    """The holes of `langs`, at most `limit` per language (0: all), one project after another in turn."""
    out = []
    for lang in dict.fromkeys(r["language"] for r in rows):
        if langs and lang not in langs:
            continue
        by_project = defaultdict(list)
        for r in rows:
            if r["language"] == lang:
                by_project[r["project"]].append(r)
        queues = list(by_project.values())
        taken = []
        while any(queues) and (not limit or len(taken) < limit):
            for q in queues:
                if q and (not limit or len(taken) < limit):
                    taken.append(q.pop(0))
        out += taken
    return out


FIRST_USE = "all, first use"  # the summary's rows of the holes whose line is the file's first use of the API


def summarize(results: list[dict], modes: list[str]) -> dict:
    """Per mode, per language, for all holes, and for the holes that are their file's first use of
    the API (`holes.first_use`: in-file context does not show the model the name)."""
    table: dict = {}
    for mode in modes:
        for lang in [*sorted({r["language"] for r in results} | {"all"}), FIRST_USE]:
            rows = [r[mode] for r in results if mode in r and (
                lang == "all" or r["language"] == lang or lang == FIRST_USE and r.get("first_use"))]
            if not rows:
                continue
            entry = {"n": len(rows)}
            if "score" in rows[0]:
                entry.update({
                    "exact": sum(x["score"]["exact"] for x in rows) / len(rows),
                    "edit_sim": sum(x["score"]["edit_sim"] for x in rows) / len(rows),
                    "api_hit": sum(x["score"]["api_hit"] for x in rows) / len(rows),
                    "empty": sum(not x["suggestion"] for x in rows),
                    "prompt_tokens_median": common.median(x["stats"].get("prompt_tokens") for x in rows),
                    "latency_ms_median": _round(common.median(
                        (x["stats"].get("prompt_ms") or 0) + (x["stats"].get("generate_ms") or 0) if x["stats"] else None for x in rows)),
                    "not_full_prompt": sum(bool(x["stats"].get("small_window") or x["stats"].get("older_context")) for x in rows),
                })
            if "retrieval" in rows[0]:
                entry.update({
                    "file_hit": sum(x["retrieval"]["file_hit"] for x in rows) / len(rows),
                    "def_hit": sum(x["retrieval"]["def_hit"] for x in rows) / len(rows),
                    "context_tokens_median": common.median(x["context_tokens"] for x in rows),
                })
            table.setdefault(mode, {})[lang] = entry
    return table


def _round(value: float | None) -> float | None:
    return None if value is None else round(value)


def markdown(meta: dict, table: dict) -> str:
    lines = [f"### Repository-level holes ({meta['title']})", "",
             f"- command: `{meta['command']}`", f"- holes: `{meta['holes_file']}` ({meta['n']} holes)",
             f"- machine: {meta['machine']}", f"- date: {meta['date']}; git commit: {meta['commit']}; took {meta['seconds']:.0f} s",
             f"- results: `{meta['results_file']}`", ""]
    first = next(iter(table.values()))["all"]
    if "exact" in first:
        lines += ["| mode | language | n | exact first line | edit similarity | API hit | empty | prompt tokens (median) | latency ms (median) | "
                  "not the full prompt | retrieval: file / definition |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    else:
        lines += ["| mode | language | n | retrieval: defining file | retrieval: definition | context tokens (median) |",
                  "| --- | --- | --- | --- | --- | --- |"]
    for mode, by_lang in table.items():
        for lang, e in by_lang.items():
            hit = (f"{100 * e['file_hit']:.0f}% / {100 * e['def_hit']:.0f}%" if "file_hit" in e else "")
            if "exact" in e:
                lines.append(f"| {mode} | {lang} | {e['n']} | {100 * e['exact']:.1f}% | {e['edit_sim']:.3f} | {100 * e['api_hit']:.1f}% | "
                             f"{e['empty']} | {e['prompt_tokens_median']} | {e['latency_ms_median']} | {e['not_full_prompt']} | {hit} |")
            else:
                lines.append(f"| {mode} | {lang} | {e['n']} | {100 * e['file_hit']:.1f}% | {100 * e['def_hit']:.1f}% | "
                             f"{e['context_tokens_median']} |")
    return "\n".join(lines)


# -- the machine's side ----------------------------------------------------------------------------
def check_hashes(rows: list[dict]) -> list[str]:
    """The holes whose file or defining file is missing or changed since the set was built."""
    bad = []
    for r in rows:
        root = holeset.root_path(r["root"])
        for rel, digest in ((r["file"], r["file_sha256"]), (r["def_file"], r["def_sha256"])):
            path = root / rel
            if not path.is_file() or holeset.sha256(path) != digest:
                bad.append(f"{r['project']}: {path}")
    return sorted(set(bad))


def model_path(name: str) -> str:
    if name != "tiny":
        return str(common.model_file(name))  # the server's --model takes a path
    sys.path.insert(0, str(common.REPO))
    from tests.support.tiny_gguf import write_tiny_qwen2  # deferred: only the smoke test's model needs it

    path = common.REPO / "benchmarks" / "work" / "tiny.gguf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tiny_qwen2(path)
    return str(path)


def _events(backend: LspBackend) -> list[dict]:
    if not backend.events_path.exists():
        return []
    return [json.loads(x) for x in backend.events_path.read_text().splitlines() if x.strip()]


async def _command(backend: LspBackend, command: str, arguments: list) -> dict:
    _, fut = backend.request("workspace/executeCommand", {"command": command, "arguments": arguments})
    msg = await asyncio.wait_for(fut, WAIT_S)
    if "error" in msg:
        raise RuntimeError(f"{command}: {msg['error']}")
    return msg.get("result") or {}


async def _index_idle(backend: LspBackend) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        index = (await _command(backend, "localLlm.status", [])).get("index", {})
        if not index.get("busy") and index.get("files", 0) > 0:
            return index
        if time.monotonic() > deadline:
            raise RuntimeError(f"the index did not finish: {index}")
        await asyncio.sleep(0.2)


async def _wait_event(backend: LspBackend, since: int, kinds: tuple[str, ...], timeout: float) -> dict | None:
    """The newest event of `kinds` recorded after the first `since` (a prefill's `warmed` only once
    all its prompts are computed: an earlier prefill that a newer one interrupts reports too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _events(backend)[since:]
        found = [e for e in events if e["event"] in kinds and e.get("complete", True)]
        if found:
            return found[-1]
        await asyncio.sleep(0.1)
    return None


async def run_project(rows: list[dict], mode: str, model: str, options: dict, work: Path,
                      prefill: bool = True) -> list[dict]:
    """Every hole of one project in one mode, in one server over a staged copy of the project."""
    project = next(p for p in holeset.PROJECTS if p.name == rows[0]["project"])
    workspace, inner = holeset.stage(project, work / mode)
    oracle_file = work / f"{project.name}-{mode}-oracle.json"
    env = {"LOCAL_LLM_LSP_BENCH_ORACLE": str(oracle_file)} if mode == "oracle" else {}
    init = dict(options, crossFileContext=mode in ("context", "oracle"), crossFileContextLanguages=["*"])
    backend = LspBackend(f"{project.name}-{mode}", model, init, work, root=workspace,
                         module="benchmarks.context.oracle_server" if mode == "oracle" else "benchmarks.latency.observed_server",
                         env=env)
    out = []
    await backend.start("", "", "")
    try:
        index = await _index_idle(backend)
        for version, r in enumerate(rows, start=1):
            path = workspace / inner / r["file"]
            uri = path.as_uri()
            text, offset = cut_document(path.read_text(encoding="utf-8"), r["line"], r["cut"], r["expected"])
            line_text = text.split("\n")[r["line"]]
            pos = {"line": r["line"], "character": utf16_column(line_text, r["cut"])}
            def_lines = (workspace / inner / r["def_file"]).read_text(encoding="utf-8").split("\n")
            def_path = f"{inner}/{r['def_file']}"
            if mode == "oracle":
                pieces = oracle_pieces(def_path, "\n".join(def_lines[r["def_line"]: r["def_end_line"] + 1]))
                oracle_file.write_text(json.dumps({uri: {"repo": project.name, "pieces": pieces}}))
            backend.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": LANGUAGE_IDS[r["language"]],
                                                                     "version": version, "text": text}})
            entry: dict = {}
            if mode != "retrieval":
                warmed = None
                if prefill:
                    since = len(_events(backend))
                    backend.notify("localLlm/cursor", {"textDocument": {"uri": uri}, "position": pos})
                    warmed = await _wait_event(backend, since, ("warmed", "error"), PREFILL_WAIT_S)
                since = len(_events(backend))
                began = time.perf_counter()
                _, fut = backend.request("textDocument/inlineCompletion", {
                    "textDocument": {"uri": uri}, "position": pos, "context": {"triggerKind": 2}})
                msg = await asyncio.wait_for(fut, WAIT_S)
                wall_ms = (time.perf_counter() - began) * 1000
                items = ((msg.get("result") or {}).get("items") or []) if "error" not in msg else []
                suggestion = items[0]["insertText"] if items else ""
                if isinstance(suggestion, dict):
                    suggestion = suggestion.get("value", "")
                job = [e for e in _events(backend)[since:] if e["event"] in ("done", "partial")]
                entry.update(suggestion=suggestion, score=score(suggestion, r["expected"], r["api"]),
                             stats=job[-1]["stats"] if job else {}, wall_ms=round(wall_ms, 1),
                             prefilled=bool(warmed and warmed["event"] == "warmed"))
            if mode in ("context", "retrieval"):
                ctx = await _command(backend, "localLlm.context", [{"uri": uri, "position": pos}])
                entry.update(retrieval=retrieval(ctx["snippets"], def_path, def_lines[r["def_line"]].strip(),
                                                 (r["def_line"], r["def_end_line"])),
                             context_tokens=ctx["tokens"],
                             snippets=[[s["path"], s["start_line"], s["kind"], s["reason"]] for s in ctx["snippets"]])
            backend.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            out.append(entry)
        print(f"{project.name} {mode}: {len(rows)} holes ({index.get('files')} files indexed)", file=sys.stderr, flush=True)
    finally:
        await backend.stop()
    return out


def with_first_use(r: dict) -> dict:
    """A results row for hole `r`: what identifies it, and whether it is its file's first use of the API."""
    text = (holeset.root_path(r["root"]) / r["file"]).read_text(encoding="utf-8")
    row = {k: r[k] for k in ("project", "language", "file", "line", "cut", "expected", "api", "def_file")}
    return row | {"first_use": holeset.first_use(text, r["line"], r["api"], r["language"])}


def resummarize(path: Path, holes_file: Path) -> str:
    """Recompute an existing results file's summary (and its .md) with today's `summarize`, adding
    `first_use` to rows recorded before it existed (from the hole set's files, hash-checked)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    known = {(h["project"], h["file"], h["line"], h["cut"]): h for h in holeset.load(holes_file)}
    for row in data["holes"]:
        if "first_use" not in row:
            hole = known[(row["project"], row["file"], row["line"], row["cut"])]
            if bad := check_hashes([hole]):
                raise SystemExit(f"refused: changed since the hole set was built: {bad}")
            row["first_use"] = with_first_use(hole)["first_use"]
    modes = [m for m in MODES + ("retrieval",) if m in data["holes"][0]]
    data["summary"] = summarize(data["holes"], modes)
    md = markdown(data["meta"] | {"results_file": output.shown(path)}, data["summary"])
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(md + "\n", encoding="utf-8")
    return md


async def run(rows: list[dict], modes: list[str], model: str, options: dict, prefill: bool = True) -> list[dict]:
    results = [with_first_use(r) for r in rows]
    by_project = defaultdict(list)
    for i, r in enumerate(rows):
        by_project[r["project"]].append(i)
    with tempfile.TemporaryDirectory(prefix="repo-bench-") as tmp:
        for mode in modes:
            for project, indices in by_project.items():
                work = Path(tmp)
                (work / mode).mkdir(exist_ok=True)
                for i, entry in zip(indices, await run_project([rows[i] for i in indices], mode, model, options, work, prefill)):
                    results[i][mode] = entry
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.context.repo", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="tiny", help="tiny (a random GGUF for smoke tests), small, default, or a GGUF path")
    ap.add_argument("--settings", choices=("shipped", "budget-off"), default="shipped")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--langs", default="", help="comma-separated languages (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many holes per language (0: all)")
    ap.add_argument("--first-use", action="store_true",
                    help="only the holes that are their file's first use of the API (`holes.first_use`)")
    ap.add_argument("--holes", type=Path, default=holeset.DATA)
    ap.add_argument("--option", nargs=2, action="append", default=[], metavar=("NAME", "JSON"),
                    help="a server setting for every mode (camelCase name, JSON value), e.g. --option promptsDir "
                         '\'"DIR"\'; the results file is named after the settings given')
    ap.add_argument("--retrieval-only", action="store_true", help="only ask localLlm.context at every hole (no completion)")
    ap.add_argument("--summarize", type=Path, metavar="RESULTS_JSON",
                    help="recompute the summary of a results file already recorded (no server, no model)")
    output.add_record_option(ap)
    args = ap.parse_args(argv)
    if args.summarize:
        print(resummarize(args.summarize, args.holes))
        return 0
    langs = [x for x in args.langs.split(",") if x]
    rows = [r for r in holeset.load(args.holes) if not langs or r["language"] in langs]
    if args.first_use:  # these read every file of the languages asked for, so they are checked first
        if bad := check_hashes(rows):
            print("refused: changed since the hole set was built:\n  " + "\n  ".join(bad), file=sys.stderr)
            return 2
        rows = [r for r in rows if with_first_use(r)["first_use"]]
    rows = limited(rows, langs, args.limit)
    if bad := check_hashes(rows):
        print("refused: these files changed since the hole set was built (rebuild it with "
              "`python -m benchmarks.context.holes`):\n  " + "\n  ".join(bad), file=sys.stderr)
        return 2
    modes = ["retrieval"] if args.retrieval_only else [m for m in args.modes.split(",") if m]
    model = model_path("tiny" if args.retrieval_only else args.model)
    options = {"precomputeNext": False}
    if args.settings == "budget-off":
        options.update(latencyTargetMs=0, maxTokens=64)
    options.update({name: json.loads(value) for name, value in args.option})
    commit = common.git_commit()
    began = time.perf_counter()
    results = asyncio.run(run(rows, modes, model, options, prefill=args.settings == "shipped"))
    seconds = time.perf_counter() - began
    table = summarize(results, modes)
    label = Path(args.model).stem if args.model not in ("tiny", "small", "default") else args.model
    name = "repo-retrieval" if args.retrieval_only else f"repo-context-{label}-{args.settings}"
    name += "-first-use" if args.first_use else ""
    name += "".join(f"-{n}" for n, _ in args.option)
    path = output.results_dir(args.record) / f"{name}.json"
    meta = {
        "title": "retrieval only: what `localLlm.context` selects at each hole" if args.retrieval_only
        else f"model {label}, settings {args.settings}, modes {', '.join(modes)}",
        "command": ".venv/bin/python -m benchmarks.context.repo " + " ".join(argv if argv is not None else sys.argv[1:]),
        "holes_file": output.shown(args.holes), "n": len(rows), "model": args.model, "settings": args.settings,
        "init_options": options, "machine": common.machine(), "date": common.now(), "commit": commit,
        "seconds": seconds, "results_file": output.shown(path),
        "projects": {p.name: {"version": p.version, "root": p.root, "source": p.source} for p in holeset.PROJECTS},
    }
    md = markdown(meta, table)
    print(md)
    path.write_text(json.dumps({"meta": meta, "summary": table, "holes": results}, indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    path.with_suffix(".md").write_text(md + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
