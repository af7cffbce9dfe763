"""The user's prompt templates: the promptsDir setting's folder, then the user config folder, then
the package's; a broken user file is skipped with a warning and never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server import data
from lsp_server.context.templates import choose_template, fim_templates
from lsp_server.fixes import prompts
from lsp_server.lsp.server import prompt_warnings
from lsp_server.lsp.settings import parse_settings

QWEN = 'name = "qwen2.5-coder"\nmatch = ["qwen2"]\nsequence = ["<fim_pre>", "{prefix}", "<fim_suf>", "{suffix}", "<fim_mid>"]\n'
MINE = QWEN.replace('"qwen2.5-coder"', '"mine"').replace('["qwen2"]', '["my-coder"]')
FIX = 'system = "S {kind}"\nuser = "U {code}"\nrewrite_problem = "R"\nfocus = "F {line}"\n'


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Write files into the setting's folder ("setting") and the user config folder ("user")."""
    monkeypatch.setattr(data, "user_config_folder", lambda: tmp_path / "user")

    def write(files: dict[str, str | bytes]) -> str:
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(tmp_path / "setting")

    return write


FIM = "prompts/fim/qwen25coder.toml"


@pytest.mark.parametrize("files, name, expected, warnings", [
    # no user files: the package's
    ({}, "qwen2.5-coder", "Qwen2.5-Coder (PSM, file header with <|file_sep|>)", []),
    # the user config folder's replaces the package's
    ({f"user/{FIM}": QWEN + 'description = "user"\n'}, "qwen2.5-coder", "user", []),
    # the setting's folder comes first
    ({f"user/{FIM}": QWEN + 'description = "user"\n', f"setting/{FIM}": QWEN + 'description = "setting"\n'},
     "qwen2.5-coder", "setting", []),
    # a broken first choice falls back to the next, and says which
    ({f"user/{FIM}": QWEN + 'description = "user"\n', f"setting/{FIM}": "name = "},
     "qwen2.5-coder", "user", ["setting/prompts/fim/qwen25coder.toml is broken (TOMLDecodeError", "using /"]),
    ({f"user/{FIM}": 'name = "qwen2.5-coder"\n'}, "qwen2.5-coder", "Qwen2.5-Coder (PSM, file header with <|file_sep|>)",
     ["missing key 'sequence'", "using the shipped one"]),
    # a new file adds a template; a broken new file is ignored
    ({"user/prompts/fim/mine.toml": MINE + 'description = "mine"\n'}, "mine", "mine", []),
    ({"user/prompts/fim/mine.toml": MINE + "bos = 1\n"}, "mine", None, ["'bos' must be true or false", "; ignored"]),
    # a new file that reuses a shipped template's name replaces it
    ({"user/prompts/fim/zzz.toml": QWEN + 'description = "renamed"\n'}, "qwen2.5-coder", "renamed", []),
    # what makes a template unusable
    ({f"user/{FIM}": QWEN.replace("<fim_mid>", "<fim_middle>")}, "qwen2.5-coder", "Qwen2.5-Coder (PSM, file header with <|file_sep|>)",
     ["unknown token role '<fim_middle>'"]),
    ({f"user/{FIM}": QWEN.replace('"{suffix}", ', "")}, "qwen2.5-coder", "Qwen2.5-Coder (PSM, file header with <|file_sep|>)",
     ["'sequence' has no {suffix}"]),
    ({f"user/{FIM}": QWEN.replace('["qwen2"]', '["qwen("]')}, "qwen2.5-coder", "Qwen2.5-Coder (PSM, file header with <|file_sep|>)",
     ["is not a regular expression"]),
    ({f"user/{FIM}": QWEN + 'stop_roles = ["fim_end"]\n'}, "qwen2.5-coder", "Qwen2.5-Coder (PSM, file header with <|file_sep|>)",
     ["'stop_roles' has unknown roles ['fim_end']"]),
    ({f"user/{FIM}": QWEN.replace('sequence = [', 'sequence = [1, ')}, "qwen2.5-coder",
     "Qwen2.5-Coder (PSM, file header with <|file_sep|>)", ["'sequence' must be a list of strings"]),
    ({f"user/{FIM}": b"name = '\xff'"}, "qwen2.5-coder", "Qwen2.5-Coder (PSM, file header with <|file_sep|>)",
     ["UnicodeDecodeError"]),
    # other files in the folders are not templates
    ({"user/prompts/fim/notes.txt": "hello", "user/prompts/fim/sub.toml/x": ""}, "qwen2.5-coder",
     "Qwen2.5-Coder (PSM, file header with <|file_sep|>)", []),
])
def test_fim_template_lookup(folders, files, name, expected, warnings):
    templates, got = fim_templates(folders(files))
    assert (templates[name].description if name in templates else None) == expected
    assert len(got) == (1 if warnings else 0), got
    for part in warnings:
        assert part in got[0]
    assert set(templates) >= {"qwen2.5-coder", "starcoder", "codellama", "codegemma", "codestral", "deepseek-coder"}


