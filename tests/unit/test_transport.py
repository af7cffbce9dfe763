"""The transport's pure helpers: reading the top level of a message nested too deeply to decode."""

import pytest

from lsp_server.lsp.transport import _top_level_id, shallow

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
