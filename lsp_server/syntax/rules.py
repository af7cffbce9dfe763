"""The per-language rules: `queries/rules.toml` (loaded once), compiled into `Rules`.

Owns `Rules` (which tree-sitter nodes are comments and strings, the regexes of block openers,
continuation clauses, definitions and the like, and the lexer's token regexes, see
`lsp_server.syntax.lexer`), `rules_for` (a language's, "generic" when unknown), and asking a
rule's regex about a line (`matches`, `opens_block`).
Must not lex or walk text, run tree-sitter, or know about LSP positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lsp_server.data import load_toml, package_file
from lsp_server.syntax.languages import spec_for

RULES_FILE = package_file("syntax", "queries", "rules.toml")


@dataclass(frozen=True)
class TokenRule:
    kind: str  # "comment" or "string"
    end: str | None  # literal closing delimiter; None: the start regex matches the whole token
    multiline: bool
    end_re: re.Pattern[str] | None


@dataclass(frozen=True)
class Rules:
    name: str
    comment_nodes: frozenset[str]
    string_nodes: frozenset[str]
    code_in_string_nodes: frozenset[str]
    block_opener: re.Pattern[str]
    indent_blocks: bool
    indent_tabs: bool
    tokens: tuple[TokenRule, ...]
    lexer: re.Pattern[str]  # token starts as groups t0, t1, ..., then "open" and "close"
    continuation: re.Pattern[str] | None = None  # `else:`, `except`: continues the statement above
    definition: re.Pattern[str] | None = None  # a header whose block scope is its body only
    definitions_body: re.Pattern[str] | None = None  # a header whose body holds definitions (class)
    joins_next: re.Pattern[str] | None = None  # a line that belongs to the next one (decorator)
    indent_opener: re.Pattern[str] | None = None  # indentation-sensitive: a logical line opening a block
    block_exit: re.Pattern[str] | None = None  # indentation-sensitive: a statement that leaves its block
    dangling_header: re.Pattern[str] | None = None  # a header whose body is the next statement (`if (x)`)
    inner_column0: re.Pattern[str] | None = None  # a column-0 line that may stand inside a body (`#endif`)


@lru_cache(maxsize=1)
def _data() -> dict:
    return load_toml(RULES_FILE)


def _compile(name: str, table: dict) -> Rules:
    tokens: list[TokenRule] = []
    parts: list[str] = []
    for i, tok in enumerate(table["tokens"]):
        end = tok.get("end")
        multiline = bool(tok.get("multiline", False))
        end_re = None
        if end is not None:
            body = r"(?:\\[\s\S]|[^\\])*?" if multiline else r"(?:\\.|[^\\\n])*?"
            end_re = re.compile(body + re.escape(end))
        parts.append(f"(?P<t{i}>{tok.get('regex') or tok['start']})")
        tokens.append(TokenRule(tok["kind"], end, multiline, end_re))
    parts += [r"(?P<open>[(\[{])", r"(?P<close>[)\]}])"]
    return Rules(
        name=name,
        comment_nodes=frozenset(table["comment_nodes"]),
        string_nodes=frozenset(table["string_nodes"]),
        code_in_string_nodes=frozenset(table["code_in_string_nodes"]),
        block_opener=re.compile(table["block_opener"]),
        indent_blocks=bool(table["indent_blocks"]),
        indent_tabs=bool(table.get("indent_tabs", False)),
        tokens=tuple(tokens),
        lexer=re.compile("|".join(parts)),
        **{key: re.compile(table[key]) if table.get(key) else None for key in _OPTIONAL},
    )


# optional regexes; a language table without one takes the generic table's (indent_opener, block_exit: none)
_OPTIONAL = ("continuation", "definition", "definitions_body", "joins_next", "indent_opener", "block_exit", "dangling_header",
             "inner_column0")


@lru_cache(maxsize=None)
def rules_for(language: str | None) -> Rules:
    """The rules of a language (canonical name or LSP languageId); "generic" when unknown."""
    data = _data()
    spec = spec_for(language) if language else None
    name = spec.name if spec is not None and spec.name in data else "generic"
    table = data[name]
    while "inherit" in table:
        table = {**data[table["inherit"]], **{k: v for k, v in table.items() if k != "inherit"}}
    table = {**{k: data["generic"].get(k) for k in _OPTIONAL if k != "indent_opener"}, **table}
    return _compile(name, table)


def matches(pattern: re.Pattern[str] | None, line: str) -> bool:
    return pattern is not None and pattern.search(line) is not None


def opens_block(rules: Rules, code: str) -> bool:
    """Does a line whose code (comments excluded) is `code` open a block at its end?"""
    return bool(rules.block_opener.search(code.rstrip()))
