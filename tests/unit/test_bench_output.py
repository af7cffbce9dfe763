"""Where benchmark runs write (benchmarks.output): a folder git ignores, unless asked to record."""

from __future__ import annotations

import subprocess

import pytest

from benchmarks import output


@pytest.mark.parametrize("record, folder", [(False, output.LOCAL), (True, output.RECORDED)])
def test_results_dir(record, folder):
    assert output.results_dir(record) == folder


@pytest.mark.parametrize("record, ignored", [(False, True), (True, False)])
def test_only_recorded_results_are_committed(record, ignored):
    probe = output.shown(output.results_dir(record) / "latency-default-20990101-0000.json")
    check = subprocess.run(["git", "check-ignore", "-q", probe], cwd=output.REPO, check=False)
    assert check.returncode == (0 if ignored else 1), f"{probe}: git check-ignore gave {check.returncode}"
