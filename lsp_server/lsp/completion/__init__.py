"""The request side of a completion, in the language server process.

A keystroke's request goes: `completer` (snapshot the document, gate, serve the rest of a recent
suggestion, take over a followed job's result, or ask the model worker; drop what went stale),
with `reuse` (the recent suggestions; what was typed at a cursor), `follow` (the jobs kept running
while the user types what they write), `request` (the worker's request) and `autoclose` (what
the user typed where the editor closes brackets itself). The prompt, generation and truncation
happen in the worker process (`lsp_server.worker.pipeline`).
"""
