"""The server's own messages in the user's language: gettext catalogues shipped in the package.

Owns the current catalogue (one client per server process, so one language at a time: `use`),
`_` for a message (named `{placeholders}` are filled after translating, so a translation may
reorder them) and `N_` to mark a message that is translated later. The catalogues are
`locale/<code>/LC_MESSAGES/local-llm-lsp.mo`, compiled from the `.po` files by Babel
(`pybabel compile`, see locale/README.md). A missing or broken catalogue is English, never an
error. Must not know about LSP.
"""

from __future__ import annotations

import gettext
import logging
import struct
from functools import lru_cache
from importlib.resources.abc import Traversable

from lsp_server.data import package_file
from lsp_server.i18n.locales import UserLanguage, display_name

log = logging.getLogger(__name__)

DOMAIN = "local-llm-lsp"
_current: gettext.NullTranslations = gettext.NullTranslations()


def mo_file(code: str) -> Traversable:
    return package_file("locale", code, "LC_MESSAGES", f"{DOMAIN}.mo")


@lru_cache(maxsize=None)
def catalogue(code: str) -> gettext.NullTranslations:
    """The compiled catalogue for language `code`; English (the message ids) when there is none."""
    return load(mo_file(code))


def load(mo: Traversable) -> gettext.NullTranslations:
    """A compiled catalogue; English when it is missing or damaged."""
    try:
        with mo.open("rb") as fp:
            return gettext.GNUTranslations(fp)
    except FileNotFoundError:
        return gettext.NullTranslations()
    except (OSError, ValueError, UnicodeDecodeError, LookupError, IndexError, struct.error) as exc:  # damaged: English
        log.warning("the message catalogue %s is unusable (%s); messages stay in English", mo, exc)
        return gettext.NullTranslations()


def use(code: str) -> None:
    """Make `code`'s catalogue the one `_` translates with."""
    global _current
    _current = catalogue(code)


def _(message: str, **values: object) -> str:
    """`message` in the current language, its `{name}` placeholders filled from `values`."""
    text = _current.gettext(message)
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder: the English one
        return message.format(**values)


def N_(message: str) -> str:
    """Mark `message` for the catalogue; it is translated where it is shown (`_(message)`)."""
    return message


ANSWER_NOTE = N_("Write the whole answer in {language}.")


def answer_note(language: UserLanguage) -> str:
    """The request to answer in `language`, written in that language itself when it has a catalogue
    ("回答はすべて日本語で書いてください。"), else in English with the language's own name
    ("Write the whole answer in français."). Models follow an instruction in the answer's language
    far more often than the English one alone (benchmarks/language/explain_lang.py)."""
    text = catalogue(language.code).gettext(ANSWER_NOTE)
    name = display_name(language, language)
    try:
        return text.format(language=name)
    except (KeyError, IndexError, ValueError):
        return ANSWER_NOTE.format(language=name)
