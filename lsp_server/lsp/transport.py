"""JSON-RPC framing over stdio and TCP, hardened against malformed input.

Owns reading LSP messages off a byte stream and handing them to pygls' protocol object. It
replaces pygls' own read loop, which (2.1.1) exits or allocates without bound on an absurd
`Content-Length`, leaves requests with invalid params unanswered, and answers nothing to
invalid JSON. Here: headers are parsed with limits; a bad frame is answered with the JSON-RPC
error it deserves (Parse error, Invalid Request, Invalid params, with the request's id where
one can be read) and the loop resynchronises on the next header; the server never exits for
bad input. TCP listens on loopback only.
"""

from __future__ import annotations

import asyncio
import json
import os
import logging
import re
import threading
from collections.abc import Awaitable, Callable

from pygls.exceptions import JsonRpcException

log = logging.getLogger(__name__)

MAX_CONTENT_LENGTH = 64 << 20  # 64 MiB: far above any real LSP message
MAX_HEADER_LINE = 8192  # longer header lines are skipped (an overlong Content-Length spoils its frame)
MAX_LINE_BUFFER = 1 << 20  # what a reader buffers looking for a line end; beyond it a line is read in pieces
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602

ReadLine = Callable[[int], Awaitable[bytes]]
ReadExactly = Callable[[int], Awaitable[bytes]]


def _frame(payload: dict) -> bytes:
    """One JSON-RPC message with its header."""
    body = json.dumps(payload).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _send_error(protocol, msg_id, code: int, message: str) -> None:
    # Framed here, on the writer the server gave pygls (its `write` is synchronous for both
    # transports): pygls' response types drop `"id": null`, which JSON-RPC requires.
    protocol.writer.write(_frame({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}))


_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # a string, or a bracket outside strings
MAX_RECOVERY_BODY = 1 << 20  # the id of a body nested too deeply is looked for up to this size


def shallow(body: bytes, keep: int = 1) -> bytes:
    """The JSON text with every value nested deeper than `keep` levels replaced by `null`, so that
    a message nested too deeply for the decoder still shows its top-level fields (its id)."""
    out: list[bytes] = []
    depth, last, cut_from = 0, 0, None
    for m in _JSON_TOKEN.finditer(body):
        token = m.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth == keep + 1:
                cut_from = m.start()
        elif token in (b"]", b"}"):
            if depth == keep + 1 and cut_from is not None:
                out += [body[last:cut_from], b"null"]
                last, cut_from = m.end(), None
            depth -= 1
    out.append(body[last:])
    return b"".join(out)


def _top_level_id(body: bytes):
    """The id of a message too deeply nested to decode, when it can be read; else None."""
    if len(body) > MAX_RECOVERY_BODY:
        return None
    try:
        top = json.loads(shallow(body))
    except Exception:  # still not readable: no id to answer with
        return None
    msg_id = top.get("id") if isinstance(top, dict) else None
    return msg_id if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) else None


def dispatch(protocol, body: bytes) -> None:
    """Decode one message body and hand it to pygls, answering errors that pygls would drop."""
    try:
        raw = json.loads(body)
    except RecursionError:  # valid JSON, perhaps, but nested deeper than the decoder goes
        msg_id = _top_level_id(body)
        log.warning("message body nested too deeply (id %r)", msg_id)
        _send_error(protocol, msg_id, INVALID_REQUEST, "Invalid Request: nested too deeply")
        return
    except Exception as exc:  # any other failure of the decoder: invalid JSON, bad UTF-8
        log.warning("invalid JSON in message body: %s", type(exc).__name__)
        _send_error(protocol, None, PARSE_ERROR, f"Parse error: {type(exc).__name__}: {str(exc)[:200]}")
        return
    if not isinstance(raw, dict) or raw.get("jsonrpc") != "2.0":
        msg_id = raw.get("id") if isinstance(raw, dict) else None
        _send_error(protocol, msg_id if isinstance(msg_id, (int, str)) else None, INVALID_REQUEST,
                    "Invalid Request: expected a JSON-RPC 2.0 object")
        return
    msg_id = raw.get("id")
    is_request = "method" in raw and isinstance(msg_id, (int, str))
    if "method" in raw and not isinstance(raw.get("method"), str):
        _send_error(protocol, msg_id if isinstance(msg_id, (int, str)) else None, INVALID_REQUEST,
                    "Invalid Request: method must be a string")
        return
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except JsonRpcException as exc:
        log.warning("cannot structure %s: %s", raw.get("method"), exc)
        if is_request:
            _send_error(protocol, msg_id, INVALID_PARAMS, f"Invalid params for {raw.get('method')}")
        return
    except Exception as exc:  # pragma: no cover - pygls wraps errors itself
        log.exception("cannot structure message")
        if is_request:
            _send_error(protocol, msg_id, INVALID_PARAMS, f"Invalid params: {exc}")
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("error handling %s", raw.get("method"))
        if is_request:
            _send_error(protocol, msg_id, -32603, "Internal error")


