"""Where a benchmark run puts its results files.

Owns one rule for every runner: a run writes into benchmarks/work/results/ (ignored by git)
unless it is asked to record (`--record`); then it writes into benchmarks/results/ (committed),
replacing the file of the same configuration. benchmarks/RESULTS.md is edited by hand from the
tables a run prints; no runner writes it. Must not know what a benchmark measures; standard
library only, so that runners which never load a model do not import one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORDED = REPO / "benchmarks" / "results"
LOCAL = REPO / "benchmarks" / "work" / "results"


def add_record_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", action="store_true",
                        help="write the results into benchmarks/results/ (committed); default: benchmarks/work/results/")


def results_dir(record: bool) -> Path:
    """The folder a run writes its results files into (created if missing)."""
    folder = RECORDED if record else LOCAL
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shown(path: Path) -> str:
    """`path` as the page and the results files name it: relative to the repository."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)
