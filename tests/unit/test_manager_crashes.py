"""A worker's death is counted once, however many requests were waiting on it: the restart limit
(MAX_RESTARTS deaths in RESTART_WINDOW) counts deaths, not the reports of one."""

from __future__ import annotations

import asyncio

from lsp_server.lsp.model.manager import ERROR, MAX_RESTARTS, ModelManager
from lsp_server.lsp.settings import Settings


class CountingManager(ModelManager):
    """Test double of the loading: `start` records the restart and leaves a load under way until
    `finish_loading` (no worker process is started)."""

    def __init__(self) -> None:
        super().__init__(settings=Settings())
        self.restarts = 0

    def start(self) -> asyncio.Task:
        self.restarts += 1
        self._loading = asyncio.get_running_loop().create_future()
        return self._loading

    def finish_loading(self) -> None:
        self._loading.set_result(None)


async def test_reports_of_one_death_restart_once():
    m = CountingManager()
    for _ in range(5):  # five requests were waiting on the worker that died
        m._on_crash(RuntimeError("the model worker exited"))
    assert m.restarts == 1 and m.status.state != ERROR


async def test_the_restart_limit_counts_deaths():
    m = CountingManager()
    for death in range(MAX_RESTARTS):
        m._on_crash(RuntimeError("died"))
        m._on_crash(RuntimeError("died"))  # reported twice
        m.finish_loading()
    assert m.restarts == MAX_RESTARTS and m.status.state != ERROR
    m._on_crash(RuntimeError("died"))
    assert m.restarts == MAX_RESTARTS and m.status.state == ERROR
