"""The model's answer -> the replacement text of the node being fixed.

Owns finding the code in a chat answer (fenced blocks; the one most like the original when there
are several; the whole answer when there is no fence at all), cleaning it of bidi and
zero-width characters, picking out the node of the original's type when the model wrapped it in
more code (imports, a class, usage), and re-indenting it to the node's place in the document.
Must not decide whether the result is acceptable (`checks`).
"""

from __future__ import annotations

import difflib
import re

from lsp_server.fixes.scopes import Offsets
from lsp_server.syntax.languages import new_parser
from lsp_server.syntax.lines import leading_ws, start_of_line
from lsp_server.syntax.truncation import clean

_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)[^`\n]*$")


def code_blocks(answer: str) -> list[str]:
    """The contents of the fenced code blocks in `answer`, in order. An unclosed last block
    (the model hit its token limit) runs to the end of the answer."""
    lines = answer.replace("\r\n", "\n").split("\n")
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group(1)
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        i += 1
        while i < len(lines) and not close.match(lines[i]):
            body.append(lines[i])
            i += 1
        blocks.append("\n".join(body))
        i += 1
    return blocks


def extract_code(answer: str, original: str) -> str | None:
    """The code the model proposes: the fenced block most similar to `original`, or the whole
    answer when it has no fence. None when there is nothing."""
    answer = clean(answer)
    blocks = [b for b in code_blocks(answer) if b.strip()]
    if not blocks:
        if "```" in answer or "~~~" in answer:
            return None
        return answer if answer.strip() else None
    if len(blocks) == 1:
        return blocks[0]
    return max(blocks, key=lambda b: difflib.SequenceMatcher(None, original, b, autojunk=False).ratio())


def select_node(code: str, language: str | None, node_type: str, name: str = "") -> tuple[int, int] | None:
    """String span of the node of `node_type` in `code` (the one called `name` if any has that
    name, else the first, outermost), or None if the code has none."""
    parser = new_parser(language) if language else None
    if parser is None:
        return None
    off = Offsets(code)
    tree = parser.parse(off.data)
    found: list = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == node_type:
            found.append(node)
            continue  # outermost only
        stack.extend(reversed(node.children))
    if not found:
        return None

    def named(n) -> bool:
        f = n.child_by_field_name("name")
        return bool(name) and f is not None and f.text is not None and f.text.decode("utf-8", "replace") == name

    node = next((n for n in found if named(n)), found[0])
    return off.to_char(node.start_byte), off.to_char(node.end_byte)


def place(code: str, start: int, end: int, indent: str, eol: str, trailing_eol: bool) -> str:
    """`code[start:end]` as text that replaces a node whose first line is indented by `indent`:
    the first line as is, the others moved from the code's indentation to the document's."""
    line_start = start_of_line(code, start)
    base = leading_ws(code[line_start:start]) if not code[line_start:start].strip() else leading_ws(code[line_start:])
    lines = code[start:end].rstrip().split("\n")
    out = [lines[0].rstrip()]
    for line in lines[1:]:
        line = line.rstrip()
        if not line:
            out.append("")
            continue
        if line.startswith(base):
            out.append(indent + line[len(base):])
        else:  # less indented than the node's first line (inside a string): leave it alone
            out.append(line)
    text = eol.join(out)
    return text + eol if trailing_eol else text


def replacement(answer: str, *, original: str, language: str | None, node_type: str, name: str,
                indent: str, eol: str) -> str | None:
    """The text that replaces `original` according to the model's `answer`, or None."""
    code = extract_code(answer, original)
    if code is None:
        return None
    code = code.replace("\r\n", "\n").replace("\r", "\n")
    span = select_node(code, language, node_type, name) if node_type not in ("ERROR", "statements") else None
    if span is None:
        stripped = code.strip()
        if not stripped:
            return None
        start = code.index(stripped[0])
        span = (start, start + len(stripped))
    trailing = original.endswith(("\n", "\r"))
    return place(code, span[0], span[1], indent, eol, trailing)
