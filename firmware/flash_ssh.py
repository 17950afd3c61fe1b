"""`flash --to ssh://user@host[:port][/root]`: the path form's layout, installed over SSH.

The bundle is validated locally, the device is probed in one ``ssh`` call (root file system, writable
``etc/``, existing agent.toml, already installed version), and one more ``ssh`` call receives a tar of the
bundle and config on stdin, checks every sha256 on the device, renames the staged bundle into place,
switches ``current`` atomically (``ln -s`` to a temp name + ``mv -T``) and restarts the service. The
device needs ``sh``, ``tar``, ``sha256sum``, ``mktemp`` and GNU/busybox ``mv -T``; no Python.
The URL path, when given, is a root prefix on the device (``/`` by default), used by tests.
"""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from device_agent.errors import UserError
from firmware.bundle_archive import open_bundle
from firmware.flash import (
    CONFIG_FILE,
    INSTALL_ROOT,
    TRUSTED_KEY_FILE,
    UNIT_DIR,
    UNIT_NAME,
    WANTS_DIR,
    FlashResult,
    FlashSettings,
    render_config,
    unit_text,
    validated_bundle,
    validated_known_names,
)

_MARK = "----squeezehome----"


@dataclass(frozen=True)
class SshTarget:
    """``ssh://user@host[:port][/root]`` parsed."""

    user: str | None
    host: str
    port: int
    root: str

    @classmethod
    def parse(cls, url: str) -> SshTarget:
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise UserError(f"{url!r} is not ssh://user@host[:port][/root]")
        try:
            port = parts.port or 22
        except ValueError:
            raise UserError(f"{url!r} has an invalid port") from None
        root = parts.path.rstrip("/") or ""
        return cls(parts.username, parts.hostname, port, root)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"


