"""Completion gating: before the model runs, decide whether to complete at a cursor and how much.

Owns the rules that look at the document around the cursor (identifier boundaries, code right of
the cursor, comments and strings, block openers, open brackets). Per-language differences are
data in `queries/rules.toml`, read through `lsp_server.syntax.rules`.
Must not parse (it gets the document's current tree), call the model, or cut model output
(that is `lsp_server.syntax.truncation`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import tree_sitter

from lsp_server.syntax.indentation import IndentState, indentation_violations
from lsp_server.syntax.lexer import bracket_state, closes_open_bracket, code_of, ends_outside_tokens
from lsp_server.syntax.lines import (TAB_SIZE, end_of_line, indent_style, indent_width, leading_ws, line_bounds,
                                     previous_nonblank_line, start_of_line)
from lsp_server.syntax.rules import Rules, matches, opens_block, rules_for
from lsp_server.syntax.windows import window_end, window_start

BLOCK_MAX_LINES = 24
STATEMENT_MAX_LINES = 24
EXPRESSION_MAX_LINES = 8

_WORD = re.compile(r"\w")
# What may stand right of the cursor: closing brackets and quotes, `;`, `:`, `,` (as Copilot's
# "valid middle of the line" check and llama.vim's short-suffix rule allow).
_TRIVIAL_RIGHT = re.compile(r"""[\s)\]}>"'`;:,]*""")


@dataclass(frozen=True)
class Gate:
    complete: bool  # False: do not call the model at all
    scope: str  # "line", "block", "expression" or "statement" (see decide)
    max_lines: int  # hard cap on lines of the suggestion (1 for comments/strings)
    reason: str  # short human-readable why (for logs)
    # The whole indentation the completion's first line must have, where the code around an
    # empty cursor line leaves it one choice (indentation-sensitive languages; see
    # `required_indent`); None: free. Generation is held to it (`Engine.generate(lead=...)`).
    indent: str | None = None


def decide(language: str | None, tree: tree_sitter.Tree | None, text: str, offset: int) -> Gate:
    """Whether and how much to complete in `text` (the whole document) at str index `offset`.

    Scopes: "line": the rest of the cursor line (and, when the completion opens a bracket on it,
    the lines down to the one that closes it). "block": the body of the block the cursor line
    (or the non-blank line above an empty cursor line) opens, or the rest of the block an empty
    line ends, with the header's continuation clauses (`else:`) and the lines down to the level
    the suffix goes on at, the header's at most (a definition's: its body only). "expression":
    up to the bracket that closes the expression the cursor is inside (on an empty line whose
    bracket the code below does not close: through the end of that statement's block, as
    "statement"). "statement": the statements of the block the cursor's empty line is in, from
    the cursor on (one statement or definition at module level or in a class body). How each
    ends: `cut_rules`.
    `tree` is a tree-sitter tree of `text` in UTF-8, or None (text rules only).
    """
    rules = rules_for(language)
    gate = _decide(rules, tree, text, offset)
    if gate.complete and rules.indent_opener is not None:
        indent = required_indent(rules, text, offset)
        if indent is not None:
            return replace(gate, indent=indent)
    return gate


def required_indent(rules: Rules, text: str, offset: int) -> str | None:
    """The indentation that the first line of code written on the empty line at `offset` must
    have for the file to be valid, where the code around it leaves one choice; else None.

    Only for indentation-sensitive languages (`indent_opener`): after a line that opens a block,
    the body's level (the code below's, if it is already indented deeper, else one step deeper
    than the header's own step in: the body is missing); when the code below is indented deeper than the current level
    although the line above opens nothing, the current level (what is typed here must open
    the block the code below is the body of), unless the line above leaves its block
    (`block_exit`: after a `return` the next line is as likely a dedent). Elsewhere (the same
    level or any dedent) None.
    Left of the cursor only whitespace, right of it nothing.
    """
    line_start, line_end = line_bounds(text, offset)
    if rules.indent_opener is None or text[line_start:line_end].strip():
        return None
    head = text[window_start(text, line_start) : line_start]
    if not ends_outside_tokens(head, rules):
        return None  # the cursor line is inside a string
    state = IndentState()
    indentation_violations(head, rules, state)
    if state.depth or state.continued or not state.stack:
        return None
    top = state.stack[-1]
    below = _next_code_line(rules, text, line_end)
    deeper = below is not None and indent_width(below) > top
    if state.opens:
        style = indent_style(head[-8000:]) or ((True, 4) if rules.indent_tabs else (False, 4))
        # one unit deeper: the step from the enclosing level to the header's, else the file's unit
        step = top - state.stack[-2] if len(state.stack) > 1 else 0
        width = top + (step or (TAB_SIZE if style[0] else style[1]))
        if deeper:
            width = min(width, indent_width(below))
        return _whitespace(text, line_start, width, style[0])
    previous = previous_nonblank_line(text, line_start)
    if deeper and not matches(rules.block_exit, previous or ""):
        return _whitespace(text, line_start, top, False)
    return None


