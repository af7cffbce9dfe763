"""Settings from the client: camelCase, defaults, warnings instead of crashes."""

from __future__ import annotations

import pytest

from lsp_server.lsp.settings import Settings, parse_settings


@pytest.mark.parametrize(
    "raw, field, value, warnings",
    [
        (None, "max_tokens", 128, 0),
        ({}, "max_tokens", 128, 0),
        ({"maxTokens": 64}, "max_tokens", 64, 0),
        ({"maxTokens": "64"}, "max_tokens", 128, 1),
        ({"maxTokens": True}, "max_tokens", 128, 1),
        ({"maxTokens": -3}, "max_tokens", 128, 1),
        ({"model": "small"}, "model", "small", 0),
        ({"model": "huge"}, "model", "default", 1),
        ({"disabledLanguages": ["go", "rust"]}, "disabled_languages", ("go", "rust"), 0),
        ({"disabledLanguages": [1]}, "disabled_languages", (), 1),
        ({"modelPath": "/m.gguf", "typo": 1}, "model_path", "/m.gguf", 1),
        ("not an object", "max_tokens", 128, 1),
        ({"clientShowsExplanations": True}, "client_shows_explanations", True, 0),
    ],
)
def test_parse_settings(raw, field, value, warnings):
    settings, found = parse_settings(raw)
    assert getattr(settings, field) == value
    assert len(found) == warnings


def test_base_is_kept_for_bad_values():
    base = Settings(max_tokens=32)
    settings, found = parse_settings({"maxTokens": "x"}, base)
    assert settings.max_tokens == 32 and "keeping 32" in found[0]


@pytest.mark.parametrize("value, kept", [(0, 0), (50, 2000), (1500, 1500)])
def test_latency_target_zero_turns_the_budget_off(value, kept):
    assert parse_settings({"latencyTargetMs": value})[0].latency_target_ms == kept
