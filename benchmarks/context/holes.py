"""The hole set of the repository-level benchmark (issue 19, in the spirit of CrossCodeEval):
lines of real multi-file projects on this machine whose completion uses an API defined in
another file of the same project.

Usage: .venv/bin/python -m benchmarks.context.holes [--python 40] [--per-language 25] [--seed 0]
           [--max-per-project N] [--out benchmarks/context/data/repo-holes.jsonl]

A line qualifies when it lies in a function's or method's body (below its header), is not an
import, and uses a name that the file's imports lead to (the workspace package's `imports` and
`resolve`, as the server sees them) and that the outline of the file they lead to defines at its
top level, while the current file does not define it: `name(...)` for an imported name (`from m
import name`, `const {name} = require(...)`, a C header's declarations through `#include "x.h"`),
`mod.name` for an imported module, and `Fetcher` or `Fetcher.x` for a CommonJS module whose file
sets `module.exports = Name` to a definition of its own (`const Fetcher = require('./fetcher.js')`).
The current file's own names exclude those its imports bind (`const x = require(...)`). The hole is the rest of the line from the cut:
either the line's first non-blank character or the start of the API's use (`mod.name` from
`mod`), chosen with the seed. Sampling is deterministic: per project, files in a seeded order,
one hole per file per round; the per-language total is shared between the language's projects
(`allocate`). The set is data: the file texts stay on the machine and the runner (`repo`)
refuses a file whose hash changed. Projects are staged the way the runner stages them
(`stage`): the files the index's walk would read, copied under a folder named after the
project, so that Python's absolute imports of the package resolve.

Pure parts (`api_uses`, `cuts`, `allocate`, `pick`) are table-tested; must not start the
server or a model (`repo` does).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from lsp_server.workspace.index import WorkspaceIndex
from lsp_server.workspace.model import WILDCARD, Outline
from lsp_server.workspace.resolve import Binding, implicit, resolve
from lsp_server.workspace.usage import CHAIN, blank_code
from lsp_server.workspace.walk import walk

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "benchmarks" / "context" / "data" / "repo-holes.jsonl"
SITE = "/work/main/.venv/lib/python3.11/site-packages"
NPM = "/usr/lib/node_modules/npm/node_modules"
MIN_CHARS, MAX_CHARS = 4, 160
_SEP = (".", "::", "->")
_CJS_EXPORT = re.compile(r"^module\.exports\s*=\s*([A-Za-z_$][\w$]*)\s*;?\s*$", re.M)
_IMPORT_WORDS = ("import ", "from ", "#include", "export ", "require(")


@dataclass(frozen=True)
class Project:
    name: str
    language: str
    root: str  # absolute, or relative to the repository (installed into benchmarks/work, gitignored)
    version: str
    source: str  # where it comes from, how to recreate it when it is not part of the machine


# Chosen as less likely memorised than a standard library: installed packages' own sources.
PROJECTS = (
    Project("pygls", "python", f"{SITE}/pygls", "2.1.1", "PyPI pygls, the shared venv"),
    Project("cattrs", "python", f"{SITE}/cattrs", "26.2.1", "PyPI cattrs, the shared venv"),
    Project("pathspec", "python", f"{SITE}/pathspec", "1.1.1", "PyPI pathspec, the shared venv"),
    Project("gguf", "python", f"{SITE}/gguf", "0.19.0", "PyPI gguf (llama.cpp's gguf-py), the shared venv"),
    Project("sacrebleu", "python", f"{SITE}/sacrebleu", "2.6.0", "PyPI sacrebleu, the shared venv"),
    Project("arborist", "javascript", f"{NPM}/@npmcli/arborist", "9.9.1", "Debian's npm 11 (/usr/lib/node_modules/npm)"),
    Project("pacote", "javascript", f"{NPM}/pacote", "21.5.1", "Debian's npm 11"),
    Project("cacache", "javascript", f"{NPM}/cacache", "20.0.4", "Debian's npm 11"),
    Project("node-gyp", "javascript", f"{NPM}/node-gyp", "12.4.0", "Debian's npm 11"),
    Project("rxjs", "typescript", "benchmarks/work/npm/node_modules/rxjs/src", "7.8.2",
            "npm rxjs@7.8.2: `npm install --offline --ignore-scripts --prefix benchmarks/work/npm rxjs@7.8.2`"),
    Project("nettle-examples", "c", "/usr/share/doc/nettle-dev/examples", "3.8.1-2", "Debian nettle-dev examples"),
)


@dataclass(frozen=True)
class Use:
    api: str  # the identifier the line uses (as written in it)
    start: int  # column where the use begins (`mod` of `mod.name`)
    path: str  # the file that defines it (relative to the workspace folder)
    symbol: str = ""  # its name there ("": the same as `api`)


@dataclass(frozen=True)
class Hole:
    project: str
    language: str
    root: str
    version: str
    file: str  # relative to root
    line: int  # 0-based
    cut: int  # column (code points) where the hole begins
    expected: str  # the rest of the line from the cut (no line break)
    api: str
    def_file: str  # relative to root
    def_line: int  # the definition's lines in def_file (0-based, inclusive), from its outline
    def_end_line: int
    file_sha256: str
    def_sha256: str


# -- pure parts ------------------------------------------------------------------------------------
def _parts(chain: str) -> list[str]:
    for sep in _SEP[1:]:
        chain = chain.replace(sep, ".")
    return [p.strip() for p in chain.split(".")]


def api_uses(code: str, named: Mapping[str, Binding], wild: Sequence[Binding], own: set[str],
             defines: Callable[[tuple[str, ...], str], str | None],
             exported: Callable[[tuple[str, ...]], tuple[str, str] | None] = lambda paths: None) -> list[Use]:
    """The uses of other files' definitions in one line of code (comments and strings blanked).

    `named`: local name -> binding; `wild`: bindings of every name of their files; `own`: the
    current file's top-level names; `defines(paths, name)`: the first of `paths` whose outline
    defines `name` at its top level, else None; `exported(paths)`: (path, name) of the first
    that sets `module.exports = Name` to a top-level definition of its own, else None."""
    out: list[Use] = []
    for m in CHAIN.finditer(code):
        parts = _parts(m.group(0))
        dotted = next((".".join(parts[:k]) for k in range(len(parts), 0, -1) if ".".join(parts[:k]) in named), "")
        if dotted:
            b, rest = named[dotted], parts[dotted.count(".") + 1:]
            if b.symbol and dotted not in own and (path := defines(b.paths, b.symbol)):
                out.append(Use(dotted, m.start(), path, b.symbol))
            elif not b.symbol and rest and rest[0] not in own and (path := defines(b.paths, rest[0])):
                out.append(Use(rest[0], m.start(), path))
            elif not b.symbol and dotted not in own and (found := exported(b.paths)):
                out.append(Use(dotted, m.start(), *found))  # a CommonJS module: `module.exports = Name`
        elif wild and parts[0] not in own:
            path = next((p for b in wild if (p := defines(b.paths, parts[0]))), None)
            if path:
                out.append(Use(parts[0], m.start(), path))
    return out


IMPORT_LINE = re.compile(r"\s*(?:from\s+\S+\s+import\b|import\b|#\s*include\b|export\s+.*\bfrom\b|"
                         r"(?:const|let|var)\s+[^=]*=\s*require\s*\()")


def first_use(text: str, line: int, api: str, language: str) -> bool:
    """Whether the hole's line is the first of its file to use `api`: no code line before it (its
    imports, `#include`s and `require`s, comments and strings aside) has the name as a word. On the
    other holes the file's own earlier uses show the model the name, so in-file context alone can
    get them right; CrossCodeEval keeps only holes that in-file context does not solve."""
    word = re.compile(r"(?<![\w$])" + re.escape(api) + r"(?![\w$])")
    code = blank_code(text, language).split("\n")[:line]
    depth = 0  # open brackets of an import statement that goes on over lines
    for c in code:
        if depth or IMPORT_LINE.match(c):
            depth = max(0, depth + c.count("(") + c.count("{") - c.count(")") - c.count("}"))
            continue
        if word.search(c):
            return False
    return True


def cuts(line: str, use: Use) -> list[int]:
    """The columns a hole may start at: the line's first non-blank character, and the use's start."""
    first = len(line) - len(line.lstrip())
    return sorted({first, use.start})


def allocate(available: Mapping[str, int], total: int, cap: int = 0) -> dict[str, int]:
    """Share `total` holes between projects with `available` candidates each, as evenly as they
    allow (water filling, in name order for the remainders), at most `cap` each when cap > 0."""
    share = {name: 0 for name in available}
    left = total
    while left > 0:
        open_ = [n for n in sorted(available) if share[n] < available[n] and (not cap or share[n] < cap)]
        if not open_:
            break
        step = max(1, left // len(open_))
        for n in open_:
            if left == 0:
                break
            give = min(step, available[n] - share[n], (cap - share[n]) if cap else step, left)
            share[n] += give
            left -= give
    return share


def pick(by_file: Mapping[str, Sequence], n: int, rng: random.Random) -> list:
    """`n` items, one per file per round, files and their items in a seeded order."""
    files = sorted(by_file)
    rng.shuffle(files)
    queues = {f: rng.sample(list(by_file[f]), len(by_file[f])) for f in files}
    out: list = []
    while len(out) < n and any(queues.values()):
        for f in files:
            if queues[f] and len(out) < n:
                out.append(queues[f].pop())
    return out


# -- the machine's side ----------------------------------------------------------------------------
def root_path(root: str) -> Path:
    return Path(root) if Path(root).is_absolute() else REPO / root


def stage(project: Project, into: Path) -> tuple[Path, str]:
    """Copy the files the index would read of `project` into `into/<name>/<root's name>/`:
    (the workspace folder, the root's path inside it)."""
    source = root_path(project.root)
    workspace = into / project.name
    inner = source.name
    for found in walk(source, 20000):
        target = workspace / inner / found.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found.path, target)
    return workspace, inner


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bindings(outline: Outline, rel: str, root) -> tuple[dict[str, Binding], list[Binding]]:
    named: dict[str, Binding] = {}
    wild: list[Binding] = []
    lang = outline.language
    bindings = [b for imp in outline.imports for b in resolve(lang, imp, rel, root.files, root.project)]
    for b in bindings + implicit(lang, rel, root.files):
        if b.local == WILDCARD:
            wild.append(b)
        else:
            named.setdefault(b.local, b)
    return named, wild


