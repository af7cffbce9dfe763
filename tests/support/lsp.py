"""Start the real server process over stdio and drive it with pytest-lsp's client.

`start_server()` yields a `Session`: the connected client, the `localLlm/status` notifications
seen so far, and helpers to open documents and wait for the model to be ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Session:
    client: LanguageClient
    statuses: list[dict] = field(default_factory=list)
    _status_event: asyncio.Event = field(default_factory=asyncio.Event)
    version: dict[str, int] = field(default_factory=dict)
    init_result: types.InitializeResult | None = None
    registrations: list[types.Registration] = field(default_factory=list)  # client/registerCapability

    async def wait_status(self, *states: str, timeout: float = 60.0) -> dict:
        async def wait() -> dict:
            while True:
                for s in reversed(self.statuses):
                    if s.get("state") in states:
                        return s
                self._status_event.clear()
                await self._status_event.wait()

        return await asyncio.wait_for(wait(), timeout)

    def open(self, uri: str, text: str, language_id: str = "python") -> None:
        self.version[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text))
        )

    def change(self, uri: str, text: str, start: tuple[int, int], end: tuple[int, int] | None = None) -> None:
        self.version[uri] += 1
        end = end or start
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version[uri]),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(*start), types.Position(*end)), text=text
                    )
                ],
            )
        )

    async def inline(self, uri: str, line: int, character: int) -> list[types.InlineCompletionItem]:
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line, character),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
            )
        )
        if result is None:
            return []
        return list(result.items if isinstance(result, types.InlineCompletionList) else result)

    def record_applied_edits(self) -> list[types.ApplyWorkspaceEditParams]:
        """Answer the server's `workspace/applyEdit` requests with applied=True; returns the list
        they are recorded in."""
        applied: list[types.ApplyWorkspaceEditParams] = []

        @self.client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(ls, params):
            applied.append(params)
            return types.ApplyWorkspaceEditResult(applied=True)

        return applied

    async def status(self) -> dict:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="localLlm.status", arguments=[])
        )


@contextlib.asynccontextmanager
async def start_server(
    model: Path | str | None,
    *,
    init_options: dict[str, Any] | None = None,
    client: str = "visual-studio-code",
    capabilities: types.ClientCapabilities | None = None,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    root: Path | None = ROOT,
    workspace_folders: list[Path] | None = None,
    locale: str | None = None,
):
    lsp = make_test_lsp_client()
    session = Session(lsp)

    @lsp.feature("localLlm/status")
    def on_status(ls, params):
        data = params if isinstance(params, dict) else {k: getattr(params, k, None) for k in ("state", "model", "message")}
        session.statuses.append(data)
        session._status_event.set()

    @lsp.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(ls, params: types.RegistrationParams):
        session.registrations.extend(params.registrations)

    args = ["-m", "lsp_server", *extra_args]
    if model is not None:
        args += ["--model", str(model)]
    await lsp.start_io(sys.executable, *args, cwd=str(ROOT), env=env)
    try:
        session.init_result = await lsp.initialize_session(
            types.InitializeParams(
                capabilities=capabilities or client_capabilities(client),
                initialization_options=init_options,
                locale=locale,
                root_uri=root.as_uri() if root is not None else None,
                workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in workspace_folders]
                if workspace_folders is not None else None,
            )
        )
        yield session
        await asyncio.wait_for(lsp.shutdown_session(), 30)
    finally:
        proc = lsp._server
        if proc is not None and proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
        await asyncio.wait_for(lsp.stop(), 30)
