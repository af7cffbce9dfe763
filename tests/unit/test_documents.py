"""The text model: LSP line splitting, position encodings, incremental edits, tree updates."""

from __future__ import annotations

import random

import pytest

from lsp_server.lsp.documents import UTF8, UTF16, UTF32, Document, line_starts, offset_to_position, position_to_offset


@pytest.mark.parametrize(
    "text, starts",
    [
        ("", [0]),
        ("a", [0]),
        ("a\nb", [0, 2]),
        ("a\r\nb", [0, 3]),
        ("a\rb", [0, 2]),
        ("a\n\nb\n", [0, 2, 3, 5]),
        ("a\fb\u2028c\u2029d\x85e\vf", [0]),  # only \n, \r\n and \r end LSP lines
        ("x\r\r\ny", [0, 2, 4]),
    ],
    ids=["empty", "one", "lf", "crlf", "cr", "blank-lines", "no-unicode-separators", "cr-then-crlf"],
)
def test_line_starts(text, starts):
    assert line_starts(text) == starts


EMOJI = "s = '😀'; x = 1\r\nnext"

POSITIONS = [
    # (text, line, character, encoding, offset)
    (EMOJI, 0, 5, UTF16, 5),  # just before the emoji
    (EMOJI, 0, 7, UTF16, 6),  # after the emoji: 2 UTF-16 units
    (EMOJI, 0, 6, UTF16, 6),  # inside the surrogate pair: snaps to the character's end
    (EMOJI, 0, 9, UTF8, 6),  # after the emoji: 4 UTF-8 bytes
    (EMOJI, 0, 6, UTF32, 6),
    (EMOJI, 0, 99, UTF16, len("s = '😀'; x = 1")),  # past the line end: clamped before \r\n
    (EMOJI, 1, 2, UTF16, len("s = '😀'; x = 1\r\n") + 2),
    (EMOJI, 7, 0, UTF16, len(EMOJI)),  # past the last line: end of document
    ("é\nb", 0, 2, UTF8, 1),
    ("a\u2028b\nc", 0, 3, UTF16, 3),  # U+2028 is an ordinary character
    ("a\u2028b\nc", 1, 0, UTF16, 4),
]


@pytest.mark.parametrize("text, line, character, encoding, offset", POSITIONS)
def test_position_to_offset(text, line, character, encoding, offset):
    assert position_to_offset(text, line_starts(text), line, character, encoding) == offset


@pytest.mark.parametrize(
    "text, offset, encoding, position",
    [
        (EMOJI, 6, UTF16, (0, 7)),
        (EMOJI, 6, UTF8, (0, 9)),
        (EMOJI, 6, UTF32, (0, 6)),
        (EMOJI, len(EMOJI), UTF16, (1, 4)),
        ("a\r\nb", 3, UTF16, (1, 0)),
    ],
)
def test_offset_to_position(text, offset, encoding, position):
    assert offset_to_position(text, line_starts(text), offset, encoding) == position


EDITS = [
    # (initial text, (start line, start char, end line, end char), inserted, expected text)
    ("def f():\n    return 1\n", (1, 11, 1, 12), "2", "def f():\n    return 2\n"),
    ("a\r\nb\r\n", (1, 0, 1, 1), "xyz", "a\r\nxyz\r\n"),
    ("😀x\n", (0, 2, 0, 3), "y", "😀y\n"),  # UTF-16 columns after an emoji
    ("abc", (0, 1, 5, 0), "", "a"),  # end past the document: clamped
    ("abc", (0, 2, 0, 1), "Z", "abZc"),  # reversed range: treated as empty at start
    ("x = 1\n", (1, 0, 1, 0), "y = 2\n", "x = 1\ny = 2\n"),
]


@pytest.mark.parametrize("text, rng, inserted, expected", EDITS)
def test_apply_change(text, rng, inserted, expected):
    doc = Document.open("file:///t.py", "python", 1, text)
    doc.apply_change(inserted, rng, UTF16)
    assert doc.text == expected
    assert doc.starts == line_starts(expected)


def _sexp(doc: Document) -> str:
    return str(doc.tree.root_node)


@pytest.mark.parametrize("language, uri, text", [
    ("python", "file:///t.py", "def f(a):\n    if a:\n        return [1, 2]\n    return {'k': 'v'}\n\nclass C:\n    pass\n"),
    ("javascript", "file:///t.js", "function f(a) {\n  if (a) { return [1, 2]; }\n  return {k: 'v'};\n}\n"),
    ("go", "file:///t.go", "package p\n\nfunc F(a int) int {\n\tif a > 0 {\n\t\treturn a\n\t}\n\treturn 0\n}\n"),
    ("rust", "file:///t.rs", "fn f(a: i32) -> i32 {\n    if a > 0 { a } else { 0 }\n}\n"),
    ("c", "file:///t.c", "int f(int a) {\r\n  return a > 0 ? a : 0;\r\n}\r\n"),
])
def test_incremental_tree_equals_fresh_parse(language, uri, text):
    rng = random.Random(42)
    doc = Document.open(uri, language, 1, text)
    alphabet = ["x", " ", "\n", "(", ")", "{", "}", "é", "😀", "\r\n", ":", "return "]
    for _ in range(60):
        start = rng.randrange(len(doc.text) + 1)
        end = min(len(doc.text), start + rng.randrange(4))
        sl, sc = doc.position_at(start, UTF16)
        el, ec = doc.position_at(end, UTF16)
        doc.apply_change(rng.choice(alphabet), (sl, sc, el, ec), UTF16)
        fresh = Document.open(uri, language, 1, doc.text)
        assert _sexp(doc) == _sexp(fresh)


def test_snapshot_tree_survives_later_edits():
    from lsp_server.lsp.documents import DocumentStore

    store = DocumentStore()
    store.open("file:///t.py", "python", 1, "x = 1\n")
    snap = store.snapshot("file:///t.py", 0, 5)
    before = str(snap.tree.root_node)
    store.get("file:///t.py").apply_change("def g():\n    pass\n", (0, 0, 0, 0))
    assert str(snap.tree.root_node) == before and snap.text == "x = 1\n"


def test_unknown_language_has_no_tree():
    doc = Document.open("file:///notes.txt", "plaintext", 1, "hello")
    assert doc.tree is None and doc.language is None
    doc.apply_change("!", (0, 5, 0, 5))
    assert doc.text == "hello!"


@pytest.mark.parametrize("uri, language_id, languages, expected", [
    ("file:///t.py", "python", ("python",), True),
    ("file:///t.py", "python", ("javascript", "c"), False),
    ("file:///t.py", "python", (), False),
    ("file:///t.py", "python", ("*",), True),
    ("file:///t.tsx", "typescriptreact", ("typescriptreact",), True),  # the editor's languageId
    ("file:///t.tsx", "typescriptreact", ("tsx",), True),  # ours
    ("file:///notes.txt", "plaintext", ("",), False),  # no language of ours: not named by ""
    ("file:///notes.txt", "plaintext", ("*",), True),
])
def test_a_settings_list_of_languages_names_a_document(uri, language_id, languages, expected):
    from lsp_server.lsp.documents import DocumentStore

    store = DocumentStore()
    store.open(uri, language_id, 1, "x\n")
    assert store.snapshot(uri, 0, 0).is_one_of(languages) is expected
