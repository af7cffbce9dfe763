"""The user's language: locale tags, script detection, and the message catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lsp_server.fixes.plan import plan_explain, plan_fix
from lsp_server.i18n import messages
from lsp_server.i18n.locales import UserLanguage, choose, display_name, english, parse_locale
from lsp_server.i18n.scripts import script_of, share_in, without_code, written_in
from lsp_server.syntax.languages import new_parser

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "lsp_server" / "locale"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("tag, expected", [
    ("ja", ("ja", None, "Japanese")),
    ("ja-JP", ("ja", None, "Japanese")),
    ("ja_JP", ("ja", None, "Japanese")),
    ("en-US", ("en", None, "English")),
    ("en_US.UTF-8", ("en", None, "English")),
    ("zh-Hant-TW", ("zh", "Hant", "Chinese (Traditional)")),
    ("pt-BR", ("pt", None, "Portuguese")),
    (" fr ", ("fr", None, "French")),
    ("", None),
    ("xx", None),
    ("123", None),
    ("de-DE-u-co-phonebk", None),
    (None, None),
    (42, None),
])
def test_parse_locale(tag, expected):
    got = parse_locale(tag)
    assert (None if got is None else (got.code, got.script, got.name)) == expected


@pytest.mark.parametrize("setting, client, expected", [
    ("", "ja-JP", "ja"),
    ("en", "ja", "en"),
    ("ja", None, "ja"),
    ("", None, "en"),
    ("nonsense!", "ja", "ja"),  # a bad setting: the editor's locale
    ("", "xx-YY", "en"),
])
def test_the_setting_wins_over_the_editor_locale(setting, client, expected):
    assert choose(setting, client).code == expected


@pytest.mark.parametrize("language, ui, expected", [
    ("ja", "en", "Japanese"),
    ("ja", "ja", "日本語"),
    ("en", "ja", "英語"),
    ("en", "en", "English"),
])
def test_display_name(language, ui, expected):
    assert display_name(parse_locale(language), parse_locale(ui)) == expected


@pytest.mark.parametrize("ch, script", [
    ("a", "latin"), ("É", "latin"), ("ａ", "latin"), ("あ", "kana"), ("ア", "kana"), ("ｱ", "kana"), ("ー", "kana"),
    ("漢", "han"), ("々", "han"), ("한", "hangul"), ("ж", "cyrillic"), ("λ", "greek"), ("1", None), ("。", None),
    (" ", None), ("_", None),
])
def test_script_of(ch, script):
    assert script_of(ch) == script


@pytest.mark.parametrize("markdown, prose", [
    ("see `foo_bar` here", "see   here"),
    ("a\n```python\nx = 1\n```\nb", "a\n\n\nb"),
    ("``a`b`` c", "  c"),
    ("no code", "no code"),
])
def test_without_code(markdown, prose):
    assert without_code(markdown) == prose


@pytest.mark.parametrize("text, code, share, written", [
    ("この関数は `numbers` の合計を返します。", "ja", 1.0, True),
    ("This returns the sum of `numbers`.", "en", 1.0, True),
    ("This returns the sum of `numbers`.", "ja", 0.0, False),
    ("この関数は sum を返す", "ja", 8 / 11, True),
    ("此函数返回总和", "ja", 1.0, False),  # kanji only: Chinese, not Japanese
    ("```python\nreturn x\n```\n合計を返す", "ja", 1.0, True),
    ("```python\nreturn x\n```", "en", None, False),  # no prose at all
    ("Возвращает сумму", "ru", 1.0, True),
])
def test_share_in_a_language(text, code, share, written):
    got = share_in(text, code)
    assert (got if got is None else round(got, 3)) == (share if share is None else round(share, 3))
    assert written_in(text, code) is written


def test_english_is_english():
    assert english() == UserLanguage("en", None, "English") and english().is_english


# -- catalogues -----------------------------------------------------------------------------------

def _code_messages() -> set[str]:
    found = extract_from_dir(str(ROOT / "lsp_server"), keywords={"_": None, "N_": None},
                             method_map=[("**.py", "python")])
    return {msg if isinstance(msg, str) else msg[0] for _path, _line, msg, _comments, _ctx in found}


def _po(code: str):
    with open(LOCALE / code / "LC_MESSAGES" / "local-llm-lsp.po", "rb") as fp:
        return read_po(fp)


def test_every_message_in_the_code_is_in_the_catalogues():
    in_code = _code_messages()
    assert in_code, "no message was extracted"
    for code in ("en", "ja"):
        in_po = {m.id for m in _po(code) if m.id}
        assert in_code <= in_po, f"{code}: run pybabel extract/update (lsp_server/locale/README.md): {sorted(in_code - in_po)}"


def test_every_message_has_a_japanese_translation_with_the_same_placeholders():
    for m in _po("ja"):
        if not m.id:
            continue
        assert m.string and not m.fuzzy, f"no Japanese for {m.id!r}"
        assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", m.string), f"not Japanese: {m.string!r}"


@pytest.mark.parametrize("code", ["en", "ja"])
def test_each_mo_is_its_po_compiled(code):
    po = {m.id: m.string for m in _po(code) if m.id and m.string}
    with open(LOCALE / code / "LC_MESSAGES" / "local-llm-lsp.mo", "rb") as fp:
        mo = {m.id: m.string for m in read_mo(fp) if m.id}
    assert mo == po, "run pybabel compile (lsp_server/locale/README.md)"


@pytest.fixture
def language():
    yield messages.use
    messages.use("en")


def test_messages_follow_the_language(language):
    language("ja")
    assert messages._("Fix with local model") == "ローカルモデルで修正"
    assert messages._("no fix: {reason}", reason="x") == "修正なし: x"
    language("en")
    assert messages._("no fix: {reason}", reason="x") == "no fix: x"
    language("xx")  # no catalogue: English
    assert messages._("Fix with local model") == "Fix with local model"


@pytest.mark.parametrize("data", [b"", b"garbage", b"\xde\x12\x04\x95" + b"\0" * 4 + b"\x05\0\0\0" + b"\x1c\0\0\0\xe8\x03\0\0"])
def test_a_broken_catalogue_is_english(tmp_path, data):
    mo = tmp_path / "broken.mo"
    mo.write_bytes(data)
    assert messages.load(mo).gettext("Fix with local model") == "Fix with local model"
    assert messages.load(tmp_path / "missing.mo").gettext("x") == "x"


def test_a_translation_with_a_wrong_placeholder_gives_the_english_one(monkeypatch):
    class Wrong:
        def gettext(self, message: str) -> str:
            return "壊れた {nothing}"

    monkeypatch.setattr(messages, "_current", Wrong())
    assert messages._("no fix: {reason}", reason="x") == "no fix: x"


# -- prompts: the language is data, one template --------------------------------------------------

def test_explanations_and_fixes_are_asked_for_in_the_users_language():
    text = "def add(a, b):\n    return a - b\n"
    tree = new_parser("python").parse(text.encode())
    for answer_language in ("Japanese", "English"):
        explain = plan_explain(text=text, tree=tree, language="python", path="a.py", start=20, end=20,
                               answer_language=answer_language)
        fix = plan_fix(text=text, tree=tree, language="python", path="a.py", start=20, end=20, problem=None,
                       answer_language=answer_language)
        for chat in (explain.messages, fix.messages):
            assert answer_language in chat[0]["content"]
            assert "{answer_language}" not in chat[0]["content"] + chat[1]["content"]


@pytest.mark.parametrize("tag, note", [
    ("ja", "回答はすべて日本語で書いてください。"),  # from the Japanese catalogue
    ("en", "Write the whole answer in English."),
    ("fr", "Write the whole answer in français."),  # no catalogue: English, with the language's own name
    ("zh-Hant", "Write the whole answer in 中文 (繁体)."),
])
def test_the_answer_note_is_written_in_the_answers_language(tag, note):
    assert messages.answer_note(parse_locale(tag)) == note


def test_the_explain_prompt_ends_with_the_note_in_the_users_language():
    text = "def add(a, b):\n    return a - b\n"
    tree = new_parser("python").parse(text.encode())
    note = messages.answer_note(parse_locale("ja"))
    plan = plan_explain(text=text, tree=tree, language="python", path="a.py", start=20, end=20,
                        answer_language="Japanese", answer_note=note)
    assert plan.messages[1]["content"].endswith("\n\n" + note)
    assert "{answer_note}" not in plan.messages[1]["content"]
