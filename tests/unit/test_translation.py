"""Comment translation without a model: finding comments, protecting code, re-wrapping, layouts,
the offers, and turning canned model answers into an edit or a refusal."""

from __future__ import annotations

import pytest

from lsp_server.i18n.locales import parse_locale
from lsp_server.syntax.comments import comment_at
from lsp_server.syntax.languages import new_parser
from lsp_server.translation.layout import parse, rebuild
from lsp_server.translation.plan import answer_lines, finish_translate, find, offers, plan_translate
from lsp_server.translation.protect import code_spans, keep_code
from lsp_server.translation.wrap import join_lines, width, wrap


# -- code spans / keep_code ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, spans", [
    ("Return `x` plus one.", ["`x`"]),
    ("Use ``a `b`` here", ["``a `b``"]),
    ("See https://example.org/a_b.", ["https://example.org/a_b"]),
    ("@param {string} name the name", ["@param {string} name"]),
    (":param count: how many", [":param count:"]),
    ("Calls os.path.join() with max_len", ["os.path.join()", "max_len"]),
    ("A HashMap of myValue", ["HashMap", "myValue"]),
    ("値 `n` を返す。", ["`n`"]),
    ("e.g. the U.S. and i.e. this", []),
    ("See :class:`Foo` and std::vec::Vec", [":class:`Foo`", "std::vec::Vec"]),
])
def test_code_spans(text, spans):
    assert code_spans(text) == spans
    assert keep_code(text, spans) == text


@pytest.mark.parametrize("answer, result", [
    ("Gibt `a` und `b` zurück", "Gibt `a` und `b` zurück"),
    ("`b` then `a`", "`b` then `a`"),  # reordered: fine
    ("only `a`", None),  # lost
    ("`a` and `bb`", None),  # changed
    ("`a` and b", "`a` and `b`"),  # written without its backticks, once: they come back
    ("`a` and b, b", None),  # twice without: which one is the code?
    ("`a` and `b` and `c`", "`a` and `b` and `c`"),  # more code than the source: prose, allowed
])
def test_keep_code_refuses_lost_or_changed_code(answer, result):
    assert keep_code(answer, ["`a`", "`b`"]) == result


@pytest.mark.parametrize("answer, spans, result", [
    ("uses max_len2", ["max_len"], None),  # inside a longer identifier: not the same code
    ("uses max_len.", ["max_len"], "uses max_len."),
    ("`n` and `n`", ["`n`", "`n`"], "`n` and `n`"),
    ("`n` only", ["`n`", "`n`"], None),  # the source has it twice
    ("``x``", ["`x`"], None),  # a longer backtick run is other markup
])
def test_keep_code_counts_whole_spans(answer, spans, result):
    assert keep_code(answer, spans) == result


# -- wrap ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, columns", [("abc", 3), ("日本語", 6), ("ｱｲ", 2), ("a日", 3), ("", 0)])
def test_width(text, columns):
    assert width(text) == columns


@pytest.mark.parametrize("lines, joined", [
    (["Return the", "sum."], "Return the sum."),
    (["合計を", "返す。"], "合計を返す。"),
    (["値 `n` の", "合計"], "値 `n` の合計"),
    (["end of", "", "  line  "], "end of line"),
    (["漢字", "and"], "漢字 and"),
])
def test_join_lines(lines, joined):
    assert join_lines(lines) == joined


@pytest.mark.parametrize("text, first, rest, lines", [
    ("Return the sum of `a` and `b`, both ints.", 20, None, ["Return the sum of", "`a` and `b`, both", "ints."]),
    ("a `very long code span` b", 8, None, ["a", "`very long code span`", "b"]),
    ("値の合計を返す。両方とも整数です。", 10, None, ["値の合計を", "返す。両方", "とも整数で", "す。"]),
    ("合計、そして", 4, None, ["合計、", "そし", "て"]),  # no line starts with 、
    ("one two three", 3, 7, ["one", "two", "three"]),
    ("⟦0⟧ and ⟦1⟧", 5, None, ["⟦0⟧", "and", "⟦1⟧"]),
])
def test_wrap(text, first, rest, lines):
    assert wrap(text, first, rest) == lines


# -- layouts ---------------------------------------------------------------------------------------------

