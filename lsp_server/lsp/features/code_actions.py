"""textDocument/codeAction, codeAction/resolve and the `localLlm.fix` command.

Listing is instant and never calls the model: a "Fix with local model" quick fix per diagnostic
in the request (any source) and per tree-sitter syntax error on the requested lines, "Fix this
function" (refactor.rewrite) for the enclosing function or class, "Explain this code" (the
`localLlm.explain` command) and, on a selection, "Ask about this code…" (`localLlm.ask`, whose
question the client asks the user for). Fix actions carry `data` and no edit; resolve (or, for clients
without resolve support for `edit`, the `localLlm.fix` command through `workspace/applyEdit`)
runs the model and offers an edit only if the checks in `lsp_server.fixes` pass and the
document is still at the version the fix was asked for; otherwise the user is told why.
Adapters only: the logic is in `lsp_server.fixes`.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import converters, types

from lsp_server.lsp.documents import document_path
from lsp_server.lsp.features.ask import ASK_COMMAND, ASK_TITLE
from lsp_server.i18n.messages import N_, _
from lsp_server.lsp.features import translate
from lsp_server.lsp.features.chat_jobs import chat_or_reason
from lsp_server.lsp.features.common import syntax_diagnostic
from lsp_server.lsp.features.explain import EXPLAIN_COMMAND
from lsp_server.fixes.plan import FixPlan, finish_fix, plan_fix
from lsp_server.fixes.scopes import enclosing_scope, syntax_errors

log = logging.getLogger(__name__)

FIX_COMMAND = "localLlm.fix"
FIX_TITLE = N_("Fix with local model")
REWRITE_TITLE = N_("Fix this function")
EXPLAIN_TITLE = N_("Explain this code")
MODEL_ACTIONS = ("fix", "rewrite", translate.ACTION)
MAX_SYNTAX_ACTIONS = 3

_converter = converters.get_converter()


def _range_dict(r: types.Range) -> dict:
    return _converter.unstructure(r)


def _wants(only: list[str] | None, kind: str | None) -> bool:
    if not only:
        return True
    if kind is None:
        return False
    return any(kind == k or kind.startswith(k + ".") or k == "" for k in only)


def _supports_resolve_edit(ls) -> bool:
    caps = ls.client_capabilities
    ca = caps.text_document.code_action if caps and caps.text_document else None
    support = ca.resolve_support if ca else None
    return bool(support and "edit" in (support.properties or []))


def _supports_document_changes(ls) -> bool:
    caps = ls.client_capabilities
    we = caps.workspace.workspace_edit if caps and caps.workspace else None
    return bool(we and we.document_changes)


def list_actions(ls, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    doc = ls.docs.get(uri)
    if doc is None:
        return []
    only = params.context.only
    resolve = _supports_resolve_edit(ls)
    actions: list[types.CodeAction] = []

    def fix_action(title: str, kind: str, r: types.Range, diagnostic: types.Diagnostic | None, action: str,
                   **extra: str) -> types.CodeAction:
        data = {"uri": uri, "version": doc.version, "range": _range_dict(r), "action": action,
                "diagnostic": _converter.unstructure(diagnostic) if diagnostic is not None else None, **extra}
        ca = types.CodeAction(title=title, kind=kind, diagnostics=[diagnostic] if diagnostic else None)
        if resolve:
            ca.data = data
        else:
            ca.command = types.Command(title=title, command=FIX_COMMAND, arguments=[data])
        return ca

    if doc.tree is not None and _wants(only, types.CodeActionKind.QuickFix):
        for d in params.context.diagnostics:
            actions.append(fix_action(_(FIX_TITLE), types.CodeActionKind.QuickFix, d.range, d, "fix"))
        seen = {(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) for d in params.context.diagnostics}
        r = params.range
        line_start = doc.offset_at(r.start.line, 0, ls.encoding)
        line_end = doc.offset_at(r.end.line + 1, 0, ls.encoding)
        for problem in syntax_errors(doc.tree, doc.text, line_start, max(line_start, line_end - 1), limit=MAX_SYNTAX_ACTIONS):
            diag = syntax_diagnostic(doc, problem, ls.encoding)
            r0 = diag.range
            if (r0.start.line, r0.start.character, r0.end.line, r0.end.character) in seen:
                continue
            actions.append(fix_action(_(FIX_TITLE), types.CodeActionKind.QuickFix, diag.range, diag, "fix"))

    start = doc.offset_at(params.range.start.line, params.range.start.character, ls.encoding)
    end = doc.offset_at(params.range.end.line, params.range.end.character, ls.encoding)
    scope = enclosing_scope(doc.tree, doc.text, doc.language, start, end) if doc.tree is not None else None
    if scope is not None and _wants(only, types.CodeActionKind.RefactorRewrite):
        scope_range = types.Range(types.Position(*doc.position_at(scope.start, ls.encoding)),
                                  types.Position(*doc.position_at(scope.end, ls.encoding)))
        title = _(REWRITE_TITLE) if scope.kind == "function" else _("Fix this {kind}", kind=scope.kind)
        actions.append(fix_action(title, types.CodeActionKind.RefactorRewrite, scope_range, None, "rewrite"))
    if doc.tree is not None and _wants(only, types.CodeActionKind.RefactorRewrite):
        for title, target, (c_start, c_end) in translate.offers(ls, doc, start, end):
            comment_range = types.Range(types.Position(*doc.position_at(c_start, ls.encoding)),
                                        types.Position(*doc.position_at(c_end, ls.encoding)))
            actions.append(fix_action(title, types.CodeActionKind.RefactorRewrite, comment_range, None, translate.ACTION,
                                      target=target.code if target.script is None else f"{target.code}-{target.script}"))

    if _wants(only, None) and (end > start or scope is not None or doc.text.strip()):
        explain_range = params.range if end > start else (
            types.Range(types.Position(*doc.position_at(scope.start, ls.encoding)), types.Position(*doc.position_at(scope.end, ls.encoding)))
            if scope is not None else params.range)
        actions.append(types.CodeAction(
            title=_(EXPLAIN_TITLE),
            command=types.Command(title=_(EXPLAIN_TITLE), command=EXPLAIN_COMMAND,
                                  arguments=[{"uri": uri, "range": _range_dict(explain_range)}]),
        ))
    if _wants(only, None) and end > start and doc.text[start:end].strip():
        # no question: the client asks the user for one and adds it to the arguments
        actions.append(types.CodeAction(title=_(ASK_TITLE), command=types.Command(
            title=_(ASK_TITLE), command=ASK_COMMAND, arguments=[{"uri": uri, "range": _range_dict(params.range)}])))
    return actions


def _problem_text(diagnostic: dict | None) -> str | None:
    if not isinstance(diagnostic, dict) or not isinstance(diagnostic.get("message"), str):
        return None
    source = diagnostic.get("source")
    code = diagnostic.get("code")
    label = f"{source} " if isinstance(source, str) and source else ""
    label += f"[{code}] " if isinstance(code, (str, int)) and code != "" else ""
    return f"{label.strip()}: {diagnostic['message']}" if label else diagnostic["message"]


def _position(value: Any) -> tuple[int, int]:
    return int(value["line"]), int(value["character"])


async def compute_fix(ls, data: dict) -> tuple[types.WorkspaceEdit | None, str]:
    """The edit for a fix action's data, or None and why not (in words for the user)."""
    try:
        uri = data["uri"]
        (sl, sc), (el, ec) = _position(data["range"]["start"]), _position(data["range"]["end"])
        version = data.get("version")
    except (KeyError, TypeError, ValueError):
        return None, _("the fix request is malformed (it needs uri and range)")
    doc = ls.docs.get(uri)
    if doc is None:
        return None, _("the document is not open")
    if version is not None and doc.version != version:
        return None, _("the document changed since the fix was offered; ask for it again")
    text, tree, language, snap_version = doc.text, doc.tree, doc.language, doc.version
    start, end = doc.offset_at(sl, sc, ls.encoding), doc.offset_at(el, ec, ls.encoding)
    if data.get("action") == translate.ACTION:
        edit, message = await translate.compute(ls, doc, data, start, end)
        current = ls.docs.get(uri)
        if edit is None or current is None:
            return None, message
        return _workspace_edit(ls, uri, snap_version, current, [edit]), message
    problem = _problem_text(data.get("diagnostic")) if data.get("action") != "rewrite" else None
    plan = plan_fix(text=text, tree=tree, language=language, path=document_path(uri), start=start, end=end, problem=problem,
                    prompts_dir=ls.settings.prompts_dir, answer_language=ls.user_language.name)
    if isinstance(plan, str):
        return None, plan
    answer, why_not = await chat_or_reason(
        ls, _("Fixing with the local model"), plan.messages, plan.max_tokens, uri=uri, version=snap_version,
        cancelled=_("the fix was cancelled"), changed=_("the document changed while the fix was computed; ask for it again"))
    current = ls.docs.get(uri)
    if answer is None or current is None:
        return None, why_not
    outcome = finish_fix(plan, text=text, language=language, answer=answer)
    if outcome.reason is not None:
        return None, outcome.reason
    return _workspace_edit(ls, uri, snap_version, current, outcome.edits), _summary(plan, outcome.edits)


