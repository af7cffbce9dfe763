"""Build benchmarks/language/explain_inputs.jsonl: real code to explain, in several languages.

One-off (its output is committed; rerun only to rebuild the set): HumanEval canonical programs
(prompt + canonical solution, the fix benchmark's `load_tasks`, MIT licence) and functions cut
with tree-sitter from files on this machine, each row citing its file and lines:
git's contrib/ in /usr/share/doc/git (Go, C; GPL-2.0), npm's lib/ in /usr/lib/node_modules/npm
(JavaScript; Artistic-2.0), this repository's VS Code client (TypeScript), and memchr 2.5.0 as
unpacked from Debian's librust-memchr-dev (Rust; MIT/Unlicense).

    .venv/bin/python -m benchmarks.language.make_explain_inputs
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.fix.bugs import load_tasks
from lsp_server.syntax.languages import new_parser

HERE = Path(__file__).resolve().parent
OUT = HERE / "explain_inputs.jsonl"
REPO = HERE.parents[1]
SOURCES = [  # language, files, node types, how many
    ("go", sorted(Path("/usr/share/doc/git/contrib/persistent-https").glob("*.go")),
     ("function_declaration", "method_declaration"), 5),
    ("c", [Path("/usr/share/doc/git/contrib/credential/libsecret/git-credential-libsecret.c"),
           Path("/usr/share/doc/git/contrib/credential/gnome-keyring/git-credential-gnome-keyring.c")],
     ("function_definition",), 5),
    ("javascript", sorted(Path("/usr/lib/node_modules/npm/lib").glob("*.js")) + sorted(Path("/usr/lib/node_modules/npm/lib/utils").glob("*.js")),
     ("function_declaration", "method_definition"), 5),
    ("typescript", sorted((REPO / "editor-clients" / "vscode" / "src").glob("*.ts")), ("function_declaration",), 5),
    ("rust", sorted(Path("/tmp/syn-work/deb/root/usr/share/cargo/registry/memchr-2.5.0/src").rglob("*.rs")),
     ("function_item",), 4),
]
MIN_LINES, MAX_LINES = 5, 40


def functions(language: str, path: Path, types: tuple[str, ...]):
    text = path.read_text(encoding="utf-8", errors="replace")
    tree = new_parser(language).parse(text.encode())
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in types:
            lines = node.end_point[0] - node.start_point[0] + 1
            if MIN_LINES <= lines <= MAX_LINES:
                yield node.start_point[0] + 1, node.end_point[0] + 1, node.text.decode("utf-8", "replace")
            continue
        stack.extend(reversed(node.children))


def main() -> None:
    rows = []
    for task in load_tasks()[:12]:
        rows.append({"id": task.id, "language": "python", "source": f"HumanEval {task.id} (prompt + canonical solution)",
                     "code": task.code.strip() + "\n"})
    for language, files, types, count in SOURCES:
        taken = 0
        for path in files:
            for first, last, code in functions(language, path, types):
                if taken >= count:
                    break
                shown = (path.relative_to(REPO) if path.is_relative_to(REPO)
                         else "memchr-2.5.0/" + str(path).split("memchr-2.5.0/")[1] if "memchr-2.5.0/" in str(path) else path)
                rows.append({"id": f"{language}/{path.stem}/{first}", "language": language,
                             "source": f"{shown}:{first}-{last}", "code": code + "\n"})
                taken += 1
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} inputs -> {OUT}")


if __name__ == "__main__":
    main()
