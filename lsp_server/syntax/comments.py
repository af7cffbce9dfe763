"""The comment or docstring at a place in a parsed document, as one block of text.

Owns finding it with tree-sitter: a comment node (`comment`, `line_comment`, `block_comment`), a
run of full-line comments on consecutive lines with the same marker and column (or the lines of
such a run that a selection covers), or a Python docstring (a string that is a statement of its
own). Also owns what a tree has outside its comments (`code_tokens`), so that a caller can check
that an edit of a comment left the code alone. Pure: no model, no edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter

from lsp_server.fixes.scopes import Offsets
from lsp_server.syntax.lines import line_bounds

COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
LINE_MARKER = re.compile(r"(#+|//[/!]?|--)")
STRING_TYPES = frozenset({"string"})


@dataclass(frozen=True)
class CommentBlock:
    start: int  # string offsets of the block in the text: the first marker ...
    end: int  # ... to the end of the last comment (its line break left out)
    kind: str  # "line" (a run of line comments), "block" (/* */), "docstring"
    trailing: bool  # code before it on its first line (an end-of-line comment)


def _is_docstring(node: tree_sitter.Node) -> bool:
    parent = node.parent
    return (node.type in STRING_TYPES and parent is not None and parent.type == "expression_statement"
            and parent.named_child_count == 1)


def _comment_node(tree: tree_sitter.Tree, byte: int, byte_end: int) -> tree_sitter.Node | None:
    node = tree.root_node.descendant_for_byte_range(byte, max(byte, byte_end))
    while node is not None:
        if node.type in COMMENT_TYPES or _is_docstring(node):
            return node
        node = node.parent
    return None


def _first_on_line(text: str, start: int) -> bool:
    line_start, _ = line_bounds(text, start)
    return not text[line_start:start].strip()


def _marker(text: str, start: int) -> str | None:
    m = LINE_MARKER.match(text, start)
    return m.group(1) if m else None


def comment_at(tree: tree_sitter.Tree | None, text: str, start: int, end: int) -> CommentBlock | None:
    """The comment block at [start, end) (a cursor or a selection), or None if it is code."""
    if tree is None:
        return None
    off = Offsets(text)
    line_start, line_end = line_bounds(text, start)
    first = start
    if start == end or not text[start:end].strip():  # a cursor in the indentation: the line's first character
        stripped = len(text[start:line_end]) - len(text[start:line_end].lstrip(" \t"))
        first = start + stripped if not text[line_start:start].strip() else start
    last = max(first, min(end, len(text)) - 1) if end > start else first
    node = _comment_node(tree, off.to_byte(first), off.to_byte(first))
    if node is None:
        return None
    s, e = off.to_char(node.start_byte), off.to_char(node.end_byte)
    if _is_docstring(node):
        return CommentBlock(s, e, "docstring", not _first_on_line(text, s))
    e = s + len(text[s:e].rstrip("\r\n"))
    marker = _marker(text, s)
    trailing = not _first_on_line(text, s)
    if marker is None:
        return CommentBlock(s, e, "block", trailing)
    if trailing:
        return CommentBlock(s, e, "line", True)
    column = s - line_bounds(text, s)[0]
    lo_line, hi_line = text.count("\n", 0, first), text.count("\n", 0, last)
    selection = end > start and hi_line > lo_line
    run = [node]
    for step in ("prev_sibling", "next_sibling"):
        current = node
        while True:
            other = getattr(current, step)
            if other is None or other.type not in COMMENT_TYPES:
                break
            os_, oe = off.to_char(other.start_byte), off.to_char(other.end_byte)
            cs, ce = off.to_char(current.start_byte), off.to_char(current.end_byte)
            gap = text[oe:cs] if step == "prev_sibling" else text[ce:os_]
            if (gap.strip() or gap.count("\n") > 1 or (step == "next_sibling" and "\n" not in text[cs:ce] + gap)
                    or _marker(text, os_) != marker or os_ - line_bounds(text, os_)[0] != column
                    or not _first_on_line(text, os_)):
                break
            if selection and not lo_line <= text.count("\n", 0, os_) <= hi_line:
                break
            run.insert(0, other) if step == "prev_sibling" else run.append(other)
            current = other
    s = off.to_char(run[0].start_byte)
    e = off.to_char(run[-1].end_byte)
    e = s + len(text[s:e].rstrip("\r\n"))
    return CommentBlock(s, e, "line", False)


def code_tokens(root: tree_sitter.Node) -> list[tuple[str, bytes]]:
    """The tree's leaves outside comments and docstrings, by type and text: what an edit of a
    comment must leave as it was (a docstring counts as one token without its text)."""
    out: list[tuple[str, bytes]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in COMMENT_TYPES:
            continue
        if _is_docstring(node):
            out.append(("docstring", b""))
            continue
        if node.child_count == 0:
            out.append((node.type, node.text or b""))
            continue
        stack.extend(reversed(node.children))
    return out
