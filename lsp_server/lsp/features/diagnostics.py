"""Syntax-error diagnostics (opt-in with the `publishSyntaxErrors` setting).

Owns publishing the server's own tree-sitter ERROR/MISSING nodes as `textDocument/publishDiagnostics`
(source "local-llm-lsp"), so that "Fix with local model" has something to point at in editors
without another language server for the file. Published a moment after the last change to a
document (a half-typed line must not flash errors), cleared when the document closes or the
setting is turned off. Finding the errors is `fixes.scopes.syntax_errors`; this is an adapter.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server.lsp.features.common import syntax_diagnostic
from lsp_server.fixes.scopes import syntax_errors

DEBOUNCE_S = 0.8
MAX_DIAGNOSTICS = 50


class SyntaxDiagnostics:
    def __init__(self, server) -> None:
        self.server = server
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._published: set[str] = set()  # documents whose last publication was not empty

    def changed(self, uri: str) -> None:
        """The document was opened or edited: publish its errors once the typing pauses."""
        if not self.server.settings.publish_syntax_errors and uri not in self._published:
            return
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        self._timers[uri] = asyncio.get_running_loop().call_later(DEBOUNCE_S, self.publish, uri)

    def closed(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if uri in self._published:
            self._send(uri, None, [])

    def settings_changed(self) -> None:
        for uri in list(self._published) if not self.server.settings.publish_syntax_errors else self.server.docs.uris():
            self.changed(uri)

    def publish(self, uri: str) -> None:
        self._timers.pop(uri, None)
        doc = self.server.docs.get(uri)
        if doc is None:
            return
        problems = syntax_errors(doc.tree, doc.text, limit=MAX_DIAGNOSTICS) if self.server.settings.publish_syntax_errors else []
        diagnostics = [syntax_diagnostic(doc, p, self.server.encoding) for p in problems]
        if diagnostics or uri in self._published:
            self._send(uri, doc.version, diagnostics)

    def _send(self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
        if diagnostics:
            self._published.add(uri)
        else:
            self._published.discard(uri)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))
