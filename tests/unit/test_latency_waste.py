"""The latency benchmark's waste accounting (`summarize`): which generated tokens served a shown
suggestion and which were wasted, per job, from the responses the replay saw and the job events
the observed server logged."""

from __future__ import annotations

import pytest

from benchmarks.latency.run import summarize
from benchmarks.latency.traces import Key, Trace

TRACE = Trace("t", "t.py", "python", "x\n", "\n", 0, "x", [Key("x", 100.0)])


def job(t, event, jid, generated=0, **stats):
    return {"t": t, "event": event, "id": jid, "stats": {"generated_tokens": generated, **stats}}


def resp(wall, outcome):
    return {"wall": wall, "outcome": outcome, "latency_ms": 1.0, "key_latency_ms": 1.0, "kept": 0, "full": False, "version": 2}


def waste(jobs, records, counters=None):
    run = {"records": records, "jobs": jobs, "status": {"counters": counters or {}}, "typing_s": 1.0,
           "cold_start_ms": 1.0, "peak_rss_mb": 1.0}
    return summarize(run, TRACE)["wasted_by"]


@pytest.mark.parametrize(
    "jobs, records, counters, expected",
    [
        # answered and shown: nothing wasted
        ([job(1.0, "done", "a", 10)], [resp(1.0, "shown")], None, {}),
        # answered after the user typed on
        ([job(1.0, "done", "a", 10)], [resp(1.0, "stale")], None, {"answered late": 10}),
        # followed, then the typing turned away from it
        ([job(1.0, "cancelled", "a", 12, stop_reason="disagrees", followed=True)], [], None, {"disagreed": 12}),
        # followed to its end, and a later request took its result over
        ([job(1.0, "done", "a", 20, followed=True), job(2.0, "used", "a")], [resp(2.0, "shown")], None, {}),
        # followed to its end, never used
        ([job(1.0, "done", "a", 20, followed=True), job(1.5, "used", "b"), job(1.4, "done", "b", 3, followed=True)],
         [resp(1.5, "shown")], None, {"followed, unused": 20}),
        # answered early with 8 tokens (shown), then the typing turned away from the rest
        ([job(1.0, "partial", "a", 8), job(2.0, "cancelled", "a", 30, stop_reason="disagrees", followed=True)],
         [resp(1.0, "shown")], None, {"disagreed": 22}),
        # answered early, but that answer came back stale: all of it wasted
        ([job(1.0, "partial", "a", 8), job(2.0, "cancelled", "a", 30, stop_reason="disagrees", followed=True)],
         [resp(1.0, "stale")], None, {"disagreed": 30}),
        # answered early (the cold start's answer counts as shown), the rest never used
        ([job(1.0, "partial", "a", 8), job(2.0, "done", "a", 30, followed=True)], [resp(1.0, "cold")], None,
         {"followed, unused": 22}),
        # answered early and the rest used later: nothing wasted
        ([job(1.0, "partial", "a", 8), job(2.0, "done", "a", 30, followed=True), job(3.0, "used", "a")],
         [resp(1.0, "shown"), resp(3.0, "shown")], None, {}),
        # a run recorded before the per-job `used` lines: the server's total of used tokens
        ([job(1.0, "done", "a", 20, followed=True), job(1.2, "done", "b", 5, followed=True)], [],
         {"followed_used_tokens": 5}, {"followed, unused": 20}),
    ],
)
def test_wasted_tokens_by_kind(jobs, records, counters, expected):
    assert waste(jobs, records, counters) == expected


def test_jobs_without_ids_as_the_peer_records_them():
    """llama-server's jobs carry no id (it has no follow or early answers): answered late or not."""
    jobs = [{"t": 1.0, "event": "done", "stats": {"generated_tokens": 7}}, {"t": 2.0, "event": "done", "stats": {"generated_tokens": 5}}]
    assert waste(jobs, [resp(1.0, "shown"), resp(2.0, "stale")]) == {"answered late": 5}
