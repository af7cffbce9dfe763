"""The language server process: everything that runs in the editor's `local-llm-lsp` process.

`server` composes the features onto one pygls server, `transport` frames JSON-RPC, `settings`
reads the client's settings (`settings_docs` renders their reference tables), `documents` keeps each open buffer's text and tree-sitter tree,
`features/` adapts LSP requests, `completion/` is the request side of a completion (snapshot,
gating, reuse of recent suggestions, following a job while the user types), and `model/` is this
process's handle on the model worker process (`lsp_server.worker`), which it talks to only
through the messages in `lsp_server.worker_protocol`. Nothing here imports `lsp_server.worker`.
"""
