"""The `localLlm.explain` command: a Markdown explanation of a range (or the function there).

An adapter: arguments in, `plan_explain` and one chat job, Markdown out (cleaned of bidi and
zero-width characters), in the user's language (`ls.user_language`). The result is also shown with `window/showMessage`, unless the client
says it shows explanations itself (`clientShowsExplanations`); nothing is written to disk.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from lsp_server.i18n import messages
from lsp_server.i18n.messages import _
from lsp_server.lsp.documents import document_path
from lsp_server.lsp.features.chat_jobs import run_chat
from lsp_server.fixes.plan import plan_explain
from lsp_server.lsp.model.client import RequestCancelled, WorkerError
from lsp_server.lsp.model.manager import ModelUnavailable
from lsp_server.syntax.truncation import clean

EXPLAIN_COMMAND = "localLlm.explain"


def register(server) -> None:
    @server.command(EXPLAIN_COMMAND)
    async def explain(ls, *args) -> str:
        arg = args[0] if args else None
        try:
            uri = arg["uri"]
            r = arg["range"]
            sl, sc = int(r["start"]["line"]), int(r["start"]["character"])
            el, ec = int(r["end"]["line"]), int(r["end"]["character"])
        except (KeyError, TypeError, ValueError):
            raise JsonRpcInvalidParams("localLlm.explain needs [{uri, range}]") from None
        doc = ls.docs.get(uri)
        if doc is None:
            raise JsonRpcInvalidParams(_("{uri} is not open", uri=uri))
        start, end = doc.offset_at(sl, sc, ls.encoding), doc.offset_at(el, ec, ls.encoding)
        plan = plan_explain(text=doc.text, tree=doc.tree, language=doc.language, path=document_path(uri), start=start, end=end,
                            prompts_dir=ls.settings.prompts_dir, answer_language=ls.user_language.name,
                            answer_note=messages.answer_note(ls.user_language))
        if isinstance(plan, str):
            raise JsonRpcInternalError(plan)
        try:
            answer = await run_chat(ls, _("Explaining with the local model"), plan.messages, plan.max_tokens)
        except ModelUnavailable as exc:
            raise JsonRpcInternalError(_("the model is not ready ({error})", error=exc)) from None
        except (RequestCancelled, WorkerError) as exc:
            raise JsonRpcInternalError(_("the explanation failed: {error}", error=exc)) from None
        markdown = clean(answer).strip() or _("_The model returned no explanation._")
        if not ls.settings.client_shows_explanations:
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=markdown))
        return markdown
