"""textDocument/completion: the same suggestion as one completion item, for clients without
inline completion (Neovim 0.11, older editors).

An adapter around the completer. The item replaces the word before the cursor with that word
plus the suggestion, so that clients which filter items by the typed word keep it.
"""

from __future__ import annotations

from lsprotocol import types

from lsp_server.lsp.features.common import word_before

LABEL_CHARS = 60


def register(server) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " ", "\n"], resolve_provider=False),
    )
    async def completion(ls, params: types.CompletionParams) -> types.CompletionList:
        pos = params.position
        empty = types.CompletionList(is_incomplete=True, items=[])
        uri = params.text_document.uri
        ls.indexing.cursor(uri, pos.line)
        suggestion = await ls.completer.suggest(uri, pos.line, pos.character, ls.encoding)
        doc = ls.docs.get(uri)
        if suggestion is None or doc is None:
            return empty
        word = word_before(doc.text, suggestion.offset)
        start_line, start_char = doc.position_at(suggestion.offset - len(word), ls.encoding)
        first_line = suggestion.text.splitlines()[0] if suggestion.text.strip() else suggestion.text
        label = (word + first_line).strip() or suggestion.text.strip()
        item = types.CompletionItem(
            label=label[:LABEL_CHARS] + ("…" if len(label) > LABEL_CHARS else ""),
            kind=types.CompletionItemKind.Text,
            detail="local model",
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```\n{suggestion.text}\n```"),
            filter_text=word + suggestion.text,
            sort_text="0",
            preselect=True,
            insert_text_format=types.InsertTextFormat.PlainText,
            text_edit=types.TextEdit(
                range=types.Range(start=types.Position(start_line, start_char), end=pos),
                new_text=word + suggestion.text,
            ),
        )
        # Incomplete: the next keystroke asks again instead of filtering a stale suggestion.
        return types.CompletionList(is_incomplete=True, items=[item])
