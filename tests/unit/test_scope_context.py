"""The context held for the scope being typed in (lsp_server/lsp/completion/scope_context.py)."""

from __future__ import annotations

import pytest

from lsp_server.lsp.completion.scope_context import ScopeContexts, scope_key
from lsp_server.lsp.documents import DocumentStore

FILE = '''from pkg import area, volume


def first(w):
    return area(w, w)


def second(w):
    x = 1
    return x
'''
IN_FIRST = FILE.index("return area")
IN_SECOND = FILE.index("return x")


def snapshot(text: str, offset: int, uri: str = "file:///t.py"):
    store = DocumentStore()
    store.open(uri, "python", 1, text)
    doc = store.get(uri)
    line, character = doc.position_at(offset)
    return store.snapshot(uri, line, character)


@pytest.mark.parametrize("edits, same_scope", [
    ([(IN_SECOND, "i")], True),  # typing in the scope: the same key
    ([(IN_SECOND, "is_a")], True),
    ([(IN_SECOND, "\n    y = 2")], True),  # a new line in it
    ([(FILE.index("second"), "_")], False),  # its header changed
])
def test_scope_key(edits, same_scope):
    text, offset = FILE, IN_SECOND
    before = scope_key(text, offset, "python", None)
    for at, typed in edits:
        text = text[:at] + typed + text[at:]
        offset = at + len(typed) if at >= offset - len(typed) else offset + len(typed)
    assert (scope_key(text, offset, "python", None) == before) is same_scope


def test_the_context_of_a_scope_is_held_while_typing_in_it_and_taken_again_in_another():
    held, calls = ScopeContexts(), []

    def select(value):
        def run():
            calls.append(value)
            return value
        return run

    assert held.get(snapshot(FILE, IN_SECOND), select("A")) == "A"
    typed = FILE[:IN_SECOND] + "i" + FILE[IN_SECOND:]
    assert held.get(snapshot(typed, IN_SECOND + 1), select("B")) == "A"  # same scope: held
    assert held.get(snapshot(FILE, IN_FIRST), select("C")) == "C"  # another scope
    assert held.get(snapshot(FILE, IN_SECOND), select("D")) == "D"  # back: selected again
    assert held.get(snapshot(FILE, IN_SECOND, uri="file:///other.py"), select("E")) == "E"  # another document
    assert calls == ["A", "C", "D", "E"]


def test_an_empty_context_is_not_held():
    held = ScopeContexts()
    assert held.get(snapshot(FILE, IN_SECOND), lambda: "") == ""
    assert held.get(snapshot(FILE, IN_SECOND), lambda: "A") == "A"  # the index was not ready: asked again


def test_it_holds_a_bounded_number_of_documents():
    held = ScopeContexts(max_documents=2)
    for i in range(3):
        held.get(snapshot(FILE, IN_SECOND, uri=f"file:///{i}.py"), lambda i=i: f"v{i}")
    assert held.get(snapshot(FILE, IN_SECOND, uri="file:///0.py"), lambda: "new") == "new"  # the oldest went
    assert held.get(snapshot(FILE, IN_SECOND, uri="file:///2.py"), lambda: "new") == "v2"


def test_a_new_stamp_takes_the_context_again():
    held, snap = ScopeContexts(), snapshot(FILE, IN_SECOND)
    assert held.get(snap, lambda: "A", stamp=1) == "A"
    assert held.get(snap, lambda: "B", stamp=1) == "A"  # nothing changed: held
    assert held.get(snap, lambda: "C", stamp=2) == "C"  # another file changed: chosen again
    assert held.get(snap, lambda: "D", stamp=2) == "C"
