"""The remote engine's pure parts: request bodies, streamed chunks, HTTP errors, the key, FIM roles."""

from __future__ import annotations

import pytest

from lsp_server.worker.remote.dialects import Chunk, chat_body, completion_body, read_chunk
from lsp_server.worker.remote.http import Failed, Malformed, Refused, RemoteError, Unreachable, http_error, read_key
from lsp_server.worker.remote.tokens import find_roles
from tests.support.fake_engine import tokenize as fake_tokenize

TIMINGS = {"prompt_n": 4, "prompt_ms": 2.0, "predicted_ms": 1.0, "cache_n": 7}


@pytest.mark.parametrize("dialect, data, chat, expected", [
    ("llama-server", {"content": "ab", "tokens": [5, 6], "stop": False}, False, Chunk(text="ab", tokens=[5, 6])),
    ("llama-server", {"content": "", "tokens": [], "stop": True, "stop_type": "eos", "timings": TIMINGS}, False,
     Chunk(stop_reason="eos", timings=TIMINGS)),
    ("llama-server", {"content": "", "stop": True, "stop_type": "limit"}, False, Chunk(stop_reason="max_tokens")),
    ("llama-server", {"content": "x", "stop": True, "stop_type": "word"}, False, Chunk(text="x", stop_reason="eos")),
    ("openai", {"choices": [{"text": "ab", "finish_reason": None}]}, False, Chunk(text="ab")),
    ("openai", {"choices": [{"text": "", "finish_reason": "length"}]}, False, Chunk(stop_reason="max_tokens")),
    ("openai", {"choices": [{"text": "", "finish_reason": "stop"}]}, False, Chunk(stop_reason="eos")),
    ("openai", {"choices": []}, False, Chunk()),  # a usage-only event
    ("llama-server", {"choices": [{"delta": {"content": "Hi"}, "finish_reason": None}]}, True, Chunk(text="Hi")),
    ("openai", {"choices": [{"delta": {}, "finish_reason": "stop"}]}, True, Chunk(stop_reason="eos")),
])
def test_read_chunk(dialect, data, chat, expected):
    assert read_chunk(dialect, data, chat=chat) == expected


@pytest.mark.parametrize("dialect, data, message", [
    ("llama-server", [1, 2], "not an object"),
    ("llama-server", {"content": 3}, "wrong type"),
    ("llama-server", {"content": "a", "tokens": ["x"]}, "wrong type"),
    ("openai", {"text": "a"}, "without 'choices'"),
    ("openai", {"choices": [{"text": 5}]}, "not a string"),
    ("openai", {"error": {"message": "context too long"}}, "context too long"),
])
def test_read_chunk_refuses_what_no_dialect_sends(dialect, data, message):
    with pytest.raises(ValueError, match=message):
        read_chunk(dialect, data)


@pytest.mark.parametrize("dialect, kwargs, expected", [
    ("llama-server", {"max_tokens": 8},
     {"prompt": [1, 2], "n_predict": 8, "stream": True, "cache_prompt": True, "temperature": 0.0, "top_k": 1,
      "samplers": ["top_k"], "return_tokens": True, "timings_per_token": False}),
    ("llama-server", {"max_tokens": 1, "slot": 3, "avoid": frozenset({9, 4})},
     {"prompt": [1, 2], "n_predict": 1, "stream": True, "cache_prompt": True, "temperature": 0.0, "top_k": 1,
      "samplers": ["top_k"], "return_tokens": True, "timings_per_token": False, "id_slot": 3,
      "logit_bias": [[4, False], [9, False]]}),
    ("openai", {"max_tokens": 8, "model": "m"}, {"prompt": [1, 2], "max_tokens": 8, "stream": True, "temperature": 0.0,
                                                 "model": "m"}),
    ("openai", {"max_tokens": 1, "avoid": frozenset({9})},
     {"prompt": [1, 2], "max_tokens": 1, "stream": True, "temperature": 0.0, "logit_bias": {"9": -100}}),
])
def test_completion_body(dialect, kwargs, expected):
    assert completion_body(dialect, [1, 2], **kwargs) == expected


@pytest.mark.parametrize("dialect, messages, expected_extra", [
    ("llama-server", [{"role": "user", "content": "q"}], {"cache_prompt": True}),
    ("openai", [{"role": "user", "content": "q"}], {}),
    ("openai", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "so far"}],
     {"continue_final_message": True, "add_generation_prompt": False}),
])
def test_chat_body(dialect, messages, expected_extra):
    assert chat_body(dialect, messages, max_tokens=9) == {"messages": messages, "max_tokens": 9, "stream": True,
                                                          "temperature": 0.0, **expected_extra}


@pytest.mark.parametrize("status, body, kind, words", [
    (401, '{"error": {"message": "Invalid API Key"}}', Refused, ["refused the API key", "Invalid API Key", "backendApiKeyEnv"]),
    (403, "", Refused, ["HTTP 403"]),
    (404, '{"error": {"message": "File Not Found"}}', Refused, ["HTTP 404", "backendUrl"]),
    (500, '{"error": {"code": 500, "message": "boom"}}', Failed, ["HTTP 500: boom"]),
    (503, '{"error": {"message": "Loading model"}}', Unreachable, ["still loading", "Loading model"]),
    (400, "bad", Refused, ["HTTP 400: bad"]),
])
def test_http_error(status, body, kind, words):
    exc = http_error(status, body, "http://h:1/completion")
    assert type(exc) is kind
    assert all(w in str(exc) for w in words), str(exc)


def test_read_key(tmp_path, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", " s3cret\n")
    key_file = tmp_path / "key"
    key_file.write_text("from-file\nsecond line\n")
    assert read_key() is None
    assert read_key("TEAM_KEY") == "s3cret"
    assert read_key("", str(key_file)) == "from-file"
    assert read_key("TEAM_KEY", str(key_file)) == "s3cret"  # the variable first
    for env, file, words in [("NO_SUCH_VAR_X", "", "NO_SUCH_VAR_X"), ("", str(tmp_path / "none"), "cannot read"),
                             ("", str(tmp_path), "cannot read")]:
        with pytest.raises(RemoteError, match=words):
            read_key(env, file)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(RemoteError, match="is empty"):
        read_key("", str(tmp_path / "empty"))


def test_find_roles_takes_only_special_tokens():
    assert find_roles(fake_tokenize) == {"fim_pre": 1, "fim_suf": 2, "fim_mid": 3, "fim_pad": 4, "fim_rep": 6, "fim_sep": 5}
    assert find_roles(lambda text, special: fake_tokenize(text, False)) == {}  # no special tokens: no roles


def test_a_malformed_answer_is_a_remote_error():
    assert issubclass(Malformed, RemoteError)
