"""Serving what the user typed toward without the model: recent suggestions, and what was typed.

Owns the cache of recent suggestions (keyed by document and the text around the cursor; when the
user types a start of one, its rest serves the request, also where the editor closed a bracket or
quote after the cursor: `autoclose`) and `typed_at`, what an edit inserted at a cursor. Pure
bookkeeping: it never calls the model and knows nothing of jobs or LSP types.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from lsp_server.lsp.completion.autoclose import rest_of


class RecentSuggestions:
    """A small cache of recent suggestions, keyed by document and the text around the cursor.

    When the user types a prefix of what was suggested, the rest is served without the model;
    a suggestion precomputed for "the previous one was accepted" is served the same way.
    """

    def __init__(self, size: int = 16) -> None:
        # (uri, prefix, suffix, text, called the first time the entry serves a request)
        self._items: deque[tuple[str, str, str, str, Callable[[], None] | None]] = deque(maxlen=size)

    def remember(self, uri: str, prefix: str, suffix: str, text: str, on_use: Callable[[], None] | None = None) -> None:
        self._items.append((uri, prefix, suffix, text, on_use))

    def lookup(self, uri: str, prefix: str, suffix: str) -> str | None:
        """The rest of a recent suggestion whose start the user typed since (with the closing
        brackets or quotes an editor added after the cursor: `autoclose`)."""
        for i in range(len(self._items) - 1, -1, -1):
            item_uri, old_prefix, old_suffix, text, on_use = self._items[i]
            if item_uri != uri or not prefix.startswith(old_prefix) or not suffix.endswith(old_suffix):
                continue
            rest = rest_of(text, prefix[len(old_prefix):], suffix[: len(suffix) - len(old_suffix)])
            if rest is not None:
                if on_use is not None:
                    self._items[i] = (item_uri, old_prefix, old_suffix, text, None)
                    on_use()
                return rest
        return None


def typed_at(old_text: str, offset: int, new_text: str) -> str | None:
    """What was inserted at `offset` of `old_text` to give `new_text`; None if it was any other
    edit (text before or after that point changed)."""
    tail = len(old_text) - offset
    if len(new_text) < len(old_text) or not new_text.startswith(old_text[:offset]):
        return None
    if tail and not new_text.endswith(old_text[offset:]):
        return None
    return new_text[offset : len(new_text) - tail]