async def read_loop(protocol, readline: ReadLine, readexactly: ReadExactly, stop: threading.Event) -> None:
    """Read frames until EOF or `stop`; never raises for malformed input."""
    while not stop.is_set():
        content_length: int | None = None
        bad_header = False
        saw_header = False
        long_line = False  # inside a header line longer than MAX_HEADER_LINE
        while True:
            line = await readline(MAX_HEADER_LINE)
            if not line:
                return  # EOF
            # After a dropped frame (or junk) its bytes run straight into the next frame's header:
            # a new frame starts there, whatever came before.
            at = line.find(b"Content-Length:")
            if at > 0:
                line, content_length, bad_header, long_line = line[at:], None, False, False
            if long_line or not line.endswith(b"\n") or len(line) > MAX_HEADER_LINE:
                # A header line longer than any real one (read whole, or in pieces beyond the
                # reader's buffer): skip it to its end. An unknown header is ignored as a short one
                # would be; an overlong Content-Length spoils its frame.
                if not long_line and line.lstrip().lower().startswith(b"content-length"):
                    bad_header = True
                long_line = not line.endswith(b"\n")
                saw_header = True
                continue
            stripped = line.strip()
            if not stripped:
                if saw_header:
                    break
                continue  # stray blank lines between frames
            saw_header = True
            name, _, value = stripped.partition(b":")
            if name.strip().lower() == b"content-length":
                value = value.strip()
                if value.isdigit() and int(value) <= MAX_CONTENT_LENGTH:
                    content_length = int(value)
                else:
                    bad_header = True
        if content_length is None or bad_header:
            log.warning("dropping a frame with a missing, invalid or oversized Content-Length")
            _send_error(protocol, None, PARSE_ERROR,
                        f"Parse error: Content-Length missing, invalid or above {MAX_CONTENT_LENGTH} bytes")
            continue  # resynchronise: the body is read as (ignored) header lines
        body = await readexactly(content_length)
        if len(body) < content_length:
            return  # EOF in the middle of a body
        dispatch(protocol, body)


def stdin_stream_reader(stream, loop: asyncio.AbstractEventLoop) -> asyncio.StreamReader:
    """An asyncio.StreamReader fed from a blocking binary stream by a daemon thread.

    A daemon thread (not the loop's executor) so that exiting never waits on a blocked read.
    """
    reader = asyncio.StreamReader(limit=MAX_LINE_BUFFER, loop=loop)

    def pump() -> None:
        try:
            # os.read on the file descriptor: no Python-level buffer lock that a blocked read
            # would hold while the interpreter shuts down.
            fd = stream.fileno()
            while chunk := os.read(fd, 1 << 16):
                loop.call_soon_threadsafe(reader.feed_data, chunk)
        except (OSError, ValueError):
            pass
        finally:
            try:
                loop.call_soon_threadsafe(reader.feed_eof)
            except RuntimeError:  # the loop is already closed
                pass

    threading.Thread(target=pump, name="stdin-reader", daemon=True).start()
    return reader


class StreamReaderAdapter:
    """asyncio.StreamReader with the same interface (TCP)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def readline(self, limit: int) -> bytes:
        try:
            return await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            return exc.partial
        except asyncio.LimitOverrunError as exc:
            return await self.reader.read(exc.consumed or limit)

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial
