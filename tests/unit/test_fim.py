"""FIM prompt assembly per template, window sizing in tokens, template choice from GGUF metadata.

A character tokenizer (one token per character, a test double for the model's tokenizer) makes
the expected token sequences readable: `render` turns them back into text with role names.
"""

from __future__ import annotations

import pytest

from lsp_server.context.fim import MissingFimTokens, build_fim_prompt, prefix_window, suffix_window
from lsp_server.context.templates import choose_template, load_templates

ROLES = {"fim_pre": 1000, "fim_suf": 1001, "fim_mid": 1002, "fim_pad": 1003, "fim_rep": 1004, "fim_sep": 1005}
NAMES = {v: f"<{k}>" for k, v in ROLES.items()} | {1: "<bos>"}


def char_tokenize(text: str) -> list[int]:  # test double: one token per character
    return [ord(c) for c in text]


def render(tokens: list[int]) -> str:
    return "".join(NAMES.get(t, chr(t) if t < 1000 else "?") for t in tokens)


@pytest.mark.parametrize(
    "template, path, expected",
    [
        ("qwen2.5-coder", "src/a.py", "<fim_sep>src/a.py\n<fim_pre>AB<fim_suf>CD<fim_mid>"),
        ("qwen2.5-coder", "", "<fim_pre>AB<fim_suf>CD<fim_mid>"),
        ("starcoder", "src/a.py", "<fim_pre>AB<fim_suf>CD<fim_mid>"),
        ("codellama", "", "<bos><fim_pre> AB <fim_suf>CD <fim_mid>"),
        ("deepseek-coder", "", "<bos><fim_pre>AB<fim_suf>CD<fim_mid>"),
        ("codegemma", "", "<bos><fim_pre>AB<fim_suf>CD<fim_mid>"),
        ("codestral", "", "<bos><fim_suf>CD<fim_pre>AB"),
    ],
)
def test_prompt_per_template(template, path, expected):
    t = load_templates()[template]
    prompt = build_fim_prompt(t, ROLES, char_tokenize, "AB", "CD", path=path, bos=1)
    assert render(prompt.tokens) == expected
    assert prompt.prefix_tokens == 2 and prompt.suffix_tokens == 2


CONTEXT = (("lib/u.py", "def u(x):\n    return x\n"), ("lib/v.py", "V = 1"))
NO_REPO = {k: v for k, v in ROLES.items() if k != "fim_rep"}


@pytest.mark.parametrize(
    "template, roles, path, comment, expected",
    [
        # Qwen's repository-level form: the pieces first, each after its file separator
        ("qwen2.5-coder", ROLES, "src/a.py", "#",
         "<fim_rep>proj\n<fim_sep>lib/u.py\ndef u(x):\n    return x\n\n<fim_sep>lib/v.py\nV = 1\n"
         "<fim_sep>src/a.py\n<fim_pre>AB<fim_suf>CD<fim_mid>"),
        # a model without the repository token: commented into the prefix, the language's comment
        ("qwen2.5-coder", NO_REPO, "src/a.py", "//",
         "<fim_sep>src/a.py\n<fim_pre>// lib/u.py\n// def u(x):\n//     return x\n// lib/v.py\n// V = 1\nAB<fim_suf>CD<fim_mid>"),
        # a template without the form
        ("starcoder", ROLES, "", "#",
         "<fim_pre># lib/u.py\n# def u(x):\n#     return x\n# lib/v.py\n# V = 1\nAB<fim_suf>CD<fim_mid>"),
        ("codestral", ROLES, "", "#",
         "<bos><fim_suf>CD<fim_pre># lib/u.py\n# def u(x):\n#     return x\n# lib/v.py\n# V = 1\nAB"),
    ],
)
def test_cross_file_context(template, roles, path, comment, expected):
    t = load_templates()[template]
    prompt = build_fim_prompt(t, roles, char_tokenize, "AB", "CD", path=path, bos=1, context=CONTEXT, repo="proj",
                              comment=comment)
    assert render(prompt.tokens) == expected
    assert prompt.prefix_tokens == 2 and prompt.context_tokens > 0


