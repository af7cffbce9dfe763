"""local-llm-lsp: AI code assistance over LSP from a code model on the user's own machine."""

__version__ = "0.1.0"
