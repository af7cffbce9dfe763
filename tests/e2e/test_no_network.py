"""No network, proven: the embedded server and its model worker hold no inet socket (TCP, UDP or
raw, IPv4 or IPv6) at any moment from `initialize` to `exit`, sampled every 20 ms from /proc while
the session loads the model, syncs a document and serves completions and code actions.

(Unix sockets are allowed: asyncio's self-pipe is one.) The sampler is checked on a socket of the
test's own, so that a broken sampler cannot pass the test by seeing nothing.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

from lsprotocol import types

from tests.support.lsp import start_server
from tests.support.procs import descendants

NET_TABLES = ("tcp", "tcp6", "udp", "udp6", "raw", "raw6")


def inet_inodes() -> set[str]:
    """Inodes of every inet socket in this network namespace."""
    inodes: set[str] = set()
    for table in NET_TABLES:
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        inodes.update(line.split()[9] for line in lines if len(line.split()) > 9)
    return inodes


def inet_sockets_of(pids: set[int]) -> set[tuple[int, str]]:
    inet = inet_inodes()
    held = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if (m := re.fullmatch(r"socket:\[(\d+)\]", target)) and m.group(1) in inet:
                held.add((pid, target))
    return held


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.seen_pids, self.inet = pid, set(), set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = descendants(self.pid)
            self.seen_pids |= pids
            self.inet |= inet_sockets_of(pids)
            self.samples += 1
            self._stop.wait(0.02)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_the_sampler_sees_an_inet_socket():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert inet_sockets_of({os.getpid()})


async def test_the_embedded_server_and_worker_open_no_inet_socket(tiny_model_path):
    uri = "file:///tmp/no_network.py"
    async with start_server(tiny_model_path) as session:
        # from just after `initialize` until the process has exited (after shutdown and exit)
        sampler = Sampler(session.client._server.pid).__enter__()
        await session.wait_status("ready", timeout=60)
        session.open(uri, "def add(a, b):\n    return \n")
        await session.inline(uri, 1, 11)
        await session.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(0, 0), types.Position(1, 0)),
            context=types.CodeActionContext(diagnostics=[])))
        await session.status()
    sampler.__exit__()
    assert len(sampler.seen_pids) >= 2, "the sampler never saw the model worker"
    assert sampler.samples > 5
    assert sampler.inet == set()
