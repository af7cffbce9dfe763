"""Context selection: which definitions from other files, and which windows of other files,
a completion at a cursor should see, within a token budget.

Owns the ranking and the budget: definitions of the names the cursor's scope uses that its
imports lead to (a function's whole text when short, a class's skeleton: its header and
members' signatures), ahead of windows that look like the scope (Jaccard): of recent files,
and short ones of the functions the workspace's passage search finds for the scope's names.
The order of the result is stable: snippets found from the scope's text (which a cursor move
inside the function does not change) come first, sorted by path and line; those found from
the identifier being typed or the chain before the cursor's `.` come after them; the windows
come before both. The same index, scope text and typed word give byte-identical output. Must
not know about LSP, the model or the prompt format.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import tree_sitter

from lsp_server.workspace.index import Root, WorkspaceIndex
from lsp_server.workspace.model import WILDCARD, Import, Outline, Symbol
from lsp_server.workspace.outline import outline, parse_outline
from lsp_server.workspace.resolve import Binding, implicit, resolve
from lsp_server.workspace.search import SearchIndex
from lsp_server.workspace.similar import Window, best_window, best_windows, identifiers
from lsp_server.workspace.usage import CHAIN, Usage, blank_code, usage_at

CountTokens = Callable[[str], int]
_IDENTIFIER = re.compile(r"[\w$]+")

MAX_DEFINITION_LINES = 40  # a longer definition is shown as its signature and docstring
MAX_SKELETON_MEMBERS = 40
MAX_PREFIX_MATCHES = 3
MAX_CANDIDATES = 24
EXAMPLE_PASSAGES, EXAMPLE_LINES, EXAMPLE_STEP, MAX_EXAMPLES = 12, 12, 2, 3  # windows of the workspace like the scope
MIN_EXAMPLE_NAMES = 4
EXAMPLE_MATCHES = 4000  # the search's cost bound: its rarest terms up to about this many matches (a few ms)
REEXPORT_DEPTH = 2
CHARS_PER_TOKEN = 3.5
# scores (higher is picked first when the budget is short)
TYPED, RECEIVER, USED, MEMBER_OF, WILDCARD_USED, NOT_YET_USED, SIMILAR, INCLUDED = 100.0, 95.0, 80.0, 70.0, 60.0, 55.0, 50.0, 45.0
SCOPE, CURSOR, RECENT = 1, 2, 0  # output groups, in prompt order: RECENT, SCOPE, CURSOR


@dataclass(frozen=True)
class Snippet:
    path: str  # relative to the workspace folder (POSIX)
    text: str
    reason: str  # why it was chosen (for DEBUG logs and `localLlm.context`)
    score: float
    start_line: int = 0  # 0-based line of `text` in its file
    kind: str = "definition"  # "definition", "skeleton", "module", "similar"


@dataclass(frozen=True)
class Context:
    path: str  # the current file, relative to its workspace folder (or its name)
    snippets: tuple[Snippet, ...]  # in prompt order (least stable last)
    tokens: int  # estimated tokens of the snippets (with their paths)
    budget: int

    def as_dict(self) -> dict:
        return {"path": self.path, "tokens": self.tokens, "budget": self.budget,
                "snippets": [asdict(s) for s in self.snippets]}


@dataclass
class _Candidate:
    snippet: Snippet
    group: int
    end_line: int


def estimate_tokens(chars_per_token: float = CHARS_PER_TOKEN) -> CountTokens:
    return lambda text: math.ceil(len(text) / chars_per_token)


_last_outline: list = [None, None]  # [(language, text), Outline]: the current file's, re-outlined on change


def _current_outline(language: str, text: str, tree: tree_sitter.Tree | None) -> Outline | None:
    if _last_outline[0] == (language, text):
        return _last_outline[1]
    data = text.encode("utf-8", "surrogatepass")
    found = outline(language, tree, data) if tree is not None else parse_outline(language, data)
    _last_outline[:] = [(language, text), found]
    return found


def select_context(index: WorkspaceIndex, path: str, text: str, offset: int, language: str | None,
                   tree: tree_sitter.Tree | None = None, *, budget: int, count_tokens: CountTokens | None = None,
                   recent: Sequence[tuple[str, str]] = (), search: SearchIndex | None = None) -> Context:
    """The snippets for a completion at `offset` of `text` (the file at `path`, absolute).

    `recent`: (absolute path, text) of recently used files, newest first (the current file
    among them is ignored). `search`: the workspace's passages, for windows of other files like
    the scope. `count_tokens` defaults to `estimate_tokens()`.
    """
    count = count_tokens or estimate_tokens()
    where = index.locate(path)
    root, rel = where if where is not None else (None, posixpath.basename(path))
    usage = usage_at(text, offset, language, tree)
    found: dict[tuple[str, int, str], _Candidate] = {}
    if root is not None and language is not None:
        current = _current_outline(language, text, tree)
        if current is not None:
            cursor_line = text.count("\n", 0, offset)
            _Finder(index, root, rel, language, current, usage, found, cursor_line, text).run()
    scope_text = text[usage.scope[0]: usage.scope[1]]
    others = [(_relative(index, p), t) for p, t in recent if p != path]
    windows = [(w, "") for w in best_windows(scope_text, others)]
    if search is not None and root is not None:
        windows += [(w, ", in the workspace") for w in _workspace_windows(index, search, root, rel, scope_text, language)]
    for w, found_in in windows:
        _add(found, _Candidate(Snippet(w.path, w.text, f"similar to the scope (jaccard {w.score}){found_in}",
                                       round(SIMILAR * w.score, 3), w.start_line, "similar"), RECENT,
                               w.start_line + w.text.count("\n")))
    return _fit(rel, list(found.values()), budget, count)


def _workspace_windows(index: WorkspaceIndex, search: SearchIndex, root: Root, rel: str, scope_text: str,
                       language: str | None) -> list[Window]:
    """Short windows of the workspace's other files most like the cursor's scope: the functions
    the passage search ranks best for the scope's identifiers (BM25), the best window of each
    (Jaccard), overlapping ones left out. They show how the project calls its own APIs, which a
    definition does not (the arguments, the variable the result goes to, the spacing)."""
    code = blank_code(scope_text, language) if language else scope_text
    names = list(dict.fromkeys(_IDENTIFIER.findall(code)))
    wanted = identifiers(code)
    if len(wanted) < MIN_EXAMPLE_NAMES:  # too few names (an empty function) to tell what is alike
        return []
    hits = search.search(" ".join(names), EXAMPLE_PASSAGES, [str(root.path)], kinds=("symbol",),
                         leave_out=(str(root.path), rel), max_matches=EXAMPLE_MATCHES)
    sources: dict[str, list[str] | None] = {}
    found: list[Window] = []
    for hit in hits:
        p = hit.passage
        if p.path not in sources:
            source = index.source(root, p.path)
            sources[p.path] = source.split("\n") if source is not None else None
        lines = sources[p.path]
        if lines is None or p.end_line >= len(lines):
            continue  # unreadable, or changed since its passages were read
        w = best_window(wanted, p.path, "\n".join(lines[p.start_line: p.end_line + 1]), p.start_line,
                        EXAMPLE_LINES, EXAMPLE_STEP)
        if w is not None:
            found.append(w)
    found.sort(key=lambda w: (-w.score, w.path, w.start_line))
    chosen: list[Window] = []
    for w in found:
        end = w.start_line + w.text.count("\n")
        if not any(c.path == w.path and c.start_line <= end and w.start_line <= c.start_line + c.text.count("\n")
                   for c in chosen):
            chosen.append(w)
    return chosen[:MAX_EXAMPLES]


def _relative(index: WorkspaceIndex, path: str) -> str:
    where = index.locate(path)
    return where[1] if where is not None else posixpath.basename(path)


def _add(found: dict, cand: _Candidate) -> None:
    s = cand.snippet
    key = (s.path, s.start_line, s.kind)
    old = found.get(key)
    if old is None or (cand.group, -s.score) < (old.group, -old.snippet.score):
        if old is not None and old.group == SCOPE and cand.group != SCOPE:
            cand = _Candidate(cand.snippet, SCOPE, cand.end_line)  # keep it where the scope put it
        found[key] = cand
    elif cand.group == SCOPE and old.group != SCOPE:
        found[key] = _Candidate(old.snippet, SCOPE, old.end_line)


def _fit(rel: str, candidates: list[_Candidate], budget: int, count: CountTokens) -> Context:
    """The best candidates that fit the budget, in prompt order."""
    chosen: list[_Candidate] = []
    used = 0
    for cand in sorted(candidates, key=lambda c: (-c.snippet.score, c.snippet.path, c.snippet.start_line, c.snippet.kind))[:MAX_CANDIDATES]:
        s = cand.snippet
        if any(c.snippet.path == s.path and "similar" not in (c.snippet.kind, s.kind) and "module" not in (c.snippet.kind, s.kind)
               and c.snippet.start_line <= s.start_line and cand.end_line <= c.end_line for c in chosen):
            continue  # inside a snippet already chosen (a method of a class shown whole)
        if s.kind == "similar" and any(c.snippet.path == s.path and c.snippet.kind != "module" and c.snippet.start_line <= cand.end_line
                                       and s.start_line <= c.end_line for c in chosen):
            continue  # a window showing lines already shown
        cost = count(f"{s.path}\n{s.text}\n")
        if used + cost > budget:
            continue
        chosen.append(cand)
        used += cost
    chosen.sort(key=lambda c: ({RECENT: 0, SCOPE: 1, CURSOR: 2}[c.group], c.snippet.path, c.snippet.start_line, c.snippet.kind))
    return Context(rel, tuple(c.snippet for c in chosen), used, budget)


class _Finder:
    """The definitions one file's scope leads to through its imports."""

    def __init__(self, index: WorkspaceIndex, root: Root, rel: str, language: str, current: Outline, usage: Usage,
                 found: dict, cursor_line: int = 0, text: str = "") -> None:
        self.index, self.root, self.rel, self.language, self.usage, self.found = index, root, rel, language, usage, found
        self.text = text
        self.cursor_line = cursor_line
        self.named: dict[str, Binding] = {}
        self.wild: list[Binding] = []
        self.current = current
        self._sources: dict[str, list[str] | None] = {}

    def run(self) -> None:
        bindings = [b for imp in self.current.imports
                    for b in resolve(self.language, imp, self.rel, self.root.files, self.root.project)]
        for b in bindings + implicit(self.language, self.rel, self.root.files):
            if b.local == WILDCARD:
                self.wild.append(b)
            else:
                self.named.setdefault(b.local, b)
        if not self.named and not self.wild:
            return
        self._scope_names()
        self._not_yet_used()
        self._included([b for b in bindings if b.local == WILDCARD])
        self._base_classes()
        self._cursor()

    # -- what the scope uses ---------------------------------------------------------------------
    def _scope_names(self) -> None:
        instances = dict(self.usage.instances)
        for name in self.usage.names:
            head, _, member = name.partition(".")
            if name in self.named:
                if self.named[name].symbol:
                    self._definition_of(self.named[name], USED, f"`{name}` is used here", SCOPE)
                else:  # a module: what of it is used comes as `module.name`; and a module used as the
                    # value its file defines under the same name (CommonJS `const f = require('./f')`)
                    self._symbols_in(self.named[name].paths, name, USED, f"`{name}` is used here", SCOPE, REEXPORT_DEPTH)
            elif member and head in self.named and "." not in member:
                binding = self.named[head]
                if not binding.symbol:  # module.function
                    self._member_of_module(binding, member, USED, f"`{name}` is used here", SCOPE)
                else:  # Class.member: the class's skeleton
                    self._definition_of(binding, MEMBER_OF, f"`{name}`: a member of `{head}` is used", SCOPE)
            elif member and head in instances:
                self._instance(head, instances[head], f"`{name}`: `{head}` is a `{instances[head]}`", MEMBER_OF, SCOPE)
            elif not member and self.wild:
                for b in self.wild:
                    self._symbols_in(b.paths, name, WILDCARD_USED, f"`{name}` is used here ({_short(b.paths)})", SCOPE)

    def _not_yet_used(self) -> None:
        """Names the file imports and uses nowhere yet: what the user most likely imported to use
        next (the line being written is often a file's first use of an API). Ranked below every
        name the scope uses; the same for every cursor in the file until the name is used."""
        used = _identifiers_outside_imports(blank_code(self.text, self.language), self.current.imports)
        for name, binding in sorted(self.named.items()):
            if "." in name or name in used:
                continue
            reason = f"`{name}` is imported and not used yet"
            if binding.symbol:
                self._definition_of(binding, NOT_YET_USED, reason, SCOPE)
            else:  # a module: only a value of the same name in it (CommonJS), never its whole outline
                self._symbols_in(binding.paths, name, NOT_YET_USED, reason, SCOPE)

    def _included(self, wild: list[Binding]) -> None:
        """Files whose every name the file sees (`#include "io.h"`, `from m import *`): their
        outlines (the header's declarations), below the names the scope uses or the file imports
        by name; the line being written may call any of them, and no use names them yet."""
        for b in wild:
            if len(b.paths) == 1 and (outline_ := self.root.outlines.get(b.paths[0])) is not None:
                shown = {key[1] for key in self.found if key[0] == b.paths[0]}  # start lines already chosen
                self._module_outline(b.paths[0], outline_, INCLUDED, f"`{b.paths[0]}` is included", SCOPE,
                                     leave_out=shown)

    def _base_classes(self) -> None:
        """`self.x` / `this.x` in a method: the skeletons of the enclosing class's imported bases."""
        if not {"self", "this"} & set(self.usage.names):
            return
        classes = [s for s in self.current.symbols if s.kind == "class" and s.start_line <= self.cursor_line <= s.end_line]
        if not classes:
            return
        cls = classes[-1]  # the innermost
        header = cls.signature.split(cls.name, 1)[-1]
        for base in dict.fromkeys(m.group(0).replace("::", ".").replace(" ", "") for m in CHAIN.finditer(header)):
            if base in self.named or base.partition(".")[0] in self.named:
                self._instance("self", base, f"`{cls.name}` extends `{base}`", MEMBER_OF, SCOPE)

    def _cursor(self) -> None:
        typed, receiver = self.usage.typed, self.usage.receiver
        if receiver:
            if receiver in self.named:
                binding = self.named[receiver]
                if binding.symbol:
                    self._definition_of(binding, RECEIVER, f"`{receiver}.` at the cursor", CURSOR)
                else:
                    self._module_members(binding, typed, f"`{receiver}.{typed}` at the cursor")
            elif receiver in dict(self.usage.instances):
                cls = dict(self.usage.instances)[receiver]
                self._instance(receiver, cls, f"`{receiver}.` at the cursor: a `{cls}`", RECEIVER, CURSOR)
            return
        if not typed:
            return
        matches = sorted(n for n in self.named if n.startswith(typed) and "." not in n)[:MAX_PREFIX_MATCHES]
        for name in matches:
            self._definition_of(self.named[name], TYPED, f"`{typed}` is being typed", CURSOR)

    # -- from a binding to snippets ------------------------------------------------------------------
    def _instance(self, var: str, cls: str, reason: str, score: float, group: int) -> None:
        head, _, member = cls.partition(".")
        if cls in self.named:
            self._definition_of(self.named[cls], score, reason, group)
        elif member and head in self.named and not self.named[head].symbol:
            self._member_of_module(self.named[head], member, score, reason, group)

    def _definition_of(self, binding: Binding, score: float, reason: str, group: int) -> None:
        if binding.symbol:
            self._symbols_in(binding.paths, binding.symbol, score, reason, group)
        else:
            self._module_members(binding, "", reason, score=score - 1, group=group)

    def _member_of_module(self, binding: Binding, name: str, score: float, reason: str, group: int) -> None:
        self._symbols_in(binding.paths, name, score, reason, group)

    def _module_members(self, binding: Binding, prefix: str, reason: str, score: float = RECEIVER,
                        group: int = CURSOR) -> None:
        """Members of a module named by `prefix` (the best few), or its outline if none is typed."""
        for path in binding.paths:
            outline_ = self.root.outlines.get(path)
            if outline_ is None:
                continue
            if prefix:
                names = sorted({s.name for s in outline_.symbols if not s.container and s.name.startswith(prefix)})
                for name in names[:MAX_PREFIX_MATCHES]:
                    self._symbols_in((path,), name, score, reason, group)
            else:
                self._module_outline(path, outline_, score, reason, group)

    def _symbols_in(self, paths: tuple[str, ...], name: str, score: float, reason: str, group: int,
                    depth: int = 0) -> None:
        for path in paths:
            outline_ = self.root.outlines.get(path)
            if outline_ is None:
                continue
            symbols = outline_.top_level(name)
            if not symbols and name == "default":
                symbols = [s for s in outline_.symbols if not s.container and "export default" in s.signature][:1]
            for sym in symbols[:2]:
                self._symbol_snippet(path, outline_, sym, score, reason, group)
            if not symbols and depth < REEXPORT_DEPTH:  # a barrel file (index.ts) re-exporting it
                for imp in outline_.imports:
                    if imp.kind == "reexport" and any(n in (name, WILDCARD) or a == name for n, a in imp.names):
                        original = next((n for n, a in imp.names if a == name and n != WILDCARD), name)
                        target = resolve(self.language, type(imp)(imp.source, ((original, original),)), path,
                                         self.root.files, self.root.project)
                        for b in target:
                            self._symbols_in(b.paths, b.symbol or original, score, reason, group, depth + 1)

    # -- snippet texts ----------------------------------------------------------------------------
    def _lines(self, path: str) -> list[str] | None:
        if path not in self._sources:
            text = self.index.source(self.root, path)
            self._sources[path] = text.splitlines() if text is not None else None
        return self._sources[path]

    def _full_text(self, path: str, sym: Symbol) -> str | None:
        lines = self._lines(path)
        if lines is None or sym.end_line >= len(lines) or sym.name not in "\n".join(lines[sym.start_line: sym.end_line + 1]):
            return None  # the file changed since it was indexed
        text = "\n".join(lines[sym.start_line: sym.end_line + 1])
        return f"{sym.doc}\n{text}" if sym.doc and sym.doc not in text else text  # a comment above it

    def _symbol_snippet(self, path: str, outline_: Outline, sym: Symbol, score: float, reason: str, group: int) -> None:
        if sym.kind == "class":
            text, kind = self._skeleton(path, outline_, sym), "skeleton"
        else:
            short = sym.end_line - sym.start_line < MAX_DEFINITION_LINES
            text = (self._full_text(path, sym) if short else None) or _header(sym, self.language)
            kind = "definition"
        _add(self.found, _Candidate(Snippet(path, text, reason, score, sym.start_line, kind), group, sym.end_line))

    def _skeleton(self, path: str, outline_: Outline, cls: Symbol) -> str:
        if cls.end_line - cls.start_line < MAX_DEFINITION_LINES // 2 and (whole := self._full_text(path, cls)):
            return whole
        members = _one_per_name(outline_.members(cls.name))[:MAX_SKELETON_MEMBERS]
        inside = [m for m in members if cls.start_line <= m.start_line <= cls.end_line]
        outside = [m for m in members if m not in inside]
        lines = [_header(cls, self.language, body=False)]
        lines += [_member_line(m, self.language) for m in inside]
        if self.language != "python":
            lines.append("}" + (";" if self.language == "cpp" else ""))
        lines += [_member_line(m, self.language, outside=True) for m in outside]
        return "\n".join(lines)

    def _module_outline(self, path: str, outline_: Outline, score: float, reason: str, group: int,
                        leave_out: set[int] = frozenset()) -> None:
        """The top-level symbols of a file, one line each (those starting at a `leave_out` line:
        not)."""
        tops = [s for s in outline_.symbols if not s.container and s.start_line not in leave_out][:MAX_SKELETON_MEMBERS]
        if not tops:
            return
        text = "\n".join(_member_line(s, self.language, outside=True) for s in tops)
        _add(self.found, _Candidate(Snippet(path, text, reason, score, 0, "module"), group, tops[-1].end_line))


