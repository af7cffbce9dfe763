"""Benchmark-only: the real server (with `observed_server`'s job records) whose cross-file
context is the oracle's fixed pieces instead of the workspace index's selection.

The repository-level benchmark's `oracle` mode (benchmarks/context/repo.py) writes, before each
hole, a JSON file named by LOCAL_LLM_LSP_BENCH_ORACLE: `{uri: {"repo": name, "pieces": [[path,
text], ...]}}`. This module replaces one seam, `LocalLlmServer._context_for` (what the
completer puts into a request when `crossFileContext` is on), with a reader of that file; the
request, the repo-level prompt (`build_fim_prompt`), the cache, generation and the cut are the
product's own. Nothing of the product imports this. Run as
`python -m benchmarks.context.oracle_server [server args]`.
"""

from __future__ import annotations

import json
import os

from benchmarks.latency import observed_server  # noqa: F401  (records the worker's job stats)
from lsp_server import cli
from lsp_server.lsp.server import LocalLlmServer
from lsp_server.worker_protocol import ContextFile


def _oracle_context(self, uri: str, offset: int):
    path = os.environ.get("LOCAL_LLM_LSP_BENCH_ORACLE")
    try:
        with open(path or "", encoding="utf-8") as fh:
            entry = json.load(fh).get(uri)
    except (OSError, ValueError):
        return None
    if not entry:
        return None
    return [(ContextFile(p, text), "oracle: the definition") for p, text in entry["pieces"]], entry["repo"]


LocalLlmServer._context_for = _oracle_context

if __name__ == "__main__":
    cli.main()
