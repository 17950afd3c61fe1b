"""Install a bundle onto a device: a mounted root file system (``--to PATH``) or over SSH (``ssh://…``).

Layout written under the device root (no systemd needed on the host)::

    opt/squeezehome/bundles/<version>/          the bundle (older versions pruned, the previous one kept)
    opt/squeezehome/current -> bundles/<version>   switched atomically (temp symlink + rename)
    opt/squeezehome/previous -> bundles/<old>      what `current` pointed to before
    etc/squeezehome/agent.toml                  broker_url, site_id, bundle, trusted_key, ota_enabled, install_root
    etc/squeezehome/trusted.pub                 the trusted key, when given
    etc/squeezehome/known_names.toml|.json      the household's names, when given (agent.toml's known_names)
    etc/systemd/system/squeezehome-agent.service
    etc/systemd/system/multi-user.target.wants/squeezehome-agent.service -> ../squeezehome-agent.service

Everything is validated before anything is written; the bundle is staged in a temp directory beside its
final place and renamed, and ``current`` is switched last, so a failure leaves the device as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_agent.errors import UserError
from firmware.bundle_archive import copy_tree_files, open_bundle, read_manifest

INSTALL_ROOT = "opt/squeezehome"
CONFIG_FILE = "etc/squeezehome/agent.toml"
TRUSTED_KEY_FILE = "etc/squeezehome/trusted.pub"
KNOWN_NAMES_STEM = "etc/squeezehome/known_names"  # + the given file's .toml/.json
UNIT_NAME = "squeezehome-agent.service"
UNIT_DIR = "etc/systemd/system"
WANTS_DIR = "etc/systemd/system/multi-user.target.wants"
RESTART_COMMAND = f"systemctl daemon-reload && systemctl restart {UNIT_NAME}"


@dataclass
class FlashSettings:
    """What goes into the device's agent.toml; ``None`` keeps the device's current value (or the default)."""

    broker: str | None = None
    site_id: str | None = None
    trusted_key: Path | None = None
    keep: int = 2
    ota_enabled: bool | None = None  # default: on exactly when a trusted key is installed
    known_names: Path | None = None  # the household's names file (device_agent/known_names.py)
    restart_command: str = RESTART_COMMAND

    def known_names_file(self) -> str | None:
        """Where the names file goes, relative to the device root (None: not given)."""
        return f"{KNOWN_NAMES_STEM}{Path(self.known_names).suffix}" if self.known_names else None


@dataclass
class FlashResult:
    """What was installed where, and sizes."""

    target: str
    version: str
    previous: str | None
    bundle_bytes: int
    footprint_bytes: int
    removed: list[str] = field(default_factory=list)
    restarted: str | None = None

    def summary(self) -> str:
        prev = f" (previous {self.previous} kept)" if self.previous else ""
        removed = f"; removed {', '.join(self.removed)}" if self.removed else ""
        restart = f"; {self.restarted}" if self.restarted else ""
        return (
            f"installed {self.version} on {self.target}{prev}: bundle {self.bundle_bytes / 1024:.1f} KiB, "
            f"flash footprint {self.footprint_bytes / 1024:.1f} KiB{removed}{restart}"
        )


def flash_bundle(
    bundle: Path,
    target: str,
    settings: FlashSettings | None = None,
    *,
    ssh_identity: Path | None = None,
    ssh_options: list[str] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> FlashResult:
    """Install ``bundle`` onto ``target``: a root file system path or ``ssh://user@host[:port][/root]``."""
    settings = settings or FlashSettings()
    if str(target).startswith("ssh://"):
        from firmware.flash_ssh import flash_over_ssh

        return flash_over_ssh(
            bundle, str(target), settings, identity=ssh_identity, ssh_options=ssh_options, progress=progress
        )
    return flash_to_root(bundle, Path(target), settings, progress=progress)


# === Validation shared by both forms ===


def validated_known_names(settings: FlashSettings) -> None:
    """Refuse a names file the agent would refuse, before anything is written."""
    if settings.known_names is not None:
        from device_agent.known_names import KnownNames

        KnownNames.load(settings.known_names)


def validated_bundle(root: Path, trusted_key: Path | None) -> dict[str, Any]:
    """Load the bundle as the agent will (checksums, format, signature); return its manifest dict."""
    from device_agent.bundle import load_bundle

    if trusted_key is not None and not Path(trusted_key).is_file():
        raise UserError(
            f"trusted key {trusted_key} does not exist; create one with `squeezehome firmware keygen`"
        )
    load_bundle(root, trusted_public_key=trusted_key)
    return read_manifest(root)


def render_config(
    existing: dict[str, Any], settings: FlashSettings, version_dir: str = "/opt/squeezehome"
) -> str:
    """agent.toml text: the device's existing settings updated with the flash settings."""
    from device_agent.config import AgentConfig, BrokerAddress

    values = dict(existing)
    if settings.broker:
        url = settings.broker if "://" in settings.broker else f"mqtt://{settings.broker}"
        BrokerAddress.parse(url)  # one clear error for a bad broker address
        values["broker_url"] = url
    if settings.site_id:
        values["site_id"] = settings.site_id
    values["bundle"] = f"{version_dir}/current"
    values["install_root"] = version_dir
    if settings.trusted_key is not None:
        values["trusted_key"] = "/" + TRUSTED_KEY_FILE
    if settings.known_names is not None:
        values["known_names"] = "/" + str(settings.known_names_file())
    if settings.ota_enabled is not None:
        values["ota_enabled"] = settings.ota_enabled
    elif "ota_enabled" not in values:
        values["ota_enabled"] = "trusted_key" in values
    AgentConfig().updated(values, source="agent.toml").validate()  # refuse to write what the agent rejects
    lines = ["# squeezehome agent configuration (written by `squeezehome firmware flash`)"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in sorted(values.items())]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def unit_text() -> str:
    """The systemd unit shipped in ``device_agent/systemd/``."""
    path = Path(__file__).resolve().parents[1] / "device_agent" / "systemd" / UNIT_NAME
    if not path.is_file():
        raise UserError(f"the systemd unit {path} is missing from this install; reinstall squeezehome")
    return path.read_text()


