"""The remote backend's failures, through the real server over stdio, against a test double of
the engine (`tests.support.fake_engine.FakeEngine`: a real engine cannot be made to fail on
demand). Each failure gives an empty answer, a status and one `window/showMessage` saying what is
wrong, never a crash; and the server recovers without a restart once the engine works again."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.support.fake_engine import FakeEngine
from tests.support.llama_server import free_port
from tests.support.lsp import start_server

URI = "file:///work/remote.py"
PY = "def add(a, b):\n    return \n"


def options(url: str, **more) -> dict:
    return {"backend": "llama-server", "backendUrl": url, "latencyTargetMs": 0, "backendTimeoutMs": 3000, **more}


async def until_state(s, state: str, timeout: float = 30.0) -> dict:
    """The newest status once it is `state`."""
    deadline = time.monotonic() + timeout
    while not (s.statuses and s.statuses[-1]["state"] == state):
        assert time.monotonic() < deadline, f"status is not {state}: {s.statuses[-3:]}"
        await asyncio.sleep(0.05)
    return s.statuses[-1]


def errors(s) -> list[str]:
    return [m.message for m in s.client.messages if m.type.value == 1]


@pytest.fixture
def fake():
    engine = FakeEngine()
    yield engine
    engine.close()


@pytest.mark.parametrize("mode, words", [
    ("500", "HTTP 500: the fake failed"),
    ("truncated", "truncated stream"),
    ("malformed", "not JSON"),
])
async def test_a_failing_engine_gives_an_empty_answer_a_message_and_recovers(fake, mode, words):
    async with start_server(None, init_options=options(fake.url)) as s:
        await until_state(s, "ready")
        s.open(URI, PY)
        assert await s.inline(URI, 1, 11)  # it works
        fake.mode = mode
        s.change(URI, "x", (1, 11))
        assert await asyncio.wait_for(s.inline(URI, 1, 12), 10) == []
        status = await until_state(s, "error")
        assert words in status["message"]
        assert any(words in m for m in errors(s)), errors(s)
        fake.mode = "ok"
        s.change(URI, "y", (1, 12))
        assert await s.inline(URI, 1, 13)
        await until_state(s, "ready")


async def test_the_engine_down_and_back_on_the_same_address():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with start_server(None, init_options=options(url)) as s:
        status = await until_state(s, "error")  # nobody listens yet
        assert "not reachable" in status["message"]
        engine = FakeEngine(port=port)
        try:
            await until_state(s, "ready", timeout=30)  # loaded again by itself
            s.open(URI, PY)
            assert await s.inline(URI, 1, 11)
            engine.close()  # the engine goes away mid-session
            s.change(URI, "x", (1, 11))
            t0 = time.monotonic()
            assert await s.inline(URI, 1, 12) == []
            assert await s.inline(URI, 1, 12) == []  # known down: answered at once
            assert time.monotonic() - t0 < 5
            assert "not reachable" in (await until_state(s, "error"))["message"]
            engine = FakeEngine(port=port)  # back
            await until_state(s, "ready", timeout=30)
            assert await s.inline(URI, 1, 12)
        finally:
            engine.close()


async def test_a_wrong_key_is_refused_with_a_message_that_does_not_show_the_key():
    engine = FakeEngine(key="right-key")
    try:
        async with start_server(None, init_options=options(engine.url, backendApiKeyEnv="TEAM_KEY"),
                                env={**os.environ, "TEAM_KEY": "wrong-key-123"}) as s:
            status = await until_state(s, "error")
            assert "refused the API key" in status["message"] and "backendApiKeyEnv" in status["message"]
            assert not any("wrong-key-123" in m for m in errors(s) + [status["message"]])
        async with start_server(None, init_options=options(engine.url, backendApiKeyEnv="TEAM_KEY"),
                                env={**os.environ, "TEAM_KEY": "right-key"}) as s:
            await until_state(s, "ready")  # the fake answers 401 to any other key: the key was sent
            s.open(URI, PY)
            assert await s.inline(URI, 1, 11)
    finally:
        engine.close()


async def test_a_model_without_fim_tokens_is_said_so():
    engine = FakeEngine(fim=False)
    try:
        async with start_server(None, init_options=options(engine.url)) as s:
            status = await until_state(s, "error")
            assert "fill-in-the-middle" in status["message"]
    finally:
        engine.close()


async def test_the_openai_dialect_against_the_double(fake):
    async with start_server(None, init_options=options(fake.url, backend="openai", backendModel="fake-coder")) as s:
        await until_state(s, "ready")
        s.open(URI, PY)
        assert await s.inline(URI, 1, 11)
        paths = [p for p, _ in fake.requests]
        assert "/v1/completions" in paths and "/completion" not in paths
        body = next(b for p, b in fake.requests if p == "/v1/completions")
        assert body["model"] == "fake-coder" and all(isinstance(t, int) for t in body["prompt"])
    async with start_server(None, init_options=options(fake.url, backend="openai", backendModel="no-such")) as s:
        assert "does not serve the model 'no-such'" in (await until_state(s, "error"))["message"]


async def explain(url: str) -> str:
    """`localLlm.explain` of PY through a server on the engine at `url`."""
    from lsprotocol import types

    async with start_server(None, init_options=options(url)) as s:
        await until_state(s, "ready")
        s.open(URI, PY)
        return await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="localLlm.explain", arguments=[{"uri": URI, "range": {"start": {"line": 0, "character": 0},
                                                                          "end": {"line": 1, "character": 11}}}]))


async def test_explain_asks_the_chat_endpoint_with_the_messages(fake):
    assert "hello_world" in await explain(fake.url)
    [body] = [b for p, b in fake.requests if p == "/v1/chat/completions"]
    assert [m["role"] for m in body["messages"]][-1] == "user" and "def add(a, b)" in body["messages"][-1]["content"]
    assert body["stream"] and body["temperature"] == 0.0


async def test_switching_backend_at_runtime_restarts_the_worker(fake, tiny_model_path):
    from lsprotocol import types

    async with start_server(tiny_model_path, init_options={"latencyTargetMs": 0}) as s:
        await until_state(s, "ready")
        s.open(URI, PY)
        assert await s.inline(URI, 1, 11)
        assert not fake.requests
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"localLlm": {"backend": "llama-server", "backendUrl": fake.url}}))
        deadline = time.monotonic() + 30
        while not (s.statuses[-1]["state"] == "ready" and s.statuses[-1]["model"] == f"llama-server at {fake.url}"):
            assert time.monotonic() < deadline, s.statuses[-3:]
            await asyncio.sleep(0.05)
        s.change(URI, "x", (1, 11))
        assert await s.inline(URI, 1, 12)
        assert any(p == "/completion" for p, _ in fake.requests)
