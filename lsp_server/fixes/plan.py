"""A fix or an explanation from start to end, minus the model call.

`plan_fix` picks the node to replace and builds the chat messages; `finish_fix` turns the
model's answer into minimal edits of that node, or a reason to refuse. `plan_explain` does the
same for explanations. Pure: the caller snapshots the document, runs the model in between and
checks that the document is still at the version it planned on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tree_sitter

from lsp_server.fixes import prompts
from lsp_server.fixes.answer import replacement
from lsp_server.fixes.checks import MAX_LINES, check
from lsp_server.fixes.edits import apply_edits, minimal_edits
from lsp_server.fixes.scopes import Region, enclosing_scope, target_region
from lsp_server.i18n.messages import _
from lsp_server.syntax.lines import eol_of, leading_ws, line_bounds, start_of_line

CONTEXT_LINES = 20  # lines before the node sent as context
CONTEXT_CHARS = 2000
MAX_NODE_CHARS = 12_000  # about 3,500 tokens: what fits a 4,096-token context with the answer
EXPLAIN_TOKENS = 400


@dataclass
class FixPlan:
    region: Region
    original: str
    indent: str
    eol: str
    messages: list[dict]
    max_tokens: int


@dataclass
class FixOutcome:
    edits: list[tuple[int, int, str]] = field(default_factory=list)  # string offsets in the document
    replacement: str = ""
    reason: str | None = None  # why there is no edit


def _before(text: str, start: int) -> str:
    line_start = start_of_line(text, start)
    lines = text[:line_start].splitlines()[-CONTEXT_LINES:]
    return "\n".join(lines)[-CONTEXT_CHARS:]


def _kind_word(region: Region) -> str:
    return region.kind if region.kind in ("function", "class") else "code"


def plan_fix(*, text: str, tree: tree_sitter.Tree | None, language: str | None, path: str,
             start: int, end: int, problem: str | None, prompts_dir: str = "",
             answer_language: str = "English") -> FixPlan | str:
    """The plan for fixing the code at [start, end) (a diagnostic's range), or why there is none."""
    if tree is None:
        return _("fixes need a language the server parses (its syntax is checked before an edit is offered)")
    region = target_region(tree, text, language, start, end)
    if region is None:
        return _("there is no code here to fix")
    original = text[region.start:region.end]
    lines = original.count("\n") + 1
    if len(original) > MAX_NODE_CHARS or lines > MAX_LINES:
        return _("the {kind} is too large for the local model ({lines} lines)", kind=_kind_word(region), lines=lines)
    line_start, line_end = line_bounds(text, region.start)
    indent = leading_ws(text[line_start:line_end])
    focus_start, focus_end = line_bounds(text, min(max(start, region.start), region.end))
    focus = text[focus_start:focus_end] if problem else None
    messages = prompts.fix_messages(
        language=language or "", path=path, kind=_kind_word(region), code=_dedent_tail(original, indent),
        before=_before(text, region.start), problem=problem, focus_line=focus, prompts_dir=prompts_dir,
        answer_language=answer_language,
    )
    max_tokens = min(2048, max(128, len(original) // 3 + 96))
    return FixPlan(region, original, indent, eol_of(text), messages, max_tokens)


def _dedent_tail(code: str, indent: str) -> str:
    """The node's text as if it started at column 0 (its first line has no indentation)."""
    if not indent:
        return code
    return "\n".join(line[len(indent):] if line.startswith(indent) else line for line in code.replace("\r\n", "\n").split("\n"))


def finish_fix(plan: FixPlan, *, text: str, language: str | None, answer: str) -> FixOutcome:
    """The model's answer -> edits of `text` (the same text the plan was made on), or a reason."""
    region = plan.region
    new = replacement(answer, original=plan.original, language=language, node_type=region.node_type,
                      name=region.name, indent=plan.indent, eol=plan.eol)
    if new is None:
        return FixOutcome(reason=_("the model's answer has no code"))
    edits = minimal_edits(plan.original, new)
    new = apply_edits(plan.original, edits)  # what the editor will have: blank-line churn left out
    reason = check(text=text, language=language, start=region.start, end=region.end, node_type=region.node_type,
                   kind=region.kind, new=new, edits=edits)
    if reason is not None:
        return FixOutcome(replacement=new, reason=reason)
    return FixOutcome([(region.start + s, region.start + e, t) for s, e, t in edits], new)


@dataclass
class ExplainPlan:
    start: int
    end: int
    messages: list[dict]
    max_tokens: int


def plan_explain(*, text: str, tree: tree_sitter.Tree | None, language: str | None, path: str,
                 start: int, end: int, prompts_dir: str = "", answer_language: str = "English",
                 answer_note: str = "") -> ExplainPlan | str:
    """The selection when there is one, else the enclosing function or class, else the line."""
    kind = "code"
    if end <= start or not text[start:end].strip():
        region = enclosing_scope(tree, text, language, start, start) if tree is not None else None
        if region is not None:
            start, end, kind = region.start, region.end, _kind_word(region)
        else:
            start, end = line_bounds(text, start)
    code = text[start:end]
    if not code.strip():
        return _("there is no code here to explain")
    if len(code) > MAX_NODE_CHARS:
        return _("the code is too large to explain with the local model ({lines} lines)", lines=code.count("\n") + 1)
    line_start, line_end = line_bounds(text, start)
    indent = leading_ws(text[line_start:line_end])
    messages = prompts.explain_messages(language=language or "text", path=path, kind=kind,
                                        code=_dedent_tail(code, indent), before=_before(text, start),
                                        prompts_dir=prompts_dir, answer_language=answer_language,
                                        answer_note=answer_note)
    return ExplainPlan(start, end, messages, EXPLAIN_TOKENS)