def footprint(paths: list[Path]) -> int:
    """Bytes of the regular files under ``paths`` (what the install occupies)."""
    total = 0
    for p in paths:
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
        elif p.is_dir() and not p.is_symlink():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())
    return total


# === Path form ===


def check_root(root: Path) -> None:
    """A device root file system: an existing, writable directory with an ``etc/`` directory."""
    if not root.is_dir():
        raise UserError(f"{root} is not a directory; pass the mounted device root file system with --to")
    if not (root / "etc").is_dir():
        raise UserError(f"{root} has no etc/ directory, so it is not a device root file system; check --to")
    for sub in (root, root / "etc"):
        if not os.access(sub, os.W_OK | os.X_OK):
            raise UserError(f"{sub} is not writable; mount the device read-write or run with enough rights")


def flash_to_root(
    bundle: Path, root: Path, settings: FlashSettings, progress: Callable[[str], None] = lambda _m: None
) -> FlashResult:
    """Install into a root file system at ``root`` (see module docstring); nothing half-installed on error."""
    check_root(root)
    if settings.keep < 1:
        raise UserError("--keep must be at least 1")
    validated_known_names(settings)
    with open_bundle(Path(bundle)) as src:
        manifest = validated_bundle(src, settings.trusted_key)
        version = manifest["model"]["version"]
        install = root / INSTALL_ROOT
        bundles = install / "bundles"
        final = bundles / version
        config_path = root / CONFIG_FILE
        existing = _read_existing_config(config_path)
        config = render_config(existing, settings)
        unit = unit_text()
        try:
            bundles.mkdir(parents=True, exist_ok=True)
            (root / WANTS_DIR).mkdir(parents=True, exist_ok=True)
            config_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create directories under {root}: {exc.strerror}") from exc
        new_dir = False
        damaged = None
        if final.exists():
            if read_manifest(final) != manifest:
                raise UserError(
                    f"version {version} is already installed on {root} with different content; "
                    "build the bundle with a new --version"
                )
            try:
                validated_bundle(final, settings.trusted_key)
                progress(f"version {version} already installed; switching to it")
            except UserError as exc:
                progress(f"installed copy of {version} is damaged ({exc}); reinstalling it")
                damaged = final.with_name(f".{version}.damaged")
                shutil.rmtree(damaged, ignore_errors=True)
        if not final.exists() or damaged is not None:
            progress(f"staging {version} in {bundles}")
            staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=bundles))
            try:
                copy_tree_files(src, staging)
                staging.chmod(0o755)
                validated_bundle(staging, settings.trusted_key)
                if damaged is not None:
                    final.rename(damaged)
                staging.rename(final)
                new_dir = damaged is None
            finally:
                shutil.rmtree(staging, ignore_errors=True)
                if damaged is not None:
                    shutil.rmtree(damaged, ignore_errors=True)
        try:
            _write_atomic(root / UNIT_DIR / UNIT_NAME, unit, 0o644)
            _symlink_atomic(root / WANTS_DIR / UNIT_NAME, f"/{UNIT_DIR}/{UNIT_NAME}")
            if settings.trusted_key is not None:
                _write_atomic(root / TRUSTED_KEY_FILE, Path(settings.trusted_key).read_text(), 0o644)
            if settings.known_names is not None:
                names_text = Path(settings.known_names).read_text(encoding="utf-8")
                _write_atomic(root / str(settings.known_names_file()), names_text, 0o644)
            _write_atomic(config_path, config, 0o644)
            previous = switch_current(install, version)
        except BaseException:
            if new_dir:
                shutil.rmtree(final, ignore_errors=True)
            raise
    removed = prune_versions(install, settings.keep)
    size = footprint([final])
    total = footprint([install, root / "etc/squeezehome", root / UNIT_DIR / UNIT_NAME])
    progress(f"current -> bundles/{version}")
    return FlashResult(str(root), version, previous, size, total, removed)


def _read_existing_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"existing {path} is not readable TOML ({exc}); fix or remove it") from exc


def _write_atomic(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _symlink_atomic(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.tmp{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def current_version(install: Path) -> str | None:
    """The version ``install/current`` points to, if any."""
    link = install / "current"
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def switch_current(install: Path, version: str) -> str | None:
    """Point ``current`` at ``bundles/<version>`` atomically, ``previous`` at the old one; return the old one."""
    old = current_version(install)
    if old is not None and old != version:
        _symlink_atomic(install / "previous", f"bundles/{old}")
    _symlink_atomic(install / "current", f"bundles/{version}")
    return old if old != version else None


def prune_versions(install: Path, keep: int) -> list[str]:
    """Remove installed versions beyond ``keep``, never the current or previous one; return removed names."""
    bundles = install / "bundles"
    protected = {current_version(install)}
    prev = install / "previous"
    if prev.is_symlink():
        protected.add(Path(os.readlink(prev)).name)
    dirs = sorted(
        (d for d in bundles.iterdir() if d.is_dir() and not d.name.startswith(".")),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    removable = [d for d in dirs if d.name not in protected]
    budget = max(keep - len(protected & {d.name for d in dirs}), 0)
    removed = []
    for d in removable[budget:]:
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d.name)
    return removed
