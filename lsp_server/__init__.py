"""local-llm-lsp: AI code assistance over LSP from a code model on the user's own machine.

Two processes: the language server (`lsp_server.lsp`, started by the editor) and the model
worker (`lsp_server.worker`, started by the server), which talk only through the typed
messages of `lsp_server.worker_protocol`. Shared and pure: `syntax` (tree-sitter gating and
truncation), `context` (FIM prompts), `fixes` (fixes and explanations), `bundled` (the bundled
model files), `data` (the package's data files), `prompts/` (templates, as data). `cli` is the
`local-llm-lsp` command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("local-llm-lsp")
except PackageNotFoundError:  # pragma: no cover - run from a source tree that was never installed
    __version__ = "0+unknown"
