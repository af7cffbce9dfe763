"""Benchmark: translating comments and docstrings in place, through the real server over stdio.

On the committed pairs (benchmarks/language/comments.jsonl: 60 Japanese/English comment and
docstring pairs written for the set, in Python, JavaScript, TypeScript, Go, C and Rust, most with
identifiers in backticks), in both directions: open the program with the comment in the source
language, ask for code actions at the comment with the user's language set so that the action
is offered ("Translate comment to English" for ja->en with `language: en`, "... to Japanese"
for en->ja with `language: ja`), resolve it, apply the edit, and score:

- chrF (`sacrebleu`, character n-grams, so it works for Japanese without a tokenizer) of the
  translated prose against the reference, over all rows (no edit: an empty hypothesis) and over
  the rows that got an edit;
- edits that changed code or broke the file: any byte outside the comment changed, a code token
  changed (tree-sitter), or more syntax errors than before (target 0);
- how many were offered, refused (by reason) and the median time from the request to the
  resolved action (edit or refusal).

    .venv/bin/pip install '.[bench]'   # sacrebleu
    .venv/bin/python -m benchmarks.language.translate --model default
    .venv/bin/python -m benchmarks.language.translate --model small
    .venv/bin/python -m benchmarks.language.translate --model /tmp/local-llm-lsp-tests-0/tiny.gguf --limit 4   # smoke test
    .venv/bin/python -m benchmarks.language.translate --summarize benchmarks/results/translate-default.jsonl

Rows (`translate-<model>.jsonl`) and the summary go to benchmarks/work/results/, or with
`--record` to benchmarks/results/.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from lsprotocol import types

from benchmarks.language import server
from lsp_server.fixes.scopes import count_errors
from lsp_server.syntax.comments import code_tokens
from lsp_server.syntax.languages import new_parser
from lsp_server.translation.plan import find

PAIRS = Path(__file__).resolve().parent / "comments.jsonl"
DIRECTIONS = (("ja", "en"), ("en", "ja"))
EXTENSIONS = {"python": "py", "go": "go", "c": "c", "javascript": "js", "typescript": "ts", "rust": "rs"}


def load_pairs(path: Path = PAIRS) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "id" in r]


def render(row: dict, which: str) -> tuple[str, int]:
    """The row's program with its comment in language `which`, and the comment's offset."""
    text = row[which]
    if row["style"] == "docstring":
        comment = f'"""{text}"""'
    elif row["style"] == "block":
        comment = f"/** {text} */"
    elif row["style"] == "doc":
        comment = f"/// {text}"
    else:
        comment = ("# " if row["language"] == "python" else "// ") + text
    code = row["code"]
    at = code.index("{comment}")
    return code[:at] + comment + code[at + len("{comment}"):], at


def comment_prose(text: str, offset: int, language: str) -> str | None:
    """The prose of the comment at `offset`, its paragraphs joined by a space."""
    tree = new_parser(language).parse(text.encode())
    found = find(tree, text, offset, offset)
    return " ".join(found[1].prose) if found is not None else None


def code_intact(before: str, after: str, offset: int, old_end: int, language: str) -> bool:
    """Whether `after` differs from `before` only inside the comment at [offset, old_end), with the
    same code tokens and no more syntax errors."""
    tail = len(before) - old_end
    if after[:offset] != before[:offset] or after[len(after) - tail:] != before[old_end:]:
        return False
    parser = new_parser(language)
    old, new = parser.parse(before.encode()), parser.parse(after.encode())
    return code_tokens(old.root_node) == code_tokens(new.root_node) and count_errors(new.root_node) <= count_errors(old.root_node)


def chrf(hypotheses: list[str], references: list[str]) -> float | None:
    from sacrebleu.metrics import CHRF  # deferred: the `bench` extra, only for scoring

    if not hypotheses:
        return None
    return round(CHRF().corpus_score(hypotheses, [references]).score, 2)


def summary(rows: list[dict]) -> dict:
    """Per direction: chrF (all rows, edited rows), offered, edits, refusals by reason, broken, median time."""
    out = {}
    for direction in sorted({r.get("direction", r.get("pass")) for r in rows}):
        mine = [r for r in rows if r.get("direction", r.get("pass")) == direction]
        edited = [r for r in mine if r.get("outcome") in ("edit", "broke")]
        times = [r["seconds"] for r in mine if "seconds" in r]
        out[direction] = {
            "pairs": len(mine),
            "offered": sum(r.get("outcome") != "not offered" for r in mine),
            "edits": len(edited),
            "broke": sum(r.get("outcome") == "broke" for r in mine),
            "broke_rate": round(sum(r.get("outcome") == "broke" for r in mine) / len(edited), 4) if edited else 0.0,
            "refused": dict(Counter(r.get("reason", "") for r in mine if r.get("outcome") == "refused")),
            "errors": sum(r.get("outcome") == "error" for r in mine),
            "chrf_all": chrf([r.get("hypothesis") or "" for r in mine if "reference" in r],
                             [r["reference"] for r in mine if "reference" in r]),
            "chrf_edited": chrf([r["hypothesis"] or "" for r in edited], [r["reference"] for r in edited]),
            "median_s": round(statistics.median(times), 2) if times else None,
        }
    return out


async def translate_one(client, row: dict, source: str, target: str, n: int) -> dict:
    from benchmarks.fix.run import edits_of
    from lsp_server.fixes.edits import apply_edits

    text, offset = render(row, source)
    uri = f"file:///bench/translate/{n}.{EXTENSIONS[row['language']]}"
    language = row["language"]
    found = find(new_parser(language).parse(text.encode()), text, offset, offset)
    old_end = found[0].end if found else offset
    line = text.count("\n", 0, offset)
    character = offset - (text.rfind("\n", 0, offset) + 1)
    result = {"id": row["id"], "direction": f"{source}-{target}", "reference": row[target]}
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
    try:
        t0 = time.monotonic()
        pos = types.Position(line, character + 1)
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri), range=types.Range(pos, pos),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.RefactorRewrite])))
        action = next((a for a in actions or [] if isinstance(a, types.CodeAction) and isinstance(a.data, dict)
                       and a.data.get("action") == "translate" and a.data.get("target") == target), None)
        if action is None:
            return result | {"outcome": "not offered"}
        resolved = await client.code_action_resolve_async(action)
        result["seconds"] = round(time.monotonic() - t0, 2)
        if resolved.edit is None:
            return result | {"outcome": "refused", "reason": resolved.disabled.reason if resolved.disabled else "no edit"}
        after = apply_edits(text, edits_of(resolved.edit, text))
        result["hypothesis"] = comment_prose(after, offset, language)
        result["comment"] = after[offset:len(after) - (len(text) - old_end)]
        result["outcome"] = "edit" if code_intact(text, after, offset, old_end, language) else "broke"
        return result
    finally:
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))


async def translate_row(client, pair: dict, direction: str, n: int) -> dict:
    source, target = direction.split("-")
    return await translate_one(client, pair, source, target, n)


def main() -> None:
    args = server.options(__doc__.split("\n")[0]).parse_args()
    passes = [(target, f"{source}-{target}") for source, target in DIRECTIONS]  # the user's language: the target
    asyncio.run(server.run(args, "translate", passes, load_pairs(), translate_row, summary))


if __name__ == "__main__":
    main()
