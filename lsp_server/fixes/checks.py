"""Whether a proposed replacement of a node may be offered, and if not, why (in words).

Owns the checks every fix passes whatever the model wrote: bounded size, an actual change,
edits inside the node, no syntax error that the document did not already have (tree-sitter,
whole document re-parsed), and, when a function or class is replaced, a function or class in
its place. Pure: the caller checks the document version.
"""

from __future__ import annotations

from lsp_server.fixes.scopes import Offsets, count_errors
from lsp_server.i18n.messages import _
from lsp_server.syntax.languages import new_parser

MAX_LINES = 400
MAX_GROWTH = 4  # the replacement may be at most this many times the node's size ...
MIN_BUDGET = 400  # ... or this many characters, whichever is larger


def check(*, text: str, language: str | None, start: int, end: int, node_type: str, kind: str,
          new: str, edits: list[tuple[int, int, str]]) -> str | None:
    """None if replacing text[start:end] by `new` through `edits` is acceptable, else the reason."""
    old = text[start:end]
    if new == old or not edits:
        return _("the model proposed no change")
    lines = new.count("\n") + 1
    if lines > MAX_LINES:
        return _("the fix is too large ({lines} lines; the limit is {limit})", lines=lines, limit=MAX_LINES)
    budget = max(MAX_GROWTH * len(old), MIN_BUDGET)
    if len(new) > budget:
        return _("the fix is too large ({chars} characters for a {old}-character {kind}; the limit is {limit})",
                 chars=len(new), old=len(old), kind=kind, limit=budget)
    for e_start, e_end, _text in edits:
        if not (0 <= e_start <= e_end <= len(old)):
            return _("the fix would change text outside the code it was asked to fix")
    parser = new_parser(language) if language else None
    if parser is None:
        return _("no parser for {language}: the fix cannot be checked, so it is not offered", language=language or "this language")
    before = Offsets(text)
    after_text = text[:start] + new + text[end:]
    after = Offsets(after_text)
    old_tree = parser.parse(before.data)
    new_tree = parser.parse(after.data)
    s_old, e_old = before.to_byte(start), before.to_byte(end)
    s_new, e_new = after.to_byte(start), after.to_byte(start + len(new))
    inside_old = count_errors(old_tree.root_node, s_old, e_old)
    inside_new = count_errors(new_tree.root_node, s_new, e_new)
    total_old, total_new = count_errors(old_tree.root_node), count_errors(new_tree.root_node)
    if inside_new > inside_old or total_new > total_old:
        added = max(inside_new - inside_old, total_new - total_old)
        line = _first_error_line(new_tree.root_node, s_new, e_new, after.data)
        if line:
            return _("the model's code does not parse: it would add {count} syntax error(s) (first at line {line})",
                     count=added, line=line)
        return _("the model's code does not parse: it would add {count} syntax error(s)", count=added)
    if kind in ("function", "class"):
        node = new_tree.root_node.descendant_for_byte_range(s_new, max(s_new, e_new - 1))
        while node is not None and not (node.type == node_type and node.start_byte == s_new):
            node = node.parent
        if node is None:
            return _("the model's answer is not a {kind} (`{node_type}`) in place of the original", kind=kind, node_type=node_type)
    return None


def _first_error_line(node, start_byte: int, end_byte: int, data: bytes) -> int | None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.end_byte < start_byte or n.start_byte > end_byte:
            continue
        if n.is_error or n.is_missing:
            return n.start_point[0] + 1
        if n.has_error:
            stack.extend(reversed(n.children))
    return None
