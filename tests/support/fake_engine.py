"""A test double of a remote engine: a small HTTP server speaking llama-server's dialect (and the
OpenAI one's `/v1/models`, `/v1/completions`, `/v1/chat/completions`), whose answers the test sets.

Real llama-server is what the remote e2e tests run against; this double exists for what a real
engine cannot be made to do on demand: answer HTTP 500, send a truncated or malformed stream,
refuse a key, or hang. Its tokenizer is one token per character (ids 1000 + code point), with the
FIM texts of `SPECIAL` as single special tokens when special parsing is asked for.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SPECIAL = {"<|fim_prefix|>": 1, "<|fim_suffix|>": 2, "<|fim_middle|>": 3, "<|fim_pad|>": 4, "<|file_sep|>": 5,
           "<|repo_name|>": 6, "<|endoftext|>": 7}


def tokenize(text: str, special: bool) -> list[int]:
    out, i = [], 0
    while i < len(text):
        for s, tid in SPECIAL.items():
            if special and text.startswith(s, i):
                out.append(tid)
                i += len(s)
                break
        else:
            out.append(1000 + ord(text[i]))
            i += 1
    return out


class FakeEngine:
    """Serves on 127.0.0.1 (a free port) until `close`. `mode` (settable at any time):
    "ok" (streams `answer` one character per event, then a stop), "truncated" (the stream ends
    without a stop), "malformed" (an event that is not JSON), "500" (completions fail with HTTP
    500), "slow" (each event after `delay_s`). `key`: the API key it requires ("" none).
    `requests` records every request body (path, body)."""

    def __init__(self, *, mode: str = "ok", answer: str = "hello_world", key: str = "", fim: bool = True,
                 delay_s: float = 0.0, port: int = 0) -> None:
        self.mode, self.answer, self.key, self.fim, self.delay_s = mode, answer, key, fim, delay_s
        self.requests: list[tuple[str, dict]] = []
        self.disconnects = 0  # streams the client closed before their end
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in separate writes

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fake._handle(self, json.loads(self.rfile.read(length) or b"{}"))

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- answers ----------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, body: dict | None) -> None:
        path = h.path
        self.requests.append((path, body or {}))
        if self.key and path not in ("/health", "/v1/models") and h.headers.get("Authorization") != f"Bearer {self.key}":
            return _json(h, 401, {"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}})
        if path == "/health":
            return _json(h, 200, {"status": "ok"})
        if path == "/props":
            return _json(h, 200, {"model_path": "/models/fake-coder.gguf", "default_generation_settings": {"n_ctx": 4096},
                                  "total_slots": 1, "bos_token": ""})
        if path == "/v1/models":
            return _json(h, 200, {"object": "list", "data": [{"id": "fake-coder", "object": "model"}]})
        if path == "/tokenize":
            text = body.get("content", "")
            special = bool(body.get("parse_special")) and self.fim
            return _json(h, 200, {"tokens": tokenize(text, special)})
        if path in ("/completion", "/v1/completions", "/v1/chat/completions"):
            if self.mode == "500":
                return _json(h, 500, {"error": {"code": 500, "message": "the fake failed"}})
            return self._stream(h, path, body or {})
        _json(h, 404, {"error": {"code": 404, "message": "File Not Found"}})

    def _stream(self, h: BaseHTTPRequestHandler, path: str, body: dict) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        limit = body.get("n_predict", body.get("max_tokens", 128))
        text = self.answer[: max(0, limit)]
        try:
            for i, ch in enumerate(text):
                if self.delay_s or self.mode == "slow":
                    time.sleep(self.delay_s or 0.05)
                if self.mode == "malformed" and i == 2:
                    h.wfile.write(b"data: {not json\n\n")
                    h.wfile.flush()
                    return
                if self.mode == "truncated" and i == 2:
                    return
                h.wfile.write(_event(path, ch, [1000 + ord(ch)], False))
                h.wfile.flush()
            h.wfile.write(_event(path, "", [], True, "limit" if len(text) >= limit else "eos"))
            if path != "/completion":
                h.wfile.write(b"data: [DONE]\n\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.disconnects += 1
        h.close_connection = True


def _event(path: str, text: str, tokens: list[int], stop: bool, stop_type: str = "") -> bytes:
    if path == "/completion":
        data = {"content": text, "tokens": tokens, "stop": stop}
        if stop:
            data.update(stop_type=stop_type, timings={"prompt_n": 10, "prompt_ms": 5.0, "predicted_n": 3,
                                                      "predicted_ms": 3.0, "cache_n": 0})
    elif path == "/v1/completions":
        data = {"choices": [{"text": text, "index": 0,
                             "finish_reason": ("length" if stop_type == "limit" else "stop") if stop else None}]}
    else:
        data = {"choices": [{"delta": {"content": text} if text else {}, "index": 0,
                             "finish_reason": "stop" if stop else None}]}
    return f"data: {json.dumps(data)}\n\n".encode()


def _json(h: BaseHTTPRequestHandler, status: int, data: dict) -> None:
    raw = json.dumps(data).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(raw)))
    h.send_header("Connection", "close")  # one request per connection: `close` leaves none open
    h.end_headers()
    h.wfile.write(raw)
    h.close_connection = True
