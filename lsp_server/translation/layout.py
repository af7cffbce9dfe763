'''A comment's layout: its syntax around the prose, and the prose in paragraphs; and the
comment rebuilt around translated paragraphs.

Owns splitting a comment block (`# ...` runs, `// ...`, `/* ... */`, `/** ... */`, docstrings)
into the head (`"""`, `/** `), the prefix of each further line (indentation, ` * `, `# `), the
tail (`\\n    """`, ` */`) and paragraphs (a blank line, a list bullet, a change of indentation
a line ending in `:` or a field (`@param`, `name: ...`) starts one; doctest lines and fenced code are kept verbatim), and
`rebuild`, which re-wraps each translated paragraph to the comment's width (its widest line,
or 79 columns when no paragraph was wrapped) keeping the indentation and bullets. An end-of-line
comment and a one-line block stay on one line. Pure.
'''

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lsp_server.translation.wrap import join_lines, width, wrap

DEFAULT_WIDTH = 79
_LINE = re.compile(r"([ \t]*)(#+|//[/!]?|--)( ?)(.*)")
_BLOCK_OPEN = re.compile(r"/\*+!?")
_BLOCK_CLOSE = re.compile(r"\*+/\Z")
_STAR_PREFIX = re.compile(r"[ \t]*(?:\*(?!/)[ \t]?)?")
_DOC_OPEN = re.compile(r"[rRuUbBfF]{0,2}(\"\"\"|'''|\"|')")
_BULLET = re.compile(r"([-*+•]|\d+[.)])[ \t]+")
_FENCE = re.compile(r"(```|~~~)")
_FIELD = re.compile(r"([@:]\w|\*{0,2}\w+(?: \([^)]*\))?:\s)")  # @param, :param x:, `name (type): text`


@dataclass
class Para:
    indent: str = ""  # beyond the line prefix
    bullet: str = ""  # "- ", "1. "
    lines: list[str] = field(default_factory=list)  # the text of each line (verbatim: the whole line)
    verbatim: bool = False
    blank_after: int = 0

    @property
    def text(self) -> str:
        return join_lines(self.lines)


@dataclass
class Layout:
    head: str  # before the first paragraph's text ('"""', '/** ', '# ', or '/**' + eol)
    line_prefix: str  # each further line's start (indentation + ' * ' or '# ')
    paras: list[Para]
    tail: str  # after the last line ('', ' */', eol + '    """')
    column: int  # display columns before the block on its first line
    width: int  # the widest line, in columns from the line start
    single_line: bool  # an end-of-line comment or a one-line block: stays one line
    eol: str = "\n"

    @property
    def prose(self) -> list[str]:
        """The paragraphs to translate, in order."""
        return [p.text for p in self.paras if not p.verbatim]


def _paragraphs(texts: list[str]) -> list[Para]:
    paras: list[Para] = []
    fenced = False
    for raw in texts:
        content = raw.strip()
        indent = raw[:len(raw) - len(raw.lstrip(" \t"))]
        cur = paras[-1] if paras else None
        if fenced or _FENCE.match(content):
            if cur is not None and cur.verbatim and fenced and not cur.blank_after:
                cur.lines.append(raw)
            else:
                paras.append(Para(lines=[raw], verbatim=True))
            if _FENCE.match(content):
                fenced = not fenced if content.count("```") + content.count("~~~") == 1 else fenced
            continue
        if not content:
            if cur is not None:
                cur.blank_after += 1
            continue
        if content.startswith(">>>") or (cur is not None and cur.verbatim and not cur.blank_after):
            if cur is not None and cur.verbatim and not cur.blank_after:
                cur.lines.append(raw)
            else:
                paras.append(Para(lines=[raw], verbatim=True))
            continue
        bullet = _BULLET.match(content)
        continues = (cur is not None and not cur.verbatim and not cur.blank_after and not bullet
                     and not _FIELD.match(content)
                     and not cur.lines[-1].endswith(":")
                     and (len(indent) == len(cur.indent) if not cur.bullet else len(indent) >= len(cur.indent) + len(cur.bullet)))
        if continues:
            cur.lines.append(content)
        elif bullet:
            paras.append(Para(indent, bullet.group(0), [content[bullet.end():]]))
        else:
            paras.append(Para(indent, "", [content]))
    return paras


def _line_comment(block: str, column: int, indent: str, single: bool, eol: str) -> Layout | None:
    lines = block.split(eol)
    parsed = [_LINE.fullmatch(line) for line in lines]
    if not all(parsed):
        return None
    marker, space = parsed[0].group(2), parsed[0].group(3) or next((m.group(3) for m in parsed if m.group(3)), "")
    texts = [m.group(4) if m.group(3) else m.group(4) for m in parsed]
    return Layout(marker + space, indent + marker + space, _paragraphs(texts), "", column, 0, single, eol)


