"""The Unix domain socket the server listens on (`--socket PATH`): created user-only, removed after.

Owns binding the socket file with mode 0600 (bound under a umask of 0177, so it is never wider,
not even for a moment), replacing a stale socket left by a server that died, and removing the
file when the server ends. It never follows a symlink and never replaces anything that is not a
socket of this user with no server behind it. Must not serve: the server gets a listening socket.
"""

from __future__ import annotations

import os
import socket
import stat


class SocketPathError(Exception):
    """The socket cannot be created at this path: the message says why."""


def _someone_listens(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
        return True
    except OSError:  # refused (a stale socket), or gone
        return False
    finally:
        probe.close()


def bind(path: str) -> tuple[socket.socket, int]:
    """A listening socket at `path` and the inode of its file (for `remove`)."""
    path = os.path.abspath(os.path.expanduser(path))
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISSOCK(st.st_mode):
            kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode) else "not a socket"
            raise SocketPathError(f"{path} exists and is {kind}: it is left alone; choose another path")
        if st.st_uid != os.getuid():
            raise SocketPathError(f"{path} is a socket of another user: it is left alone")
        if _someone_listens(path):
            raise SocketPathError(f"another server is listening on {path}")
        os.unlink(path)  # stale: its server is gone
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)  # bind never follows a symlink: a file created meanwhile makes it fail
    except OSError as exc:
        sock.close()
        raise SocketPathError(f"cannot create the socket {path}: {exc.strerror or exc}") from None
    finally:
        os.umask(old)
    sock.listen(8)
    return sock, os.lstat(path).st_ino


def remove(path: str, inode: int) -> None:
    """Remove the socket file, unless something else took its place."""
    path = os.path.abspath(os.path.expanduser(path))
    try:
        if os.lstat(path).st_ino == inode:
            os.unlink(path)
    except OSError:
        pass
