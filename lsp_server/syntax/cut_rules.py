"""Where the gate's scope ends in the model's output: the rules that the scan (`scan`) applies.

Owns the scan's state (`Walk`: where the scope's lines must stay, the bracket depth, the last
block header, the extra cut points), the line it reads (`Line`), and one function per rule. A
rule looks at one line of the candidate, or one bracket on it, and returns a verdict: `End(at)`
(the scope ends at `at`), `WAIT` (not known until the line is complete), `GO_ON` (the bracket
is settled: the scan goes on with the next one) or None (not this rule's case: the next rule's
turn). The tables at the end give the order; the first verdict wins.
Must not lex or split the candidate (that is `scan`), parse, or choose among cuts (`truncation`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from lsp_server.syntax.lexer import CLOSERS, code_of
from lsp_server.syntax.lines import indent_width
from lsp_server.syntax.rules import Rules, matches, opens_block
from lsp_server.syntax.surroundings import Surroundings


@dataclass(frozen=True)
class End:
    """The scope ends at `at`, a cut point of the candidate."""

    at: int


class Step(enum.Enum):
    WAIT = "wait"  # not known until the line is complete: the scan stops without an end
    GO_ON = "go on"  # the bracket is settled: the scan goes on with the next one


WAIT, GO_ON = Step.WAIT, Step.GO_ON
Verdict = End | Step | None


class Line(NamedTuple):
    """One line of the candidate."""

    i: int
    start: int
    end: int  # before its "\n"
    text: str
    complete: bool  # its "\n" is written, or the candidate is final
    starts_code: bool  # not blank, nor the inside of a comment or string a line above opened

    @property
    def before(self) -> int:
        """The cut point that drops this line."""
        return self.start - 1 if self.i else 0

    def leads(self, pos: int) -> bool:
        """Is the bracket at `pos` the first thing on the line?"""
        return not self.text[: pos - self.start].strip()


@dataclass
class Walk:
    """The scan's state: what the rules read, and what the few rules that change it write."""

    cand: str
    lines: Sequence[Line]
    events: list[tuple[int, int]]  # the candidate's brackets: (offset, +1 opens / -1 closes)
    final: bool
    first: str  # the line the candidate starts on: the cursor line's left side, with the
    # candidate's first line when that side is blank
    start_indent: int  # the indentation of `first`
    left_blank: bool  # nothing but whitespace left of the cursor
    statement_like: bool  # a block or statement scope: it ends where the block around it ends
    floor: int  # a line of code indented less ends the scope
    single: bool  # one statement or definition: a line of code at `floor` ends it too
    suffix_continues: bool  # a model that ran on, where the code below goes on with a clause
    header_only: bool  # the code below is deeper: the hole may be the header of its block
    seen_code: bool  # a line of code so far
    depth: int = 0  # brackets open in the candidate (below 0: closing the ones before it)
    ev: int = 0  # the next of `events`
    joins: bool = False  # the last line of code belongs to the next one (a decorator)
    last_header: int | None = None  # header_only: end of the last line of code if it opens a block
    header_depth: int = 0  # the bracket depth after that line
    # header_only, the header's `{` still open, for a model that ended by itself: the candidate
    # may be writing the first lines of the body whose rest the code below is (header's end,
    # depth inside its brace)
    braced: tuple[int, int] | None = None
    cuts: list[int] = field(default_factory=list)  # extra cut points: around closing brackets

    @classmethod
    def start(cls, ctx: Surroundings, cand: str, lines: Sequence[Line], events: list[tuple[int, int]], final: bool) -> Walk:
        rules = ctx.rules
        left_blank = not ctx.left.strip()
        first = ctx.left + lines[0].text if left_blank else ctx.left
        start_indent = indent_width(first)
        floor, single = _floor(ctx, start_indent, left_blank, lines[0].text)
        statement_like = ctx.gate.scope in ("block", "statement")
        # A model that ran on: the code below the cursor already goes on with a continuation
        # clause (`elif`) at this level, so the candidate's own clauses repeat its structure.
        suffix_continues = ctx.overran and ctx.next_line is not None and matches(rules.continuation, ctx.next_line)
        # ... or the code below is indented deeper than the candidate's first line, so the hole is
        # the header of the block whose body is that code (`body_below_starts`). Where indentation
        # is not checked by the parse (brace languages) this holds for any model: a braced block
        # with the code below's lines inside it, then those lines again, would parse.
        header_only = ((ctx.overran or rules.indent_opener is None) and statement_like and left_blank
                       and ctx.next_indent > start_indent)
        return cls(cand, lines, events, final, first, start_indent, left_blank, statement_like, floor, single,
                   suffix_continues, header_only, seen_code=bool(first.strip()))

    def next_bracket(self, line: Line) -> int | None:
        """The next bracket on `line` not read yet, added to the depth; None: none is left."""
        if self.ev >= len(self.events) or self.events[self.ev][0] >= line.end:
            return None
        pos, step = self.events[self.ev]
        self.ev += 1
        self.depth += step
        return pos

    def rest_of_line(self, line: Line) -> tuple[int, int]:
        """The net depth change of the brackets on `line` not read yet, and the index after them."""
        net, ev = 0, self.ev
        while ev < len(self.events) and self.events[ev][0] < line.end:
            net += self.events[ev][1]
            ev += 1
        return net, ev

    def read(self, ctx: Surroundings, line: Line) -> None:
        """What a line that no rule ended the scope at tells about the next ones."""
        rules = ctx.rules
        if self.header_only and line.starts_code:
            full = self.first if line.i == 0 else line.text
            code = code_of(rules, full.rstrip()).rstrip()
            # at the statement level, but for the bracket that the line ends with (`{` opens it)
            opens = self.depth == (1 if code.endswith(("{", "(", "[")) else 0) and opens_block(rules, code)
            self.last_header = line.end if opens and indent_width(full) < ctx.next_indent else None
            self.header_depth = self.depth
        if line.starts_code:
            self.joins = matches(rules.joins_next, line.text)
        self.seen_code = self.seen_code or bool(line.text.strip())


