"""The TCP token: where it is read from, and which first messages pass (table-driven)."""

from __future__ import annotations

import asyncio
import json

import pytest

from lsp_server.lsp.token_auth import TOKEN_ENV, TokenError, check_first_message, load_token, read_first_frame

TOKEN = "tok-123"


def _init(options) -> bytes:
    params = {"capabilities": {}} | ({"initializationOptions": options} if options is not ... else {})
    return json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}).encode()


@pytest.mark.parametrize("body, passes", [
    (_init({"authToken": TOKEN}), True),
    (_init({"authToken": TOKEN, "maxTokens": 8}), True),
    (_init({"authToken": TOKEN + "x"}), False),
    (_init({"authToken": TOKEN[:-1]}), False),
    (_init({"authToken": ""}), False),
    (_init({"authToken": [TOKEN]}), False),
    (_init({"authToken": None}), False),
    (_init({}), False),
    (_init(None), False),
    (_init(...), False),
    (json.dumps({"jsonrpc": "2.0", "method": "initialized", "params": {"initializationOptions": {"authToken": TOKEN}}}).encode(), False),
    (json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": [TOKEN]}).encode(), False),
    (b"[" * 100_000, False),
    (b"\xff\xfe", False),
    (b"", False),
])
def test_first_message(body, passes):
    out = check_first_message(body, TOKEN)
    assert (out is not None) == passes
    if passes:
        assert TOKEN.encode() not in out  # the server never sees the token
        assert "authToken" not in json.loads(out)["params"]["initializationOptions"]


def test_token_from_the_environment():
    assert load_token({TOKEN_ENV: f" {TOKEN}\n"}, None) == TOKEN
    with pytest.raises(TokenError, match=TOKEN_ENV):
        load_token({}, None)
    with pytest.raises(TokenError, match="--token-file"):
        load_token({TOKEN_ENV: "  "}, None)


@pytest.mark.parametrize("mode, content, error", [
    (0o600, f"{TOKEN}\n", None),
    (0o400, TOKEN, None),
    (0o640, TOKEN, "can be read by others"),
    (0o604, TOKEN, "can be read by others"),
    (0o600, "\n", "is empty"),
])
def test_token_file(tmp_path, mode, content, error):
    path = tmp_path / "token"
    path.write_text(content)
    path.chmod(mode)
    if error is None:
        assert load_token({TOKEN_ENV: "ignored"}, str(path)) == TOKEN
    else:
        with pytest.raises(TokenError, match=error) as info:
            load_token({}, str(path))
        assert TOKEN not in str(info.value)


def test_token_file_missing_or_a_symlink(tmp_path):
    with pytest.raises(TokenError, match="cannot read"):
        load_token({}, str(tmp_path / "nope"))
    real = tmp_path / "real"
    real.write_text(TOKEN)
    real.chmod(0o600)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(TokenError, match="cannot read"):
        load_token({}, str(tmp_path / "link"))


@pytest.mark.parametrize("data, body", [
    (b"Content-Length: 2\r\n\r\n{}", b"{}"),
    (b"Content-Type: x\r\nContent-Length: 2\r\n\r\n{}", b"{}"),
    (b"Content-Length: 5\r\n\r\n{}", None),  # EOF inside the body
    (b"Content-Length: 99999999\r\n\r\n{}", None),  # above MAX_AUTH_FRAME
    (b"Content-Length: -1\r\n\r\n", None),
    (b"\r\n{}", None),  # no Content-Length
    (b"X: y\r\n" * 20 + b"\r\n", None),  # too many header lines
    (b"Content-Length: 2" + b" " * 2000 + b"\r\n\r\n{}", None),  # a header line too long
    (b"GET / HTTP/1.1\r\n\r\n", None),
])
def test_first_frame_is_read_strictly(data, body):
    async def run():
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()

        async def readline(limit):
            return await reader.readline()

        async def readexactly(n):
            try:
                return await reader.readexactly(n)
            except asyncio.IncompleteReadError as exc:
                return exc.partial

        return await read_first_frame(readline, readexactly)

    assert asyncio.run(run()) == body
