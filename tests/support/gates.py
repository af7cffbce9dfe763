"""The gate at a cursor, as the server decides it (real tree-sitter), for the syntax tests."""

from __future__ import annotations

from lsp_server.syntax.gating import Gate, decide
from lsp_server.syntax.languages import new_parser


def gate_at(language: str, prefix: str, suffix: str) -> Gate:
    text = prefix + suffix
    tree = new_parser(language).parse(text.encode("utf-8"))
    return decide(language, tree, text, len(prefix))
