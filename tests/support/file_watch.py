"""Which files a process opens or reads in a folder, seen by the kernel (inotify): proof that a
server did not read a file, whatever path or link led to it. Linux only (ctypes on libc)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from pathlib import Path

IN_ACCESS, IN_MODIFY, IN_OPEN = 0x1, 0x2, 0x20
IN_NONBLOCK = 0o4000
_EVENT = struct.Struct("iIII")


class FolderWatch:
    """inotify on one folder: `touched()` names the files opened, read or written since it began."""

    def __init__(self, folder: Path) -> None:
        self._libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self._libc.inotify_init1(IN_NONBLOCK)
        assert self.fd >= 0, "inotify is not available"
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_ACCESS | IN_MODIFY | IN_OPEN)
        assert wd >= 0, f"cannot watch {folder}"

    def touched(self) -> set[str]:
        names: set[str] = set()
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return names
            at = 0
            while at < len(data):
                _, _, _, length = _EVENT.unpack_from(data, at)
                names.add(data[at + _EVENT.size: at + _EVENT.size + length].rstrip(b"\0").decode() or ".")
                at += _EVENT.size + length

    def close(self) -> None:
        os.close(self.fd)
