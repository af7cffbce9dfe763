"""End to end: the real server process over stdio, the real llama.cpp, a tiny generated model."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.lsp import start_server

URI = "file:///work/example.py"
PY = "def add(a, b):\n    return \n"


async def test_initialize_advertises_features(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        status = await s.wait_status("ready")
        assert "ready" in status["message"]
        info = await s.status()
        assert info["template"] == "qwen2.5-coder"


async def test_capabilities_and_position_encoding(tiny_model_path):
    from pytest_lsp import client_capabilities

    caps = client_capabilities("visual-studio-code")
    caps.general = types.GeneralClientCapabilities(
        position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
    )
    async with start_server(tiny_model_path, capabilities=caps) as s:
        sc = s.init_result.capabilities
        assert sc.inline_completion_provider is not None
        assert sc.completion_provider is not None
        assert sc.position_encoding == types.PositionEncodingKind.Utf8
        sync = sc.text_document_sync
        assert getattr(sync, "change", sync) == types.TextDocumentSyncKind.Incremental


async def test_inline_completion_after_edits(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(URI, "def add(a, b):\n    ret\n")
        s.change(URI, "urn ", (1, 7))  # the user types: "    return "
        items = await s.inline(URI, 1, 11)
        assert len(items) == 1
        item = items[0]
        assert item.insert_text and "\n" not in item.insert_text  # one line: the gate says "rest of line"
        assert item.range.start == types.Position(1, 11)
        counters = (await s.status())["counters"]
        assert counters["model_calls"] - counters["precomputed"] == 1


async def test_a_request_made_while_the_model_loads_is_answered_when_it_is_ready(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        s.open(URI, PY)
        pending = asyncio.ensure_future(s.inline(URI, 1, 11))  # typed at once, before the model is ready
        await asyncio.sleep(0)
        assert [st["state"] for st in s.statuses] in ([], ["loading"]), "the model was ready too soon to test this"
        items = await pending
        assert len(items) == 1 and items[0].insert_text
        counters = (await s.status())["counters"]
        assert counters["unavailable"] == 0 and counters["model_calls"] - counters["precomputed"] == 1


async def test_a_request_waits_for_the_model_no_longer_than_wait_for_model_ms(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"waitForModelMs": 0}) as s:
        s.open(URI, PY)
        assert await s.inline(URI, 1, 11) == []
        await s.wait_status("ready")
        assert (await s.status())["counters"]["unavailable"] == 1


async def test_empty_line_after_a_block_opener_gets_the_body_indentation(tiny_model_path):
    # the cursor at column 0 of the missing body: the tiny model, left alone, writes an
    # identifier at column 0 (which the parse check would refuse); held to the indentation the
    # `if` requires it writes the body there
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(URI, "def f(x):\n    if x:\n\n    return 1\n")
        items = await s.inline(URI, 2, 0)
        assert len(items) == 1
        text = items[0].insert_text
        assert text.startswith(" " * 8) and not text[8:9].isspace(), repr(text)


async def test_completion_fallback_gives_one_item(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(URI, "def add(a, b):\n    return ab\n")
        result = await s.client.text_document_completion_async(
            types.CompletionParams(text_document=types.TextDocumentIdentifier(URI), position=types.Position(1, 13))
        )
        items = result.items if isinstance(result, types.CompletionList) else result
        assert len(items) == 1
        edit = items[0].text_edit
        # The item replaces the word before the cursor with that word plus the suggestion.
        assert edit.range.start == types.Position(1, 11) and edit.range.end == types.Position(1, 13)
        assert edit.new_text.startswith("ab") and len(edit.new_text) > 2
        assert items[0].filter_text == edit.new_text


async def test_unopened_document_is_answered_empty_and_not_read(tiny_model_path, tmp_path):
    on_disk = tmp_path / "secret.py"
    on_disk.write_text("def add(a, b):\n    return \n")
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        assert await s.inline(on_disk.as_uri(), 1, 11) == []
        counters = (await s.status())["counters"]
        assert counters["model_calls"] == 0


async def test_gated_positions_do_not_call_the_model(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(URI, "def add(a, b):\n    return total_sum\n")
        assert await s.inline(URI, 1, 14) == []  # inside an identifier
        assert (await s.status())["counters"]["model_calls"] == 0


async def test_typing_the_suggestion_reuses_it(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"precomputeNext": False}) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        first = (await s.inline(URI, 1, 11))[0].insert_text
        assert len(first) > 2
        s.change(URI, first[:2], (1, 11))
        second = await s.inline(URI, 1, 13)
        assert second[0].insert_text == first[2:]
        counters = (await s.status())["counters"]
        assert counters["model_calls"] == 1 and counters["reused"] == 1


async def test_accepting_a_suggestion_serves_the_precomputed_next_one(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"maxTokens": 6, "precomputeNext": True}) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        first = (await s.inline(URI, 1, 11))[0].insert_text
        for _ in range(100):  # the next suggestion is computed while the user reads this one
            if any(h["outcome"] == "precomputed" for h in (await s.status())["history"]):
                break
            await asyncio.sleep(0.1)
        s.change(URI, first, (1, 11))  # the user accepts it
        calls = (await s.status())["counters"]["model_calls"]
        items = await s.inline(URI, 1, 11 + len(first))
        status = await s.status()
        assert items and status["counters"]["reused"] == 1
        assert status["counters"]["model_calls"] == calls  # served without the model


async def test_moved_suffix_is_recomputed_while_the_user_pauses(tiny_model_path):
    body = "def total(values):\n    result = 0\n    for v in values:\n        \n    return result\n" + "\nprint(total([1, 2, 3]))\n" * 4
    async with start_server(tiny_model_path, init_options={"precomputeNext": False}) as s:
        await s.wait_status("ready")
        s.open(URI, body)
        await s.inline(URI, 3, 8)
        s.change(URI, "res", (3, 8))  # typed in front of the suffix: its KV entries are moved
        await s.inline(URI, 3, 11)
        history = (await s.status())["history"]
        assert history[-1]["shifted_tokens"] > 0
        for _ in range(600):  # idle: the worker recomputes the moved entries in small batches
            if (await s.status())["worker"]["refreshed_tokens"] > 0:
                break
            await asyncio.sleep(0.05)
        assert (await s.status())["worker"]["refreshed_tokens"] >= history[-1]["shifted_tokens"] - 1


async def test_stale_result_is_dropped(slow_model_path):
    async with start_server(slow_model_path, init_options={"maxTokens": 64, "latencyTargetMs": 0}) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        pending = asyncio.ensure_future(s.inline(URI, 1, 11))
        await asyncio.sleep(0.05)
        s.change(URI, "\n", (2, 0))  # the document moves on while the model works
        assert await pending == []
        counters = (await s.status())["counters"]
        assert counters["stale_dropped"] + counters["cancelled"] >= 1


async def test_newer_request_for_same_document_supersedes_older(slow_model_path):
    # The older request could run for 2000 tokens; the latency budget bounds the newer one's work
    # to about 3 s of generation (measured on the older one), whatever the machine's speed.
    async with start_server(slow_model_path, init_options={"maxTokens": 2000, "latencyTargetMs": 3000}) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        older = asyncio.ensure_future(s.inline(URI, 1, 11))
        await asyncio.sleep(0.5)
        s.change(URI, "a", (1, 11))
        newer = asyncio.ensure_future(s.inline(URI, 1, 12))
        assert await older == []  # stopped in the worker, answered empty
        items = await asyncio.wait_for(newer, 120)
        assert len(items) == 1
        status = await s.status()
        assert status["counters"]["cancelled"] >= 1
        assert status["worker"]["cancelled_jobs"] >= 1


async def test_cancel_request_stops_generation(slow_model_path):
    async with start_server(slow_model_path, init_options={"maxTokens": 3000}) as s:
        await s.wait_status("ready")
        s.open(URI, PY)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(URI),
            position=types.Position(1, 11),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
        fut = asyncio.ensure_future(
            s.client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="to-cancel")
        )
        await asyncio.sleep(1.0)
        s.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(fut, 30)
        assert "cancel" in str(err.value).lower()
        # The worker stopped between tokens: it answers a new request instead of running to 3000 tokens.
        t0 = time.monotonic()
        while (await s.status())["worker"]["cancelled_jobs"] < 1:
            assert time.monotonic() - t0 < 20, "the worker did not stop the cancelled generation"
            await asyncio.sleep(0.1)
        # ... and far fewer than 3000 tokens were generated for it.
        assert (await s.status())["worker"]["cancelled_generated_tokens"] < 1000


def _inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(line, character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    )


# Two documents whose prompts are the same (same text, same last two path components): the
# first shows what the model writes at the cursor, the second is typed in.
SEEN = "file:///a/work/example.py"
TYPED = "file:///b/work/example.py"


@pytest.mark.parametrize("agrees", [True, False])
async def test_a_cancelled_job_is_followed_while_the_user_types_what_it_writes(slow_model_path, agrees):
    async with start_server(slow_model_path, init_options={"maxTokens": 512, "latencyTargetMs": 0}) as s:
        await s.wait_status("ready")
        s.open(SEEN, PY)
        t0 = time.monotonic()
        full = (await s.inline(SEEN, 1, 11))[0].insert_text
        assert len(full) > 3 and time.monotonic() - t0 > 0.2  # long enough to be cancelled mid-way
        s.open(TYPED, PY)
        first = asyncio.ensure_future(
            s.client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, _inline_params(TYPED, 1, 11), msg_id="first")
        )
        await asyncio.sleep(0.05)
        # the editor cancels the request and sends the keystrokes
        s.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="first"))
        typed = full[:2] if agrees else "(" + full[0]
        s.change(TYPED, typed, (1, 11))
        with pytest.raises(JsonRpcException):
            await asyncio.wait_for(first, 30)
        items = await s.inline(TYPED, 1, 11 + len(typed))
        status = await s.status()
        counters = status["counters"]
        assert counters["followed"] == 1
        if agrees:
            # the job went on and its result, without what was typed, answers the next request
            assert [i.insert_text for i in items] == [full[2:]]
            assert counters["followed_used"] == 1
            assert counters["model_calls"] == 2
        else:
            # it stopped at the first keystroke it disagreed with; the next request asked the model
            assert counters["followed_used"] == 0
            assert counters["model_calls"] == 3
            assert status["worker"]["cancelled_jobs"] >= 1


async def test_shutdown_and_exit(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        proc = s.client._server
    assert proc.returncode == 0


async def test_a_followed_job_stops_when_a_request_comes_from_elsewhere(slow_model_path):
    """The user typed on at a followed job's cursor, then asked for a suggestion somewhere else
    (the cursor moved): the job's text is of no use there, so it stops instead of running on
    ahead of the new request's job."""
    async with start_server(slow_model_path, init_options={"maxTokens": 512, "latencyTargetMs": 0}) as s:
        await s.wait_status("ready")
        s.open(SEEN, PY)
        full = (await s.inline(SEEN, 1, 11))[0].insert_text
        assert len(full) > 3
        s.open(TYPED, PY)
        first = asyncio.ensure_future(
            s.client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, _inline_params(TYPED, 1, 11), msg_id="first")
        )
        await asyncio.sleep(0.05)
        s.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="first"))
        s.change(TYPED, full[:2], (1, 11))  # typed what it writes: followed
        with pytest.raises(JsonRpcException):
            await asyncio.wait_for(first, 30)
        assert (await s.status())["counters"]["followed"] == 1
        await s.inline(TYPED, 2, 0)  # the empty last line: elsewhere
        status = await s.status()
        assert status["counters"]["followed_used"] == 0
        assert status["worker"]["cancelled_jobs"] >= 1  # the followed job was stopped