def ssh_command(target: SshTarget, identity: Path | None, options: list[str] | None) -> list[str]:
    """The ``ssh`` argv prefix: batch mode (never prompts), port, identity, extra ``-o`` options."""
    argv = ["ssh", "-p", str(target.port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    if identity is not None:
        argv += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
    for opt in options or []:
        argv += ["-o", opt]
    return [*argv, target.destination]


def _run(argv: list[str], script: str, stdin: bytes = b"", what: str = "") -> str:
    try:
        proc = subprocess.run([*argv, script], input=stdin, capture_output=True, timeout=300)
    except FileNotFoundError:
        raise UserError("the ssh client is not installed; install openssh-client") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"ssh to the device timed out while {what}") from None
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace").strip()
    if proc.returncode == 255:
        raise UserError(f"cannot ssh to the device ({err.splitlines()[-1] if err else 'connection failed'})")
    if proc.returncode != 0:
        raise UserError(f"on the device, {what} failed: {err.splitlines()[-1] if err else proc.returncode}")
    return out


def _probe_script(t: SshTarget, version: str) -> str:
    q = shlex.quote
    return "; ".join(
        [
            f"test -d {q(t.path('etc'))} || {{ echo 'no etc/ directory under {t.root or '/'}: not a root file system' >&2; exit 3; }}",
            f"test -w {q(t.path('etc'))} || {{ echo '{t.root or '/'}etc is not writable' >&2; exit 4; }}",
            f"cat {q(t.path(CONFIG_FILE))} 2>/dev/null || true",
            f"echo {_MARK}",
            f"cat {q(t.path(f'{INSTALL_ROOT}/bundles/{version}/manifest.json'))} 2>/dev/null || true",
        ]
    )


def _install_script(t: SshTarget, version: str, restart: str | None, prune: bool) -> str:
    q = shlex.quote
    install = q(t.path(INSTALL_ROOT))
    final = q(t.path(f"{INSTALL_ROOT}/bundles/{version}"))
    lines = [
        "set -e",
        f"mkdir -p {install}/bundles {q(t.path(WANTS_DIR))} {q(t.path('etc/squeezehome'))}",
        f"T=$(mktemp -d {install}/.incoming.XXXXXX); trap 'rm -rf \"$T\"' EXIT",
        'tar xzf - -C "$T"',
        '(cd "$T/bundle" && sha256sum -c --quiet ../SHA256SUMS)',
        f'if [ ! -d {final} ]; then chmod 755 "$T/bundle"; mv "$T/bundle" {final}; fi',
        f'for f in agent.toml trusted.pub known_names.toml known_names.json; do [ -f "$T/$f" ] && cp "$T/$f" {q(t.path("etc/squeezehome"))}/.$f.new '
        f"&& mv -f {q(t.path('etc/squeezehome'))}/.$f.new {q(t.path('etc/squeezehome'))}/$f; done",
        f'cp "$T/{UNIT_NAME}" {q(t.path(UNIT_DIR))}/.{UNIT_NAME}.new && '
        f"mv -f {q(t.path(UNIT_DIR))}/.{UNIT_NAME}.new {q(t.path(f'{UNIT_DIR}/{UNIT_NAME}'))}",
        f"ln -sfn /{UNIT_DIR}/{UNIT_NAME} {q(t.path(f'{WANTS_DIR}/{UNIT_NAME}'))}",
        f"OLD=$(readlink {install}/current 2>/dev/null || true); OLD=${{OLD##*/}}",
        f'if [ -n "$OLD" ] && [ "$OLD" != {q(version)} ]; then ln -sfn "bundles/$OLD" {install}/.previous.new '
        f"&& mv -Tf {install}/.previous.new {install}/previous; fi",
        f"ln -sfn bundles/{q(version)} {install}/.current.new && mv -Tf {install}/.current.new {install}/current",
        'echo "previous=$OLD"',
    ]
    if prune:
        lines.append(
            f"P=$(readlink {install}/previous 2>/dev/null || true); P=${{P##*/}}; "
            f"for d in {install}/bundles/*; do n=${{d##*/}}; "
            f'if [ "$n" != {q(version)} ] && [ "$n" != "$P" ]; then rm -rf "$d"; echo "removed=$n"; fi; done'
        )
    lines.append(
        f"du -sk {install} {q(t.path('etc/squeezehome'))} | awk '{{s+=$1}} END {{print \"footprint_kib=\" s}}'"
    )
    if restart:
        lines.append(f"{restart}")
        lines.append("echo restarted=yes")
    return "\n".join(lines)


def flash_over_ssh(
    bundle: Path,
    url: str,
    settings: FlashSettings,
    *,
    identity: Path | None = None,
    ssh_options: list[str] | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> FlashResult:
    """Install ``bundle`` on the device behind ``url`` and restart its service (see module docstring)."""
    import tomllib

    target = SshTarget.parse(url)
    argv = ssh_command(target, identity, ssh_options)
    validated_known_names(settings)
    with open_bundle(Path(bundle)) as src:
        manifest = validated_bundle(src, settings.trusted_key)
        version = manifest["model"]["version"]
        progress(f"probing {target.destination}:{target.port}")
        probe = _run(argv, _probe_script(target, version), what="checking the root file system")
        config_text, _, installed = probe.partition(_MARK + "\n")
        try:
            existing = tomllib.loads(config_text) if config_text.strip() else {}
        except tomllib.TOMLDecodeError as exc:
            raise UserError(f"the device's agent.toml is not valid TOML ({exc}); fix or remove it") from exc
        if installed.strip() and json.loads(installed) != manifest:
            raise UserError(
                f"version {version} is already installed on the device with different content; "
                "build the bundle with a new --version"
            )
        payload = _payload(src, render_config(existing, settings), settings)
        progress(f"sending {len(payload) / 1024:.1f} KiB and installing {version}")
        restart = settings.restart_command if settings.restart_command else None
        out = _run(
            argv, _install_script(target, version, restart, settings.keep <= 2), payload, what="installing"
        )
        bundle_bytes = sum(p.stat().st_size for p in src.iterdir() if p.is_file())
    info: dict[str, list[str]] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            info.setdefault(key, []).append(value)
    return FlashResult(
        target=url,
        version=version,
        previous=(info.get("previous") or [""])[0] or None,
        bundle_bytes=bundle_bytes,
        footprint_bytes=int((info.get("footprint_kib") or ["0"])[0]) * 1024,
        removed=info.get("removed", []),
        restarted="service restarted" if "restarted" in info else "service not restarted",
    )


def _payload(src: Path, config: str, settings: FlashSettings) -> bytes:
    """tar.gz of bundle/ + SHA256SUMS + agent.toml + unit (+ trusted.pub, known_names.*)."""
    import hashlib

    buf = io.BytesIO()
    files = sorted(p for p in src.iterdir() if p.is_file())
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in files)
    extra = {"SHA256SUMS": sums, "agent.toml": config, UNIT_NAME: unit_text()}
    if settings.trusted_key is not None:
        extra["trusted.pub"] = Path(settings.trusted_key).read_text()
    if settings.known_names is not None:
        extra[Path(str(settings.known_names_file())).name] = Path(settings.known_names).read_text(
            encoding="utf-8"
        )
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in files:
            tar.add(p, arcname=f"bundle/{p.name}")
        for name, text in extra.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


__all__ = ["SshTarget", "flash_over_ssh", "ssh_command", "TRUSTED_KEY_FILE"]
