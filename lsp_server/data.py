"""The package's own data files, read where they are installed: prompt templates (`prompts/`) and
the per-language syntax rules and queries (`syntax/queries/`).

Owns finding them with `importlib.resources` (so they are found the same way from a wheel, an
editable install or a zip) and reading TOML (`tomllib`, or `tomli` before Python 3.11). Users'
own prompt templates are found by `lsp_server.context.templates` and `lsp_server.fixes.prompts`,
which read them through here too. Must not know what the files mean.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def package_file(*parts: str) -> Traversable:
    """A file or folder shipped inside the `lsp_server` package, e.g. ("prompts", "fim")."""
    node = files("lsp_server")
    for part in parts:
        node = node / part
    return node


def load_toml(source: Traversable | Any) -> dict[str, Any]:
    """Parse a TOML file (anything with `read_text`: a `Path` or a package resource)."""
    return tomllib.loads(source.read_text(encoding="utf-8"))
