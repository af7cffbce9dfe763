"""End to end: the workspace index in the real server process (tiny model): indexed at
`initialized` in the background, kept current from watched files and workspace folder
changes, and asked through `localLlm.context`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from lsprotocol import types

from tests.support.lsp import start_server

GEOMETRY = '''"""Shapes."""


def area(width, height):
    """The area of a width x height rectangle."""
    return width * height


class Circle:
    def __init__(self, r):
        self.r = r

    def circumference(self):
        return 6.28 * self.r
'''
APP = '''from pkg.geometry import area, Circle
from pkg import extra


def report(w, h):
    a = area(w, h)
    c = Circle(a)
    print(extra.more(a))
    return c.
'''


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "geometry.py").write_text(GEOMETRY)
    (root / "app.py").write_text(APP)
    (root / ".gitignore").write_text("ignored/\n")
    (root / "ignored").mkdir()
    (root / "ignored" / "x.py").write_text("def hidden(): pass\n")
    return root


async def _context(s, uri: str, line: int, character: int) -> dict:
    return await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="localLlm.context", arguments=[{"uri": uri, "position": {"line": line, "character": character}}]))


async def _indexed(s, files: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        index = (await s.status())["index"]
        if not index["busy"] and index["files"] >= files:
            return index
        assert time.monotonic() < deadline, index
        await asyncio.sleep(0.1)


async def test_context_names_the_imported_definitions(tiny_model_path, tmp_path):
    root = _project(tmp_path / "proj")
    async with start_server(tiny_model_path, root=root, workspace_folders=[root]) as s:
        index = await _indexed(s, 3)
        assert index["files"] == 3 and index["runs"][str(root)]["skipped"] == {"gitignored": 1}
        uri = (root / "app.py").as_uri()
        s.open(uri, APP)
        result = await _context(s, uri, 8, 13)
        assert result["path"] == "app.py"
        by_path = [(x["path"], x["kind"], x["text"].splitlines()[0]) for x in result["snippets"]]
        assert by_path == [("pkg/geometry.py", "definition", "def area(width, height):"),
                           ("pkg/geometry.py", "skeleton", "class Circle:")]
        assert '"""The area of a width x height rectangle."""' in result["snippets"][0]["text"]
        assert all(x["reason"] and x["score"] > 0 for x in result["snippets"])
        # the index thread reported its progress, and the server asked to watch the source files
        assert any(r.method == "workspace/didChangeWatchedFiles" for r in s.registrations)
        reports = [r for rs in s.client.progress_reports.values() for r in rs]
        assert any(isinstance(r, types.WorkDoneProgressEnd) and "indexed 3 files" in (r.message or "") for r in reports)

        # a new module, announced as a watched file, is found next time
        (root / "pkg" / "extra.py").write_text("def more(x):\n    return x + 1\n")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=(root / "pkg" / "extra.py").as_uri(), type=types.FileChangeType.Created)]))
        await _indexed(s, 4)
        result = await _context(s, uri, 8, 13)
        assert "def more(x):\n    return x + 1" in [x["text"] for x in result["snippets"]]

        # the live text of the open document counts, not the disk's: Circle is no longer imported
        s.change(uri, "area", (0, 25), (0, 37))
        found = [(x["kind"], x["text"]) for x in (await _context(s, uri, 8, 13))["snippets"]]
        assert any("def area" in t for _, t in found)
        # no definition of `Circle`; a window of geometry.py may show it: it looks like the scope, which names it
        assert all(kind == "similar" for kind, t in found if "class Circle" in t)


ENCODE = '''from codec.io import read_chunk, write_data


def encode_file(source, out, width):
    data = read_chunk(source, width)
    size = encoded_size(data)
    if not write_data(out, size, data):
        raise OSError("write failed")
    return size
'''
DECODE = '''from codec.io import read_chunk, write_data


def decode_file(source, out, width):
    data = read_chunk(source, width)
    size = decoded_size(data)
    if not 
'''


async def test_context_shows_how_other_files_of_the_workspace_call_the_api(tiny_model_path, tmp_path):
    root = tmp_path / "proj"
    (root / "codec").mkdir(parents=True)
    (root / "codec" / "__init__.py").write_text("")
    (root / "codec" / "io.py").write_text("def read_chunk(f, n):\n    return f.read(n)\n\n\n"
                                          "def write_data(f, n, data):\n    return f.write(data[:n]) == n\n")
    (root / "encode.py").write_text(ENCODE)  # never opened
    (root / "decode.py").write_text(DECODE + "    return size\n")
    async with start_server(tiny_model_path, root=root, workspace_folders=[root]) as s:
        await _indexed(s, 4)
        uri = (root / "decode.py").as_uri()
        s.open(uri, DECODE)
        snippets = (await _context(s, uri, 6, 11))["snippets"]
        windows = [x for x in snippets if x["kind"] == "similar"]
        assert [x["path"] for x in windows] == ["encode.py"], snippets
        assert "    if not write_data(out, size, data):" in windows[0]["text"].splitlines()
        assert windows[0]["reason"].endswith(", in the workspace") and snippets[0] == windows[0]


async def test_workspace_folders_come_and_go(tiny_model_path, tmp_path):
    first = _project(tmp_path / "one")
    second = tmp_path / "two"
    second.mkdir()
    (second / "lib.py").write_text("def helper():\n    pass\n")
    async with start_server(tiny_model_path, root=first, workspace_folders=[first]) as s:
        await _indexed(s, 3)
        s.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=[types.WorkspaceFolder(second.as_uri(), "two")],
                                                    removed=[types.WorkspaceFolder(first.as_uri(), "one")])))
        index = await _indexed(s, 1)
        assert index["folders"] == [str(second)] and index["files"] == 1


async def test_the_index_can_be_turned_off(tiny_model_path, tmp_path):
    root = _project(tmp_path / "proj")
    async with start_server(tiny_model_path, root=root, init_options={"workspaceIndex": False}) as s:
        uri = (root / "app.py").as_uri()
        s.open(uri, APP)
        await asyncio.sleep(0.5)
        result = await _context(s, uri, 8, 13)
        assert result["snippets"] == [] and result["index"]["files"] == 0 and not s.registrations


USE = '''from pkg.geometry import area


def report(w, h):
    a = area(w, h)
    
'''


@pytest.mark.parametrize("options, on", [
    ({}, True),  # the default: on, in Python (and C, C++, JavaScript, TypeScript)
    ({"crossFileContext": True}, True),
    ({"crossFileContext": True, "crossFileContextLanguages": ["javascript", "c"]}, False),  # not for this language
    ({"crossFileContext": True, "crossFileContextLanguages": ["*"]}, True),
    ({"crossFileContext": False, "crossFileContextLanguages": ["*"]}, False),
])
async def test_completions_carry_the_context_when_it_is_on_for_the_language(tiny_model_path, tmp_path, options, on):
    root = _project(tmp_path / "proj")
    async with start_server(tiny_model_path, root=root, workspace_folders=[root], init_options=options) as s:
        await s.wait_status("ready")
        await _indexed(s, 3)
        uri = (root / "use.py").as_uri()
        s.open(uri, USE)
        await s.inline(uri, 5, 4)
        entry = next(h for h in reversed((await s.status())["history"]) if h["outcome"] in ("ok", "empty"))
        # the definition of `area` from pkg/geometry.py went into the prompt (in the template's
        # repository form where the model has its roles, else commented into the prefix)
        assert (entry["context_tokens"] > 0) is on, entry
        # `localLlm.context` shows the selection either way, and says whether completions here use it
        shown = await _context(s, uri, 5, 4)
        assert shown["snippets"] and shown["inCompletions"] is on, shown
