"""The model worker process: runs llama.cpp away from the language server's process.

Owns the process boundary. The server starts `python -m lsp_server.worker` (see `__main__`) and talks to it
in JSON lines over stdin/stdout (stdout is re-pointed at stderr for everything else, so nothing
llama.cpp prints can corrupt the protocol). A reader thread takes commands as they come, so a
`cancel` lands while a generation runs; one engine thread runs jobs one at a time, completions
before chats, and a chat yields to a waiting completion between tokens and resumes after it.
A GGML_ASSERT abort kills only this process; the server notices and restarts it.

Commands (in):  {"op": "load", "path": str|null, "bundled": "default"|"small"|null, "n_ctx": int,
                 "threads": int, "template": str, "prompts_dir": str (the promptsDir setting)}
                {"op": "complete", "id": str, "request": CompletionRequest fields}
                {"op": "chat", "id": str, "messages": [{"role", "content"}], "max_tokens": int}
                {"op": "follow", "id": str, "typed": str}: the job's request is gone because the
                 user typed `typed` at its cursor; it goes on while its output agrees with that
                 (one is a prefix of the other) and stops, as cancelled, as soon as it does not
                {"op": "cancel", "id": str}   {"op": "shutdown"}
Events (out):   {"event": "progress", "stage": str, "done": int, "total": int}
                {"event": "loaded", "info": {...}}  {"event": "load_failed", "message": str}
                {"event": "partial", "id": str, "result": {...}}: a completion's early answer (its
                 request's `partial_after_ms` passed): the job goes on as if followed with nothing
                 typed yet, and ends with `done` or `cancelled` as any other
                {"event": "done", "id": str, "result": {...}}
                {"event": "error", "id": str, "message": str}
                {"event": "cancelled", "id": str, "stats": {...}, "raw": str (what a completion had
                 generated when the typing turned away from it; diagnostics)}
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from lsp_server.bundled import BUNDLED, ModelError, ensure_assembled
from lsp_server.context.fim import MissingFimTokens
from lsp_server.context.templates import choose_template
from lsp_server.worker.engine import Engine, EvalStats
from lsp_server.worker.pipeline import CompletionRequest, run_completion

log = logging.getLogger("lsp_server.worker")


@dataclass
class Job:
    op: str
    id: str
    payload: dict
    seq: int
    partial: str = ""  # chat text produced before a preemption
    stats: dict = field(default_factory=dict)
    typed: str | None = None  # completion being followed: what the user typed at its cursor since


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

    # -- output --------------------------------------------------------------------------------
    def emit(self, **event: Any) -> None:
        line = json.dumps(event, ensure_ascii=True)
        with self.out_lock:
            self.out.write(line + "\n")
            self.out.flush()

    # -- input (reader thread) -------------------------------------------------------------------
    def read_commands(self, stream) -> None:
        for raw in stream:
            try:
                msg = json.loads(raw)
                op = msg["op"]
            except (ValueError, KeyError, TypeError):
                log.error("worker: bad command line ignored: %.200r", raw)
                continue
            with self.cond:
                if op == "follow":
                    for j in (self.running, *self.jobs):
                        if j is not None and j.id == str(msg.get("id")):
                            j.typed = str(msg.get("typed", ""))
                elif op == "cancel":
                    self.cancelled.add(str(msg.get("id")))
                    self.jobs = [j for j in self.jobs if not self._drop_if_cancelled(j)]
                elif op == "shutdown":
                    self.closing = True
                else:
                    self._seq += 1
                    self.jobs.append(Job(op, str(msg.get("id", op)), msg, self._seq))
                self.cond.notify_all()
        with self.cond:
            self.closing = True
            self.cond.notify_all()

    def _drop_if_cancelled(self, job: Job) -> bool:
        if job.id in self.cancelled:
            self.cancelled.discard(job.id)
            self.emit(event="cancelled", id=job.id, stats={"generated_tokens": 0, "queued": True})
            return True
        return False

    # -- engine thread -----------------------------------------------------------------------------
    def _next_job(self) -> Job | None:
        with self.cond:
            while not self.jobs and not self.closing:
                self.cond.wait()
            if self.closing:
                return None
            # Loads first, then completions (newest last: each was asked for), then chats.
            rank = {"load": 0, "complete": 1, "chat": 2}
            self.jobs.sort(key=lambda j: (rank.get(j.op, 3), j.seq))
            job = self.jobs.pop(0)
            self.running = job
            return job

    def _is_cancelled(self, job: Job) -> bool:
        return job.id in self.cancelled or self.closing

    def _completion_waiting(self) -> bool:
        return any(j.op in ("complete", "load") for j in self.jobs)

    def run(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                handler = getattr(self, f"op_{job.op}", None)
                if handler is None:
                    self.emit(event="error", id=job.id, message=f"unknown op {job.op!r}")
                else:
                    handler(job)
            except Exception as exc:  # one bad job must not end the worker
                log.exception("worker: job %s failed", job.id)
                self.emit(event="error", id=job.id, message=f"{type(exc).__name__}: {exc}")
            finally:
                with self.cond:
                    self.running = None
                    self.cancelled.discard(job.id)
            self._refresh_while_idle()

    def _refresh_while_idle(self) -> None:
        """With no job waiting, recompute the KV entries the last completion moved instead of
        computing (`Engine.refresh`); any new job interrupts it after one small batch."""
        engine = self.engine
        if engine is None or not engine.needs_refresh or self.jobs or self.closing:
            return
        stats = {"evaluated_tokens": 0, "prompt_ms": 0.0}
        t0 = time.perf_counter()
        try:
            stats["evaluated_tokens"] = engine.refresh(lambda: bool(self.jobs) or self.closing)
        except Exception:  # llama.cpp failed mid-way: start again from an empty cache
            log.exception("worker: idle refresh failed")
            engine.reset()
        stats["prompt_ms"] = (time.perf_counter() - t0) * 1000
        self.emit(event="refreshed", complete=not engine.needs_refresh, stats=stats)

    # -- ops ----------------------------------------------------------------------------------------
    def op_load(self, job: Job) -> None:
        p = job.payload
        last = [0.0]

        def progress(stage: str):
            def report(done: int, total: int) -> None:
                now = time.monotonic()
                if now - last[0] > 0.25 or done >= total:
                    last[0] = now
                    self.emit(event="progress", stage=stage, done=done, total=total)
            return report

        try:
            if p.get("bundled"):
                model = BUNDLED[p["bundled"]]
                path = ensure_assembled(model, progress("assemble"))
            else:
                path = Path(p["path"]).expanduser()
                _check_gguf_file(path)
            if self.engine is not None:
                self.engine.close()
                self.engine = None
            self.emit(event="progress", stage="load", done=0, total=1)
            engine = Engine(
                str(path),
                n_ctx=int(p.get("n_ctx", 4096)),
                threads=int(p.get("threads", 0)),
                reuse_shifted=bool(p.get("reuse_shifted", True)),
            )
            template = choose_template(engine.info.metadata, p.get("template", ""), p.get("prompts_dir", ""))
            self.emit(event="progress", stage="load", done=1, total=1)
        except ModelError as exc:
            self.emit(event="load_failed", message=str(exc))
            return
        except KeyError as exc:
            self.emit(event="load_failed", message=str(exc.args[0]) if exc.args else str(exc))
            return
        except (ValueError, OSError, RuntimeError) as exc:
            self.emit(event="load_failed", message=f"llama.cpp could not load {p.get('path') or p.get('bundled')}: {exc}")
            return
        self.engine, self.template = engine, template
        info = asdict(engine.info)
        info["template"] = template.name
        info["fim_ok"] = not (template.roles_needed(False) - set(engine.info.roles))
        self.emit(event="loaded", info=info)
        engine.prepare_lead()  # a vocabulary scan (about 0.3 s), before the first request needs it

    def op_complete(self, job: Job) -> None:
        if self.engine is None:
            self.emit(event="error", id=job.id, message="no model is loaded")
            return
        req = CompletionRequest.from_dict(job.payload.get("request", {}))

        def answer_early(partial) -> None:
            with self.cond:
                if job.typed is None:  # from now on the job goes on as a followed one
                    job.typed = ""
            self.emit(event="partial", id=job.id, result=partial.as_dict())

        try:
            result = run_completion(self.engine, self.template, req, lambda: self._is_cancelled(job), lambda: job.typed,
                                    answer_early)
        except MissingFimTokens as exc:
            self.emit(event="error", id=job.id, message=str(exc))
            return
        if job.typed is not None:
            result.stats["followed"] = True
        if self._is_cancelled(job) or result.stats.get("stop_reason") == "disagrees":
            self.emit(event="cancelled", id=job.id, stats=result.stats, raw=result.raw)
        else:
            self.emit(event="done", id=job.id, result=result.as_dict())

    def op_chat(self, job: Job) -> None:
        if self.engine is None:
            self.emit(event="error", id=job.id, message="no model is loaded")
            return
        engine = self.engine
        prompt_text = format_chat(engine, job.payload.get("messages", []))
        prompt = engine.tokenize_special(prompt_text) + (engine.tokenize(job.partial) if job.partial else [])
        max_tokens = int(job.payload.get("max_tokens", 512))
        stats = EvalStats()
        pieces = [job.partial]
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
        for piece in engine.generate(prompt, max_tokens=max(1, max_tokens - already), cancelled=stop, stats=stats):
            pieces.append(piece)
        text = "".join(pieces)
        total = dict(stats.as_dict(), generated_tokens=already + stats.generated_tokens)
        if self._is_cancelled(job):
            self.emit(event="cancelled", id=job.id, stats=total)
        elif preempted:
            # Yield to the completion; resume this chat after it, from where it stopped.
            with self.cond:
                job.partial, job.stats = text, total
                self.jobs.append(job)
                self.cond.notify_all()
            self.emit(event="progress", stage="preempted", done=total["generated_tokens"], total=max_tokens, id=job.id)
        else:
            self.emit(event="done", id=job.id, result={"text": text, "stats": total})


def format_chat(engine, messages: list[dict]) -> str:
    """Render messages with the model's own chat template (from the GGUF), ChatML if it has none."""
    template = engine.llm.metadata.get("tokenizer.chat_template")
    if template:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # deferred: llama_cpp is a heavy import

        eos = engine.llm.detokenize([engine.llm.token_eos()], special=True).decode("utf-8", "replace")
        bos = engine.llm.detokenize([engine.bos], special=True).decode("utf-8", "replace") if engine.bos >= 0 else ""
        formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos, add_generation_prompt=True)
        return formatter(messages=messages).prompt
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


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
    reader = threading.Thread(target=worker.read_commands, args=(sys.stdin,), daemon=True)
    reader.start()
    worker.run()
    if worker.engine is not None:
        worker.engine.close()

