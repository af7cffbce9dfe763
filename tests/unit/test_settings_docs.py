"""The settings have one source, the `Settings` class: every field is documented, and README.md,
docs/PROTOCOL.md and the VS Code package.json show exactly what it says (regenerate them with
`python -m lsp_server.lsp.settings_docs`)."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from lsp_server.lsp import settings_docs
from lsp_server.lsp.settings import Settings, parse_settings, setting
from lsp_server.lsp.settings_docs import (
    BEGIN, END, VSCODE_OWN, VSCODE_PREFIX, markdown_table, rows, splice_markdown, splice_package_json, type_text,
    vscode_properties,
)

ROOT = Path(__file__).resolve().parents[2]
FIX = "run `python -m lsp_server.lsp.settings_docs` and commit the result"


def test_every_setting_is_documented():
    assert [f.name for f in attrs.fields(Settings) if not f.metadata.get("doc", "").strip()] == []


@pytest.mark.parametrize("name", settings_docs.MARKDOWN_FILES)
def test_markdown_tables_are_generated_from_the_class(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    block = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
    assert block == markdown_table(), f"{name} disagrees with lsp_server/lsp/settings.py: {FIX}"


def test_vscode_package_has_every_user_setting_as_generated():
    package = json.loads((ROOT / settings_docs.VSCODE_PACKAGE).read_text(encoding="utf-8"))
    properties = package["contributes"]["configuration"]["properties"]
    server_side = {k: v for k, v in properties.items() if k not in VSCODE_OWN}
    assert server_side == vscode_properties(), f"package.json disagrees with lsp_server/lsp/settings.py: {FIX}"
    assert set(VSCODE_OWN) <= properties.keys()


def test_vscode_gets_every_key_but_the_clients_own():
    keys = {k.removeprefix(VSCODE_PREFIX) for k in vscode_properties()}
    assert keys == {row.key for row in rows()} - {"clientShowsExplanations"}


def test_vscode_defaults_are_the_servers():
    # What VS Code sends for untouched settings (their schema defaults) parses to the defaults.
    sent = {k.removeprefix(VSCODE_PREFIX): p["default"] for k, p in vscode_properties().items()}
    assert parse_settings(sent) == (Settings(), [])


def test_the_files_are_current():
    stale = [path for path, text in settings_docs.render(ROOT).items() if path.read_text(encoding="utf-8") != text]
    assert stale == [], FIX


@attrs.frozen
class Sample:
    name: str = setting("", "a name")
    kind: str = setting("a", "`name` kind", choices=("a", "b"))
    size: int = setting(4, "size", minimum=1, maximum=8)
    wait_ms: int = setting(500, "wait", minimum=100, off=0)
    extra: int = setting(0, "extra", minimum=0)
    cap: int = setting(3, "cap", maximum=9)
    count: int = setting(2, "count")
    flags: tuple[str, ...] = setting((), "flags `a|b`")
    on: bool = setting(True, "on", machine=True)
    mine: bool = setting(False, "the client's", client=True)


@pytest.mark.parametrize("key, text", [
    ("name", "string"),
    ("kind", '"a" or "b"'),
    ("size", "int, 1 to 8"),
    ("waitMs", "int, 0 or at least 100"),
    ("extra", "int, at least 0"),
    ("cap", "int, at most 9"),
    ("count", "int"),
    ("flags", "list of strings"),
    ("on", "bool"),
])
def test_type_column(key, text):
    assert type_text(next(r for r in rows(Sample) if r.key == key)) == text


def test_markdown_rows():
    lines = markdown_table(Sample).splitlines()
    assert lines[:3] == ["| key | type | default | meaning |", "| --- | --- | --- | --- |",
                         '| `name` | string | `""` | a name |']
    assert '| `flags` | list of strings | `[]` | flags `a&#124;b` |' in lines
    assert "| `mine` | bool | `false` | the client's |" in lines


@pytest.mark.parametrize("key, expected", [
    ("name", {"type": "string", "default": "", "markdownDescription": "A name."}),
    ("kind", {"type": "string", "enum": ["a", "b"], "default": "a", "markdownDescription": "`#x.name#` kind."}),
    ("size", {"type": "integer", "default": 4, "minimum": 1, "maximum": 8, "markdownDescription": "Size."}),
    ("waitMs", {"type": "integer", "default": 500, "minimum": 0, "markdownDescription": "Wait."}),
    ("flags", {"type": "array", "items": {"type": "string"}, "default": [], "markdownDescription": "Flags `a|b`."}),
    ("on", {"type": "boolean", "default": True, "markdownDescription": "On.", "scope": "machine-overridable"}),
])
def test_vscode_property(key, expected, monkeypatch):
    monkeypatch.setattr(settings_docs, "VSCODE_PREFIX", "x.")
    properties = vscode_properties(Sample)
    assert properties["x." + key] == expected
    assert "x.mine" not in properties


def test_validators_come_from_the_accepted_values():
    @attrs.frozen
    class S:
        size: int = setting(4, "size", minimum=1, maximum=8)
        wait: int = setting(500, "wait", minimum=100, off=0)
        kind: str = setting("a", "kind", choices=("a", "b"))

    for ok in ({"size": 1}, {"size": 8}, {"wait": 0}, {"wait": 100}, {"kind": "b"}):
        S(**ok)
    for bad in ({"size": 0}, {"size": 9}, {"wait": 50}, {"wait": -1}, {"kind": "c"}):
        with pytest.raises(ValueError):
            S(**bad)


def test_splice_markdown():
    text = f"intro\n{BEGIN}\nold\nrows\n{END}\nafter\n"
    assert splice_markdown(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\nafter\n"
    with pytest.raises(ValueError):
        splice_markdown("no markers", "new")


@pytest.mark.parametrize("before, after", [
    # the extension's own settings keep their places; server settings are replaced where they began
    (["localLlm.serverCommand", "localLlm.old", "localLlm.gone", "localLlm.trace.server"],
     ["localLlm.serverCommand", "localLlm.a", "localLlm.b", "localLlm.trace.server"]),
    (["localLlm.serverCommand", "localLlm.trace.server"],
     ["localLlm.serverCommand", "localLlm.trace.server", "localLlm.a", "localLlm.b"]),
    ([], ["localLlm.a", "localLlm.b"]),
])
def test_splice_package_json(before, after):
    package = {"name": "x", "contributes": {"configuration": {"properties": {k: {"old": True} for k in before}}}}
    generated = {"localLlm.a": {"type": "string"}, "localLlm.b": {"type": "boolean"}}
    out = json.loads(splice_package_json(json.dumps(package), generated))
    properties = out["contributes"]["configuration"]["properties"]
    assert list(properties) == after
    assert all(properties[k] == {"old": True} for k in VSCODE_OWN if k in before)
    assert out["name"] == "x"
