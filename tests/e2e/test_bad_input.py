"""Bad input and faults: malformed JSON-RPC frames and broken model files never end the server.

The frames are written as raw bytes to the real server process (pytest-lsp's client cannot send
malformed messages), and each case checks the server still answers a valid request afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.lsp import start_server
from tests.support.raw_server import RawServer, frame
from tests.support.tiny_gguf import write_tiny_qwen2



@pytest.fixture
def raw(tiny_model_path):
    server = RawServer(tiny_model_path)
    server.initialize()
    yield server
    server.close()


BAD_FRAMES = [
    # (id, bytes sent, expected error code in the reply, or None when no reply is due)
    pytest.param(None, frame(b"{not json"), -32700, id="invalid-json"),
    pytest.param(None, frame(b"[1, 2, 3]"), -32600, id="not-an-object"),
    pytest.param(7, frame({"jsonrpc": "2.0", "id": 7, "method": "textDocument/inlineCompletion",
                           "params": {"textDocument": "oops", "position": [1, 2]}}), -32602, id="invalid-params"),
    pytest.param(8, frame({"jsonrpc": "2.0", "id": 8, "method": "textDocument/completion", "params": 42}), -32602,
                 id="params-wrong-type"),
    pytest.param(9, frame({"jsonrpc": "2.0", "id": 9, "method": "no/suchMethod", "params": {}}), -32601,
                 id="unknown-method"),
    pytest.param(None, b"Content-Length: 99999999999999999999\r\n\r\n{}", -32700, id="absurd-content-length"),
    pytest.param(None, b"Content-Length: -5\r\n\r\n", -32700, id="negative-content-length"),
    pytest.param(None, b"Garbage-Header\r\n\r\n", -32700, id="no-content-length"),
    pytest.param(None, frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"bogus": 1}}), None,
                 id="bad-notification"),
    # json.loads raises RecursionError (not ValueError) on these; the id is read from the top level
    pytest.param(None, frame(b"[" * 100_000 + b"]" * 100_000), -32600, id="nested-arrays-100k"),
    pytest.param(11, frame(b'{"jsonrpc": "2.0", "id": 11, "method": "x", "params": ' + b'{"a": ' * 50_000 + b"1"
                           + b"}" * 50_001), -32600, id="nested-objects-50k"),
    pytest.param(None, frame(b'{"jsonrpc": "2.0", "id": 12, "method": "\xff\xfe"}'), -32700, id="invalid-utf8"),
]


@pytest.mark.parametrize("msg_id, data, code", BAD_FRAMES)
def test_malformed_message_gets_error_and_server_keeps_answering(raw, msg_id, data, code):
    raw.send(data)
    if code is not None:
        reply = raw.read_message()
        while "method" in reply:  # skip notifications (status, progress)
            reply = raw.read_message()
        assert reply["id"] == msg_id
        assert reply["error"]["code"] == code
    raw.still_answers("after")
    assert raw.proc.poll() is None


def test_huge_header_line_is_skipped(raw):
    raw.send(b"X-Junk: " + b"a" * 100_000 + b"\r\nContent-Length: 2\r\n\r\n{}")
    raw.still_answers("after")


STATUS = {"jsonrpc": "2.0", "id": "valid", "method": "workspace/executeCommand",
          "params": {"command": "localLlm.status", "arguments": []}}


@pytest.mark.parametrize("junk", [
    pytest.param(b"a" * 65_536, id="64k-without-line-end"),
    pytest.param(b"X-Long: " + b"a" * 65_536 + b"\r\n\r\n", id="64k-header-then-blank-line"),
    pytest.param(b"X-Long: " + b"a" * 65_536 + b"\r\n", id="64k-header-line"),
    pytest.param(b"Content-Length: " + b"1" * 65_536 + b"\r\n\r\n", id="64k-content-length"),
])
def test_the_valid_frame_after_a_long_header_line_is_answered(raw, junk):
    raw.send(junk + frame(STATUS))
    assert "result" in raw.reply_to("valid")
    raw.still_answers("after")


def test_unknown_notification_is_ignored(raw):
    raw.send(frame({"jsonrpc": "2.0", "method": "$/somethingNew", "params": {}}))
    raw.send(frame({"jsonrpc": "2.0", "method": "custom/unknown", "params": {}}))
    raw.still_answers("after")


def test_edit_outside_the_document_is_clamped(raw):
    uri = "file:///w/a.py"
    raw.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}}}))
    raw.send(frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": {"line": 90, "character": 4}, "end": {"line": 2, "character": 0}}, "text": "y"}]}}))
    raw.send(frame({"jsonrpc": "2.0", "id": 5, "method": "textDocument/inlineCompletion", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 500, "character": 500}, "context": {"triggerKind": 1}}}))
    reply = raw.reply_to(5)
    assert "result" in reply


# -- model faults --------------------------------------------------------------------------------

def _broken_models(tmp: Path, tiny: Path) -> dict[str, tuple[Path, str]]:
    data = tiny.read_bytes()
    truncated = tmp / "truncated.gguf"
    truncated.write_bytes(data[: len(data) // 3])
    corrupt = tmp / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + os.urandom(200_000))
    not_gguf = tmp / "model.bin"
    not_gguf.write_bytes(b"\x00" * 4096)
    folder = tmp / "folder.gguf"
    folder.mkdir()
    empty = tmp / "empty.gguf"
    empty.write_bytes(b"")
    return {
        "missing": (tmp / "nope.gguf", "does not exist"),
        "truncated": (truncated, ""),
        "corrupt": (corrupt, ""),
        "not-gguf": (not_gguf, "not a GGUF file"),
        "folder": (folder, "is not a file"),
        "empty": (empty, "not a GGUF file"),
        "unknown-architecture": (write_tiny_qwen2(tmp / "arch.gguf", arch="notarealarch"),
                                 "architecture is 'notarealarch'"),
        "chat-template-syntax-error": (write_tiny_qwen2(tmp / "tpl.gguf", chat_template="{% for %}"),
                                       "chat template"),
    }


@pytest.mark.parametrize("case", ["missing", "truncated", "corrupt", "not-gguf", "folder", "empty", "unknown-architecture",
                                  "chat-template-syntax-error"])
async def test_broken_model_file_gives_one_clear_message_and_server_answers(tmp_path, tiny_model_path, case):
    path, expected = _broken_models(tmp_path, tiny_model_path)[case]
    async with start_server(path) as s:
        status = await s.wait_status("error")
        assert str(path) in status["message"] or expected in status["message"] or "model" in status["message"]
        if expected:
            assert expected in status["message"]
        s.open("file:///w/a.py", "def add(a, b):\n    return \n")
        assert await s.inline("file:///w/a.py", 1, 11) == []
        errors = [m for m in s.client.messages if m.type.value == 1]
        assert len(errors) == 1 and "local-llm-lsp" in errors[0].message
        # A second request does not repeat the message.
        assert await s.inline("file:///w/a.py", 1, 11) == []
        assert len([m for m in s.client.messages if m.type.value == 1]) == 1


async def test_model_without_fim_tokens_is_named_as_such(nofim_model_path):
    async with start_server(nofim_model_path) as s:
        status = await s.wait_status("error")
        assert "fill-in-the-middle" in status["message"]
        s.open("file:///w/a.py", "x = \n")
        assert await s.inline("file:///w/a.py", 0, 4) == []


async def test_a_model_of_another_architecture_serves(tmp_path):
    """The same tiny model written as llama.cpp's `llama` architecture (not qwen2) loads and serves."""
    model = write_tiny_qwen2(tmp_path / "llama.gguf", arch="llama")
    async with start_server(model) as s:
        await s.wait_status("ready")
        s.open("file:///w/a.py", "def add(a, b):\n    return \n")
        assert await s.inline("file:///w/a.py", 1, 11)


INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
    "{{ x()._module.__builtins__['__import__']('os').system('touch MARKER') }}{% endif %}{% endfor %}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}{{ messages[0]['content'] }}",
]


@pytest.mark.parametrize("template", INJECTIONS, ids=["mro-subclasses", "for-subclasses", "context-globals", "lipsum"])
async def test_a_chat_template_injection_never_runs(tmp_path, template):
    """A model file whose chat template tries to run a shell command: the template renders only in
    a sandbox, which refuses it; the explanation fails with a clear message, completions go on."""
    marker = tmp_path / "pwned"
    model = write_tiny_qwen2(tmp_path / "evil.gguf", chat_template=template.replace("MARKER", str(marker)))
    async with start_server(model, init_options={"clientShowsExplanations": True}) as s:
        await s.wait_status("ready")
        uri = "file:///w/a.py"
        s.open(uri, "def add(a, b):\n    return a + b\n")
        with pytest.raises(JsonRpcException, match="chat template cannot be used.*sandbox"):
            await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="localLlm.explain", arguments=[{"uri": uri, "range": {
                    "start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 5}}}]))
        s.change(uri, "\n    return ", (1, 16))
        assert await s.inline(uri, 2, 11)
        assert (await s.status())["state"] == "ready"
    assert not marker.exists(), "a template from a model file ran a command"


async def test_hash_mismatch_of_bundled_model_is_reported(tmp_path):
    """A corrupt assembled bundled model is detected by its hash and re-assembled or reported."""
    from lsp_server.bundled import BUNDLED, ModelError, ensure_assembled

    fake_cache = tmp_path / "cache"
    fake_cache.mkdir()
    model = BUNDLED["small"]
    target = fake_cache / model.filename
    with target.open("wb") as fh:  # right size, wrong bytes
        fh.truncate(model.size)
    os.environ["LOCAL_LLM_LSP_CACHE"] = str(fake_cache)
    try:
        if model.installed():
            path = ensure_assembled(model)  # the bad file is replaced by a verified assembly
            assert path == target
            from lsp_server.bundled import is_verified

            assert is_verified(model, path)
        else:
            with pytest.raises(ModelError, match="not installed"):
                ensure_assembled(model)
    finally:
        del os.environ["LOCAL_LLM_LSP_CACHE"]


async def test_settings_with_wrong_types_warn_and_keep_defaults(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"maxTokens": "many", "noSuchKey": 1, "model": "huge"}) as s:
        await s.wait_status("ready")
        warnings = [m.message for m in s.client.messages if m.type.value == 2]
        assert any("maxTokens" in w for w in warnings)
        assert any("noSuchKey" in w for w in warnings)
        assert any("'model'" in w for w in warnings)


async def test_progress_is_reported_while_loading(tiny_model_path):
    async with start_server(tiny_model_path, client="neovim") as s:
        await s.wait_status("ready")
        await __import__("asyncio").sleep(0.2)
        kinds = [getattr(p, "kind", None) for reports in s.client.progress_reports.values() for p in reports]
        assert "begin" in kinds and "end" in kinds
