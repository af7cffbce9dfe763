"""End to end: code actions, fixes and explanations through the real server over stdio.

The tiny generated model writes noise (one long identifier), so every fix it proposes must be
refused by the checks; the slow generated model makes explanations long enough to observe
preemption and cancellation; the real-model tier fixes a planted bug with the bundled 1.5B.
"""

from __future__ import annotations

import ast
import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import client_capabilities

from tests.support.lsp import start_server

PY_URI = "file:///work/calc.py"
PY = "import math\n\n\ndef add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n    return a - b\n\n\nprint(add(1, 2))\n"
BUG_LINE = 5
JAVA_URI = "file:///work/Calc.java"
JAVA = "class Calc {\n    int add(int a, int b) {\n        return a - b;\n    }\n}\n"


def rng(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(types.Position(l1, c1), types.Position(l2, c2))


def failing_test(r: types.Range) -> types.Diagnostic:
    return types.Diagnostic(range=r, message="test_add: assert add(1, 2) == 3 (got -1)", source="pytest",
                            severity=types.DiagnosticSeverity.Error)


async def code_actions(s, uri: str, r: types.Range, diagnostics=(), only=None) -> list[types.CodeAction]:
    result = await s.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=r,
        context=types.CodeActionContext(diagnostics=list(diagnostics), only=only)))
    return [as_action(a) for a in result or []]


def as_action(item) -> types.CodeAction:
    """lsprotocol (2025.0.0) reads any code action that carries a command as a bare Command and
    puts the whole action, stringified, in its `command`; undo that here (real clients tell the
    two apart by the type of `command`)."""
    if isinstance(item, types.Command) and item.command.startswith("{"):
        raw = ast.literal_eval(item.command)
        cmd = types.Command(title=raw["title"], command=raw["command"], arguments=raw.get("arguments"))
        return types.CodeAction(title=item.title, command=cmd)
    return item


async def started(s, request) -> tuple[asyncio.Future, object]:
    """Send a request and wait until the server's chat job for it has begun (its cancellable
    `$/progress` began); returns the pending result and the request's id."""
    before = set(s.client.protocol._request_futures)
    chats_before = len(chat_progress(s))
    pending = asyncio.ensure_future(request)

    async def begun() -> None:
        while len(chat_progress(s)) <= chats_before:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(begun(), 30)
    (msg_id,) = set(s.client.protocol._request_futures) - before
    return pending, msg_id


def chat_progress(s) -> list:
    return [r for token, r in s.client.progress_reports.items() if str(token).startswith("local-llm-lsp-chat")]


def cancel_request(s, msg_id) -> None:
    s.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))


async def explain(s, uri: str, r: types.Range):
    return await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="localLlm.explain", arguments=[{"uri": uri, "range": {"start": {"line": r.start.line, "character": r.start.character},
                                                                       "end": {"line": r.end.line, "character": r.end.character}}}]))


def caps_without_resolve() -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    caps.text_document.code_action.resolve_support = None
    return caps


