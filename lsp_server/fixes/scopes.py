"""What a fix or an explanation is about: the enclosing function or class, and syntax errors.

Owns the table of scope node types per language (data), finding the innermost scope around a
range, the top-level statements around a range when there is no scope, and listing tree-sitter
ERROR/MISSING nodes. Offsets are string offsets into the document's text; tree-sitter's byte
offsets are converted here and nowhere else in this package. Must not call the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

# Node types that a fix replaces whole and an explanation explains whole, per language.
# "function" kinds win over "class" kinds only by being innermost.
SCOPE_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "python": {
        "function": ("function_definition",),
        "class": ("class_definition",),
    },
    "javascript": {
        "function": ("function_declaration", "function_expression", "generator_function_declaration",
                     "method_definition", "arrow_function"),
        "class": ("class_declaration",),
    },
    "typescript": {
        "function": ("function_declaration", "function_expression", "generator_function_declaration",
                     "method_definition", "arrow_function"),
        "class": ("class_declaration", "abstract_class_declaration", "interface_declaration"),
    },
    "tsx": {
        "function": ("function_declaration", "function_expression", "generator_function_declaration",
                     "method_definition", "arrow_function"),
        "class": ("class_declaration", "abstract_class_declaration", "interface_declaration"),
    },
    "go": {
        "function": ("function_declaration", "method_declaration", "func_literal"),
        "class": ("type_declaration",),
    },
    "rust": {
        "function": ("function_item", "closure_expression"),
        "class": ("impl_item", "struct_item", "enum_item", "trait_item"),
    },
    "c": {
        "function": ("function_definition",),
        "class": ("struct_specifier",),
    },
    "cpp": {
        "function": ("function_definition", "lambda_expression"),
        "class": ("class_specifier", "struct_specifier"),
    },
    "java": {
        "function": ("method_declaration", "constructor_declaration", "lambda_expression"),
        "class": ("class_declaration", "interface_declaration", "enum_declaration", "record_declaration"),
    },
}

# Arrow functions and lambdas smaller than this are skipped in favour of what encloses them.
MIN_INNER_LINES = 3
_INNER = {"arrow_function", "func_literal", "closure_expression", "lambda_expression", "function_expression"}


@dataclass(frozen=True)
class Region:
    start: int  # string offsets into the text
    end: int
    node_type: str  # a scope type, "ERROR", or "statements"
    kind: str  # "function", "class", "code"
    name: str = ""


def scope_kind(language: str | None, node_type: str) -> str | None:
    for kind, types_ in SCOPE_TYPES.get(language or "", {}).items():
        if node_type in types_:
            return kind
    return None


class Offsets:
    """String offset <-> UTF-8 byte offset for one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self._ascii = len(self.data) == len(text)

    def to_byte(self, offset: int) -> int:
        return offset if self._ascii else len(self.text[:offset].encode("utf-8", "surrogatepass"))

    def to_char(self, byte: int) -> int:
        return byte if self._ascii else len(self.data[:byte].decode("utf-8", "surrogatepass"))


def _name(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    return name.text.decode("utf-8", "replace") if name is not None and name.text else ""


def enclosing_scope(tree: tree_sitter.Tree, text: str, language: str | None, start: int, end: int) -> Region | None:
    """The innermost function or class (SCOPE_TYPES) that contains [start, end)."""
    off = Offsets(text)
    bs, be = off.to_byte(start), off.to_byte(max(start, end))
    node = tree.root_node.descendant_for_byte_range(bs, be)
    while node is not None:
        kind = scope_kind(language, node.type)
        if kind and node.start_byte <= bs and be <= node.end_byte:
            small = node.type in _INNER and node.end_point[0] - node.start_point[0] + 1 < MIN_INNER_LINES
            if not small:
                return Region(off.to_char(node.start_byte), off.to_char(node.end_byte), node.type, kind, _name(node))
        node = node.parent
    return None


def top_level_region(tree: tree_sitter.Tree, text: str, start: int, end: int) -> Region | None:
    """The top-level statements (children of the root) that overlap [start, end)."""
    off = Offsets(text)
    bs, be = off.to_byte(start), off.to_byte(max(start, end))
    hit = [c for c in tree.root_node.children if c.start_byte <= max(be, bs + 1) and c.end_byte >= bs]
    hit = [c for c in hit if not (c.end_byte == bs and be > bs)] or hit
    if not hit:
        return None
    first, last = hit[0], hit[-1]
    node_type = first.type if len(hit) == 1 else "statements"
    return Region(off.to_char(first.start_byte), off.to_char(last.end_byte), node_type, "code")


def target_region(tree: tree_sitter.Tree | None, text: str, language: str | None, start: int, end: int) -> Region | None:
    """What a fix at [start, end) replaces: the enclosing scope, else the top-level statements."""
    if tree is None:
        return None
    return enclosing_scope(tree, text, language, start, end) or top_level_region(tree, text, start, end)


@dataclass(frozen=True)
class SyntaxProblem:
    start: int
    end: int
    message: str


def syntax_errors(tree: tree_sitter.Tree | None, text: str, start: int = 0, end: int | None = None, limit: int = 20) -> list[SyntaxProblem]:
    """ERROR and MISSING nodes that overlap [start, end] (the whole text by default)."""
    if tree is None or not tree.root_node.has_error:
        return []
    off = Offsets(text)
    bs = off.to_byte(start)
    be = len(off.data) if end is None else off.to_byte(end)
    out: list[SyntaxProblem] = []
    stack = [tree.root_node]
    while stack and len(out) < limit:
        node = stack.pop()
        if node.end_byte < bs or node.start_byte > be or not (node.has_error or node.is_missing):
            continue
        if node.is_missing:
            out.append(SyntaxProblem(off.to_char(node.start_byte), off.to_char(node.end_byte), f"syntax error: missing `{node.type}`"))
            continue
        if node.is_error:
            snippet = (node.text or b"").decode("utf-8", "replace").strip().splitlines()
            first = snippet[0][:40] if snippet else ""
            out.append(SyntaxProblem(off.to_char(node.start_byte), off.to_char(node.end_byte),
                                     f"syntax error: unexpected `{first}`" if first else "syntax error"))
            continue
        stack.extend(reversed(node.children))
    return sorted(out, key=lambda p: (p.start, p.end))


def count_errors(node: tree_sitter.Node, start_byte: int = 0, end_byte: int | None = None) -> int:
    """ERROR and MISSING nodes under `node` that overlap [start_byte, end_byte]."""
    if end_byte is None:
        end_byte = node.end_byte
    if node.end_byte < start_byte or node.start_byte > end_byte:
        return 0
    if node.is_missing:
        return 1
    if not node.has_error:
        return 0
    n = 1 if node.is_error else 0
    return n + sum(count_errors(c, start_byte, end_byte) for c in node.children)
