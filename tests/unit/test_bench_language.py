"""The language benchmarks' pure parts: scoring explanations by script, rendering the comment
pairs, finding the translated prose, the code-intact check, and the summaries."""

from __future__ import annotations

import pytest

from benchmarks.language import explain_lang, translate
from lsp_server.i18n.locales import parse_locale
from lsp_server.syntax.languages import new_parser
from lsp_server.translation.plan import find, offers


@pytest.mark.parametrize("answer, code, share, in_language", [
    ("この関数は `xs` の合計を返します。\n\n- ループで足す", "ja", 1.0, True),
    ("This function returns the sum.", "ja", 0.0, False),
    ("This function returns the sum.", "en", 1.0, True),
    ("```python\nreturn 1\n```", "en", None, False),
    ("合計 sum total value here", "ja", 2 / 19, False),  # two kanji, no kana, mostly Latin
])
def test_explanation_score(answer, code, share, in_language):
    assert explain_lang.score(answer, code) == {"share": share if share is None else pytest.approx(share, abs=1e-3),
                                                "in_language": in_language}


def test_explanation_summary():
    rows = [
        {"requested": "ja", "seconds": 1.0, "share": 1.0, "in_language": True},
        {"requested": "ja", "seconds": 3.0, "share": 0.5, "in_language": False},
        {"requested": "ja", "error": "boom"},
        {"requested": "en", "seconds": 2.0, "share": 1.0, "in_language": True},
    ]
    assert explain_lang.summary(rows) == {
        "en": {"answers": 1, "errors": 0, "in_language": 1, "in_language_share": 1.0, "mean_letter_share": 1.0, "median_s": 2.0},
        "ja": {"answers": 3, "errors": 1, "in_language": 1, "in_language_share": 0.3333, "mean_letter_share": 0.75, "median_s": 2.0},
    }


def test_the_explain_inputs_are_at_least_30_in_several_languages():
    rows = explain_lang.load_inputs()
    assert len(rows) >= 30 and len({r["language"] for r in rows}) >= 5
    assert all(r["source"] and r["code"].strip() for r in rows)


PAIR = {"id": "x", "language": "python", "style": "line", "code": "def f():\n    {comment}\n    return 1\n",
        "ja": "`x` を返す。", "en": "Return `x`."}


@pytest.mark.parametrize("style, language, which, expected", [
    ("line", "python", "en", "def f():\n    # Return `x`.\n    return 1\n"),
    ("docstring", "python", "ja", 'def f():\n    """`x` を返す。"""\n    return 1\n'),
    ("block", "c", "en", "def f():\n    /** Return `x`. */\n    return 1\n"),
    ("doc", "rust", "en", "def f():\n    /// Return `x`.\n    return 1\n"),
    ("line", "go", "en", "def f():\n    // Return `x`.\n    return 1\n"),
])
def test_render(style, language, which, expected):
    text, offset = translate.render(PAIR | {"style": style, "language": language}, which)
    assert text == expected and offset == 13


def test_every_pair_is_offered_in_both_directions():
    pairs = translate.load_pairs()
    assert len(pairs) >= 60 and {p["language"] for p in pairs} >= {"python", "javascript", "typescript", "go", "c", "rust"}
    for pair in pairs:
        for source, target in translate.DIRECTIONS:
            text, offset = translate.render(pair, source)
            found = find(new_parser(pair["language"]).parse(text.encode()), text, offset + 1, offset + 1)
            assert found is not None, (pair["id"], source)
            assert translate.comment_prose(text, offset, pair["language"]) == pair[source]
            assert target in [t.code for t in offers(found[1].prose, parse_locale(target))], (pair["id"], source)


@pytest.mark.parametrize("after, intact", [
    ("x = 1\n# Return it.\ny = 2\n", True),
    ("x = 1\n# Return it.\ny = 3\n", False),  # code after it changed
    ("x = 2\n# Return it.\ny = 2\n", False),  # code before it changed
    ("x = 1\n# Return\nit.\ny = 2\n", False),  # the comment spilled into code
])
def test_code_intact(after, intact):
    before = "x = 1\n# 返す。\ny = 2\n"
    assert translate.code_intact(before, after, 6, 12, "python") is intact


def test_translation_summary():
    rows = [
        {"direction": "ja-en", "reference": "Return the sum.", "hypothesis": "Return the sum.", "outcome": "edit", "seconds": 1.0},
        {"direction": "ja-en", "reference": "Add two numbers.", "outcome": "refused", "reason": "lost", "seconds": 3.0},
        {"direction": "ja-en", "reference": "Sort.", "outcome": "not offered"},
        {"direction": "en-ja", "reference": "合計を返す。", "hypothesis": "x", "outcome": "broke", "seconds": 2.0},
    ]
    s = translate.summary(rows)
    assert s["ja-en"] | {"chrf_all": None} == {"pairs": 3, "offered": 2, "edits": 1, "broke": 0, "broke_rate": 0.0, "errors": 0,
                                               "refused": {"lost": 1}, "chrf_all": None, "chrf_edited": 100.0, "median_s": 2.0}
    assert 0 < s["ja-en"]["chrf_all"] < 100
    assert s["en-ja"]["broke"] == 1 and s["en-ja"]["broke_rate"] == 1.0
