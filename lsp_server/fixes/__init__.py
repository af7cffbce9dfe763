"""Fixes and explanations from the local model: the pure logic, no LSP types and no model calls.

`scopes` finds what to send and what to replace (the enclosing function or class, syntax-error
nodes), `prompts` builds the chat messages from the templates in `prompts/chat/`, `answer` turns
the model's reply into a replacement of that node, `edits` makes minimal line edits of it, and
`checks` decides whether an edit may be offered. `plan` strings them together. The features in
`lsp_server/features/` adapt LSP requests to these functions and run the model in between.
"""
