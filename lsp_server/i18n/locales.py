"""Locale tags from the editor or the `language` setting -> the user's language.

Owns normalising a tag (`ja`, `ja-JP`, `ja_JP`, `en-US.UTF-8`, `zh-Hant-TW`) with Babel, choosing
between the setting and the editor's locale, and naming the language for prompts ("Japanese").
Never raises on bad input: an unknown or malformed tag is None, and the choice falls back to
English. Must not load catalogues (`messages`) or know about LSP.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

ENGLISH = "en"


@dataclass(frozen=True)
class UserLanguage:
    code: str  # the language subtag, e.g. "ja": picks the message catalogue and the script
    script: str | None  # Babel's script subtag when the tag has one, e.g. "Hant"
    name: str  # the language's English name, e.g. "Japanese", "Chinese (Traditional)": prompts say it

    @property
    def is_english(self) -> bool:
        return self.code == ENGLISH


def parse_locale(tag: object) -> UserLanguage | None:
    """A locale tag in any of the usual spellings -> its language, or None if it is not one."""
    if not isinstance(tag, str) or not tag.strip():
        return None
    try:
        loc = Locale.parse(tag.strip().split(".")[0].split("@")[0].replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    name = Locale(loc.language, script=loc.script).english_name or loc.language
    return UserLanguage(loc.language, loc.script, name)


def choose(setting: str, client_locale: str | None) -> UserLanguage:
    """The `language` setting when it is a locale, else the editor's locale, else English."""
    return parse_locale(setting) or parse_locale(client_locale) or english()


def english() -> UserLanguage:
    return UserLanguage(ENGLISH, None, "English")


def display_name(language: UserLanguage, ui: UserLanguage) -> str:
    """`language`'s name in the language `ui` ("Japanese" in English, "日本語" in Japanese)."""
    try:
        name = Locale(language.code, script=language.script).get_display_name(Locale(ui.code))
    except (ValueError, TypeError, UnknownLocaleError):
        name = None
    return name or language.name
