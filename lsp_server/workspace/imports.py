"""Import statements as text -> `Import` records: what each one names and binds, per language.

Pure functions over the text of one statement (the tags query finds the statements); the
records say what is written, not where it leads (`resolve`). Must not touch files or trees.
"""

from __future__ import annotations

import re
from dataclasses import replace

from lsp_server.workspace.model import WILDCARD, Import

_COMMENT = {"python": re.compile(r"#[^\n]*"), "c": re.compile(r"//[^\n]*|/\*.*?\*/", re.S)}
_WORD = r"[A-Za-z_$][\w$]*"


def parse_import(language: str, text: str, line: int = 0) -> list[Import]:
    """The imports of one statement (several for `import a, b` or a Go import block)."""
    parse = _PARSERS.get(language)
    end = line + text.count("\n")
    return [replace(imp, end_line=end) for imp in parse(text, line)] if parse else []


def _names(spec: str, sep: str = " as ") -> tuple[tuple[str, str], ...]:
    """'a as b, c' -> (('a', 'b'), ('c', 'c'))."""
    out = []
    for part in spec.split(","):
        part = " ".join(part.split())
        if not part:
            continue
        name, _, alias = part.partition(sep)
        name, alias = name.strip(), alias.strip()
        out.append((name, alias or name))
    return tuple(out)


# -- Python ------------------------------------------------------------------------------------
_PY_FROM = re.compile(r"^\s*from\s+([.\w]+)\s+import\s+(.*)$", re.S)
_PY_IMPORT = re.compile(r"^\s*import\s+(.*)$", re.S)


def _python(text: str, line: int) -> list[Import]:
    text = _COMMENT["python"].sub("", text).replace("\\\n", " ")
    if m := _PY_FROM.match(text):
        names = m.group(2).replace("(", " ").replace(")", " ").replace("\n", " ")
        return [Import(m.group(1), _names(names), line=line)]
    if m := _PY_IMPORT.match(text):
        out = []
        for module, alias in _names(m.group(1).replace("\n", " ")):
            out.append(Import(module, alias=alias, line=line))  # `import a.b` binds the dotted name a.b
        return out
    return []


# -- JavaScript / TypeScript -------------------------------------------------------------------
_JS_SOURCE = re.compile(r"""(?:from\s*|^\s*import\s*|require\s*\(\s*)(['"])([^'"]+)\1""")
_JS_CLAUSE = re.compile(r"^\s*import\s+(?:type\s+)?(.*?)\s*from\s*['\"]", re.S)
_JS_EXPORT = re.compile(r"^\s*export\s+(?:type\s+)?(.*?)\s*from\s*['\"]", re.S)
_JS_REQUIRE = re.compile(r"^\s*(?:const|let|var)\s+(.*?)\s*=\s*require\s*\(", re.S)


def _js_braces(spec: str, sep: str) -> tuple[tuple[str, str], ...]:
    spec = re.sub(r"\btype\s+", "", spec)
    return tuple((a, b) for a, b in _names(spec, sep) if a)


def _js(text: str, line: int) -> list[Import]:
    text = _COMMENT["c"].sub("", text)
    m = _JS_SOURCE.search(text)
    if m is None:
        return []
    source = m.group(2)
    if e := _JS_EXPORT.match(text):  # `export {a as b} from`, `export * from`: re-exports
        clause = e.group(1).strip()
        if clause.startswith("*"):
            alias = clause.partition(" as ")[2].strip()
            return [Import(source, () if alias else ((WILDCARD, WILDCARD),), alias=alias, kind="reexport", line=line)]
        return [Import(source, _js_braces(clause.strip("{} \n"), " as "), kind="reexport", line=line)]
    if r := _JS_REQUIRE.match(text):
        target = r.group(1).strip()
        if target.startswith("{"):
            return [Import(source, _js_braces(target.strip("{} \n"), ":"), line=line)]
        return [Import(source, alias=target, line=line)]
    c = _JS_CLAUSE.match(text)
    if c is None:
        return [Import(source, line=line)]  # `import "./side-effect"`
    clause, names, alias = c.group(1).strip(), [], ""
    if "{" in clause:
        inner = clause[clause.index("{") + 1: clause.rindex("}") if "}" in clause else None]
        names += _js_braces(inner, " as ")
        clause = (clause[: clause.index("{")] + clause[clause.rindex("}") + 1 if "}" in clause else len(clause):])
    for part in (p.strip() for p in clause.split(",")):
        if part.startswith("*"):
            alias = part.partition(" as ")[2].strip()
        elif re.fullmatch(_WORD, part):
            names.insert(0, ("default", part))
    return [Import(source, tuple(names), alias=alias, line=line)]


