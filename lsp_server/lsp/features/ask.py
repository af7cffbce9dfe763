"""The `localLlm.ask` command: a question about the workspace, answered by the model from the
passages the workspace index retrieves, with citations that open in the editor.

An adapter: arguments in ({question, uri?, range?, language?}: the selection, when given, is
quoted in the prompt and helps the search), `IndexService.passages` (off the event loop), the
prompt and the citations' checks from `fixes.ask`, one chat job (`run_chat`: cancellable
`$/progress` whose messages follow the answer), and out {question, answer, citations, passages},
each citation and passage {uri, range, title, path}. While the model writes, the answer so far
goes to the client as `localLlm/askText` notifications {question, text} (streaming; a client
that does not know them ignores them). Without passages to search, or none that matches, it answers so
without the model. The answer is also shown with `window/showMessage`, unless the client says it
shows explanations itself (`clientShowsExplanations`). Executes nothing, writes nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from lsp_server.fixes import ask as asking
from lsp_server.i18n.messages import N_, _
from lsp_server.lsp.documents import document_path
from lsp_server.lsp.features.chat_jobs import run_chat
from lsp_server.lsp.model.client import RequestCancelled, WorkerError
from lsp_server.lsp.model.manager import ModelUnavailable
from lsp_server.syntax.truncation import clean

ASK_COMMAND = "localLlm.ask"
TEXT_NOTIFICATION = "localLlm/askText"
ASK_TITLE = N_("Ask about this code…")
MAX_QUESTION_CHARS = 2000
NOTHING_TO_SEARCH = N_("Nothing to search: the workspace has no indexed source or documentation files "
                        "(open a folder, or check the workspaceIndex setting).")
NO_MATCH = N_("No passage of the workspace matches the question; try the names of the code or documents it is about.")


def _location(root: str, passage, line: int | None = None) -> dict:
    first = passage.start_line if line is None else line
    last = passage.end_line if line is None else line
    return {"uri": (Path(root) / passage.path).as_uri(), "path": passage.path, "title": passage.title,
            "range": {"start": {"line": first, "character": 0}, "end": {"line": last + 1, "character": 0}}}


def _arguments(args: tuple) -> tuple[str, str | None, dict | None, str]:
    arg = args[0] if args else None
    try:
        question = arg["question"]
        if not isinstance(question, str):
            raise TypeError
        uri, r = arg.get("uri"), arg.get("range")
        language = arg.get("language") or ""
        if (uri is not None and not isinstance(uri, str)) or not isinstance(language, str):
            raise TypeError
        if r is not None:
            r = {k: (int(r[k]["line"]), int(r[k]["character"])) for k in ("start", "end")}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise JsonRpcInvalidParams(f"{ASK_COMMAND} needs [{{question, uri?, range?, language?}}]") from None
    if not question.strip():
        raise JsonRpcInvalidParams(_("the question is empty"))
    return question.strip()[:MAX_QUESTION_CHARS], uri, r, language


def register(server) -> None:
    @server.command(ASK_COMMAND)
    async def ask(ls, *args) -> dict:
        question, uri, r, language = _arguments(args)
        selection = None
        doc = ls.docs.get(uri) if uri else None
        if uri and doc is None:
            raise JsonRpcInvalidParams(_("{uri} is not open", uri=uri))
        if doc is not None and r is not None:
            start, end = doc.offset_at(*r["start"], ls.encoding), doc.offset_at(*r["end"], ls.encoding)
            if doc.text[start:end].strip():
                selection = (document_path(uri), doc.language or "text", doc.text[start:end])
        query = question + ("\n" + selection[2][:asking.SELECTION_CHARS] if selection else "")
        hits = await asyncio.to_thread(ls.indexing.passages, query, asking.TOP_PASSAGES)
        result = {"question": question, "citations": [], "passages": []}
        if not hits:
            answer = _(NOTHING_TO_SEARCH if hits is None else NO_MATCH)
            _show(ls, answer)
            return {**result, "answer": answer}
        sources = asking.select_sources([(h.root, h.passage) for h in hits])
        messages = asking.messages(question, sources, selection=selection, answer_language=language,
                                   prompts_dir=ls.settings.prompts_dir)
        try:
            text = await run_chat(ls, _("Asking the workspace with the local model"), messages, asking.ANSWER_TOKENS,
                                  on_text=lambda so_far: ls.protocol.notify(TEXT_NOTIFICATION, {"question": question, "text": clean(so_far)}))
        except ModelUnavailable as exc:
            raise JsonRpcInternalError(_("the model is not ready ({error})", error=exc)) from None
        except (RequestCancelled, WorkerError) as exc:
            raise JsonRpcInternalError(_("the question failed: {error}", error=exc)) from None
        answer = clean(text).strip() or _("_The model returned no answer._")
        cited = asking.citations(answer, sources)
        result["citations"] = [_location(c.source.root, c.source.passage, c.line) for c in cited]
        result["passages"] = [_location(s.root, s.passage) for s in sources]
        _show(ls, answer)
        return {**result, "answer": answer}


def _show(ls, answer: str) -> None:
    if not ls.settings.client_shows_explanations:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=answer))
