"""`python -m lsp_server`: the same as the `local-llm-lsp` command."""

from lsp_server.cli import main

if __name__ == "__main__":
    main()
