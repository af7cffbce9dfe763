"""The latency benchmark's editor model: which brackets and quotes an editor that closes them
itself would close, and the edits such an editor sends while a trace is typed."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.latency.run import replay
from benchmarks.latency.traces import Key, Pair, Trace, autoclose_plan, split_keys


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("f(a, [b])", {1: Pair(8), 5: Pair(7)}),
        ('x = "a(b"', {4: Pair(8)}),  # no brackets inside a quote
        ("it's", {}),  # an apostrophe
        ('s = "a\\"b"', {4: Pair(9)}),
        ('"open\nx', {}),  # a quote does not go past its line
        ("if (x) {\n    y();\n}", {3: Pair(5), 7: Pair(18, 17, ""), 14: Pair(15)}),
        ("    f({\n        a: 1,\n    })", {6: Pair(26, 21, "    ")}),  # `(` closes after `}`: not a pair an editor leaves so
        ("{\n}", {}),  # nothing between: Enter would be both the break and the closer's line
        ("{ x\n}", {}),  # the opener does not end its line
        ("  {\n    x\n}", {}),  # the closer is not at the opener line's indentation
    ],
)
def test_autoclose_plan(typed, expected):
    assert autoclose_plan(typed) == expected


class RecordingBackend:
    """Stands in for a server (test double): records the edits and answers every request with
    nothing, so that only the editor model is exercised."""

    def __init__(self) -> None:
        self.edits: list[str] = []

    async def start(self, text, language, uri) -> None:
        pass

    def complete(self, text, offset, version):
        handle = type("Handle", (), {"cancelled": False, "source": None, "stats": {}})()

        async def nothing() -> str:
            return ""

        handle.task = asyncio.ensure_future(nothing())
        return handle

    def supersede(self, handle) -> None:
        pass

    async def change(self, key, text_before, offset, version) -> None:
        self.edits.append(key)

    async def finish(self) -> dict:
        return {}


def test_replay_in_an_editor_that_closes_brackets():
    head, typed, tail = "int f(int x) {\n", "    if (x) {\n        y(1);\n    }", "\n    return x;\n}\n"
    original = head + typed + tail
    trace = Trace("t", "t.c", "c", original, head + tail, 1, typed, [Key(k, 0.0) for k in split_keys(typed)])
    backend = RecordingBackend()
    asyncio.run(replay(backend, trace, 0.0, autopairs=True))  # asserts the document ends as the original
    assert backend.edits == [
        "    ", "i", "f", " ", "()", "x",  # `(` closed by the editor, `)` typed over: no edit
        " ", "{}",  # `{` closed by the editor
        "\n        \n    ",  # Enter between the braces: the `}` goes on a line of its own
        "y", "()", "1", ";",  # the line break and `}` before `return` are moved over: no edit
    ]
