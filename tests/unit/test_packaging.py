"""What a plain (non-editable) install gets: every data file of the package is named by a
package-data glob (so it is in the wheel), and the version is written once, in pyproject.toml.
scripts/test-wheel.sh builds and installs the wheel for real."""

from __future__ import annotations

import re
from pathlib import Path

import lsp_server
from lsp_server.data import load_toml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lsp_server"
PYPROJECT = load_toml(ROOT / "pyproject.toml")


def _data_files() -> set[str]:
    return {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }


def test_every_data_file_of_the_package_ships_in_the_wheel():
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]["lsp_server"]
    shipped = {p.relative_to(PACKAGE).as_posix() for g in globs for p in PACKAGE.glob(g)}
    assert _data_files(), "the package has data files (prompts, syntax rules)"
    assert _data_files() - shipped == set()


def test_every_package_is_found():
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert all(any(re.fullmatch(pattern.replace(".", r"\.").replace("*", ".*"), name) for pattern in include)
               for name in packages)


def test_the_version_is_written_once():
    version = PYPROJECT["project"]["version"]
    literal = re.compile(r"""["']""" + re.escape(version) + r"""["']""")
    assert not [p for p in PACKAGE.rglob("*.py") if literal.search(p.read_text(encoding="utf-8"))]
    assert "__version__ = version(" in (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    assert lsp_server.__version__ == version  # from the installed metadata
