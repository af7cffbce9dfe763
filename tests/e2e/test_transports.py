"""The listening transports, on the real server process: `--socket PATH` (a Unix socket only its
user can open: mode 0600, never wider; a stale socket is replaced, anything else at the path is
left alone) and `--tcp PORT` (loopback only, and only for a client whose first message is an
`initialize` carrying the token: no token configured, no server; a missing or wrong token, or any
other first message, and the connection is closed unanswered while the server keeps listening)."""

from __future__ import annotations

import os
import select
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.raw_server import ROOT, RawSocket, frame

TOKEN = "s3cret-token-for-the-test-0123456789"


class Listening:
    """`python -m lsp_server serve ...` with stderr read for its 'listening on' line."""

    def __init__(self, model: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "lsp_server", "--log-level", "INFO", "serve",
                                      "--model", str(model), *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     cwd=ROOT, env={**os.environ, **(env or {})})
        self.log = b""

    def read_log(self, until: bytes | None = None, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while (until is None or until not in self.log) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.1)
            if ready:
                chunk = os.read(self.proc.stderr.fileno(), 65536)
                if not chunk:
                    break
                self.log += chunk
            elif until is None:
                break
        return self.log.decode(errors="replace")

    def end(self) -> int:
        try:
            return self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def _initialize(options: dict | None) -> bytes:
    params = {"capabilities": {}, **({"initializationOptions": options} if options is not None else {})}
    return frame({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})


def _serve_and_close(conn: RawSocket) -> None:
    conn.wait_ready()
    conn.still_answers("after-ready")
    conn.send(frame({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"}))
    conn.reply_to("bye")
    conn.send(frame({"jsonrpc": "2.0", "method": "exit"}))


# -- Unix socket -----------------------------------------------------------------------------------

def _connect_unix(path: Path, timeout: float = 30.0) -> RawSocket:
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            return RawSocket(sock)
        except OSError:
            sock.close()
            assert time.monotonic() < deadline, "the server did not listen on its socket"
            time.sleep(0.05)


def test_unix_socket_is_user_only_and_serves(tiny_model_path, tmp_path):
    path = tmp_path / "lsp.sock"
    server = Listening(tiny_model_path, "--socket", str(path))
    try:
        conn = _connect_unix(path)
        st = os.lstat(path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        conn.initialize()
        _serve_and_close(conn)
        assert server.end() == 0
        assert not path.exists(), "the socket file is removed when the server ends"
    finally:
        server.end()


def test_a_stale_socket_is_replaced(tiny_model_path, tmp_path):
    path = tmp_path / "lsp.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # its file stays, with no server behind it
    server = Listening(tiny_model_path, "--socket", str(path))
    try:
        conn = _connect_unix(path)
        conn.initialize()
        _serve_and_close(conn)
    finally:
        server.end()


@pytest.mark.parametrize("kind", ["regular-file", "symlink", "folder", "live-socket"])
def test_anything_else_at_the_socket_path_is_left_alone(tiny_model_path, tmp_path, kind):
    path = tmp_path / "lsp.sock"
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    live = None
    if kind == "regular-file":
        path.write_text("keep me too")
    elif kind == "symlink":
        path.symlink_to(target)
    elif kind == "folder":
        path.mkdir()
    else:
        live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        live.bind(str(path))
        live.listen(1)
    before = os.lstat(path)
    server = Listening(tiny_model_path, "--socket", str(path))
    try:
        assert server.end() != 0
        log = server.read_log()
        assert str(path) in log and ("left alone" in log or "another server is listening" in log)
        after = os.lstat(path)
        assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
        assert target.read_text() == "keep me"
        if kind == "regular-file":
            assert path.read_text() == "keep me too"
    finally:
        server.end()
        if live is not None:
            live.close()


# -- TCP with a token ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connect_tcp(port: int) -> RawSocket:
    return RawSocket(socket.create_connection(("127.0.0.1", port), timeout=10))


def test_tcp_without_a_token_does_not_start(tiny_model_path):
    env = {k: v for k, v in os.environ.items() if k != "LOCAL_LLM_LSP_TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "lsp_server", "serve", "--model", str(tiny_model_path),
                           "--tcp", str(_free_port())], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "LOCAL_LLM_LSP_TOKEN" in proc.stderr and "--token-file" in proc.stderr
    assert "listening" not in proc.stderr


def test_tcp_refuses_a_token_file_others_can_read(tiny_model_path, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o644)
    proc = subprocess.run([sys.executable, "-m", "lsp_server", "serve", "--model", str(tiny_model_path),
                           "--tcp", str(_free_port()), "--token-file", str(token_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "can be read by others" in proc.stderr and f"chmod 600 {token_file}" in proc.stderr
    assert TOKEN not in proc.stderr


@pytest.mark.parametrize("source", ["env", "file"])
def test_tcp_serves_only_a_client_with_the_token(tiny_model_path, tmp_path, source):
    port = _free_port()
    if source == "env":
        server = Listening(tiny_model_path, "--tcp", str(port), env={"LOCAL_LLM_LSP_TOKEN": TOKEN})
    else:
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        server = Listening(tiny_model_path, "--tcp", str(port), "--token-file", str(token_file))
    try:
        server.read_log(until=b"listening on")
        refused = {
            "no token": _initialize(None),
            "no authToken": _initialize({"maxTokens": 8}),
            "wrong token": _initialize({"authToken": TOKEN[:-1] + "X"}),
            "token of another type": _initialize({"authToken": [TOKEN]}),
            "another message first": frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                "textDocument": {"uri": "file:///w/a.py", "languageId": "python", "version": 1, "text": "x = 1\n"}}}),
            "garbage": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        }
        for case, data in refused.items():
            conn = _connect_tcp(port)
            conn.send(data)
            assert conn.closed_by_server(), f"{case}: the connection was not closed"
            conn.sock.close()
        conn = _connect_tcp(port)  # the server still listens, and serves the right token
        conn.initialize({"authToken": TOKEN})
        _serve_and_close(conn)
        assert server.end() == 0
        log = server.read_log()
        assert log.count("refused a connection") == len(refused)
        assert TOKEN not in log and TOKEN[:-1] not in log
    finally:
        server.end()
