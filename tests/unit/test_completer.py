"""The completion flow and follow-typing rules, against a fake model manager whose jobs the tests
end by hand (`tests.support.models`): which request gets what, which job is stopped or followed,
with no worker process, no timing and no sleeps (`settle` only lets the started requests run; the
follower's wait for a keystroke runs on a fake clock). The real worker is tested in tests/e2e."""

from __future__ import annotations

import asyncio

import pytest

from lsp_server.lsp.completion.completer import Completer
from lsp_server.lsp.completion.follow import FOLLOW_WAIT_S
from lsp_server.lsp.documents import DocumentStore
from lsp_server.lsp.settings import Settings
from lsp_server.worker_protocol import ContextFile
from tests.support.models import FakeClock, FakeJob, FakeModelManager

URI = "file:///w/example.py"
TEXT = "def add(a, b):\n    return \n"
CURSOR = (1, 11)  # after `return `


class Editor:
    """One open document, the completer over the fake manager, and a user's edits and requests."""

    def __init__(self, context_for=None, context_stamp=None, **settings) -> None:
        self.docs = DocumentStore()
        self.docs.open(URI, "python", 1, TEXT)
        self.manager = FakeModelManager()
        self.clock = FakeClock()
        self.settings = Settings(**settings)
        self.completer = Completer(self.docs, self.manager, lambda: self.settings, call_later=self.clock.call_later,
                                   context_for=context_for, context_stamp=context_stamp)

    def request(self, line: int, character: int) -> asyncio.Task:
        return asyncio.ensure_future(self.completer.suggest(URI, line, character, "utf-32"))

    def edit(self, text: str, line: int, character: int, end: tuple[int, int] | None = None) -> None:
        """A didChange: `text` replaces (line, character) to `end` (an insertion without it)."""
        doc = self.docs.get(URI)
        doc.apply_change(text, (line, character, *(end or (line, character))), "utf-32")
        doc.version += 1
        self.completer.document_changed(URI)

    def type_at_cursor(self, text: str) -> None:
        self.edit(text, *CURSOR)

    @property
    def counters(self):
        return self.completer.counters

    def outcomes(self) -> list[str]:
        return [h["outcome"] for h in self.completer.history]


async def settle() -> None:
    """Let the started requests run until each waits for the fake again (no time passes)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def answer(request: asyncio.Task):
    """The request's answer, which it must have now (waiting on a job nobody ends would hang)."""
    await settle()
    assert request.done(), "the request still waits for a job"
    return request.result()


async def started(ed: Editor, at: tuple[int, int] = CURSOR) -> tuple[asyncio.Task, FakeJob]:
    """A request, and the model job it started."""
    request = ed.request(*at)
    await settle()
    return request, ed.manager.jobs[-1]


async def shown(ed: Editor, text: str) -> None:
    """A request at the cursor, answered by the model with `text`."""
    request, job = await started(ed)
    job.finish(text)
    assert (await answer(request)).text == text


async def served_or_asked(ed: Editor, request: asyncio.Task, served: str | None, source: str) -> None:
    """The request (made after one model job) gives `served` from `source` without a model job,
    or (None) asks the model and gives its answer."""
    await settle()
    assert len(ed.manager.jobs) == (1 if served else 2)
    if served is None:
        ed.manager.jobs[1].finish("z")
    suggestion = await answer(request)
    assert (suggestion.text, suggestion.source) == ((served, source) if served else ("z", "model"))


async def cancelled_while_typing(ed: Editor, typed: str, *, cancel_first: bool = False) -> FakeJob:
    """A request at the cursor that the client cancels as the user types `typed` there (the cancel
    and the change arrive in either order; no change if nothing is typed); its job goes on."""
    request, job = await started(ed)
    if typed and not cancel_first:
        ed.type_at_cursor(typed)
    request.cancel()
    await settle()
    if typed and cancel_first:
        ed.type_at_cursor(typed)
    with pytest.raises(asyncio.CancelledError):
        await answer(request)
    return job


# -- the cross-file context -------------------------------------------------------------------------


