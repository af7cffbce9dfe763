"""Shared parts of the quality benchmarks: the model as the server loads it, the baseline cuts,
and scoring helpers.

Owns what the benchmarks add around the server's completion path: the two baseline cuts that
any peer has (first line, indentation), scoring (tests in a subprocess, exact match, edit
similarity, tree-sitter parse) and machine/commit facts. Where results go is
`benchmarks.output`'s. Must not reimplement the server's path: snapshots, gating, request building, prompt, generation
and syntax-aware truncation all come from `lsp_server`.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from lsp_server.lsp.settings import Settings
from lsp_server.context.templates import choose_template
from lsp_server.bundled import BUNDLED, ensure_assembled
from lsp_server.worker.engine import Engine
from lsp_server.syntax.languages import new_parser

REPO = Path(__file__).resolve().parents[2]
# The modules the benchmark runs: a run notes when any of them differs from the commit.
COMPLETION_PATH = (
    "lsp_server/lsp/documents.py", "lsp_server/lsp/completion", "lsp_server/worker", "lsp_server/lsp/settings.py",
    "lsp_server/syntax", "lsp_server/context", "lsp_server/prompts/fim",
)


# -- the model, loaded the way the worker loads it (lsp_server/worker/scheduler.py) ----------------


def model_file(model: str) -> Path:
    """The GGUF of the bundled model `model` ("default" or "small", assembled on first use) or of a path."""
    return Path(model) if model not in BUNDLED else ensure_assembled(BUNDLED[model])


def load_engine(model: str, settings: Settings):
    """(engine, template, path) for the bundled model `model` ("default" or "small") or a GGUF path."""
    path = model_file(model)
    engine = Engine(str(path), n_ctx=settings.context_size, threads=settings.threads)
    template = choose_template(engine.info.metadata, settings.fim_template)
    return engine, template, path


# -- baseline cuts (what any peer has; deliberately simple) ------------------------------------


def first_line_cut(raw: str) -> str:
    """The model output through its first line break (kept, so that a hole that ends with a line
    break stays one); the whole output when it has none."""
    head, sep, _ = raw.partition("\n")
    return head + sep


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def indentation_cut(raw: str, cursor_column_text: str = "") -> str:
    """The standard indentation cut: keep the first line; keep each following line while it is
    blank or indented at least as deep as the first non-blank line of the completion (measured
    with the text left of the cursor on the cursor line in front of the first line); stop at the
    first line indented less (the block was left). Trailing blank lines are dropped; the line break
    after the last kept line is kept."""
    lines = raw.split("\n")
    first = cursor_column_text + lines[0]
    ref = None
    if first.strip():
        ref = _indent(first)
    kept = [lines[0]]
    for line in lines[1:]:
        if not line.strip():
            kept.append(line)
            continue
        if ref is None:
            ref = _indent(line)
        if _indent(line) < ref:
            break
        kept.append(line)
    while len(kept) > 1 and not kept[-1].strip():
        kept.pop()
    text = "\n".join(kept)
    if len(kept) < len(lines):
        text += "\n"
    return text


# -- scoring -----------------------------------------------------------------------------------


def edit_similarity(a: str, b: str) -> float:
    """difflib.SequenceMatcher ratio of the two texts with trailing whitespace stripped."""
    return difflib.SequenceMatcher(None, a.rstrip(), b.rstrip(), autojunk=False).ratio()


def first_nonempty_line(text: str) -> str:
    return next((ln.strip() for ln in text.split("\n") if ln.strip()), "")


_PARSERS: dict = {}


def ts_errors(language: str, text: str) -> int:
    """Number of ERROR and MISSING nodes when tree-sitter (the project's grammar) parses `text`."""
    parser = _PARSERS.get(language) or _PARSERS.setdefault(language, new_parser(language))
    root = parser.parse(text.encode("utf-8", "surrogatepass")).root_node
    if not root.has_error:
        return 0
    n, stack = 0, [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            n += 1
        if node.has_error:
            stack.extend(node.children)
    return n


def python_parses(source: str) -> bool:
    """Does Python's own parser accept `source`? (Parsing only: nothing is executed.)"""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _limits() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
    os.setsid()


def run_program(source: str, timeout: float = 10.0) -> tuple[bool, str]:
    """Run untrusted `source` with `python -I` in a fresh temporary directory, time-limited.
    (passed, short reason)."""
    with tempfile.TemporaryDirectory(prefix="lqb-") as tmp:
        path = Path(tmp) / "prog.py"
        path.write_text(source, encoding="utf-8")
        try:
            proc = subprocess.run(
                [sys.executable, "-I", str(path)], cwd=tmp, capture_output=True, timeout=timeout,
                stdin=subprocess.DEVNULL, preexec_fn=_limits, env={"PATH": "/usr/bin:/bin"},
            )
        except subprocess.TimeoutExpired:
            return False, "timeout"
        if proc.returncode == 0:
            return True, ""
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return False, (err[-1][:160] if err else f"exit {proc.returncode}")


# -- facts about the run -----------------------------------------------------------------------


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"nproc {os.cpu_count()}, CPU {cpu or platform.processor() or '?'}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        # not stripped: each line is "XY path", and X may be a space
        dirty = [l[3:] for l in subprocess.run(["git", "status", "--porcelain", *COMPLETION_PATH], cwd=REPO,
                                               capture_output=True, text=True).stdout.splitlines() if l.strip()]
        return head + (" (completion path modified: " + ", ".join(dirty) + ")" if dirty else "")
    except OSError:
        return "?"


def now() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:.1f}%" if n else "-"
