"""The index's records: a definition (`Symbol`), an import as written (`Import`) and what one
file holds (`Outline`). Plain frozen data, shared by the modules of the package; no logic.
"""

from __future__ import annotations

from dataclasses import dataclass

WILDCARD = "*"  # an imported name that stands for every name of the source (`from m import *`, C's #include)


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str  # "function", "class", "method", "variable", "type", "field", "module"
    container: str  # the enclosing class's name for a member, "" at the top level
    signature: str  # the definition's header lines (up to its body), as written
    doc: str  # its docstring or leading comment, as written ("" if none)
    start_line: int  # 0-based, inclusive; the header's first line (a decorator's, if any)
    end_line: int  # 0-based, inclusive
    start_byte: int  # UTF-8 byte offsets of the same range
    end_byte: int


@dataclass(frozen=True, slots=True)
class Import:
    """One imported source with the names it binds in the importing file.

    `source` is the module as written: "a.b" or ".x" (Python), "./x" (JS/TS), "example.com/m/p"
    (Go), "foo.h" or "<foo.h>" (C/C++), "crate::a::b" (Rust, or the module name of a `mod x;`
    when kind is "mod"), "com.x" (Java). `names` are (name in the source, local name) pairs;
    `alias` is the local name bound to the module itself ("" if none).
    """

    source: str
    names: tuple[tuple[str, str], ...] = ()
    alias: str = ""
    kind: str = "import"  # "import", "include" (C/C++), "mod" (Rust's `mod x;`)
    line: int = 0
    end_line: int = 0  # the statement's last line (0-based, inclusive; set by `parse_import`)


@dataclass(frozen=True, slots=True)
class Outline:
    """What one file defines and imports."""

    language: str
    symbols: tuple[Symbol, ...] = ()
    imports: tuple[Import, ...] = ()
    package: str = ""  # a Go file's `package` name, a Java file's package

    def top_level(self, name: str) -> list[Symbol]:
        return [s for s in self.symbols if s.name == name and not s.container]

    def members(self, container: str) -> list[Symbol]:
        return [s for s in self.symbols if s.container == container]