async def test_the_context_is_held_while_typing_in_a_scope_and_chosen_again_when_another_file_changed():
    index = {"stamp": 0, "chosen": 0}

    def context_for(uri, offset):  # a stand-in for the workspace index: a new text each time it is asked
        index["chosen"] += 1
        return [(ContextFile("lib.py", f"def helper():  # v{index['chosen']}\n"), "imported")], "w"

    ed = Editor(context_for=context_for, context_stamp=lambda uri: index["stamp"])
    contexts, column = [], CURSOR[1]
    for typed, stamp in [("", 0), ("a", 0), ("b", 0), ("", 1), ("c", 1)]:
        index["stamp"] = stamp  # 1: another file of the workspace was edited or saved
        if typed:
            ed.edit(typed, CURSOR[0], column)
            column += len(typed)
        request, job = await started(ed, (CURSOR[0], column))
        contexts.append(job.request.context[0].text)
        job.finish("")
        await answer(request)
    assert contexts == ["def helper():  # v1\n"] * 3 + ["def helper():  # v2\n"] * 2


# -- a request's own job ----------------------------------------------------------------------------


async def test_a_newer_request_for_the_document_supersedes_the_older():
    ed = Editor()
    older, first = await started(ed)
    newer, second = await started(ed)
    assert ed.manager.cancelled == [first.id]  # asked through the manager, by document
    first.stop(generated_tokens=3)  # the worker's answer to the cancel
    second.finish("a + b")
    assert await answer(older) is None
    assert (await answer(newer)).text == "a + b"
    assert ed.counters.cancelled == 1 and ed.outcomes() == ["cancelled", "ok"]


@pytest.mark.parametrize(
    "end_job, outcome, counter",
    [
        (FakeJob.stop, "cancelled", "cancelled"),
        (FakeJob.fail, "error", "errors"),
        (lambda job: job.finish(""), "empty", None),
    ],
)
async def test_a_job_that_gives_no_text_gives_no_suggestion(end_job, outcome, counter):
    ed = Editor()
    request, job = await started(ed)
    end_job(job)
    assert await answer(request) is None
    assert ed.outcomes() == [outcome]
    if counter is not None:
        assert getattr(ed.counters, counter) == 1


async def test_no_model_no_suggestion():
    ed = Editor()
    ed.manager.available = False
    assert await answer(ed.request(*CURSOR)) is None
    assert ed.outcomes() == ["unavailable"] and ed.counters.unavailable == 1


async def test_a_request_made_while_the_model_loads_is_answered_once_it_is_ready():
    ed = Editor()
    ed.manager.loading = asyncio.get_running_loop().create_future()
    request = ed.request(*CURSOR)
    await settle()
    assert not request.done() and ed.manager.jobs == []  # held, not answered empty
    ed.manager.loading.set_result(None)
    await settle()
    ed.manager.jobs[-1].finish("a + b")
    assert (await answer(request)).text == "a + b"
    assert ed.counters.unavailable == 0


async def test_a_request_held_while_the_model_loads_gives_up_after_wait_for_model_ms():
    ed = Editor(wait_for_model_ms=0)
    ed.manager.loading = asyncio.get_running_loop().create_future()
    ed.manager.available = False
    assert await answer(ed.request(*CURSOR)) is None
    assert ed.outcomes() == ["unavailable"] and ed.manager.jobs == []


async def test_a_request_held_while_the_model_loads_can_be_cancelled():
    ed = Editor()
    ed.manager.loading = asyncio.get_running_loop().create_future()
    request = ed.request(*CURSOR)
    await settle()
    request.cancel()
    await settle()
    assert request.cancelled()
    ed.manager.loading.set_result(None)
    await settle()
    assert ed.manager.jobs == []  # no model job for a request the editor gave up


@pytest.mark.parametrize(
    "edit, served",
    [
        (None, "a + b"),
        (("x = 1\n", 0, 0), None),  # edited elsewhere
        (("a", *CURSOR), None),  # typed at the cursor, the request not cancelled: it was for the old text
    ],
)
async def test_a_result_for_a_version_that_changed_since_is_dropped(edit, served):
    ed = Editor()
    request, job = await started(ed)
    if edit is not None:
        ed.edit(*edit)
    job.finish("a + b")
    suggestion = await answer(request)
    assert (suggestion.text if suggestion else None) == served
    assert ed.counters.stale_dropped == (served is None)
    assert ed.outcomes() == ["ok" if served else "stale"]


