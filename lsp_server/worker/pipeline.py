"""One completion, from a request to the text an editor shows: prompt, generation, truncation.

Owns the completion path that the language server, the one-shot CLI and the quality benchmark
all share: build the FIM prompt from the model's tokens (context side), generate greedily with a
stop check that ends generation as soon as the cut point is certain (model side), then cut and
clean the text with the syntax-aware truncation, and ask again for the model's next choice when
the cut refuses it. Runs where the engine lives (the worker).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lsp_server.context.templates import FimTemplate
from lsp_server.worker.engine import Cancelled, Engine, EvalStats, Rates
from lsp_server.worker.prompts import Held, choose_prompt, split_indent
from lsp_server.syntax.gating import Gate
from lsp_server.syntax.lines import start_of_line
from lsp_server.syntax.truncation import StopChecker, clean, truncate
from lsp_server.worker_protocol import CompletionRequest, CompletionResult


def stop_token_ids(engine: Engine, template: FimTemplate) -> frozenset[int]:
    ids = {engine.info.roles[r] for r in template.stop_roles if r in engine.info.roles}
    return frozenset(ids)


MIN_BUDGET_TOKENS = 8  # always enough for a short line


# Generation may take at least this many times what the prompt already took. Measured on HumanEval's
# multi-line holes with the default settings (cold prompts of 1-2 s here): at 1.0, three of 80
# answers were cut at the end of a line before their block was complete (53.8% against 57.5%
# without a budget); a warm keystroke's prompt (under a third of the target) is not affected.
SUNK_SHARE = 2.0


def generation_budget(target_ms: int, elapsed_ms: float, generate_tps: float, max_tokens: int) -> int | None:
    """The tokens the latency target still buys once the prompt is computed, or None: no limit
    but the request's own (`max_tokens`) and the stop check (the scope's end).

    The target limits what is still to be spent, and never below what was already spent: the time
    left is the target minus the prompt's actual time (`elapsed_ms`), but at least SUNK_SHARE
    times that time. A cheap prompt (a keystroke on a warm cache) leaves most of the target to the
    suggestion; a cold one (the first in a newly opened file: seconds) is already late, and the
    user, who waits anyway, gets a suggestion to its natural end rather than a few tokens after
    the prompt was paid for; and the limit grows with the prompt's time, so that a faster machine
    never gets a shorter suggestion. The time buys tokens at this machine's measured speed, never
    fewer than MIN_BUDGET_TOKENS; the pipeline then still ends the line it is in. No target (0) or
    no speed measured yet: no limit.
    """
    if target_ms <= 0 or generate_tps <= 0:
        return None
    left_ms = max(target_ms - elapsed_ms, SUNK_SHARE * elapsed_ms)
    tokens = int(left_ms / 1000 * generate_tps)
    return None if tokens >= max_tokens else max(MIN_BUDGET_TOKENS, tokens)


def at_line_end(text: str) -> bool:
    """Whether `text` ends a line of code: it holds a non-blank line and nothing but blanks follows
    its last line break."""
    body = text.lstrip(" \t\r\n")
    end = max(body.rfind("\n"), body.rfind("\r"))
    return end >= 0 and not body[end + 1 :].strip(" \t")


MEASURE_TOKENS = 4  # with no generation speed measured yet, the budget is decided at this many tokens


class _Budget:
    """One completion's generation budget (`generation_budget`), decided at its first token from the
    time actually spent; `spent` says when to stop: the budget used up, at a line's end. The first
    completion of a model has no measured generation speed: its budget is then decided after
    MEASURE_TOKENS tokens, at the speed they were generated (else a cold first suggestion would run
    to the request's token limit: a 128-token block, seconds after the user stopped waiting)."""

    def __init__(self, req: CompletionRequest, rates: Rates, started: float) -> None:
        self.req, self.rates, self.started = req, rates, started
        self.tokens: int | None = None
        self.late: bool | None = None  # unknown until the first token
        self._measuring: tuple[float, int, float] | None = None  # (first token's time, tokens then, elapsed ms)

    def spent(self, generated: int, relative: str) -> bool:
        target = self.req.latency_target_ms
        if self.late is None:
            now = time.perf_counter()
            elapsed = (now - self.started) * 1000
            self.late = target > 0 and elapsed >= target
            self.tokens = generation_budget(target, elapsed, self.rates.generate_tps, self.req.max_tokens)
            if target > 0 and self.rates.generate_tps <= 0:
                self._measuring = (now, generated, elapsed)
        elif self._measuring is not None and generated - self._measuring[1] >= MEASURE_TOKENS:
            first_at, first_count, elapsed = self._measuring
            self._measuring = None
            seconds = time.perf_counter() - first_at
            if seconds > 0:
                self.tokens = generation_budget(target, elapsed, (generated - first_count) / seconds, self.req.max_tokens)
        return self.tokens is not None and generated >= self.tokens and at_line_end(relative)


ENDING_EVIDENCE_TOKENS = 64  # a model that writes this many tokens without ending the middle runs on


def ending_evidence(stop_reason: str, budget: int, requested: int) -> bool | None:
    """What one generation says of whether the model ends a middle itself: True (it did: end of
    text), False (it wrote up to a token limit large enough to tell: the request's, or a latency
    budget of at least ENDING_EVIDENCE_TOKENS), None (nothing: stopped by the stop check or
    cancelled, or a budget too small to tell)."""
    if stop_reason == "eos":
        return True
    if stop_reason == "max_tokens" and budget >= min(requested, ENDING_EVIDENCE_TOKENS):
        return False
    return None


def drop_typed_indent(text: str, indent: str) -> str | None:
    """The model's text relative to the cursor: without the indentation the user already typed.

    None while the text is still too short to tell. A different indentation chosen by the model
    cannot remove what was typed: its leading blanks are dropped instead.
    """
    if not indent:
        return text
    if len(text) < len(indent) and indent.startswith(text):
        return None
    if text.startswith(indent):
        return text[len(indent):]
    return text.lstrip(" \t")


MAX_RETRIES = 2  # a refused completion is asked again at most this often (the model's next choices)

def run_completion(
    engine: Engine,
    template: FimTemplate,
    req: CompletionRequest,
    cancelled: Cancelled,
    typed: Callable[[], str | None] | None = None,
    on_partial: Callable[[CompletionResult], None] | None = None,
    on_cold: Callable[[list[int]], None] | None = None,
    held: Held | None = None,
) -> CompletionResult:
    """Generate and cut one completion. `typed()`: None, or once the job is followed (its request
    is gone; the user types on at its cursor) what the user has typed there. A followed job stops
    with stop reason "disagrees" (and no text) as soon as its output is not what was typed, and,
    for a model that habitually runs on, at the end of its first statement (all that the cut
    keeps of such a model: more would only be generated ahead of the typing).

    When the cut refuses what the model wrote (it would break the file, or it repeats the code
    below), the model is asked again with its first token barred, so that it takes its next
    choice, up to MAX_RETRIES times, while the request is live (not followed) and within its
    latency target. Greedy decoding otherwise commits to a first token that the cut then throws
    away whole; the next choice is often the intended line (a cheap stand-in for decoding
    constrained by the grammar: one short generation on the cached prompt).

    `on_partial`: with `req.partial_after_ms` set, a live request still generating after that
    long is answered early, once, with the complete lines it has so far (cut as a finished
    completion would be); the generation goes on for the rest, which the caller is expected to
    follow from then on (`typed()` then returns what was typed since, "" at first).

    `on_cold`: a request answered from another prompt than its own full one (`choose_prompt`: the
    small window of a cold start, or the cross-file context in use while the new one is not
    computed) hands it the full prompt's tokens, to be computed while the worker is idle. `held`:
    the worker's record of the context the cache holds, which `choose_prompt` reads and updates."""
    started = time.perf_counter()
    _, typed_indent = split_indent(req.prefix)
    prompt, grow = choose_prompt(engine, template, req, live=on_cold is not None and (typed is None or typed() is None),
                                 held=held)
    gate = req.gate
    max_tokens = req.max_tokens
    # the indentation the code around leaves one choice for (when what is typed agrees with it)
    lead = gate.indent if gate is not None and gate.indent is not None and gate.indent.startswith(typed_indent) else None
    avoid: set[int] = set()
    budget = _Budget(req, engine.rates, started)
    total = EvalStats()
    retries = 0
    while True:
        stats = EvalStats()
        partial = _Partial(req, gate, engine.rates.runs_on, started, on_partial) if on_partial and not retries else None
        raw, stopped_early = _generate(engine, template, req, gate, prompt.tokens, max_tokens, lead, typed_indent,
                                       frozenset(avoid), cancelled, typed, stats, partial,
                                       None if retries else budget)  # a retry's limit is what is left
        _add(total, stats, first=not retries)
        engine.rates.update(stats)
        if stats.stop_reason == "disagrees":
            text = ""
            break
        if stopped_early:
            stats.stop_reason = "stop_check"
        elif not retries and (ended := ending_evidence(stats.stop_reason, max_tokens, req.max_tokens)) is not None:
            engine.rates.note_ending(ended)  # a retry's barred first token makes its ending no evidence
        total.stop_reason = stats.stop_reason
        # The model did not end the middle itself within its budget (or was stopped at the scope's
        # end and is one that habitually runs on): trust its first statement only.
        overran = stats.stop_reason in ("max_tokens", "budget") or stats.stop_reason == "stop_check" and engine.rates.runs_on
        text = _cut(req, gate, raw, overran)
        retry_tokens = max_tokens if budget.late else _retry_budget(req, engine.rates, max_tokens, started)
        if (text or not raw.strip() or not req.truncate or gate is None or retries >= MAX_RETRIES
                or stats.first_token is None or stats.stop_reason in ("cancelled", "context_full")
                or retry_tokens < MIN_BUDGET_TOKENS or (typed is not None and typed() is not None) or cancelled()):
            break
        avoid.add(stats.first_token)
        max_tokens = retry_tokens
        retries += 1
    data = _stats_dict(total)
    if grow is not None and on_cold is not None:
        on_cold(grow.tokens)
        data["small_window" if prompt.prefix_tokens < grow.prefix_tokens else "older_context"] = True
    data.update(prefix_window_tokens=prompt.prefix_tokens, suffix_window_tokens=prompt.suffix_tokens,
                context_tokens=prompt.context_tokens,
                token_budget=budget.tokens if budget.tokens is not None else max_tokens, late=bool(budget.late),
                retries=retries)
    if partial is not None and partial.tokens is not None:
        data["partial_tokens"] = partial.tokens
    return CompletionResult(text=text, raw=raw, stats=data)


def _generate(engine: Engine, template: FimTemplate, req: CompletionRequest, gate: Gate | None, tokens: list[int],
              max_tokens: int, lead: str | None, typed_indent: str, avoid: frozenset[int], cancelled: Cancelled,
              typed: Callable[[], str | None] | None, stats: EvalStats, partial: "_Partial | None" = None,
              budget: _Budget | None = None) -> tuple[str, bool]:
    """One generation with the stop checks: (raw text relative to the cursor, stopped by a stop check).
    A `budget` used up ends it at a line end with stop reason "budget"."""
    checker = StopChecker(req.language, req.prefix, req.suffix, gate) if gate is not None and req.truncate else None
    pieces: list[str] = []
    stopped_early = False
    narrow: StopChecker | None = None  # a followed job's stop check for a model that runs on
    for piece in engine.generate(
        tokens,
        max_tokens=max_tokens,
        cancelled=cancelled,
        stop_tokens=stop_token_ids(engine, template),
        stats=stats,
        lead=lead,
        avoid_first=avoid,
    ):
        pieces.append(piece)
        text = "".join(pieces)
        if any(s in text for s in template.stop_text):
            stopped_early = True
            break
        relative = drop_typed_indent(text, typed_indent)
        followed = typed() if typed is not None and relative is not None else None
        if followed is not None:
            if not (relative.startswith(followed) or followed.startswith(relative)):
                stats.stop_reason = "disagrees"
                break
            if narrow is None and gate is not None and req.truncate and engine.rates.runs_on:
                narrow = StopChecker(req.language, req.prefix, req.suffix, gate, overran=True)
            if narrow is not None and narrow.feed(relative):
                stopped_early = True
                break
        if checker is not None and relative is not None and checker.feed(relative):
            stopped_early = True
            break
        if partial is not None and followed is None and relative is not None:
            partial.offer(relative, stats)
        if budget is not None and relative is not None and budget.spent(stats.generated_tokens, relative):
            stats.stop_reason = "budget"
            break
    raw = "".join(pieces)
    for stop in template.stop_text:
        raw = raw.split(stop, 1)[0]
    return drop_typed_indent(raw, typed_indent) or "", stopped_early


class _Partial:
    """The early answer of one generation: once `partial_after_ms` have passed since the request
    started, the complete lines generated so far, cut as a finished completion (`truncate`), are
    handed to `on_partial` the first time that cut is not empty."""

    def __init__(self, req: CompletionRequest, gate: Gate | None, runs_on: bool, started: float,
                 on_partial: Callable[[CompletionResult], None]) -> None:
        self.req, self.gate, self.runs_on, self.on_partial = req, gate, runs_on, on_partial
        self.deadline = started + req.partial_after_ms / 1000 if req.partial_after_ms > 0 else None
        self.tokens: int | None = None  # generated when the early answer was sent
        self._end = -1  # where the complete lines ended at the last try

    def offer(self, relative: str, stats: EvalStats) -> None:
        if self.deadline is None or self.tokens is not None or time.perf_counter() < self.deadline:
            return
        end = start_of_line(relative, lone_cr=True) - 1  # where the complete lines end
        if end <= self._end:
            return  # no line completed since the last try
        self._end = end
        lines = relative[:end].rstrip("\r")
        if not lines.strip():
            return
        text = _cut(self.req, self.gate, lines, self.runs_on)
        if text:
            self.tokens = stats.generated_tokens
            self.on_partial(CompletionResult(text=text, raw=lines, stats={**_stats_dict(stats), "partial": True}))


def _cut(req: CompletionRequest, gate: Gate | None, raw: str, overran: bool) -> str:
    """The text an editor gets from the model's `raw` output: the syntax-aware cut where there is
    a gate, cleaned only where there is none, untouched for a raw request."""
    if not req.truncate:
        return raw
    if gate is None:
        return clean(raw)
    return truncate(req.language, req.prefix, clean(raw), req.suffix, gate, overran=overran)


def _stats_dict(stats: EvalStats) -> dict:
    """A request's stats as reported (the first token chosen is internal to the retries)."""
    data = stats.as_dict()
    del data["first_token"]
    return data


def _retry_budget(req: CompletionRequest, rates: Rates, max_tokens: int, started: float) -> int:
    """Tokens a retry may generate: what is left of the latency target at the measured speed (no
    target: the first attempt's limit)."""
    if req.latency_target_ms <= 0 or rates.generate_tps <= 0:
        return max_tokens
    left_ms = req.latency_target_ms - (time.perf_counter() - started) * 1000
    return min(max_tokens, int(left_ms / 1000 * rates.generate_tps))


def _add(total: EvalStats, stats: EvalStats, *, first: bool) -> None:
    """Fold one attempt's counts into the request's (the cache figures are the first attempt's)."""
    if first:
        total.prompt_tokens, total.reused_tokens, total.shifted_tokens = stats.prompt_tokens, stats.reused_tokens, stats.shifted_tokens
        total.first_token = stats.first_token
    total.stop_reason = stats.stop_reason
    total.evaluated_tokens += stats.evaluated_tokens
    total.generated_tokens += stats.generated_tokens
    total.prompt_ms += stats.prompt_ms
    total.generate_ms += stats.generate_ms