def _identifiers_outside_imports(code: str, imports: Sequence[Import]) -> set[str]:
    """The identifiers of `code` (its comments and strings blanked out: a mention there is no use)
    outside its import statements, in one pass over the file."""
    lines = code.split("\n")
    for imp in imports:
        for i in range(imp.line, min(imp.end_line, len(lines) - 1) + 1):
            lines[i] = ""
    return set(_IDENTIFIER.findall("\n".join(lines)))


def _short(paths: tuple[str, ...]) -> str:
    return paths[0] if len(paths) == 1 else f"{len(paths)} files"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _header(sym: Symbol, language: str, body: bool = True) -> str:
    """A definition's signature and docstring, with an elided body."""
    sig = sym.signature
    inner = _indent(sig.splitlines()[0] if sig else "") + "    "
    doc = "\n".join(inner + line.strip() for line in sym.doc.splitlines()) if sym.doc else ""
    if language == "python":
        return "\n".join(x for x in (sig, doc, inner + "..." if body else "") if x)
    lead = "\n".join(_indent(sig) + line.strip() for line in sym.doc.splitlines()) if sym.doc else ""
    return "\n".join(x for x in (lead, sig + (" { ... }" if body else " {")) if x)


def _one_per_name(members: Sequence[Symbol]) -> list[Symbol]:
    """A class's members with one entry per name: the first of a name's overloads (TypeScript's
    `pipe` has eleven, each several lines; Python's `@overload`s likewise), in source order."""
    seen: set[str] = set()
    return [m for m in members if not (m.name in seen or seen.add(m.name))]


