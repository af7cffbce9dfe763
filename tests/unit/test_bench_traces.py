"""The latency benchmark's typing traces (benchmarks/latency/traces.py): typing every keystroke
gives back the file, and a trace typed inside a project names a workspace that holds its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.latency.traces import SOURCES, WORKSPACES, load_traces


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_typing_the_keys_gives_back_the_file(name):
    if not SOURCES[name][0].is_file():
        pytest.skip(f"{SOURCES[name][0]} is not on this machine")
    (trace,) = load_traces([name], max_keys=120)
    typed = "".join(k.text for k in trace.keys)
    assert trace.start_text[: trace.offset] + typed + trace.start_text[trace.offset:] == trace.original
    if name in WORKSPACES:
        assert Path(trace.path).is_relative_to(trace.workspace) and trace.workspace
    else:
        assert trace.workspace == ""
