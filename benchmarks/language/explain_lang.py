"""Benchmark: explanations in the requested language, through the real server over stdio.

For each committed input (benchmarks/language/explain_inputs.jsonl: 36 real functions in Python,
Go, C, JavaScript, TypeScript and Rust, each citing its source) and each requested language
(`--languages ja,en`): set the `language` setting, open the code, run `localLlm.explain` on the
whole of it, and score the answer by script detection (`lsp_server.i18n.scripts`): the share of
its prose letters in the language's script (code spans and fenced blocks left out; Japanese:
kana and kanji, English: Latin), and whether it is written in that language (at least half
its letters, and for Japanese at least one kana). The summary per language: the share of answers
written in it (target: at least 95% for the 1.5B), the mean letter share, the median time.

    .venv/bin/python -m benchmarks.language.explain_lang --model default
    .venv/bin/python -m benchmarks.language.explain_lang --model small
    .venv/bin/python -m benchmarks.language.explain_lang --model /tmp/local-llm-lsp-tests-0/tiny.gguf --limit 3   # smoke test (the e2e tests write it)
    .venv/bin/python -m benchmarks.language.explain_lang --summarize benchmarks/results/explain-lang-default.jsonl

Rows (`explain-lang-<model>.jsonl`) and the summary go to benchmarks/work/results/, or with
`--record` to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from lsprotocol import types

from benchmarks import output
from lsp_server.i18n.scripts import share_in, written_in

INPUTS = Path(__file__).resolve().parent / "explain_inputs.jsonl"
EXTENSIONS = {"python": "py", "go": "go", "c": "c", "javascript": "js", "typescript": "ts", "rust": "rs"}


def load_inputs(path: Path = INPUTS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(answer: str, code: str) -> dict:
    """One answer's language scores for language `code`."""
    share = share_in(answer, code)
    return {"share": None if share is None else round(share, 4), "in_language": written_in(answer, code)}


def summary(rows: list[dict]) -> dict:
    """Per requested language: answers, the share written in it, the mean letter share, the median time."""
    out = {}
    for code in sorted({r["requested"] for r in rows}):
        mine = [r for r in rows if r["requested"] == code]
        answered = [r for r in mine if "in_language" in r]
        shares = [r["share"] for r in answered if r["share"] is not None]
        times = [r["seconds"] for r in answered]
        out[code] = {
            "answers": len(mine),
            "errors": len(mine) - len(answered),
            "in_language": sum(r["in_language"] for r in answered),
            "in_language_share": round(sum(r["in_language"] for r in answered) / len(mine), 4) if mine else None,
            "mean_letter_share": round(statistics.fmean(shares), 4) if shares else None,
            "median_s": round(statistics.median(times), 2) if times else None,
        }
    return out


async def explain_one(client, row: dict, n: int) -> str:
    uri = f"file:///bench/explain/{n}.{EXTENSIONS[row['language']]}"
    code = row["code"]
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id=row["language"], version=1, text=code)))
    lines = code.split("\n")
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": len(lines) - 1, "character": len(lines[-1])}}
    try:
        return await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="localLlm.explain", arguments=[{"uri": uri, "range": rng}]))
    finally:
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))


async def main() -> None:
    from benchmarks.language.server import model_path, start, stop, use_language  # deferred: loads pygls' client

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default", help='"default", "small" or a GGUF path')
    ap.add_argument("--languages", default="ja,en")
    ap.add_argument("--limit", type=int, help="only the first N inputs (a smoke test)")
    ap.add_argument("--out", type=Path)
    output.add_record_option(ap)
    ap.add_argument("--summarize", type=Path, help="only summarize a results .jsonl")
    args = ap.parse_args()
    if args.summarize:
        rows = [json.loads(line) for line in args.summarize.read_text().splitlines() if line.strip()]
        print(json.dumps(summary(rows), indent=2))
        return
    inputs = load_inputs()[:args.limit]
    out = args.out or output.results_dir(args.record) / f"explain-lang-{Path(args.model).stem}.jsonl"
    client, _messages = await start(model_path(args.model), "explain-lang-bench")
    rows = []
    try:
        with out.open("w", encoding="utf-8") as fh:
            for code in args.languages.split(","):
                use_language(client, code)
                for i, item in enumerate(inputs, 1):
                    row = {"id": item["id"], "language": item["language"], "requested": code}
                    t0 = time.monotonic()
                    try:
                        answer = await explain_one(client, item, i)
                        row.update(seconds=round(time.monotonic() - t0, 2), answer=answer, **score(answer, code))
                    except Exception as exc:  # one bad case must not end the run
                        row["error"] = repr(exc)
                    rows.append(row)
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    fh.flush()
                    print(f"[{code} {i}/{len(inputs)}] {item['id']}: {row.get('in_language', 'error')} "
                          f"{row.get('share', '')} {row.get('seconds', '')}s", flush=True)
    finally:
        await stop(client)
    s = summary(rows)
    print(json.dumps(s, indent=2))
    out.with_suffix(".summary.json").write_text(json.dumps(s, indent=2) + "\n")
    print("rows:", output.shown(out))


if __name__ == "__main__":
    asyncio.run(main())
