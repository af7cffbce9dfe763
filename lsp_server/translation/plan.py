"""Translating a comment or docstring from start to end, minus the model call.

`offers` says which translations make sense for a comment (by script detection: into English
when it is not in Latin script, into the user's language when it is not in theirs);
`plan_translate` finds the comment, lays it out, notes the code in it (`protect.code_spans`) and
builds the chat messages; `finish_translate` turns the model's answer into one edit of the
comment, or a reason to refuse: code lost or changed, a different number of paragraphs, an answer
not in the target language's script (or noise: a 41-letter word), or a document that would not
parse as before (new syntax errors, code tokens outside the comment changed, or the comment no
longer one comment in place).
Pure: the caller snapshots the document and checks its version after the model call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter

from lsp_server.fixes.answer import code_blocks
from lsp_server.fixes.prompts import fence_for, fill, template
from lsp_server.fixes.scopes import Offsets, count_errors
from lsp_server.i18n.locales import UserLanguage, display_name, english
from lsp_server.i18n.messages import _, answer_note
from lsp_server.i18n.scripts import without_code, written_in
from lsp_server.syntax.comments import CommentBlock, code_tokens, comment_at
from lsp_server.syntax.languages import new_parser
from lsp_server.syntax.lines import line_bounds
from lsp_server.syntax.truncation import clean
from lsp_server.translation.layout import Layout, parse, rebuild
from lsp_server.translation.protect import code_spans, keep_code
from lsp_server.translation.wrap import join_lines

MAX_COMMENT_CHARS = 6000
_NOISE = re.compile(r"[A-Za-z]{41,}")  # a "word" no language has: a small model's noise


@dataclass
class TranslatePlan:
    block: CommentBlock
    layout: Layout
    spans: list[list[str]]  # the code of each paragraph, to come back byte for byte
    target: UserLanguage
    messages: list[dict]
    max_tokens: int


@dataclass
class TranslateOutcome:
    edit: tuple[int, int, str] | None = None  # string offsets in the document
    reason: str | None = None


def find(tree: tree_sitter.Tree | None, text: str, start: int, end: int) -> tuple[CommentBlock, Layout] | None:
    """The comment at [start, end) and its layout, or None when there is none this can translate."""
    block = comment_at(tree, text, start, end)
    if block is None:
        return None
    line_start, _end = line_bounds(text, block.start)
    layout = parse(text[block.start:block.end], block.kind, text[line_start:block.start])
    return (block, layout) if layout is not None else None


def offers(prose: list[str], user: UserLanguage) -> list[UserLanguage]:
    """The languages worth offering to translate `prose` into: English, then the user's."""
    text = "\n".join(prose)
    out = [] if written_in(text, "en") else [english()]
    if not user.is_english and not written_in(text, user.code):
        out.append(user)
    return out


def plan_translate(*, text: str, tree: tree_sitter.Tree | None, language: str | None, path: str, start: int,
                   end: int, target: UserLanguage, prompts_dir: str = "") -> TranslatePlan | str:
    found = find(tree, text, start, end)
    if found is None:
        return _("there is no comment here to translate")
    block, layout = found
    if block.end - block.start > MAX_COMMENT_CHARS:
        return _("the comment is too long to translate with the local model ({chars} characters)",
                 chars=block.end - block.start)
    spans = [code_spans(para) for para in layout.prose]
    joined = "\n".join(layout.prose)
    t = template("translate", prompts_dir)
    values = {"language": language or "text", "path": path, "target": target.name, "count": str(len(layout.prose)),
              "text": joined, "fence": fence_for(joined), "answer_note": answer_note(target)}
    messages = [{"role": "system", "content": fill(t["system"], values)},
                {"role": "user", "content": fill(t["user"], values)}]
    return TranslatePlan(block, layout, spans, target, messages, min(2048, 64 + 2 * len(joined)))


def answer_lines(answer: str) -> list[str]:
    """The translated lines of an answer: its fenced block (or the whole answer), blank lines left out."""
    answer = clean(answer)
    blocks = [b for b in code_blocks(answer) if b.strip()]
    body = blocks[0] if blocks else answer
    return [line.strip() for line in body.split("\n") if line.strip()]


def finish_translate(plan: TranslatePlan, *, text: str, language: str | None, answer: str,
                     ui: UserLanguage | None = None) -> TranslateOutcome:
    """`ui` is the language the reasons are shown in (names the target in it: "日本語", not "Japanese")."""
    lines = answer_lines(answer)
    if len(plan.spans) == 1 and lines:
        lines = [join_lines(lines)]
    if len(lines) != len(plan.spans):
        return TranslateOutcome(reason=_("the model's answer does not keep the comment's {count} paragraph(s)",
                                         count=len(plan.spans)))
    restored = []
    for line, spans in zip(lines, plan.spans):
        back = keep_code(line, spans)
        if back is None:
            return TranslateOutcome(reason=_("the model's answer lost or changed code inside the comment"))
        restored.append(back)
    if _NOISE.search(without_code("\n".join(restored))):
        return TranslateOutcome(reason=_("the model's answer is not a translation"))
    if not written_in("\n".join(restored), plan.target.code):
        return TranslateOutcome(reason=_("the model's answer is not in {language}",
                                                language=display_name(plan.target, ui or english())))
    new = rebuild(plan.layout, restored)
    reason = check(text=text, language=language, block=plan.block, new=new)
    if reason is not None:
        return TranslateOutcome(reason=reason)
    return TranslateOutcome((plan.block.start, plan.block.end, new))


def check(*, text: str, language: str | None, block: CommentBlock, new: str) -> str | None:
    """None if `new` may replace the comment `block`: a change, the same code tokens outside it, no
    new syntax error, and one comment of the same kind exactly in its place."""
    if new == text[block.start:block.end]:
        return _("the model proposed no change")
    parser = new_parser(language) if language else None
    if parser is None:
        return _("no parser for {language}: the edit cannot be checked, so it is not offered", language=language or "?")
    after_text = text[:block.start] + new + text[block.end:]
    old_tree, new_tree = parser.parse(Offsets(text).data), parser.parse(Offsets(after_text).data)
    if count_errors(new_tree.root_node) > count_errors(old_tree.root_node):
        return _("the translated comment would not parse: the edit would add a syntax error")
    if code_tokens(new_tree.root_node) != code_tokens(old_tree.root_node):
        return _("the translated comment would change the code around it")
    again = comment_at(new_tree, after_text, block.start, block.start)
    if again is None or (again.start, again.end, again.kind) != (block.start, block.start + len(new), block.kind):
        return _("the translated comment would not stay one comment in place")
    return None
