"""A load and cancel storm: a typist at N keystrokes a second across several documents, each
keystroke a `didChange`, a new inline completion request and a `$/cancelRequest` of the one
before, as editors send them. Drives a `RawServer` (exact ids, exact cancels) and counts replies.
Used by tests/e2e/test_storm.py (seconds) and benchmarks/robustness/storm.py (a minute).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.support.raw_server import RawServer, frame

CODE = "def f{n}(a, b):\n    total = a + b\n    return \n"


@dataclass
class StormResult:
    requests: int = 0
    answered: Counter = field(default_factory=Counter)
    results: int = 0
    cancelled: int = 0
    errors: int = 0
    seconds: float = 0.0
    before_ms: list[float] = field(default_factory=list)
    after_ms: list[float] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = [f"request {i} answered {n} times" for i, n in self.answered.items() if n != 1]
        missing = self.requests - len(self.answered)
        if missing:
            out.append(f"{missing} requests never answered")
        return out

    def summary(self) -> dict:
        med = lambda xs: round(statistics.median(xs), 1) if xs else None  # noqa: E731
        return {"requests": self.requests, "answered_exactly_once": sum(1 for n in self.answered.values() if n == 1),
                "results": self.results, "cancelled": self.cancelled, "errors": self.errors,
                "seconds": round(self.seconds, 1), "latency_before_ms_median": med(self.before_ms),
                "latency_after_ms_median": med(self.after_ms)}


class Storm:
    def __init__(self, server: RawServer, documents: int = 3) -> None:
        self.server = server
        self.uris = [f"file:///tmp/storm_{i}.py" for i in range(documents)]
        self.probe_uri = "file:///tmp/storm_probe.py"  # the latency before and after is measured here
        everything = [*self.uris, self.probe_uri]
        self.versions = {u: 1 for u in everything}
        self.lines = {u: 2 for u in everything}  # the line being typed on (`    return ...`)
        self.columns = {u: len("    return ") for u in everything}
        self.next_id = 1
        self._probes = 0
        self.result = StormResult()

    def open(self) -> None:
        for n, uri in enumerate([*self.uris, self.probe_uri]):
            self.server.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": CODE.format(n=n)}}}))

    def _request(self, uri: str) -> int:
        msg_id = self.next_id
        self.next_id += 1
        self.server.send(frame({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/inlineCompletion", "params": {
            "textDocument": {"uri": uri}, "position": {"line": self.lines[uri], "character": self.columns[uri]},
            "context": {"triggerKind": 2}}}))
        return msg_id

    def _type(self, uri: str, ch: str) -> None:
        self.versions[uri] += 1
        line, col = self.lines[uri], self.columns[uri]
        self.server.send(frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": self.versions[uri]},
            "contentChanges": [{"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}},
                                "text": ch}]}}))
        self.columns[uri] += len(ch)

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.server.read_message(max(0.001, deadline - time.monotonic()))
            except AssertionError:
                return
            self._count(msg)

    def _count(self, msg: dict) -> int | None:
        if "method" in msg or not isinstance(msg.get("id"), int):
            return None
        self.result.answered[msg["id"]] += 1
        if "error" in msg:
            if msg["error"].get("code") == -32800:
                self.result.cancelled += 1
            else:
                self.result.errors += 1
        else:
            self.result.results += 1
        return msg["id"]

    def timed_request(self, uri: str) -> float:
        """One request, waited for: its latency in ms."""
        t0 = time.monotonic()
        msg_id = self._request(uri)
        self.result.requests += 1
        while True:
            if self._count(self.server.read_message(60)) == msg_id:
                return (time.monotonic() - t0) * 1000

    def probes(self, rounds: int = 3) -> list[float]:
        """Latencies of requests in a document the storm never touches, each made right after a
        request in a storm document (so each finds the same cold prompt, before and after)."""
        out = []
        for _ in range(rounds):
            self._type(self.uris[0], " ")
            self.timed_request(self.uris[0])
            # a new line with a name never seen: no recent suggestion can serve it, the model must
            self._probes += 1
            self._type(self.probe_uri, f"\n    v{self._probes}_{len(out)} = ")
            self.lines[self.probe_uri] += 1
            self.columns[self.probe_uri] = len(f"    v{self._probes}_{len(out)} = ")
            out.append(self.timed_request(self.probe_uri))
        return out

    def run(self, seconds: float, rate: float = 20.0) -> StormResult:
        self.open()
        self.result.before_ms = self.probes()
        started = time.monotonic()
        previous: int | None = None
        tick = 0
        text = "a + b  # storm " * 1000
        while time.monotonic() - started < seconds:
            uri = self.uris[(tick // 10) % len(self.uris)]  # ten keystrokes in one file, then the next
            if previous is not None:
                self.server.send(frame({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": previous}}))
            self._type(uri, text[tick % len(text)])
            previous = self._request(uri)
            self.result.requests += 1
            tick += 1
            self._drain(max(0.0, started + tick / rate - time.monotonic()))
        self.result.seconds = time.monotonic() - started
        deadline = time.monotonic() + 60
        while len(self.result.answered) < self.result.requests and time.monotonic() < deadline:
            self._drain(0.2)
        self.result.after_ms = self.probes()
        self._drain(0.5)  # a second answer to any request would arrive by now
        return self.result