def _floor(ctx: Surroundings, start_indent: int, left_blank: bool, first_line: str) -> tuple[int, bool]:
    """Statement and block scopes end where the block around the cursor ends: at a line indented
    less than the floor (the header's level, else the cursor's), continuation clauses (`else:`)
    excepted. Where the lines are definitions (module level, a class body, a definition's own
    body at its header's level) a line at the floor ends the scope too (`single`: one statement,
    one definition, not the next function). The suffix goes on at `ctx.next_indent`: when that is
    shallower (the cursor is at the end of its block), the lines down to it belong to the hole
    too. A definition's block scope is its body only. Returns (floor, single)."""
    if ctx.header is not None:
        definition = matches(ctx.rules.definition, ctx.header)
        floor = indent_width(ctx.header) if definition else min(indent_width(ctx.header), ctx.next_indent)
        inline_body = not left_blank and bool(first_line.strip())
        return floor, floor == 0 or inline_body or definition or ctx.overran
    floor = min(start_indent, ctx.next_indent)
    return floor, ctx.overran or floor == 0 or _holds_definitions(ctx, floor)


def _holds_definitions(ctx: Surroundings, floor: int) -> bool:
    """Is the block at `floor` a body of definitions (a class body)?"""
    outer = ctx.enclosing(floor) if floor else None
    return outer is not None and matches(ctx.rules.definitions_body, code_of(ctx.rules, outer))


# -- rules on a line, before its brackets ------------------------------------------------------


def dedent_ends_scope(ctx: Surroundings, w: Walk, line: Line) -> Verdict:
    """A statement or block scope ends before a line of code, outside brackets, indented below
    the floor, or at it where the scope is one statement or definition (once there was code,
    and unless the hole may be a header); not before a line that belongs to it (a decorator's
    next line, a continuation clause such as `else:`, unless the code below already has the
    clauses). A line still being written that may become a clause is not known yet."""
    if not (line.i and line.starts_code) or w.joins:
        return None
    stripped = line.text.lstrip()
    if not w.statement_like or w.depth != 0 or stripped[0] in CLOSERS:
        return None
    indent = indent_width(line.text)
    if not (indent < w.floor or w.single and not w.header_only and w.seen_code and indent <= w.floor):
        return None
    if not line.complete and _may_become_continuation(ctx.rules, stripped):
        return WAIT
    if not matches(ctx.rules.continuation, line.text) or w.suffix_continues:
        return End(line.before)
    return None


