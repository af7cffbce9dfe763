"""Code inside comment prose, kept byte-identical through a translation.

Owns which spans are code or markup (backtick spans of any length, URLs, doc tags with their
argument such as `@param name` and `:param name:`, reST roles, identifiers that can only be code:
`snake_case`, `dotted.names`, `calls()`, `camelCase`) and the check that a translation kept every
one of them byte for byte (`keep_code`). The model sees the prose as written: numbered
placeholders in their place were dropped by the 1.5B in 11 of 60 comments (a placeholder that
starts the sentence most of all), code in backticks in 4 (benchmarks/language/translate.py).
A code span the model wrote back without its backticks, once, as a whole word, gets them back;
any other loss or change refuses the answer. Pure.
"""

from __future__ import annotations

import re
from collections import Counter

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


def code_spans(text: str) -> list[str]:
    """The code spans of `text`, in order."""
    return [m.group(0) for m in _CODE.finditer(text)]


def _occurrences(span: str, text: str) -> list[re.Match[str]]:
    """`span` in `text` as a whole: not inside a longer word or backtick run."""
    before = r"(?<![\w`])" if re.match(r"[\w`]", span) else ""
    after = r"(?![\w`])" if re.search(r"[\w`]$", span) else ""
    return list(re.finditer(before + re.escape(span) + after, text))


def keep_code(answer: str, spans: list[str]) -> str | None:
    """`answer` when it has each of `spans` byte for byte, as many times as the source; a span in
    backticks that the answer has once without them (a whole word) is put back in them. None when
    a span is lost or changed."""
    for span, wanted in Counter(spans).items():
        have = len(_occurrences(span, answer))
        if have >= wanted:
            continue
        bare = span.strip("`")
        if wanted - have == 1 and span.startswith("`") and bare and "`" not in bare:
            loose = _occurrences(bare, answer)
            if len(loose) == 1:
                m = loose[0]
                answer = answer[:m.start()] + span + answer[m.end():]
                continue
        return None
    return answer
