"""Lifecycle and settings: initialize, initialized, shutdown, didChangeConfiguration, status.

Adapters: initializationOptions and configuration changes go through `parse_settings` (bad values
give a warning and the default); the model starts loading in the background once the client
says `initialized`, so the handshake never waits for a model.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from lsp_server.lsp.features import workspace_context

STATUS_COMMAND = "localLlm.status"


def register(server) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls, params: types.InitializeParams) -> None:
        ls.client_locale = params.locale
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls, params: types.InitializedParams) -> None:
        ls.manager.start()
        ls.index_loop = asyncio.get_running_loop()
        workspace_context.start(ls)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls, params) -> None:
        ls.indexing.stop()
        await ls.manager.stop()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls, params: types.DidChangeConfigurationParams) -> None:
        raw = params.settings
        if isinstance(raw, dict) and isinstance(raw.get("localLlm"), dict):
            raw = raw["localLlm"]
        if raw:
            ls.apply_settings(raw)

    @server.command(STATUS_COMMAND)
    def status(ls, *args) -> dict:
        data = ls.manager.status.as_dict()
        data["counters"] = ls.completer.counters.__dict__
        if ls.manager.client is not None:
            data["worker"] = ls.manager.client.counters
        data["template"] = ls.manager.info.get("template")
        data["history"] = list(ls.completer.history)
        data["index"] = ls.indexing.status()
        return data
