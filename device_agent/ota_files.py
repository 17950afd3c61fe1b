"""Files for the OTA receiver: atomic writes and symlink switches, safe extraction of a received bundle."""

from __future__ import annotations

import contextlib
import os
import tarfile
from pathlib import Path

from device_agent.errors import UserError


def extract(archive: Path, dest: Path) -> Path:
    """Extract a bundle .tar.gz (plain files only) and return the folder holding manifest.json."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise UserError(f"bundle archive holds {member.name!r}, which is not a plain file")
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UserError(f"the received bundle is not a readable .tar.gz ({exc})") from exc
    if (dest / "manifest.json").exists():
        return dest
    subdirs = [p for p in dest.iterdir() if p.is_dir()]
    if len(subdirs) == 1 and (subdirs[0] / "manifest.json").exists():
        return subdirs[0]
    raise UserError("the received archive has no manifest.json at its top")


def readlink(path: Path) -> str | None:
    """The target of a symlink, or None when ``path`` is not one."""
    return os.readlink(path) if path.is_symlink() else None


def write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """Write through a temp file and rename (fsynced unless ``sync`` is False)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def symlink_atomic(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one step: a symlink under a temp name renamed over it."""
    tmp = link.with_name(f".{link.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)
