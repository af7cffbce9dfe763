"""The real server over stdio for the language benchmarks: started with a model, ready, and
switched between user languages with the `language` setting (no model reload).

Owns starting `python -m lsp_server --model PATH` with pygls' client (as benchmarks/fix/run.py
does), collecting `window/showMessage`, and the bundled model's path for `--model default|small`.
Must not score anything.
"""

from __future__ import annotations

import asyncio
import sys

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks import output
from benchmarks.fix.run import CAPS, model_path

__all__ = ["model_path", "start", "use_language"]


async def start(model: str, name: str) -> tuple[LanguageClient, list[str]]:
    client = LanguageClient(name, "1")
    ready = asyncio.Event()
    messages: list[str] = []

    @client.feature("localLlm/status")
    def status(params) -> None:
        state = params.get("state") if isinstance(params, dict) else getattr(params, "state", None)
        if state == "ready":
            ready.set()
        elif state == "error":
            print("model error:", params, file=sys.stderr)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show(params) -> None:
        messages.append(params.message)

    await client.start_io(sys.executable, "-m", "lsp_server", "--model", model, cwd=str(output.REPO))
    await client.initialize_async(types.InitializeParams(
        capabilities=CAPS, process_id=None, root_uri=None,
        initialization_options={"clientShowsExplanations": True, "workspaceIndex": False}))
    client.initialized(types.InitializedParams())
    await asyncio.wait_for(ready.wait(), 600)
    return client, messages


def use_language(client: LanguageClient, code: str) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"localLlm": {"language": code}}))


async def stop(client: LanguageClient) -> None:
    await asyncio.wait_for(client.shutdown_async(None), 30)
    client.exit(None)
    await client.stop()
