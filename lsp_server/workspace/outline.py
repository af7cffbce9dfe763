"""One file's outline: its top-level definitions, its classes' members and its imports, from a
tree-sitter tree and the language's tags query (`syntax/queries/tags-*.scm`, data).

Owns loading and compiling those queries, and turning their captures into `Symbol`s: the
header lines up to the body (`signature`), the docstring or the comment just above, and the
nesting rules (a definition inside a function is skipped; one inside a class is its member).
Import statements are handed to `imports.parse_import` as text. Must not read files or walk
folders (`walk`, `index`) and must not know what the symbols are used for (`select`).
"""

from __future__ import annotations

from functools import lru_cache

import tree_sitter

from lsp_server.data import package_file
from lsp_server.syntax.languages import new_parser, ts_language
from lsp_server.workspace.imports import parse_import
from lsp_server.workspace.model import Import, Outline, Symbol

# The query files of each language, read in this order into one query (earlier patterns win a
# definition that two of them capture).
QUERY_FILES = {
    "python": ("python",), "javascript": ("ecmascript", "javascript"), "typescript": ("ecmascript", "typescript"),
    "tsx": ("ecmascript", "typescript"), "go": ("go",), "c": ("c", "c-family"), "cpp": ("cpp", "c-family"),
    "rust": ("rust",), "java": ("java",),
}

# Node types that hold a definition's body: its signature is what comes before.
BODY_TYPES = frozenset({
    "block", "statement_block", "class_body", "field_declaration_list", "declaration_list",
    "compound_statement", "interface_body", "enum_body", "object_type", "enumerator_list",
    "constructor_body", "enum_variant_list", "annotation_type_body", "record_body",
})
# Nodes around a definition whose lines belong to its header (decorators, `export`, templates).
WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
FUNCTION_KINDS = frozenset({"function", "method"})
CLASS_KINDS = frozenset({"class"})

MAX_SIGNATURE_LINES = 6
MAX_DOC_LINES = 12
MAX_SYMBOLS = 4000  # per file: a generated file must not fill the index


@lru_cache(maxsize=None)
def tags_query(language: str) -> tree_sitter.Query | None:
    """The compiled tags query of a language, or None if it has none (or no grammar)."""
    names, ts_lang = QUERY_FILES.get(language), ts_language(language)
    if names is None or ts_lang is None:
        return None
    source = "\n".join(package_file("syntax", "queries", f"tags-{n}.scm").read_text(encoding="utf-8") for n in names)
    return tree_sitter.Query(ts_lang, source)


def parse_outline(language: str, data: bytes) -> Outline | None:
    """Parse `data` (UTF-8 bytes of a file) and outline it; None for a language without a query."""
    parser = new_parser(language) if language in QUERY_FILES else None
    if parser is None:
        return None
    return outline(language, parser.parse(data), data)


def outline(language: str, tree: tree_sitter.Tree, data: bytes) -> Outline:
    """The outline of a parsed file; `data` are the bytes `tree` was parsed from."""
    query = tags_query(language)
    if query is None:
        return Outline(language)
    defs: dict[tuple[int, str], tuple[int, str, tree_sitter.Node, str]] = {}  # (node id, name) -> first match
    imports: list[Import] = []
    package = ""
    for pattern, caps in tree_sitter.QueryCursor(query).matches(tree.root_node):
        if "import" in caps:
            node = caps["import"][0]
            imports.extend(parse_import(language, _text(node), node.start_point[0]))
            continue
        if "package" in caps:
            package = _text(caps["package"][0])
            continue
        kind = next((k[4:] for k in caps if k.startswith("def.")), None)
        if kind is None or "name" not in caps:
            continue
        node, name = caps[f"def.{kind}"][0], _text(caps["name"][0])
        receiver = _text(caps["receiver"][0]) if "receiver" in caps else ""
        key = (node.id, name)
        if key not in defs or pattern < defs[key][0]:
            defs[key] = (pattern, kind, node, receiver)
    functions = {n.id for _, k, n, _ in defs.values() if k in FUNCTION_KINDS}
    classes = {n.id: name for (_, name), (_, k, n, _) in defs.items() if k in CLASS_KINDS}
    symbols: list[Symbol] = []
    for (_, name), (_, kind, node, receiver) in defs.items():
        container, inside_function = _surroundings(node, functions, classes)
        if inside_function:
            continue
        if "::" in name:  # C++ `A::f` defined outside its class
            container, name = name.rsplit("::", 1)
            container = container.rpartition("::")[2]
        container = receiver or container
        if kind in ("field", "method") and not container:
            continue  # a member of an object literal or an anonymous struct
        if kind in FUNCTION_KINDS:
            kind = "method" if container else "function"
        symbols.append(_symbol(name, kind, container, node, data, language))
        if len(symbols) >= MAX_SYMBOLS:
            break
    symbols.sort(key=lambda s: (s.start_byte, s.container, s.name))
    return Outline(language, tuple(symbols), tuple(imports), package)


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _surroundings(node: tree_sitter.Node, functions: set[int], classes: dict[int, str]) -> tuple[str, bool]:
    """(the nearest enclosing class's name, whether a function encloses the definition first)."""
    parent = node.parent
    while parent is not None:
        if parent.id in functions:
            return "", True
        if parent.id in classes:
            return classes[parent.id], False
        parent = parent.parent
    return "", False


