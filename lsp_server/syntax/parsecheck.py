"""The parse check: does a cut of the model's output fit the code around the cursor?

Owns `ParseCheck` (prefix + cut + suffix, a window of the file, against the window without the
cut: tree-sitter's ERROR/MISSING nodes, the tokens after the cursor, and in
indentation-sensitive languages `indentation.IndentCheck`) and `parser_name` (the tree-sitter
grammar of a language, if any).
Must not choose the cuts (`scan`, `truncation`) or read the document beyond the window it is
given (`surroundings`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import tree_sitter

from lsp_server.syntax.indentation import IndentCheck
from lsp_server.syntax.languages import new_parser, spec_for
from lsp_server.syntax.lexer import CLOSER_OF, bracket_state, token_closer
from lsp_server.syntax.rules import Rules
from lsp_server.syntax.surroundings import Surroundings

STRUCTURE_LEAVES = 24  # tokens after the cursor that must keep their types


@lru_cache(maxsize=None)
def parser_name(language: str | None) -> str | None:
    spec = spec_for(language) if language else None
    return spec.name if spec is not None and new_parser(spec.name) is not None else None


class ParseCheck:
    """Does prefix + text + suffix parse with no more errors than prefix + suffix? `errors(text)`
    is None when it does not, else the errors of the window with `text` (the tree's ERROR and
    MISSING nodes, plus `IndentCheck`'s violations). Beside the count:
    - the tokens after the cursor keep their types (when prefix + suffix has no errors); with
      the cursor inside a comment or string, they may also be those of the window where just its
      closing delimiter (`closer`) is inserted (a hole that ends the comment: the code below is
      code again);
    - where the window has errors, an insertion with more error nodes still fits when every one
      of them lies where the window had errors already, none at the insertion or on the line of
      code after it (`_only_old_errors`: tree-sitter merges the errors of the code after an
      unclosed bracket into one node, so closing it shows them one by one);
    - with `open_end` (the suffix window stops inside code that goes on) the brackets still open
      at the window's end are closed on a line after it, for the window without the insertion
      and with it alike (`_closers`)."""

    def __init__(self, language: str, prefix: str, suffix: str, rules: Rules, open_end: bool = False,
                 closer: str = "") -> None:
        self._parser = new_parser(language)
        self._rules = rules
        self._open_end = open_end
        self._prefix_text, self._suffix_text = prefix, suffix
        self._prefix = prefix.encode("utf-8")
        self._suffix = suffix.encode("utf-8")
        self._indent = IndentCheck(prefix, suffix, rules) if rules.indent_opener is not None else None
        tree, _ = self._parse("")
        self._errors = _count_errors(tree.root_node)
        self._leaves = _leaf_types(tree.root_node, len(self._prefix)) if self._errors == 0 else None
        self._error_spans = _error_spans(tree.root_node) if self._errors else []
        # the suffix up to the end of its first line of code: an error there is the insertion's
        line = re.match(r"[ \t]*(?:\r?\n[ \t]*)*\S[^\n]*", suffix)
        self._next_code_end = len(suffix[: line.end()].encode("utf-8")) if line else len(self._suffix)
        # the cursor inside a comment or string that the hole closes (` */`): the code after it
        # is code again, as it is in the window with just that closer
        self._closed_leaves = None
        if self._leaves is not None and closer:
            alt, inserted = self._parse(closer)
            if _count_errors(alt.root_node) == 0:
                self._closed_leaves = _leaf_types(alt.root_node, len(self._prefix) + inserted)

    @classmethod
    def around(cls, language: str, ctx: Surroundings) -> ParseCheck:
        """The check of the window that `ctx` holds around the cursor."""
        closer = token_closer(ctx.prefix, ctx.inside, ctx.rules) if ctx.inside is not None else ""
        return cls(language, ctx.prefix, ctx.suffix, ctx.rules, ctx.open_end, closer)

    def errors(self, text: str) -> int | None:
        """None if `text` does not fit, else the errors of the window with it (at most those
        without it)."""
        violations = self._indent.violations(text) if self._indent is not None else 0
        if violations is None:
            return None
        tree, inserted = self._parse(text)
        errors = self._tree_errors(tree.root_node, inserted)
        if errors is None or not self._keeps_structure(tree.root_node, inserted):
            return None
        return errors + violations

    def _parse(self, text: str) -> tuple[tree_sitter.Tree, int]:
        """The tree of the window with `text` inserted at the cursor, and the bytes inserted."""
        middle = text.encode("utf-8")
        window = self._prefix + middle + self._suffix + self._closers(self._prefix_text + text + self._suffix_text)
        return self._parser.parse(window), len(middle)

    def _tree_errors(self, root: tree_sitter.Node, inserted: int) -> int | None:
        """The tree's errors with the insertion; None where there are more than without it, unless
        all of them are where the window had errors already."""
        errors = _count_errors(root)
        if errors <= self._errors:
            return errors
        return self._errors if self._only_old_errors(root, inserted) else None

    def _keeps_structure(self, root: tree_sitter.Node, inserted: int) -> bool:
        """Do the tokens after the insertion have the types they had without it (or, with the
        cursor in a comment or string, those they have once it is closed)?"""
        if self._leaves is None:
            return True
        return _leaf_types(root, len(self._prefix) + inserted) in (self._leaves, self._closed_leaves)

    def _closers(self, window: str) -> bytes:
        """Where the window stops inside code that goes on: a line closing the brackets still
        open at its end (the file closes them further down), so that they count as no error."""
        if not self._open_end:
            return b""
        stack, inside = bracket_state(window, self._rules)
        if not stack or inside is not None and inside.kind == "string":
            return b""
        return ("\n" + "".join(CLOSER_OF[c] for c, _ in reversed(stack))).encode("utf-8")

    def _only_old_errors(self, root: tree_sitter.Node, inserted: int) -> bool:
        """Are all the errors of the window with an insertion of `inserted` bytes at the cursor
        where the window without it had errors already, and none at the insertion? Where the
        code after an unclosed bracket has errors of its own (macros tree-sitter cannot read in
        C and C++ headers), the recovery merges them into one ERROR node: the answer that closes
        the bracket has more error nodes than the hole, none of them new."""
        if not self._error_spans:
            return False
        at = len(self._prefix)

        def old(pos: int) -> int:
            return pos if pos <= at else pos - inserted

        own_end = at + inserted + self._next_code_end
        for start, end in _error_spans(root):
            if start <= own_end and end >= at:
                return False  # at the insertion or on the line of code after it: its own
            s, e = old(start), old(end)
            if not any(bs <= s and e <= be for bs, be in self._error_spans):
                return False
        return True


def _error_spans(node: tree_sitter.Node) -> list[tuple[int, int]]:
    """Byte spans of the outermost ERROR nodes and of the MISSING ones (empty) under `node`."""
    if not node.has_error:
        return []
    if node.is_error or node.is_missing:
        return [(node.start_byte, node.end_byte)]
    return [span for child in node.children for span in _error_spans(child)]


def _count_errors(node: tree_sitter.Node) -> int:
    if not node.has_error:
        return 0
    n = 1 if node.is_error or node.is_missing else 0
    for child in node.children:
        n += _count_errors(child)
    return n


def _leaf_types(root: tree_sitter.Node, start: int) -> list[str]:
    """Types of the first STRUCTURE_LEAVES tokens that start at or after byte `start` (every
    kind of identifier as "identifier")."""
    out: list[str] = []
    cursor = root.walk()
    while len(out) < STRUCTURE_LEAVES:
        node = cursor.node
        if node.end_byte <= start and node.end_byte > node.start_byte or node.end_byte < start:
            pass  # entirely before the cursor
        elif cursor.goto_first_child():
            continue
        elif node.start_byte >= start and not node.is_missing:
            # a name's kind may follow from what precedes it (C's `a b(c);` declares, `a(c);`
            # calls): names are one kind here
            out.append("identifier" if node.type.endswith("identifier") else node.type)
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out
    return out
