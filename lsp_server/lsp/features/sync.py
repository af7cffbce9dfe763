"""Text synchronization: didOpen / didChange / didClose into the server's own document store.

Incremental sync; positions in the negotiated encoding. The server's protocol class skips pygls'
own document copies (`lsp_server.lsp.server.Protocol`): the server's store is the only one (LSP
line splitting, tree-sitter trees).
"""

from __future__ import annotations

from lsprotocol import types


def register(server) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.docs.open(doc.uri, doc.language_id, doc.version, doc.text)
        ls.indexing.opened(doc.uri)
        ls.syntax_diagnostics.changed(doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                r = change.range
                doc.apply_change(change.text, (r.start.line, r.start.character, r.end.line, r.end.character), ls.encoding)
            else:
                doc.apply_change(change.text, None, ls.encoding)
        doc.version = params.text_document.version
        ls.completer.document_changed(params.text_document.uri)
        ls.syntax_diagnostics.changed(params.text_document.uri)
        first = params.content_changes[0] if params.content_changes else None
        edited_line = first.range.start.line if isinstance(first, types.TextDocumentContentChangePartial) else None
        ls.indexing.changed(params.text_document.uri, edited_line)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseTextDocumentParams) -> None:
        ls.docs.close(params.text_document.uri)
        ls.indexing.closed(params.text_document.uri)
        ls.completer.document_changed(params.text_document.uri)
        ls.syntax_diagnostics.closed(params.text_document.uri)
