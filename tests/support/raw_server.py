"""The real server process driven with raw bytes over stdio, for frames no LSP client would send.

pytest-lsp's client cannot send malformed messages; this writes bytes as given and reads framed
replies with a timeout (`RawSocket`: the same over a Unix or TCP socket). Used by the bad-input tests and the framing fuzz (test and benchmark).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def frame(obj) -> bytes:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawConnection:
    """Raw bytes to a server, framed replies read back with a timeout: `send` and `_input` (the
    file object replies are read from) are the transport's."""

    buf = b""

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def _input(self):
        raise NotImplementedError

    def _exited(self) -> str:
        return "the connection was closed"

    def read_message(self, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
                if len(rest) >= length:
                    self.buf = rest[length:]
                    return json.loads(rest[:length])
            left = deadline - time.monotonic()
            assert left > 0, "no reply from the server"
            ready, _, _ = select.select([self._input()], [], [], left)
            if ready:
                chunk = os.read(self._input().fileno(), 65536)
                assert chunk, self._exited()
                self.buf += chunk

    def reply_to(self, msg_id, timeout: float = 20.0) -> dict:
        while True:
            msg = self.read_message(timeout)
            if msg.get("id") == msg_id and "method" not in msg:
                return msg

    def initialize(self, options: dict | None = None) -> None:
        params = {"capabilities": {}, **({"initializationOptions": options} if options is not None else {})}
        self.send(frame({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}))
        assert "result" in self.reply_to(0)
        self.send(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Ask for the status until the model is ready."""
        deadline = time.monotonic() + timeout
        n = 0
        while True:
            n += 1
            self.send(frame({"jsonrpc": "2.0", "id": f"ready-{n}", "method": "workspace/executeCommand",
                             "params": {"command": "localLlm.status", "arguments": []}}))
            state = self.reply_to(f"ready-{n}")["result"]["state"]
            assert state != "error", "the model failed to load"
            if state == "ready":
                return
            assert time.monotonic() < deadline, "the model did not load in time"
            time.sleep(0.1)

    def still_answers(self, msg_id) -> None:
        self.send(frame({"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand",
                         "params": {"command": "localLlm.status", "arguments": []}}))
        reply = self.reply_to(msg_id)
        assert "result" in reply and reply["result"]["state"] in ("loading", "ready", "error")



class RawSocket(RawConnection):
    """A connection to a server listening on a socket (Unix or TCP)."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _input(self):
        return self.sock

    def closed_by_server(self, timeout: float = 15.0) -> bool:
        """True when the server closes the connection (EOF or reset) within `timeout`, having sent nothing."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False


class RawServer(RawConnection):
    """The server process driven with raw bytes over stdio."""

    def __init__(self, model: Path | str | None, *args: str, stderr=subprocess.DEVNULL) -> None:
        """`model`: a GGUF file, or None for the bundled model (`args` may add `--small`); `stderr`:
        where the server's (and its worker's) stderr goes."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lsp_server", *(["--model", str(model)] if model else []), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT,
        )
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _input(self):
        return self.proc.stdout

    def _exited(self) -> str:
        return f"server exited (code {self.proc.poll()})"

    def close(self) -> None:
        try:
            self.send(frame({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"}))
            self.reply_to("bye")
            self.send(frame({"jsonrpc": "2.0", "method": "exit"}))
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
