"""`local-llm-lsp doctor --backend ... --url ...` end to end, against the engine test double (a real
llama-server in tests/e2e/test_remote_llama_server.py): what it checks, and the exit status."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.support.fake_engine import FakeEngine


def doctor(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsp_server", "doctor", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.parametrize("backend", ["llama-server", "openai"])
def test_a_working_engine(backend):
    engine = FakeEngine(answer="fibonacci(n - 1)")
    try:
        proc = doctor("--backend", backend, "--url", engine.url)
    finally:
        engine.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for words in ("ok    reachable", "ok    model: fake-coder", "ok    FIM tokens: fim_mid=3",
                  "ok    tokenizer: the engine's /tokenize", "16-token completion: cold", "'fibonacci(n - 1)'"):
        assert words in proc.stdout


@pytest.mark.parametrize("engine_args, doctor_args, words", [
    ({"fim": False}, (), "FAIL  FIM: the model lacks"),
    ({"key": "right"}, ("--api-key-env", "DOCTOR_TEST_KEY"), "FAIL  reachable: http://127.0.0.1"),
])
def test_what_fails_is_said(engine_args, doctor_args, words):
    engine = FakeEngine(**engine_args)
    try:
        proc = doctor("--backend", "llama-server", "--url", engine.url, *doctor_args,
                      env={"DOCTOR_TEST_KEY": "wrong", "PATH": "", **_python_env()})
    finally:
        engine.close()
    assert proc.returncode == 1
    assert words in proc.stdout
    assert "wrong" not in proc.stdout  # never the key


def test_nothing_listening():
    proc = doctor("--backend", "llama-server", "--url", "http://127.0.0.1:9")
    assert proc.returncode == 1 and "not reachable" in proc.stdout


def _python_env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k.startswith("PYTHON") or k in ("HOME", "TMPDIR")}
