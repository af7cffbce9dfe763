"""The server forgets every notification once it is handled (pygls 2.1.1 kept one future per
notification in `_request_futures`: the soak's steady RSS growth, one per keystroke)."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from pygls.io_ import StdoutWriter

from lsp_server.lsp.server import create_server
from lsp_server.lsp.transport import dispatch

URI = "file:///tmp/notification-futures.py"

NOTIFICATIONS = [
    ("textDocument/didOpen", lambda v: {"textDocument": {"uri": URI, "languageId": "python", "version": v, "text": "x = 1\n"}}),
    ("textDocument/didChange", lambda v: {"textDocument": {"uri": URI, "version": v}, "contentChanges": [{"text": f"x = {v}\n"}]}),
    ("localLlm/cursor", lambda v: {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}),
    ("textDocument/didClose", lambda v: {"textDocument": {"uri": URI}}),
]


@pytest.mark.parametrize("method, params", NOTIFICATIONS, ids=[m for m, _ in NOTIFICATIONS])
def test_handled_notifications_leave_no_future_behind(method, params):
    async def run() -> int:
        ls = create_server()
        ls.protocol.set_writer(StdoutWriter(io.BytesIO()))

        def send(method: str, params: dict) -> None:
            dispatch(ls.protocol, json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode())

        open_method, open_params = NOTIFICATIONS[0]
        send(open_method, open_params(1))  # the document the others talk about
        for version in range(2, 102):
            send(method, params(version))
            await asyncio.sleep(0)
        await asyncio.sleep(0.1)
        return len(ls.protocol._request_futures)

    assert asyncio.run(run()) == 0
