"""FIM prompt assembly: windows sized in the model's tokens, and the token sequence itself.

Pure functions over a `tokenize` callable (the model's tokenizer in production). The prefix
window starts at a stable anchor, a line boundary rounded to a block of lines, so that the
tokens in front of the cursor stay identical from keystroke to keystroke and the model's KV
cache stays warm; what changes on a keystroke sits at the end of the prefix.
Must not run the model or know about LSP.
"""

from __future__ import annotations

from collections.abc import Callable
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
) -> FimPrompt:
    """Assemble the token sequence for `template` with windows of the given token budgets.

    `roles` maps role names (fim_pre, fim_suf, ...) to the vocabulary's token ids; a role the
    template needs but the model lacks raises MissingFimTokens naming it.
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
    counts = {"prefix": 0, "suffix": 0}
    for item in sequence:
        role = role_of(item)
        if role is not None:
            tokens.append(roles[role])
            continue
        for name, value in (("prefix", pre.text), ("suffix", suf.text), ("path", path)):
            item = item.replace("{" + name + "}", "\0" + name + "\0")
        # Tokenize each part on its own so the prefix's tokens do not depend on what follows it.
        for i, part in enumerate(item.split("\0")):
            if not part:
                continue
            if i % 2 == 1:  # a placeholder
                text = {"prefix": pre.text, "suffix": suf.text, "path": path}[part]
                ids = tokenize(text) if text else []
                if part in counts:
                    counts[part] += len(ids)
            else:
                ids = tokenize(part)
            tokens.extend(ids)
    return FimPrompt(tokens, pre.start, counts["prefix"], counts["suffix"])
