"""The processes of a server under test, read from /proc: the server and its children (the model
worker), so that tests can watch or kill them."""

from __future__ import annotations

from pathlib import Path


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc/*/stat."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[int(stat.parent.name)] = int(fields[1])
    return out


def descendants(pid: int) -> set[int]:
    """The process and all its children, grandchildren, ..."""
    parents = _parents()
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p not in found:
            found.add(p)
            todo += [child for child, parent in parents.items() if parent == p]
    return found


def worker_pid(server_pid: int) -> int | None:
    """The model worker: the server's child process running `lsp_server.worker`."""
    for pid in descendants(server_pid) - {server_pid}:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"lsp_server.worker" in cmdline:
            return pid
    return None
