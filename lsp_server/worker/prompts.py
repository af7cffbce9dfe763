"""Which prompt a completion is answered from, given what the KV cache holds.

Owns the choice between a request's own full prompt (its windows and its cross-file context) and
the cheaper ones that keep a suggestion from waiting for a cold prompt: the prompt with the
cross-file context the cache already holds (while the new context is computed when the worker is
idle), and the small window around the cursor of a cold start (a newly opened file, a jump
elsewhere), whose full prompt is likewise computed ahead (the worker also spends what is left of
that request's latency target on it). Whether a prompt is cold follows from the latency target and
this machine's measured prompt speed (`affordable_tokens`). Also what a prefill computes ahead,
whether a prompt being computed ahead still serves a later keystroke (`serves`), and the suffix
window of an engine that computes it at every keystroke (`shiftless_suffix_tokens`). Builds
prompts (`context.fim`) and asks the engine what its cache holds; never generates.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.context.fim import ANCHOR_LINES, FimPrompt, build_fim_prompt
from lsp_server.context.templates import FimTemplate
from lsp_server.syntax.languages import spec_for
from lsp_server.syntax.lines import start_of_line
from lsp_server.worker.engine import Engine
from lsp_server.worker.engine.layout import plan
from lsp_server.worker_protocol import CompletionRequest, ContextFile

# A cold prompt is answered from a small window around the cursor (no cross-file context) while
# the full prompt is computed when the worker is idle; only when that saves most of the work: a
# file of a few hundred tokens gets its whole text at once.
SMALL_PREFIX_TOKENS = 256
SMALL_SUFFIX_TOKENS = 64
SMALL_ANCHOR_LINES = 8  # the small prefix window's start moves in steps of this many lines
COLD_FACTOR = 2  # the small window answers only when the full prompt costs more than this many times it
# A live request computes its full prompt when that takes at most this share of its latency target
# (the rest is the suggestion's); more, and it is answered from a cheaper prompt while the full one
# is computed ahead.
PROMPT_SHARE = 0.5
MIN_AFFORDABLE_TOKENS = 64
# An engine that cannot move KV entries (a remote engine, `reuseShiftedCache` off) computes the
# whole suffix window again at every keystroke: with the latency budget on, that window gets what a
# keystroke can afford beside the prefix tokens it computes (KEYSTROKE_TOKENS, about the measured
# median), in steps of SUFFIX_STEP so that the prompt does not change with every speed measured.
KEYSTROKE_TOKENS = 16
SUFFIX_STEP = 32
MIN_SHIFTLESS_SUFFIX_TOKENS = 32


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
        suffix_budget=min(suffix_budget(engine, req), SMALL_SUFFIX_TOKENS) if small else suffix_budget(engine, req),
        bos=engine.bos, anchor=SMALL_ANCHOR_LINES if small else ANCHOR_LINES,
        context=[(c.path, c.text) for c in pieces], repo=req.repo, comment=spec.comment_prefix if spec else "#",
    )


def suffix_budget(engine: Engine, req: CompletionRequest) -> int:
    """The request's suffix window, in tokens (`shiftless_suffix_tokens` for this engine)."""
    if engine.can_shift:
        return req.suffix_tokens
    return shiftless_suffix_tokens(req.suffix_tokens, req.latency_target_ms, engine.rates.prompt_tps)


