"""The two HTTP dialects a remote engine speaks: llama-server's own and the OpenAI-compatible one.

Owns, as pure functions, the request bodies (a completion on prompt token ids, a chat, a warm-up)
and the reading of one streamed chunk into a `Chunk` (text, token ids when the engine gives them,
why it stopped, the engine's own timings). Must not do I/O, hold state or know about prompts.

llama-server (`/completion`): `prompt` is a list of token ids (the same ids the embedded engine
computes), `cache_prompt: true` keeps the slot's KV cache, `id_slot` pins the client to one slot,
`return_tokens` streams the ids (for the stop tokens and the first token of a retry); it streams
`{"content", "tokens", "stop", "stop_type", "timings"}`.
OpenAI-compatible (`/v1/completions`, vLLM, llama-server's `/v1`): `prompt` is a list of ints too
(vLLM and llama-server accept token ids; no `suffix`: the FIM prompt is already rendered); it streams
`{"choices": [{"text", "finish_reason"}]}` and no token ids.
Both chat on `/v1/chat/completions` (`{"choices": [{"delta": {"content"}}]}`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LLAMA_SERVER, OPENAI = "llama-server", "openai"
DIALECTS = (LLAMA_SERVER, OPENAI)

COMPLETION_PATH = {LLAMA_SERVER: "/completion", OPENAI: "/v1/completions"}
CHAT_PATH = "/v1/chat/completions"

# llama-server's stop_type / OpenAI's finish_reason -> EvalStats.stop_reason
_STOP_REASONS = {"eos": "eos", "word": "eos", "stop": "eos", "limit": "max_tokens", "length": "max_tokens"}


@dataclass
class Chunk:
    """One streamed event, read."""

    text: str = ""
    tokens: list[int] = field(default_factory=list)  # the ids of `text`, when the engine says
    stop_reason: str = ""  # "" while it goes on
    timings: dict = field(default_factory=dict)  # llama-server's: prompt_n, prompt_ms, predicted_n, predicted_ms, cache_n


def completion_body(dialect: str, prompt: list[int], *, max_tokens: int, model: str = "", slot: int | None = None,
                    avoid: frozenset[int] = frozenset(), stream: bool = True) -> dict:
    """A greedy completion of `prompt` (token ids). `avoid`: tokens barred (the first token of a
    retry: the caller asks for one token with them barred, then goes on without). `slot`: the
    llama-server slot of this client (None: any)."""
    if dialect == LLAMA_SERVER:
        body = {"prompt": prompt, "n_predict": max_tokens, "stream": stream, "cache_prompt": True,
                "temperature": 0.0, "top_k": 1, "samplers": ["top_k"], "return_tokens": True, "timings_per_token": False}
        if slot is not None:
            body["id_slot"] = slot
        if avoid:
            body["logit_bias"] = [[t, False] for t in sorted(avoid)]
        return body
    body = {"prompt": prompt, "max_tokens": max_tokens, "stream": stream, "temperature": 0.0}
    if model:
        body["model"] = model
    if avoid:
        body["logit_bias"] = {str(t): -100 for t in sorted(avoid)}
    return body


def chat_body(dialect: str, messages: list[dict], *, max_tokens: int, model: str = "", slot: int | None = None) -> dict:
    """A greedy chat answer, streamed. A last message of role "assistant" is continued (the part of
    an answer written before a completion preempted it): llama-server continues it by itself, vLLM
    needs `continue_final_message`."""
    body: dict = {"messages": messages, "max_tokens": max_tokens, "stream": True, "temperature": 0.0}
    if model:
        body["model"] = model
    if dialect == LLAMA_SERVER:
        body["cache_prompt"] = True
        if slot is not None:
            body["id_slot"] = slot
    elif messages and messages[-1]["role"] == "assistant":
        body.update(continue_final_message=True, add_generation_prompt=False)
    return body


def read_chunk(dialect: str, data: dict, *, chat: bool = False) -> Chunk:
    """One streamed JSON object -> Chunk. Raises ValueError on a shape neither dialect sends (a
    malformed stream), or on an error object inside the stream."""
    if not isinstance(data, dict):
        raise ValueError(f"a stream event is not an object but {type(data).__name__}")
    if "error" in data:
        err = data["error"]
        raise ValueError(f"the engine reported an error: {err.get('message', err) if isinstance(err, dict) else err}")
    if chat or dialect == OPENAI:
        choices = data.get("choices")
        if not isinstance(choices, list):
            raise ValueError("a stream event without 'choices'")
        if not choices:  # a usage-only event
            return Chunk(timings=_timings(data))
        choice = choices[0]
        text = (choice.get("delta") or {}).get("content") if chat else choice.get("text")
        if text is not None and not isinstance(text, str):
            raise ValueError("a stream event whose text is not a string")
        reason = choice.get("finish_reason") or ""
        return Chunk(text=text or "", stop_reason=_STOP_REASONS.get(reason, reason and "eos"), timings=_timings(data))
    text = data.get("content", "")
    tokens = data.get("tokens", [])
    if not isinstance(text, str) or not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
        raise ValueError("a stream event whose 'content' or 'tokens' has the wrong type")
    reason = ""
    if data.get("stop"):
        reason = _STOP_REASONS.get(data.get("stop_type", ""), "eos")
    return Chunk(text=text, tokens=tokens, stop_reason=reason, timings=_timings(data))


def _timings(data: dict) -> dict:
    timings = data.get("timings")
    return timings if isinstance(timings, dict) else {}
