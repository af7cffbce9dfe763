"""What the engine measures: one evaluation's figures and the running averages of them.

Owns `EvalStats` (what one prompt evaluation and generation did: tokens kept, moved, computed,
generated, times, why it stopped) and `Rates` (this machine's speeds for the loaded model and
how the model ends its output, as moving averages the pipeline sizes its token budget with).
Pure data and arithmetic: must not touch llama.cpp or decide what to generate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EvalStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0  # KV entries kept in place (common prefix)
    shifted_tokens: int = 0  # KV entries kept but moved to new positions
    evaluated_tokens: int = 0  # prompt tokens actually computed
    generated_tokens: int = 0
    prompt_ms: float = 0.0
    generate_ms: float = 0.0
    stop_reason: str = ""
    first_token: int | None = None  # the first token the model chose (after a lead)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Rates:
    """This machine's measured speeds for the loaded model, and how the model ends its output
    (exponential moving averages)."""

    prompt_tps: float = 0.0
    generate_tps: float = 0.0
    alpha: float = 0.3

    def update(self, stats: EvalStats) -> None:
        if stats.evaluated_tokens >= 4 and stats.prompt_ms > 0:
            self.prompt_tps = self._mix(self.prompt_tps, stats.evaluated_tokens / stats.prompt_ms * 1000)
        if stats.generated_tokens >= 4 and stats.generate_ms > 0:
            self.generate_tps = self._mix(self.generate_tps, stats.generated_tokens / stats.generate_ms * 1000)

    def _mix(self, old: float, new: float) -> float:
        return new if old <= 0 else old + self.alpha * (new - old)

    # How the model ends its suggestions: the share of generations given their whole token limit
    # that it ended itself (end of text) rather than running to the limit (a moving average).
    ends_itself: float = 1.0
    endings: int = 0

    def note_ending(self, ended_itself: bool) -> None:
        x = 1.0 if ended_itself else 0.0
        self.ends_itself = x if self.endings == 0 else self.ends_itself + self.alpha * (x - self.ends_itself)
        self.endings += 1

    @property
    def runs_on(self) -> bool:
        """The model habitually writes on to its token limit instead of ending the middle itself
        (small models do): what it writes after its first statement is not to be trusted."""
        return self.endings >= 3 and self.ends_itself < 0.5
