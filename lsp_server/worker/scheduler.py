"""The model worker process: runs llama.cpp away from the language server's process.

Owns the process boundary. The server starts `python -m lsp_server.worker` (see `__main__`) and talks to it
in the messages of `lsp_server.worker_protocol`, as JSON lines over stdin/stdout (stdout is
re-pointed at stderr for everything else, so nothing llama.cpp prints can corrupt the protocol).
A reader thread takes commands as they come, so a `cancel` or `follow` lands while a generation
runs; one engine thread runs jobs one at a time, completions before chats, and a chat yields to a
waiting completion between tokens and resumes after it. With no job waiting it does idle work,
which any new job interrupts (the refresh after one small batch, a prompt computed ahead within
its batch: `kv`): recomputing moved KV entries, then computing prompts expected next into spare
sequences (a `prefill`, or the full window of a cold request answered from the small one; that one
goes on through what is left of the cold request's latency target even when the next request
waits). A line that is not a command is logged
and answered with an `error` event (for its id when it has a usable one, else with id null); the
worker goes on. A GGML_ASSERT abort kills only this process; the server notices and restarts it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

import attrs

from lsp_server.bundled import BUNDLED, ModelError, ensure_assembled
from lsp_server.context.fim import MissingFimTokens
from lsp_server.context.templates import choose_template
from lsp_server.worker.engine import ChatTemplateError, Engine, EvalStats
from lsp_server.worker.gguf_header import gguf_string
from lsp_server.worker.pipeline import run_completion
from lsp_server.worker.prompts import Held, prefill_prompts, serves
from lsp_server.worker.remote import RemoteError, Unreachable, open_remote
from lsp_server.worker.remote.health import HealthWatch
from lsp_server.worker_protocol import (
    STREAM_INTERVAL_S, Cancel, Cancelled, Chat, ChatResult, ChatText, Complete, CompletionRequest, Done, Error, Event, Follow, Load, Loaded, LoadFailed,
    Partial, Prefill, Progress, ProtocolError, Refreshed, Shutdown, Warmed, encode, parse_command,
)

log = logging.getLogger("lsp_server.worker")
T = TypeVar("T")


@dataclass
class Job:
    command: Load | Complete | Chat
    seq: int
    preempted_text: str = ""  # a chat's text generated before a completion preempted it
    stats: dict = field(default_factory=dict)
    typed: str | None = None  # completion being followed: what the user typed at its cursor since

    @property
    def id(self) -> str:
        return "load" if isinstance(self.command, Load) else self.command.id  # one load at a time: no id


# A prompt that the prompt in use or a spare serves computing at most this many tokens (a few
# keystrokes typed since it was computed, and its suffix's fresh head) is not computed ahead again:
# that would throw away the spare's end, which adopting it moves instead.
WARM_ENOUGH = 32
RANK = {Load: 0, Complete: 1, Chat: 2}


def _held_enough(size: int, held: int) -> bool:
    """Whether a prompt of `size` tokens, `held` of which the cache would not compute, needs no
    computing ahead: at most WARM_ENOUGH left, and the cache holds most of it (a short prompt in a
    cold cache is computed, however few its tokens)."""
    left = size - held
    return left <= 1 or left <= WARM_ENOUGH and held > left  # loads first, then completions (newest last: each was asked for), then chats


class Worker:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.out_lock = threading.Lock()
        self.cond = threading.Condition()
        self.jobs: list[Job] = []
        self.cancelled: set[str] = set()
        self.running: Job | None = None
        self.closing = False
        self.engine = None
        self.template = None
        self._seq = 0
        self.prefill: CompletionRequest | None = None  # the newest prefill not yet turned into prompts
        self.warm_targets: list[list[int]] = []  # prompts to compute ahead while idle, in order
        self.held = Held()  # the cross-file context of the prompt in use
        # Until then (time.monotonic()) the full prompt of a request answered from a cheaper one is
        # computed even when a job waits: what was left of that request's latency target.
        self.grow_until = 0.0
        self.health: HealthWatch | None = None  # a remote engine's failures and recovery

    # -- output --------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        line = encode(event)
        with self.out_lock:
            self.out.write(line + "\n")
            self.out.flush()

    # -- input (reader thread) -------------------------------------------------------------------
    def read_commands(self, stream: Iterable[bytes | str]) -> None:
        for raw in stream:
            try:
                command = parse_command(raw)
            except ProtocolError as exc:
                log.error("worker: bad command (%s; %d bytes, not logged: they may hold code)", exc, len(raw))
                self.emit(Error(id=exc.id, message=f"bad command: {exc}"))
                continue
            with self.cond:
                if isinstance(command, Follow):
                    for j in (self.running, *self.jobs):
                        if j is not None and j.id == command.id:
                            j.typed = command.typed
                elif isinstance(command, Cancel):
                    self.cancelled.add(command.id)
                    self.jobs = [j for j in self.jobs if not self._drop_if_cancelled(j)]
                elif isinstance(command, Shutdown):
                    self.closing = True
                elif isinstance(command, Prefill):
                    self.prefill = command.request
                else:
                    self._seq += 1
                    self.jobs.append(Job(command, self._seq))
                self.cond.notify_all()
        with self.cond:
            self.closing = True
            self.cond.notify_all()

    def _drop_if_cancelled(self, job: Job) -> bool:
        if job.id in self.cancelled:
            self.cancelled.discard(job.id)
            self.emit(Cancelled(id=job.id, stats={"generated_tokens": 0, "queued": True}))
            return True
        return False

    # -- engine thread -----------------------------------------------------------------------------
    def _next_job(self) -> Job | None:
        """The next job to run; None when closing. With no job waiting, idle work runs first."""
        with self.cond:
            while (not self.jobs or self._growing()) and not self.closing:
                if self.engine is not None and (self.prefill is not None or self.warm_targets):
                    self.cond.release()
                    try:
                        self._warm_while_idle()
                    finally:
                        self.cond.acquire()
                    continue
                self.cond.wait()
            if self.closing:
                return None
            self.jobs.sort(key=lambda j: (RANK[type(j.command)], j.seq))
            job = self.jobs.pop(0)
            self.running = job
            return job

    def _is_cancelled(self, job: Job) -> bool:
        return job.id in self.cancelled or self.closing

    def _completion_waiting(self) -> bool:
        return any(isinstance(j.command, (Complete, Load)) for j in self.jobs)

    def run(self) -> None:
        handlers = {Load: self.op_load, Complete: self.op_complete, Chat: self.op_chat}
        while (job := self._next_job()) is not None:
            try:
                handlers[type(job.command)](job)
            except Exception as exc:  # one bad job must not end the worker
                log.exception("worker: job %s failed", job.id)
                message = f"{type(exc).__name__}: {exc}"
                # a load is answered as a load (the server waits for that, and a load has no id)
                self.emit(LoadFailed(message=message) if isinstance(job.command, Load) else Error(id=job.id, message=message))
            finally:
                with self.cond:
                    self.running = None
                    self.cancelled.discard(job.id)
            self._refresh_while_idle()

    def _refresh_while_idle(self) -> None:
        """With no job waiting, recompute the KV entries the last completion moved instead of
        computing (`Engine.refresh`); any new job interrupts it after one small batch."""
        engine = self.engine
        if engine is None or not engine.needs_refresh or self.jobs or self.closing or self._growing():
            return  # (growing the full window comes first: the prompt in use may soon be replaced)
        stats = {"evaluated_tokens": 0, "prompt_ms": 0.0}
        t0 = time.perf_counter()
        try:
            stats["evaluated_tokens"] = engine.refresh(lambda: bool(self.jobs) or self.closing)
        except Exception:  # llama.cpp failed mid-way: start again from an empty cache
            log.exception("worker: idle refresh failed")
            engine.reset()
        stats["prompt_ms"] = (time.perf_counter() - t0) * 1000
        self.emit(Refreshed(complete=not engine.needs_refresh, stats=stats))

    def _growing(self) -> bool:
        """Within the time left of a request answered from a cheaper prompt than its full one."""
        return self.engine is not None and bool(self.warm_targets) and time.monotonic() < self.grow_until

    def _interrupts_idle(self) -> bool:
        return bool(self.jobs) and not self._growing() or self.closing or self.prefill is not None

    def _warm_while_idle(self) -> None:
        """Compute the prompts expected next into spare sequences (`Engine.warm`), the newest
        prefill's first; any new job or prefill interrupts it, within the batch being computed."""
        engine = self.engine
        with self.cond:
            req, self.prefill = self.prefill, None
        if self.health is not None and self.health.down:
            self.warm_targets = []  # a remote engine that is down: nothing to warm
            return
        if req is not None:
            try:
                self.warm_targets = prefill_prompts(engine, self.template, req)
            except MissingFimTokens:  # completions say so when asked for; nothing to prefill
                self.warm_targets = []
            except Exception:  # a prompt that cannot be built: nothing to prefill
                log.exception("worker: prefill failed")
                self.warm_targets = []
        stats = {"evaluated_tokens": 0, "prompt_ms": 0.0}
        t0 = time.perf_counter()
        try:
            while self.warm_targets and not self._interrupts_idle():
                tokens = self.warm_targets[0]
                if _held_enough(len(tokens), engine.held(tokens)):
                    self.warm_targets.pop(0)  # the prompt in use or a spare has it already (all but a few tokens)
                    continue
                done, finished = engine.warm(tokens, self._interrupts_idle)
                stats["evaluated_tokens"] += done
                if finished:
                    self.warm_targets.pop(0)
        except RemoteError as exc:  # a remote engine failed: said like a job's failure
            self.health.failed(exc)
            self.warm_targets = []
        except Exception:  # llama.cpp failed mid-way: drop the spares, keep the prompt in use
            log.exception("worker: idle prefill failed")
            self.warm_targets = []
        stats["prompt_ms"] = (time.perf_counter() - t0) * 1000
        if stats["evaluated_tokens"]:
            self.emit(Warmed(complete=not self.warm_targets, stats=stats))

    def _warm_later(self, tokens: list[int]) -> None:
        """A cold request was answered from the small window: its full window is computed next,
        unless the one being computed is that of a few keystrokes before (`serves`): finished, it
        serves this one too."""
        with self.cond:
            self.prefill = None  # the user is here now: an older prefill is out of date
            if not (len(self.warm_targets) == 1 and serves(self.engine, self.warm_targets[0], tokens)):
                self.warm_targets = [tokens]

    # -- ops ----------------------------------------------------------------------------------------
    def op_load(self, job: Job) -> None:
        p: Load = job.command
        last = [0.0]

        def progress(stage: str):
            def report(done: int, total: int) -> None:
                now = time.monotonic()
                if now - last[0] > 0.25 or done >= total:
                    last[0] = now
                    self.emit(Progress(stage=stage, done=done, total=total))
            return report

        if p.backend != "embedded":
            self._load_remote(p)
            return
        try:
            if p.bundled:
                model = BUNDLED[p.bundled]
                path = ensure_assembled(model, progress("assemble"))
            elif p.path:
                path = Path(p.path).expanduser()
                _check_gguf_file(path)
            else:
                raise ModelError("no model to load: give a GGUF file's path or a bundled model")
            self._close_engine()
            self.emit(Progress(stage="load", done=0, total=1))
            engine = Engine(str(path), n_ctx=p.n_ctx, threads=p.threads, reuse_shifted=p.reuse_shifted)
            template = choose_template(engine.info.metadata, p.template, p.prompts_dir)
            self.emit(Progress(stage="load", done=1, total=1))
        except ModelError as exc:
            self.emit(LoadFailed(message=str(exc)))
            return
        except KeyError as exc:
            self.emit(LoadFailed(message=str(exc.args[0]) if exc.args else str(exc)))
            return
        except (ValueError, OSError, RuntimeError) as exc:
            self.emit(LoadFailed(message=f"llama.cpp could not load {p.path or p.bundled}: {exc}{_why_not(p.path)}"))
            return
        except Exception as exc:
            import jinja2  # deferred: only to name a broken chat template (llama_cpp compiles it at load)

            if not isinstance(exc, jinja2.TemplateError):
                raise
            self.emit(LoadFailed(message=f"the chat template in {p.path or p.bundled} is not valid Jinja "
                                         f"({type(exc).__name__}: {exc}); llama-cpp-python cannot load the model"))
            return
        self._loaded(engine, template)
        engine.prepare_lead()  # a vocabulary scan (about 0.3 s), before the first request needs it

    def _load_remote(self, p: Load) -> None:
        """A remote engine instead of a model file: `path`, if set, is its local vocabulary."""
        self._close_engine()
        self.emit(Progress(stage="connect", done=0, total=1))
        try:
            engine = open_remote(p.backend, p.url, model=p.remote_model, api_key_env=p.api_key_env,
                                 api_key_file=p.api_key_file, ca_bundle=p.ca_bundle, timeout_ms=p.timeout_ms,
                                 vocab_path=str(Path(p.path).expanduser()) if p.path else "", n_ctx=p.n_ctx)
            template = choose_template(engine.info.metadata, p.template, p.prompts_dir)
        except RemoteError as exc:
            self.emit(LoadFailed(message=f"backend {p.backend}: {exc}", retry=isinstance(exc, Unreachable)))
            return
        except KeyError as exc:
            self.emit(LoadFailed(message=str(exc.args[0]) if exc.args else str(exc)))
            return
        except (ValueError, OSError, RuntimeError) as exc:  # the local vocabulary file
            self.emit(LoadFailed(message=f"backend {p.backend}: cannot read the vocabulary of {p.path}: {exc}"))
            return
        self.emit(Progress(stage="connect", done=1, total=1))
        self.health = HealthWatch(engine.health, self.emit)
        self._loaded(engine, template)

    def _close_engine(self) -> None:
        if self.health is not None:
            self.health.close()
            self.health = None
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def _loaded(self, engine, template) -> None:
        self.engine, self.template = engine, template
        self.warm_targets, self.held = [], Held()  # of the model before
        info = asdict(engine.info)
        info["template"] = template.name
        info["fim_ok"] = not (template.roles_needed(False) - set(engine.info.roles))
        self.emit(Loaded(info=info))

    def op_complete(self, job: Job) -> None:
        if self.engine is None:
            self.emit(Error(id=job.id, message="no model is loaded"))
            return
        req = job.command.request

        def answer_early(partial) -> None:
            with self.cond:
                if job.typed is None:  # from now on the job goes on as a followed one
                    job.typed = ""
            self.emit(Partial(id=job.id, result=partial))

        started = time.monotonic()
        result = self._on_engine(job, lambda: run_completion(
            self.engine, self.template, req, lambda: self._is_cancelled(job), lambda: job.typed, answer_early,
            self._warm_later, self.held), MissingFimTokens)
        if result is None:
            return
        if job.typed is not None:
            result.stats["followed"] = True
        if self._is_cancelled(job) or result.stats.get("stop_reason") == "disagrees":
            self.emit(Cancelled(id=job.id, stats=result.stats, raw=result.raw))
        else:
            self.emit(Done(id=job.id, result=result))
            if req.latency_target_ms > 0 and (result.stats.get("small_window") or result.stats.get("older_context")):
                # what is left of the target goes to the full prompt, even if the next keystroke's
                # request waits: typing leaves the worker too little idle time to ever finish it
                with self.cond:
                    self.grow_until = started + req.latency_target_ms / 1000

    def _on_engine(self, job: Job, work: Callable[[], T], told: type[Exception]) -> T | None:
        """`work()`, the job's run on the engine; None when the job ended with `error` instead: an
        exception of type `told` (its message is for the user), a remote engine that failed (said
        to the server by `health`), or one known to be down (at once, without waiting on a timeout)."""
        down = self.health.down if self.health is not None else None
        if down:
            self.emit(Error(id=job.id, message=f"the engine is down: {down}"))
            return None
        try:
            value = work()
        except told as exc:
            self.emit(Error(id=job.id, message=str(exc)))
            return None
        except RemoteError as exc:
            self.health.failed(exc)
            self.emit(Error(id=job.id, message=str(exc)))
            return None
        if self.health is not None:
            self.health.worked()
        return value

    def op_chat(self, job: Job) -> None:
        if self.engine is None:
            self.emit(Error(id=job.id, message="no model is loaded"))
            return
        engine = self.engine
        max_tokens = job.command.max_tokens
        stats = EvalStats()
        pieces = [job.preempted_text]
        preempted = False

        def stop() -> bool:
            nonlocal preempted
            if self._is_cancelled(job):
                return True
            with self.cond:
                if self._completion_waiting():
                    preempted = True
                    return True
            return False

        already = job.stats.get("generated_tokens", 0)
        sent = float("-inf")  # the first piece goes out at once; later ones at most every interval

        def generate() -> bool:
            nonlocal sent
            for piece in engine.chat([attrs.asdict(m) for m in job.command.messages], job.preempted_text,
                                     max_tokens=max(1, max_tokens - already), cancelled=stop, stats=stats):
                pieces.append(piece)
                if job.command.stream and time.monotonic() - sent >= STREAM_INTERVAL_S:
                    sent = time.monotonic()
                    self.emit(ChatText(id=job.id, text="".join(pieces)))
            return True

        if self._on_engine(job, generate, ChatTemplateError) is None:
            return
        text = "".join(pieces)
        total = dict(stats.as_dict(), generated_tokens=already + stats.generated_tokens)
        if self._is_cancelled(job):
            self.emit(Cancelled(id=job.id, stats=total))
        elif preempted:
            # Yield to the completion; resume this chat after it, from where it stopped.
            with self.cond:
                job.preempted_text, job.stats = text, total
                self.jobs.append(job)
                self.cond.notify_all()
            self.emit(Progress(stage="preempted", done=total["generated_tokens"], total=max_tokens, id=job.id))
        else:
            self.emit(Done(id=job.id, result=ChatResult(text=text, stats=total)))


