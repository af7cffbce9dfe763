"""Hostile JSON-RPC traffic for the framing fuzz: hypothesis strategies, an oracle, an exchange.

A generated item is a `Hostile` frame: the bytes to send, built around request ids that the
runner hands out (so that every id in a run is unique, except where a frame repeats one on
purpose). Which requests must be answered is decided by `must_answer`, an oracle written from the
JSON-RPC rules alone (not from the server's code): a body that decodes to an object whose id is an
integer or a string is a request to answer exactly once unless it is a response (no method and
a valid `jsonrpc`). Frames whose length header is missing or invalid carry no request.
`exchange` sends a list of frames and a valid probe request to a `RawServer` and counts replies.
Used by tests/e2e/test_framing_fuzz.py (a few hundred examples) and benchmarks/robustness (10,000+).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st

# Methods a fuzz frame may name: lifecycle methods would end the session on purpose.
LIFECYCLE = {"initialize", "initialized", "shutdown", "exit"}
KNOWN_METHODS = [
    "textDocument/inlineCompletion", "textDocument/completion", "textDocument/codeAction",
    "codeAction/resolve", "workspace/executeCommand", "textDocument/didOpen", "textDocument/didChange",
    "textDocument/didClose", "workspace/didChangeConfiguration", "$/cancelRequest", "$/setTrace",
    "textDocument/hover", "no/suchMethod", "$/unknownNotification",
]
STATUS = {"command": "localLlm.status", "arguments": []}
# byte sequences that make any text invalid UTF-8: a lone continuation byte, an overlong form, a
# surrogate, a truncated sequence, bytes UTF-8 never uses
INVALID_UTF8 = [b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xff", b"\xfe\xfe", b"\xf8\x88\x80\x80\x80"]

json_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(max_size=20)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
methods = st.sampled_from(KNOWN_METHODS) | st.text(max_size=30).filter(lambda m: m not in LIFECYCLE)
# an id the runner replaces with a fresh one of that type, or a fixed odd value
id_kinds = st.sampled_from(["int", "str"]) | st.sampled_from([None, True, False, 1.5, [], {}, "missing"])


@dataclass(frozen=True)
class Hostile:
    kind: str
    build: Callable[[Callable[[str], object]], bytes]  # fresh(kind) -> id; returns the frame's bytes

    def __repr__(self) -> str:  # hypothesis shows this when it reports a failing example
        return f"Hostile({self.kind})"


def frame(body: bytes, header: bytes = b"Content-Length") -> bytes:
    return header + b": %d\r\n\r\n" % len(body) + body


def _id(kind, fresh):
    return fresh(kind) if kind in ("int", "str") else kind


def _message(id_kind, method, params, fresh, *, version="2.0", drop=()) -> dict:
    msg = {"jsonrpc": version, "id": _id(id_kind, fresh), "method": method, "params": params}
    if id_kind == "missing":
        del msg["id"]
    for key in drop:
        msg.pop(key, None)
    return msg


def _dumps(obj) -> bytes:
    return json.dumps(obj).encode()


@st.composite
def requests(draw) -> Hostile:
    """Requests and notifications of any method, with ids of every JSON type and params of any shape."""
    id_kind, method = draw(id_kinds), draw(methods)
    params = draw(json_value | st.just(STATUS))
    version = draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", None]))
    drop = draw(st.sets(st.sampled_from(["params", "method", "jsonrpc"]), max_size=1))
    return Hostile("request", lambda fresh: frame(_dumps(_message(id_kind, method, params, fresh, version=version, drop=drop))))


@st.composite
def duplicates(draw) -> Hostile:
    """Two requests with the same id: each is a request, each gets its answer."""
    id_kind = draw(st.sampled_from(["int", "str"]))

    def build(fresh) -> bytes:
        same = fresh(id_kind)
        one = {"jsonrpc": "2.0", "id": same, "method": "workspace/executeCommand", "params": STATUS}
        two = {"jsonrpc": "2.0", "id": same, "method": "no/suchMethod", "params": {}}
        return frame(_dumps(one)) + frame(_dumps(two))
    return Hostile("duplicate-ids", build)


@st.composite
def odd_bodies(draw) -> Hostile:
    """Bodies that are not JSON, not objects, nested too deeply, not UTF-8, or batches."""
    choice = draw(st.sampled_from(["bytes", "scalar", "deep", "deep-request", "utf8", "batch"]))
    if choice == "bytes":
        body = draw(st.binary(max_size=200))
        return Hostile("not-json", lambda fresh: frame(body))
    if choice == "scalar":
        value = draw(json_value.filter(lambda v: not isinstance(v, dict)))
        return Hostile("not-an-object", lambda fresh: frame(_dumps(value)))
    if choice == "deep":
        depth = draw(st.integers(900, 120_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        body = opener * depth + b"1" + closer * depth
        return Hostile("deep", lambda fresh: frame(body))
    if choice == "deep-request":
        depth = draw(st.integers(1, 3000))
        return Hostile("deep-request", lambda fresh: frame(
            b'{"jsonrpc": "2.0", "id": ' + _dumps(fresh("int")) + b', "method": "workspace/executeCommand", '
            b'"params": {"command": "localLlm.status", "arguments": ' + b"[" * depth + b"]" * depth + b"}}"))
    if choice == "utf8":
        junk = draw(st.binary(max_size=4)) + draw(st.sampled_from(INVALID_UTF8)) + draw(st.binary(max_size=4))
        return Hostile("invalid-utf8", lambda fresh: frame(
            b'{"jsonrpc": "2.0", "id": ' + _dumps(fresh("int")) + b', "method": "' + junk + b'"}'))
    size = draw(st.integers(0, 4))
    return Hostile("batch", lambda fresh: frame(_dumps(
        [{"jsonrpc": "2.0", "id": fresh("int"), "method": "workspace/executeCommand", "params": STATUS} for _ in range(size)])))


@st.composite
def headers(draw) -> Hostile:
    """Headers of any case and length, extra headers, and missing, negative, non-numeric or huge lengths."""
    choice = draw(st.sampled_from(["case", "extra", "long", "missing", "negative", "junk-length", "huge", "stray"]))
    ok = {"jsonrpc": "2.0", "method": "workspace/executeCommand", "params": STATUS}
    if choice == "case":
        name = draw(st.sampled_from([b"content-length", b"CONTENT-LENGTH", b"Content-length", b"cOnTeNt-LeNgTh"]))
        return Hostile("header-case", lambda fresh: frame(_dumps({**ok, "id": fresh("int")}), name))
    if choice == "extra":
        extra = draw(st.sampled_from([b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n", b"X-A: b\r\n",
                                      b"X-Empty:\r\n", b"X-Spaces:    \t  \r\n"]))
        return Hostile("extra-header", lambda fresh: extra + frame(_dumps({**ok, "id": fresh("str")})))
    if choice == "long":
        size = draw(st.integers(8_000, 100_000))
        return Hostile("long-header", lambda fresh: b"X-Long: " + b"a" * size + b"\r\n" + frame(_dumps({**ok, "id": fresh("int")})))
    if choice == "missing":
        return Hostile("no-length", lambda fresh: b"X-Only: 1\r\n\r\n")
    if choice == "negative":
        n = draw(st.integers(-(10**12), -1))
        return Hostile("negative-length", lambda fresh: b"Content-Length: %d\r\n\r\n" % n)
    if choice == "junk-length":
        value = draw(st.sampled_from([b"abc", b"1e3", b"0x10", b"", b"12 34", b"+5"]))
        return Hostile("junk-length", lambda fresh: b"Content-Length: " + value + b"\r\n\r\n")
    if choice == "huge":
        n = draw(st.integers(64 << 20 + 1, 10**30))
        return Hostile("huge-length", lambda fresh: b"Content-Length: %d\r\n\r\n" % n)
    # Bytes between frames, ended by a blank line (a frame of junk headers). Junk that runs straight
    # into the next header is resynchronised by the server; the bad-input tests cover that case.
    junk = draw(st.binary(max_size=300).filter(lambda b: b"content-length" not in b.lower()))
    return Hostile("stray-bytes", lambda fresh: junk + b"\r\n\r\n")


hostile = st.one_of(requests(), duplicates(), odd_bodies(), headers())


def _key(msg_id) -> tuple | None:
    """A reply's id as a counting key; None for ids no request can be matched by (null, bool, ...)."""
    if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)):
        return None
    return (type(msg_id).__name__, msg_id)


