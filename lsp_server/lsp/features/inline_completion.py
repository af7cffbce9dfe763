"""textDocument/inlineCompletion (LSP 3.18): the ghost-text suggestion at the cursor.

An adapter: LSP params in, one call to the completer, an InlineCompletionList out. The list is
empty when there is nothing to suggest (unopened document, gated out, stale, model not ready).
"""

from __future__ import annotations

from lsprotocol import types

from lsp_server.lsp.features.common import suggestion_range


def register(server) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls, params: types.InlineCompletionParams) -> types.InlineCompletionList:
        pos = params.position
        ls.indexing.cursor(params.text_document.uri, pos.line)
        suggestion = await ls.completer.suggest(params.text_document.uri, pos.line, pos.character, ls.encoding)
        if suggestion is None:
            return types.InlineCompletionList(items=[])
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=suggestion.text, range=suggestion_range(pos))]
        )
