"""The worker protocol: every message survives a round trip over the wire, and every malformed
line is an error that the worker answers (for the line's id when it has a usable one) and goes on.

The worker's side is driven through `Worker.read_commands` with no engine: reading a command
needs none. The client's side of bad events is in test_worker_client.py; the real worker process
is in tests/e2e/test_worker_protocol.py.
"""

from __future__ import annotations

import io
import json

import pytest

from lsp_server.syntax.gating import Gate
from lsp_server.worker.scheduler import Worker
from lsp_server.worker_protocol import (
    COMMANDS, EVENTS, Cancel, Cancelled, Chat, ChatMessage, ChatResult, ChatText, Complete, CompletionRequest, CompletionResult,
    Done, Error, Follow, Health, Load, Loaded, LoadFailed, Partial, Progress, ProtocolError, Refreshed, Shutdown, encode, Prefill, Warmed,
    parse_command, parse_event,
)

GATE = Gate(True, "block", 24, "empty line", indent="    ")
REQUEST = CompletionRequest(prefix="def f():\n", suffix="\n", path="a/b.py", language="python", gate=GATE,
                            max_tokens=64, latency_target_ms=500, partial_after_ms=300)
RESULT = CompletionResult(text="return 1", raw="return 1\n\n", stats={"generated_tokens": 4, "stop_reason": "eos"})