def test_a_user_template_is_chosen_from_the_metadata_and_by_name(folders):
    setting = folders({"setting/prompts/fim/mine.toml": MINE})
    assert choose_template({"general.name": "My-Coder 7B"}, "", setting).name == "mine"
    assert choose_template({"general.architecture": "qwen2"}, "mine", setting).name == "mine"
    assert choose_template({"general.name": "My-Coder 7B"}).name == "starcoder"  # not without the setting


def test_the_generic_template_survives_a_user_file_that_renames_it(folders):
    setting = folders({"setting/prompts/fim/starcoder.toml": MINE})
    assert choose_template({"general.name": "unknown"}, "", setting).name == "starcoder"


CHAT = "prompts/chat/fix.toml"


@pytest.mark.parametrize("files, expected_system, warnings", [
    ({}, "You are an expert programmer", []),
    ({f"user/{CHAT}": FIX}, "S function", []),
    ({f"user/{CHAT}": FIX, f"setting/{CHAT}": FIX.replace("S {kind}", "setting")}, "setting", []),
    ({f"user/{CHAT}": FIX, f"setting/{CHAT}": FIX.replace('focus = "F {line}"\n', "")}, "S function",
     ["setting/prompts/chat/fix.toml is broken (missing 'focus')", "using /"]),
    ({f"user/{CHAT}": FIX.replace('"R"', "3")}, "You are an expert programmer",
     ["'rewrite_problem' must be a string", "using the shipped one"]),
    ({f"user/{CHAT}": "system = "}, "You are an expert programmer", ["TOMLDecodeError"]),
    # a file of another name is not a chat template the server uses
    ({"user/prompts/chat/other.toml": "x = "}, "You are an expert programmer", []),
])
def test_chat_template_lookup(folders, files, expected_system, warnings):
    setting = folders(files)
    messages = prompts.fix_messages(language="python", path="a.py", kind="function", code="def f(): pass",
                                    before="", problem=None, focus_line=None, prompts_dir=setting)
    assert messages[0]["content"].startswith(expected_system)
    got = prompts.template_warnings(setting)
    assert len(got) == (1 if warnings else 0), got
    for part in warnings:
        assert part in got[0]


def test_an_edited_chat_template_is_used_at_once(folders):
    setting = folders({f"setting/{CHAT}": FIX})
    assert prompts.template("fix", setting)["system"] == "S {kind}"
    folders({f"setting/{CHAT}": FIX.replace("S {kind}", "edited")})
    assert prompts.template("fix", setting)["system"] == "edited"


def test_the_explain_template_can_be_overridden_too(folders):
    setting = folders({"setting/prompts/chat/explain.toml": 'system = "E"\nuser = "{code}"\n'})
    messages = prompts.explain_messages(language="python", path="a.py", kind="code", code="x = 1", before="",
                                        prompts_dir=setting)
    assert [m["content"] for m in messages] == ["E", "x = 1"]


@pytest.mark.parametrize("setting, files, expected", [
    ("", {}, []),
    ("missing", {}, ["promptsDir 'MISSING' is not a folder"]),
    ("setting", {f"setting/{CHAT}": "x = 1", "user/prompts/fim/mine.toml": "name = 'mine'"},
     ["FIM template", "missing key 'sequence'", "chat template", "missing 'focus', 'rewrite_problem', 'system', 'user'"]),
])
def test_the_server_reports_every_broken_user_file(folders, tmp_path, setting, files, expected):
    folders(files)
    folder = str(tmp_path / setting) if setting else ""
    got = " | ".join(prompt_warnings(folder))
    for part in expected:
        assert part.replace("MISSING", folder) in got
    assert bool(got) == bool(expected)


def test_unreadable_user_folders_are_as_if_absent(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "user_config_folder", lambda: tmp_path / "file")
    (tmp_path / "file").write_text("not a folder")
    assert "qwen2.5-coder" in fim_templates(str(tmp_path / "nowhere"))[0]


@pytest.mark.parametrize("raw, expected, warned", [
    ({}, "", False),
    ({"promptsDir": "~/my-prompts"}, "~/my-prompts", False),
    ({"promptsDir": 3}, "", True),
])
def test_the_prompts_dir_setting(raw, expected, warned):
    settings, warnings = parse_settings(raw)
    assert settings.prompts_dir == expected
    assert bool(warnings) == warned


def test_the_user_config_folder_is_the_platform_one():
    assert data.user_config_folder().name == "local-llm-lsp"
    assert data.override_folders("~/p") == (Path("~/p").expanduser(), data.user_config_folder())
