"""Code inside comment prose, kept byte-identical through a translation by placeholders.

Owns which spans are code or markup (backtick spans of any length, URLs, doc tags with their
argument such as `@param name` and `:param name:`, reST roles, identifiers that can only be code:
`snake_case`, `dotted.names`, `calls()`, `camelCase`), replacing them by numbered placeholders
before the model and putting them back after; `restore` refuses an answer that lost, duplicated
or invented a placeholder. Pure.
"""

from __future__ import annotations

import re

PLACEHOLDER = "⟦{}⟧"
_PLACEHOLDER = re.compile(r"⟦(\d+)⟧")
_CODE = re.compile(
    r"(`+)(?!`).+?(?<!`)\1(?!`)"  # `code`, ``code``
    r"|https?://[^\s<>()\]]*[^\s<>()\].,;:!?'\"]"  # URLs
    r"|:\w+:`[^`]+`"  # reST roles :class:`Foo`
    r"|:(?:param|type|raises?|returns?|rtype|var|ivar|cvar)\b[^:\n]*:"  # reST fields
    r"|@\w+(?:[ \t]+\{[^}\n]*\})?(?:[ \t]+\[?[A-Za-z_$][\w.$]*\]?)?"  # JSDoc/Javadoc tags with a type and name
    r"|\b[A-Za-z_]\w+(?:(?:\.|::|->)[A-Za-z_]\w*)+(?:\(\))?"  # dotted.names, a::b, a->b
    r"|\b[A-Za-z_]\w*\(\)"  # calls()
    r"|\b_*[A-Za-z0-9]+_[A-Za-z0-9_]*\b"  # snake_case
    r"|\b[a-z]+[A-Z][A-Za-z0-9]*\b"  # camelCase
    r"|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b",  # PascalCase with two humps
    re.S,
)


def protect(text: str, first: int = 0) -> tuple[str, list[str]]:
    """`text` with each code span replaced by a placeholder (numbered from `first`), and the spans in order."""
    spans: list[str] = []

    def keep(m: re.Match[str]) -> str:
        spans.append(m.group(0))
        return PLACEHOLDER.format(first + len(spans) - 1)

    return _CODE.sub(keep, text), spans


def restore(text: str, spans: list[str], first: int = 0) -> str | None:
    """The placeholders of `text` (numbered from `first`) replaced by their spans; None if one is
    missing, repeated or unknown."""
    found = [int(m.group(1)) - first for m in _PLACEHOLDER.finditer(text)]
    if sorted(found) != list(range(len(spans))):
        return None
    return _PLACEHOLDER.sub(lambda m: spans[int(m.group(1)) - first], text)
