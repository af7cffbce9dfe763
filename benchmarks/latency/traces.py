"""Typing traces made from real source files: a span of lines in the middle is deleted and typed
back at a human pace.

Pure and deterministic (a seeded RNG): `make_trace(path, ...)` picks the span, and returns the
document as it is before typing (the span replaced by one empty line, cursor at its start) and the
keystrokes with their delays. A keystroke is one character, except that Enter also inserts the
next line's indentation (editors auto-indent) and the first keystroke inserts the first line's
indentation (Tab). Typing every keystroke gives back the original file exactly.
`autoclose_plan` says which brackets and quotes an editor that closes them itself (VS Code's
default) would close as they are typed, and where the user types over that closer.
Must not start processes or talk to servers.
"""

from __future__ import annotations

import math
import random
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from lsp_server.lsp.completion.autoclose import CLOSER_OF, QUOTES

PY_LIB = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
ZLIB_EXAMPLES = Path("/usr/share/doc/zlib1g-dev/examples")  # Debian package zlib1g-dev
SITE = Path(sysconfig.get_paths()["purelib"])  # this venv's packages: cattrs comes with pygls
NPM = Path("/usr/lib/node_modules/npm/node_modules")  # Debian's npm: its bundled packages
NETTLE_EXAMPLES = Path("/usr/share/doc/nettle-dev/examples")  # Debian package nettle-dev

# name -> (file, language id). Token counts are for the Qwen2.5 tokenizer.
SOURCES: dict[str, tuple[Path, str]] = {
    "py-1k": (PY_LIB / "bisect.py", "python"),  # ~880 tokens (Python 3.11 stdlib)
    "py-4k": (PY_LIB / "textwrap.py", "python"),  # ~4,400 tokens
    "c-1k": (ZLIB_EXAMPLES / "zpipe.c", "c"),  # ~1,600 tokens
    "c-4k": (ZLIB_EXAMPLES / "gzjoin.c", "c"),  # ~3,800 tokens
    "py-pkg": (SITE / "cattrs" / "gen" / "__init__.py", "python"),  # ~11k tokens; imports 10 modules of its package
    "js-pkg": (NPM / "cacache" / "lib" / "entry-index.js", "javascript"),  # ~2.5k tokens; requires 6 files of its package
    "c-pkg": (NETTLE_EXAMPLES / "nettle-benchmark.c", "c"),  # ~8k tokens; includes 3 headers of the examples
}
# Traces typed inside a project: the workspace folder the server is given, where the file's imports
# resolve (its completions get cross-file context); the others are opened outside any workspace.
WORKSPACES: dict[str, Path] = {"py-pkg": SITE / "cattrs", "js-pkg": NPM / "cacache", "c-pkg": NETTLE_EXAMPLES}


@dataclass(frozen=True)
class Key:
    text: str  # inserted at the cursor
    delay_ms: float  # pause before this keystroke


@dataclass
class Trace:
    name: str
    path: str
    language: str
    original: str
    start_text: str  # the document before typing: the span replaced by one empty line
    line: int  # 0-based line of the cursor (start of the deleted span)
    typed: str  # what gets typed: the span without its final newline
    keys: list[Key] = field(default_factory=list)
    workspace: str = ""  # the project folder it is typed in ("": none)

    @property
    def offset(self) -> int:
        """String offset of the cursor in `start_text` before typing."""
        return sum(len(x) for x in self.original.splitlines(keepends=True)[: self.line])


