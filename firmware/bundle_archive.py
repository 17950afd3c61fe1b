"""A bundle is a directory or a ``.tar.gz`` of one; these helpers let the rest treat both as a directory."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from device_agent.errors import UserError

MANIFEST = "manifest.json"


def is_archive(path: Path) -> bool:
    """True for ``*.tar.gz`` / ``*.tgz`` paths."""
    return path.name.endswith((".tar.gz", ".tgz"))


def read_manifest(root: Path) -> dict[str, Any]:
    """Parse ``root/manifest.json`` with a clear error."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(
            f"{root} has no {MANIFEST}; is it a bundle? build one with `squeezehome firmware build`"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc}); rebuild the bundle") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a JSON object; rebuild the bundle")
    return data


def extract_archive(archive: Path | bytes, dest: Path) -> Path:
    """Extract a bundle archive (path or bytes) into ``dest``; return the directory holding the manifest."""
    try:
        source = {"fileobj": io.BytesIO(archive)} if isinstance(archive, bytes) else {"name": archive}
        with tarfile.open(mode="r:gz", **source) as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise UserError(
                        f"bundle archive holds {member.name!r}, which is not a plain file; refusing it"
                    )
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        name = "the received archive" if isinstance(archive, bytes) else str(archive)
        raise UserError(f"{name} is not a readable .tar.gz bundle ({exc}); rebuild it") from exc
    if (dest / MANIFEST).exists():
        return dest
    subdirs = [p for p in dest.iterdir() if p.is_dir()]
    if len(subdirs) == 1 and (subdirs[0] / MANIFEST).exists():
        return subdirs[0]
    raise UserError(
        "bundle archive has no manifest.json at its top; build it with `squeezehome firmware build`"
    )


def pack_archive(root: Path, out: Path) -> Path:
    """Write ``root``'s files (flat, sorted, owner-neutral) to ``out`` atomically; return ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp_name, mode="w:gz", compresslevel=9) as tar:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mode = 0o644
                with path.open("rb") as f:
                    tar.addfile(info, f)
        os.replace(tmp_name, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return out


@contextlib.contextmanager
def open_bundle(path: Path) -> Iterator[Path]:
    """Yield a directory with the bundle's files (a temp extraction for archives), read-only use."""
    if not path.exists():
        raise UserError(f"bundle {path} does not exist; build one with `squeezehome firmware build`")
    if path.is_dir():
        yield path
        return
    if not is_archive(path):
        raise UserError(f"{path} is neither a bundle directory nor a .tar.gz bundle")
    with tempfile.TemporaryDirectory(prefix="squeezehome-bundle-") as tmp:
        yield extract_archive(path, Path(tmp))


@contextlib.contextmanager
def edit_bundle(path: Path) -> Iterator[Path]:
    """Yield a directory to modify; for an archive the result is re-packed over it on success."""
    if path.is_dir() or not path.exists():
        with open_bundle(path) as root:
            yield root
        return
    with open_bundle(path) as root:
        yield root
        pack_archive(root, path)


def copy_tree_files(src: Path, dest: Path) -> None:
    """Copy the regular files of a flat bundle directory ``src`` into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_file():
            shutil.copy2(item, dest / item.name)
