"""Entry point of the model worker process: `python -m lsp_server.worker`."""

from lsp_server.worker.scheduler import main

if __name__ == "__main__":
    main()
