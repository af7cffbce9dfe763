"""The soak's count of model jobs at once, from the worker's own job timings (pure)."""

from __future__ import annotations

import pytest

from benchmarks.robustness.soak import jobs_at_once


def done(t: float, ms: float, event: str = "done") -> dict:
    return {"event": event, "t": t, "stats": {"prompt_ms": ms / 2, "generate_ms": ms / 2}}


@pytest.mark.parametrize(
    "events, expected",
    [
        ([], {"jobs": 0, "most_at_once": 0}),
        ([done(1.0, 500), done(2.0, 900), done(3.0, 500)], {"jobs": 3, "most_at_once": 1}),  # one after another
        ([done(1.0, 500), done(1.2, 500)], {"jobs": 2, "most_at_once": 2}),  # 0.7-1.2 began before 0.5-1.0 ended
        ([done(1.0, 500), done(1.52, 500)], {"jobs": 2, "most_at_once": 1}),  # 20 ms of slack: delivery, not overlap
        ([done(1.0, 500), done(1.1, 0, "cancelled")], {"jobs": 1, "most_at_once": 1}),  # cancelled before it started
        ([done(1.0, 500), {"event": "refreshed", "t": 0.9, "stats": {"prompt_ms": 800}}], {"jobs": 1, "most_at_once": 1}),
    ],
)
def test_jobs_at_once(events, expected):
    assert jobs_at_once(events) == expected
