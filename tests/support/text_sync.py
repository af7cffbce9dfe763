"""A reference model of LSP document text, and hypothesis strategies of edit sequences.

The reference is written from the LSP specification, independently of `lsp_server.lsp.documents`:
lines end at `\\n`, `\\r\\n` or `\\r` only; a position is (line, character) in UTF-8, UTF-16 or
UTF-32 code units; a character past the end of a line means the end of that line's content; a
line past the last means the end of the document; a position inside a character (half of a
surrogate pair, inside a UTF-8 sequence) means the end of that character; a range whose end
comes before its start is an insertion at its start. Used by tests/unit/test_text_sync_fuzz.py
and benchmarks/robustness/text_sync.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from lsp_server.lsp.documents import Document

ENCODINGS = ("utf-8", "utf-16", "utf-32")


def reference_lines(text: str) -> list[tuple[int, int]]:
    """(start, content end) of each line, by walking the characters."""
    lines, start, i = [], 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            lines.append((start, i))
            i += 2
            start = i
        elif ch in "\r\n":
            lines.append((start, i))
            i += 1
            start = i
        else:
            i += 1
    lines.append((start, len(text)))
    return lines


def code_units(ch: str, encoding: str) -> int:
    if encoding == "utf-32":
        return 1
    codec = "utf-16-le" if encoding == "utf-16" else "utf-8"
    size = len(ch.encode(codec, "surrogatepass"))
    return size // 2 if encoding == "utf-16" else size


def reference_offset(text: str, line: int, character: int, encoding: str) -> int:
    lines = reference_lines(text)
    if line < 0:
        return 0
    if line >= len(lines):
        return len(text)
    start, end = lines[line]
    units = 0
    for i in range(start, end):
        if units >= character:
            return i
        units += code_units(text[i], encoding)
    return end


def reference_apply(text: str, edit: "Edit") -> str:
    start = reference_offset(text, edit.start_line, edit.start_char, edit.encoding)
    end = max(start, reference_offset(text, edit.end_line, edit.end_char, edit.encoding))
    return text[:start] + edit.text + text[end:]


@dataclass(frozen=True)
class Edit:
    start_line: int
    start_char: int
    end_line: int
    end_char: int
    text: str
    encoding: str

    @property
    def range(self) -> tuple[int, int, int, int]:
        return (self.start_line, self.start_char, self.end_line, self.end_char)


# Pieces of text that stress line ends, code units and parsing: CRLF, lone CR, form feed,
# U+2028/U+2029/U+0085 (not line ends in LSP), astral characters (surrogate pairs in UTF-16),
# combining marks, NUL, and code fragments that make real trees and real syntax errors.
PIECES = [
    "a", "x", " ", "  ", "\t", "\n", "\r\n", "\r", "\f", "\v", "\u2028", "\u2029", "\x85", "\x00", "é", "e\u0301",
    "😀", "𝔘", "中", "(", ")", "[", "]", "{", "}", ":", ";", ",", "'", '"', "#", "//", "/*", "*/", "\\",
    "def f(a):\n    return a\n", "if x:\n", "    ", "class C:\n    pass\n", "x = [1, 2]\n",
    "function g() { return 1; }\n", "int main() {\r\n  return 0;\r\n}\r\n", "fn h() -> i32 { 0 }\n",
]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@st.composite
def edits(draw, lines_hint: int = 12, width_hint: int = 30) -> Edit:
    line = st.integers(-1, lines_hint)
    char = st.integers(0, width_hint)
    return Edit(draw(line), draw(char), draw(line), draw(char), draw(texts.filter(lambda t: len(t) < 60)),
                draw(st.sampled_from(ENCODINGS)))


LANGUAGES = [("python", "file:///t.py"), ("javascript", "file:///t.js"), ("c", "file:///t.c"),
             ("rust", "file:///t.rs"), ("go", "file:///t.go"), ("plaintext", "file:///t.txt")]
sequences = st.tuples(st.sampled_from(LANGUAGES), texts, st.lists(edits(), min_size=1, max_size=25))


def nodes(tree) -> list[tuple]:
    """Every node of a tree with its type and byte range, in order (a tree's whole shape)."""
    out, cursor = [], tree.walk()
    while True:
        node = cursor.node
        out.append((node.type, node.start_byte, node.end_byte, node.is_missing, node.has_error))
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out


def check_sequence(language: str, uri: str, text: str, edits: list[Edit]) -> None:
    """Apply the edits to a server document and to the reference; fail (AssertionError) at the first
    difference in text, line starts or tree."""
    doc = Document.open(uri, language, 1, text)
    expected = text
    for i, edit in enumerate(edits):
        doc.apply_change(edit.text, edit.range, edit.encoding)
        expected = reference_apply(expected, edit)
        assert doc.text == expected, f"text diverged at edit {i}: {edit}"
        assert doc.starts == [start for start, _ in reference_lines(expected)], f"lines diverged at edit {i}"
        if doc.tree is not None:
            fresh = Document.open(uri, language, 1, doc.text)
            assert nodes(doc.tree) == nodes(fresh.tree), f"tree diverged from a fresh parse at edit {i}: {edit}"
