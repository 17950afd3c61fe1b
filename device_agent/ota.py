"""The on-board over-the-air update receiver: chunks → verify → stage → switch → self-test → keep or roll back.

Independent of MQTT: it takes message payloads (`handle`) and a ``publish(topic, payload)`` callable; the
agent feeds it ``squeezehome/<site>/ota`` messages in order (see `device_agent.agent`). Wire format in
`device_agent.ota_protocol`.

On disk, under ``install_root`` (``/opt/squeezehome``, the same layout `firmware flash` writes)::

    ota/<sha256>/begin.json, <index>.part   received chunks (kept across restarts: a push resumes)
    ota/pending.json                        written before ``current`` is switched, removed once the new
                                            bundle passed its self-test; found at start-up = the agent died
                                            mid-switch → ``current`` is rolled back
    bundles/<version>/, current, previous   installed bundles; ``current`` switched by symlink rename

An update needs a trusted key: the archive's sha256 is checked, then the bundle is loaded with
``load_bundle(…, trusted_public_key)`` (checksums + Ed25519 signature) before anything is switched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device_agent import ota_files
from device_agent.bundle import load_bundle
from device_agent.errors import UserError
from device_agent.ota_protocol import (
    Abort,
    Begin,
    Chunk,
    OtaMessageError,
    Status,
    StatusRequest,
    decode,
    ota_status_topic,
)

log = logging.getLogger("squeezehome.ota")

PublishFn = Callable[[str, bytes], None]


class OtaReceiver:
    """Receives, verifies and installs bundles sent over the air.

    Args:
        install_root: where bundles, ``current`` and the OTA state live.
        site_id: names the status topic.
        publish: ``publish(topic, payload)``; status messages go through it.
        trusted_key: Ed25519 public key (PEM path); without one every update is refused.
        activate: loads a bundle directory into the running service (raises ``UserError`` if it cannot).
        recognize: text → intent name (``None`` when nothing is recognized), for the self-test.
        active_bundle: the bundle the service runs now (rolled back to when an update fails).
        keep: installed versions kept (current + previous by default).
    """

    def __init__(
        self,
        install_root: str | Path,
        site_id: str,
        publish: PublishFn,
        trusted_key: str | Path | None,
        activate: Callable[[Path], None],
        recognize: Callable[[str], str | None],
        active_bundle: Path | None = None,
        keep: int = 2,
    ) -> None:
        self.root = Path(install_root)
        self.site_id = site_id
        self._publish = publish
        self.trusted_key = trusted_key
        self.activate = activate
        self.recognize = recognize
        self.active_bundle = Path(active_bundle).resolve() if active_bundle else self._current_dir()
        self.keep = keep
        self.state_dir = self.root / "ota"
        self._have: dict[str, set[int]] = {}
        self.recover()

    @classmethod
    def for_agent(cls, agent: Any) -> OtaReceiver:
        """A receiver wired to a running `device_agent.agent.Agent`."""

        def recognize(text: str) -> str | None:
            with agent._recognizer_lock:
                return agent.recognizer.recognize(text).intent

        return cls(
            install_root=agent.config.install_root,
            site_id=agent.site_id,
            publish=lambda topic, payload: agent.publish(topic, payload),
            trusted_key=agent.config.trusted_key,
            activate=agent.switch_bundle,
            recognize=recognize,
            active_bundle=agent.bundle.path if agent.bundle is not None else None,
        )

    # === Messages ===

    def handle(self, payload: bytes) -> Status:
        """Process one message from the OTA topic; returns (and publishes) the resulting status."""
        try:
            message = decode(payload)
        except OtaMessageError as exc:
            return self._report(Status("failed", error=str(exc)))
        if isinstance(message, StatusRequest):
            status = self.status()
            status.request = message.request
            return self._report(status)
        if isinstance(message, Abort):
            for d in self._incoming_dirs():
                if not message.sha256 or d.name == message.sha256:
                    shutil.rmtree(d, ignore_errors=True)
            self._have.clear()
            return self._report(
                Status("aborted", sha256=message.sha256, active_version=self._active_version())
            )
        if isinstance(message, Begin):
            return self._begin(message)
        return self._chunk(message)

    def status(self) -> Status:
        """Where an update stands (the newest incoming one), or ``idle`` with the active version."""
        incoming = self._incoming_dirs()
        if not incoming:
            return Status("idle", active_version=self._active_version())
        begin = self._read_begin(incoming[0])
        return self._progress(begin)

    def _begin(self, begin: Begin) -> Status:
        if not self.trusted_key:
            return self._report(
                Status(
                    "failed",
                    begin.sha256,
                    begin.version,
                    error="over-the-air updates need a trusted_key on the board; refusing unsigned updates",
                )
            )
        for d in self._incoming_dirs():
            if d.name != begin.sha256:
                shutil.rmtree(d, ignore_errors=True)  # one update at a time: a new one replaces an old one
        folder = self.state_dir / begin.sha256
        folder.mkdir(parents=True, exist_ok=True)
        begin_file = folder / "begin.json"
        if not begin_file.exists() or self._read_begin(folder) != begin:
            for part in folder.glob("*.part"):
                part.unlink()
            ota_files.write_atomic(begin_file, json.dumps(begin.__dict__).encode())
        self._have.clear()
        status = self._report(self._progress(begin))
        if not status.missing:
            return self._install(begin)
        return status

    def _chunk(self, chunk: Chunk) -> Status:
        folder = self.state_dir / chunk.sha256
        if not (folder / "begin.json").exists():
            return self._report(
                Status("failed", chunk.sha256, error="chunk for an unknown update; send begin first")
            )
        begin = self._read_begin(folder)
        if chunk.index >= begin.count:
            return self._report(
                Status(
                    "failed",
                    begin.sha256,
                    begin.version,
                    error=f"chunk index {chunk.index} out of range (count {begin.count})",
                )
            )
        expected = (
            begin.chunk_size
            if chunk.index < begin.count - 1
            else begin.size - begin.chunk_size * (begin.count - 1)
        )
        if len(chunk.data) != expected:
            return self._report(
                Status(
                    "failed",
                    begin.sha256,
                    begin.version,
                    error=f"chunk {chunk.index} has {len(chunk.data)} bytes, expected {expected}",
                )
            )
        ota_files.write_atomic(
            folder / f"{chunk.index}.part", chunk.data, sync=False
        )  # the sha256 check catches loss
        self._received(begin.sha256).add(chunk.index)
        status = self._progress(begin)
        if not status.missing:
            return self._install(begin)
        step = max(begin.count // 10, 1)
        if status.received % step == 0:
            self._report(status)
        return status

    # === Install ===

    def _install(self, begin: Begin) -> Status:
        folder = self.state_dir / begin.sha256
        try:
            self._report(Status("verifying", begin.sha256, begin.version, begin.count, begin.count))
            archive = folder / "bundle.tar.gz"
            digest = hashlib.sha256()
            with archive.open("wb") as out:
                for i in range(begin.count):
                    data = (folder / f"{i}.part").read_bytes()
                    digest.update(data)
                    out.write(data)
            if digest.hexdigest() != begin.sha256:
                raise UserError(
                    "sha256 of the received bundle does not match the announced one "
                    "(a chunk was corrupted or tampered with); push it again"
                )
            bundles = self.root / "bundles"
            bundles.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".staging-{begin.version}.", dir=bundles))
            try:
                bundle_dir = ota_files.extract(archive, staging)
                bundle = load_bundle(bundle_dir, trusted_public_key=self.trusted_key)
                if bundle.manifest.model.version != begin.version:
                    raise UserError(
                        f"bundle version {bundle.manifest.model.version} is not the announced {begin.version}"
                    )
                return self._switch(begin, bundle_dir, [dict(t) for t in bundle.manifest.self_test])
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        except UserError as exc:
            log.warning("OTA update %s refused: %s", begin.version, exc)
            return self._report(
                Status(
                    "failed",
                    begin.sha256,
                    begin.version,
                    error=str(exc),
                    active_version=self._active_version(),
                )
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self._have.clear()

    def _switch(self, begin: Begin, staged: Path, self_test: list[dict[str, Any]]) -> Status:
        final = self.root / "bundles" / begin.version
        old_dir = self.active_bundle
        if old_dir is not None and final.resolve() == old_dir:
            return self._report(Status("active", begin.sha256, begin.version, active_version=begin.version))
        self._report(Status("installing", begin.sha256, begin.version))
        shutil.rmtree(final, ignore_errors=True)
        staged.chmod(0o755)
        staged.rename(final)
        old_link = ota_files.readlink(self.root / "current")
        pending = {
            "version": begin.version,
            "old_link": old_link,
            "old_dir": str(old_dir) if old_dir else None,
        }
        ota_files.write_atomic(self.state_dir / "pending.json", json.dumps(pending).encode())
        ota_files.symlink_atomic(self.root / "current", f"bundles/{begin.version}")
        self._report(Status("self_test", begin.sha256, begin.version))
        try:
            self.activate(final)
            failures = self._self_test(self_test)
        except UserError as exc:
            failures = [f"the new bundle does not load: {exc}"]
        if failures:
            self._rollback(pending)
            shutil.rmtree(final, ignore_errors=True)
            return self._report(
                Status(
                    "rolled_back",
                    begin.sha256,
                    begin.version,
                    error="self-test failed: " + "; ".join(failures[:5]),
                    active_version=self._active_version(),
                )
            )
        if old_link and Path(old_link).name != begin.version:
            ota_files.symlink_atomic(self.root / "previous", old_link)
        (self.state_dir / "pending.json").unlink()
        self.active_bundle = final.resolve()
        self._prune()
        log.info("OTA update %s active", begin.version)
        return self._report(Status("active", begin.sha256, begin.version, active_version=begin.version))

    def _self_test(self, tests: list[dict[str, Any]]) -> list[str]:
        failures = []
        for test in tests:
            got = self.recognize(str(test["text"])) or "NotRecognized"
            if got != test["intent"]:
                failures.append(f"{test['text']!r} → {got}, expected {test['intent']}")
        return failures

    def _rollback(self, pending: dict[str, Any]) -> None:
        """Point ``current`` back and reload the old bundle; remove the pending marker."""
        if pending.get("old_link"):
            ota_files.symlink_atomic(self.root / "current", pending["old_link"])
        else:
            with contextlib.suppress(FileNotFoundError):
                (self.root / "current").unlink()
        old_dir = pending.get("old_dir")
        if old_dir:
            try:
                self.activate(Path(old_dir))
            except UserError:
                log.exception("could not reload the previous bundle %s", old_dir)
            self.active_bundle = Path(old_dir)
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "pending.json").unlink()

    def recover(self) -> None:
        """At start-up: an update interrupted between switch and self-test is rolled back."""
        marker = self.state_dir / "pending.json"
        if not marker.exists():
            return
        try:
            pending = json.loads(marker.read_text())
        except (OSError, ValueError):
            pending = {}
        log.warning("interrupted OTA update %s found at start-up; rolling back", pending.get("version"))
        self._rollback(pending)
        if pending.get("version"):
            shutil.rmtree(self.root / "bundles" / str(pending["version"]), ignore_errors=True)
        with contextlib.suppress(Exception):
            self._report(
                Status(
                    "rolled_back",
                    version=str(pending.get("version", "")),
                    error="the update was interrupted before its self-test finished",
                    active_version=self._active_version(),
                )
            )

    def _prune(self) -> None:
        protected = {
            Path(p).name
            for p in (ota_files.readlink(self.root / "current"), ota_files.readlink(self.root / "previous"))
            if p
        }
        bundles = self.root / "bundles"
        dirs = sorted(
            (d for d in bundles.iterdir() if d.is_dir() and not d.name.startswith(".")),
            key=lambda d: d.stat().st_mtime,
            reverse=True,
        )
        budget = max(self.keep - len(protected), 0)
        for d in [d for d in dirs if d.name not in protected][budget:]:
            shutil.rmtree(d, ignore_errors=True)

    # === Helpers ===

    def _report(self, status: Status) -> Status:
        try:
            self._publish(ota_status_topic(self.site_id), status.to_payload())
        except Exception:  # noqa: BLE001 - a status that cannot be sent must not stop an install
            log.warning("could not publish OTA status %s", status.state)
        return status

    def _progress(self, begin: Begin) -> Status:
        have = self._received(begin.sha256)
        missing = [i for i in range(begin.count) if i not in have]
        return Status(
            "receiving", begin.sha256, begin.version, begin.count - len(missing), begin.count, missing
        )

    def _received(self, sha256: str) -> set[int]:
        """Indices of the chunks on disk (read once per update, then kept up to date in memory)."""
        if sha256 not in self._have:
            folder = self.state_dir / sha256
            self._have = {sha256: {int(p.stem) for p in folder.glob("*.part") if p.stem.isdigit()}}
        return self._have[sha256]

    def _incoming_dirs(self) -> list[Path]:
        if not self.state_dir.is_dir():
            return []
        dirs = [d for d in self.state_dir.iterdir() if d.is_dir() and (d / "begin.json").exists()]
        return sorted(dirs, key=lambda d: d.stat().st_mtime, reverse=True)

    @staticmethod
    def _read_begin(folder: Path) -> Begin:
        return Begin(**json.loads((folder / "begin.json").read_text()))

    def _current_dir(self) -> Path | None:
        link = self.root / "current"
        return link.resolve() if link.exists() else None

    def _active_version(self) -> str:
        return self.active_bundle.name if self.active_bundle else ""
