"""End to end: the promptsDir setting reaches the worker (its FIM template is chosen for the model)
and the server (a broken chat template is reported to the user, and the shipped one is used)."""

from __future__ import annotations

from lsprotocol import types

from tests.support.lsp import start_server

# longer than the shipped template's "qwen2", so it wins for the tiny model ("tiny-qwen2-test")
TINY = """name = "tiny"
match = ["tiny-qwen2"]
sequence = ["<fim_pre>", "{prefix}", "<fim_suf>", "{suffix}", "<fim_mid>"]
stop_roles = ["fim_pad"]
"""


async def test_the_prompts_dir_setting_reaches_the_worker_and_broken_files_are_reported(tiny_model_path, tmp_path):
    (tmp_path / "prompts" / "fim").mkdir(parents=True)
    (tmp_path / "prompts" / "chat").mkdir(parents=True)
    (tmp_path / "prompts" / "fim" / "tiny.toml").write_text(TINY)
    (tmp_path / "prompts" / "chat" / "fix.toml").write_text('system = "no user key"\n')
    async with start_server(tiny_model_path, init_options={"promptsDir": str(tmp_path)}) as s:
        await s.wait_status("ready")
        assert (await s.status())["template"] == "tiny"
        warnings = [m.message for m in s.client.messages if m.type == types.MessageType.Warning]
        assert any("fix.toml is broken (missing 'focus', 'rewrite_problem', 'user'); using the shipped one" in w for w in warnings), warnings

        s.statuses.clear()
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"localLlm": {"promptsDir": ""}}))
        await s.wait_status("ready")
        assert (await s.status())["template"] == "qwen2.5-coder"
