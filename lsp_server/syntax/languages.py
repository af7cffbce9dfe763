"""The language registry: LSP languageIds and file extensions -> tree-sitter grammars.

Owns which languages the server parses and how to get their `tree_sitter.Language`.
Grammars come from the per-language wheels (compiled, offline); nothing is downloaded.
Must not parse documents itself (see `lsp_server.lsp.documents`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

import tree_sitter


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # canonical name, e.g. "python"
    module: str  # grammar wheel's import name
    function: str  # the module's function returning the language pointer
    language_ids: tuple[str, ...]  # LSP languageIds
    extensions: tuple[str, ...]
    comment_prefix: str  # line comment, used for file-path headers in prompts


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", "tree_sitter_python", "language", ("python",), (".py", ".pyi", ".pyw"), "#"),
    LanguageSpec(
        "javascript", "tree_sitter_javascript", "language",
        ("javascript", "javascriptreact", "js", "jsx"), (".js", ".mjs", ".cjs", ".jsx"), "//",
    ),
    LanguageSpec("typescript", "tree_sitter_typescript", "language_typescript", ("typescript", "ts"), (".ts", ".mts", ".cts"), "//"),
    LanguageSpec("tsx", "tree_sitter_typescript", "language_tsx", ("typescriptreact", "tsx"), (".tsx",), "//"),
    LanguageSpec("go", "tree_sitter_go", "language", ("go",), (".go",), "//"),
    LanguageSpec("rust", "tree_sitter_rust", "language", ("rust", "rs"), (".rs",), "//"),
    LanguageSpec("c", "tree_sitter_c", "language", ("c",), (".c", ".h"), "//"),
    LanguageSpec(
        "cpp", "tree_sitter_cpp", "language", ("cpp", "c++", "cuda-cpp"),
        (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp"), "//",
    ),
    LanguageSpec("java", "tree_sitter_java", "language", ("java",), (".java",), "//"),
)

_BY_ID = {lid: spec for spec in LANGUAGES for lid in (spec.name, *spec.language_ids)}
_BY_EXT = {ext: spec for spec in LANGUAGES for ext in spec.extensions}


def spec_for(language_id: str | None = None, path: str | None = None) -> LanguageSpec | None:
    """The language of a document: its LSP languageId first, its file extension second."""
    if language_id:
        spec = _BY_ID.get(language_id.lower())
        if spec is not None:
            return spec
    if path:
        return _BY_EXT.get(PurePosixPath(path).suffix.lower())
    return None


@lru_cache(maxsize=None)
def ts_language(name: str) -> tree_sitter.Language | None:
    """The compiled grammar for a canonical language name, or None if its wheel is missing."""
    spec = _BY_ID.get(name)
    if spec is None:
        return None
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        return None
    return tree_sitter.Language(getattr(module, spec.function)())


def new_parser(name: str) -> tree_sitter.Parser | None:
    language = ts_language(name)
    return tree_sitter.Parser(language) if language is not None else None