# -- the rest of a suggestion ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "suggestion, inserted, cursor, served",
    [
        ("a + b", "a ", 2, "+ b"),  # typed its start
        ("add(a, b)", "add()", 4, "a, b"),  # `(` typed, `)` added by the editor, the cursor between
        ("add(a, b)", "add(a)", 5, ", b"),
        ("a + b", "b", 1, None),  # typed something else: the model is asked
    ],
)
async def test_the_rest_of_a_suggestion_is_served_after_typing_its_start(suggestion, inserted, cursor, served):
    ed = Editor()
    await shown(ed, suggestion)
    ed.type_at_cursor(inserted)
    await served_or_asked(ed, ed.request(CURSOR[0], CURSOR[1] + cursor), served, "reuse")
    assert ed.counters.reused == (served is not None)


async def test_accepting_a_suggestion_serves_the_one_precomputed_after_it():
    ed = Editor(precompute_next=True)
    await shown(ed, "a + b")
    await settle()
    speculation = ed.manager.jobs[1]
    assert speculation.request.prefix.endswith("return a + b")  # asked as if accepted
    speculation.finish("  # sum")
    await settle()
    ed.type_at_cursor("a + b")  # accepted
    suggestion = await answer(ed.request(1, 16))
    assert (suggestion.text, suggestion.source) == ("  # sum", "reuse")
    assert len(ed.manager.jobs) == 2 and ed.counters.precomputed == 1


# -- following a job whose request was cancelled ----------------------------------------------------


@pytest.mark.parametrize("cancel_first", [False, True], ids=["change-then-cancel", "cancel-then-change"])
@pytest.mark.parametrize(
    "result, inserted, cursor, sent, served",
    [
        ("a + b", "a ", 2, "a ", "+ b"),
        # the editor closed the bracket: the worker is sent what was typed before it
        ("add(a, b)", "add()", 4, "add(", "a, b"),
    ],
)
async def test_a_cancelled_request_whose_user_typed_on_is_followed_and_the_next_one_adopts_it(
        cancel_first, result, inserted, cursor, sent, served):
    ed = Editor()
    job = await cancelled_while_typing(ed, inserted, cancel_first=cancel_first)
    assert ed.manager.cancelled == [] and job.followed[-1] == sent
    ed.clock.advance(FOLLOW_WAIT_S)  # the wait for a keystroke is over (one came)
    request = ed.request(CURSOR[0], CURSOR[1] + cursor)
    await settle()
    assert len(ed.manager.jobs) == 1  # it waits for the followed job and asks no model
    job.finish(result, generated_tokens=7)
    suggestion = await answer(request)
    assert (suggestion.text, suggestion.source) == (served, "followed")
    c = ed.counters
    assert (c.followed, c.followed_used, c.followed_used_tokens, c.model_calls) == (1, 1, 7, 1)


async def test_a_followed_job_that_finished_first_serves_the_next_request_from_the_recent_ones():
    ed = Editor()
    job = await cancelled_while_typing(ed, "a ")
    job.finish("a + b", generated_tokens=7)
    await settle()
    suggestion = await answer(ed.request(1, 13))
    assert (suggestion.text, suggestion.source) == ("+ b", "reuse")
    assert (ed.counters.followed_used, ed.counters.followed_used_tokens, len(ed.manager.jobs)) == (1, 7, 1)


async def test_a_followed_job_counts_as_used_once_though_it_serves_two_requests():
    ed = Editor()
    job = await cancelled_while_typing(ed, "a ")
    request = ed.request(1, 13)
    await settle()
    ed.edit("+", 1, 13)  # typed on while the request waited for the job: its answer goes stale
    job.finish("a + b", generated_tokens=7)
    assert await answer(request) is None
    suggestion = await answer(ed.request(1, 14))
    assert (suggestion.text, suggestion.source) == (" b", "reuse")
    assert (ed.counters.followed_used, ed.counters.followed_used_tokens) == (1, 7)


async def test_a_job_that_finished_as_its_request_was_cancelled_is_not_followed():
    ed = Editor()
    request, job = await started(ed)
    ed.type_at_cursor("a ")
    job.finish("a + b")
    request.cancel()  # before the request saw the result
    with pytest.raises(asyncio.CancelledError):
        await answer(request)
    assert ed.counters.followed == 0 and job.followed == []


async def test_without_follow_typing_a_cancelled_request_stops_its_job():
    ed = Editor(follow_typing=False)
    job = await cancelled_while_typing(ed, "a ")
    assert ed.manager.cancelled == [job.id] and job.followed == []
    assert ed.counters.followed == 0


