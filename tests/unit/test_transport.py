"""The transport's own pieces: error replies framed on the writer the server gave pygls, and reading
the top level of a message nested too deeply to decode."""

from __future__ import annotations

import json

import pytest

from lsp_server.lsp.transport import _top_level_id, shallow, INVALID_REQUEST, PARSE_ERROR, dispatch


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

DEEP = b"[" * 50_000 + b"]" * 50_000

SHALLOW = [
    # (JSON text, keep, the text with deeper values replaced by null)
    (b'{"id": 1, "p": [[1]]}', 1, b'{"id": 1, "p": null}'),
    (b'{"id": 1, "p": [[1]]}', 2, b'{"id": 1, "p": [null]}'),
    (b"[1, [2, [3]], 4]", 1, b"[1, null, 4]"),
    (b'{"a": "[{\\"", "b": {"c": "}"}}', 1, b'{"a": "[{\\"", "b": null}'),  # brackets inside strings
    (b'{"id": "x"}', 1, b'{"id": "x"}'),
    (b"", 1, b""),
]


@pytest.mark.parametrize("text, keep, expected", SHALLOW)
def test_shallow(text, keep, expected):
    assert shallow(text, keep) == expected


TOP_LEVEL_ID = [
    (b'{"jsonrpc": "2.0", "id": 7, "method": "m", "params": ' + DEEP + b"}", 7),
    (b'{"jsonrpc": "2.0", "params": ' + DEEP + b', "id": "late"}', "late"),
    (b'{"params": {"id": 5, "x": ' + DEEP + b"}}", None),  # an id nested inside params is not the message's
    (b'{"id": true, "p": ' + DEEP + b"}", None),
    (b'{"id": null, "p": ' + DEEP + b"}", None),
    (DEEP, None),
    (b'{"id": 1, "p": ' + DEEP, None),  # unclosed
]


@pytest.mark.parametrize("body, expected", TOP_LEVEL_ID)
def test_top_level_id_of_a_body_too_deep_to_decode(body, expected):
    assert _top_level_id(body) == expected
