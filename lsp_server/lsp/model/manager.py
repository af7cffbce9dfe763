"""The model's life in the server: which model, its state, loading it, restarting a dead worker.

Owns the state machine loading -> ready | error, the choice of model file (a setting or `--model`
first, else the bundled model), the user-facing messages about it (through callbacks the server
wires to `window/showMessage`, `$/progress` and `localLlm/status`), and the rule that a newer
completion for a document supersedes the older one. A caller may wait, bounded, for a model that
is still loading (`until_ready`); requests made while it is not ready fail fast with
ModelUnavailable; nothing here blocks the event loop. Below it the worker's
messages are typed (`lsp_server.worker_protocol`); its callers get the results, progress and the
model's info as dicts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lsp_server.i18n.messages import _
from lsp_server.lsp.settings import Settings
from lsp_server.bundled import BUNDLED
from lsp_server.lsp.model.client import RequestCancelled, WorkerClient, WorkerCrashed, WorkerError
from lsp_server.worker_protocol import (
    Chat, ChatMessage, Complete, CompletionRequest, CompletionResult, Health, Load, LoadFailed, converter,
)

log = logging.getLogger(__name__)

LOADING, READY, ERROR = "loading", "ready", "error"
LOAD_ATTEMPTS = 2  # a worker that dies while loading is started once more before the file is blamed
MAX_RESTARTS = 3  # within RESTART_WINDOW seconds; then the server stays in the error state
RESTART_WINDOW = 300.0
RETRY_FIRST_S, RETRY_MAX_S = 1.0, 30.0  # loading again a remote engine that did not answer


class ModelUnavailable(Exception):
    pass


@dataclass
class Status:
    state: str
    model: str | None
    message: str

    def as_dict(self) -> dict:
        return {"state": self.state, "model": self.model, "message": self.message}


class ModelManager:
    def __init__(
        self,
        settings: Settings,
        *,
        cli_model: str | None = None,
        on_status: Callable[[Status], None] = lambda s: None,
        on_progress: Callable[[dict], None] = lambda e: None,
    ) -> None:
        self.settings = settings
        self.cli_model = cli_model
        self.on_status = on_status
        self.on_progress = on_progress
        self.client: WorkerClient | None = None
        self.status = Status(LOADING, None, "not started")
        self.info: dict = {}
        self._ready = asyncio.Event()
        self._state_changed = asyncio.Event()  # set (and replaced) at every status change
        self._loading: asyncio.Task | None = None
        self._active: dict[str, str] = {}  # document uri -> the worker job of its latest completion
        self._crashes: list[float] = []
        self._retry: asyncio.TimerHandle | None = None  # the next load of a remote engine that did not answer
        self._retry_in = 0.0

    # -- which model ------------------------------------------------------------------------------
    def model_source(self) -> dict:
        """The load parameters: an explicit path, or a bundled model key; for a remote backend, its
        address (and an explicit path, if any, as the local vocabulary: never a bundled model)."""
        explicit = self.cli_model or self.settings.model_path
        if self.settings.backend != "embedded":
            path = str(Path(explicit).expanduser()) if explicit else None
            return {"path": path, "bundled": None, "label": f"{self.settings.backend} at {self.settings.backend_url}"}
        if explicit:
            return {"path": str(Path(explicit).expanduser()), "bundled": None, "label": explicit}
        model = BUNDLED[self.settings.model]
        return {"path": None, "bundled": model.key, "label": model.title}

    def _set_status(self, state: str, message: str) -> None:
        self.status = Status(state, self.model_source()["label"], message)
        self._state_changed.set()
        self._state_changed = asyncio.Event()
        self.on_status(self.status)

    async def until_ready(self, timeout: float | None) -> bool:
        """Whether the model is ready, waiting up to `timeout` seconds (None: as long as it takes)
        while it loads (or the worker restarts after a crash). An error state answers at once.
        Cancelling the caller ends the wait."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status.state == LOADING:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            try:
                await asyncio.wait_for(self._state_changed.wait(), left)
            except asyncio.TimeoutError:
                break
        return self._ready.is_set() and self.client is not None and self.client.alive

    # -- loading -----------------------------------------------------------------------------------
    def start(self) -> asyncio.Task:
        """Start (or restart) the worker and load the model in the background."""
        if self._retry is not None:
            self._retry.cancel()
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._loading = asyncio.create_task(self._load())
        return self._loading

    async def _load(self) -> None:
        self._ready.clear()
        source = self.model_source()
        self._set_status(LOADING, _("loading {model}", model=source["label"]))
        for attempt in range(1, LOAD_ATTEMPTS + 1):
            if self.client is not None:
                await self.client.stop()
            self.client = WorkerClient(on_progress=lambda progress: self.on_progress(converter.unstructure(progress)),
                                       on_health=self._on_health)
            try:
                await self.client.start()
                event = await self.client.load(Load(
                    path=source["path"],
                    bundled=source["bundled"],
                    n_ctx=self.settings.context_size,
                    threads=self.settings.threads,
                    template=self.settings.fim_template,
                    prompts_dir=self.settings.prompts_dir,
                    reuse_shifted=self.settings.reuse_shifted_cache,
                    backend=self.settings.backend,
                    url=self.settings.backend_url,
                    remote_model=self.settings.backend_model,
                    api_key_env=self.settings.backend_api_key_env,
                    api_key_file=self.settings.backend_api_key_file,
                    ca_bundle=self.settings.backend_ca_bundle,
                    timeout_ms=self.settings.backend_timeout_ms,
                ))
                break
            except WorkerError as exc:
                self._set_status(ERROR, _("cannot load the model: {error}", error=exc))
                return
            except WorkerCrashed as exc:
                # Killed from outside (out of memory, a user) or crashed on the file: once more, and
                # if it dies again, the file is the likely cause.
                if attempt < LOAD_ATTEMPTS:
                    log.warning("the model worker died while loading %s (%s); loading it once more", source["label"], exc)
                    continue
                self._set_status(ERROR, _(
                    "llama.cpp crashed while loading {model} ({error}, {attempts} times); the file is probably "
                    "corrupt or not a supported model. Check it with `local-llm-lsp model verify`, or set modelPath "
                    "to another GGUF.", model=source["label"], error=exc, attempts=LOAD_ATTEMPTS))
                return
        if isinstance(event, LoadFailed):
            self._set_status(ERROR, _("cannot load the model: {error}", error=event.message))
            if event.retry:  # a remote engine that does not answer yet: try again, less and less often
                self._retry_in = min(self._retry_in * 2, RETRY_MAX_S) if self._retry_in else RETRY_FIRST_S
                self._retry = asyncio.get_running_loop().call_later(self._retry_in, self._load_again)
            return
        self._retry_in = 0.0
        self.info = event.info
        if not self.info.get("fim_ok", False):
            self._set_status(ERROR, _(
                "{model} has no fill-in-the-middle tokens (template {template} needs them), so it cannot complete "
                "code; use a FIM code model such as Qwen2.5-Coder.", model=self.info.get("name"),
                template=repr(self.info.get("template"))))
            return
        self._ready.set()
        self._set_status(READY, _("{model} ready ({template} template)", model=self.info.get("name"),
                                 template=self.info.get("template")))

    def _load_again(self) -> None:
        if self.status.state == ERROR and (self._loading is None or self._loading.done()):
            self.start()

    def _on_health(self, event: Health) -> None:
        """A remote engine failed or works again (the worker polls it while it is down)."""
        if not self._ready.is_set():
            return
        if event.ok:
            self._set_status(READY, f"{self.info.get('name')} ready again ({self.settings.backend} at "
                                    f"{self.settings.backend_url})")
        else:
            self._set_status(ERROR, f"the {self.settings.backend} engine failed: {event.message}")

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        if self._loading is not None:
            self._loading.cancel()
        if self.client is not None:
            await self.client.stop()

    def _on_crash(self, exc: Exception) -> None:
        """The worker died: restart it, unless it died too often. One death is counted once: every
        request waiting on it reports it, and while the restart it caused is under way, those
        reports are the same death (a death while loading is the restart's own to handle)."""
        if self._loading is not None and not self._loading.done():
            return
        now = time.monotonic()
        self._crashes = [t for t in self._crashes if now - t < RESTART_WINDOW] + [now]
        if len(self._crashes) > MAX_RESTARTS:
            self._ready.clear()
            self._set_status(ERROR, _("the model worker crashed {count} times in a row ({error}); not restarting. "
                                      "Restart the server after checking the log.", count=len(self._crashes), error=exc))
            return
        log.error("model worker crashed (%s); restarting", exc)
        self.start()

    # -- jobs --------------------------------------------------------------------------------------
    def _ready_client(self) -> WorkerClient:
        if not self._ready.is_set() or self.client is None or not self.client.alive:
            raise ModelUnavailable(self.status.message)
        return self.client

    def start_complete(self, uri: str, request: CompletionRequest) -> tuple[str, asyncio.Future, asyncio.Future]:
        """Send a completion job (stopping the document's previous one) without waiting for it:
        its id, the future of its result and the future of its first answer: the job's early
        answer (a result marked `partial`, the job goes on) or else its result (await both
        through `result`; results are CompletionResult's fields as a dict)."""
        client = self._ready_client()
        previous = self._active.get(uri)
        if previous is not None:
            client.cancel(previous)
        job_id = client.new_id("complete")
        self._active[uri] = job_id
        first = asyncio.get_running_loop().create_future()

        def answered_early(result: CompletionResult) -> None:
            if not first.done():
                first.set_result({**converter.unstructure(result), "partial": True})

        try:
            typed = client.submit(Complete(id=job_id, request=request), on_partial=answered_early)
        except WorkerCrashed as exc:
            del self._active[uri]
            self._on_crash(exc)
            raise ModelUnavailable(str(exc)) from exc
        fut = asyncio.get_running_loop().create_future()
        typed.add_done_callback(lambda f: _copy_outcome(f, fut, converter.unstructure))
        fut.add_done_callback(lambda f: (self.release(uri, job_id), f.cancelled() or f.exception()))  # retrieved
        fut.add_done_callback(lambda f: _copy_outcome(f, first))
        first.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved
        return job_id, fut, first

    async def result(self, fut: asyncio.Future) -> dict:
        """The result of a started job; cancelling the awaiting task leaves the job running."""
        try:
            return await asyncio.shield(fut)
        except WorkerCrashed as exc:
            self._on_crash(exc)
            raise ModelUnavailable(str(exc)) from exc

    def release(self, uri: str, job_id: str) -> None:
        """The job no longer stands for the document's newest request (a newer one need not stop it)."""
        if self._active.get(uri) == job_id:
            del self._active[uri]

    def follow(self, job_id: str, typed: str) -> None:
        if self.client is not None:
            self.client.follow(job_id, typed)

    def cancel(self, job_id: str) -> None:
        if self.client is not None:
            self.client.cancel(job_id)

    def prefill(self, request: CompletionRequest) -> bool:
        """Have the worker compute `request`'s prompt while idle; False when the model is not ready."""
        if not self._ready.is_set() or self.client is None:
            return False
        self.client.prefill(request)
        return True

    async def chat(self, messages: list[dict], max_tokens: int = 512, on_text: Callable[[str], None] | None = None) -> dict:
        """The model's answer to `messages` ({"role", "content"} each): ChatResult's fields as a dict.
        `on_text` (streaming) is called with the text so far while the model writes."""
        client = self._ready_client()
        command = Chat(id=client.new_id("chat"), messages=converter.structure(messages, list[ChatMessage]), max_tokens=max_tokens,
                       stream=on_text is not None)
        try:
            return converter.unstructure(await client.call(command, on_text))
        except WorkerCrashed as exc:
            self._on_crash(exc)
            raise ModelUnavailable(str(exc)) from exc


def _copy_outcome(source: asyncio.Future, target: asyncio.Future, convert: Callable = lambda result: result) -> None:
    """Give `target` the outcome of `source` (a result converted), unless it has one already."""
    if source.cancelled():
        if not target.done():
            target.cancel()
    elif (exc := source.exception()) is not None:  # retrieved either way
        if not target.done():
            target.set_exception(exc)
    elif not target.done():
        target.set_result(convert(source.result()))


__all__ = ["ModelManager", "ModelUnavailable", "RequestCancelled", "WorkerError", "Status", "READY", "LOADING", "ERROR"]