def _framed(block: str, opening: str, closing: str, column: int, indent: str, star: bool, eol: str,
            single: bool) -> Layout | None:
    inner = block[len(opening):len(block) - len(closing)]
    lines = inner.split(eol)
    if len(lines) == 1:
        body = lines[0]
        lead = body[:len(body) - len(body.lstrip())]
        trail = body[len(body.rstrip()):]
        return Layout(opening + lead, indent, _paragraphs([body.strip()]), trail + closing, column, 0, True, eol)
    head = opening
    if not lines[0].strip():
        head += lines[0] + eol
        lines = lines[1:]
        first_has_text = False
    else:
        lead = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
        head += lead
        lines[0] = lines[0][len(lead):]
        first_has_text = True
    tail = closing
    last = lines[-1]
    last_prefix = _STAR_PREFIX.match(last).group(0) if star else last[:len(last) - len(last.lstrip())]
    if not last[len(last_prefix):].strip() and len(lines) > 1:
        tail = eol + last + closing
        lines = lines[:-1]
    elif not last.strip():
        tail = eol + last + closing
        lines = lines[:-1]
    else:
        trail = last[len(last.rstrip()):]
        lines[-1] = last.rstrip()
        tail = trail + closing
    rest = lines[1:] if first_has_text else lines
    if star:
        prefixes = [_STAR_PREFIX.match(x).group(0) for x in rest if x.strip()]
        prefix = prefixes[0] if prefixes else indent + (" * " if "*" in last_prefix else "   ")
        # after the common prefix: a line indented beyond it keeps its extra indentation
        texts = ([lines[0]] if first_has_text else []) + [
            x[len(prefix):] if x.startswith(prefix) else x[len(_STAR_PREFIX.match(x).group(0)):] for x in rest]
    else:
        indents = [len(x) - len(x.lstrip(" \t")) for x in rest if x.strip()]
        n = min(indents) if indents else len(indent)
        prefix = (rest[[i for i, x in enumerate(rest) if x.strip()][0]][:n]) if indents else indent
        texts = ([lines[0]] if first_has_text else []) + [x[n:] if x.strip() else "" for x in rest]
    return Layout(head, prefix, _paragraphs(texts), tail, column, 0, single, eol)


def parse(block: str, kind: str, before: str) -> Layout | None:
    """The layout of a comment block; `before` is its line's text before it (indentation, or code
    for an end-of-line comment). None when the block is not in a form this module knows."""
    eol = "\r\n" if "\r\n" in block else "\n"
    indent = before if not before.strip() else ""
    column = width(before)
    single = bool(before.strip())
    if kind == "line":
        layout = _line_comment(block, column, indent, single, eol)
    elif kind == "block":
        opening, closing = _BLOCK_OPEN.match(block), _BLOCK_CLOSE.search(block)
        if opening is None or closing is None or closing.start() < opening.end():
            return None
        layout = _framed(block, opening.group(0), closing.group(0), column, indent, True, eol, single)
    elif kind == "docstring":
        opening = _DOC_OPEN.match(block)
        quote = opening.group(1) if opening else ""
        if not quote or not block.endswith(quote) or len(block) < opening.end() + len(quote):
            return None
        layout = _framed(block, opening.group(0), quote, column, indent, False, eol, single)
    else:
        return None
    if layout is None or not layout.prose:
        return None
    lines = block.split(eol)
    widest = max(width(lines[0]) + column, *(width(x) for x in lines[1:])) if len(lines) > 1 else width(lines[0]) + column
    wrapped = any(len(p.lines) > 1 for p in layout.paras if not p.verbatim)
    layout.width = widest if wrapped else max(widest, DEFAULT_WIDTH)
    return layout


def rebuild(layout: Layout, prose: list[str]) -> str:
    """The comment with its paragraphs' text replaced by `prose` (one per translated paragraph)."""
    texts = iter(prose)
    out: list[str] = []
    head_alone = layout.head.endswith(layout.eol)
    for para in layout.paras:
        if para.verbatim:
            out.extend(para.lines)
        else:
            text = next(texts).strip()
            lead, hang = para.indent + para.bullet, para.indent + " " * width(para.bullet)
            on_head = not out and not head_alone
            before = layout.column + width(layout.head) if on_head else width(layout.line_prefix)
            if layout.single_line:
                wrapped = [text]
            else:
                room = layout.width - before - width(lead)
                rest = layout.width - width(layout.line_prefix) - width(hang)
                wrapped = wrap(text, max(room, 20), max(rest, 20))
            out.append(lead + wrapped[0])
            out.extend(hang + w for w in wrapped[1:])
        out.extend([""] * para.blank_after)
    blank = layout.line_prefix.rstrip()
    body = [out[0] if not head_alone else (layout.line_prefix + out[0] if out[0] else blank)]
    body += [layout.line_prefix + line if line else blank for line in out[1:]]
    return layout.head + layout.eol.join(body) + layout.tail
