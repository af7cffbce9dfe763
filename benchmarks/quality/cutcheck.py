"""Model-free check of the syntax-aware cut on the multi-language holes: the true code as the
model's output, and the true code spoiled, through the server's gate and `truncate`.

Usage: .venv/bin/python -m benchmarks.quality.cutcheck [--n 60] [--seed 7] [--languages python,go,...]

Holes come from `multilang.make_holes` (the same corpora, rows and cursor columns as the
multi-language check; a different seed than its model runs by default). Per language it counts:
  window errors  holes whose parse window (the part of the file `truncate` parses) has
                 tree-sitter errors with the true code in the hole: the check that the code
                 after the cursor keeps its structure is off there, and error counts are noisy
  refused        holes where the parse check refuses the true code itself
  kept whole     the true code is kept as it is, given alone and given followed by the next three
                 lines of the file (a model that runs on into the code below)
  still breaks   of four spoiled outputs per hole (the true code followed by an extra `}` line
                 (`)` in Python), an extra `)`, an unclosed call, an unclosed string), the cuts
                 that still give the file more tree-sitter errors than it has without the hole
No model runs; no code is executed. Run it on another commit (a `git worktree`) to compare.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from benchmarks.quality import common, multilang
from lsp_server.lsp.settings import Settings
from lsp_server.lsp.documents import DocumentStore
from lsp_server.syntax.parsecheck import ParseCheck, parser_name
from lsp_server.syntax.surroundings import Surroundings
from lsp_server.syntax.truncation import truncate

SPOILERS = {
    "extra closer line": lambda hole, language: hole + ("\n)" if language == "python" else "\n}"),
    "extra paren": lambda hole, language: hole.rstrip() + ")",
    "unclosed call": lambda hole, language: hole.rstrip() + " foo(bar,",
    "unclosed string": lambda hole, language: hole.rstrip() + ' "abc',
}


def check(language: str, n: int, seed: int, settings: Settings) -> dict:
    counts: collections.Counter = collections.Counter()
    for i, h in enumerate(multilang.make_holes(language, n, seed)):
        snap, gate, req = multilang.at_cursor(DocumentStore(), i + 1, Path(h["file"]), language, h["text"], h["offset"], settings)
        counts["holes"] += 1
        if not gate.complete:
            counts["gated out"] += 1
            continue
        hole = h["hole"]
        ctx = Surroundings.build(req.language, req.prefix, req.suffix, gate)
        check = ParseCheck.around(parser_name(language), ctx)
        errors = check.errors(hole)
        counts["refused"] += errors is None
        counts["window errors"] += bool(errors)
        rest = h["original"][h["offset"] + len(hole):]
        runs_on = hole + "\n" + "\n".join(rest.split("\n")[1:4])
        for name, candidate in (("kept whole", hole), ("kept whole, running on", runs_on)):
            counts[name] += truncate(req.language, req.prefix, candidate, req.suffix, gate).rstrip() == hole.rstrip()
        base = common.ts_errors(language, snap.text)
        for name, spoil in SPOILERS.items():
            out = truncate(req.language, req.prefix, spoil(hole, language), req.suffix, gate)
            filled = snap.text[: snap.offset] + out + snap.text[snap.offset:]
            counts[f"still breaks: {name}"] += common.ts_errors(language, filled) > base
    return dict(counts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.quality.cutcheck", description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60, help="holes per language")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--languages", default=",".join(multilang.SOURCES))
    args = ap.parse_args(argv)
    settings = Settings(max_tokens=64, prefix_tokens=256, suffix_tokens=64, latency_target_ms=0)  # as multilang
    columns = ["holes", "gated out", "window errors", "refused", "kept whole", "kept whole, running on",
               *(f"still breaks: {name}" for name in SPOILERS)]
    print(f"commit {common.git_commit()}, --n {args.n} --seed {args.seed}\n")
    print("| language | " + " | ".join(columns) + " |")
    print("| --- " * (len(columns) + 1) + "|")
    for language in [x for x in args.languages.split(",") if x]:
        counts = check(language, args.n, args.seed, settings)
        print(f"| {language} | " + " | ".join(str(counts.get(c, 0)) for c in columns) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