def _body_lines(outline: Outline) -> set[int]:
    lines: set[int] = set()
    for s in outline.symbols:
        if s.kind in ("function", "method"):
            lines.update(range(s.start_line + s.signature.count("\n") + 1, s.end_line + 1))
    return lines


def candidates(project: Project, workspace: Path, inner: str) -> dict[str, list[Hole]]:
    """Every qualifying hole of a staged project, by file, before the cut is chosen (cut = -1)."""
    index = WorkspaceIndex()
    index.index_folder(workspace)
    root = index.roots()[0]
    source = root_path(project.root)
    found: dict[str, list[Hole]] = {}

    def defines(paths: tuple[str, ...], name: str) -> str | None:
        return next((p for p in paths if p != rel and p in root.outlines and root.outlines[p].top_level(name)), None)

    def exported(paths: tuple[str, ...]) -> tuple[str, str] | None:
        for p in paths:
            m = _CJS_EXPORT.search((workspace / p).read_text(encoding="utf-8", errors="replace")) if p != rel else None
            if m and p in root.outlines and root.outlines[p].top_level(m.group(1)):
                return p, m.group(1)
        return None

    for rel, outline in sorted(root.outlines.items()):
        if outline.language != project.language or not rel.startswith(inner + "/"):
            continue
        named, wild = _bindings(outline, rel, root)
        if not named and not wild:
            continue
        text = (workspace / rel).read_text(encoding="utf-8", errors="replace")
        code_lines, lines = blank_code(text, outline.language).split("\n"), text.split("\n")
        import_lines = {imp.line for imp in outline.imports}
        own = {s.name for s in outline.symbols if not s.container and s.start_line not in import_lines}
        for i in sorted(_body_lines(outline)):
            if i >= len(lines) or lines[i].lstrip().startswith(_IMPORT_WORDS) or "require(" in code_lines[i]:
                continue
            for use in api_uses(code_lines[i], named, wild, own, defines, exported)[:1]:
                sym = root.outlines[use.path].top_level(use.symbol or use.api)[0]
                hole = _with_cut(Hole(
                    project.name, project.language, project.root, project.version, rel[len(inner) + 1:], i, -1, "",
                    use.api, use.path[len(inner) + 1:], sym.start_line, sym.end_line,
                    sha256(source / rel[len(inner) + 1:]), sha256(source / use.path[len(inner) + 1:]),
                ), lines[i], use, -1)
                if hole is not None:
                    found.setdefault(rel, []).append(hole)
    return found