def shiftless_suffix_tokens(suffix_tokens: int, target_ms: int, prompt_tps: float) -> int:
    """The suffix window for an engine that computes it again at every keystroke: the setting's
    `suffix_tokens`, or less where the latency target (on) at the engine's measured prompt speed
    does not afford it (`affordable_tokens` less a keystroke's prefix tokens), in SUFFIX_STEP steps
    and never below MIN_SHIFTLESS_SUFFIX_TOKENS. A fast engine (a GPU: thousands of tokens a second)
    keeps the whole window; a CPU one keeps the lines just after the cursor. Unmeasured: the setting."""
    if target_ms <= 0 or prompt_tps <= 0:
        return suffix_tokens
    room = affordable_tokens(target_ms, prompt_tps) - KEYSTROKE_TOKENS
    return min(suffix_tokens, max(MIN_SHIFTLESS_SUFFIX_TOKENS, room // SUFFIX_STEP * SUFFIX_STEP))


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
    full_cost = engine.uncached(full.tokens)
    if full_cost <= max(affordable_tokens(req.latency_target_ms, engine.rates.prompt_tps), COLD_FACTOR * len(small.tokens)):
        return [full.tokens]
    return [small.tokens, full.tokens]


def affordable_tokens(target_ms: int, prompt_tps: float) -> int:
    """How many prompt tokens a live request computes before answering rather than answer from a
    cheaper prompt: what PROMPT_SHARE of the latency target buys at this machine's measured prompt
    speed, so that a fast machine never gets the small window and a slow one never waits seconds
    for the rest of a full one; never fewer than MIN_AFFORDABLE_TOKENS (a keystroke's prompt on a
    warm cache is always computed). Before any speed is measured: COLD_FACTOR small windows."""
    if prompt_tps <= 0:
        return COLD_FACTOR * (SMALL_PREFIX_TOKENS + SMALL_SUFFIX_TOKENS)
    return max(MIN_AFFORDABLE_TOKENS, int(target_ms / 1000 * PROMPT_SHARE * prompt_tps))


def serves(engine: Engine, target: list[int], tokens: list[int]) -> bool:
    """Whether `target`, once computed, serves the prompt `tokens` affordably (MIN_AFFORDABLE_TOKENS):
    it is the same place a few keystrokes before, and its suffix moves rather than being computed
    again. A prompt being computed ahead is then finished rather than restarted at every keystroke
    (a user typing on would otherwise never let its suffix be finished)."""
    p = plan(target, len(target), tokens, can_shift=engine.can_shift, fim_suf=engine.info.roles.get("fim_suf"))
    return p.computed <= MIN_AFFORDABLE_TOKENS


def choose_prompt(engine: Engine, template: FimTemplate, req: CompletionRequest, live: bool,
                  held: Held | None = None) -> tuple[FimPrompt, FimPrompt | None]:
    """(the prompt to answer with, the full prompt to compute while idle or None).

    A `live` request with the latency budget on whose full prompt costs more than it can afford
    (`affordable_tokens`, counting what the prompt in use or a spare holds of it: `Engine.uncached`) is answered, in
    this order, from its windows with the cross-file context the cache holds (`held`: the context
    changed, and the cache has the old one), or from the small window when that costs less than
    1/COLD_FACTOR of the full one. Only an engine with spare sequences does (`has_spares`):
    growing the full window into the cache in use would throw away the small one at every
    keystroke. The prompt chosen is then swapped for a spare that holds more of it
    (`Engine.adopt`: one computed ahead, or the file the user was in before); the others are
    left where they are. `held` is updated to the context of the prompt chosen."""
    held = held if held is not None else Held()
    full = fim_prompt(engine, template, req)
    chosen, grow = full, None
    if live and req.latency_target_ms > 0 and engine.has_spares:
        limit = affordable_tokens(req.latency_target_ms, engine.rates.prompt_tps)
        full_cost = engine.uncached(full.tokens)
        if full_cost > limit:
            older = None
            if held.context is not None and held.context != req.context:
                older = fim_prompt(engine, template, req, context=held.context)
            if older is not None and engine.uncached(older.tokens) <= limit:
                chosen, grow = older, full
            elif _small_applies(req):
                small = fim_prompt(engine, template, req, small=True)
                if COLD_FACTOR * engine.uncached(small.tokens) < full_cost:
                    chosen, grow = small, full
    engine.adopt(chosen.tokens)
    if chosen is full:
        held.context = req.context
    elif chosen.prefix_tokens < full.prefix_tokens:  # the small window: no context
        held.context = ()
    return chosen, grow
