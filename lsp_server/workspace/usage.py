"""What the code around a cursor uses: the scope a completion is in, the identifier being
typed, the chain before a `.` at the cursor, the names and `a.b` chains used in the scope, and
which variables hold an instance of which type.

Pure functions over text (comments and strings blanked out with the syntax lexer); the tree
is used only to find the enclosing function. The result depends on the scope's text and the
identifier at the cursor, never on where in the scope the cursor is, so that a small cursor
move inside a function gives the same answer. Must not know about imports or the index.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import tree_sitter

from lsp_server.fixes.scopes import enclosing_scope
from lsp_server.syntax.lexer import lex
from lsp_server.syntax.rules import rules_for
from lsp_server.syntax.windows import window_start

_IDENT = r"[A-Za-z_$][\w$]*"
_SEP = r"[ \t]*(?:\.|::|->)[ \t]*"
CHAIN = re.compile(rf"(?<![\w$.]){_IDENT}(?:{_SEP}{_IDENT})*")
_TYPED = re.compile(rf"((?:{_IDENT}{_SEP})*)({_IDENT})?$")
_SEP_RE = re.compile(_SEP)
_NEXT_TOP = re.compile(r"\n(?=[^\s)\]}])")  # a line that starts at column 0 with code
MAX_CHAIN = 3
# variable -> type: `x = T(`, `x = new T(`, `x := T{`, `x := &T{`, `x: T`, `T x =`, `var x T`
_INSTANCE = (
    re.compile(rf"\b({_IDENT})[ \t]*:?=[ \t]*(?:new\s+|&)?((?:{_IDENT}\.)*{_IDENT})[ \t]*[({{]"),
    re.compile(rf"\b({_IDENT})[ \t]*\??:[ \t]*((?:{_IDENT}\.)*{_IDENT})"),
    re.compile(rf"\b((?:{_IDENT}(?:\.|::))*[A-Z]\w*)[ \t]*[*&]?[ \t]+({_IDENT})[ \t]*[=;,)]"),
    re.compile(rf"\bvar\s+({_IDENT})\s+\*?((?:{_IDENT}\.)*{_IDENT})"),
)
KEYWORDS = frozenset("""
and as assert async await break case catch class const continue def default del do elif else enum except
export extends false final finally fn for from func function go if impl import in interface is lambda let
match mod module new nil none not null or package pass pub raise return self static struct super switch
this throw true try type typeof use var void while with yield None True False
""".split())


@dataclass(frozen=True)
class Usage:
    scope: tuple[int, int]  # string offsets of the enclosing function (or top-level block)
    typed: str  # the identifier being typed, left of the cursor ("" if none)
    receiver: str  # the chain before a `.`/`::`/`->` left of the typed identifier ("" if none), e.g. "self.db"
    names: tuple[str, ...]  # chains used in the scope (dots normalised to "."), most used first, then by name
    instances: tuple[tuple[str, str], ...]  # (variable, type) seen in the scope, sorted


def blank_code(text: str, language: str | None) -> str:
    """`text` with its comments and strings replaced by spaces (offsets kept)."""
    parts, pos = [], 0
    for tok in lex(text, rules_for(language)):
        if tok.kind in ("comment", "string"):
            parts += [text[pos: tok.start], re.sub(r"[^\n]", " ", text[tok.start: tok.end])]
            pos = tok.end
    return "".join(parts) + text[pos:]


def scope_of(text: str, offset: int, language: str | None, tree: tree_sitter.Tree | None) -> tuple[int, int]:
    """The enclosing function (or class, when between methods), else the top-level block around
    the cursor: from the line that starts it at column 0 to the next such line."""
    if tree is not None:
        region = enclosing_scope(tree, text, language, offset, offset)
        if region is not None:
            return region.start, region.end
    start = window_start(text, offset)
    for m in _NEXT_TOP.finditer(text, offset):
        return start, m.start() + 1
    return start, len(text)


def usage_at(text: str, offset: int, language: str | None, tree: tree_sitter.Tree | None = None) -> Usage:
    start, end = scope_of(text, offset, language, tree)
    line_start = text.rfind("\n", 0, offset) + 1
    m = _TYPED.search(text[line_start:offset])
    receiver = _SEP_RE.sub(".", m.group(1)).rstrip(".") if m else ""
    typed = (m.group(2) or "") if m else ""
    code = blank_code(text[start:end], language)
    # the typed word is left out, wherever the cursor is: the rest of the scope decides the names
    cut = offset - start - len(typed)
    scoped = code[:cut] + " " * len(typed) + code[cut + len(typed):] if 0 <= cut <= len(code) else code
    counts: Counter[str] = Counter()
    for chain in CHAIN.finditer(scoped):
        parts = _SEP_RE.split(chain.group(0))[:MAX_CHAIN]
        if parts[0] in KEYWORDS and parts[0] not in ("self", "this"):
            continue
        for i in range(1, len(parts) + 1):
            counts[".".join(parts[:i])] += 1
    instances = {(var, cls) for pattern in _INSTANCE[:2] for var, cls in pattern.findall(scoped)}
    instances |= {(var, cls) for cls, var in _INSTANCE[2].findall(scoped)}
    instances |= {(var, cls) for var, cls in _INSTANCE[3].findall(scoped)}
    instances = {(v, c.replace("::", ".")) for v, c in instances if v not in KEYWORDS and c not in KEYWORDS}
    names = tuple(sorted(counts, key=lambda n: (-counts[n], n)))
    return Usage((start, end), typed, receiver, names, tuple(sorted(instances)))
