"""The workspace index: what each file of the workspace defines and imports, where its imports
lead, and which of those definitions a completion at a cursor should see (issue 19).

Pure modules with one job each (walk, outline, imports, resolve, project, usage, similar,
select); `index` holds their results for a set of folders and is the only one with state.
Must not know about LSP (the server's adapter is `lsp_server.lsp.indexing`) or the model.
"""
