"""Where an import leads inside the workspace: `Import` -> `Binding`s (local name -> files and
the definition's name there), one pure resolver per language over a `FileSet` and a `Project`.

Also the names a file sees without importing them (`implicit`): its Go package's and its Java
package's other files. An import that leads outside the workspace (the standard library, a
dependency) resolves to nothing. Must not touch the disk or know what the files define.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from lsp_server.workspace.fileset import FileSet
from lsp_server.workspace.model import WILDCARD, Import
from lsp_server.workspace.project import Project


@dataclass(frozen=True)
class Binding:
    local: str  # the name in the importing file; dotted for `import a.b`; WILDCARD: all the files' names
    paths: tuple[str, ...]  # the workspace files it leads to (relative POSIX paths)
    symbol: str = ""  # the definition's name in those files; "" for the module itself


def resolve(language: str, imp: Import, importer: str, files: FileSet, project: Project) -> list[Binding]:
    resolver = _RESOLVERS.get(language)
    return resolver(imp, importer, files, project) if resolver else []


def implicit(language: str, importer: str, files: FileSet) -> list[Binding]:
    """The other files whose top-level names `importer` sees unqualified (same Go package,
    same Java package)."""
    ext = {"go": ".go", "java": ".java"}.get(language)
    if ext is None:
        return []
    test = importer.endswith("_test.go")
    siblings = tuple(p for p in files.in_dir(posixpath.dirname(importer))
                     if p != importer and p.endswith(ext) and (test or not p.endswith("_test.go")))
    return [Binding(WILDCARD, siblings)] if siblings else []


def _join(*parts: str) -> str:
    path = posixpath.normpath(posixpath.join(*parts))
    return "" if path == "." else path


# -- Python ------------------------------------------------------------------------------------
def _py_module(files: FileSet, base: str, dotted: str) -> str | None:
    stem = _join(base, *dotted.split(".")) if dotted else base
    if stem.startswith(".."):
        return None
    return files.first((f"{stem}.py", f"{stem}.pyi", _join(stem, "__init__.py"), _join(stem, "__init__.pyi")))


def python_module(module: str, importer: str, files: FileSet, project: Project) -> tuple[str | None, str]:
    """(the file of a module as written in an import, the folder it is looked up in)."""
    level = len(module) - len(module.lstrip("."))
    if level:
        base = _join(posixpath.dirname(importer), *[".."] * (level - 1))
        return _py_module(files, base, module[level:]), base
    for root in project.python_roots:
        if (found := _py_module(files, root, module)) is not None:
            return found, root
    return None, ""


def _python(imp: Import, importer: str, files: FileSet, project: Project) -> list[Binding]:
    module, _ = python_module(imp.source, importer, files, project)
    if not imp.names:  # import a.b [as c]
        return [Binding(imp.alias, (module,))] if module else []
    dots = imp.source[: len(imp.source) - len(imp.source.lstrip("."))]
    tail = imp.source[len(dots):]
    out = []
    for name, local in imp.names:
        if name == WILDCARD:
            out += [Binding(WILDCARD, (module,))] if module else []
            continue
        sub, _ = python_module(dots + (f"{tail}.{name}" if tail else name), importer, files, project)
        if sub is not None and sub != module:  # from package import submodule
            out.append(Binding(local, (sub,)))
        elif module is not None:
            out.append(Binding(local, (module,), name))
    return out


# -- JavaScript / TypeScript -------------------------------------------------------------------
JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def _js_file(files: FileSet, stem: str) -> str | None:
    if stem.startswith(".."):
        return None
    candidates = [stem]
    root, ext = posixpath.splitext(stem)
    if ext in (".js", ".jsx", ".mjs", ".cjs"):  # TypeScript's ESM imports name the compiled file
        candidates += [root + e for e in (".ts", ".tsx", ".mts", ".cts")]
    candidates += [stem + e for e in JS_EXTENSIONS] + [_join(stem, "index" + e) for e in JS_EXTENSIONS]
    return files.first(candidates)


def js_module(source: str, importer: str, files: FileSet, project: Project) -> str | None:
    if source.startswith(("./", "../")) or source in (".", ".."):
        return _js_file(files, _join(posixpath.dirname(importer), source))
    for pattern, targets in project.ts_paths:
        head, star, tail = pattern.partition("*")
        if star and source.startswith(head) and source.endswith(tail) and len(source) >= len(head) + len(tail):
            middle = source[len(head): len(source) - len(tail)]
            for target in targets:
                if (found := _js_file(files, _join(project.ts_base, target.replace("*", middle)))) is not None:
                    return found
        elif not star and source == pattern:
            for target in targets:
                if (found := _js_file(files, _join(project.ts_base, target))) is not None:
                    return found
    if project.ts_base or project.ts_paths:
        return _js_file(files, _join(project.ts_base, source))
    return None


def _js(imp: Import, importer: str, files: FileSet, project: Project) -> list[Binding]:
    module = js_module(imp.source, importer, files, project)
    if module is None or imp.kind == "reexport":
        return []
    out = [Binding(imp.alias, (module,))] if imp.alias else []
    return out + [Binding(local, (module,), "" if name == WILDCARD else name) for name, local in imp.names]


# -- Go ------------------------------------------------------------------------------------------
def go_package(path: str, files: FileSet, project: Project) -> tuple[str, ...]:
    """The non-test .go files of the workspace folder an import path names."""
    for folder, module in sorted(project.go_modules, key=lambda fm: -len(fm[1])):
        if path == module or path.startswith(module + "/"):
            pkg = _join(folder, path[len(module) + 1:])
            return tuple(p for p in files.in_dir(pkg) if p.endswith(".go") and not p.endswith("_test.go"))
    return ()


def _go(imp: Import, importer: str, files: FileSet, project: Project) -> list[Binding]:
    paths = go_package(imp.source, files, project)
    if not paths:
        return []
    if imp.names:  # import . "x"
        return [Binding(WILDCARD, paths)]
    last = imp.source.rstrip("/").rpartition("/")[2]
    if last.startswith("v") and last[1:].isdigit():  # example.com/m/v2: the package is the element before
        last = imp.source.rstrip("/").rsplit("/", 2)[-2]
    return [Binding(imp.alias or last, paths)]


# -- C / C++ ------------------------------------------------------------------------------------
def _c(imp: Import, importer: str, files: FileSet, project: Project) -> list[Binding]:
    angle = imp.source.startswith("<")
    name = imp.source.strip("<>")
    folders = ([] if angle else [posixpath.dirname(importer)]) + list(project.include_dirs) + ([] if angle else [""])
    found = files.first(_join(folder, name) for folder in folders)
    return [Binding(WILDCARD, (found,))] if found else []


# -- Rust ---------------------------------------------------------------------------------------
def _rust_children_dir(path: str) -> str:
    """The folder where the submodules of the module in file `path` live."""
    stem, name = posixpath.splitext(path)[0], posixpath.basename(path)
    return posixpath.dirname(path) if name in ("mod.rs", "lib.rs", "main.rs") else stem


def _rust_submodule(files: FileSet, folder: str, name: str) -> str | None:
    return files.first((_join(folder, f"{name}.rs"), _join(folder, name, "mod.rs")))


def _rust_crate_root(importer: str, files: FileSet, project: Project) -> str | None:
    crates = sorted((c for c in project.rust_crates if c == "" or importer.startswith(c + "/")), key=len, reverse=True)
    for crate in crates or [""]:
        if (root := files.first((_join(crate, "src/lib.rs"), _join(crate, "src/main.rs")))) is not None:
            return root
    return None


def rust_path(segments: list[str], importer: str, files: FileSet, project: Project) -> tuple[str | None, list[str]]:
    """(the module file a `::` path reaches, the segments left over after it)."""
    first = segments[0]
    if first == "crate":
        module = _rust_crate_root(importer, files, project)
        rest = segments[1:]
    elif first in ("self", "super"):
        module, rest = importer, segments
        while rest and rest[0] in ("self", "super"):
            if rest[0] == "super":
                here = _rust_children_dir(module)
                parent_dir = posixpath.dirname(here)
                module = files.first((f"{parent_dir}.rs", _join(parent_dir, "mod.rs"), _join(parent_dir, "lib.rs"),
                                      _join(parent_dir, "main.rs")))
                if module is None:
                    return None, segments
            rest = rest[1:]
    else:  # a crate-relative path in 2015 style, or an external crate
        module = _rust_crate_root(importer, files, project)
        rest = segments
        if module is None or _rust_submodule(files, _rust_children_dir(module), first) is None:
            return None, segments
    while module is not None and rest:
        sub = _rust_submodule(files, _rust_children_dir(module), rest[0])
        if sub is None:
            break
        module, rest = sub, rest[1:]
    return module, rest


def _rust(imp: Import, importer: str, files: FileSet, project: Project) -> list[Binding]:
    if imp.kind == "mod":
        found = _rust_submodule(files, _rust_children_dir(importer), imp.source)
        return [Binding(imp.alias, (found,))] if found else []
    out = []
    for name, local in imp.names or ((None, imp.alias),):
        segments = imp.source.split("::") + ([name] if name and name != WILDCARD else [])
        module, rest = rust_path(segments, importer, files, project)
        if module is None or len(rest) > 1:
            continue
        if name == WILDCARD:
            out.append(Binding(WILDCARD, (module,)))
        else:
            out.append(Binding(local, (module,), rest[0] if rest else ""))
    return out


# -- Java ---------------------------------------------------------------------------------------
def _java(imp: Import, importer: str, files: FileSet, project: Project) -> list[Binding]:
    out = []
    for name, local in imp.names:
        if name == WILDCARD:
            for folder in files.dirs_ending(imp.source.replace(".", "/")):
                paths = tuple(p for p in files.in_dir(folder) if p.endswith(".java"))
                if paths:
                    return [Binding(WILDCARD, paths)]
            # import static a.B.*: the members of class B
            parent, _, cls = imp.source.rpartition(".")
            for folder in files.dirs_ending(parent.replace(".", "/")):
                if (found := files.first([_join(folder, cls + ".java")])) is not None:
                    return [Binding(WILDCARD, (found,), "")]
            continue
        for folder in files.dirs_ending(imp.source.replace(".", "/")):
            if (found := files.first([_join(folder, name + ".java")])) is not None:
                out.append(Binding(local, (found,), name))
                break
        else:  # import static a.B.m: member m of class B
            parent, _, cls = imp.source.rpartition(".")
            for folder in files.dirs_ending(parent.replace(".", "/")):
                if (found := files.first([_join(folder, cls + ".java")])) is not None:
                    out.append(Binding(local, (found,), name))
                    break
    return out


_RESOLVERS = {
    "python": _python, "javascript": _js, "typescript": _js, "tsx": _js, "go": _go,
    "c": _c, "cpp": _c, "rust": _rust, "java": _java,
}
