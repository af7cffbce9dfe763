"""Drive an installed `local-llm-lsp` over stdio as an editor would: wait for the model, ask for a
fix of a planted bug ("Fix with local model" for a failing test, resolved to an edit) and an
explanation (`localLlm.explain`), and fail unless both come back non-empty.

Plain JSON-RPC with the standard library only, so it runs with any Python and tests the installed
command, never the repository's code. Used by scripts/test-wheel.sh.
Usage: python lsp_smoke.py /path/to/local-llm-lsp WORKDIR
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

TIMEOUT = 600  # seconds for each step: loading the model, a fix, an explanation (2 slow cores)
CALC = 'import math\n\n\ndef add(a, b):\n    """Return the sum of a and b."""\n    return a - b\n\n\nprint(add(1, 2))\n'
BUG = {"start": {"line": 5, "character": 4}, "end": {"line": 5, "character": 16}}
FUNCTION = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 16}}


class Server:
    def __init__(self, exe: str, workdir: Path) -> None:
        self.log = open(workdir / "server.log", "wb")
        self.proc = subprocess.Popen([exe], cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.inbox: queue.Queue = queue.Queue()
        self.notes: list[dict] = []
        self.ids = iter(range(1, 1 << 30))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while (line := out.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            if not line:
                self.inbox.put(None)
                return
            self.inbox.put(json.loads(out.read(int(headers["content-length"]))))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def next(self, deadline: float) -> dict:
        """The next message; requests from the server get a null result, notifications are kept."""
        while True:
            try:
                msg = self.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit("timed out waiting for the server") from None
            if msg is None:
                raise SystemExit(f"the server exited (code {self.proc.wait()}); see its log")
            if "method" in msg and "id" in msg:
                self.send({"id": msg["id"], "result": None})
            elif "method" in msg:
                self.notes.append(msg)
                return msg
            else:
                return msg

    def request(self, method: str, params) -> object:
        msg_id = next(self.ids)
        self.send({"id": msg_id, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.next(deadline)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise SystemExit(f"{method} failed: {msg['error']}")
                return msg.get("result")

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def wait_ready(self) -> str:
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.next(deadline)
            if msg.get("method") == "localLlm/status":
                state, message = msg["params"].get("state"), msg["params"].get("message", "")
                if state == "ready":
                    return message
                if state == "error":
                    raise SystemExit(f"the model did not load: {message}")

    def messages(self) -> list[str]:
        return [n["params"]["message"] for n in self.notes if n.get("method") == "window/showMessage"]


def edited_text(edit: dict) -> list[str]:
    changes = [e for dc in edit.get("documentChanges") or [] for e in dc.get("edits", [])]
    changes += [e for edits in (edit.get("changes") or {}).values() for e in edits]
    return [e["newText"] for e in changes]


def main() -> int:
    exe, workdir = sys.argv[1], Path(sys.argv[2])
    (workdir / "calc.py").write_text(CALC)
    uri = (workdir / "calc.py").resolve().as_uri()
    server = Server(exe, workdir)
    try:
        capabilities = {
            "textDocument": {"codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "refactor.rewrite"]}},
                                            "resolveSupport": {"properties": ["edit"]}, "dataSupport": True}},
            "workspace": {"workspaceEdit": {"documentChanges": True}},
        }
        info = server.request("initialize", {"processId": None, "rootUri": workdir.resolve().as_uri(), "capabilities": capabilities,
                                             "initializationOptions": {"clientShowsExplanations": True}})
        print(f"initialize: {info['serverInfo']['name']} {info['serverInfo']['version']}")
        server.notify("initialized", {})
        print(f"status: {server.wait_ready()}")
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": CALC}})

        diagnostic = {"range": BUG, "message": "test_add: assert add(1, 2) == 3 (got -1)", "source": "pytest", "severity": 1}
        actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": BUG,
                                                             "context": {"diagnostics": [diagnostic]}})
        fix = next((a for a in actions or [] if a.get("title") == "Fix with local model"), None)
        if fix is None:
            raise SystemExit(f"no 'Fix with local model' action among {[a.get('title') for a in actions or []]}")
        t0 = time.monotonic()
        resolved = server.request("codeAction/resolve", fix)
        new = edited_text(resolved.get("edit") or {})
        if not any(text.strip() for text in new):
            reason = (resolved.get("disabled") or {}).get("reason")
            raise SystemExit(f"the fix came back without an edit ({reason}); messages: {server.messages()}")
        print(f"fix ({time.monotonic() - t0:.1f} s): {' | '.join(new)!r}")

        t0 = time.monotonic()
        markdown = server.request("workspace/executeCommand", {"command": "localLlm.explain", "arguments": [{"uri": uri, "range": FUNCTION}]})
        if not isinstance(markdown, str) or not markdown.strip():
            raise SystemExit(f"the explanation is empty: {markdown!r}")
        print(f"explain ({time.monotonic() - t0:.1f} s): {markdown.strip().splitlines()[0][:120]!r}")

        server.request("shutdown", None)
        server.notify("exit", None)
        code = server.proc.wait(30)
        if code != 0:
            raise SystemExit(f"the server exited with {code} after shutdown/exit")
        return 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        server.log.close()


if __name__ == "__main__":
    sys.exit(main())
