"""Benchmark: fixes of planted bugs through the real server over stdio.

For each planted bug (benchmarks/fix/bugs.py): open the buggy program in the server, ask for code
actions at the bug's line with a diagnostic that says which test fails, resolve "Fix with local
model", apply the edit, and run the tests in a time-limited subprocess. Counts: fixed, refused by
the checks (no edit), no change proposed (the model repeated the code), edit applied but the tests still fail the same way, edit applied and the
program fails differently ("broke something else"); time from the codeAction request to the
resolved edit. One server process per model (`python -m lsp_server --model PATH`), LSP over stdio
with pygls' client; one model at a time.

    .venv/bin/python -m benchmarks.fix.run --model small --bugs 100
    .venv/bin/python -m benchmarks.fix.run --model default --bugs 100

Per-bug rows (`fix-<model>.jsonl`) and their summary go to benchmarks/work/results/, or with
`--record` to benchmarks/results/ (`benchmarks.output`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks import output
from benchmarks.fix.bugs import KINDS, load_tasks, plant, run_tests
from lsp_server.fixes.edits import apply_edits

CAPS = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)),
    text_document=types.TextDocumentClientCapabilities(
        code_action=types.CodeActionClientCapabilities(
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]), data_support=True,
        )
    ),
)


def model_path(which: str) -> str:
    from lsp_server.bundled import BUNDLED, ensure_assembled

    return str(ensure_assembled(BUNDLED[which])) if which in BUNDLED else which


async def start(model: str, root: Path | None = None, init_options: dict | None = None,
                name: str = "fix-bench") -> tuple[LanguageClient, asyncio.Event, list]:
    """A real server on `model` (with `root` as its workspace, if given), ready for requests."""
    client = LanguageClient(name, "1")
    ready = asyncio.Event()
    messages: list[str] = []

    @client.feature("localLlm/status")
    def status(params) -> None:
        state = params.get("state") if isinstance(params, dict) else getattr(params, "state", None)
        if state == "ready":
            ready.set()
        elif state == "error":
            print("model error:", params, file=sys.stderr)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show(params) -> None:
        messages.append(params.message)

    await client.start_io(sys.executable, "-m", "lsp_server", "--model", model, cwd=str(output.REPO))
    await client.initialize_async(types.InitializeParams(capabilities=CAPS, process_id=None,
                                                         root_uri=root.as_uri() if root else None,
                                                         initialization_options=init_options))
    client.initialized(types.InitializedParams())
    await asyncio.wait_for(ready.wait(), 600)
    return client, ready, messages


async def stop(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


def edits_of(edit: types.WorkspaceEdit, text: str) -> list[tuple[int, int, str]]:
    from lsp_server.lsp.documents import line_starts, position_to_offset

    starts = line_starts(text)
    out = []
    for change in edit.document_changes or []:
        for e in change.edits:
            s = position_to_offset(text, starts, e.range.start.line, e.range.start.character)
            t = position_to_offset(text, starts, e.range.end.line, e.range.end.character)
            out.append((s, t, e.new_text))
    return out


async def fix_one(client: LanguageClient, bug, n: int) -> dict:
    uri = f"file:///bench/{bug.task.id.replace('/', '_')}.py"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=bug.code)))
    line_text = bug.code.splitlines()[bug.line]
    col = len(line_text) - len(line_text.lstrip())
    rng = types.Range(types.Position(bug.line, col), types.Position(bug.line, len(line_text)))
    diag = types.Diagnostic(range=rng, message=bug.failure, severity=types.DiagnosticSeverity.Error, source="tests")
    row = {"task": bug.task.id, "kind": bug.kind, "line": bug.line}
    t0 = time.monotonic()
    try:
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri), range=rng,
            context=types.CodeActionContext(diagnostics=[diag])))
        row["list_ms"] = round((time.monotonic() - t0) * 1000, 1)
        action = next(a for a in actions or [] if isinstance(a, types.CodeAction) and a.title == "Fix with local model"
                      and a.diagnostics and a.diagnostics[0].source == "tests")
        resolved = await client.code_action_resolve_async(action)
        row["edit_s"] = round(time.monotonic() - t0, 2)
        if resolved.edit is None:
            row["reason"] = resolved.disabled.reason if resolved.disabled else "no edit"
            row["outcome"] = "no change" if "no change" in row["reason"] else "refused"
        else:
            fixed = apply_edits(bug.code, edits_of(resolved.edit, bug.code))
            row["changed_lines"] = sum(e.new_text.count("\n") for c in resolved.edit.document_changes for e in c.edits)
            verdict, failure = await asyncio.to_thread(run_tests, fixed, bug.task)
            if verdict == "pass":
                row["outcome"] = "fixed"
            elif failure == bug.failure:
                row["outcome"] = "not fixed"
            else:
                row["outcome"] = "broke"
                row["failure"] = failure
    finally:
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    return row


def summary(rows: list[dict]) -> dict:
    n = len(rows)
    count = lambda o: sum(r["outcome"] == o for r in rows)  # noqa: E731
    times = [r["edit_s"] for r in rows if "edit_s" in r and r["outcome"] not in ("refused", "no change")]
    return {
        "bugs": n, "fixed": count("fixed"), "refused": count("refused"), "no_change": count("no change"), "not_fixed": count("not fixed"), "broke": count("broke"),
        "median_s_to_edit": round(statistics.median(times), 1) if times else None,
        "median_list_ms": round(statistics.median(r["list_ms"] for r in rows), 1) if rows else None,
        "by_kind": {k: f"{sum(r['outcome'] == 'fixed' for r in rows if r['kind'] == k)}/{sum(r['kind'] == k for r in rows)}" for k in KINDS},
    }


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default", help='"default", "small" or a GGUF path')
    ap.add_argument("--bugs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", type=Path, help="the per-bug rows' file (default: fix-<model>.jsonl where --record says)")
    output.add_record_option(ap)
    ap.add_argument("--summarize", type=Path, help="only summarize a results .jsonl (also a partial one)")
    args = ap.parse_args()
    if args.summarize:
        rows = [json.loads(line) for line in args.summarize.read_text().splitlines() if line.strip()]
        print(json.dumps(summary(rows), indent=2))
        return
    bugs = plant(load_tasks(), args.bugs, seed=args.seed)
    out = args.out or output.results_dir(args.record) / f"fix-{Path(args.model).stem}.jsonl"
    client, _, _ = await start(model_path(args.model))
    rows = []
    try:
        with out.open("w") as fh:
            for i, bug in enumerate(bugs, 1):
                try:
                    row = await fix_one(client, bug, i)
                except Exception as exc:  # one bad case must not end the run
                    row = {"task": bug.task.id, "kind": bug.kind, "outcome": "error", "reason": repr(exc)}
                rows.append(row)
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                print(f"[{i}/{len(bugs)}] {row['task']} {row['kind']}: {row['outcome']} {row.get('edit_s', '')}s {row.get('reason', '')}", flush=True)
    finally:
        await stop(client)
    s = summary(rows)
    print(json.dumps(s, indent=2))
    (out.with_suffix(".summary.json")).write_text(json.dumps(s, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