def _why_not(path: str | None) -> str:
    """What llama.cpp's refusal of a file most likely means, when its header says."""
    arch = gguf_string(Path(path).expanduser(), "general.architecture") if path else None
    return f" (the file's architecture is {arch!r}: perhaps one this llama.cpp does not support)" if arch else ""


def _check_gguf_file(path: Path) -> None:
    """Reject what llama.cpp would crash or hang on, with a message a user can act on."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist; set modelPath / --model to a GGUF file")
    if not path.is_file():
        raise ModelError(f"model path {path} is not a file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF file (it does not start with the GGUF magic bytes)")
    if path.stat().st_size < 1024:
        raise ModelError(f"{path} is too small to be a model ({path.stat().st_size} bytes): truncated?")


def main() -> None:
    # The protocol gets a private copy of stdout; fd 1 then points at stderr, so anything printed
    # by llama.cpp or Python goes to the log instead of into the protocol stream.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=os.environ.get("LOCAL_LLM_LSP_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    worker = Worker(proto)
    # Commands are read as bytes, so that a line that is not UTF-8 is a bad command like any other
    # (a text stream would raise and end the reader), from a reader of its own: the interpreter's
    # exit closes sys.stdin, which would need the lock that the blocked daemon reader holds.
    commands = open(sys.stdin.fileno(), "rb", closefd=False)
    reader = threading.Thread(target=worker.read_commands, args=(commands,), daemon=True)
    reader.start()
    worker.run()
    if worker.engine is not None:
        worker.engine.close()