def decode_deep(body: bytes):
    """json.loads with room for any nesting a frame here has (a thread with a large stack), so
    that the oracle does not share the server's decoder's depth limit."""
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = json.loads(body)
        except Exception as exc:
            result["error"] = exc

    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 << 20)
    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if "error" in result:
        raise result["error"]
    return result["value"]


def must_answer(body: bytes) -> tuple | None:
    """The oracle: the key of the request this body is, if it must be answered (JSON-RPC rules)."""
    try:
        obj = decode_deep(body)
    except Exception:  # not JSON: there is no id to answer
        return None
    if not isinstance(obj, dict):
        return None
    key = _key(obj.get("id"))
    if key is None:
        return None
    if "method" not in obj and obj.get("jsonrpc") == "2.0":
        return None  # a response to a request of the server's
    return key


def bodies(data: bytes) -> list[bytes]:
    """The bodies of the well-framed messages in `data` (any header case; frames with a missing,
    invalid or huge length carry none). Only for data built from `frame` and the header variants."""
    out = []
    rest = data
    while True:
        head, sep, after = rest.partition(b"\r\n\r\n")
        if not sep:
            return out
        length = None
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip())
        if length is None or length > 64 << 20:
            rest = after
            continue
        out.append(after[:length])
        rest = after[length:]