def test_the_context_block_is_the_same_wherever_the_cursor_is():
    t = load_templates()["qwen2.5-coder"]
    a = build_fim_prompt(t, ROLES, char_tokenize, "AB", "CD", path="a.py", context=CONTEXT, repo="p")
    b = build_fim_prompt(t, ROLES, char_tokenize, "ABxyz\n  q", "other", path="a.py", context=CONTEXT, repo="p")
    assert a.tokens[: a.context_tokens] == b.tokens[: b.context_tokens]


def test_special_token_text_in_user_code_is_not_a_role():
    t = load_templates()["qwen2.5-coder"]
    prompt = build_fim_prompt(t, ROLES, char_tokenize, "x = '<|fim_middle|>'", "", bos=None)
    assert prompt.tokens.count(ROLES["fim_mid"]) == 1  # only the template's own


def test_missing_role_is_named():
    t = load_templates()["qwen2.5-coder"]
    with pytest.raises(MissingFimTokens, match="fim_mid"):
        build_fim_prompt(t, {"fim_pre": 1, "fim_suf": 2}, char_tokenize, "a", "b")


def _lines(n: int, width: int = 9) -> str:
    return "".join(f"{i:0{width - 1}d}\n" for i in range(n))  # every line is `width` characters


@pytest.mark.parametrize(
    "prefix, budget, expected_start",
    [
        (_lines(10), 1000, 0),  # everything fits
        (_lines(100) + "tail", 90 + 4, 96 * 9),  # 10 lines fit: from line 90 up to the anchor at 96
        (_lines(100) + "tail", 40 * 9 + 4, 64 * 9),  # 40 lines fit (from line 60): anchored at 64
        ("x" * 50, 10, 40),  # one long line: keep its tail
    ],
)
def test_prefix_window_is_anchored(prefix, budget, expected_start):
    w = prefix_window(prefix, budget, char_tokenize)
    assert w.start == expected_start and prefix[w.start:] == w.text
    assert len(char_tokenize(w.text)) <= budget


def test_prefix_window_is_stable_while_typing():
    base = _lines(200)
    starts = {prefix_window(base + "abc"[:i], 45 * 9, char_tokenize).start for i in range(4)}
    assert len(starts) == 1


@pytest.mark.parametrize(
    "suffix, budget, expected",
    [
        ("a\nbb\nccc\n", 100, "a\nbb\nccc\n"),
        ("a\nbb\nccc\n", 5, "a\nbb\n"),  # cut at a line end
        ("abcdefgh", 4, "abcd"[:4]),  # first line too long: cut inside it
        ("", 10, ""),
        ("abc", 0, ""),
    ],
)
def test_suffix_window(suffix, budget, expected):
    w = suffix_window(suffix, budget, char_tokenize)
    assert w.text == expected
    assert len(w.text) <= max(budget, 0)


@pytest.mark.parametrize(
    "metadata, expected",
    [
        ({"general.architecture": "qwen2", "general.name": "Qwen2.5 Coder 1.5B Instruct"}, "qwen2.5-coder"),
        ({"general.architecture": "starcoder2", "general.name": "StarCoder2 3B"}, "starcoder"),
        ({"general.architecture": "llama", "general.name": "CodeLlama 7B"}, "codellama"),
        ({"general.architecture": "llama", "general.name": "deepseek-coder-1.3b-base"}, "deepseek-coder"),
        ({"general.architecture": "gemma", "general.name": "codegemma-2b"}, "codegemma"),
        ({"general.architecture": "llama", "general.name": "Codestral 22B"}, "codestral"),
        ({"general.architecture": "granite", "general.name": "something else"}, "starcoder"),  # plain PSM
    ],
)
def test_template_choice_from_metadata(metadata, expected):
    assert choose_template(metadata).name == expected


def test_template_override_and_unknown_override():
    assert choose_template({"general.architecture": "qwen2"}, "codellama").name == "codellama"
    with pytest.raises(KeyError, match="unknown FIM template"):
        choose_template({}, "nope")