async def test_listing_is_instant_and_offers_the_three_actions(slow_model_path):
    async with start_server(slow_model_path, init_options={"clientShowsExplanations": True}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        bug = rng(BUG_LINE, 4, BUG_LINE, 16)
        t0 = time.monotonic()
        actions = await code_actions(s, PY_URI, bug, [failing_test(bug)])
        first_listing = time.monotonic() - t0
        titles = [a.title for a in actions]
        assert titles == ["Fix with local model", "Fix this function", "Explain this code", "Ask about this code…"]
        fix, rewrite, explain_action, ask_action = actions
        assert ask_action.command.command == "localLlm.ask"  # the client adds the question
        assert ask_action.command.arguments == [{"uri": PY_URI, "range": explain_action.command.arguments[0]["range"]}]
        assert fix.kind == types.CodeActionKind.QuickFix and fix.diagnostics[0].source == "pytest"
        assert rewrite.kind == types.CodeActionKind.RefactorRewrite
        for a in (fix, rewrite):
            assert a.edit is None and a.command is None
            assert a.data["uri"] == PY_URI and a.data["version"] == 1
        assert explain_action.command.command == "localLlm.explain"
        assert explain_action.command.arguments[0]["range"]["start"]["line"] == BUG_LINE  # the selection
        at_cursor = await code_actions(s, PY_URI, rng(BUG_LINE, 6, BUG_LINE, 6))
        explain_at_cursor = next(a for a in at_cursor if a.title == "Explain this code")
        assert "Ask about this code…" not in [a.title for a in at_cursor]  # only on a selection
        assert explain_at_cursor.command.arguments[0]["range"]["start"]["line"] == 3  # the whole function

        # `only` filters by kind.
        assert [a.title for a in await code_actions(s, PY_URI, bug, [failing_test(bug)], only=["quickfix"])] == ["Fix with local model"]

        # While the model is busy with a long explanation, listing still answers at once: it
        # never waits for the model. One explanation on the slow model takes seconds.
        t0 = time.monotonic()
        busy, _ = await started(s, explain(s, PY_URI, rng(3, 0, 5, 16)))
        times = []
        for _ in range(10):
            t1 = time.monotonic()
            await code_actions(s, PY_URI, bug, [failing_test(bug)])
            times.append(time.monotonic() - t1)
        assert not busy.done(), "the explanation should still be running"
        markdown = await asyncio.wait_for(busy, 120)
        explanation_time = time.monotonic() - t0
        assert isinstance(markdown, str) and markdown
        assert max(times + [first_listing]) < 0.5
        assert max(times) * 10 < explanation_time


async def test_server_syntax_errors_get_a_fix_action(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(PY_URI, "def add(a, b:\n    return a + b\n")
        actions = await code_actions(s, PY_URI, rng(0, 0, 0, 0))
        fixes = [a for a in actions if a.title == "Fix with local model"]
        assert fixes and fixes[0].diagnostics[0].source == "local-llm-lsp"
        assert "syntax error" in fixes[0].diagnostics[0].message


async def test_noise_that_does_not_parse_is_refused(tiny_model_path):
    """The syntax-break refusal: the tiny model's answer replaces a Java method with an identifier."""
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(JAVA_URI, JAVA, language_id="java")
        bug = rng(2, 8, 2, 21)
        fix = (await code_actions(s, JAVA_URI, bug, [failing_test(bug)]))[0]
        resolved = await s.client.code_action_resolve_async(fix)
        assert resolved.edit is None
        assert resolved.disabled is not None and "does not parse" in resolved.disabled.reason
        await asyncio.sleep(0.2)
        assert any("does not parse" in m.message for m in s.client.messages)


async def test_noise_in_place_of_a_python_function_is_refused(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        rewrite = next(a for a in await code_actions(s, PY_URI, rng(BUG_LINE, 4, BUG_LINE, 4)) if a.title == "Fix this function")
        resolved = await s.client.code_action_resolve_async(rewrite)
        assert resolved.edit is None and resolved.disabled is not None
        assert "not a function" in resolved.disabled.reason or "does not parse" in resolved.disabled.reason


async def test_a_fix_for_an_old_version_is_refused(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        bug = rng(BUG_LINE, 4, BUG_LINE, 16)
        fix = (await code_actions(s, PY_URI, bug, [failing_test(bug)]))[0]
        s.change(PY_URI, "# edited\n", (0, 0))
        resolved = await s.client.code_action_resolve_async(fix)
        assert resolved.edit is None and "changed" in resolved.disabled.reason


async def test_clients_without_resolve_get_the_fix_command(tiny_model_path):
    async with start_server(tiny_model_path, capabilities=caps_without_resolve()) as s:
        await s.wait_status("ready")
        applied = s.record_applied_edits()
        s.open(JAVA_URI, JAVA, language_id="java")
        bug = rng(2, 8, 2, 21)
        result = await s.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(JAVA_URI), range=bug,
            context=types.CodeActionContext(diagnostics=[failing_test(bug)])))
        # pytest-lsp's client reads an action that carries a command as a bare Command (and
        # mangles it), so only its title is checked here; the arguments are the documented ones.
        assert result[0].title == "Fix with local model" and getattr(result[0], "data", None) is None
        args = {"uri": JAVA_URI, "version": 1, "action": "fix",
                "range": {"start": {"line": 2, "character": 8}, "end": {"line": 2, "character": 21}},
                "diagnostic": {"range": {"start": {"line": 2, "character": 8}, "end": {"line": 2, "character": 21}},
                               "message": "test_add fails", "source": "pytest"}}
        result = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="localLlm.fix", arguments=[args]))
        assert result["applied"] is False and "does not parse" in result["message"]
        assert applied == []  # nothing reaches the editor when the checks refuse


async def test_explain_returns_markdown_and_shows_it(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"clientShowsExplanations": False}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        markdown = await explain(s, PY_URI, rng(3, 0, 3, 0))
        assert isinstance(markdown, str) and markdown.strip()
        await asyncio.sleep(0.2)
        assert any(m.message == markdown and m.type == types.MessageType.Info for m in s.client.messages)


async def test_explain_not_shown_when_the_client_shows_it(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"clientShowsExplanations": True}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        markdown = await explain(s, PY_URI, rng(3, 0, 3, 0))
        await asyncio.sleep(0.2)
        assert markdown and not any(m.message == markdown for m in s.client.messages)


