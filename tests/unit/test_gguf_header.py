"""Reading a GGUF header's architecture without llama.cpp: the value when the file says it, None for
anything else (table-driven over generated files)."""

from __future__ import annotations

import struct

import pytest

from lsp_server.worker.gguf_header import gguf_string
from tests.support.tiny_gguf import write_tiny_qwen2


def _header(*pairs: bytes, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, 0, len(pairs)) + b"".join(pairs)


def _s(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _kv_str(key: str, value: str) -> bytes:
    return _s(key) + struct.pack("<I", 8) + _s(value)


@pytest.mark.parametrize("data, expected", [
    (_header(_kv_str("general.architecture", "qwen2")), "qwen2"),
    (_header(_s("n") + struct.pack("<II", 4, 7), _kv_str("general.architecture", "x")), "x"),  # after a u32
    (_header(_s("a") + struct.pack("<IIQ", 9, 4, 3) + b"\0" * 12, _kv_str("general.architecture", "y")), "y"),  # array
    (_header(_s("a") + struct.pack("<IIQ", 9, 8, 2) + _s("p") + _s("q"), _kv_str("general.architecture", "z")), "z"),
    (_header(_s("general.architecture") + struct.pack("<II", 4, 1)), None),  # not a string
    (_header(_s("x") + struct.pack("<I", 99)), None),  # unknown type
    (_header(struct.pack("<Q", 1 << 40)), None),  # absurd key length
    (_header(_kv_str("general.architecture", "old"), version=1), None),
    (b"GGUF", None),
    (b"", None),
    (b"\0" * 100, None),
])
def test_gguf_string(tmp_path, data, expected):
    path = tmp_path / "m.gguf"
    path.write_bytes(data)
    assert gguf_string(path, "general.architecture") == expected


def test_a_written_model_and_a_folder(tmp_path):
    assert gguf_string(write_tiny_qwen2(tmp_path / "t.gguf", arch="llama"), "general.architecture") == "llama"
    assert gguf_string(tmp_path, "general.architecture") is None
