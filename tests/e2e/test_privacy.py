"""No one else's files, and no code in the logs, on the real server process.

URIs: only documents the client opened are served, found by their exact URI. A crafted URI in a
command's arguments, a code action's data or a request (`..`, a symlink, percent-escapes, another
scheme or host, a value that is not a string) gets a clear answer (Invalid params, "not open",
an empty result) and no file is opened, read or written: the kernel's inotify on the folder of
the secret file says so, for the whole session.

Logs: a session at INFO with a marker string in the document (completions, code actions, a fix,
an explanation, and malformed requests whose params hold the marker) leaves no trace of the
marker in the log file or on stderr (the worker's log), and the log file is created user-only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.file_watch import FolderWatch
from tests.support.lsp import start_server
from tests.support.raw_server import RawServer, frame

SECRET = "SECRET_CONTENT_never_served = 1\n"


def _crafted_uris(folder: Path) -> list:
    d = folder.as_posix()
    return [
        f"file://{d}/secret.py",  # exists on disk, never opened
        f"file://{d}/sub/../secret.py",
        f"file://{d}/open.py/../secret.py",
        f"file://{d}/link.py",  # a symlink to the secret
        f"file://{d}/%73ecret.py",
        f"file://localhost{d}/secret.py",
        f"FILE://{d}/secret.py",
        f"file:{d}/secret.py",
        f"vscode-remote://ssh-remote+x{d}/secret.py",
        f"http://127.0.0.1{d}/secret.py",
        f"untitled:{d}/secret.py",
        f"{d}/secret.py",  # a bare path
        [f"file://{d}/secret.py"], {"uri": f"file://{d}/secret.py"}, None, 42,
    ]


def _rng(l1=0, c1=0, l2=0, c2=5) -> dict:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "secret.py").write_text(SECRET)
    (tmp_path / "link.py").symlink_to(tmp_path / "secret.py")
    (tmp_path / "sub").mkdir()
    return tmp_path


async def test_crafted_uris_are_not_served_and_no_file_is_read(tiny_model_path, folder):
    opened = (folder / "open.py").as_uri()  # opened by the client with its own text; not on disk
    watch = FolderWatch(folder)
    try:
        async with start_server(tiny_model_path) as s:
            await s.wait_status("ready")
            s.open(opened, "def add(a, b):\n    return \n")
            assert await s.inline(opened, 1, 11), "the opened document is served"
            for uri in _crafted_uris(folder):
                with pytest.raises(JsonRpcException, match="not open|needs"):
                    await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
                        command="localLlm.explain", arguments=[{"uri": uri, "range": _rng()}]))
                fixed = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
                    command="localLlm.fix", arguments=[{"uri": uri, "range": _rng(), "action": "rewrite"}]))
                assert fixed["applied"] is False and "not open" in fixed["message"], (uri, fixed)
                resolved = await s.client.code_action_resolve_async(types.CodeAction(
                    title="Fix with local model", data={"uri": uri, "range": _rng(), "action": "fix"}))
                assert resolved.edit is None and "not open" in resolved.disabled.reason
                if isinstance(uri, str):
                    assert await s.inline(uri, 0, 5) == []
                    listed = await s.client.text_document_code_action_async(types.CodeActionParams(
                        text_document=types.TextDocumentIdentifier(uri), range=types.Range(
                            types.Position(0, 0), types.Position(0, 5)), context=types.CodeActionContext(diagnostics=[])))
                    assert not listed
            counters = (await s.status())["counters"]
            assert (await s.status())["state"] == "ready"
        assert watch.touched() == set(), "the server opened, read or wrote a file in the folder"
        assert counters["model_calls"] == 1  # only the opened document reached the model
    finally:
        watch.close()


MARKER = "zq_MARKER_4242_do_not_log"


def test_no_document_text_in_the_log_at_info(tiny_model_path, tmp_path):
    log_file = tmp_path / "server.log"
    stderr_file = tmp_path / "stderr.txt"
    with stderr_file.open("wb") as stderr:
        raw = RawServer(tiny_model_path, "--log-file", str(log_file), "--log-level", "INFO", stderr=stderr)
        try:
            raw.initialize()
            raw.wait_ready()
            uri = "file:///w/private.py"
            text = f"# {MARKER}\ndef add(a, b):\n    return \n"
            raw.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": text}}}))
            raw.send(frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [{"range": _rng(2, 11, 2, 11), "text": f"{MARKER}_"}]}}))
            requests = {
                1: ("textDocument/inlineCompletion", {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 22},
                                                      "context": {"triggerKind": 1}}),
                2: ("textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 22}}),
                3: ("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": _rng(1, 0, 2, 5), "context": {
                    "diagnostics": [{"range": _rng(2, 0, 2, 5), "message": f"{MARKER} failed", "source": "pytest"}]}}),
                4: ("workspace/executeCommand", {"command": "localLlm.fix", "arguments": [{
                    "uri": uri, "range": _rng(2, 0, 2, 5), "action": "fix",
                    "diagnostic": {"range": _rng(2, 0, 2, 5), "message": f"{MARKER} failed"}}]}),
                5: ("workspace/executeCommand", {"command": "localLlm.explain", "arguments": [{"uri": uri, "range": _rng(0, 0, 2, 5)}]}),
                # malformed: the marker is in the params pygls fails to read
                6: ("textDocument/inlineCompletion", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": MARKER},
                                                      "context": {"triggerKind": 1}}),
                7: ("workspace/executeCommand", {"command": "localLlm.explain", "arguments": [{"uri": [text], "range": MARKER}]}),
                8: ("codeAction/resolve", {"title": MARKER, "data": {"action": "fix", "uri": {MARKER: text}}}),
            }
            for msg_id, (method, params) in requests.items():
                raw.send(frame({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}))
                raw.reply_to(msg_id, timeout=60)
            raw.send(frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": "x"}, "contentChanges": [{"text": MARKER}]}}))
            raw.still_answers("after")
        finally:
            raw.close()
    log = log_file.read_text(errors="replace")
    assert "INFO" in log or "WARNING" in log, "the session logged nothing: the test would prove nothing"
    assert "cannot structure" in log  # the malformed requests were logged, without their params
    assert MARKER not in log
    assert MARKER not in stderr_file.read_text(errors="replace")
    assert stat.S_IMODE(os.stat(log_file).st_mode) == 0o600


def test_an_existing_log_file_is_made_user_only(tiny_model_path, tmp_path):
    log_file = tmp_path / "server.log"
    log_file.write_text("earlier lines\n")
    log_file.chmod(0o644)
    raw = RawServer(tiny_model_path, "--log-file", str(log_file), "--log-level", "INFO")
    try:
        raw.initialize()
    finally:
        raw.close()
    assert stat.S_IMODE(os.stat(log_file).st_mode) == 0o600
    assert log_file.read_text().startswith("earlier lines\n")  # appended to, not replaced
