"""The TCP transport's token: where it comes from, and the check of a connection's first message.

Owns reading the token (the `LOCAL_LLM_LSP_TOKEN` environment variable, else a `--token-file`
that only its owner can read) and deciding whether a connection may talk to the server: its
first message must be `initialize` whose `initializationOptions.authToken` is the token (compared
with `hmac.compare_digest`). Editors can all set `initializationOptions`, so a client needs no
extra protocol step. The first frame is read with strict limits (size, time); anything else is
refused, and the connection is closed before any document is read. The token is never logged
and is taken out of the message before the server sees it. Must not touch sockets itself: the
server passes its reader functions in.
"""

from __future__ import annotations

import hmac
import json
import os
import stat
from collections.abc import Awaitable, Callable, Mapping

TOKEN_ENV = "LOCAL_LLM_LSP_TOKEN"
TOKEN_KEY = "authToken"  # in initializationOptions
MAX_AUTH_FRAME = 1 << 20  # an initialize message is a few KiB
MAX_AUTH_HEADER_LINES = 8
AUTH_TIMEOUT_S = 10.0
HOW_TO_SET = (
    f"set the environment variable {TOKEN_ENV} or pass --token-file PATH (a file only you can read), "
    "and have the client send it as initializationOptions.authToken; or use --socket PATH instead"
)


class TokenError(Exception):
    """No usable token: the message says why and how to set one."""


def load_token(env: Mapping[str, str], token_file: str | None) -> str:
    """The token from the environment, else from `token_file` (refused when group or others can read it)."""
    if token_file:
        path = os.path.expanduser(token_file)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            raise TokenError(f"cannot read the token file {token_file}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise TokenError(f"the token file {token_file} is not a regular file")
            if mode & 0o077:
                raise TokenError(f"the token file {token_file} can be read by others (mode {stat.S_IMODE(mode):o}): "
                                 f"chmod 600 {token_file}")
            token = fh.read(4096).decode("utf-8", "replace").strip()
        if not token:
            raise TokenError(f"the token file {token_file} is empty")
        return token
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise TokenError(f"--tcp needs a token: {HOW_TO_SET}")
    return token


def check_first_message(body: bytes, token: str) -> bytes | None:
    """The first message without its token when it is an `initialize` carrying the token; else None."""
    try:
        msg = json.loads(body)
    except Exception:  # not JSON (or nested too deeply): not an initialize
        return None
    if not isinstance(msg, dict) or msg.get("method") != "initialize" or not isinstance(msg.get("params"), dict):
        return None
    options = msg["params"].get("initializationOptions")
    given = options.get(TOKEN_KEY) if isinstance(options, dict) else None
    if not isinstance(given, str) or not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        return None
    del options[TOKEN_KEY]
    return json.dumps(msg).encode("utf-8")


async def read_first_frame(readline: Callable[[int], Awaitable[bytes]],
                           readexactly: Callable[[int], Awaitable[bytes]]) -> bytes | None:
    """One frame read strictly (a few short header lines, a Content-Length within MAX_AUTH_FRAME); else None."""
    length = None
    for _ in range(MAX_AUTH_HEADER_LINES + 1):
        line = await readline(1024)
        if not line.endswith(b"\n") or len(line) > 1024:
            return None
        if not line.strip():
            break
        name, _, value = line.strip().partition(b":")
        if name.strip().lower() == b"content-length":
            value = value.strip()
            if not value.isdigit() or int(value) > MAX_AUTH_FRAME:
                return None
            length = int(value)
    else:
        return None
    if length is None:
        return None
    body = await readexactly(length)
    return body if len(body) == length else None
