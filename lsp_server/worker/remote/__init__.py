"""A remote engine: llama-server or an OpenAI-compatible server (vLLM, LM Studio, Ollama, ...)
in place of the embedded llama.cpp model, with the same surface as `worker.engine.Engine`.

The pipeline (prompt choice, budget, stop checks on the stream, truncation, retries), the
scheduler, cancellation and the whole server side stay the same on every backend: this façade
takes the prompt as token ids and yields text pieces, as `Engine` does. Its parts:

    http      the connection: key, TLS, timeouts, errors, cancellable event streams
    dialects  the request bodies and streamed chunks of llama-server and the OpenAI API
    tokens    the tokenizer: a local vocabulary of the same GGUF, or the engine's /tokenize

What cannot exist remotely degrades, as follows:
- KV spares (`warm`/`held`/`adopt`): the engine has one cache per slot. `warm` asks the engine to
  compute a prompt without generating (llama-server `n_predict: 0`; OpenAI: one token), which
  replaces what the slot held; `adopt` never swaps; `held` and `uncached` are estimated from the
  last prompt sent (llama-server's `cache_prompt` reuses the longest common prefix, as ours does).
- Moved KV entries (`reuse_shifted`): never; `needs_refresh` is False. So a keystroke computes the
  whole suffix window again: with the latency budget on, that window is sized to what the engine's
  measured prompt speed affords (`worker.prompts.shiftless_suffix_tokens`: all of it on a GPU,
  the next few lines on a CPU).
- `lead` (the text starts with exactly the indentation the code leaves): its whitespace tokens are
  appended to the prompt (as the embedded engine forces them); the last step, that the next token
  is code, is not enforced (it needs the logits of every token).
- `avoid_first` (a retry's barred first tokens): one token is asked for with them barred by
  `logit_bias`, then the rest after it (the slot's cache makes the second request cheap).
- The small first window of a cold prompt (`worker.prompts.choose_prompt`): never. Its full
  window would be grown while idle into the one slot, replacing the small one the user is typing
  in, so that every keystroke computed its prompt again (measured: 4.6 s a keystroke against
  1.2 s embedded on 2 cores). The first request computes the full window.
- Timeouts: `backendTimeoutMs` bounds the connection and the wait between two pieces; the wait
  for the first piece also gets the prompt's predicted time (`prompt_wait_s`).
Not thread-safe: only the worker's engine thread may call it, as `Engine`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from lsp_server.worker.engine.layout import common_prefix
from lsp_server.worker.engine.sampling import split_lead
from lsp_server.worker.engine.stats import EvalStats, Rates
from lsp_server.worker.engine.vocab import ModelInfo
from lsp_server.worker.remote.dialects import (
    CHAT_PATH, COMPLETION_PATH, DIALECTS, LLAMA_SERVER, Chunk, chat_body, completion_body, read_chunk,
)
from lsp_server.worker.remote.http import Connection, Failed, Malformed, Refused, RemoteError, Unreachable, read_key
from lsp_server.worker.remote.tokens import LocalVocabulary, ServerTokenizer, find_roles

PROMPT_TPS_FLOOR = 20.0  # prompt tokens a second: slower than the 1.5B on 2 CPU cores (about 60)
CHARS_PER_TOKEN = 3  # a chat prompt's length in tokens, estimated from its text (not tokenized here)

__all__ = ["Failed", "Malformed", "Refused", "RemoteEngine", "RemoteError", "Unreachable", "open_remote"]

Cancelled = Callable[[], bool]


class RemoteEngine:
    """The model served at `url` in `dialect` ("llama-server" or "openai"). `model`: the model
    name sent to an OpenAI-compatible server ("": its first). `vocab_path`: a local GGUF of the
    same model to tokenize with ("": the engine's /tokenize). Raises RemoteError when the engine
    cannot be used."""

    def __init__(self, url: str, dialect: str, *, model: str = "", key: str | None = None, ca_bundle: str = "",
                 timeout_s: float = 10.0, vocab_path: str = "", n_ctx: int = 4096) -> None:
        if dialect not in DIALECTS:
            raise RemoteError(f"unknown backend {dialect!r}; known: embedded, {', '.join(DIALECTS)}")
        if not url:
            raise RemoteError(f"backend {dialect} needs backendUrl (e.g. http://gpu-box:8012)")
        self.dialect, self.url = dialect, url
        self.conn = Connection(url, key=key, ca_bundle=ca_bundle, timeout_s=timeout_s)
        self.rates = Rates()
        self._last: list[int] = []  # what the engine's cache holds for us, as far as we know
        self.local: LocalVocabulary | None = None
        try:
            self.model, served = self._describe(model)
            if vocab_path:
                self.local = LocalVocabulary(vocab_path)
                self._tokenize = self.local.tokenize
                info = self.local.vocab.info(url, served.get("n_ctx") or n_ctx)
                info.name = self.model or info.name
            else:
                server = ServerTokenizer(self.conn.post, self.model if dialect != LLAMA_SERVER else "")
                self._tokenize = server.tokenize
                info = ModelInfo(path=url, name=self.model or url, architecture="", n_ctx=served.get("n_ctx") or n_ctx,
                                 n_ctx_train=served.get("n_ctx_train", 0), n_vocab=served.get("n_vocab", 0),
                                 roles=find_roles(server.tokenize), metadata={"general.name": self.model},
                                 has_chat_template=True)
        except Exception:
            self.close()
            raise
        info.metadata["backend"] = dialect
        self.info = info
        self.bos = self._bos(served.get("bos_token", ""))

    def _describe(self, model: str) -> tuple[str, dict]:
        """(the model's name, what the engine says of it: n_ctx, n_ctx_train, n_vocab, bos_token)."""
        if self.dialect == LLAMA_SERVER:
            self.conn.get("/health")
            props = self.conn.get("/props")
            settings = props.get("default_generation_settings") or {}
            path = str(props.get("model_path") or props.get("model_alias") or "")
            return model or path.rsplit("/", 1)[-1], {"n_ctx": settings.get("n_ctx") or props.get("n_ctx"),
                                                       "bos_token": props.get("bos_token") or ""}
        listed = self.conn.get("/v1/models").get("data") or []
        ids = [m.get("id") for m in listed if isinstance(m, dict)]
        if model and model not in ids:
            raise Refused(f"{self.url} does not serve the model {model!r} (backendModel); it serves: {', '.join(ids) or 'none'}")
        if not ids:
            raise Refused(f"{self.url} serves no model (/v1/models is empty)")
        chosen = model or ids[0]
        meta = next((m.get("meta") or {} for m in listed if m.get("id") == chosen), {})
        return chosen, {"n_ctx": meta.get("n_ctx") or next((m.get("max_model_len") for m in listed
                                                             if m.get("id") == chosen), None),
                        "n_ctx_train": meta.get("n_ctx_train", 0), "n_vocab": meta.get("n_vocab", 0)}

    def _bos(self, text: str) -> int:
        if self.local is not None:
            return self.local.vocab.bos
        ids = self._tokenize(text, True) if text else []
        return ids[0] if len(ids) == 1 else -1

    def close(self) -> None:
        if self.local is not None:
            self.local.close()
        self.conn.close()

    def health(self) -> None:
        """Raises RemoteError unless the engine answers (`/health` of llama-server, else `/v1/models`)."""
        self.conn.get("/health" if self.dialect == LLAMA_SERVER else "/v1/models")

    # -- tokens -----------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """The user's text as tokens; special-token texts in it stay plain text (no injection)."""
        return self._tokenize(text, False)

    def tokenize_special(self, text: str) -> list[int]:
        """A prompt template's text as tokens: special-token texts in it become those tokens."""
        return self._tokenize(text, True)

    # -- the engine's cache: one slot, estimated from what we sent ---------------------------------
    def uncached(self, tokens: list[int]) -> int:
        return len(tokens) - self.held(tokens)

    def held(self, tokens: list[int]) -> int:
        return common_prefix(self._last, tokens)

    def adopt(self, tokens: list[int]) -> bool:
        return False  # no spares remotely

    def warm(self, tokens: list[int], cancelled: Cancelled) -> tuple[int, bool]:
        """Have the engine compute `tokens` without generating (into this client's slot)."""
        computed = self.uncached(tokens)
        stats = EvalStats()
        for _ in self._stream(tokens, 0 if self.dialect == LLAMA_SERVER else 1, cancelled, stats):
            pass
        finished = stats.stop_reason != "cancelled"
        if finished:
            self._last = list(tokens)
        return (stats.evaluated_tokens or computed) if finished else 0, finished

    needs_refresh = False
    can_shift = False
    has_spares = False  # one cache per slot: no small first window grown in a spare (`choose_prompt`)

    def prompt_wait_s(self, tokens: int) -> float:
        """How long the engine may take to compute `tokens` prompt tokens before it sends anything:
        at the prompt speed seen so far, never assumed faster than PROMPT_TPS_FLOOR (an unknown
        engine may be a CPU)."""
        tps = max(self.rates.prompt_tps, PROMPT_TPS_FLOOR)
        return tokens / tps

    def refresh(self, cancelled: Cancelled) -> int:
        return 0

    def reset(self) -> None:
        self._last = []

    def prepare_lead(self) -> None:
        """Nothing to build: the lead's table needs every token's logit, which a remote engine does not send."""

    # -- generation -------------------------------------------------------------------------------
    def generate(self, prompt: list[int], *, max_tokens: int, cancelled: Cancelled,
                 stop_tokens: frozenset[int] = frozenset(), stats: EvalStats | None = None, lead: str | None = None,
                 avoid_first: frozenset[int] = frozenset()) -> Iterator[str]:
        """Greedy generation after `prompt`, streamed: as `Engine.generate` (see the module's
        docstring for what `lead` and `avoid_first` do here)."""
        stats = stats if stats is not None else EvalStats()
        prompt = list(prompt)
        if lead is not None:
            head, _ = split_lead(lead)
            forced = self.tokenize(head)
            if forced:
                prompt += forced
                stats.generated_tokens += len(forced)
                yield head
        if avoid_first and max_tokens > stats.generated_tokens:
            first = EvalStats()
            pieces = list(self._stream(prompt, 1, cancelled, first, stop_tokens, avoid_first))
            _merge(stats, first)
            if first.stop_reason not in ("max_tokens", "") or first.first_token is None:
                stats.stop_reason = first.stop_reason or "eos"
                yield from pieces
                return
            prompt.append(first.first_token)
            yield from pieces
        yield from self._stream(prompt, max_tokens - stats.generated_tokens, cancelled, stats, stop_tokens)

    def _stream(self, prompt: list[int], max_tokens: int, cancelled: Cancelled, stats: EvalStats,
                stop_tokens: frozenset[int] = frozenset(), avoid: frozenset[int] = frozenset()) -> Iterator[str]:
        """One streamed completion; fills `stats` (the engine's timings when it gives them, else
        the times seen here) and sets its stop reason."""
        stats.prompt_tokens = len(prompt)
        body = completion_body(self.dialect, prompt, max_tokens=max_tokens, model=self.model, avoid=avoid)
        t0 = time.perf_counter()
        first_at: float | None = None
        generated: list[int] = []
        last = Chunk()
        computed = self.uncached(prompt)
        try:
            for data in self.conn.stream(COMPLETION_PATH[self.dialect], body, cancelled,
                                         wait_s=self.prompt_wait_s(computed)):
                chunk = read_chunk(self.dialect, data)
                if chunk.timings:
                    last.timings = chunk.timings
                if first_at is None and (chunk.text or chunk.tokens):
                    first_at = time.perf_counter()
                if any(t in stop_tokens for t in chunk.tokens):
                    stats.stop_reason = "eos"
                    return
                if chunk.text or chunk.tokens:
                    n = len(chunk.tokens) or 1
                    if stats.first_token is None:
                        stats.first_token = chunk.tokens[0] if chunk.tokens else _first_id(self.tokenize(chunk.text))
                    generated += chunk.tokens
                    stats.generated_tokens += n
                    if chunk.text:
                        yield chunk.text
                if chunk.stop_reason:
                    last.stop_reason = chunk.stop_reason
            if cancelled():
                stats.stop_reason = "cancelled"
            elif not last.stop_reason and max_tokens > 0:
                raise Malformed(f"{self.url} ended the stream before saying why it stopped (a truncated stream)")
            else:
                stats.stop_reason = last.stop_reason or "max_tokens"
        except ValueError as exc:  # a chunk of the wrong shape
            raise Malformed(f"{self.url}: {exc}") from None
        finally:
            end = time.perf_counter()
            _timings(stats, last.timings, t0, first_at, end, len(prompt), computed)
            # llama-server keeps what it computed of a prompt, and the tokens it generated
            self._last = prompt + generated if first_at is not None else prompt[: common_prefix(self._last, prompt)]

    def chat(self, messages: list[dict], continuation: str, *, max_tokens: int, cancelled: Cancelled,
             stats: EvalStats) -> Iterator[str]:
        """The engine's chat answer to `messages` ({"role", "content"}), streamed from its chat
        endpoint, continuing `continuation` (the answer so far) when given."""
        if continuation:
            messages = [*messages, {"role": "assistant", "content": continuation}]
        body = chat_body(self.dialect, messages, max_tokens=max_tokens, model=self.model)
        t0, first_at = time.perf_counter(), None
        try:
            chars = sum(len(str(m.get("content", ""))) for m in messages)
            for data in self.conn.stream(CHAT_PATH, body, cancelled, wait_s=self.prompt_wait_s(chars // CHARS_PER_TOKEN)):
                chunk = read_chunk(self.dialect, data, chat=True)
                if chunk.text:
                    first_at = first_at or time.perf_counter()
                    stats.generated_tokens += 1
                    yield chunk.text
                if chunk.stop_reason:
                    stats.stop_reason = chunk.stop_reason
        except ValueError as exc:
            raise Malformed(f"{self.url}: {exc}") from None
        finally:
            _timings(stats, {}, t0, first_at, time.perf_counter())
        if cancelled():
            stats.stop_reason = "cancelled"


def _first_id(ids: list[int]) -> int | None:
    return ids[0] if ids else None


def _merge(total: EvalStats, part: EvalStats) -> None:
    for name in ("prompt_tokens", "reused_tokens", "evaluated_tokens", "generated_tokens", "prompt_ms", "generate_ms"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.first_token = part.first_token if total.first_token is None else total.first_token


def _timings(stats: EvalStats, timings: dict, t0: float, first_at: float | None, end: float,
             prompt_tokens: int = 0, computed: int = 0) -> None:
    """The engine's own timings (llama-server: prompt_n/prompt_ms/predicted_ms/cache_n) when given,
    else the times seen here: until the first piece (prompt), after it (generation), and the
    prompt tokens the slot's cache was expected to lack (`computed` of `prompt_tokens`: its common
    prefix with what was sent before). A stream closed early by the stop check or a cancel never
    gets the engine's timings; without that estimate the engine's prompt speed, which sizes the
    suffix window (`worker.prompts.shiftless_suffix_tokens`), would never be measured."""
    if timings.get("prompt_ms") is not None:
        stats.evaluated_tokens += int(timings.get("prompt_n", 0))
        stats.reused_tokens += int(timings.get("cache_n", 0))
        stats.prompt_ms += float(timings.get("prompt_ms", 0.0))
        stats.generate_ms += float(timings.get("predicted_ms", 0.0))
        return
    stats.prompt_ms += ((first_at or end) - t0) * 1000
    stats.generate_ms += (end - first_at) * 1000 if first_at is not None else 0.0
    if first_at is not None:  # the prompt was computed
        stats.evaluated_tokens += computed
        stats.reused_tokens += prompt_tokens - computed


def open_remote(backend: str, url: str, *, model: str = "", api_key_env: str = "", api_key_file: str = "",
                ca_bundle: str = "", timeout_ms: int = 10000, vocab_path: str = "", n_ctx: int = 4096) -> RemoteEngine:
    """The remote engine a `Load` command names (the key read here, from its variable or file)."""
    key = read_key(api_key_env, api_key_file)
    return RemoteEngine(url, backend, model=model, key=key, ca_bundle=ca_bundle, timeout_s=timeout_ms / 1000,
                        vocab_path=vocab_path, n_ctx=n_ctx)