# After a job is followed with `a ` typed at its cursor (it writes `a + b`): the user's edits, where
# the next request is made, whether the worker ends the job with that text or stops it, what stops
# it on the server's side (the edit, the next request or nothing), and what the followed job
# serves that request (None: the model is asked).
@pytest.mark.parametrize(
    "edits, at, worker_ends, stopped_by, served",
    [
        ([("+", 1, 13)], (1, 14), "finish", None, " b"),  # typed on what it writes
        ([("-", 1, 13)], (1, 14), "stop", None, None),  # the worker stops it at the keystroke
        ([("-", 1, 13)], (1, 14), "finish", None, None),  # it ended before the keystroke: does not fit
        ([("x = 1\n", 0, 0)], (2, 13), "stop", "edit", None),  # edited elsewhere
        ([("", 1, 10, (1, 13))], (1, 10), "stop", "edit", None),  # deleted back past its cursor
        ([], (2, 0), "stop", "request", None),  # the next request comes from elsewhere
    ],
    ids=["typed-on", "worker-disagrees", "result-disagrees", "edited-elsewhere", "deleted", "request-elsewhere"],
)
async def test_a_followed_job_goes_on_only_while_the_user_types_what_it_writes(edits, at, worker_ends, stopped_by, served):
    ed = Editor()
    job = await cancelled_while_typing(ed, "a ")
    for edit in edits:
        ed.edit(*edit)
    assert (job.id in ed.manager.cancelled) == (stopped_by == "edit")
    if stopped_by is None:
        assert job.followed == ["a ", "a " + edits[-1][0]]  # the typing goes to the worker
    request = ed.request(*at)
    await settle()
    assert (job.id in ed.manager.cancelled) == (stopped_by is not None)
    job.finish("a + b") if worker_ends == "finish" else job.stop()
    await served_or_asked(ed, request, served, "followed")
    assert ed.counters.followed_used == (served is not None)


@pytest.mark.parametrize(
    "typed, wait, stopped",
    [
        ("", FOLLOW_WAIT_S / 2, False),  # still waiting for the keystroke's change
        ("", FOLLOW_WAIT_S, True),  # none came: stopped
        ("a", FOLLOW_WAIT_S, False),  # it came
    ],
)
async def test_a_job_cancelled_before_any_keystroke_waits_follow_wait_s_for_one(typed, wait, stopped):
    ed = Editor()
    job = await cancelled_while_typing(ed, typed, cancel_first=True)
    assert ed.manager.cancelled == [] and ed.counters.followed == 1
    ed.clock.advance(wait)
    assert ed.manager.cancelled == ([job.id] if stopped else [])


# -- an early answer ----------------------------------------------------------------------------------


async def test_an_early_answer_is_shown_and_its_job_followed_for_the_next_request():
    ed = Editor(partial_after_ms=500, precompute_next=True)
    request, job = await started(ed)
    assert job.request.partial_after_ms == 500
    job.answer_early("a + b")
    suggestion = await answer(request)
    assert (suggestion.text, suggestion.source) == ("a + b", "model")
    await settle()
    assert len(ed.manager.jobs) == 1  # nothing precomputed after an early answer: the job goes on
    ed.clock.advance(FOLLOW_WAIT_S)  # the user reads it: no wait for a keystroke
    assert ed.manager.cancelled == [] and (ed.counters.partial, ed.counters.followed) == (1, 1)
    ed.type_at_cursor("a + b")  # accepted
    assert job.followed == ["", "a + b"]
    request = ed.request(1, 16)
    await settle()
    assert len(ed.manager.jobs) == 1  # it waits for the followed job
    job.finish("a + b  # the sum", generated_tokens=9)
    suggestion = await answer(request)
    assert (suggestion.text, suggestion.source) == ("  # the sum", "followed")
    assert (ed.counters.followed_used, ed.counters.followed_used_tokens) == (1, 9)


async def test_a_job_that_finished_by_its_early_answer_gives_its_whole_result():
    ed = Editor(partial_after_ms=500)
    request, job = await started(ed)
    job.answer_early("a")
    job.finish("a + b")
    suggestion = await answer(request)
    assert suggestion.text == "a + b"
    assert (ed.counters.partial, ed.counters.followed) == (0, 0)


async def test_an_early_answer_whose_document_changed_elsewhere_stops_its_job():
    ed = Editor(partial_after_ms=500)
    request, job = await started(ed)
    ed.edit("x = 1\n", 0, 0)
    job.answer_early("a + b")
    assert await answer(request) is None  # stale
    assert ed.manager.cancelled == [job.id] and ed.counters.followed == 0
