"""`squeezehome firmware push`: send a bundle over the air to one site, resumably, and wait for its result.

Protocol (`device_agent.ota_protocol`): publish ``begin`` → the board replies with the chunks it is missing
(all of them for a new update, fewer when a push is resumed) → publish those chunks (QoS 1) → ask for
status with a request id → resend what is still missing, until the board reports a final state
(``active``, ``rolled_back``, ``failed``) or the timeout passes.
"""

from __future__ import annotations

import contextlib
import queue
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device_agent.errors import UserError
from device_agent.ota_protocol import (
    TERMINAL_STATES,
    Begin,
    Chunk,
    Status,
    StatusRequest,
    encode,
    ota_status_topic,
    ota_topic,
    split,
)


def bundle_archive_bytes(bundle: Path) -> tuple[bytes, str]:
    """The bundle as .tar.gz bytes (a directory is packed) and its version; validated like on the board."""
    import tempfile

    from device_agent.bundle import load_bundle
    from firmware.bundle_archive import is_archive, open_bundle, pack_archive

    with open_bundle(Path(bundle)) as root:
        version = load_bundle(root).manifest.model.version
        if is_archive(Path(bundle)):
            return Path(bundle).read_bytes(), version
        with tempfile.TemporaryDirectory() as tmp:
            return pack_archive(root, Path(tmp) / "bundle.tar.gz").read_bytes(), version


class OtaPusher:
    """An MQTT client that pushes one update to one site (paho through `device_agent.mqtt_client`)."""

    def __init__(self, site_id: str, broker: str = "localhost:1883") -> None:
        from device_agent.config import AgentConfig
        from device_agent.mqtt_client import MqttConnection

        url = broker if "://" in broker else f"mqtt://{broker}"
        config = AgentConfig.load(env={}, overrides={"broker_url": url, "site_id": site_id})
        self.site_id = site_id
        self.statuses: queue.Queue[Status] = queue.Queue()
        self.connection = MqttConnection(
            config,
            client_id=f"squeezehome-push-{uuid.uuid4().hex[:12]}",
            subscriptions=[ota_status_topic(site_id)],
            on_message=self._on_message,
            persistent=False,
        )

    def _on_message(self, message: Any) -> None:
        with contextlib.suppress(ValueError, TypeError):
            self.statuses.put(Status.from_payload(message.payload))

    def __enter__(self) -> OtaPusher:
        self.connection.connect(timeout=10.0)
        time.sleep(0.1)  # let the SUBACK for the status topic arrive before the first request
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def send(self, message: Begin | Chunk | StatusRequest) -> None:
        self.connection.publish(ota_topic(self.site_id), encode(message), qos=1)

    def wait(self, sha256: str, deadline: float, request: str | None = None) -> Status | None:
        """The next status about ``sha256`` (a reply to ``request`` or a final state); None at the deadline."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                status = self.statuses.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if status.sha256 and status.sha256 != sha256:
                continue
            if status.state in TERMINAL_STATES or request is None or status.request == request:
                return status
            if not status.sha256 and status.state == "idle":
                continue


def push_bundle(
    bundle: Path,
    site_id: str,
    *,
    broker: str = "localhost:1883",
    chunk_size: int = 65536,
    timeout: float = 120.0,
    reply_timeout: float = 10.0,
    progress: Callable[[str], None] = lambda _m: None,
    max_chunks: int | None = None,
) -> dict[str, Any]:
    """Push ``bundle`` to ``site_id``; return the board's final status as a dict.

    ``max_chunks`` stops after sending that many chunks (a deliberately interrupted push, for tests and demos
    of resuming); the result then has state ``interrupted``.
    """
    if chunk_size < 256:
        raise UserError("--chunk-size must be at least 256 bytes")
    archive, version = bundle_archive_bytes(bundle)
    begin, chunks = split(archive, version, chunk_size)
    progress(f"pushing {version} to {site_id}: {len(archive) / 1024:.1f} KiB in {begin.count} chunks")
    deadline = time.monotonic() + timeout
    reply_timeout = min(reply_timeout, timeout)
    sent_total = 0
    with OtaPusher(site_id, broker) as pusher:
        pusher.send(begin)
        status = pusher.wait(begin.sha256, min(deadline, time.monotonic() + reply_timeout), request="")
        if status is None:
            raise UserError(
                f"no answer from site {site_id} within {reply_timeout:.0f}s; is its agent running with ota_enabled?"
            )
        while status.state not in TERMINAL_STATES:
            if status.state == "receiving" and status.missing:
                if status.received:
                    progress(
                        f"board has {status.received}/{status.count} chunks; sending {len(status.missing)}"
                    )
                for n, index in enumerate(status.missing, 1):
                    if max_chunks is not None and sent_total >= max_chunks:
                        return {
                            "state": "interrupted",
                            "sent": sent_total,
                            "count": begin.count,
                            "version": version,
                        }
                    pusher.send(chunks[index])
                    sent_total += 1
                    if n % max(len(status.missing) // 10, 1) == 0:
                        progress(f"sent {n}/{len(status.missing)} chunks")
            else:
                progress(f"board: {status.state}")
            request = uuid.uuid4().hex[:12]
            pusher.send(StatusRequest(request))
            status = pusher.wait(begin.sha256, deadline, request=request)
            if status is None:
                raise UserError(f"site {site_id} did not finish the update within {timeout:.0f}s")
            if status.state == "idle":
                status = Status("failed", begin.sha256, version, error="the board dropped the update")
    result = {k: v for k, v in status.__dict__.items() if v not in ("", [], None) or k == "state"}
    result.pop("request", None)
    result["sent_chunks"] = sent_total
    result["bytes"] = len(archive)
    progress(f"board: {status.state} {status.error}".rstrip())
    return result
