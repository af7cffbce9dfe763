"""Speed and memory of the workspace index: index whole folders (by default every
/usr/lib/python3*/ in place, read-only, and a copy of this interpreter's standard library with
its tests but without site-packages), then their passages (the search that "ask the workspace"
and the context's windows of the workspace use), re-index one file, select a completion's
context (with the search, as the server does, and without it). No model is loaded.

Run: .venv/bin/python -m benchmarks.context.index_speed [FOLDER ...] [--record]
Writes index-speed.json (benchmarks/work/results/, or benchmarks/results/ with --record) and
prints one line per folder. Targets (issue 19): a standard library in under 60 s and under
300 MB more resident memory on 2 cores; one changed file re-indexed in under 50 ms.
Each folder is indexed in a fresh child process, so that its memory is its own.
"""

from __future__ import annotations

import argparse
import glob
import shutil
import tempfile
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from benchmarks.output import add_record_option, results_dir, shown

REPEATS = 20


def proc_status_mb(field: str) -> float:
    """A memory line of /proc/self/status (VmRSS: resident now, VmHWM: the peak), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(folder: str) -> dict:
    """Index `folder` in this process and measure it (run in a child process)."""
    from lsp_server.syntax.languages import new_parser  # deferred: the parent process only spawns children
    from lsp_server.workspace.index import WorkspaceIndex
    from lsp_server.workspace.search import SearchIndex, index_root
    from lsp_server.workspace.select import select_context

    new_parser("python")  # the grammar's own memory is not the index's
    before = proc_status_mb("VmRSS")
    index = WorkspaceIndex()
    began = time.perf_counter()
    stats = index.index_folder(folder)
    seconds = time.perf_counter() - began
    after = proc_status_mb("VmRSS")
    root = index.roots()[0]
    search = SearchIndex()
    began = time.perf_counter()
    index_root(search, root, index.limits.max_files, index.limits.max_file_bytes)
    passages = {"passages": len(search), "capped": search.capped, "seconds": round(time.perf_counter() - began, 2),
                "rss_extra_mb": round(proc_status_mb("VmRSS") - after, 1)}
    sizes = sorted((os.path.getsize(root.path / rel), rel) for rel in root.outlines)
    typical = sizes[len(sizes) // 2][1] if sizes else None
    largest = sizes[-1][1] if sizes else None
    reindex = {}
    for name, rel in (("median_file", typical), ("largest_file", largest)):
        if rel is None:
            continue
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            index.update_file(root.path / rel)
            times.append((time.perf_counter() - t0) * 1000)
        reindex[name] = {"path": rel, "bytes": os.path.getsize(root.path / rel), "median_ms": round(statistics.median(times), 2),
                         "max_ms": round(max(times), 2)}
    select_ms = None
    if typical is not None:
        text = (root.path / typical).read_text(encoding="utf-8", errors="replace")
        tree = new_parser("python").parse(text.encode("utf-8", "surrogatepass")) if typical.endswith(".py") else None
        offsets = [len(text) * k // 10 for k in range(1, 10)]
        select_ms = {"path": typical}
        for name, with_search in (("", search), ("_without_search", None)):
            times = []
            for offset in offsets * 3:
                t0 = time.perf_counter()
                select_context(index, str(root.path / typical), text, offset, "python", tree, budget=1024, search=with_search)
                times.append((time.perf_counter() - t0) * 1000)
            select_ms |= {f"median_ms{name}": round(statistics.median(times), 2), f"max_ms{name}": round(max(times), 2)}
    return {
        "folder": folder, "files": stats.files, "symbols": stats.symbols, "megabytes_read": round(stats.bytes / 1e6, 1),
        "seconds": round(seconds, 2), "files_per_second": round(stats.files / seconds, 1) if seconds else None,
        "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1), "rss_extra_mb": round(after - before, 1),
        "peak_rss_mb": round(proc_status_mb("VmHWM"), 1), "capped": stats.capped, "skipped": stats.as_dict()["skipped"],
        "passages": passages, "reindex": reindex, "select_context": select_ms,
    }


def stdlib_copy(into: Path) -> str:
    """A copy of this interpreter's standard library, without installed packages."""
    target = into / f"python{sys.version_info.major}.{sys.version_info.minor}"
    shutil.copytree(sysconfig.get_paths()["stdlib"], target, symlinks=True,
                    ignore=shutil.ignore_patterns("site-packages", "dist-packages", "__pycache__"))
    return str(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="folders to index (default: /usr/lib/python3*/ and the stdlib)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    add_record_option(parser)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    runs = []
    scratch = Path(tempfile.mkdtemp(prefix="index-speed-"))
    folders = args.folders or [*sorted(p.rstrip("/") for p in glob.glob("/usr/lib/python3*/")), stdlib_copy(scratch)]
    for folder in folders:
        out = subprocess.run([sys.executable, "-m", "benchmarks.context.index_speed", "--child", folder],
                             capture_output=True, text=True, check=True)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        if folder.startswith(str(scratch)):  # name the copy by what it copies, not by its temporary folder
            run["folder"] = folder = f"copy of {sysconfig.get_paths()['stdlib']} without site-packages"
        runs.append(run)
        reindex = run["reindex"].get("median_file", {})
        print(f"{folder}: {run['files']} files, {run['megabytes_read']} MB, {run['symbols']} symbols in {run['seconds']} s "
              f"(+{run['rss_extra_mb']} MB RSS){' CAPPED' if run['capped'] else ''}; re-index median file "
              f"{reindex.get('median_ms')} ms, largest {run['reindex'].get('largest_file', {}).get('median_ms')} ms; "
              f"{run['passages']['passages']} passages in {run['passages']['seconds']} s "
              f"(+{run['passages']['rss_extra_mb']} MB RSS); select_context "
              f"{run['select_context'] and run['select_context']['median_ms']} ms "
              f"({run['select_context'] and run['select_context']['median_ms_without_search']} ms without the search)")
    shutil.rmtree(scratch, ignore_errors=True)
    result = {"benchmark": "index-speed", "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
              "machine": platform.machine(), "runs": runs}
    path = results_dir(args.record) / "index-speed.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {shown(path)}")


if __name__ == "__main__":
    main()