LAYOUTS = [
    # kind, text before the block on its line, block, paragraphs
    ("line", "    ", "# Return the sum of `a` and `b`.\n    # Both are ints.", ["Return the sum of `a` and `b`. Both are ints."]),
    ("line", "x = 1  ", "# trailing note", ["trailing note"]),
    ("line", "", "// one\n//\n// two", ["one", "two"]),
    ("line", "", "/// Doc line one\n/// - item one\n/// - item two", ["Doc line one", "item one", "item two"]),
    ("docstring", "    ", '"""Return the sum.\n\n    Args:\n        a: first\n        b: second\n\n    >>> add(1, 2)\n    3\n    """',
     ["Return the sum.", "Args:", "a: first", "b: second"]),
    ("docstring", "    ", '"""One line."""', ["One line."]),
    ("docstring", "", "r'''Raw doc.'''", ["Raw doc."]),
    ("block", "", "/**\n * Adds two numbers.\n * @param a the first\n * @return the sum\n */",
     ["Adds two numbers.", "@param a the first", "@return the sum"]),
    ("block", "", "/* short */", ["short"]),
    ("block", "\t", "/* first line\n\t   second line */", ["first line second line"]),
    ("block", "", "/*\n  Plain block\n  more\n*/", ["Plain block more"]),
    ("line", "", "# Example:\n#\n# ```\n# x = 1\n# ```", ["Example:"]),
    ("docstring", "    ", '"""Summary.\r\n\r\n    Details here.\r\n    """', ["Summary.", "Details here."]),  # CRLF
    ("block", "", "/**\n * Summary.\n *\n *     indented()\n */", ["Summary.", "indented()"]),
]


@pytest.mark.parametrize("kind, before, block, prose", LAYOUTS)
def test_layout_keeps_the_comment_as_it_is(kind, before, block, prose):
    layout = parse(block, kind, before)
    assert layout.prose == prose
    if all(len(p.lines) == 1 for p in layout.paras if not p.verbatim):
        assert rebuild(layout, layout.prose) == block


@pytest.mark.parametrize("kind, before, block, translated, expected", [
    ("line", "    ", "# `a` と `b` の合計を返す。\n    # 両方とも整数。", ["Return the sum of `a` and `b`; both are ints."],
     "# Return the sum of `a` and\n    # `b`; both are ints."),  # the widest line was 31 columns
    ("line", "x = 1  ", "# 注記", ["a note that is much longer than the original comment and stays on the line"],
     "# a note that is much longer than the original comment and stays on the line"),
    ("docstring", "    ", '"""合計を返す。\n\n    Args:\n        a: 一つ目\n    """', ["Return the sum.", "Args:", "a: the first one"],
     '"""Return the sum.\n\n    Args:\n        a: the first one\n    """'),
    ("block", "", "/**\n * 二つの数を足す。\n * @param a 一つ目\n */", ["Adds two numbers.", "@param a the first"],
     "/**\n * Adds two numbers.\n * @param a the first\n */"),
    ("line", "", "// - 一つ目の項目\n// - 二つ目", ["the first item", "the second"], "// - the first item\n// - the second"),
    ("block", "", "/* 短い */", ["short"], "/* short */"),
])
def test_rebuild_with_a_translation(kind, before, block, translated, expected):
    assert rebuild(parse(block, kind, before), translated) == expected


def test_rebuild_rewraps_to_the_original_width():
    block = "# " + "word " * 14 + "end\n# and more words here"
    layout = parse(block, "line", "")
    out = rebuild(layout, ["x" * 5 + " " + "word " * 30])
    assert max(width(line) for line in out.split("\n")) <= max(width(line) for line in block.split("\n"))


# -- finding comments ----------------------------------------------------------------------------------

FIND = [
    # language, source, probe (the text at the cursor), the block found (None: code)
    ("python", "x = 1\n# first\n# second\ny = 2\n", "second", "# first\n# second"),
    ("python", "x = 1  # trailing\n# next\n", "trailing", "# trailing"),
    ("python", "x = 1  # trailing\n# next\n", "next", "# next"),
    ("python", "def f():\n    \"\"\"Doc `x`.\"\"\"\n    return 1\n", "Doc", '"""Doc `x`."""'),
    ("python", "def f():\n    return 1\n", "return", None),
    ("python", "s = 'not a # comment'\n", "not", None),
    ("python", "# a\n\n# b\n", "b", "# b"),  # a blank line ends a run
    ("python", "    # indented\n# other column\n", "indented", "# indented"),
    ("javascript", "// one\n// two\nconst x = 1;\n", "one", "// one\n// two"),
    ("javascript", "/** JSDoc `x` */\nfunction f() {}\n", "JSDoc", "/** JSDoc `x` */"),
    ("typescript", "let a: number = 1; // the count\n", "count", "// the count"),
    ("go", "// Package x does y.\npackage x\n", "Package", "// Package x does y."),
    ("c", "/* block\n   comment */\nint x;\n", "comment", "/* block\n   comment */"),
    ("c", "int x; /* after */\n", "int", None),
    ("rust", "/// Doc one\n/// Doc two\nfn f() {}\n", "two", "/// Doc one\n/// Doc two"),
    ("rust", "//! inner\n/// outer\nfn f() {}\n", "outer", "/// outer"),
    ("java", "class A {\n  // note\n  int x;\n}\n", "note", "// note"),
    ("cpp", "int y; // c++ note\n", "note", "// c++ note"),
]


@pytest.mark.parametrize("language, source, probe, found", FIND)
def test_comment_at(language, source, probe, found):
    tree = new_parser(language).parse(source.encode())
    at = source.index(probe)
    block = comment_at(tree, source, at, at)
    assert (None if block is None else source[block.start:block.end]) == found


