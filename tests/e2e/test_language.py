"""End to end: the user's language and comment translation through the real server over stdio.

The tiny generated model writes noise, so every translation it proposes must be refused with a
message and no edit (the file is never broken); the code actions are offered on comments and
docstrings and not on code; `initialize`'s `locale` (or the `language` setting) picks the
language of the server's own messages.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from tests.e2e.test_code_actions import code_actions, failing_test, rng
from tests.support.lsp import start_server

PY_URI = "file:///work/calc.py"
PY = ('import math\n\n\n'
      'def add(a, b):\n'
      '    """`a` と `b` の合計を返す。"""\n'
      '    # 戻り値は `int` です。\n'
      '    return a - b  # Subtract `b` from `a`.\n')
DOC_LINE, COMMENT_LINE, CODE_LINE = 4, 5, 6
GO_URI = "file:///work/calc.go"
GO = "package calc\n\n// Add は `a` と `b` を足す。\nfunc Add(a, b int) int { return a + b }\n"


def translations(actions: list[types.CodeAction]) -> list[types.CodeAction]:
    return [a for a in actions if a.data and a.data.get("action") == "translate"]


async def test_translate_is_offered_on_comments_and_not_on_code(tiny_model_path):
    async with start_server(tiny_model_path) as s:  # no locale: English
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        on_doc = translations(await code_actions(s, PY_URI, rng(DOC_LINE, 10, DOC_LINE, 10)))
        assert [a.title for a in on_doc] == ["Translate comment to English"]
        assert on_doc[0].kind == types.CodeActionKind.RefactorRewrite and on_doc[0].edit is None
        assert on_doc[0].data["target"] == "en" and on_doc[0].data["range"]["start"] == {"line": DOC_LINE, "character": 4}
        on_comment = translations(await code_actions(s, PY_URI, rng(COMMENT_LINE, 0, COMMENT_LINE, 0)))
        assert [a.data["range"]["start"]["line"] for a in on_comment] == [COMMENT_LINE]
        assert translations(await code_actions(s, PY_URI, rng(CODE_LINE, 6, CODE_LINE, 6))) == []
        # an English comment for an English user: nothing to translate
        at_english = PY.split("\n")[CODE_LINE].index("Subtract")
        assert translations(await code_actions(s, PY_URI, rng(CODE_LINE, at_english, CODE_LINE, at_english))) == []
        assert translations(await code_actions(s, PY_URI, rng(DOC_LINE, 10, DOC_LINE, 10), only=["quickfix"])) == []


async def test_a_noise_answer_gives_no_edit_and_a_message(tiny_model_path):
    async with start_server(tiny_model_path) as s:
        await s.wait_status("ready")
        for uri, text, line, language_id in ((PY_URI, PY, COMMENT_LINE, "python"), (GO_URI, GO, 2, "go")):
            s.open(uri, text, language_id=language_id)
            (action,) = translations(await code_actions(s, uri, rng(line, 5, line, 5)))
            resolved = await s.client.code_action_resolve_async(action)
            assert resolved.edit is None
            assert resolved.disabled is not None and resolved.disabled.reason
        await asyncio.sleep(0.2)
        shown = [m.message for m in s.client.messages if "no translation" in m.message]
        assert len(shown) == 2, [m.message for m in s.client.messages]


async def test_the_fix_command_path_translates_too(tiny_model_path):
    """A client without resolve support gets the `localLlm.fix` command; a refused translation
    applies nothing."""
    caps = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
    async with start_server(tiny_model_path, capabilities=caps) as s:
        await s.wait_status("ready")
        applied = s.record_applied_edits()
        s.open(PY_URI, PY)
        data = {"uri": PY_URI, "version": 1, "action": "translate", "target": "en",
                "range": {"start": {"line": COMMENT_LINE, "character": 4}, "end": {"line": COMMENT_LINE, "character": 4}}}
        result = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(command="localLlm.fix", arguments=[data]))
        assert result["applied"] is False and result["message"]
        assert applied == []


async def test_locale_ja_gives_japanese_messages(tiny_model_path):
    async with start_server(tiny_model_path, locale="ja-JP", init_options={"noSuchSetting": 1}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        bug = rng(CODE_LINE, 4, CODE_LINE, 16)
        actions = await code_actions(s, PY_URI, bug, [failing_test(bug)])
        titles = [a.title for a in actions]
        assert titles[:2] == ["ローカルモデルで修正", "この関数を修正"] and titles[-2:] == ["このコードを説明", "このコードについて質問…"]
        # the Japanese comment for a Japanese user: into English only; the English one: into Japanese
        on_comment = translations(await code_actions(s, PY_URI, rng(COMMENT_LINE, 6, COMMENT_LINE, 6)))
        assert [a.title for a in on_comment] == ["コメントを英語に翻訳"]
        at_english = PY.split("\n")[CODE_LINE].index("Subtract")
        on_english = translations(await code_actions(s, PY_URI, rng(CODE_LINE, at_english, CODE_LINE, at_english)))
        assert [a.title for a in on_english] == ["コメントを日本語に翻訳"]
        resolved = await s.client.code_action_resolve_async(on_comment[0])
        assert resolved.edit is None and resolved.disabled is not None
        await asyncio.sleep(0.2)
        messages = [m.message for m in s.client.messages]
        assert any("設定: unknown setting 'noSuchSetting'" in m for m in messages), messages
        assert any("翻訳なし: " in m for m in messages), messages


async def test_the_language_setting_wins_over_the_locale(tiny_model_path):
    async with start_server(tiny_model_path, locale="ja", init_options={"language": "en"}) as s:
        await s.wait_status("ready")
        s.open(PY_URI, PY)
        assert "Explain this code" in [a.title for a in await code_actions(s, PY_URI, rng(CODE_LINE, 6, CODE_LINE, 6))]
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"localLlm": {"language": ""}}))
        await asyncio.sleep(0.2)
        assert "このコードを説明" in [a.title for a in await code_actions(s, PY_URI, rng(CODE_LINE, 6, CODE_LINE, 6))]
