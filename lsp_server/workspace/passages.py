"""A file's text -> the passages "ask the workspace" retrieves: pure, one file at a time.

Source files give one passage per symbol of their outline (its source, docstring or leading
comment included, capped), one for the top of the file (a module docstring, a licence or
header comment) and one per block of line comments; documentation (Markdown, reStructuredText,
plain text) gives its sections (a heading and what follows it) split into windows of whole
paragraphs. Every passage knows its file and lines, so an answer can cite it. Must not read
files, rank or know about the model (`search` ranks, `fixes.ask` prompts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsp_server.workspace.model import Outline

MAX_CHARS = 1200  # of a passage's text (what the model reads); whole lines, the first ones
WINDOW_LINES = 30  # a documentation window, at most (a longer paragraph is cut)
HEAD_LINES = 30  # the top of a source file, at most
MAX_PER_FILE = 1000
MIN_COMMENT_CHARS = 40  # a comment block shorter than this says too little to be a passage

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class Passage:
    path: str  # POSIX path relative to its workspace folder
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, inclusive
    title: str  # "function parse", "class Config", "README.md: Install", "comment"
    kind: str  # "symbol", "head", "comment" or "doc"
    text: str  # the lines as written, capped at MAX_CHARS


def cap(text: str, limit: int = MAX_CHARS) -> str:
    """The first whole lines of `text` within `limit` characters (the first line cut if it alone is longer)."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[:cut] if cut > 0 else text[:limit]


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def source_passages(path: str, text: str, outline: Outline | None, comment_prefix: str) -> list[Passage]:
    """A source file's passages: its symbols, its top, its comment blocks."""
    lines = _lines(text)
    found: list[Passage] = []
    symbols = outline.symbols if outline is not None else ()
    first_symbol = min((s.start_line for s in symbols), default=len(lines))
    head_end = min(first_symbol, HEAD_LINES) - 1
    while head_end >= 0 and not lines[head_end].strip():
        head_end -= 1
    if head_end >= 0 and "\n".join(lines[:head_end + 1]).strip():
        found.append(Passage(path, 0, head_end, f"top of {path.rsplit('/', 1)[-1]}", "head",
                             cap("\n".join(lines[:head_end + 1]))))
    for s in symbols:
        body = "\n".join(lines[s.start_line:s.end_line + 1])
        if s.doc and s.doc not in body:
            body = f"{s.doc}\n{body}"
        name = f"{s.container}.{s.name}" if s.container else s.name
        found.append(Passage(path, s.start_line, s.end_line, f"{s.kind} {name}", "symbol", cap(body)))
    if comment_prefix:
        found += _comment_blocks(path, lines, comment_prefix, skip_before=head_end + 1)
    found.sort(key=lambda p: (p.start_line, p.end_line))
    return found[:MAX_PER_FILE]


def _comment_blocks(path: str, lines: list[str], prefix: str, skip_before: int) -> list[Passage]:
    """Runs of line comments (the file's top is a passage already)."""
    found, start = [], None
    for i, line in enumerate([*lines, ""]):
        if line.lstrip().startswith(prefix) and i >= skip_before:
            start = i if start is None else start
            continue
        if start is not None:
            block = "\n".join(lines[start:i])
            if len(block.strip()) >= MIN_COMMENT_CHARS:
                found.append(Passage(path, start, i - 1, "comment", "comment", cap(block)))
            start = None
    return found


def doc_passages(path: str, text: str) -> list[Passage]:
    """A documentation file's sections (Markdown `#` headings, reStructuredText underlined
    titles; plain text has none), each split into windows of whole paragraphs."""
    lines = _lines(text)
    name = path.rsplit("/", 1)[-1]
    sections: list[tuple[int, int, str]] = []  # (first line, last line, heading)
    start, heading, fenced = 0, "", False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        if fenced:
            continue
        title = None
        if m := _MD_HEADING.match(line):
            title, at = m.group(2), i
        elif i > 0 and _RST_UNDERLINE.match(line) and lines[i - 1].strip() and len(line.rstrip()) >= len(lines[i - 1].rstrip()) \
                and not _RST_UNDERLINE.match(lines[i - 1]):
            title, at = lines[i - 1].strip(), i - 1
        if title is not None:
            if at > start:
                sections.append((start, at - 1, heading))
            start, heading = at, title
    sections.append((start, len(lines) - 1, heading))
    found: list[Passage] = []
    for first, last, heading in sections:
        for a, b in _windows(lines, first, last):
            body = "\n".join(lines[a:b + 1])
            if body.strip():
                label = f"{name}: {heading}" if heading else name
                found.append(Passage(path, a, b, label, "doc", cap(body if a == first or not heading else f"{heading}\n{body}")))
    return found[:MAX_PER_FILE]


def _windows(lines: list[str], first: int, last: int) -> list[tuple[int, int]]:
    """[first, last] cut into windows of at most WINDOW_LINES lines, at blank lines when it can."""
    while first <= last and not lines[first].strip():
        first += 1
    while last >= first and not lines[last].strip():
        last -= 1
    out = []
    while first <= last:
        end = min(last, first + WINDOW_LINES - 1)
        if end < last:
            blank = next((j for j in range(end, first, -1) if not lines[j].strip()), None)
            end = blank - 1 if blank is not None and blank - 1 >= first else end
        out.append((first, end))
        first = end + 1
        while first <= last and not lines[first].strip():
            first += 1
    return out
