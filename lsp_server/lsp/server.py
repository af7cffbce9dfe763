"""The language server: composes the features onto one pygls LanguageServer, and runs it.

Owns the server object's state (settings, documents, model manager, completer), the lifecycle
(initialize -> load the model in the background; shutdown -> stop the worker), the user-facing
reports about the model (`window/showMessage` once per problem, `$/progress`, `localLlm/status`)
and the transports (stdio; a Unix socket only this user can open; TCP on 127.0.0.1 only,
for a client that presents the token). Feature logic lives in `features/`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from lsp_server import __version__
from lsp_server.context.templates import fim_templates
from lsp_server.fixes.prompts import template_warnings
from lsp_server.i18n import locales, messages
from lsp_server.i18n.messages import _
from lsp_server.lsp.completion.completer import Completer
from lsp_server.lsp.settings import Settings, parse_settings
from lsp_server.lsp.documents import DocumentStore
from lsp_server.lsp.indexing import IndexService
from lsp_server.worker_protocol import ContextFile
from lsp_server.lsp.features import (
    ask, code_actions, completion, cursor, explain, inline_completion, lifecycle, sync, workspace_context,
)
from lsp_server.lsp.features.diagnostics import SyntaxDiagnostics
from lsp_server.lsp.model.manager import ERROR, READY, ModelManager, Status
from lsp_server.lsp import unix_socket
from lsp_server.lsp.token_auth import AUTH_TIMEOUT_S, check_first_message, read_first_frame
from lsp_server.lsp.transport import MAX_LINE_BUFFER, StreamReaderAdapter, dispatch, read_loop, stdin_stream_reader

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "localLlm/status"


class Protocol(LanguageServerProtocol):
    """pygls' protocol without its own document copies, and with commands that can be cancelled.

    pygls 2.1.1 splits lines on form feeds and U+2028 and reads unopened files from disk;
    skipping its workspace updates keeps every document where our text model has it. Each
    override replaces pygls' built-in handler of the same name (`lsp_method`), using only its
    public feature tables (`fm.features`, `fm.commands`).
    """

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Any:
        """Run the command in the request's own task, so that `$/cancelRequest` cancels it.

        pygls (2.1.1) runs a command as a separate task that a cancel does not reach: the request
        would be answered while the command (and its model job) ran on. Every command here takes
        the raw JSON arguments (`ls, *args`), as pygls would pass them to such a handler.
        """
        if (handler := self.fm.commands.get(params.command)) is None:
            raise JsonRpcInvalidParams.of(ValueError(f"Command name {params.command!r} is not defined"))
        result = handler(*(params.arguments or ()))
        return await result if inspect.isawaitable(result) else result

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        """pygls' own, then forget a notification's future once it is done.

        pygls (2.1.1) files the future of every notification handler that is a coroutine or a
        generator (didOpen, didChange, didClose above, `localLlm/cursor`) under a fresh id in
        `_request_futures`, and only a response removes an entry: notifications have none, so the
        server kept one future (and its result) per keystroke for ever.
        """
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        if callback == self._check_handler_result and (future := self._request_futures.get(msg_id)) is not None:
            future.add_done_callback(lambda _done: self._request_futures.pop(msg_id, None))


class LocalLlmServer(LanguageServer):
    def __init__(self, cli_model: str | None = None, settings: Settings | None = None) -> None:
        super().__init__("local-llm-lsp", __version__, protocol_cls=Protocol)
        self.settings = settings or Settings()
        self.docs = DocumentStore()
        self.manager = ModelManager(
            self.settings, cli_model=cli_model, on_status=self._on_status, on_progress=self._on_progress
        )
        self.indexing = IndexService(self.docs, lambda: self.settings, self._index_report)
        self.completer = Completer(self.docs, self.manager, lambda: self.settings, context_for=self._context_for,
                                   context_stamp=self.indexing.stamp)
        self.syntax_diagnostics = SyntaxDiagnostics(self)
        self.index_loop: asyncio.AbstractEventLoop | None = None  # the loop the index thread reports to (set at initialized)
        self._index_token: str | None = None
        self._shown_errors: set[str] = set()
        self._prompts_checked: str | None = None  # the promptsDir whose templates were checked
        self._progress_token: str | None = None
        self.client_locale: str | None = None  # `initialize`'s `locale`
        self.user_language = locales.english()  # the `language` setting, else client_locale

    def _context_for(self, uri: str, offset: int) -> tuple[list[tuple[ContextFile, str]], str] | None:
        """The workspace index's context at a position, as the completer puts it into requests."""
        found = self.indexing.context(uri, offset)
        if found is None:
            return None
        return [(ContextFile(s.path, s.text), s.reason) for s in found.snippets], self.indexing.folder_name(uri)

    # -- negotiated things ---------------------------------------------------------------------
    @property
    def encoding(self) -> str:
        enc = self.protocol.server_capabilities.position_encoding if self.protocol.server_capabilities else None
        return str(enc.value if hasattr(enc, "value") else enc or "utf-16")

    def _supports_progress(self) -> bool:
        caps = self.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    # -- reports to the user ---------------------------------------------------------------------
    def show_message(self, message: str, kind: types.MessageType = types.MessageType.Error, *, once: bool = True) -> None:
        if once:
            if message in self._shown_errors:
                return
            self._shown_errors.add(message)
        log.log(logging.ERROR if kind == types.MessageType.Error else logging.WARNING, "%s", message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"local-llm-lsp: {message}"))

    def _on_status(self, status: Status) -> None:
        self.protocol.notify(STATUS_NOTIFICATION, status.as_dict())
        if status.state == ERROR:
            self._end_progress(status.message)
            self.show_message(status.message)
        elif status.state == READY:
            self._end_progress(status.message)
            self._shown_errors.clear()

    def _on_progress(self, event: dict) -> None:
        if not self._supports_progress():
            return
        stage, done, total = event.get("stage", ""), int(event.get("done", 0)), max(1, int(event.get("total", 1)))
        if stage == "preempted":
            return
        titles = {"assemble": _("Assembling the bundled model (first use)"), "load": _("Loading the model"),
                  "connect": _("Connecting to the remote engine")}
        message = titles.get(stage, stage)
        percent = min(100, done * 100 // total)
        if self._progress_token is None:
            token = self._progress_token = f"local-llm-lsp-{uuid.uuid4().hex[:8]}"
            self.work_done_progress.create(token)
            self.work_done_progress.begin(
                token, types.WorkDoneProgressBegin(title="local-llm-lsp", message=message, percentage=percent, cancellable=False)
            )
        else:
            self.work_done_progress.report(self._progress_token, types.WorkDoneProgressReport(message=message, percentage=percent))

    def _index_report(self, kind: str, message: str) -> None:
        """The workspace index's reports (from its thread): `$/progress` and warnings, on the loop."""
        if self.index_loop is not None and not self.index_loop.is_closed():
            self.index_loop.call_soon_threadsafe(self._show_index_report, kind, message)

    def _show_index_report(self, kind: str, message: str) -> None:
        log.info("workspace index: %s", message)
        if kind == "warning":
            self.show_message(message, types.MessageType.Warning)
            return
        if not self._supports_progress():
            return
        if kind == "begin" and self._index_token is None:
            token = self._index_token = f"local-llm-lsp-index-{uuid.uuid4().hex[:8]}"
            self.work_done_progress.create(token)
            self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="local-llm-lsp", message=message))
        elif self._index_token is not None and kind == "report":
            self.work_done_progress.report(self._index_token, types.WorkDoneProgressReport(message=message))
        elif self._index_token is not None and kind == "end":
            self.work_done_progress.end(self._index_token, types.WorkDoneProgressEnd(message=message))
            self.work_done_progress.tokens.pop(self._index_token, None)  # pygls 2.1.1 keeps ended tokens
            self._index_token = None

    def _end_progress(self, message: str) -> None:
        if self._progress_token is not None:
            self.work_done_progress.end(self._progress_token, types.WorkDoneProgressEnd(message=message))
            self.work_done_progress.tokens.pop(self._progress_token, None)  # pygls 2.1.1 keeps ended tokens
            self._progress_token = None

    def apply_settings(self, raw) -> None:
        settings, warnings = parse_settings(raw, self.settings)
        self.user_language = locales.choose(settings.language, self.client_locale)
        messages.use(self.user_language.code)
        if settings.language and locales.parse_locale(settings.language) is None:
            warnings.append(f"setting 'language' = {settings.language!r} is not a locale; using {self.user_language.name}")
        for warning in warnings:
            self.show_message(_("settings: {warning}", warning=warning), types.MessageType.Warning)
        if settings.prompts_dir != self._prompts_checked:
            self._prompts_checked = settings.prompts_dir
            for warning in prompt_warnings(settings.prompts_dir):
                self.show_message(_("prompt templates: {warning}", warning=warning), types.MessageType.Warning)

        def load_key(x: Settings) -> tuple:
            return (x.model_path, x.model, x.context_size, x.threads, x.fim_template, x.reuse_shifted_cache, x.prompts_dir,
                    x.backend, x.backend_url, x.backend_model, x.backend_api_key_env, x.backend_api_key_file,
                    x.backend_ca_bundle, x.backend_timeout_ms)

        reload = load_key(settings) != load_key(self.settings)
        before, self.settings = self.settings, settings
        self.indexing.settings_changed(before)
        self.manager.settings = settings
        self.syntax_diagnostics.settings_changed()
        if reload and self.manager.client is not None:
            self.manager.start()

    # -- transports -------------------------------------------------------------------------------
    def serve_stdio(self) -> None:
        # JSON-RPC gets a private copy of stdout; anything else printed goes to stderr.
        out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        sys.stdout = sys.stderr
        stdin = sys.stdin.buffer

        class Writer:
            def write(self, data: bytes) -> None:
                out.write(data)

            def close(self) -> None:
                out.close()

        self._stop_event = threading.Event()
        self.protocol.set_writer(Writer())

        async def main() -> None:
            reader = StreamReaderAdapter(stdin_stream_reader(stdin, asyncio.get_running_loop()))
            try:
                await read_loop(self.protocol, reader.readline, reader.readexactly, self._stop_event)
            finally:
                await self.manager.stop()

        try:
            asyncio.run(main())
        except (BrokenPipeError, KeyboardInterrupt):
            pass
        finally:
            self.shutdown()

    def serve_tcp(self, port: int, token: str, host: str = "127.0.0.1") -> None:
        """Listen on loopback; a connection is served only once its first message carries `token`."""
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the server listens on loopback only")
        self._serve_connections(lambda on_connect: asyncio.start_server(on_connect, host, port, limit=MAX_LINE_BUFFER),
                                f"{host}:{port}", token)

    def serve_socket(self, path: str) -> None:
        """Listen on a Unix domain socket only this user can open (mode 0600)."""
        sock, inode = unix_socket.bind(path)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the finally below removes the socket file
        try:
            self._serve_connections(lambda on_connect: asyncio.start_unix_server(on_connect, sock=sock, limit=MAX_LINE_BUFFER),
                                    path, None)
        finally:
            unix_socket.remove(path, inode)

    def _serve_connections(self, start, where: str, token: str | None) -> None:
        """Serve one client: the first connection (with `token`: the first that presents it); the
        server ends with it. Other connections are closed unread."""
        self._stop_event = stop = threading.Event()
        listener = None
        busy = False

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal busy
            adapter = StreamReaderAdapter(reader)
            first = None
            if token is not None and not busy:
                try:
                    body = await asyncio.wait_for(read_first_frame(adapter.readline, adapter.readexactly), AUTH_TIMEOUT_S)
                    first = check_first_message(body, token) if body is not None else None
                except (asyncio.TimeoutError, OSError):
                    pass
                if first is None:
                    log.warning("refused a connection: its first message was not an initialize with the right authToken")
                    writer.close()
                    return
            if busy:
                log.warning("refused a second connection: one client is served at a time")
                writer.close()
                return
            busy = True
            self.protocol.set_writer(writer)
            try:
                if first is not None:
                    dispatch(self.protocol, first)
                await read_loop(self.protocol, adapter.readline, adapter.readexactly, stop)
            except (ConnectionError, OSError):
                log.warning("the client's connection broke")
            finally:
                await self.manager.stop()
                listener.close()

        async def main() -> None:
            nonlocal listener
            listener = await start(connection)
            log.warning("listening on %s", where)
            async with listener:
                try:
                    await listener.serve_forever()
                except asyncio.CancelledError:
                    pass

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            pass


def prompt_warnings(prompts_dir: str) -> list[str]:
    """What is wrong with the user's prompt templates (the promptsDir folder, the user config folder)."""
    folder = Path(prompts_dir).expanduser()
    missing = [f"promptsDir {prompts_dir!r} is not a folder"] if prompts_dir and not folder.is_dir() else []
    return missing + fim_templates(prompts_dir)[1] + template_warnings(prompts_dir)


def create_server(cli_model: str | None = None) -> LocalLlmServer:
    server = LocalLlmServer(cli_model=cli_model)
    for feature in (lifecycle, sync, inline_completion, completion, code_actions, explain, ask, cursor, workspace_context):
        feature.register(server)
    return server
