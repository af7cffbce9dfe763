"""Every message between the language server and the model worker, as a class, and their one converter.

Owns the wire: JSON lines, one object per line. Commands go from the server to the worker and are
tagged by "op"; events go back and are tagged by "event". `encode` writes a message, and
`parse_command` / `parse_event` read a line into exactly one known message or raise ProtocolError:
not JSON, not an object, an unknown tag, a missing field, a key the class does not have, a value
of the wrong type (no coercion: "3" is not an int). The error carries the line's "id" when it is a
string, so that the reader can answer or fail that request instead of dropping it.
Both processes import this module; it imports neither of them, and does no I/O.

A job is a `complete` or `chat` command with an id chosen by the server; the worker answers it
with exactly one of `done`, `error` or `cancelled` for that id (a completion may send one
`partial` before; a chat with `stream` sends `chat_text` events before). A `load` (no id: one at a time) is answered by `loaded` or `load_failed`.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import cattrs
from cattrs.strategies import configure_tagged_union

from lsp_server.syntax.gating import Gate

# The stats and the model's info stay dicts in the events below: they are diagnostics with an open
# set of keys (EvalStats.as_dict plus what the pipeline and the scheduler add: token_budget,
# retries, followed, partial, queued, ...; ModelInfo's fields plus template and fim_ok), which
# the server only passes on (status command, logs, benchmarks) or reads a key or two of.
Stats = dict[str, Any]


# -- the payloads ------------------------------------------------------------------------------------
@attrs.frozen
class ContextFile:
    """A piece of another file of the workspace put before the FIM part of the prompt."""

    path: str  # relative to the workspace folder
    text: str


@attrs.frozen
class CompletionRequest:
    """A completion at a cursor, as the worker's pipeline takes it (`pipeline.run_completion`)."""

    prefix: str
    suffix: str
    path: str = ""  # for the prompt's file header
    language: str | None = None
    gate: Gate | None = None  # the gating's decision (how much to complete); None: no gating (raw output)
    max_tokens: int = 128
    latency_target_ms: int = 0  # 0: no budget; else generation is limited by it (see pipeline.generation_budget)
    prefix_tokens: int = 1024
    suffix_tokens: int = 256
    truncate: bool = True  # False: return the raw text (benchmarks compare modes on it)
    partial_after_ms: int = 0  # 0: answer when done; else see run_completion's `on_partial`
    context: tuple[ContextFile, ...] = ()  # cross-file context, in prompt order (the workspace index)
    repo: str = ""  # the workspace folder's name, for the repository-level prompt form


@attrs.frozen
class CompletionResult:
    text: str  # what the editor shows
    raw: str  # what the model wrote (diagnostics, benchmarks)
    stats: Stats = attrs.Factory(dict)


@attrs.frozen
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@attrs.frozen
class ChatResult:
    text: str
    stats: Stats = attrs.Factory(dict)


# -- commands (server -> worker, tagged "op") ---------------------------------------------------------
@attrs.frozen
class Load:
    """Load a model (replacing the loaded one): a GGUF file at `path`, or else a bundled model
    (`lsp_server.bundled.BUNDLED` key), assembled first if needed. Answered by `loaded` or
    `load_failed`, with `progress` events before."""

    path: str | None = None
    bundled: str | None = None
    n_ctx: int = 4096
    threads: int = 0  # 0: llama.cpp's choice
    template: str = ""  # FIM template name; "": chosen from the model's metadata
    reuse_shifted: bool = True
    prompts_dir: str = ""  # the promptsDir setting: the user's FIM templates, before the shipped ones
    # "embedded" (llama.cpp in the worker), or a remote engine: "llama-server" or "openai" at `url`,
    # with `path` (if any) a local GGUF of the same model to tokenize with. The API key never
    # travels here: the worker reads it from the variable or file named.
    backend: str = "embedded"
    url: str = ""
    remote_model: str = ""
    api_key_env: str = ""
    api_key_file: str = ""
    ca_bundle: str = ""
    timeout_ms: int = 10000


@attrs.frozen
class Complete:
    id: str
    request: CompletionRequest


@attrs.frozen
class Chat:
    id: str
    messages: list[ChatMessage]
    max_tokens: int = 512
    stream: bool = False  # send the text so far as `chat_text` events while generating


@attrs.frozen
class Follow:
    """The job's request is gone because the user typed `typed` at its cursor: it goes on while
    its output agrees with that (one is a prefix of the other) and stops, as cancelled, as soon as
    it does not."""

    id: str
    typed: str


@attrs.frozen
class Cancel:
    """Stop the job (between tokens, or before it starts): answered by `cancelled`."""

    id: str


@attrs.frozen
class Prefill:
    """A request is expected at `request`'s cursor (the editor showed the user that place): compute
    its prompt while the worker is idle, beside the prompt in use (a newer prefill replaces this
    one). Answered by `warmed` events only."""

    request: CompletionRequest


@attrs.frozen
class Shutdown:
    """Stop taking jobs and exit."""


# -- events (worker -> server, tagged "event") ---------------------------------------------------------
@attrs.frozen
class Progress:
    """A load's stage ("assemble", "load") with `done` of `total`; or "preempted": the chat job
    `id` yielded to a completion after `done` of its `total` tokens, and resumes after it."""

    stage: str
    done: int
    total: int
    id: str | None = None


