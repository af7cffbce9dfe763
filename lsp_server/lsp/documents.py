"""The text model: open documents, their text and tree-sitter tree, and LSP position maths.

Owns: splitting lines the LSP way (only `\\n`, `\\r\\n` and `\\r` end a line; never form feeds,
U+2028 or other Unicode separators), converting LSP positions (UTF-8, UTF-16 or UTF-32 code
units) to string offsets and back, applying incremental edits, and keeping one tree-sitter tree
per document updated incrementally with each edit, and the short path a prompt names a document
by (`document_path`). Documents exist only once the client opened them, and are found by their exact
URI string (never resolved: `..`, symlinks, percent-escapes and schemes lead nowhere else):
nothing here ever reads a file from disk.
"""

from __future__ import annotations

import bisect
import logging
import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

import tree_sitter

from lsp_server.syntax.languages import LanguageSpec, new_parser, spec_for

log = logging.getLogger(__name__)

_LINE_END = re.compile(r"\r\n|\r|\n")

# Files larger than this are kept as text but not parsed: a parse holds the GIL.
MAX_PARSE_BYTES = 2_000_000

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def line_starts(text: str) -> list[int]:
    """String offsets at which each LSP line starts."""
    return [0, *(m.end() for m in _LINE_END.finditer(text))]


def _units(ch: str, encoding: str) -> int:
    if encoding == UTF16:
        return 2 if ord(ch) > 0xFFFF else 1
    if encoding == UTF8:
        return len(ch.encode("utf-8", "surrogatepass"))
    return 1


def _line_content_end(text: str, starts: list[int], line: int) -> int:
    """Offset of the end of a line's content (before its line ending)."""
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    while end > starts[line] and text[end - 1] in "\r\n":
        end -= 1
    return end


def position_to_offset(text: str, starts: list[int], line: int, character: int, encoding: str = UTF16) -> int:
    """LSP (line, character) -> offset into `text`.

    Out-of-range positions are clamped as the LSP specification says: a character past the end of
    the line means the end of the line; a line past the last one means the end of the document.
    A position inside a UTF-16 surrogate pair or a UTF-8 sequence snaps to the character's end.
    """
    if line < 0:
        return 0
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = _line_content_end(text, starts, line)
    if encoding == UTF32:
        return min(start + max(character, 0), end)
    offset, units = start, 0
    while offset < end and units < character:
        units += _units(text[offset], encoding)
        offset += 1
    return offset


def offset_to_position(text: str, starts: list[int], offset: int, encoding: str = UTF16) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = bisect.bisect_right(starts, offset) - 1
    # An offset between \r and \n belongs to the line ending of the line before.
    start = starts[line]
    segment = text[start:offset]
    if encoding == UTF32:
        return line, len(segment)
    return line, sum(_units(ch, encoding) for ch in segment)


def _point(data: bytes, byte_offset: int) -> tuple[int, int]:
    """tree-sitter's point for a byte offset (tree-sitter counts rows at `\\n` only)."""
    row = data.count(b"\n", 0, byte_offset)
    last_nl = data.rfind(b"\n", 0, byte_offset)
    return row, byte_offset - (last_nl + 1)


