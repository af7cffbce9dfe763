"""The cross-file context held for the scope the user is typing in.

Owns the rule that keeps a completion's workspace context byte-identical while the cursor stays in
one scope (the enclosing function, else the top-level block: `workspace.usage.scope_of`) of one
document: the selection changes as identifiers are typed (a prefix such as `i` matches imported
names that `in` does not), and the context block comes first in the prompt, so every change would
make the model compute the whole window after it again. A new selection is taken when the cursor
enters another scope, the scope's header line changes, or what the context is chosen from changed
(the caller's `stamp`: another file edited or saved, the index rebuilt). Pure bookkeeping:
selecting the context is `workspace.select`'s job, and this never reads the index.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from lsp_server.lsp.documents import Snapshot
from lsp_server.workspace.usage import scope_of

T = TypeVar("T")
MAX_DOCUMENTS = 64  # documents whose scope's context is held (the least recently asked go first)


def scope_key(text: str, offset: int, language: str | None, tree) -> tuple[int, str]:
    """Where the scope around `offset` starts, and its first line (its header)."""
    start, _ = scope_of(text, offset, language, tree)
    end = text.find("\n", start)
    return start, text[start: end if end >= 0 else len(text)]


class ScopeContexts(Generic[T]):
    """Per document, the context chosen for the scope the cursor was last in."""

    def __init__(self, max_documents: int = MAX_DOCUMENTS) -> None:
        self._held: OrderedDict[str, tuple[tuple[int, str, object], T]] = OrderedDict()
        self.max_documents = max_documents

    def get(self, snap: Snapshot, select: Callable[[], T], worth_holding: Callable[[T], bool] = bool,
            stamp: object = None) -> T:
        """The context held for `snap`'s scope, else `select()`'s, which is then held if it is
        `worth_holding` (an empty one is not: the index may not have been ready). A held context
        is chosen again when `stamp` differs from the one it was held with."""
        key = (*scope_key(snap.text, snap.offset, snap.language, snap.tree), stamp)
        held = self._held.get(snap.uri)
        if held is not None and held[0] == key:
            self._held.move_to_end(snap.uri)
            return held[1]
        value = select()
        if not worth_holding(value):
            self._held.pop(snap.uri, None)
            return value
        self._held[snap.uri] = (key, value)
        self._held.move_to_end(snap.uri)
        while len(self._held) > self.max_documents:
            self._held.popitem(last=False)
        return value