@dataclass
class Outcome:
    expected: Counter = field(default_factory=Counter)
    answered: Counter = field(default_factory=Counter)
    replies: int = 0
    probe_s: float = 0.0

    def problems(self) -> list[str]:
        found = []
        for key, n in self.expected.items():
            if self.answered[key] != n:
                found.append(f"request {key} answered {self.answered[key]} times, expected {n}")
        for key, n in self.answered.items():
            if key not in self.expected:
                found.append(f"a reply to {key}, which no request had")
        return found


class Ids:
    """Fresh request ids for a run: integers and strings never used before in it."""

    def __init__(self, start: int = 1_000) -> None:
        self.n = start

    def __call__(self, kind: str):
        self.n += 1
        return self.n if kind == "int" else f"r{self.n}"


def exchange(server, frames: list[Hostile], ids: Ids, *, grace_s: float = 5.0) -> Outcome:
    """Send the frames, then a valid probe request; read replies until the probe and every
    request the oracle expects are answered (or `grace_s` after the probe)."""
    out = Outcome()
    data = b"".join(h.build(ids) for h in frames)
    for body in bodies(data):
        if (key := must_answer(body)) is not None:
            out.expected[key] += 1
    probe = ids("str")
    out.expected[("str", probe)] += 1
    data += frame(_dumps({"jsonrpc": "2.0", "id": probe, "method": "workspace/executeCommand", "params": STATUS}))
    t0 = time.monotonic()
    server.send(data)
    deadline = None
    while True:
        timeout = 30.0 if deadline is None else deadline - time.monotonic()
        if deadline is not None and (timeout <= 0 or all(out.answered[k] >= n for k, n in out.expected.items())):
            break
        try:
            msg = server.read_message(max(timeout, 0.01))
        except AssertionError:
            if deadline is None:
                raise
            break
        if "method" in msg:
            continue  # the server's own notifications and requests
        out.replies += 1
        if (key := _key(msg.get("id"))) is not None:
            out.answered[key] += 1
            if key == ("str", probe) and deadline is None:
                out.probe_s = time.monotonic() - t0
                deadline = time.monotonic() + grace_s
    return out
