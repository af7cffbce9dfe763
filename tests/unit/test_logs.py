"""What the log may hold: pygls' records lose their message params and exception texts (table-driven)."""

from __future__ import annotations

import logging
import sys

import pytest

from lsp_server.cli.logs import redact_pygls, redacted_arg

CODE = "def secret():\n    return 42\n"


@pytest.mark.parametrize("value, kept", [
    (7, 7), (None, None), (True, True), (1.5, 1.5),
    ("textDocument/didChange", "textDocument/didChange"),
    ("a" * 80, "a" * 80),
    ("a" * 81, "<str>"),
    ("one\ntwo", "<str>"),
    ({"text": CODE}, "<dict>"),
    ([CODE], "<list>"),
    (b"bytes", "<bytes>"),
])
def test_redacted_arg(value, kept):
    assert redacted_arg(value) == kept


def _record(name: str, msg: str, args, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = None
    if exc is not None:
        try:
            raise exc
        except BaseException:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


@pytest.mark.parametrize("name, msg, args, exc, secret_gone", [
    ("pygls.protocol.json_rpc", "Failed to handle notification %r: %s", ("textDocument/didOpen", {"text": CODE}), None, True),
    ("pygls.protocol.json_rpc", "Unknown message \"%s\"", (CODE,), None, True),
    ("pygls.protocol.json_rpc", "Failed to handle request %s %s %s", (3, "x", "y"), ValueError(CODE), True),
    ("lsp_server.lsp.server", "%s", (CODE,), None, False),  # our own records are ours to word
])
def test_pygls_records_are_redacted(name, msg, args, exc, secret_gone):
    record = _record(name, msg, args, exc)
    assert redact_pygls(record) is True  # never dropped
    text = logging.Formatter("%(message)s").format(record)
    assert (CODE not in text and "return 42" not in text) == secret_gone
    if exc is not None:
        assert "ValueError (message not logged)" in text and "Traceback" in text