def repeats_the_suffix(ctx: Surroundings, w: Walk, line: Line) -> Verdict:
    """The scope ends before a line that is the code below's first line, when the candidate's
    next line of code is the code below's next one too (or there is none): the model is writing
    the code after the hole again. Code that only looks the same goes on."""
    if not (line.complete and ctx.next_line is not None and (line.i or w.left_blank)):
        return None
    full = ctx.left + line.text if line.i == 0 else line.text
    if full.rstrip() != ctx.next_line:
        return None
    repeat = _repeats_suffix(ctx, w, line)
    if repeat is None:
        return WAIT
    return End(line.before) if repeat else None


# -- rules on each bracket -----------------------------------------------------------------------


def header_brace_closed(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """The hole is a header whose `{` the candidate opened and wrote the first lines of the body
    in (`body_below_starts`): where the candidate closes that brace itself, the code below was to
    be its body, and the scope ends at the header (the header without its brace is a cut too)."""
    if w.braced is None or w.depth >= w.braced[1]:
        return None
    w.cuts.append(len(w.cand[: w.braced[0]].rstrip()) - 1)
    return End(w.braced[0])


# -- rules on a closer of a bracket opened before the candidate (depth below 0), in order -------


def closer_opens_next_clause(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """`} else {`, `} catch (e) {`: a line that starts by closing the block the cursor is in and
    opens the next clause of the same statement (as `else:` continues a Python block) goes on,
    unless the code below goes on with such a line itself (it is the suffix's to write)."""
    net, after = w.rest_of_line(line)
    if (w.depth == -1 and net == 1 and line.complete and ctx.gate.scope in ("statement", "block")
            and matches(ctx.rules.continuation, line.text) and line.leads(pos) and not _suffix_has_this_line(ctx, line.text)):
        w.depth, w.ev = 0, after
        return GO_ON
    return None


def closer_may_open_next_clause(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """A `}` that starts a line still being written may still become `} else {`: not known yet."""
    if line.complete or not w.statement_like or ctx.rules.continuation is None or not line.leads(pos):
        return None
    rest = line.text[pos - line.start + 1 :].strip()
    if not rest or _may_become_continuation(ctx.rules, rest) or matches(ctx.rules.continuation, line.text):
        return WAIT
    return None


def cut_around_closer(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """Before and after the closer are cut points (decides nothing)."""
    w.cuts += [pos, pos + 1]
    return None


def closes_open_expression(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """An expression scope whose bracket the suffix leaves open: the closer closes it, and the
    scope goes on as a statement scope at the indentation of the bracket's line."""
    if ctx.open_indent is None or w.statement_like:
        return None
    w.statement_like, w.depth, w.floor = True, 0, ctx.open_indent
    w.single = w.floor == 0 or _holds_definitions(ctx, w.floor)
    return GO_ON


def statement_closer(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """A statement scope ends at the closer (before its line where the closer starts it)."""
    if ctx.gate.scope != "statement":
        return None
    return End(line.before if line.i and line.leads(pos) else pos)


def suffix_starts_with_closer(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """A line that starts with the closer that the code below starts with: the code below
    already closes the block with it, and the scope ends before the line."""
    if line.i and line.leads(pos) and ctx.next_line is not None and ctx.next_line.lstrip()[:1] == w.cand[pos]:
        return End(line.before)
    return None


def block_closer(ctx: Surroundings, w: Walk, line: Line, pos: int) -> Verdict:
    """Otherwise the scope ends with the closer's line."""
    return End(line.end) if line.complete else WAIT


# -- rules on a line, after its brackets ---------------------------------------------------------


def body_below_starts(ctx: Surroundings, w: Walk, line: Line) -> Verdict:
    """The hole is a header (`header_only`): after a line that opens a block, a line at the code
    below's indentation starts the body that the code below already is, and the scope ends with
    the header (the header without its `{` is a cut too: the body below may be braceless). A
    header whose `{` a model that ended by itself goes on inside with other lines than the code
    below's first is writing the first lines of that body: it goes on (`header_brace_closed`)."""
    if not (w.header_only and line.starts_code and line.i and w.last_header is not None and w.braced is None):
        return None
    if indent_width(line.text) != ctx.next_indent:
        return None
    if not line.complete:
        return WAIT  # is it the code below's first line? not known yet
    head = w.cand[: w.last_header].rstrip()
    if head.endswith("{"):
        w.cuts.append(len(head) - 1)
        if line.text.rstrip() != ctx.next_line and not ctx.overran:
            w.braced = (w.last_header, w.header_depth)
            return None
    return End(w.last_header)


# -- rules at a line's end (after `Walk.read`) ---------------------------------------------------


def line_scope_ends(ctx: Surroundings, w: Walk, line: Line) -> Verdict:
    """The line scope ends with its line, unless the line opened a bracket (and the code below is
    not deeper: that is what the bracket holds already): then it goes on to where that closes."""
    gate = ctx.gate
    if gate.scope != "line" or w.depth > 0 and line.i + 1 < gate.max_lines and ctx.next_indent <= w.start_indent:
        return None
    return End(line.end) if line.complete else WAIT


def max_lines(ctx: Surroundings, w: Walk, line: Line) -> Verdict:
    """Every scope ends after the gate's `max_lines` lines."""
    if line.i + 1 < ctx.gate.max_lines:
        return None
    return End(line.end) if line.complete else WAIT


BEFORE_BRACKETS = (dedent_ends_scope, repeats_the_suffix)
ON_BRACKET = (header_brace_closed,)
ON_CLOSER = (closer_opens_next_clause, closer_may_open_next_clause, cut_around_closer, closes_open_expression,
             statement_closer, suffix_starts_with_closer, block_closer)
AFTER_BRACKETS = (body_below_starts,)
AT_LINE_END = (line_scope_ends, max_lines)


# -- helpers -------------------------------------------------------------------------------------


def _suffix_has_this_line(ctx: Surroundings, line: str) -> bool:
    """Does the code below the cursor go on with a line that starts with the same closing
    bracket at the same indentation as `line` (so `} else {` there is the suffix's to write)?"""
    nxt = ctx.next_line
    return (nxt is not None and nxt.lstrip()[:1] == line.lstrip()[:1]
            and indent_width(nxt) == indent_width(line))


def _repeats_suffix(ctx: Surroundings, w: Walk, line: Line) -> bool | None:
    """`line` equals the suffix's next line: is it the model repeating the suffix (the
    candidate's next line of code is the suffix's line after it too, or there is no such line),
    or code that only looks the same (it goes on differently)? None: not known yet (the next
    line is still being generated)."""
    if ctx.after_next is None:
        return True
    for j in range(line.i + 1, len(w.lines)):
        later = w.lines[j]
        if not later.text.strip():
            continue
        if not later.complete:
            return None
        return later.text.rstrip() == ctx.after_next
    return True if w.final else None


@lru_cache(maxsize=None)
def _continuation_words(pattern: str) -> tuple[str, ...]:
    """The words of a continuation regex (`else`, `except`, ...; not escapes such as `\\s`)."""
    return tuple(re.findall(r"(?<![\\\w])[A-Za-z_]\w*", pattern))


def _may_become_continuation(rules: Rules, partial: str) -> bool:
    """Can a still-growing line whose code so far is `partial` turn into a continuation clause?"""
    if rules.continuation is None:
        return False
    word = re.match(r"\w*", partial).group()
    return word == partial and any(w.startswith(word) for w in _continuation_words(rules.continuation.pattern))
