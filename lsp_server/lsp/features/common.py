"""Small LSP-type helpers shared by the features (ranges at the cursor, the word before it, the
server's own syntax errors as diagnostics)."""

from __future__ import annotations

import re

from lsprotocol import types

from lsp_server.syntax.lines import start_of_line

_WORD_TAIL = re.compile(r"\w*$")
SOURCE = "local-llm-lsp"  # the `source` of the diagnostics the server makes itself


def suggestion_range(pos: types.Position) -> types.Range:
    return types.Range(start=pos, end=pos)


def word_before(text: str, offset: int) -> str:
    """The identifier characters immediately left of `offset` (on the same line)."""
    line_start = start_of_line(text, offset, lone_cr=True)
    return _WORD_TAIL.search(text[line_start:offset]).group(0)


def syntax_diagnostic(doc, problem, encoding: str) -> types.Diagnostic:
    """A `fixes.scopes.SyntaxProblem` of `doc` (a documents.Document) as an LSP diagnostic."""
    start, end = doc.position_at(problem.start, encoding), doc.position_at(problem.end, encoding)
    return types.Diagnostic(range=types.Range(types.Position(*start), types.Position(*end)), message=problem.message,
                            severity=types.DiagnosticSeverity.Error, source=SOURCE)
