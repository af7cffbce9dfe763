"""The transport answers malformed messages itself, framed on the writer the server gave pygls."""

from __future__ import annotations

import json

import pytest

from lsp_server.lsp.transport import INVALID_REQUEST, PARSE_ERROR, dispatch


class Writer:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.frames.append(data)


class Protocol:
    """Only what dispatch touches before a message is well-formed enough for pygls."""

    def __init__(self) -> None:
        self.writer = Writer()


def answers(body: bytes) -> list[dict]:
    protocol = Protocol()
    dispatch(protocol, body)
    out = []
    for data in protocol.writer.frames:
        header, _, payload = data.partition(b"\r\n\r\n")
        assert header == b"Content-Length: %d" % len(payload)
        out.append(json.loads(payload))
    return out


@pytest.mark.parametrize("body, msg_id, code", [
    (b"{not json", None, PARSE_ERROR),
    (b"\xff\xfe", None, PARSE_ERROR),
    (b'[1, 2]', None, INVALID_REQUEST),
    (b'{"jsonrpc": "1.0", "id": 7, "method": "x"}', 7, INVALID_REQUEST),
    (b'{"jsonrpc": "1.0", "id": [1], "method": "x"}', None, INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": "a", "method": 3}', "a", INVALID_REQUEST),
])
def test_malformed_messages_get_a_json_rpc_error(body, msg_id, code):
    (answer,) = answers(body)
    assert answer["jsonrpc"] == "2.0" and answer["id"] == msg_id and answer["error"]["code"] == code
    assert "id" in answer  # `"id": null` is written out, as JSON-RPC requires


def test_non_ascii_messages_are_framed_in_bytes():
    (answer,) = answers('{"jsonrpc": "1.0", "id": "é€", "method": "x"}'.encode())
    assert answer["id"] == "é€"
