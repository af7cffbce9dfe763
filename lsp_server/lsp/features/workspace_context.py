"""The workspace index's LSP side: workspace folders, saves, watched files, and the
`localLlm.context` command (what context a position gets: for users and tests).

Adapters: LSP params in, one call to the server's `IndexService` (`lsp_server.lsp.indexing`).
`start` runs at `initialized`: it indexes the folders the client named (`workspaceFolders`,
else `rootUri`) and asks the client to watch the source files when it can register that
dynamically. Must not select context itself (`workspace.select`).
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.lsp.indexing import uri_to_path
from lsp_server.syntax.languages import LANGUAGES
from lsp_server.workspace.walk import CONFIG_FILES, DOC_SUFFIXES

log = logging.getLogger(__name__)

CONTEXT_COMMAND = "localLlm.context"
WATCHER_ID = "local-llm-lsp-workspace-index"
_EXTENSIONS = sorted({ext.lstrip(".") for spec in LANGUAGES for ext in spec.extensions})
_DOCS = sorted(ext.lstrip(".") for ext in DOC_SUFFIXES)
WATCH_GLOBS = (f"**/*.{{{','.join(_EXTENSIONS)}}}", f"**/{{{','.join(sorted(CONFIG_FILES))}}}",
               f"**/*.{{{','.join(_DOCS)}}}")  # documentation: passages of "ask the workspace"


def start(ls) -> None:
    """At `initialized`: index the workspace's folders, and watch their files."""
    folders = [f.uri for f in (ls.workspace.folders or {}).values()] if ls.workspace else []
    if not folders and ls.workspace is not None and ls.workspace.root_uri:
        folders = [ls.workspace.root_uri]
    ls.indexing.start([p for p in map(uri_to_path, folders) if p is not None])
    caps = ls.client_capabilities
    watched = caps and caps.workspace and caps.workspace.did_change_watched_files
    if ls.settings.workspace_index and watched and watched.dynamic_registration:
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in WATCH_GLOBS])
        ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id=WATCHER_ID, method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))


def register(server) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(ls, params: types.DidChangeWorkspaceFoldersParams) -> None:
        added = [p for f in params.event.added or [] if (p := uri_to_path(f.uri)) is not None]
        removed = [p for f in params.event.removed or [] if (p := uri_to_path(f.uri)) is not None]
        ls.indexing.folders_changed(added, removed)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: types.DidSaveTextDocumentParams) -> None:
        ls.indexing.saved(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls, params: types.DidChangeWatchedFilesParams) -> None:
        ls.indexing.files_changed([(p, change.type == types.FileChangeType.Deleted)
                                   for change in params.changes if (p := uri_to_path(change.uri)) is not None])

    @server.command(CONTEXT_COMMAND)
    def context(ls, *args) -> dict:
        arg = args[0] if args else None
        try:
            uri, pos = arg["uri"], arg["position"]
            line, character = int(pos["line"]), int(pos["character"])
            budget = int(arg["budget"]) if arg.get("budget") is not None else None
        except (KeyError, TypeError, ValueError, AttributeError):
            raise JsonRpcInvalidParams(f"{CONTEXT_COMMAND} needs [{{uri, position, budget?}}]") from None
        doc = ls.docs.get(uri)
        if doc is None:
            raise JsonRpcInvalidParams(f"{uri} is not open")
        found = ls.indexing.context(uri, doc.offset_at(line, character, ls.encoding), budget=budget)
        result = found.as_dict() if found is not None else {"path": "", "tokens": 0, "budget": 0, "snippets": []}
        for snippet in result["snippets"]:
            log.debug("context for %s:%d:%d: %s (%s, score %s)", uri, line, character, snippet["path"],
                      snippet["reason"], snippet["score"])
        snap = ls.docs.snapshot(uri, line, character, ls.encoding)
        used = snap is not None and ls.completer.uses_context(snap, ls.settings)
        return {**result, "index": ls.indexing.status(), "inCompletions": used}
