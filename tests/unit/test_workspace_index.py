"""Indexing folders on disk (`workspace.walk`, `workspace.index`): what is read and what is
skipped, hostile trees (links out and in loops, unreadable and invalid files, a folder deleted
mid-walk, a cap), and single-file updates."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import pytest

from lsp_server.workspace.index import Limits, WorkspaceIndex
from lsp_server.workspace.walk import WalkStats, walk


def _tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def _walked(root: Path, max_files: int = 1000) -> tuple[list[str], WalkStats]:
    stats = WalkStats()
    return [f.rel for f in walk(root, max_files, stats)], stats


def test_gitignore_skipped_folders_and_other_files(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".gitignore": "*.gen.py\n/out/\n!keep.gen.py\n",
        "a.py": "", "b.gen.py": "", "keep.gen.py": "", "out/x.py": "", "sub/out/y.py": "",
        "sub/.gitignore": "local.py\n", "sub/local.py": "", "sub/z.go": "", "notes.txt": "", "go.mod": "module m\n",
        "node_modules/m/index.js": "", ".git/hooks/h.py": "", ".venv/lib/site.py": "", "__pycache__/c.py": "",
        "build/gen.c": "", "target/debug/x.rs": "",
    })
    rels, stats = _walked(tmp_path)
    assert rels == ["a.py", "go.mod", "keep.gen.py", "sub/z.go", "sub/out/y.py"]
    assert stats.skipped["gitignored"] == 3 and stats.skipped["skipped folder"] == 6


def test_breadth_first_and_capped(tmp_path: Path) -> None:
    _tree(tmp_path, {"deep/er/x.py": "", "deep/y.py": "", "z.py": "", "a.py": ""})
    rels, stats = _walked(tmp_path, max_files=3)
    assert rels == ["a.py", "z.py", "deep/y.py"] and stats.capped


def test_links_out_of_the_workspace_and_loops(tmp_path: Path) -> None:
    outside = _tree(tmp_path / "outside", {"secret.py": "def secret(): pass\n"})
    ws = _tree(tmp_path / "ws", {"a.py": "", "real/b.py": ""})
    (ws / "out_dir").symlink_to(outside, target_is_directory=True)
    (ws / "out_file.py").symlink_to(outside / "secret.py")
    (ws / "real" / "loop").symlink_to(ws, target_is_directory=True)
    (ws / "self").symlink_to(ws / "self")  # a link to itself
    (ws / "alias.py").symlink_to(ws / "a.py")  # a link inside: read once (as the first name met)
    rels, stats = _walked(ws)
    assert rels == ["a.py", "real/b.py"]
    assert stats.skipped["link out of the workspace"] == 2 and stats.skipped["broken link"] == 1


def test_unreadable_binary_big_and_invalid_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, {"ok.py": "def ok(): pass\n", "bin.py": b"\x00\x01def x(): pass\n", "big.py": "x = 1\n" * 400,
                     "latin1.py": b"def caf\xe9(): pass\ndef fine(): pass\n", "locked.py": "def locked(): pass\n",
                     "locked_dir/in.py": ""})
    os.chmod(tmp_path / "locked.py", 0)
    os.chmod(tmp_path / "locked_dir", 0)
    real_open = builtins.open

    def denying_open(file, *args, **kwargs):  # root ignores permissions: deny like the kernel would
        if str(file).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denying_open)
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p: (_ for _ in ()).throw(PermissionError(13, "denied"))
                        if str(p).endswith("locked_dir") else real_scandir(p))
    try:
        index = WorkspaceIndex(Limits(max_file_bytes=1000))
        stats = index.index_folder(tmp_path)
    finally:
        os.chmod(tmp_path / "locked.py", 0o644)
        os.chmod(tmp_path / "locked_dir", 0o755)
    root = index.roots()[0]
    assert sorted(root.outlines) == ["latin1.py", "ok.py"]
    assert [s.name for s in root.outlines["latin1.py"].symbols][-1] == "fine"
    assert stats.skipped == {"binary": 1, "too big": 1, "unreadable": 1, "unreadable folder": 1}
    assert stats.files == 2 and stats.symbols >= 2


def test_a_folder_deleted_during_the_walk(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": "", "gone/b.py": "", "gone/deeper/c.py": ""})
    stats = WalkStats()
    seen = []
    for found in walk(tmp_path, 100, stats):
        seen.append(found.rel)
        if found.rel == "a.py":
            for p in sorted((tmp_path / "gone").rglob("*"), reverse=True):
                p.unlink() if p.is_file() else p.rmdir()
            (tmp_path / "gone").rmdir()
    assert seen == ["a.py"] and stats.skipped["unreadable folder"] == 1


def test_missing_root(tmp_path: Path) -> None:
    stats = WorkspaceIndex().index_folder(tmp_path / "nope")
    assert stats.files == 0 and stats.skipped == {"missing root": 1}


def test_update_remove_and_live_documents(tmp_path: Path) -> None:
    _tree(tmp_path, {"m.py": "def one(): pass\n", "go.mod": "module example.com/x\n"})
    index = WorkspaceIndex()
    index.index_folder(tmp_path)
    root = index.roots()[0]
    assert root.project.go_modules == (("", "example.com/x"),)
    (tmp_path / "m.py").write_text("def two(): pass\n")
    (tmp_path / "n.py").write_text("class N: pass\n")
    assert index.update_file(tmp_path / "m.py") and index.update_file(tmp_path / "n.py")
    assert [s.name for s in root.outlines["m.py"].symbols] == ["two"] and "n.py" in root.files
    # an open document: its live text wins over the disk until it is closed
    assert index.set_live(tmp_path / "m.py", "def live(): pass\n")
    index.update_file(tmp_path / "m.py")
    assert [s.name for s in root.outlines["m.py"].symbols] == ["live"]
    assert index.source(root, "m.py") == "def live(): pass\n"
    index.drop_live(tmp_path / "m.py")
    assert [s.name for s in root.outlines["m.py"].symbols] == ["two"]
    (tmp_path / "n.py").unlink()
    index.update_file(tmp_path / "n.py")
    assert "n.py" not in root.files and "n.py" not in root.outlines
    index.remove_file(tmp_path / "m.py")
    assert len(root.files) == 0
    # a config file reloads the project facts
    (tmp_path / "go.mod").write_text("module example.com/y\n")
    index.update_file(tmp_path / "go.mod")
    assert root.project.go_modules == (("", "example.com/y"),)
    assert index.update_file("/elsewhere/x.py") is False


def test_reindexing_keeps_open_documents_and_locate_picks_the_innermost_folder(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": "def disk(): pass\n", "inner/b.py": ""})
    index = WorkspaceIndex()
    index.index_folder(tmp_path)
    index.index_folder(tmp_path / "inner")
    index.set_live(tmp_path / "a.py", "def live(): pass\n")
    index.index_folder(tmp_path)
    root, rel = index.locate(tmp_path / "a.py")
    assert [s.name for s in root.outlines[rel].symbols] == ["live"]
    root, rel = index.locate(tmp_path / "inner" / "b.py")
    assert (root.path, rel) == (tmp_path / "inner", "b.py")
    index.remove_folder(tmp_path / "inner")
    assert index.locate(tmp_path / "inner" / "b.py")[1] == "inner/b.py"


def test_a_folder_reached_through_a_link(tmp_path: Path) -> None:
    real = _tree(tmp_path / "real", {"a.py": "def a(): pass\n"})
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    index = WorkspaceIndex()
    index.index_folder(tmp_path / "link")
    assert index.locate(real / "a.py")[1] == "a.py" and index.locate(tmp_path / "link" / "a.py")[1] == "a.py"
    assert index.locate(tmp_path / "a.py") is None


def test_cancelled_indexing_keeps_the_previous_folder(tmp_path: Path) -> None:
    _tree(tmp_path, {f"f{i}.py": "" for i in range(5)})
    index = WorkspaceIndex()
    index.index_folder(tmp_path)
    stats = index.index_folder(tmp_path, cancelled=lambda: True)
    assert stats.cancelled and len(index.roots()[0].files) == 5


def test_reindexing_one_file_replaces_its_outline(tmp_path: Path) -> None:
    # how long it takes is a benchmark's figure (benchmarks/context/index_speed.py), not a test's
    source = "".join(f"def f{i}(a, b):\n    '''Doc {i}.'''\n    return a + b * {i}\n\n\n" for i in range(300))
    _tree(tmp_path, {"big_but_typical.py": source})
    index = WorkspaceIndex()
    index.index_folder(tmp_path)
    (tmp_path / "big_but_typical.py").write_text(source + "def added():\n    pass\n")
    index.update_file(tmp_path / "big_but_typical.py")
    (root,) = index.roots()
    names = [s.name for s in root.outlines["big_but_typical.py"].symbols]
    assert len(names) == 301 and names[-1] == "added"
