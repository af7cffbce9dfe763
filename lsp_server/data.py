"""The package's own data files, read where they are installed: prompt templates (`prompts/`) and
the per-language syntax rules and queries (`syntax/queries/`), and the user's files that override
them.

Owns finding them with `importlib.resources` (so they are found the same way from a wheel, an
editable install or a zip), the lookup order of the user's override folders (a folder a setting
names, then the user config folder, then the package), trying the candidates of one file in that
order, and reading TOML (`tomllib`, or `tomli` before Python 3.11). Must not know what the files
mean: the caller's `parse` says whether a file is usable (`lsp_server.context.templates`,
`lsp_server.fixes.prompts`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Generic, TypeVar

import platformdirs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError
T = TypeVar("T")


def package_file(*parts: str) -> Traversable:
    """A file or folder shipped inside the `lsp_server` package, e.g. ("prompts", "fim")."""
    node = files("lsp_server")
    for part in parts:
        node = node / part
    return node


def load_toml(source: Traversable | Any) -> dict[str, Any]:
    """Parse a TOML file (anything with `read_text`: a `Path` or a package resource)."""
    return tomllib.loads(source.read_text(encoding="utf-8"))


def user_config_folder() -> Path:
    """The user's own config folder, e.g. ~/.config/local-llm-lsp on Linux."""
    return Path(platformdirs.user_config_dir("local-llm-lsp"))


def override_folders(setting: str = "") -> tuple[Path, ...]:
    """The folders whose files replace the package's, first wins: the folder a setting names (if
    any), then the user config folder. Each has the package's layout (e.g. prompts/fim/*.toml)."""
    folders = [Path(setting).expanduser()] if setting else []
    return (*folders, user_config_folder())


@dataclass
class Versions:
    """The files of one name: the users' in lookup order, then the package's (if it ships one)."""
    overrides: list[Traversable] = field(default_factory=list)
    shipped: Traversable | None = None


def versions(parts: Sequence[str], folders: Sequence[Path], suffix: str = ".toml") -> dict[str, Versions]:
    """Each file name ending in `suffix` in the folder `parts` of an override folder or of the
    package -> its versions."""
    found: dict[str, Versions] = {}
    places: list[tuple[Traversable, bool]] = [(f.joinpath(*parts), True) for f in folders]
    for folder, is_override in (*places, (package_file(*parts), False)):
        try:
            nodes = sorted(folder.iterdir(), key=lambda n: n.name) if folder.is_dir() else []
        except OSError:  # an unreadable user folder: as if it were not there
            nodes = []
        for node in nodes:
            if node.name.endswith(suffix) and node.is_file():
                entry = found.setdefault(node.name, Versions())
                if is_override:
                    entry.overrides.append(node)
                else:
                    entry.shipped = node
    return found


@dataclass
class Chosen(Generic[T]):
    value: T | None  # None: no version was usable
    source: Traversable | None
    warnings: list[str]


# What a broken user file raises while it is read and parsed; anything else is a bug.
BROKEN = (TOMLDecodeError, KeyError, ValueError, TypeError, OSError, UnicodeDecodeError)


def first_usable(found: Versions, parse: Callable[[Traversable], T], what: str) -> Chosen[T]:
    """The first override that `parse` accepts, else the shipped file, with one warning per
    override refused. The shipped file is never refused: its error is a bug and is raised."""
    warnings: list[str] = []
    for i, source in enumerate(found.overrides):
        try:
            return Chosen(parse(source), source, warnings)
        except BROKEN as exc:
            later = found.overrides[i + 1:]
            instead = f"using {later[0]}" if later else "using the shipped one" if found.shipped else "ignored"
            warnings.append(f"{what} {source} is broken ({describe(exc)}); {instead}")
    if found.shipped is None:
        return Chosen(None, None, warnings)
    return Chosen(parse(found.shipped), found.shipped, warnings)


def describe(exc: BaseException) -> str:
    """A parse error in words: a missing key by name, a file or TOML error with its kind."""
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}" if exc.args else "a key is missing"
    if isinstance(exc, (OSError, UnicodeDecodeError, TOMLDecodeError)):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)