def _one_line(signature: str) -> str:
    """`signature` with the lines inside its brackets joined (a parameter list written over
    several lines takes one); lines outside brackets, such as decorators, are kept."""
    out: list[str] = []
    depth = 0
    for line in signature.splitlines():
        piece = line.strip()
        if depth > 0 and out:
            if piece.startswith((")", "]", "}")):
                out[-1] = out[-1].rstrip(",")
            glue = "" if out[-1].endswith(("(", "[", "{")) or piece.startswith((")", "]", "}")) else " "
            out[-1] += glue + piece
        else:
            out.append(line.rstrip())
        depth = max(0, depth + sum(piece.count(c) for c in "([{") - sum(piece.count(c) for c in ")]}"))
    return "\n".join(out)


def _member_line(sym: Symbol, language: str, outside: bool = False) -> str:
    signature = _one_line(sym.signature)
    if sym.kind in ("field", "variable", "type"):
        return signature
    if language == "python":
        first_doc = sym.doc.strip().splitlines()[0] if sym.doc.strip() else ""
        inner = _indent(signature.splitlines()[0]) + "    "
        return "\n".join(x for x in (signature, inner + first_doc if first_doc else "", inner + "...") if x)
    if signature.rstrip().endswith(";"):  # a declaration (a C prototype)
        return signature
    return signature + (";" if signature.rstrip().endswith(")") and not outside else " { ... }" if outside else "")
