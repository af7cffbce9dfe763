"""Real-model tier: the bundled Qwen2.5-Coder through the real server gives sensible completions."""

from __future__ import annotations

import ast
import contextlib

import pytest

from tests.support.lsp import start_server

pytestmark = pytest.mark.real_model

CASES = [
    # (language id, uri, text, line, character, what the suggestion must contain)
    pytest.param("python", "file:///w/calc.py", "def add(a, b):\n    return \n", 1, 11, "a + b", id="python"),
    pytest.param("javascript", "file:///w/calc.js", "function add(a, b) {\n  return \n}\n", 1, 9, "a + b", id="javascript"),
    pytest.param("go", "file:///w/calc.go", "package calc\n\nfunc Add(a int, b int) int {\n\treturn \n}\n", 3, 8, "a + b",
                 id="go"),
    pytest.param("typescript", "file:///w/calc.ts", "export function add(a: number, b: number): number {\n  return \n}\n",
                 1, 9, "a + b", id="typescript"),
    pytest.param("rust", "file:///w/calc.rs", "fn add(a: i32, b: i32) -> i32 {\n    \n}\n", 1, 4, "a + b", id="rust"),
    pytest.param("c", "file:///w/calc.c", "int add(int a, int b) {\n    return \n}\n", 1, 11, "a + b", id="c"),
    pytest.param("java", "file:///w/Calc.java", "class Calc {\n    static int add(int a, int b) {\n        return \n    }\n}\n",
                 2, 15, "a + b", id="java"),
]


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@contextlib.asynccontextmanager
async def bundled_server():
    """The real server on the bundled default model (no --model), once it is ready."""
    async with start_server(None) as s:
        status = await s.wait_status("ready", "error", timeout=300)
        assert status["state"] == "ready", status
        yield s


@pytest.mark.parametrize("language, uri, text, line, character, expected", CASES)
async def test_bundled_model_completes_obvious_holes(real_model_path, language, uri, text, line, character, expected):
    async with bundled_server() as s:
        s.open(uri, text, language)
        items = await s.inline(uri, line, character)
        assert items, "no suggestion"
        suggestion = items[0].insert_text
        assert expected in suggestion.replace(" ", "").replace("+", " + ") or expected in suggestion
        # The suggestion does not repeat what follows the cursor (the closing brace).
        assert "}" not in suggestion.strip()[-1:] if language != "python" else True


async def test_multiline_body_after_block_opener(real_model_path):
    async with bundled_server() as s:
        text = 'def is_even(n):\n    """Return True when n is even."""\n    \n\n\nprint(is_even(4))\n'
        s.open("file:///w/even.py", text)
        items = await s.inline("file:///w/even.py", 2, 4)
        assert items and "% 2" in items[0].insert_text
        # Nothing past the function: the next top-level statement is not repeated.
        assert "print(" not in items[0].insert_text


async def test_rest_of_line_call_over_several_lines(real_model_path):
    """A call the model opens at the end of the line and writes over several lines (as the file
    does) is offered whole, and the completed file is valid Python."""
    text = (
        "import argparse\n\n\n"
        "def build_parser():\n"
        '    parser = argparse.ArgumentParser(description="Copy files.")\n'
        "    parser.add_argument(\n"
        '        "--source",\n'
        '        help="where to copy from",\n'
        "    )\n"
        "    parser.add_argument(\n"
        '        "--dest",\n'
        '        help="where to copy to",\n'
        "    )\n"
        "    parser.add_argument\n"
        "    return parser\n"
    )
    line, character = 13, len("    parser.add_argument")
    async with bundled_server() as s:
        s.open("file:///w/cli.py", text)
        items = await s.inline("file:///w/cli.py", line, character)
        assert items, "no suggestion"
        suggestion = items[0].insert_text
        assert suggestion.startswith("(") and "\n" in suggestion, suggestion
        lines = text.split("\n")
        lines[line] += suggestion
        ast.parse("\n".join(lines))