def _with_cut(hole: Hole, line: str, use: Use, cut: int):
    """The hole with its cut (cut < 0: the use's start; the choice is made in `build`), or None
    when the rest of the line is too short or too long."""
    cut = use.start if cut < 0 else cut
    expected = line[cut:].rstrip()
    if not MIN_CHARS <= len(expected) <= MAX_CHARS or use.api not in expected:
        return None
    return Hole(**{**asdict(hole), "cut": cut, "expected": expected})


def build(projects: Sequence[Project], targets: Mapping[str, int], seed: int, cap: int = 0) -> list[Hole]:
    holes: list[Hole] = []
    with tempfile.TemporaryDirectory(prefix="repo-holes-") as tmp:
        per_project: dict[str, dict[str, list[Hole]]] = {}
        for project in projects:
            if not root_path(project.root).is_dir():
                print(f"skipped {project.name}: {project.root} is missing ({project.source})", file=sys.stderr)
                continue
            workspace, inner = stage(project, Path(tmp))
            per_project[project.name] = candidates(project, workspace, inner)
        by_name = {p.name: p for p in projects}
        for language, total in targets.items():
            names = [n for n in per_project if by_name[n].language == language]
            share = allocate({n: sum(map(len, per_project[n].values())) for n in names}, total, cap)
            for name in names:
                rng = random.Random(f"{seed}:{name}")
                for hole in pick(per_project[name], share[name], rng):
                    lines = root_path(hole.root).joinpath(hole.file).read_text(encoding="utf-8", errors="replace").split("\n")
                    options = cuts(lines[hole.line], Use(hole.api, hole.cut, ""))
                    options = [c for c in options if _with_cut(hole, lines[hole.line], Use(hole.api, c, ""), c)]
                    holes.append(_with_cut(hole, lines[hole.line], Use(hole.api, hole.cut, ""), rng.choice(options)))
    return sorted(holes, key=lambda h: (h.language, h.project, h.file, h.line))


def load(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.context.holes", description=__doc__.split("\n")[0])
    ap.add_argument("--python", type=int, default=40, help="Python holes")
    ap.add_argument("--per-language", type=int, default=25, help="holes of each other language")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-per-project", type=int, default=0, help="0: the language's total shared evenly")
    ap.add_argument("--out", type=Path, default=DATA)
    args = ap.parse_args(argv)
    languages = dict.fromkeys(p.language for p in PROJECTS)
    targets = {lang: args.python if lang == "python" else args.per_language for lang in languages}
    holes = build(PROJECTS, targets, args.seed, args.max_per_project)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(asdict(h), ensure_ascii=False) + "\n" for h in holes), encoding="utf-8")
    counts: dict[str, int] = {}
    for h in holes:
        counts[f"{h.language}/{h.project}"] = counts.get(f"{h.language}/{h.project}", 0) + 1
    print(f"wrote {len(holes)} holes to {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
