"""What the import resolvers need to know about a project beyond its file list: Go module paths
(go.mod), TypeScript path aliases (tsconfig.json / jsconfig.json `baseUrl` and `paths`), C/C++
include folders (compile_commands.json `-I`), Rust crate roots (Cargo.toml), Python source roots.

Pure parsers of each file's text, and `load`, which reads the files a walk found. Must not
resolve imports itself (`resolve`).
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PYTHON_ROOTS = ("", "src")
MAX_CONFIG_BYTES = 4_000_000


@dataclass(frozen=True)
class Project:
    python_roots: tuple[str, ...] = PYTHON_ROOTS  # folders (relative) that absolute imports start from
    go_modules: tuple[tuple[str, str], ...] = ()  # (folder of go.mod, module path)
    ts_base: str = ""  # baseUrl, relative to the workspace folder ("" : none)
    ts_paths: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (pattern, targets), relative to ts_base
    include_dirs: tuple[str, ...] = ()  # C/C++ -I folders inside the workspace folder
    rust_crates: tuple[str, ...] = ()  # folders holding a Cargo.toml


_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.M)


def go_module(text: str) -> str:
    m = _GO_MODULE.search(text)
    return m.group(1).strip('"') if m else ""


def _json_with_comments(text: str):
    """tsconfig.json allows comments and trailing commas."""
    text = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "", text, flags=re.S)
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def ts_paths(text: str, folder: str = "") -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """(baseUrl, paths) of a tsconfig.json in `folder`, relative to the workspace folder."""
    try:
        options = _json_with_comments(text).get("compilerOptions") or {}
    except (ValueError, AttributeError):
        return "", ()
    base = options.get("baseUrl")
    base = posixpath.normpath(posixpath.join(folder, base)) if isinstance(base, str) else folder
    base = "" if base == "." else base
    paths = options.get("paths") if isinstance(options.get("paths"), dict) else {}
    table = tuple((str(k), tuple(str(t) for t in v if isinstance(t, str)))
                  for k, v in sorted(paths.items()) if isinstance(v, list))
    return base, table


def include_dirs(text: str, root: str) -> tuple[str, ...]:
    """The -I / -iquote / -isystem folders of a compile_commands.json that lie inside `root`
    (an absolute POSIX path), relative to it, in first-seen order."""
    try:
        entries = json.loads(text)
    except ValueError:
        return ()
    found: dict[str, None] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        args = entry.get("arguments")
        if not isinstance(args, list):
            try:
                args = shlex.split(entry.get("command") or "")
            except ValueError:
                continue
        directory = entry.get("directory") or root
        pending = None
        for arg in args:
            arg = str(arg)
            if pending:
                value, pending = arg, None
            elif arg in ("-I", "-iquote", "-isystem"):
                pending = arg
                continue
            elif arg.startswith("-I"):
                value = arg[2:]
            else:
                continue
            path = posixpath.normpath(posixpath.join(directory, value))
            rel = posixpath.relpath(path, root)
            if not rel.startswith(".."):
                found["" if rel == "." else rel] = None
    return tuple(found)


def load(root: Path, configs: Iterable[str]) -> Project:
    """The project of a workspace folder from the config files a walk found (relative paths)."""
    go, ts_base, paths, includes, crates = [], "", (), [], []
    configs = sorted(set(configs) | ({"build/compile_commands.json"} if (root / "build/compile_commands.json").is_file() else set()),
                     key=lambda p: (p.count("/"), p))
    for rel in configs:
        name, folder = posixpath.basename(rel), posixpath.dirname(rel)
        try:
            text = (root / rel).read_text(encoding="utf-8", errors="replace")[:MAX_CONFIG_BYTES]
        except OSError:
            continue
        if name == "go.mod" and (module := go_module(text)):
            go.append((folder, module))
        elif name in ("tsconfig.json", "jsconfig.json") and not paths and not ts_base:
            ts_base, paths = ts_paths(text, folder)
        elif name == "compile_commands.json":
            includes += [d for d in include_dirs(text, root.as_posix()) if d not in includes]
        elif name == "Cargo.toml":
            crates.append(folder)
    return Project(go_modules=tuple(go), ts_base=ts_base, ts_paths=paths, include_dirs=tuple(includes),
                   rust_crates=tuple(crates))