async def test_explain_reports_progress(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"clientShowsExplanations": True}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        await explain(s, PY_URI, rng(3, 0, 3, 0))
        reports = [r for token, r in s.client.progress_reports.items() if str(token).startswith("local-llm-lsp-chat")]
        assert reports, s.client.progress_reports
        kinds = [type(v).__name__ for v in reports[0]]
        assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
        assert reports[0][0].cancellable is True


async def test_completion_during_an_explanation_is_answered_first(slow_model_path):
    async with start_server(slow_model_path, init_options={"clientShowsExplanations": True, "maxTokens": 8}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        s.open("file:///work/other.py", "def mul(a, b):\n    return \n")
        done: list[str] = []
        explanation, _ = await started(s, explain(s, PY_URI, rng(3, 0, 5, 16)))
        explanation.add_done_callback(lambda f: done.append("explain"))
        await asyncio.sleep(1.0)  # the explanation is generating
        t0 = time.monotonic()
        items = await s.inline("file:///work/other.py", 1, 11)
        completion_time = time.monotonic() - t0
        done.append("complete")
        assert items, "the completion was answered"
        assert done[0] == "complete", "the completion did not wait for the explanation"
        markdown = await asyncio.wait_for(explanation, 180)
        assert markdown  # the explanation resumed and finished after the completion
        assert completion_time < 30


async def test_cancelling_an_explanation_stops_the_model(slow_model_path):
    async with start_server(slow_model_path, init_options={"clientShowsExplanations": True}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        before = (await s.status()).get("worker", {}).get("cancelled_jobs", 0)
        pending, msg_id = await started(s, explain(s, PY_URI, rng(3, 0, 5, 16)))
        await asyncio.sleep(0.5)  # generating
        cancel_request(s, msg_id)
        with pytest.raises(JsonRpcException) as info:
            await asyncio.wait_for(pending, 20)
        assert "cancel" in str(info.value).lower()

        async def cancelled_in_worker() -> int:
            while True:
                n = (await s.status()).get("worker", {}).get("cancelled_jobs", 0)
                if n > before:
                    return n
                await asyncio.sleep(0.1)

        await asyncio.wait_for(cancelled_in_worker(), 20)
        # The worker is free again: a completion is answered promptly.
        t0 = time.monotonic()
        s.open("file:///work/other.py", "def mul(a, b):\n    return \n")
        await s.inline("file:///work/other.py", 1, 11)
        assert time.monotonic() - t0 < 30


async def test_cancelling_a_resolve_stops_the_model(slow_model_path):
    async with start_server(slow_model_path) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        bug = rng(BUG_LINE, 4, BUG_LINE, 16)
        fix = (await code_actions(s, PY_URI, bug, [failing_test(bug)]))[0]
        pending, msg_id = await started(s, s.client.code_action_resolve_async(fix))
        await asyncio.sleep(0.5)
        cancel_request(s, msg_id)
        with pytest.raises(JsonRpcException):
            await asyncio.wait_for(pending, 20)

        async def cancelled_in_worker() -> None:
            while (await s.status()).get("worker", {}).get("cancelled_jobs", 0) == 0:
                await asyncio.sleep(0.1)

        await asyncio.wait_for(cancelled_in_worker(), 20)


@pytest.mark.real_model
async def test_real_model_fixes_a_planted_bug(real_model_path):
    async with start_server(real_model_path) as s:
        await s.wait_status("ready", timeout=300)
        s.open(PY_URI, PY)
        bug = rng(BUG_LINE, 4, BUG_LINE, 16)
        fix = (await code_actions(s, PY_URI, bug, [failing_test(bug)]))[0]
        resolved = await asyncio.wait_for(s.client.code_action_resolve_async(fix), 300)
        assert resolved.edit is not None, resolved.disabled
        (change,) = resolved.edit.document_changes
        assert change.text_document.uri == PY_URI and change.text_document.version == 1
        lines = PY.split("\n")
        for e in sorted(change.edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            assert 3 <= e.range.start.line and e.range.end.line <= 6  # inside the function
            head = "\n".join(lines[: e.range.start.line] + [lines[e.range.start.line][: e.range.start.character]])
            tail = lines[e.range.end.line][e.range.end.character:]
            rest = "\n".join([tail] + lines[e.range.end.line + 1:])
            lines = (head + e.new_text + rest).split("\n")
        fixed = "\n".join(lines)
        namespace: dict = {}
        exec(compile(fixed.replace("print(add(1, 2))", ""), "calc.py", "exec"), namespace)  # noqa: S102 - the test's own code
        assert namespace["add"](1, 2) == 3
