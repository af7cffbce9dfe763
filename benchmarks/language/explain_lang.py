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

import asyncio
import json
import statistics
import time
from pathlib import Path

from lsprotocol import types

from benchmarks.language import server
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
    for code in sorted({r.get("requested", r.get("pass")) for r in rows}):
        mine = [r for r in rows if r.get("requested", r.get("pass")) == code]
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


async def explain_row(client, item: dict, requested: str, n: int) -> dict:
    row = {"id": item["id"], "language": item["language"], "requested": requested}
    t0 = time.monotonic()
    answer = await explain_one(client, item, n)
    return row | {"seconds": round(time.monotonic() - t0, 2), "answer": answer, **score(answer, requested)}


def main() -> None:
    ap = server.options(__doc__.split("\n")[0])
    ap.add_argument("--languages", default="ja,en")
    args = ap.parse_args()
    codes = args.languages.split(",")
    asyncio.run(server.run(args, "explain-lang", [(c, c) for c in codes], load_inputs(), explain_row, summary))


if __name__ == "__main__":
    main()
