"""The settings reference, rendered from the `Settings` class: one source for every table.

Owns rendering the Markdown table (README.md and docs/PROTOCOL.md, between the marker comments)
and the VS Code `contributes.configuration.properties` entries (`localLlm.<key>`, all but the
settings a client sets about itself), and splicing them into those files.
`python -m lsp_server.lsp.settings_docs` rewrites the three files; `--check` only says whether
they are current (tests/unit/test_settings_docs.py fails when they are not). Must not parse or
validate settings: that is `settings`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

import attrs

from lsp_server.lsp.settings import Settings, _camel

BEGIN = "<!-- settings: generated from lsp_server/lsp/settings.py by `python -m lsp_server.lsp.settings_docs` -->"
END = "<!-- /settings -->"
VSCODE_PREFIX = "localLlm."
MARKDOWN_FILES = ("README.md", "docs/PROTOCOL.md")
VSCODE_PACKAGE = "editor-clients/vscode/package.json"
# The VS Code extension's own settings, not sent to the server (editor-clients/vscode/src/config.ts
# has the same list).
VSCODE_OWN = ("localLlm.serverCommand", "localLlm.trace.server")

# Python type -> (name in the Markdown table, JSON schema type)
_TYPES: dict[type, tuple[str, str]] = {str: ("string", "string"), int: ("int", "integer"), bool: ("bool", "boolean")}


@attrs.frozen
class Row:
    """One setting as the tables show it."""

    key: str  # camelCase, as on the wire
    type: type
    item: type | None  # the items' type of a list
    default: Any  # as JSON: a list for a tuple
    doc: str
    choices: tuple
    minimum: int | None
    maximum: int | None
    off: int | None
    machine: bool
    client: bool


def rows(cls: type = Settings) -> list[Row]:
    out = []
    for f in attrs.fields(attrs.resolve_types(cls)):
        tp, item = f.type, None
        if typing.get_origin(tp) is tuple:
            tp, item = list, typing.get_args(tp)[0]
        m = f.metadata
        out.append(Row(_camel(f.name), tp, item, list(f.default) if item else f.default, m.get("doc", ""),
                       m.get("choices", ()), m.get("minimum"), m.get("maximum"), m.get("off"),
                       m.get("machine", False), m.get("client", False)))
    return out


def type_text(row: Row) -> str:
    """The Markdown table's type column: the values a setting accepts."""
    if row.choices:
        return " or ".join(json.dumps(c) for c in row.choices)
    if row.item is not None:
        return f"list of {_TYPES[row.item][0]}s"
    text = _TYPES[row.type][0]
    low, high = row.minimum, row.maximum
    if low is not None and high is not None:
        return f"{text}, {low} to {high}"
    if low is not None:
        return f"{text}, {row.off} or at least {low}" if row.off is not None else f"{text}, at least {low}"
    return f"{text}, at most {high}" if high is not None else text


def markdown_table(cls: type = Settings) -> str:
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for row in rows(cls):
        lines.append(f"| `{row.key}` | {type_text(row)} | `{json.dumps(row.default)}` | {row.doc.replace('|', '&#124;')} |")
    return "\n".join(lines)


def _vscode_markdown(doc: str, keys: set[str]) -> str:
    """A doc as a VS Code description: a sentence, other settings as links (`#localLlm.key#`)."""
    text = re.sub(r"`(\w+)`", lambda m: f"`#{VSCODE_PREFIX}{m[1]}#`" if m[1] in keys else m[0], doc)
    text = text[:1].upper() + text[1:]  # the docs begin with a lowercase word, never a name
    return text if text.endswith(".") else text + "."


def vscode_properties(cls: type = Settings) -> dict[str, dict]:
    """`contributes.configuration.properties` for the user's settings (not the client's own)."""
    user = [row for row in rows(cls) if not row.client]
    keys = {row.key for row in user}
    out: dict[str, dict] = {}
    for row in user:
        prop: dict[str, Any] = {"type": _TYPES.get(row.type, ("", "array"))[1]}
        if row.item is not None:
            prop["items"] = {"type": _TYPES[row.item][1]}
        if row.choices:
            prop["enum"] = list(row.choices)
        prop["default"] = row.default
        if row.minimum is not None:
            prop["minimum"] = row.minimum if row.off is None else min(row.off, row.minimum)
        if row.maximum is not None:
            prop["maximum"] = row.maximum
        prop["markdownDescription"] = _vscode_markdown(row.doc, keys)
        if row.machine:
            prop["scope"] = "machine-overridable"
        out[VSCODE_PREFIX + row.key] = prop
    return out


def splice_markdown(text: str, table: str) -> str:
    """`text` with what lies between the BEGIN and END marker lines replaced by `table`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN!r} ... {END!r} block")
    return text[: start + len(BEGIN)] + "\n" + table + "\n" + text[end:]


def splice_package_json(text: str, generated: dict[str, dict]) -> str:
    """package.json with `generated` in place of its server settings.

    The extension's own settings (VSCODE_OWN) keep their places; the generated ones go where the
    first server setting was (after the extension's own ones when there was none).
    """
    package = json.loads(text)
    configuration = package["contributes"]["configuration"]
    merged: dict[str, dict] = {}
    for key, value in configuration["properties"].items():
        if key in VSCODE_OWN:
            merged[key] = value
        elif not generated.keys() & merged.keys():
            merged.update(generated)
    if not generated.keys() & merged.keys():
        merged.update(generated)
    configuration["properties"] = merged
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def render(root: Path) -> dict[Path, str]:
    """Each generated file's path -> its text as it should be."""
    table = markdown_table()
    out = {root / name: splice_markdown((root / name).read_text(encoding="utf-8"), table) for name in MARKDOWN_FILES}
    package = root / VSCODE_PACKAGE
    out[package] = splice_package_json(package.read_text(encoding="utf-8"), vscode_properties())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lsp_server.lsp.settings_docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that are not current (exit 1)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2], help="the repository")
    args = parser.parse_args(argv)
    stale = []
    for path, text in render(args.root).items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path.relative_to(args.root)}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
