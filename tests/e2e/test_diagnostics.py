"""Syntax-error diagnostics (`publishSyntaxErrors`), through the real server over stdio."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server.lsp.features.code_actions import FIX_TITLE
from tests.support.lsp import start_server

URI = "file:///work/broken.py"
BROKEN = "def f(x):\n    return (x +\n\nprint(f(1))\n"
FIXED = "def f(x):\n    return (x + 1)\n\nprint(f(1))\n"


async def next_diagnostics(s) -> types.PublishDiagnosticsParams:
    return await asyncio.wait_for(s.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 30)


async def test_syntax_errors_are_published_after_a_pause_and_cleared(tiny_model_path):
    async with start_server(tiny_model_path, init_options={"publishSyntaxErrors": True}) as s:
        s.open(URI, BROKEN)
        params = await next_diagnostics(s)
        assert params.uri == URI and params.diagnostics
        d = params.diagnostics[0]
        assert d.source == "local-llm-lsp" and d.severity == types.DiagnosticSeverity.Error
        assert "syntax error" in d.message
        # the quick fix offered for it is the one already listed for the server's own error (no duplicate)
        actions = await s.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(URI), range=d.range,
            context=types.CodeActionContext(diagnostics=list(params.diagnostics))))
        fixes = [a for a in actions if a.title == FIX_TITLE]
        assert len(fixes) == len(params.diagnostics)
        s.change(URI, " 1)", (1, 15))
        params = await next_diagnostics(s)
        assert not params.diagnostics
        s.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(URI)))


async def test_nothing_is_published_by_default(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        s.open(URI, BROKEN)
        await asyncio.sleep(1.5)
        assert URI not in s.client.diagnostics