async def test_typing_the_suggestion_in_an_editor_that_closes_brackets(real_model_path):
    """VS Code closes a bracket as it is typed: `(` gives `(|)`. The suggestion the user is typing
    is still served, without a new model call, up to the editor's `)`."""
    uri = "file:///w/geometry.py"
    text = (
        "import math\n\n\n"
        "def distance(x1, y1, x2, y2):\n"
        "    return math.hypot(x2 - x1, y2 - y1)\n\n\n"
        "d = distance\n"
    )
    line, character = 7, len("d = distance")
    async with bundled_server() as s:
        s.open(uri, text)
        items = await s.inline(uri, line, character)
        assert items and items[0].insert_text.startswith("("), items
        suggestion = items[0].insert_text
        inner = suggestion[1 : suggestion.index(")")]
        assert inner and "(" not in inner, suggestion  # the test's own premise: a call with plain arguments
        calls = (await s.status())["counters"]["model_calls"]
        s.change(uri, "()", (line, character))  # `(` typed, `)` added by the editor
        items = await s.inline(uri, line, character + 1)
        assert [i.insert_text for i in items] == [inner]
        s.change(uri, inner[0], (line, character + 1))  # the next character of the suggestion
        items = await s.inline(uri, line, character + 2)
        assert [i.insert_text for i in items] == [inner[1:]] if inner[1:] else items == []
        counters = (await s.status())["counters"]
        assert counters["model_calls"] == calls


async def test_a_body_between_the_editors_braces_and_after_enter(real_model_path):
    """`{` typed, `}` added by the editor: the body is suggested with the `}` left on a line of its
    own; Enter between the braces (the editor moves the `}` down) serves the rest of it."""
    uri = "file:///w/calc.js"
    async with bundled_server() as s:
        s.open(uri, "function add(a, b) {}\n\nconsole.log(add(1, 2));\n", "javascript")
        items = await s.inline(uri, 0, len("function add(a, b) {"))
        assert items, "no suggestion"
        body = items[0].insert_text
        assert body.startswith("\n") and body.endswith("\n") and "a + b" in body, body
        calls = (await s.status())["counters"]["model_calls"]
        first = body.strip().split("\n")[0]  # the body's first line, as the editor's Enter indents it
        indent = body[1 : len(body) - len(body[1:].lstrip(" \t"))]
        s.change(uri, "\n" + indent + "\n", (0, len("function add(a, b) {")))
        items = await s.inline(uri, 1, len(indent))
        assert [i.insert_text for i in items] == [body.strip()]
        assert first in items[0].insert_text
        assert (await s.status())["counters"]["model_calls"] == calls


async def test_a_long_completion_is_shown_early_and_its_rest_served_after_accepting(real_model_path):
    """With `partialAfterMs`, a completion still generating after that long is answered with the
    lines it has; the job goes on, and accepting those lines serves the rest without a new model
    call. The whole is what the model writes at once."""
    uri = "file:///w/point.py"
    text = "class Point3D:\n    def __init__(self, x, y, z):\n        \n\n\np = Point3D(1, 2, 3)\n"
    line, character = 2, 8
    async with bundled_server() as s:
        s.open("file:///v/w/point.py", text)  # the same prompt (path header: last two components)
        whole = (await s.inline("file:///v/w/point.py", line, character))[0].insert_text
        assert whole.count("\n") >= 1, whole  # the test's own premise: more than one line
    async with start_server(None, init_options={"partialAfterMs": 1}) as s:
        assert (await s.wait_status("ready", "error", timeout=300))["state"] == "ready"
        s.open(uri, text)
        items = await s.inline(uri, line, character)
        assert items, "no suggestion"
        early = items[0].insert_text
        counters = (await s.status())["counters"]
        assert counters["partial"] == 1 and counters["model_calls"] == 1
        assert whole.startswith(early) and len(early) < len(whole), (early, whole)
        s.change(uri, early, (line, character))  # accepted
        end = (line + early.count("\n"), (character if "\n" not in early else 0) + len(early.rsplit("\n", 1)[-1]))
        items = await s.inline(uri, *end)
        assert [i.insert_text for i in items] == [whole[len(early):]]
        counters = (await s.status())["counters"]
        assert counters["model_calls"] == 1 and counters["followed_used"] == 1
