"""FIM prompt assembly: windows sized in the model's tokens, and the token sequence itself.

Pure functions over a `tokenize` callable (the model's tokenizer in production). The prefix
window starts at a stable anchor, a line boundary rounded to a block of lines, so that the
tokens in front of the cursor stay identical from keystroke to keystroke and the model's KV
cache stays warm; what changes on a keystroke sits at the end of the prefix.
Must not run the model or know about LSP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lsp_server.context.templates import FimTemplate, role_of

Tokenize = Callable[[str], list[int]]

ANCHOR_LINES = 32  # the prefix window's first line is a multiple of this (when it must be cut)


class MissingFimTokens(Exception):
    """The model's vocabulary lacks a token role the template needs."""


@dataclass(frozen=True)
class Window:
    text: str
    start: int  # offset in the original string where the window begins (prefix) or ends (suffix)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)  # fine for budgeting: only token counts come from it


def prefix_window(prefix: str, budget: int, tokenize: Tokenize, anchor: int = ANCHOR_LINES) -> Window:
    """The tail of `prefix` that fits `budget` tokens, starting at a stable line boundary."""
    if budget <= 0:
        return Window("", len(prefix))
    lines = _lines(prefix)
    used, first = 0, len(lines)
    for i in range(len(lines) - 1, -1, -1):
        cost = len(tokenize(lines[i]))
        if used + cost > budget:
            break
        used += cost
        first = i
    if first == 0:
        return Window(prefix, 0)
    if first >= len(lines):  # even the cursor's line does not fit: keep its last characters
        tail = lines[-1] if lines else ""
        keep = tail
        while keep and len(tokenize(keep)) > budget:
            keep = keep[max(1, len(keep) // 8):]
        return Window(keep, len(prefix) - len(keep))
    # Round the first line up to the next anchor so the window does not slide every keystroke.
    anchored = min(-(-first // anchor) * anchor, len(lines) - 1)
    start = sum(len(line) for line in lines[:anchored])
    return Window(prefix[start:], start)


def suffix_window(suffix: str, budget: int, tokenize: Tokenize) -> Window:
    """The head of `suffix` that fits `budget` tokens, cut at a line end where possible."""
    if budget <= 0 or not suffix:
        return Window("", 0)
    used, end = 0, 0
    for line in _lines(suffix):
        cost = len(tokenize(line))
        if used + cost > budget:
            if end == 0:  # the first line alone is too long: keep what fits of it
                keep = line
                while keep and len(tokenize(keep)) > budget:
                    keep = keep[: len(keep) * 7 // 8]
                return Window(keep, len(keep))
            break
        used += cost
        end += len(line)
    return Window(suffix[:end], end)


@dataclass(frozen=True)
class FimPrompt:
    tokens: list[int]
    prefix_start: int  # offset in the document prefix where the window starts
    prefix_tokens: int
    suffix_tokens: int
    context_tokens: int = 0  # of the cross-file context block


def build_fim_prompt(
    template: FimTemplate,
    roles: dict[str, int],
    tokenize: Tokenize,
    prefix: str,
    suffix: str,
    *,
    path: str = "",
    prefix_budget: int = 1024,
    suffix_budget: int = 256,
    bos: int | None = None,
    anchor: int = ANCHOR_LINES,
    context: Sequence[tuple[str, str]] = (),
    repo: str = "",
    comment: str = "#",
) -> FimPrompt:
    """Assemble the token sequence for `template` with windows of the given token budgets.

    `roles` maps role names (fim_pre, fim_suf, ...) to the vocabulary's token ids; a role the
    template needs but the model lacks raises MissingFimTokens naming it. `context`: (path, text)
    pieces of other files, put first in the template's repository-level form (`context_header`,
    `context_file`) where the template has one and the model has its roles, else commented (with
    the language's line `comment`) in front of the prefix window; either way the block depends on
    the pieces alone, so it stays byte-identical while they do (and so in the KV cache).
    """
    with_path = bool(path) and template.sequence != template.sequence_no_path and "fim_sep" in roles
    sequence = template.sequence if with_path else template.sequence_no_path
    missing = sorted(r for r in template.roles_needed(with_path) if r not in roles)
    if missing:
        raise MissingFimTokens(
            f"the model has no FIM token for {', '.join(missing)} (template {template.name!r}); "
            "use a code model trained for fill-in-the-middle"
        )
    pre = prefix_window(prefix, prefix_budget, tokenize, anchor)
    suf = suffix_window(suffix, suffix_budget, tokenize)
    tokens: list[int] = [bos] if template.bos and bos is not None else []
    counts = {"prefix": 0, "suffix": 0, "context": 0}
    repo_form = bool(template.context_file) and template.context_roles() <= set(roles)
    commented: list[int] = []
    if context and repo_form:
        block = _render(template.context_header, {"repo": repo or "workspace"}, roles, tokenize)
        for piece_path, text in context:
            block += _render(template.context_file, {"path": piece_path, "text": text}, roles, tokenize)
        tokens += block
        counts["context"] = len(block)
    elif context:
        commented = tokenize(commented_context(context, comment))
        counts["context"] = len(commented)
    values = {"prefix": pre.text, "suffix": suf.text, "path": path}
    for item in sequence:
        if "{prefix}" in item:
            tokens += commented  # the commented context sits right before the prefix window
        tokens += _render((item,), values, roles, tokenize, counts)
    return FimPrompt(tokens, pre.start, counts["prefix"], counts["suffix"], counts["context"])


def commented_context(context: Sequence[tuple[str, str]], comment: str) -> str:
    """The context pieces as line comments, each under a line naming its file."""
    out = []
    for piece_path, text in context:
        out.append(f"{comment} {piece_path}\n")
        out += [f"{comment} {line}\n" if line.strip() else f"{comment}\n" for line in text.splitlines()]
    return "".join(out)


def _render(items: Sequence[str], values: dict[str, str], roles: dict[str, int], tokenize: Tokenize,
            counts: dict[str, int] | None = None) -> list[int]:
    """Template items to tokens: a role item is its token; text items have their {placeholders}
    filled from `values`, each placeholder tokenized on its own (so that the user's text is never
    parsed for special tokens and the prefix's tokens do not depend on what follows it); the
    tokens of placeholders named in `counts` are counted there."""
    tokens: list[int] = []
    for item in items:
        role = role_of(item)
        if role is not None:
            tokens.append(roles[role])
            continue
        for name in values:
            item = item.replace("{" + name + "}", "\0" + name + "\0")
        for i, part in enumerate(item.split("\0")):
            if not part:
                continue
            if i % 2 == 1:  # a placeholder
                ids = tokenize(values[part]) if values[part] else []
                if counts is not None and part in counts:
                    counts[part] += len(ids)
            else:
                ids = tokenize(part)
            tokens.extend(ids)
    return tokens