def _summary(plan: FixPlan, edits: list[tuple[int, int, str]]) -> str:
    what = plan.region.name or plan.region.kind
    return _("fix ready for {what}: {count} change(s)", what=what, count=len(edits))


def _workspace_edit(ls, uri: str, version: int, doc, edits: list[tuple[int, int, str]]) -> types.WorkspaceEdit:
    text_edits = [
        types.TextEdit(range=types.Range(types.Position(*doc.position_at(s, ls.encoding)), types.Position(*doc.position_at(e, ls.encoding))),
                       new_text=t)
        for s, e, t in edits
    ]
    if _supports_document_changes(ls):
        return types.WorkspaceEdit(document_changes=[
            types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=text_edits)
        ])
    return types.WorkspaceEdit(changes={uri: text_edits})


def _no_edit(data: dict, message: str) -> str:
    if data.get("action") == translate.ACTION:
        return _("no translation: {reason}", reason=message)
    return _("no fix: {reason}", reason=message)


def _tell(ls, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
    ls.show_message(message, kind, once=False)


def register(server) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite],
                                resolve_provider=True),
    )
    def code_action(ls, params: types.CodeActionParams) -> list[types.CodeAction]:
        start = params.range.start  # VS Code asks at every cursor move: the place the user looks at
        ls.completer.reveal(params.text_document.uri, start.line, start.character, ls.encoding)
        return list_actions(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls, action: types.CodeAction) -> types.CodeAction:
        data = action.data
        if not isinstance(data, dict) or data.get("action") not in MODEL_ACTIONS:
            return action
        edit, message = await compute_fix(ls, data)
        if edit is None:
            action.disabled = types.CodeActionDisabled(reason=message)
            _tell(ls, _no_edit(data, message))
        else:
            action.edit = edit
        return action

    @server.command(FIX_COMMAND)
    async def fix(ls, *args) -> dict:
        data = args[0] if args else None
        if not isinstance(data, dict):
            return {"applied": False, "message": "localLlm.fix needs [{uri, range, version, diagnostic}]"}
        edit, message = await compute_fix(ls, data)
        if edit is None:
            _tell(ls, _no_edit(data, message))
            return {"applied": False, "message": message}
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=_(FIX_TITLE)))
        if not result.applied:
            reason = result.failure_reason or _("the editor did not apply the edit")
            _tell(ls, _("the fix was not applied: {reason}", reason=reason))
            return {"applied": False, "message": reason}
        return {"applied": True, "message": message}
