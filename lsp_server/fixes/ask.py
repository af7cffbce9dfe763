""""Ask the workspace" minus the search and the model call: the chat messages for a question
and its retrieved passages, and the citations of an answer, checked against those passages.

Pure. A citation counts only when it names a retrieved passage: `path:line` (or `path:first-last`)
with the line inside a passage of that file, `path` alone (the file's first retrieved passage), or
`[n]` (the prompt's passage number); anything else the model writes (another file, a line outside
the passages, an invented path) is dropped. Must not search, read files or call the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsp_server.fixes import prompts
from lsp_server.workspace.passages import Passage, cap

ANSWER_TOKENS = 400
TOP_PASSAGES = 5
PROMPT_CHARS = 6000  # of passage text in all: with the question and the answer, within a 4,096-token context
SELECTION_CHARS = 2000

_PATH = r"[\w.\-/\\@+]*[\w\-]\.[A-Za-z0-9]+"
_CITE = re.compile(rf"(?<![\w/.\-])(?P<path>{_PATH})(?::(?P<line>\d+)(?:\s*[-–]\s*(?P<end>\d+))?)?|\[(?P<number>\d{{1,2}})\]")


@dataclass(frozen=True)
class Source:
    """A retrieved passage as the prompt shows it (`number` from 1) and where it lives."""

    number: int
    root: str  # the workspace folder
    passage: Passage


@dataclass(frozen=True)
class Citation:
    source: Source
    line: int  # 0-based: the line cited, or the passage's first

    def as_key(self) -> tuple:
        return self.source.root, self.source.passage.path, self.line


def header(passage: Passage) -> str:
    p = passage
    return f"{p.path}:{p.start_line + 1}-{p.end_line + 1} ({p.title})"


def select_sources(hits: list[tuple[str, Passage]], budget: int = PROMPT_CHARS) -> list[Source]:
    """The passages that fit the prompt, best first (the first always, cut to the budget)."""
    out: list[Source] = []
    used = 0
    for root, passage in hits:
        room = budget - used
        if out and len(passage.text) > room:
            continue
        text = passage.text if len(passage.text) <= room else cap(passage.text, room)
        out.append(Source(len(out) + 1, root, Passage(passage.path, passage.start_line, passage.end_line,
                                                       passage.title, passage.kind, text)))
        used += len(text)
    return out


def messages(question: str, sources: list[Source], *, selection: tuple[str, str, str] | None = None,
             answer_language: str = "", prompts_dir: str = "") -> list[dict]:
    if selection is not None:
        path, language, code = selection
        selection = (path, language, cap(code, SELECTION_CHARS))
    return prompts.ask_messages(question=question, passages=[(header(s.passage), s.passage.text) for s in sources],
                                selection=selection, answer_language=answer_language, prompts_dir=prompts_dir)


def citations(answer: str, sources: list[Source]) -> list[Citation]:
    """The answer's citations that name a retrieved passage, in the order written, each once."""
    found: dict[tuple, Citation] = {}
    for m in _CITE.finditer(answer):
        if m.group("number"):
            n = int(m.group("number"))
            cited = [Citation(s, s.passage.start_line) for s in sources if s.number == n]
        else:
            cited = _by_path(m.group("path"), m.group("line"), sources)
        for c in cited[:1]:
            found.setdefault(c.as_key(), c)
    return list(found.values())


def _by_path(path: str, line: str | None, sources: list[Source]) -> list[Citation]:
    path = path.replace("\\", "/").removeprefix("./")
    same = [s for s in sources if s.passage.path == path]
    if not same:  # the path written relative to somewhere else: accept a unique suffix match
        tails = [s for s in sources if s.passage.path.endswith("/" + path) or path.endswith("/" + s.passage.path)]
        same = tails if len({s.passage.path for s in tails}) == 1 else []
    if line is None:
        return [Citation(s, s.passage.start_line) for s in same[:1]]
    at = int(line) - 1
    return [Citation(s, at) for s in same if s.passage.start_line <= at <= s.passage.end_line]