def _is_code(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith(("#", '"""', "'''", "/*", "*", "//"))


def _inside_block(lines: list[str]) -> list[bool]:
    """Per line: does it start inside a docstring (triple quotes) or a /* */ comment?"""
    out, inside, closer = [], False, ""
    for line in lines:
        out.append(inside)
        rest = line
        while rest:
            if inside:
                j = rest.find(closer)
                if j < 0:
                    break
                inside, rest = False, rest[j + len(closer):]
            else:
                hits = [(rest.find(o), o, c) for o, c in (('"""', '"""'), ("'''", "'''"), ("/*", "*/")) if o in rest]
                if not hits:
                    break
                j, opener, closer = min(hits)
                inside, rest = True, rest[j + len(opener):]
    return out


def choose_span(lines: list[str], max_keys: int) -> tuple[int, int]:
    """[a, b): consecutive lines from the first code line at or after the middle (outside
    docstrings and block comments), as many as fit `max_keys` keystrokes (at least one line)."""
    mid = len(lines) // 2
    inside = _inside_block(lines)
    ok = [_is_code(line) and not inside[i] and not inside[min(i + 1, len(lines) - 1)] for i, line in enumerate(lines)]
    a = next((i for i in range(mid, len(lines)) if ok[i]), mid)
    b, keys = a, 0
    while b < len(lines):
        cost = len(lines[b].strip()) + 1
        if b > a and keys + cost > max_keys:
            break
        keys += cost
        b += 1
    # End on a code line, so that the last typed line is not blank.
    while b - 1 > a and not lines[b - 1].strip():
        b -= 1
    return a, b


# VS Code's default `autoCloseBefore`: an opener is closed only when one of these (or the end of
# the line) follows the cursor
AUTOCLOSE_BEFORE = ";:.,=}])> \n\t"


@dataclass(frozen=True)
class Pair:
    """A bracket or quote pair an editor that closes them itself would close when it is typed."""

    closer: int  # index in `typed` of the closer the user types over
    line_break: int | None = None  # a pair over lines: index of the line break before the closer
    indent: str = ""  # ... and the closer line's indentation (the opener line's)


def autoclose_plan(typed: str) -> dict[int, Pair]:
    """{index of an opener in `typed`: its Pair}. A pair closed on the same line; or one over
    lines as editors lay it out (Enter right after the opener puts the closer on a line of its
    own at the opener line's indentation): the opener ends its line, the closer starts its line at
    that indentation, and there is a line between them. A quote right after a letter, digit or
    `_` is an apostrophe, not an opener; a quote does not go past its line; inside a quote
    brackets are text, and a backslash escapes the next character."""
    plan: dict[int, Pair] = {}
    stack: list[tuple[str, int]] = []
    escaped = False
    for i, ch in enumerate(typed):
        top = stack[-1][0] if stack else None
        if ch == "\n":
            if top is not None and top in QUOTES:
                stack.pop()  # a quote left open at the line's end is no pair
            escaped = False
            continue
        if top is not None and top in QUOTES:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == top:
                plan[stack.pop()[1]] = Pair(i)
            continue
        if ch in "([{" or ch in QUOTES and not (i and (typed[i - 1].isalnum() or typed[i - 1] == "_")):
            stack.append((ch, i))
        elif ch in ")]}" and top is not None and CLOSER_OF[top] == ch:
            opener = stack.pop()[1]
            break_at = typed.rfind("\n", 0, i)
            if break_at < opener:
                plan[opener] = Pair(i)
                continue
            line = typed[typed.rfind("\n", 0, opener) + 1 : opener]
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            opener_ends_line = typed.startswith("\n", opener + 1)
            if opener_ends_line and typed[break_at + 1 : i] == indent and typed.find("\n", opener + 1, break_at) != -1:
                plan[opener] = Pair(i, break_at, indent)
    return plan


def split_keys(typed: str) -> list[str]:
    """Keystrokes that insert `typed`: indentation with Tab / auto-indent, the rest by character."""
    keys: list[str] = []
    i = 0
    indent = len(typed) - len(typed.lstrip(" \t"))
    if indent:
        keys.append(typed[:indent])
        i = indent
    while i < len(typed):
        ch = typed[i]
        if ch == "\n":
            j = i + 1
            while j < len(typed) and typed[j] in " \t":
                j += 1
            keys.append(typed[i:j])
            i = j
        else:
            keys.append(ch)
            i += 1
    return keys


def delays(keys: list[str], rng: random.Random, ms_per_char: float = 110.0) -> list[float]:
    """Human pace: log-normal gaps around `ms_per_char`, a pause at each new line (reading the
    suggestion, thinking), and now and then a short pause after a word."""
    out: list[float] = []
    prev = ""
    for k in keys:
        if prev.startswith("\n"):
            d = rng.uniform(500, 1500)
        elif prev in (" ", "(", ",", ".", "=", ":") and rng.random() < 0.12:
            d = rng.uniform(250, 800)
        else:
            d = ms_per_char * math.exp(rng.gauss(-0.05, 0.3))
        out.append(d)
        prev = k
    return out


def make_trace(name: str, path: Path, language: str, *, max_keys: int = 300, seed: int = 0,
               workspace: Path | None = None) -> Trace:
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    a, b = choose_span(lines, max_keys)
    span = "".join(lines[a:b])
    typed = span[:-1] if span.endswith("\n") else span
    start_text = "".join(lines[:a]) + ("\n" if span.endswith("\n") else "") + "".join(lines[b:])
    keys = split_keys(typed)
    rng = random.Random(f"{name}:{seed}")
    ds = delays(keys, rng)
    ds[0] = 600.0  # the first keystroke comes after the cold-start completion was shown
    trace = Trace(name, str(path), language, original, start_text, a, typed, [Key(k, d) for k, d in zip(keys, ds)],
                  str(workspace or ""))
    assert start_text[: trace.offset] + typed + start_text[trace.offset :] == original
    return trace


def load_traces(names: list[str], *, max_keys: int = 300, seed: int = 0) -> list[Trace]:
    return [make_trace(n, SOURCES[n][0], SOURCES[n][1], max_keys=max_keys, seed=seed, workspace=WORKSPACES.get(n))
            for n in names]
