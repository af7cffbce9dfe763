"""The real server process computes the prompt of the place the editor shows before the user types
there (tiny generated model): a code action request (VS Code asks at every cursor move) or the
`localLlm/cursor` notification (the Neovim client) starts a prefill, and the first suggestion
there finds its full window computed; `prefill: false` turns it off; malformed hints are ignored.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server.worker.prompts import SMALL_PREFIX_TOKENS
from tests.support.lsp import start_server

URI = "file:///tmp/prefill_example.py"
TEXT = "".join(f"def f{i}(x):\n    y = x * {i} + {i * 7}\n    return y - {i}\n\n\n" for i in range(60)) + \
    "def h(x):\n    \n" + "\n\nprint(f1(2))\n" * 20
LINE = 301  # the empty line in h's body


async def warmed(s, at_least: int = 1, timeout: float = 60.0) -> int:
    async def wait() -> int:
        while (n := (await s.status()).get("worker", {}).get("warmed_tokens", 0)) < at_least:
            await asyncio.sleep(0.2)
        return n
    return await asyncio.wait_for(wait(), timeout)


async def first_suggestion_stats(s) -> dict:
    await s.inline(URI, LINE, 4)
    history = (await s.status())["history"]
    return next(h for h in reversed(history) if h["outcome"] in ("ok", "empty"))


def code_action(s, line: int):
    return s.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(URI), range=types.Range(types.Position(line, 4), types.Position(line, 4)),
        context=types.CodeActionContext(diagnostics=[])))


async def test_a_code_action_request_prefills_the_place_it_asks_about(tiny_model_path):
    assert TEXT.splitlines()[LINE] == "    "
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(URI, TEXT)
        await code_action(s, LINE)
        assert await warmed(s) > SMALL_PREFIX_TOKENS
        stats = await first_suggestion_stats(s)
        assert not stats.get("small_window") and stats["prefix_window_tokens"] > SMALL_PREFIX_TOKENS
        assert stats["evaluated_tokens"] <= 2 + stats["generated_tokens"]


async def test_the_cursor_notification_prefills_and_malformed_ones_are_ignored(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(URI, TEXT)
        for bad in ({}, {"textDocument": {"uri": URI}}, {"textDocument": {"uri": 3}, "position": {"line": 1, "character": 0}},
                    {"textDocument": {"uri": URI}, "position": {"line": -1, "character": 0}}, [1, 2], "x",
                    {"textDocument": {"uri": "file:///never/opened.py"}, "position": {"line": 0, "character": 0}}):
            s.client.protocol.notify("localLlm/cursor", bad)
        s.client.protocol.notify("localLlm/cursor", {"textDocument": {"uri": URI}, "position": {"line": LINE, "character": 4}})
        assert await warmed(s) > SMALL_PREFIX_TOKENS
        stats = await first_suggestion_stats(s)
        assert not stats.get("small_window") and stats["evaluated_tokens"] <= 2 + stats["generated_tokens"]


async def test_without_prefill_the_first_suggestion_uses_the_small_window(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"prefill": False}) as s:
        await s.wait_status("ready")
        s.open(URI, TEXT)
        await code_action(s, LINE)
        await asyncio.sleep(1.0)
        assert (await s.status())["worker"]["warmed_tokens"] == 0
        stats = await first_suggestion_stats(s)
        assert stats["small_window"] and stats["prefix_window_tokens"] <= SMALL_PREFIX_TOKENS
        # and the full window is computed after it, while idle
        assert await warmed(s) > SMALL_PREFIX_TOKENS


async def test_a_place_shown_while_the_model_loads_is_prefilled_however_long_the_load(tiny_model_path):
    # waitForModelMs bounds how long a *request* waits for the model; the cursor resting somewhere
    # while the model loads is not a request, and says nothing again once the model is ready
    async with start_server(tiny_model_path, init_options={"waitForModelMs": 0}) as s:
        s.open(URI, TEXT)
        s.client.protocol.notify("localLlm/cursor", {"textDocument": {"uri": URI}, "position": {"line": LINE, "character": 4}})
        await asyncio.sleep(0)
        assert [st["state"] for st in s.statuses] in ([], ["loading"]), "the model was ready too soon to test this"
        await s.wait_status("ready")
        assert await warmed(s) > SMALL_PREFIX_TOKENS