def test_a_cursor_in_the_indentation_finds_the_comment_of_its_line():
    source = "def f():\n    # note\n    return 1\n"
    tree = new_parser("python").parse(source.encode())
    block = comment_at(tree, source, source.index("    # note"), source.index("    # note"))
    assert block is not None and source[block.start:block.end] == "# note"


def test_a_selection_limits_a_run_to_its_lines():
    source = "# one\n# two\n# three\n"
    tree = new_parser("python").parse(source.encode())
    block = comment_at(tree, source, source.index("two"), source.index("three") + 2)
    assert source[block.start:block.end] == "# two\n# three"


# -- offers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("prose, user, expected", [
    (["合計を返す"], "ja", ["en"]),
    (["Return the sum"], "ja", ["ja"]),
    (["合計を返す"], "en", ["en"]),
    (["Return the sum"], "en", []),
    (["Возвращает"], "ja", ["en", "ja"]),
    (["Return the sum"], "fr", []),  # script detection cannot tell French from English
])
def test_offers(prose, user, expected):
    assert [t.code for t in offers(prose, parse_locale(user))] == expected


# -- plan and finish -------------------------------------------------------------------------------------

SOURCE = "def add(a, b):\n    # `a` と `b` の合計を返す。\n    return a + b\n"


def _plan(source=SOURCE, language="python", probe="合計", target="en"):
    tree = new_parser(language).parse(source.encode())
    at = source.index(probe)
    return tree, plan_translate(text=source, tree=tree, language=language, path="calc.py", start=at, end=at,
                                target=parse_locale(target))


def test_the_prompt_holds_the_comment_as_written():
    _tree, plan = _plan()
    user = plan.messages[1]["content"]
    assert "`a` と `b` の合計を返す。" in user and "English" in user
    assert plan.spans == [["`a`", "`b`"]]


def test_no_comment_no_plan():
    tree = new_parser("python").parse(SOURCE.encode())
    at = SOURCE.index("return")
    assert plan_translate(text=SOURCE, tree=tree, language="python", path="p", start=at, end=at,
                          target=parse_locale("en")) == "there is no comment here to translate"


@pytest.mark.parametrize("answer, edit, reason", [
    ("```text\nReturn the sum of `a` and `b`.\n```", "# Return the sum of `a` and `b`.", None),
    ("Return the sum of `a` and `b`.", "# Return the sum of `a` and `b`.", None),
    ("Return the sum of `a`.", None, "lost or changed code"),
    ("Return the sum of a and b.", "# Return the sum of `a` and `b`.", None),  # backticks put back
    ("Return the sum of `a` and `c`.", None, "lost or changed code"),
    ("`a` と `b` の合計を返す。", None, "not in English"),
    ("`a` `b` " + "x" * 60, None, "not a translation"),
    ("", None, "paragraph"),
])
def test_finish(answer, edit, reason):
    _tree, plan = _plan()
    outcome = finish_translate(plan, text=SOURCE, language="python", answer=answer)
    assert (outcome.edit and outcome.edit[2]) == edit
    assert (reason is None) == (outcome.reason is None) and (reason is None or reason in outcome.reason)


@pytest.mark.parametrize("language, source, probe, answer, reason", [
    ("c", "/* 値を返す `x` */\nint f(void) { return 1; }\n", "値", "returns `x` */ int y; /* the value", "code around it"),
    ("python", 'def f():\n    """値 `x` を返す。"""\n', "値", 'returns `x` """; import os; """', "code around it"),
    ("python", "x = 1  # 値 `x`\n", "値", "value `x`\nsecond", None),  # one paragraph: the lines are joined
])
def test_an_answer_that_would_break_the_file_is_refused(language, source, probe, answer, reason):
    _tree, plan = _plan(source, language, probe)
    outcome = finish_translate(plan, text=source, language=language, answer=answer)
    if reason is None:
        assert outcome.reason is None and "\n" not in outcome.edit[2]
    else:
        assert outcome.edit is None and reason in outcome.reason


def test_answer_lines():
    assert answer_lines("Sure:\n```text\none\n\ntwo\n```\nbye") == ["one", "two"]
    assert answer_lines("one\n two \n") == ["one", "two"]


def test_find_skips_comments_it_cannot_lay_out():
    source = "x = 1\n"
    tree = new_parser("python").parse(source.encode())
    assert find(tree, source, 0, 0) is None


def test_the_refusal_names_the_target_language_in_the_users_language():
    from lsp_server.i18n.locales import parse_locale

    _tree, plan = _plan()
    answer = "`a` と `b` の合計を返す。"
    assert "English" in finish_translate(plan, text=SOURCE, language="python", answer=answer).reason
    assert "英語" in finish_translate(plan, text=SOURCE, language="python", answer=answer, ui=parse_locale("ja")).reason