@attrs.frozen
class Loaded:
    info: Stats  # ModelInfo's fields (name, architecture, n_ctx, roles, ...), template, fim_ok


@attrs.frozen
class LoadFailed:
    message: str  # for the user: what is wrong and what to do
    retry: bool = False  # the cause may pass (a remote engine that does not answer yet): load again later


@attrs.frozen
class Partial:
    """A completion's early answer (its request's `partial_after_ms` passed): the job goes on as
    if followed with nothing typed yet, and ends with `done` or `cancelled` as any other."""

    id: str
    result: CompletionResult


@attrs.frozen
class ChatText:
    """A streamed chat's text so far (its first piece at once, then at most one every
    `STREAM_INTERVAL_S`); the job goes on and ends with `done`, `error` or `cancelled` as any other."""

    id: str
    text: str


STREAM_INTERVAL_S = 0.1


@attrs.frozen
class Done:
    id: str
    result: CompletionResult | ChatResult  # as the job's command: told apart by CompletionResult's `raw`


@attrs.frozen
class Error:
    """The job `id` failed; or, with `id` null, a command that could not be read and carried no
    usable id (the server logs it)."""

    id: str | None
    message: str


@attrs.frozen
class Cancelled:
    id: str
    stats: Stats
    raw: str = ""  # what a completion had generated when the typing turned away from it (diagnostics)


@attrs.frozen
class Refreshed:
    """Idle work done: the KV entries the last completion moved were recomputed (`complete`: all
    of them; else a new job interrupted it)."""

    complete: bool
    stats: Stats


@attrs.frozen
class Warmed:
    """Idle work done: a prompt expected next (a prefill, or the full window of a request answered
    from the small one) was computed ahead (`complete`: all of it; else a job interrupted it)."""

    complete: bool
    stats: Stats


@attrs.frozen
class Health:
    """A remote engine failed (`ok` false: down, refused, or answered what cannot be read; `message`
    says what, for the user) or works again after a failure (`ok` true). Jobs meanwhile end with
    `error`; the worker polls a down engine and says when it is back."""

    ok: bool
    message: str


COMMANDS: dict[str, type] = {"load": Load, "complete": Complete, "chat": Chat, "follow": Follow, "cancel": Cancel,
                             "prefill": Prefill, "shutdown": Shutdown}
EVENTS: dict[str, type] = {"progress": Progress, "loaded": Loaded, "load_failed": LoadFailed, "partial": Partial,
                           "done": Done, "error": Error, "cancelled": Cancelled, "refreshed": Refreshed,
                           "warmed": Warmed, "health": Health, "chat_text": ChatText}
Command = Load | Complete | Chat | Follow | Cancel | Prefill | Shutdown
Event = Progress | Loaded | LoadFailed | Partial | Done | Error | Cancelled | Refreshed | Warmed | Health | ChatText
_TAGS = {cls: tag for table in (COMMANDS, EVENTS) for tag, cls in table.items()}


class ProtocolError(Exception):
    """A line that is not exactly one known message. `id`: the line's "id" if it is a string;
    `tag`: its "op" or "event" if that is a string."""

    def __init__(self, message: str, id: str | None = None, tag: str | None = None) -> None:
        super().__init__(message)
        self.id, self.tag = id, tag


def _exactly(kind: type):
    """A structure hook that takes only values of `kind` as they are (cattrs would coerce)."""

    def structure(value: Any, _: type) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return structure


converter = cattrs.Converter(forbid_extra_keys=True)
for _kind in (str, int, bool):
    converter.register_structure_hook(_kind, _exactly(_kind))
configure_tagged_union(Command, converter, tag_name="op", tag_generator=_TAGS.__getitem__)
configure_tagged_union(Event, converter, tag_name="event", tag_generator=_TAGS.__getitem__)


def encode(message: Command | Event) -> str:
    """One message as one line of JSON (without the newline; ASCII only, so no character of the
    text, a lone surrogate included, can break the line)."""
    union, tag = (Command, "op") if type(message) in COMMANDS.values() else (Event, "event")
    data = converter.unstructure(message, unstructure_as=union)
    return json.dumps({tag: data.pop(tag), **data}, ensure_ascii=True)  # the tag first: easier to read in a log


def parse_command(line: str | bytes) -> Command:
    return _parse(line, "op", COMMANDS, Command)


def parse_event(line: str | bytes) -> Event:
    return _parse(line, "event", EVENTS, Event)


def _parse(line: str | bytes, tag_name: str, table: dict[str, type], union: Any) -> Any:
    try:
        obj = json.loads(line)
    except ValueError as exc:  # UnicodeDecodeError included
        raise ProtocolError(f"not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"not a JSON object but {type(obj).__name__}")
    msg_id = obj["id"] if isinstance(obj.get("id"), str) else None
    tag = obj.get(tag_name)
    if not isinstance(tag, str) or tag not in table:
        raise ProtocolError(f"unknown {tag_name} {tag!r}", msg_id, tag if isinstance(tag, str) else None)
    try:
        return converter.structure(obj, union)
    except cattrs.BaseValidationError as exc:
        raise ProtocolError(f"{tag!r}: {'; '.join(cattrs.transform_error(exc))}", msg_id, tag) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a shape cattrs does not wrap
        raise ProtocolError(f"{tag!r}: {type(exc).__name__}: {exc}", msg_id, tag) from None