def _next_code_line(rules: Rules | None, text: str, line_end: int) -> str | None:
    """The first line after the one ending at `line_end` that is not blank (nor only a comment,
    with `rules`); None if there is none within 200 lines."""
    pos = line_end
    for _ in range(200):
        nl = text.find("\n", pos)
        if nl < 0:
            return None
        line = text[nl + 1 : end_of_line(text, nl + 1)].rstrip("\r")
        if (code_of(rules, line) if rules is not None else line).strip():
            return line
        pos = nl + 1
    return None


def _whitespace(text: str, line_start: int, width: int, tabs: bool) -> str:
    """Leading whitespace `width` columns wide, as the closest line above with that width
    writes it (else in tabs or spaces as `tabs` says)."""
    end = line_start - 1
    for _ in range(200):
        if end < 0:
            break
        start = start_of_line(text, end)
        line = text[start:end]
        if line.strip() and indent_width(line) == width:
            return leading_ws(line)
        end = start - 1
    if tabs:
        return "\t" * (width // TAB_SIZE) + " " * (width % TAB_SIZE)
    return " " * width


def _decide(rules: Rules, tree: tree_sitter.Tree | None, text: str, offset: int) -> Gate:
    line_start, line_end = line_bounds(text, offset)
    left = text[line_start:offset]
    right = text[offset:line_end]

    if left[-1:] and right[:1] and _WORD.match(left[-1]) and _WORD.match(right[0]):
        return Gate(False, "line", 0, "inside an identifier")
    if not _TRIVIAL_RIGHT.fullmatch(right):
        return Gate(False, "line", 0, "code right of the cursor")

    start = window_start(text, offset)
    stack, inside = bracket_state(text[start:offset], rules)
    kind = _inside_node(rules, tree, text, offset) if tree is not None else (inside and inside.kind)
    if kind:
        return Gate(True, "line", 1, f"inside a {kind}")

    # an open `{` in a brace language is a block: the cursor is among statements there
    in_expression = bool(stack) and (rules.indent_blocks or stack[-1][0] != "{")
    code = left.rstrip()
    if code.strip():
        if opens_block(rules, code) and (rules.indent_blocks or stack):
            return Gate(True, "block", BLOCK_MAX_LINES, "the line opens a block")
        if in_expression:
            at_open = code.endswith(stack[-1][0])
            return Gate(True, "expression", EXPRESSION_MAX_LINES if at_open else 1,
                        f"inside an open {stack[-1][0]!r}")
        # the rest of the line; a bracket the completion opens there takes it on to where it
        # closes, but not in what the text lexer sees as a comment or string that the tree does
        # not (an unclosed `/*`, code in an f-string)
        return Gate(True, "line", 1 if inside else EXPRESSION_MAX_LINES, "rest of the line")

    # An empty line gets a multi-line block when nothing follows it in its block (as Copilot
    # does for an empty block), else one statement: the code below stays as it is.
    previous = previous_nonblank_line(text, line_start)
    prev_indent = indent_width(previous or "")
    if previous is not None and opens_block(rules, code_of(rules, previous)):
        if _ends_block(text, line_end, prev_indent + 1):
            return Gate(True, "block", BLOCK_MAX_LINES, "empty block after a block opener")
        return Gate(True, "statement", STATEMENT_MAX_LINES, "empty line after a block opener")
    if in_expression:
        after = text[offset : offset + window_end(text[offset:])]
        if not closes_open_bracket(after, rules):
            # the code below does not close it: the completion closes it and finishes the statement
            return Gate(True, "expression", STATEMENT_MAX_LINES,
                        f"empty line inside an open {stack[-1][0]!r} that the code below does not close")
        return Gate(True, "expression", EXPRESSION_MAX_LINES, f"empty line inside an open {stack[-1][0]!r}")
    if _ends_block(text, line_end, max(indent_width(left), prev_indent)):
        return Gate(True, "block", BLOCK_MAX_LINES, "empty line at the end of a block")
    return Gate(True, "statement", STATEMENT_MAX_LINES, "empty line")


def _inside_node(rules: Rules, tree: tree_sitter.Tree, text: str, offset: int) -> str | None:
    """"comment" or "string" if the cursor is inside one (per the tree), else None."""
    byte = len(text[:offset].encode("utf-8"))
    node = tree.root_node.descendant_for_byte_range(max(byte - 1, 0), byte)
    while node is not None:
        t = node.type
        if t in rules.code_in_string_nodes and node.start_byte < byte < node.end_byte:
            return None
        if t in rules.comment_nodes:
            # a line comment holds the cursor at its end too; a closed block comment does not
            if node.start_byte < byte < node.end_byte or (
                byte == node.end_byte and not node.text.rstrip().endswith(b"*/")
            ):
                return "comment"
        if t in rules.string_nodes and node.start_byte < byte < node.end_byte:
            return "string"
        node = node.parent
    return None


def _ends_block(text: str, line_end: int, indent: int) -> bool:
    """Is the empty line ending at `line_end` the last line of its block (the next non-blank
    line is indented less than `indent`, or there is none)?"""
    line = _next_code_line(None, text, line_end)
    return line is None or indent_width(line) < indent
