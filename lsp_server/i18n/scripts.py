"""Which writing system a text is in: the letters of each script, and whether a text is written
in a language's script.

Owns the script of a letter (from its Unicode name: LATIN, HIRAGANA, KATAKANA, CJK, HANGUL, ...),
leaving Markdown code spans and fenced blocks out of the count, and the script(s) each language
is written in. Script detection is enough to tell Japanese from English (the issue's measure:
the kana/kanji share of the letters); it cannot tell English from French. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# Fenced blocks first (a fence may hold backticks), then inline code spans of any backtick run.
_FENCED = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(^[ \t]*\1[ \t]*$|\Z)", re.S | re.M)
_INLINE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)

_BY_NAME = {"LATIN": "latin", "HIRAGANA": "kana", "KATAKANA": "kana", "KATAKANA-HIRAGANA": "kana", "CJK": "han",
            "IDEOGRAPHIC": "han", "HANGUL": "hangul", "CYRILLIC": "cyrillic", "GREEK": "greek", "ARABIC": "arabic",
            "HEBREW": "hebrew", "THAI": "thai", "DEVANAGARI": "devanagari"}
_WIDTH_WORDS = ("FULLWIDTH", "HALFWIDTH")

# The scripts a language is written in; any other language: Latin.
_LANGUAGE_SCRIPTS = {"ja": frozenset({"kana", "han"}), "zh": frozenset({"han"}), "ko": frozenset({"hangul", "han"}),
                     "ru": frozenset({"cyrillic"}), "uk": frozenset({"cyrillic"}), "bg": frozenset({"cyrillic"}),
                     "sr": frozenset({"cyrillic"}), "el": frozenset({"greek"}), "ar": frozenset({"arabic"}),
                     "fa": frozenset({"arabic"}), "he": frozenset({"hebrew"}), "th": frozenset({"thai"}),
                     "hi": frozenset({"devanagari"})}
LATIN = frozenset({"latin"})
WRITTEN_IN = 0.5  # a text whose letters are at least this share in a language's script is in it


def script_of(ch: str) -> str | None:
    """A letter's script ("latin", "kana", "han", ...; "other" for the rest), None for a non-letter."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    words = unicodedata.name(ch, "").split()
    if words and words[0] in _WIDTH_WORDS:
        words = words[1:]
    return _BY_NAME.get(words[0], "other") if words else "other"


def without_code(markdown: str) -> str:
    """Markdown prose only: fenced blocks and inline code spans removed."""
    return _INLINE.sub(" ", _FENCED.sub("\n", markdown))


def letter_scripts(text: str) -> Counter[str]:
    """How many letters of `text` are in each script."""
    return Counter(s for s in map(script_of, text) if s is not None)


def scripts_of_language(code: str) -> frozenset[str]:
    return _LANGUAGE_SCRIPTS.get(code, LATIN)


def share_in(text: str, code: str) -> float | None:
    """The share of the prose letters (code spans left out) in language `code`'s script; None
    when the text has no letters."""
    counts = letter_scripts(without_code(text))
    total = sum(counts.values())
    if not total:
        return None
    return sum(counts[s] for s in scripts_of_language(code)) / total


def written_in(text: str, code: str) -> bool:
    """Whether the prose of `text` is in language `code`'s script (Japanese also needs a kana:
    kanji alone is Chinese)."""
    share = share_in(text, code)
    if share is None or share < WRITTEN_IN:
        return False
    return code != "ja" or letter_scripts(without_code(text))["kana"] > 0