# -- Go ------------------------------------------------------------------------------------------
_GO_SPEC = re.compile(r'(?:^|[\s(])([\w.]+\s+)?"([^"]+)"', re.M)


def _go(text: str, line: int) -> list[Import]:
    out = []
    text = re.sub(r"^\s*import\b", lambda m: " " * len(m.group(0)), _COMMENT["c"].sub("", text))
    for m in _GO_SPEC.finditer(text):
        alias, path = (m.group(1) or "").strip(), m.group(2)
        if alias == "_":
            continue
        names = ((WILDCARD, WILDCARD),) if alias == "." else ()
        out.append(Import(path, names, alias="" if alias == "." else alias, line=line + text.count("\n", 0, m.start(2))))
    return out


# -- C / C++ ------------------------------------------------------------------------------------
_INCLUDE = re.compile(r'#\s*include\s*(?:"([^"]+)"|(<[^>]+>))')


def _c(text: str, line: int) -> list[Import]:
    m = _INCLUDE.search(text)
    if m is None:
        return []
    return [Import(m.group(1) or m.group(2), ((WILDCARD, WILDCARD),), kind="include", line=line)]


# -- Rust ---------------------------------------------------------------------------------------
_RUST_MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")
_RUST_USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+(.*?);?\s*$", re.S)


def _rust_tree(spec: str, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten a use tree: 'a::{b, c::d as e}' -> [('a::b', 'b'), ('a::c::d', 'e')]."""
    spec = spec.strip()
    brace = spec.find("{")
    if brace < 0:
        path, _, alias = spec.partition(" as ")
        path = (prefix + path.strip()).strip(":")
        if path.endswith("::self"):
            path = path[: -len("::self")]
        return [(path, alias.strip() or path.rpartition("::")[2])] if path else []
    head = prefix + spec[:brace]
    inner = spec[brace + 1: spec.rindex("}") if "}" in spec else len(spec)]
    parts, depth, current = [], 0, ""
    for ch in inner:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [item for part in parts if part.strip() for item in _rust_tree(part, head)]


def _rust(text: str, line: int) -> list[Import]:
    text = _COMMENT["c"].sub("", text)
    if m := _RUST_MOD.match(text):
        return [Import(m.group(1), alias=m.group(1), kind="mod", line=line)]
    m = _RUST_USE.match(text)
    if m is None:
        return []
    out = []
    for path, alias in _rust_tree(" ".join(m.group(1).split())):
        source, _, name = path.rpartition("::")
        if name == WILDCARD:
            out.append(Import(source, ((WILDCARD, WILDCARD),), line=line))
        elif source:
            out.append(Import(source, ((name, alias),), line=line))
        else:
            out.append(Import(name, alias=alias, line=line))  # `use std;`
    return out


# -- Java ---------------------------------------------------------------------------------------
_JAVA = re.compile(r"^\s*import\s+(static\s+)?([\w.]+?)(\.\*)?\s*;")


def _java(text: str, line: int) -> list[Import]:
    m = _JAVA.match(_COMMENT["c"].sub("", text))
    if m is None:
        return []
    if m.group(3):
        return [Import(m.group(2), ((WILDCARD, WILDCARD),), line=line)]
    source, _, name = m.group(2).rpartition(".")
    return [Import(source, ((name, name),), line=line)]


_PARSERS = {
    "python": _python, "javascript": _js, "typescript": _js, "tsx": _js, "go": _go,
    "c": _c, "cpp": _c, "rust": _rust, "java": _java,
}
