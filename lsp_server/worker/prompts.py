"""Which prompt a completion is answered from, given what the KV cache holds.

Owns the choice between a request's own full prompt (its windows and its cross-file context) and
the cheaper ones that keep the first suggestion from waiting for a cold prompt: the prompt with
the cross-file context the cache already holds (while the new context is computed when the
worker is idle), and the small window around the cursor of a cold start (a newly opened file, a
jump elsewhere), whose full prompt is likewise computed while idle. Also what a prefill computes
ahead. Builds prompts (`context.fim`) and asks the engine what its cache holds; never generates.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.context.fim import ANCHOR_LINES, FimPrompt, build_fim_prompt
from lsp_server.context.templates import FimTemplate
from lsp_server.syntax.languages import spec_for
from lsp_server.syntax.lines import start_of_line
from lsp_server.worker.engine import Engine
from lsp_server.worker_protocol import CompletionRequest, ContextFile

# A cold prompt is answered from a small window around the cursor (no cross-file context) while
# the full prompt is computed when the worker is idle; only when that saves most of the work: a
# file of a few hundred tokens gets its whole text at once.
SMALL_PREFIX_TOKENS = 256
SMALL_SUFFIX_TOKENS = 64
SMALL_ANCHOR_LINES = 8  # the small prefix window's start moves in steps of this many lines
COLD_FACTOR = 2  # "cold": the prompt would compute more than this many times the small window's tokens


@dataclass
class Held:
    """The cross-file context of the last prompt answered from (what the cache holds), or None."""

    context: tuple[ContextFile, ...] | None = None


def split_indent(prefix: str) -> tuple[str, str]:
    """(prefix for the prompt, indentation already typed on the cursor's whitespace-only line).

    After Enter an editor has already indented the new line. Ending a FIM prefix in spaces makes
    the model start a fresh indented line (its tokens carry leading whitespace), which doubles the
    indentation; so the prompt ends at the line start and the model writes the indentation itself.
    """
    line_start = start_of_line(prefix, lone_cr=True)
    tail = prefix[line_start:]
    if tail and not tail.strip(" \t"):
        return prefix[:line_start], tail
    return prefix, ""


def fim_prompt(engine: Engine, template: FimTemplate, req: CompletionRequest, *, small: bool = False,
               context: tuple[ContextFile, ...] | None = None) -> FimPrompt:
    """The request's FIM prompt: its own windows and context, or the small windows of a cold start
    (no context), or its windows with another `context`."""
    pieces = () if small else req.context if context is None else context
    spec = spec_for(req.language, req.path or None)
    return build_fim_prompt(
        template, engine.info.roles, engine.tokenize, split_indent(req.prefix)[0], req.suffix, path=req.path,
        prefix_budget=min(req.prefix_tokens, SMALL_PREFIX_TOKENS) if small else req.prefix_tokens,
        suffix_budget=min(req.suffix_tokens, SMALL_SUFFIX_TOKENS) if small else req.suffix_tokens,
        bos=engine.bos, anchor=SMALL_ANCHOR_LINES if small else ANCHOR_LINES,
        context=[(c.path, c.text) for c in pieces], repo=req.repo, comment=spec.comment_prefix if spec else "#",
    )


def _small_applies(req: CompletionRequest) -> bool:
    return req.latency_target_ms > 0 and req.prefix_tokens > SMALL_PREFIX_TOKENS


def prefill_prompts(engine: Engine, template: FimTemplate, req: CompletionRequest) -> list[list[int]]:
    """What to compute ahead of a request expected at `req`'s cursor, in order: the small window
    first where such a request would be answered from it (`choose_prompt`), then the full one.
    Nothing already held (by the prompt in use or a spare) is computed again: the warm step skips it."""
    full = fim_prompt(engine, template, req)
    if not _small_applies(req):
        return [full.tokens]
    small = fim_prompt(engine, template, req, small=True)
    if len(full.tokens) - engine.held(full.tokens) <= COLD_FACTOR * len(small.tokens):
        return [full.tokens]
    return [small.tokens, full.tokens]


def choose_prompt(engine: Engine, template: FimTemplate, req: CompletionRequest, live: bool,
                  held: Held | None = None) -> tuple[FimPrompt, FimPrompt | None]:
    """(the prompt to answer with, the full prompt to compute while idle or None).

    The prompt in use is first swapped for a spare that holds more of it (`Engine.adopt`: one
    computed ahead, or the file the user was in before). A `live` request with the latency budget
    on whose full prompt is cold (it would compute more than COLD_FACTOR times the small window's
    tokens) is answered, in this order, from its windows with the cross-file context the cache
    holds (`held`: the context changed, and the cache has the old one), or from the small window.
    Only an engine with spare sequences does (`has_spares`): growing the full window into the
    cache in use would throw away the small one at every keystroke.
    `held` is updated to the context of the prompt chosen."""
    held = held if held is not None else Held()
    full = fim_prompt(engine, template, req)
    engine.adopt(full.tokens)
    chosen, grow = full, None
    if live and req.latency_target_ms > 0 and engine.has_spares:
        limit = COLD_FACTOR * (SMALL_PREFIX_TOKENS + SMALL_SUFFIX_TOKENS)
        if engine.uncached(full.tokens) > limit:
            older = None
            if held.context is not None and held.context != req.context:
                older = fim_prompt(engine, template, req, context=held.context)
                engine.adopt(older.tokens)
            if older is not None and engine.uncached(older.tokens) <= limit:
                chosen, grow = older, full
            elif _small_applies(req):
                small = fim_prompt(engine, template, req, small=True)
                if engine.uncached(full.tokens) > COLD_FACTOR * len(small.tokens):
                    engine.adopt(small.tokens)
                    chosen, grow = small, full
    if chosen is full:
        held.context = req.context
    elif chosen.prefix_tokens < full.prefix_tokens:  # the small window: no context
        held.context = ()
    return chosen, grow