def _header_node(node: tree_sitter.Node) -> tree_sitter.Node:
    """The node whose first line starts the definition (its decorators, `export`, `template`)."""
    while node.parent is not None and node.parent.type in WRAPPERS:
        node = node.parent
    return node


def _body(node: tree_sitter.Node, depth: int = 3) -> tree_sitter.Node | None:
    """The first body node under `node` (breadth first, a few levels deep), else its first `{`
    (a Go interface's methods stand right inside its braces)."""
    level, brace = [node], None
    for _ in range(depth):
        nxt = []
        for n in level:
            for child in n.children:
                if child.type in BODY_TYPES:
                    return child
                if child.type == "{" and brace is None:
                    brace = child
                nxt.append(child)
        level = nxt
    return brace


def _symbol(name: str, kind: str, container: str, node: tree_sitter.Node, data: bytes, language: str) -> Symbol:
    head = _header_node(node)
    start = head.start_byte
    line_start = data.rfind(b"\n", 0, start) + 1
    starts_line = not data[line_start:start].strip()
    body = _body(node)
    end = body.start_byte if body is not None else node.end_byte
    # from its line's start when it starts the line, so that a member keeps its indentation
    header = data[line_start if starts_line else start:end].decode("utf-8", "replace").rstrip()
    lines = header.splitlines()
    if len(lines) > MAX_SIGNATURE_LINES:
        lines = lines[:MAX_SIGNATURE_LINES] + [_indent_of(lines[0]) + "..."]
    doc = _docstring(body) if language == "python" and body is not None else ""
    return Symbol(
        name=name, kind=kind, container=container, signature="\n".join(lines), doc=doc or (_leading_comment(data, start, language) if starts_line else ""),
        start_line=head.start_point[0], end_line=node.end_point[0], start_byte=start, end_byte=node.end_byte,
    )


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _cap_lines(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:MAX_DOC_LINES] + (["..."] if len(lines) > MAX_DOC_LINES else []))


def _docstring(body: tree_sitter.Node) -> str:
    first = body.named_children[0] if body.named_children else None
    if first is not None and first.type == "expression_statement" and first.named_children \
            and first.named_children[0].type == "string":
        return _cap_lines(_text(first))
    return ""


def _leading_comment(data: bytes, start: int, language: str) -> str:
    """The comment lines directly above a definition (no blank line between), as written.

    Read from the text rather than the tree: grammars attach a comment at the end of a block
    to that block (Python), not to the definition after it."""
    markers = ("#",) if language == "python" else ("//", "/*", "*")
    lines: list[str] = []
    end = data.rfind(b"\n", 0, start)  # the end of the line above
    while end > 0 and len(lines) < MAX_DOC_LINES:
        begin = data.rfind(b"\n", 0, end) + 1
        line = data[begin:end].decode("utf-8", "replace")
        if not line.strip().startswith(markers) or line.strip().startswith("#!"):
            break
        lines.append(line.strip())
        end = begin - 1
    return "\n".join(reversed(lines))
