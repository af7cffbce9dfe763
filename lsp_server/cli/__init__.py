"""The `local-llm-lsp` command: `main` parses arguments and serves or runs a one-shot program
(`complete`); `model` lists and verifies bundled models; `doctor` measures this machine."""

from lsp_server.cli.main import main

__all__ = ["main"]
