"""Running a language benchmark through the real server over stdio: the options, one server
(benchmarks/fix/run.py's `start`), passes over the inputs with the `language` setting switched
between them (no model reload), a row per input written as it comes, and the summary.

Owns what `explain_lang` and `translate` share; must not score anything (their `summary` does).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from benchmarks import output

Row = dict[str, Any]


def options(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--model", default="default", help='"default", "small" or a GGUF path')
    ap.add_argument("--limit", type=int, help="only the first N inputs (a smoke test)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--summarize", type=Path, help="only summarize a results .jsonl (also a partial one)")
    output.add_record_option(ap)
    return ap


def read_rows(path: Path) -> list[Row]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def use_language(client, code: str) -> None:
    """The user's language for what follows; the client shows explanations itself (no showMessage)."""
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"localLlm": {"language": code, "clientShowsExplanations": True}}))


async def run(args: argparse.Namespace, name: str, passes: list[tuple[str, str]], items: list[Row],
              one: Callable[[Any, Row, str, int], Awaitable[Row]], summary: Callable[[list[Row]], dict]) -> None:
    """For each (language to set, pass label) in `passes`, `one(client, item, label, i)` per item;
    a row that raised is recorded as an error and the run goes on."""
    from benchmarks.fix.run import model_path, start, stop  # deferred: loads pygls' client and the bundled models

    if args.summarize:
        print(json.dumps(summary(read_rows(args.summarize)), indent=2, ensure_ascii=False))
        return
    items = items[:args.limit]
    out = args.out or output.results_dir(args.record) / f"{name}-{Path(args.model).stem}.jsonl"
    client, _ready, _messages = await start(model_path(args.model))
    rows: list[Row] = []
    try:
        with out.open("w", encoding="utf-8") as fh:
            for language, label in passes:
                use_language(client, language)
                for i, item in enumerate(items, 1):
                    try:
                        row = await one(client, item, label, i)
                    except Exception as exc:  # one bad case must not end the run
                        row = {"id": item["id"], "pass": label, "outcome": "error", "error": repr(exc)}
                    rows.append(row)
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    fh.flush()
                    shown = {k: row[k] for k in ("outcome", "share", "seconds", "reason", "hypothesis") if k in row}
                    print(f"[{label} {i}/{len(items)}] {item['id']}: {shown}", flush=True)
    finally:
        await stop(client)
    s = summary(rows)
    print(json.dumps(s, indent=2, ensure_ascii=False))
    out.with_suffix(".summary.json").write_text(json.dumps(s, indent=2, ensure_ascii=False) + "\n")
    print("rows:", output.shown(out))