@dataclass
class Document:
    uri: str
    language_id: str
    version: int
    text: str
    spec: LanguageSpec | None = None
    tree: tree_sitter.Tree | None = None
    starts: list[int] = field(default_factory=list)
    _parser: tree_sitter.Parser | None = None

    @classmethod
    def open(cls, uri: str, language_id: str, version: int, text: str) -> "Document":
        doc = cls(uri=uri, language_id=language_id, version=version, text=text)
        doc.spec = spec_for(language_id, uri)
        doc.starts = line_starts(text)
        if doc.spec is not None:
            doc._parser = new_parser(doc.spec.name)
        doc._full_parse()
        return doc

    @property
    def language(self) -> str | None:
        return self.spec.name if self.spec else None

    def _full_parse(self) -> None:
        data = self.text.encode("utf-8", "surrogatepass")
        if self._parser is None or len(data) > MAX_PARSE_BYTES:
            self.tree = None
            return
        self.tree = self._parser.parse(data)

    def offset_at(self, line: int, character: int, encoding: str = UTF16) -> int:
        return position_to_offset(self.text, self.starts, line, character, encoding)

    def position_at(self, offset: int, encoding: str = UTF16) -> tuple[int, int]:
        return offset_to_position(self.text, self.starts, offset, encoding)

    def apply_change(self, text: str, range_: tuple[int, int, int, int] | None, encoding: str = UTF16) -> None:
        """Apply one LSP content change: a range edit, or a full replacement when range_ is None."""
        if range_ is None:
            self.text = text
            self.starts = line_starts(text)
            self._full_parse()
            return
        start = self.offset_at(range_[0], range_[1], encoding)
        end = max(start, self.offset_at(range_[2], range_[3], encoding))
        old_text = self.text
        self.text = old_text[:start] + text + old_text[end:]
        self.starts = line_starts(self.text)
        self._reparse(old_text, start, end, text)

    def _reparse(self, old_text: str, start: int, end: int, inserted: str) -> None:
        if self.tree is None or self._parser is None:
            self._full_parse()
            return
        old_bytes = old_text.encode("utf-8", "surrogatepass")
        new_bytes = self.text.encode("utf-8", "surrogatepass")
        if len(new_bytes) > MAX_PARSE_BYTES:
            self.tree = None
            return
        start_byte = len(old_text[:start].encode("utf-8", "surrogatepass"))
        old_end_byte = start_byte + len(old_text[start:end].encode("utf-8", "surrogatepass"))
        new_end_byte = start_byte + len(inserted.encode("utf-8", "surrogatepass"))
        # Edit a copy: a request may still hold the previous tree as its snapshot.
        old_tree = self.tree.copy()
        old_tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=_point(old_bytes, start_byte),
            old_end_point=_point(old_bytes, old_end_byte),
            new_end_point=_point(new_bytes, new_end_byte),
        )
        self.tree = self._parser.parse(new_bytes, old_tree)


def document_path(uri: str) -> str:
    """A short path for the prompt's file header: the last two path components of the URI."""
    parsed = urlparse(uri)
    path = unquote(parsed.path or parsed.netloc or uri)
    parts = [p for p in path.split("/") if p]
    return posixpath.join(*parts[-2:]) if parts else ""


@dataclass(frozen=True)
class Snapshot:
    """What a request sees: one document at one version, and a cursor."""

    uri: str
    version: int
    language: str | None
    language_id: str
    text: str
    offset: int
    tree: tree_sitter.Tree | None

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset :]

    def is_one_of(self, languages: tuple[str, ...]) -> bool:
        """Whether `languages` (a setting's list: the editor's `languageId`s, or ours) names this
        document's language; `*` names every language."""
        return "*" in languages or self.language_id in languages or self.language is not None and self.language in languages


class DocumentStore:
    """The open documents, by URI. Unopened documents are simply absent."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        doc = Document.open(uri, language_id, version, text)
        self._docs[uri] = doc
        return doc

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def get(self, uri: str) -> Document | None:
        """The open document at exactly this URI (any other value, a list say, is no document)."""
        return self._docs.get(uri) if isinstance(uri, str) else None

    def uris(self) -> list[str]:
        return list(self._docs)

    def __contains__(self, uri: str) -> bool:
        return uri in self._docs

    def snapshot(self, uri: str, line: int, character: int, encoding: str = UTF16) -> Snapshot | None:
        doc = self._docs.get(uri)
        if doc is None:
            return None
        return Snapshot(
            uri=uri,
            version=doc.version,
            language=doc.language,
            language_id=doc.language_id,
            text=doc.text,
            offset=doc.offset_at(line, character, encoding),
            tree=doc.tree,
        )
