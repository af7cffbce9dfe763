"""Assembling a bundled model when the disk fills up: a clear ModelError, no file left that looks
complete (neither the model's name nor a half-written part), and a retry with room works. The
chunk packages are fakes on a temporary sys.path; the full disk is a file size limit
(RLIMIT_FSIZE, with SIGXFSZ ignored: writes fail as on a full disk) in a child process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lsp_server import bundled
from lsp_server.bundled import BundledModel, ModelError, ensure_assembled, is_verified

ROOT = Path(__file__).resolve().parents[2]
PART = 200_000


@pytest.fixture
def fake(tmp_path, monkeypatch) -> BundledModel:
    data = b""
    for n in (1, 2, 3):
        pkg = tmp_path / "pkgs" / f"fakechunk{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        part = bytes([n]) * PART
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(part)
        data += part
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    monkeypatch.setenv("LOCAL_LLM_LSP_CACHE", str(tmp_path / "cache"))
    return BundledModel(key="small", title="fake", filename="fake.gguf", package="fakechunk", parts=3,
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(), extra="small-model")


def _assemble_with_a_size_limit(model: BundledModel, limit: int, tmp_path: Path) -> subprocess.CompletedProcess:
    script = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(tmp_path / "pkgs")!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from lsp_server.bundled import BundledModel, ModelError, ensure_assembled
        model = BundledModel(**{model.__dict__!r})
        try:
            ensure_assembled(model)
        except ModelError as exc:
            print(exc)
            sys.exit(3)
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _cache_files(tmp_path: Path) -> list[str]:
    cache = tmp_path / "cache"
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_a_full_disk_leaves_nothing_and_a_retry_works(fake, tmp_path):
    proc = _assemble_with_a_size_limit(fake, PART + PART // 2, tmp_path)  # fails in the second chunk
    assert proc.returncode == 3, proc.stderr
    assert "cannot assemble the bundled model 'small'" in proc.stdout and "free there" in proc.stdout
    assert "File too large" in proc.stdout
    assert _cache_files(tmp_path) == []  # no model file, no half-written part
    path = ensure_assembled(fake)  # with room: assembled and verified
    assert path.read_bytes()[:1] == b"\x01" and path.stat().st_size == fake.size
    assert is_verified(fake, path)


def test_too_little_free_space_is_said_before_writing(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(bundled.shutil, "disk_usage", lambda _: type(
        "Usage", (), {"free": 1000, "total": 10**9, "used": 0})())
    with pytest.raises(ModelError, match="only 1,000 bytes are free.*LOCAL_LLM_LSP_CACHE"):
        ensure_assembled(fake)
    assert _cache_files(tmp_path) == []


def test_the_part_of_a_dead_assembly_is_removed(fake, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = cache / f".fake.gguf.{dead.stdout.strip()}.part"
    orphan.write_bytes(b"\x01" * 100)
    ensure_assembled(fake)
    assert _cache_files(tmp_path) == ["fake.gguf", "fake.gguf.verified"]