# (message, its line on the wire)
COMMAND_LINES = [
    (Load(path="/m/x.gguf", n_ctx=2048), {"op": "load", "path": "/m/x.gguf", "bundled": None, "n_ctx": 2048, "threads": 0,
                                          "template": "", "reuse_shifted": True, "prompts_dir": "", "backend": "embedded", "url": "", "remote_model": "", "api_key_env": "",
      "api_key_file": "", "ca_bundle": "", "timeout_ms": 10000}),
    (Load(bundled="small", threads=4, template="qwen25coder", reuse_shifted=False, prompts_dir="/p"),
     {"op": "load", "path": None, "bundled": "small", "n_ctx": 4096, "threads": 4, "template": "qwen25coder",
      "reuse_shifted": False, "prompts_dir": "/p", "backend": "embedded", "url": "", "remote_model": "", "api_key_env": "",
      "api_key_file": "", "ca_bundle": "", "timeout_ms": 10000}),
    (Load(path="/m/x.gguf", backend="llama-server", url="http://gpu:8012", api_key_env="TEAM_KEY", timeout_ms=3000),
     {"op": "load", "path": "/m/x.gguf", "bundled": None, "n_ctx": 4096, "threads": 0, "template": "", "reuse_shifted": True,
      "prompts_dir": "", "backend": "llama-server", "url": "http://gpu:8012", "remote_model": "", "api_key_env": "TEAM_KEY",
      "api_key_file": "", "ca_bundle": "", "timeout_ms": 3000}),
    (Complete(id="complete-1", request=REQUEST),
     {"op": "complete", "id": "complete-1", "request": {
         "prefix": "def f():\n", "suffix": "\n", "path": "a/b.py", "language": "python",
         "gate": {"complete": True, "scope": "block", "max_lines": 24, "reason": "empty line", "indent": "    "},
         "max_tokens": 64, "latency_target_ms": 500, "prefix_tokens": 1024, "suffix_tokens": 256, "truncate": True,
         "partial_after_ms": 300, "context": [], "repo": ""}}),
    (Complete(id="c", request=CompletionRequest(prefix="\ud800é", suffix="")),  # a lone surrogate travels escaped
     {"op": "complete", "id": "c", "request": {
         "prefix": "\ud800é", "suffix": "", "path": "", "language": None, "gate": None, "max_tokens": 128,
         "latency_target_ms": 0, "prefix_tokens": 1024, "suffix_tokens": 256, "truncate": True, "partial_after_ms": 0, "context": [], "repo": ""}}),
    (Chat(id="chat-2", messages=[ChatMessage("system", "Be brief."), ChatMessage("user", "Why?")], max_tokens=64),
     {"op": "chat", "id": "chat-2", "messages": [{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": "Why?"}], "max_tokens": 64, "stream": False}),
    (Chat(id="chat-3", messages=[ChatMessage("user", "Why?")], max_tokens=8, stream=True),
     {"op": "chat", "id": "chat-3", "messages": [{"role": "user", "content": "Why?"}], "max_tokens": 8, "stream": True}),
    (Follow(id="complete-1", typed="re"), {"op": "follow", "id": "complete-1", "typed": "re"}),
    (Cancel(id="chat-2"), {"op": "cancel", "id": "chat-2"}),
    (Prefill(request=CompletionRequest(prefix="def f():\n    ", suffix="\n", path="a.py", language="python",
                                       latency_target_ms=2000)),
     {"op": "prefill", "request": {
         "prefix": "def f():\n    ", "suffix": "\n", "path": "a.py", "language": "python", "gate": None, "max_tokens": 128,
         "latency_target_ms": 2000, "prefix_tokens": 1024, "suffix_tokens": 256, "truncate": True, "partial_after_ms": 0, "context": [], "repo": ""}}),
    (Shutdown(), {"op": "shutdown"}),
]
EVENT_LINES = [
    (Progress(stage="assemble", done=3, total=7), {"event": "progress", "stage": "assemble", "done": 3, "total": 7, "id": None}),
    (Progress(stage="preempted", done=12, total=512, id="chat-2"),
     {"event": "progress", "stage": "preempted", "done": 12, "total": 512, "id": "chat-2"}),
    (Loaded(info={"name": "tiny", "roles": {"fim_pre": 5}, "template": "qwen25coder", "fim_ok": True}),
     {"event": "loaded", "info": {"name": "tiny", "roles": {"fim_pre": 5}, "template": "qwen25coder", "fim_ok": True}}),
    (LoadFailed(message="no such file"), {"event": "load_failed", "message": "no such file", "retry": False}),
    (LoadFailed(message="not reachable", retry=True), {"event": "load_failed", "message": "not reachable", "retry": True}),
    (Health(ok=False, message="HTTP 500"), {"event": "health", "ok": False, "message": "HTTP 500"}),
    (Partial(id="complete-1", result=RESULT),
     {"event": "partial", "id": "complete-1", "result": {"text": "return 1", "raw": "return 1\n\n",
                                                         "stats": {"generated_tokens": 4, "stop_reason": "eos"}}}),
    (Done(id="complete-1", result=RESULT),
     {"event": "done", "id": "complete-1", "result": {"text": "return 1", "raw": "return 1\n\n",
                                                      "stats": {"generated_tokens": 4, "stop_reason": "eos"}}}),
    (Done(id="chat-2", result=ChatResult(text="Because.", stats={"generated_tokens": 2})),
     {"event": "done", "id": "chat-2", "result": {"text": "Because.", "stats": {"generated_tokens": 2}}}),
    (Error(id="complete-1", message="no model is loaded"), {"event": "error", "id": "complete-1", "message": "no model is loaded"}),
    (Error(id=None, message="bad command"), {"event": "error", "id": None, "message": "bad command"}),
    (Cancelled(id="complete-1", stats={"generated_tokens": 0, "queued": True}),
     {"event": "cancelled", "id": "complete-1", "stats": {"generated_tokens": 0, "queued": True}, "raw": ""}),
    (Cancelled(id="complete-3", stats={"stop_reason": "disagrees"}, raw="ret"),
     {"event": "cancelled", "id": "complete-3", "stats": {"stop_reason": "disagrees"}, "raw": "ret"}),
    (Refreshed(complete=False, stats={"evaluated_tokens": 32, "prompt_ms": 10.5}),
     {"event": "refreshed", "complete": False, "stats": {"evaluated_tokens": 32, "prompt_ms": 10.5}}),
    (Warmed(complete=True, stats={"evaluated_tokens": 300, "prompt_ms": 2500.0}),
     {"event": "warmed", "complete": True, "stats": {"evaluated_tokens": 300, "prompt_ms": 2500.0}}),
    (ChatText(id="chat-3", text="Because the \u2028"), {"event": "chat_text", "id": "chat-3", "text": "Because the \u2028"}),
]


def test_every_message_class_is_in_the_round_trip_tables():
    assert {type(m) for m, _ in COMMAND_LINES} == set(COMMANDS.values())
    assert {type(m) for m, _ in EVENT_LINES} == set(EVENTS.values())


@pytest.mark.parametrize("message, wire", COMMAND_LINES + EVENT_LINES, ids=lambda x: type(x).__name__ if not isinstance(x, dict) else "")
def test_round_trip(message, wire):
    line = encode(message)
    assert "\n" not in line and line.isascii()
    assert json.loads(line) == wire
    parse = parse_command if type(message) in COMMANDS.values() else parse_event
    assert parse(line) == message
    assert parse(line.encode() + b"\n") == message  # as read from a pipe


# (the line the worker reads, the id its error answer carries, what the message says)
MALFORMED_COMMANDS = [
    ('{"op": "cancel", "id": "c1"', None, "not JSON"),
    (b'\xff\xfe{"op": "shutdown"}\n', None, "not JSON"),  # not UTF-8
    ("", None, "not JSON"),
    ("[1, 2]", None, "not a JSON object but list"),
    ('"cancel"', None, "not a JSON object but str"),
    ("null", None, "not a JSON object but NoneType"),
    ('{"op": "fly", "id": "j1"}', "j1", "unknown op 'fly'"),
    ('{"id": "j1"}', "j1", "unknown op None"),
    ('{"op": ["cancel"], "id": "j1"}', "j1", "unknown op ['cancel']"),
    ('{"event": "done", "id": "j1"}', "j1", "unknown op None"),  # an event sent the wrong way
    ('{"op": "cancel"}', None, "required field missing @ $.id"),
    ('{"op": "follow", "id": "c1"}', "c1", "required field missing @ $.typed"),
    ('{"op": "complete", "id": "c1", "request": {"suffix": ""}}', "c1", "required field missing @ $.request.prefix"),
    ('{"op": "cancel", "id": "c1", "why": "typed on"}', "c1", "extra fields found (why) @ $"),
    ('{"op": "shutdown", "id": "s"}', "s", "extra fields found (id) @ $"),
    (('{"op": "complete", "id": "c1", "request": {"prefix": "", "suffix": "", "gate": {"complete": true, "scope": "line", '
      '"max_lines": 1, "reason": "", "lines": 2}}}'), "c1", "extra fields found (lines) @ $.request.gate"),
    ('{"op": "load", "n_ctx": "4096"}', None, "expected int @ $.n_ctx"),
    ('{"op": "load", "n_ctx": 4096.0}', None, "expected int @ $.n_ctx"),
    ('{"op": "load", "threads": true}', None, "expected int @ $.threads"),
    ('{"op": "load", "reuse_shifted": 1}', None, "expected bool @ $.reuse_shifted"),
    ('{"op": "load", "path": 7}', None, "expected str | None @ $.path"),
    ('{"op": "chat", "id": "h1", "messages": [], "max_tokens": "5"}', "h1", "expected int @ $.max_tokens"),
    ('{"op": "chat", "id": "h1", "messages": [{"role": "user"}]}', "h1", "required field missing @ $.messages[0].content"),
    ('{"op": "chat", "id": "h1", "messages": [7]}', "h1", "@ $.messages[0]"),
    ('{"op": "complete", "id": "c1", "request": []}', "c1", "@ $.request"),
    ('{"op": "follow", "id": "c1", "typed": null}', "c1", "expected str @ $.typed"),
    # ids of odd types: not usable, the answer's id is null
    ('{"op": "cancel", "id": 5}', None, "expected str @ $.id"),
    ('{"op": "cancel", "id": null}', None, "expected str @ $.id"),
    ('{"op": "cancel", "id": true}', None, "expected str @ $.id"),
    ('{"op": "cancel", "id": ["c1"]}', None, "expected str @ $.id"),
    ('{"op": "cancel", "id": {"id": "c1"}}', None, "expected str @ $.id"),
    ('{"op": "fly", "id": 5}', None, "unknown op 'fly'"),
]


@pytest.mark.parametrize("line, answer_id, says", MALFORMED_COMMANDS)
def test_malformed_command(line, answer_id, says):
    with pytest.raises(ProtocolError) as caught:
        parse_command(line)
    assert (caught.value.id, says in str(caught.value)) == (answer_id, True), str(caught.value)


def _answers(lines: list[str | bytes]) -> tuple[list, Worker]:
    out = io.StringIO()
    worker = Worker(out)
    worker.read_commands(line if isinstance(line, bytes) else line.encode() + b"\n" for line in lines)
    return [parse_event(line) for line in out.getvalue().splitlines()], worker


@pytest.mark.parametrize("line, answer_id, says", MALFORMED_COMMANDS)
def test_the_worker_answers_a_malformed_command_and_goes_on(line, answer_id, says, caplog):
    valid = encode(Complete(id="ok", request=REQUEST))
    answers, _ = _answers([line, valid, encode(Cancel(id="ok"))])
    assert len(answers) == 2
    error, cancelled = answers
    assert isinstance(error, Error) and error.id == answer_id and says in error.message, error
    assert cancelled == Cancelled(id="ok", stats={"generated_tokens": 0, "queued": True})  # the valid ones were taken
    assert any(r.levelname == "ERROR" and "bad command" in r.getMessage() for r in caplog.records)


def test_the_worker_takes_valid_commands_as_typed():
    answers, worker = _answers([encode(Complete(id="c1", request=REQUEST)), encode(Chat(id="h1", messages=[])),
                                encode(Load(path="/x.gguf")), encode(Follow(id="c1", typed="ret"))])
    assert answers == []
    assert [(j.command, j.id, j.typed) for j in worker.jobs] == [
        (Complete(id="c1", request=REQUEST), "c1", "ret"), (Chat(id="h1", messages=[]), "h1", None),
        (Load(path="/x.gguf"), "load", None)]
    assert worker.closing  # the end of the input ends the worker


# (the line the client reads, the id or tag it names) for events
MALFORMED_EVENTS = [
    ("not json", None, None, "not JSON"),
    ('{"event": "finished", "id": "c1"}', "c1", "finished", "unknown event 'finished'"),
    ('{"op": "done", "id": "c1"}', "c1", None, "unknown event None"),
    ('{"event": "done", "id": "c1", "result": {"text": "x", "raw": 3}}', "c1", "done", "expected str @ $.result.raw"),
    ('{"event": "done", "id": "c1", "result": {"text": "x", "raw": "", "more": 1}}', "c1", "done", "extra fields found (more)"),
    ('{"event": "done", "id": "c1", "result": {"raw": "x"}}', "c1", "done", "required field missing @ $.result.text"),
    ('{"event": "cancelled", "id": "c1", "stats": []}', "c1", "cancelled", "expected a mapping @ $.stats"),
    ('{"event": "error", "id": "c1"}', "c1", "error", "required field missing @ $.message"),
    ('{"event": "loaded"}', None, "loaded", "required field missing @ $.info"),
    ('{"event": "progress", "stage": "load", "done": "1", "total": 1}', None, "progress", "expected int @ $.done"),
    ('{"event": "refreshed", "complete": 1, "stats": {}}', None, "refreshed", "expected bool @ $.complete"),
]


@pytest.mark.parametrize("line, msg_id, tag, says", MALFORMED_EVENTS)
def test_malformed_event(line, msg_id, tag, says):
    with pytest.raises(ProtocolError) as caught:
        parse_event(line)
    assert (caught.value.id, caught.value.tag, says in str(caught.value)) == (msg_id, tag, True), str(caught.value)
