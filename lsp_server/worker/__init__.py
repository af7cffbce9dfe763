"""The model worker process (`python -m lsp_server.worker`): llama.cpp away from the editor's server.

`__main__` is its entry point (protocol on a private copy of stdout), `scheduler` takes commands
and runs one job at a time (loads, then completions, then chats), `pipeline` turns a completion
request into text (FIM prompt, generation with stop checks, syntax-aware cut, retries), and
`engine` owns the loaded llama.cpp model and its KV cache. Nothing here imports `lsp_server.lsp`.
"""
