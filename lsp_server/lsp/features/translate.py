"""Translating a comment or docstring in place: the code actions' offers and their edit.

An adapter over `lsp_server.translation.plan`: `offers` lists "Translate comment to English" /
"... to <the user's language>" for the comment at a range (instant, no model call); `compute`
runs the model as a cancellable chat job and returns the one edit of the comment, or why there
is none (in the user's language). It registers nothing: `code_actions` lists and resolves the
actions.
"""

from __future__ import annotations

from lsp_server.i18n.locales import UserLanguage, display_name, parse_locale
from lsp_server.i18n.messages import _
from lsp_server.lsp.documents import document_path
from lsp_server.lsp.features.chat_jobs import chat_or_reason
from lsp_server.translation.plan import find, finish_translate, offers as languages_for, plan_translate

ACTION = "translate"


def offers(ls, doc, start: int, end: int) -> list[tuple[str, UserLanguage, tuple[int, int]]]:
    """(title, target language, comment offsets) per translation worth offering at [start, end)."""
    found = find(doc.tree, doc.text, start, end) if doc.tree is not None else None
    if found is None:
        return []
    block, layout = found
    return [(_("Translate comment to {language}", language=display_name(target, ls.user_language)), target,
             (block.start, block.end)) for target in languages_for(layout.prose, ls.user_language)]


async def compute(ls, doc, data: dict, start: int, end: int) -> tuple[tuple[int, int, str] | None, str]:
    """The edit translating the comment at [start, end) of `doc` into `data["target"]`, or None and why."""
    target = parse_locale(data.get("target"))
    if target is None:
        return None, _("the translation request names no language")
    text, tree, language, version = doc.text, doc.tree, doc.language, doc.version
    plan = plan_translate(text=text, tree=tree, language=language, path=document_path(doc.uri), start=start, end=end,
                          target=target, prompts_dir=ls.settings.prompts_dir)
    if isinstance(plan, str):
        return None, plan
    answer, why_not = await chat_or_reason(
        ls, _("Translating with the local model"), plan.messages, plan.max_tokens, uri=doc.uri, version=version,
        cancelled=_("the translation was cancelled"),
        changed=_("the document changed while the translation was computed; ask for it again"))
    if answer is None:
        return None, why_not
    outcome = finish_translate(plan, text=text, language=language, answer=answer, ui=ls.user_language)
    if outcome.edit is None:
        return None, outcome.reason or _("the model proposed no change")
    return outcome.edit, _("translation ready")
