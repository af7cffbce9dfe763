"""The package's shape: the two processes import nothing of each other, no import cycles, every
function-level import says why it is deferred, every module says what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lsp_server"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _module_level(tree: ast.Module) -> set[int]:
    """The statements that run on import: the module's body, and what is inside its top-level
    `if` and `try` blocks (a version check, an optional dependency)."""
    out: set[int] = set()
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        out.add(id(node))
        if isinstance(node, (ast.If, ast.Try)):
            todo += node.body + node.orelse + getattr(node, "finalbody", []) + [
                s for h in getattr(node, "handlers", []) for s in h.body]
    return out


def _imports(path: Path, module: str) -> list[tuple[str, int, bool]]:
    """(imported lsp_server module, line, at module level) for each import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = _module_level(tree)
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("lsp_server"):
                found.append((name, node.lineno, id(node) in top))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, _, at_top in _imports(path, module):
            if at_top and name in MODULES and name != module:
                graph[module].add(name)
    return graph


def test_the_two_processes_import_nothing_of_each_other():
    crossing = []
    for module, path in MODULES.items():
        for name, line, _ in _imports(path, module):
            if module.startswith("lsp_server.lsp") and name.startswith("lsp_server.worker") and not name.startswith("lsp_server.worker_protocol"):
                crossing.append(f"{module}:{line} imports {name}")
            if module.startswith("lsp_server.worker") and not module.startswith("lsp_server.worker_protocol") and name.startswith("lsp_server.lsp"):
                crossing.append(f"{module}:{line} imports {name}")
    assert crossing == []


def test_no_import_cycles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_function_level_imports_say_why_they_are_deferred():
    undocumented = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        top = _module_level(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    continue
                # the reason stands on the import, or on a comment line above its group of imports
                first = node.lineno - 1
                while first > 0 and lines[first - 1].strip().startswith(("from ", "import ", "#")):
                    first -= 1
                    if lines[first].strip().startswith("#"):
                        break
                window = " ".join(lines[first: node.end_lineno])
                if "deferred" not in window:
                    undocumented.append(f"{module}:{node.lineno}")
    assert undocumented == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_says_what_it_owns(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{module} has no docstring"


def test_the_prompt_templates_ship_inside_the_package():
    assert sorted(p.name for p in (PACKAGE / "prompts" / "fim").glob("*.toml"))
    assert (PACKAGE / "prompts" / "chat" / "fix.toml").is_file()
