"""Emacs client: editor-clients/emacs/local-llm-eglot.el in a real Emacs (batch mode) with Eglot,
against the real server and the tiny generated model: the model state from `localLlm/status`, the
suggestion through `completion-at-point`, and `local-llm-explain` filling its buffer.

Needs `emacs` with Eglot (built in from Emacs 29; on Debian 12: apt-get install emacs-nox
elpa-eglot); skipped without it. lsp-mode's file is not run: lsp-mode 9 comes from MELPA, which
this project cannot reach.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EMACS = shutil.which("emacs")


def has_eglot() -> bool:
    if EMACS is None:
        return False
    probe = (
        '(progn (unless (locate-library "eglot")'
        ' (dolist (d (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*")) (add-to-list (quote load-path) d)))'
        ' (princ (if (locate-library "eglot") "yes" "no")))'
    )
    out = subprocess.run([EMACS, "-Q", "--batch", "--eval", probe], capture_output=True, text=True, timeout=60)
    return out.stdout.strip() == "yes"


pytestmark = [
    pytest.mark.editor,
    pytest.mark.skipif(not has_eglot(), reason="emacs with Eglot not installed (apt-get install emacs-nox elpa-eglot)"),
]


def test_emacs_eglot(tmp_path, tiny_model_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    sample = project / "sample.py"
    sample.write_text("def add(a, b):\n    return a + b\n")
    log_file = tmp_path / "server.log"
    env = dict(
        os.environ,
        HOME=str(tmp_path),  # no user init, no ~/.emacs.d writes
        LOCAL_LLM_ELISP=str(ROOT / "editor-clients" / "emacs" / "local-llm-eglot.el"),
        LOCAL_LLM_CMD=json.dumps([sys.executable, "-m", "lsp_server", "--log-file", str(log_file)]),
        LOCAL_LLM_MODEL=str(tiny_model_path),
        LOCAL_LLM_FILE=str(sample),
    )
    proc = subprocess.run(
        [EMACS, "-Q", "--batch", "-l", str(HERE / "emacs" / "eglot_smoke.el")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    server_log = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else "(no server log)"
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines, out[-4000:] + "\n" + server_log
    result = json.loads(lines[-1][len("RESULT ") :])
    context = json.dumps(result, indent=1)[-3000:] + "\n" + out[-3000:] + "\n" + server_log
    assert result.get("ok") is True, context
    assert result["major_mode"] == "python-mode", context
    assert result["status"] == "ready", context
    assert len(result["completions"]) >= 1 and result["completions"][0].strip(), context
    assert result["explanation"].strip(), context
