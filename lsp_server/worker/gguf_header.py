"""Reading one string from a GGUF file's header (its architecture), without llama.cpp.

Owns only this: when llama.cpp refuses a file, the architecture name written in it lets the
message say why (an architecture this llama.cpp does not know). Reads the header's key-value
pairs in order, with limits; any surprise gives None. Must not load models.
"""

from __future__ import annotations

import struct
from pathlib import Path

_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}  # GGUF value type -> size
_STRING, _ARRAY = 8, 9
MAX_PAIRS = 64  # general.architecture comes first in files written by llama.cpp's tools
MAX_LEN = 1 << 20


def gguf_string(path: Path, key: str) -> str | None:
    """The string value of `key` among the header's first pairs, else None."""
    try:
        with path.open("rb") as fh:
            def read(fmt: str):
                data = fh.read(struct.calcsize(fmt))
                if len(data) != struct.calcsize(fmt):
                    raise ValueError("short")
                return struct.unpack("<" + fmt, data)[0]

            def string() -> bytes:
                n = read("Q")
                if n > MAX_LEN:
                    raise ValueError("long")
                return fh.read(n)

            def skip(kind: int) -> None:
                if kind in _SCALAR:
                    fh.seek(_SCALAR[kind], 1)
                elif kind == _STRING:
                    string()
                elif kind == _ARRAY:
                    item, count = read("I"), read("Q")
                    if item in _SCALAR:
                        fh.seek(_SCALAR[item] * count, 1)
                    else:
                        for _ in range(min(count, MAX_LEN)):
                            skip(item)
                else:
                    raise ValueError("type")

            if fh.read(4) != b"GGUF" or read("I") < 2:
                return None
            read("Q")
            pairs = read("Q")
            for _ in range(min(pairs, MAX_PAIRS)):
                name, kind = string(), read("I")
                if name == key.encode() and kind == _STRING:
                    return string().decode("utf-8", "replace")
                skip(kind)
    except (OSError, ValueError, struct.error):
        return None
    return None
