"""The server's workspace index service (`lsp.indexing`) without LSP: its thread, its events,
its reports, and the recent-files list (`workspace.recent`)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from lsp_server.lsp.documents import DocumentStore
from lsp_server.lsp.indexing import IndexService, uri_to_path
from lsp_server.lsp.settings import Settings
from lsp_server.workspace.recent import RecentFiles

LIB = "def helper(x):\n    '''Helps.'''\n    return x\n"
APP = "from lib import helper\n\n\ndef main():\n    return helper(1)\n"


def _service(tmp_path: Path, **settings) -> tuple[IndexService, DocumentStore, list, dict]:
    (tmp_path / "lib.py").write_text(LIB)
    (tmp_path / "app.py").write_text(APP)
    docs, reports, current = DocumentStore(), [], {"settings": Settings(**settings)}
    service = IndexService(docs, lambda: current["settings"], lambda kind, message: reports.append((kind, message)))
    return service, docs, reports, current


def _wait(service: IndexService) -> None:
    assert service.idle.wait(10)


def test_indexes_at_start_and_answers_context(tmp_path: Path) -> None:
    service, docs, reports, _ = _service(tmp_path)
    service.start([tmp_path])
    _wait(service)
    assert [k for k, _ in reports] == ["begin", "end"] and "indexed 2 files" in reports[-1][1]
    uri = (tmp_path / "app.py").as_uri()
    assert service.context(uri, 0) is None  # not open
    docs.open(uri, "python", 1, APP)
    service.opened(uri)
    ctx = service.context(uri, APP.index("return"))
    assert [s.text.splitlines()[0] for s in ctx.snippets] == ["def helper(x):"] and ctx.budget == 1024
    assert service.context(uri, APP.index("return"), budget=3).snippets == ()
    status = service.status()
    assert status["files"] == 2 and status["open"] == 1 and not status["busy"]
    service.stop()
    assert service.context(uri, 0) is None


def test_file_changes_folder_changes_and_live_edits(tmp_path: Path) -> None:
    service, docs, _, _ = _service(tmp_path)
    service.start([tmp_path])
    _wait(service)
    (tmp_path / "lib.py").write_text("def helper(x, y):\n    return x\n")
    service.files_changed([(tmp_path / "lib.py", False)])
    _wait(service)
    uri = (tmp_path / "app.py").as_uri()
    docs.open(uri, "python", 1, APP)
    service.opened(uri)
    assert service.context(uri, APP.index("return")).snippets[0].text.startswith("def helper(x, y):")
    # an edit of the open document counts at the next question, before the disk has it
    lib_uri = (tmp_path / "lib.py").as_uri()
    docs.open(lib_uri, "python", 1, "def helper(live):\n    return live\n")
    service.changed(lib_uri, 0)
    assert service.context(uri, APP.index("return")).snippets[0].text.startswith("def helper(live):")
    docs.close(lib_uri)
    service.closed(lib_uri)
    _wait(service)
    assert service.context(uri, APP.index("return")).snippets[0].text.startswith("def helper(x, y):")
    service.files_changed([(tmp_path / "lib.py", True)])
    _wait(service)
    assert service.context(uri, APP.index("return")).snippets == ()
    service.folders_changed([], [tmp_path])
    assert service.status()["folders"] == [] and service.folders == []


@pytest.mark.parametrize("event, changes_app_context", [
    (lambda s, app, lib, tmp: s.changed(app, 3), False),  # typing in app.py itself
    (lambda s, app, lib, tmp: s.saved(app), False),
    (lambda s, app, lib, tmp: s.cursor(lib, 0), False),  # only looked at
    (lambda s, app, lib, tmp: s.changed(lib, 0), True),  # another open file edited
    (lambda s, app, lib, tmp: s.saved(lib), True),
    (lambda s, app, lib, tmp: s.opened(lib), True),
    (lambda s, app, lib, tmp: s.closed(lib), True),  # its text on disk counts again
    (lambda s, app, lib, tmp: s.files_changed([(tmp / "lib.py", False)]), True),
    (lambda s, app, lib, tmp: s.files_changed([(tmp / "app.py", False)]), False),
    (lambda s, app, lib, tmp: s.folders_changed([], [tmp]), True),
])
def test_the_stamp_changes_with_what_a_context_is_chosen_from(tmp_path: Path, event, changes_app_context) -> None:
    service, _, _, _ = _service(tmp_path)
    service.start([tmp_path])
    _wait(service)
    app, lib = (tmp_path / "app.py").as_uri(), (tmp_path / "lib.py").as_uri()
    before = service.stamp(app)
    event(service, app, lib, tmp_path)
    _wait(service)
    assert (service.stamp(app) != before) is changes_app_context
    service.stop()


def test_the_stamp_changes_when_a_folder_is_indexed_or_the_settings_change(tmp_path: Path) -> None:
    service, _, _, current = _service(tmp_path)
    app = (tmp_path / "app.py").as_uri()
    before = service.stamp(app)
    service.start([tmp_path])
    _wait(service)
    indexed = service.stamp(app)
    assert indexed != before  # a context chosen before the folder was indexed is chosen again
    old = current["settings"]
    current["settings"] = attrs.evolve(old, context_tokens=256)
    service.settings_changed(old)
    assert service.stamp(app) != indexed
    service.stop()


def test_settings_turn_it_off_and_a_cap_warns(tmp_path: Path) -> None:
    service, docs, reports, current = _service(tmp_path, index_max_files=1)
    service.start([tmp_path])
    _wait(service)
    assert reports[-1][0] == "warning" and "indexMaxFiles" in reports[-1][1]
    before = current["settings"]
    current["settings"] = attrs.evolve(before, workspace_index=False)
    service.settings_changed(before)
    assert not service.enabled and service.status()["files"] == 0
    before, current["settings"] = current["settings"], attrs.evolve(current["settings"], workspace_index=True,
                                                                     index_max_files=10)
    service.settings_changed(before)
    _wait(service)
    assert service.status()["files"] == 2


def test_disabled_from_the_start_reads_nothing(tmp_path: Path) -> None:
    service, _, reports, _ = _service(tmp_path, workspace_index=False)
    service.start([tmp_path])
    assert service.idle.is_set() and reports == [] and service._thread is None


def test_recent_files_and_uris() -> None:
    recent = RecentFiles(size=2)
    recent.touch("a", 3)
    recent.touch("b")
    recent.touch("a")  # keeps its line
    assert recent.newest_first() == [("a", 3), ("b", -1)]
    recent.touch("c", 1)
    assert recent.newest_first() == [("c", 1), ("a", 3)]
    recent.forget("c")
    assert recent.newest_first() == [("a", 3)]
    assert uri_to_path("file:///a%20b/c.py") == Path("/a b/c.py") and uri_to_path("untitled:1") is None
