"""The scan: walk the model's output line by line, bracket by bracket, to where the gate's scope
ends.

Owns reading the candidate (its lines, its brackets outside comments and strings, the comments
and strings that span lines), the walk that applies the rules of `cut_rules` to each line and
each bracket in the order of its tables, and the result (`Scan`: the end, the extra cut points,
the rule that ended it).
Must not hold a rule itself (`cut_rules`), parse, or choose among cuts (`truncation`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lsp_server.syntax.cut_rules import (AFTER_BRACKETS, AT_LINE_END, BEFORE_BRACKETS, GO_ON, ON_BRACKET, ON_CLOSER,
                                         End, Line, Verdict, Walk)
from lsp_server.syntax.lexer import lex
from lsp_server.syntax.rules import Rules
from lsp_server.syntax.surroundings import Surroundings

Decided = tuple[Callable[..., Verdict], Verdict]  # the rule that gave a verdict, and the verdict


@dataclass
class Scan:
    """Where the gate's scope ends in the candidate, as far as the scan can tell."""

    end: int | None  # where the scope ends in the candidate; None: not yet known
    cuts: list[int] = field(default_factory=list)  # extra cut points: around closing brackets
    by: str | None = None  # the rule that ended it or waits (None: the end of the candidate)


def scan(ctx: Surroundings, cand: str, final: bool) -> Scan:
    """Walk the candidate line by line and find where the gate's scope ends.

    `final`: the candidate is complete (else its last line may still grow, and the end is only
    reported once it is certain)."""
    walk = Walk.start(ctx, cand, *_read(ctx.rules, cand, final), final)
    for line in walk.lines:
        decided = (_first(BEFORE_BRACKETS, ctx, walk, line) or _brackets(ctx, walk, line)
                   or _first(AFTER_BRACKETS, ctx, walk, line))
        if decided is None:
            walk.read(ctx, line)
            decided = _first(AT_LINE_END, ctx, walk, line)
        if decided is not None:
            rule, verdict = decided
            return Scan(verdict.at if isinstance(verdict, End) else None, walk.cuts, rule.__name__)
    return Scan(len(cand) if final else None, walk.cuts)


def _brackets(ctx: Surroundings, walk: Walk, line: Line) -> Decided | None:
    """The verdict on a bracket of `line` that stops the walk: the `ON_BRACKET` rules on each,
    then the `ON_CLOSER` rules on a closer of a bracket opened before the candidate."""
    while (pos := walk.next_bracket(line)) is not None:
        decided = _first(ON_BRACKET, ctx, walk, line, pos)
        if decided is None and walk.depth < 0:
            decided = _first(ON_CLOSER, ctx, walk, line, pos)
        if decided is not None and decided[1] is not GO_ON:
            return decided
    return None


def _first(rules: tuple[Callable[..., Verdict], ...], *args) -> Decided | None:
    """The first of `rules` that gives a verdict, and its verdict."""
    for rule in rules:
        verdict = rule(*args)
        if verdict is not None:
            return rule, verdict
    return None


def _read(rules: Rules, cand: str, final: bool) -> tuple[_Lines, list[tuple[int, int]]]:
    """The candidate's lines, and its brackets outside comments and strings ((offset, +1) for an
    opener, (offset, -1) for a closer)."""
    events: list[tuple[int, int]] = []
    spans: list[tuple[int, int]] = []  # comments and strings that span lines
    for tok in lex(cand, rules):
        if tok.kind == "open":
            events.append((tok.start, 1))
        elif tok.kind == "close":
            events.append((tok.start, -1))
        elif "\n" in cand[tok.start : tok.end]:
            spans.append((tok.start, tok.end))
    return _Lines(cand, final, spans), events


class _Lines(Sequence[Line]):
    """The candidate's lines, each made when it is read (the scan often stops after a few: the
    stop check runs it after every token)."""

    def __init__(self, cand: str, final: bool, spans: list[tuple[int, int]]) -> None:
        self._cand, self._final, self._spans = cand, final, spans
        self._starts = [0] + [i + 1 for i, c in enumerate(cand) if c == "\n"]

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, i: int) -> Line:  # type: ignore[override]  # no slices
        start = self._starts[i]  # IndexError past the last line ends iteration
        last = i + 1 == len(self._starts)
        end = len(self._cand) if last else self._starts[i + 1] - 1
        text = self._cand[start:end]
        starts_code = bool(text.strip()) and not any(s < start < e for s, e in self._spans)
        return Line(i, start, end, text, not last or self._final, starts_code)
