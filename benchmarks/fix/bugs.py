"""Planted bugs in HumanEval canonical solutions (prompt + canonical_solution + suffix).

Owns reading the SingleLineInfilling tasks (deduplicated by HumanEval id), planting one bug per
task with a fixed seed (operator swap, off-by-one, wrong variable, inverted condition, missing
return; kinds taken in turn), and running a program's tests in a time-limited subprocess. A bug
is kept only if the mutated program still parses and its tests fail within the time limit.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import random
import re
import subprocess
import sys
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "bench" / "humaneval-infilling" / "HumanEval-SingleLineInfilling.jsonl.gz"
KINDS = ("operator swap", "off-by-one", "wrong variable", "inverted condition", "missing return")
SWAPS = {"+": "-", "-": "+", "<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "!=", "!=": "==",
         "*": "+", "//": "%", "%": "//", "and": "or", "or": "and"}


@dataclass
class Task:
    id: str
    entry_point: str
    code: str  # the correct program
    body_start: int  # offset where the canonical body starts (after the prompt)
    test: str


@dataclass
class Bug:
    task: Task
    kind: str
    code: str  # the program with the bug
    line: int  # 0-based line of the bug
    failure: str  # what the failing test says


def load_tasks(path: Path = DATA) -> list[Task]:
    seen: dict[str, Task] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for raw in fh:
            row = json.loads(raw)
            he_id = "/".join(row["task_id"].split("/")[1:3])
            if he_id in seen:
                continue
            code = row["prompt"] + row["canonical_solution"] + row["suffix"]
            # The body starts after the docstring: the first line that the prompt's signature
            # block does not hold. The prompt ends somewhere in the body (single-line infilling),
            # so find the end of the entry point's docstring instead.
            seen[he_id] = Task(he_id, row["entry_point"], code, _body_start(code, row["entry_point"]), row["test"])
    return sorted(seen.values(), key=lambda t: int(t.id.split("/")[1]))


def _body_start(code: str, entry: str) -> int:
    tree = ast.parse(code)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            body = node.body
            first = body[1] if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) else body[0]
            lines = code.splitlines(keepends=True)
            return sum(len(l) for l in lines[: first.lineno - 1])
    return 0


def _tokens(code: str, start: int):
    line_offsets = [0]
    for line in code.splitlines(keepends=True):
        line_offsets.append(line_offsets[-1] + len(line))
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        s = line_offsets[tok.start[0] - 1] + tok.start[1]
        e = line_offsets[tok.end[0] - 1] + tok.end[1]
        if s >= start:
            yield tok, s, e


def candidates(task: Task, kind: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) edits of the body that plant a bug of `kind`."""
    code, out = task.code, []
    toks = list(_tokens(code, task.body_start))
    names = _local_names(code, task.entry_point)
    for i, (tok, s, e) in enumerate(toks):
        if kind == "operator swap" and tok.string in SWAPS and (tok.type == tokenize.OP or tok.string in ("and", "or")):
            if tok.string == "-" and _unary(toks, i):
                continue
            out.append((s, e, SWAPS[tok.string]))
        elif kind == "off-by-one" and tok.type == tokenize.NUMBER and re.fullmatch(r"\d+", tok.string):
            out.append((s, e, str(int(tok.string) + 1)))
        elif kind == "wrong variable" and tok.type == tokenize.NAME and tok.string in names and code[s - 1: s] != ".":
            others = [n for n in names if n != tok.string]
            if others and not _is_target(code, s, e):
                out.append((s, e, others[(s * 7919) % len(others)]))
        elif kind == "inverted condition" and tok.string in ("if", "while", "elif"):
            line_end = code.index("\n", e)
            cond_end = code.rfind(":", e, line_end)
            if cond_end > e:
                cond = code[e:cond_end].strip()
                out.append((e, cond_end, f" not ({cond})"))
        elif kind == "missing return" and tok.string == "return":
            nxt = toks[i + 1][0] if i + 1 < len(toks) else None
            if nxt is not None and nxt.type not in (tokenize.NEWLINE, tokenize.COMMENT):
                out.append((s, toks[i + 1][1], ""))
    return out


_KEYWORDS = {"True", "False", "None", "and", "or", "not", "in", "is", "if", "else", "elif", "for", "while", "return",
             "def", "lambda", "import", "from", "as", "pass", "break", "continue", "yield", "with", "try", "except",
             "finally", "raise", "del", "global", "nonlocal", "assert", "class", "len", "range", "print", "self"}


def _local_names(code: str, entry: str) -> list[str]:
    """The entry point's parameters and the names its body binds: the variables a slip swaps."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            names = {a.arg for a in node.args.args}
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            return sorted(names)
    return []


def _is_target(code: str, s: int, e: int) -> bool:
    """A name being bound (`x =`, `for x in`), not used: replacing it is a different bug."""
    rest = code[e: code.find("\n", e)]
    before = code[code.rfind("\n", 0, s) + 1: s]
    return bool(re.match(r"\s*(=[^=]|,.*=[^=]|\+=|-=|\*=)", rest)) or before.rstrip().endswith(("for", "def", "lambda", "import", "as", ","))


def _unary(toks, i: int) -> bool:
    if i == 0:
        return True
    prev = toks[i - 1][0]
    return prev.type == tokenize.OP and prev.string not in (")", "]", "}")


def program_with_tests(code: str, task: Task) -> str:
    return code + "\n\n" + task.test + f"\n\ncheck({task.entry_point})\n"


def run_tests(code: str, task: Task, timeout: float = 10.0) -> tuple[str, str]:
    """('pass' | 'fail' | 'timeout', what the failure says)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(program_with_tests(code, task))
        path = fh.name
    try:
        proc = subprocess.run([sys.executable, "-I", path], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"the tests did not finish within {timeout:.0f} s"
    finally:
        Path(path).unlink(missing_ok=True)
    if proc.returncode == 0:
        return "pass", ""
    return "fail", _failure(proc.stderr)


def _failure(stderr: str) -> str:
    lines = [l for l in stderr.strip().splitlines() if l.strip()]
    last = lines[-1].strip() if lines else "the tests fail"
    assert_line = next((l.strip() for l in reversed(lines) if l.strip().startswith("assert ")), None)
    if last.startswith("AssertionError") and assert_line:
        return f"failing test: `{assert_line[:200]}`"
    return f"the tests raise {last[:200]}" + (f" at `{assert_line[:160]}`" if assert_line else "")


def plant(tasks: list[Task], count: int, seed: int = 1234, timeout: float = 10.0, log=print) -> list[Bug]:
    rng = random.Random(seed)
    bugs: list[Bug] = []
    order = tasks[:]
    rng.shuffle(order)
    k = 0
    for task in order:
        if len(bugs) >= count:
            break
        for attempt in range(len(KINDS)):
            kind = KINDS[(k + attempt) % len(KINDS)]
            cands = candidates(task, kind)
            rng.shuffle(cands)
            planted = None
            for s, e, rep in cands[:4]:
                code = task.code[:s] + rep + task.code[e:]
                try:
                    ast.parse(code)
                except SyntaxError:
                    continue
                verdict, failure = run_tests(code, task, timeout)
                if verdict == "fail":
                    planted = Bug(task, kind, code, code.count("\n", 0, s), failure)
                    break
            if planted:
                bugs.append(planted)
                k += 1
                break
    log(f"planted {len(bugs)} bugs: " + ", ".join(f"{kd} {sum(b.kind == kd for b in bugs)}" for kd in KINDS))
    return bugs
