"""An embedded MQTT broker (amqtt) for machines without one: `squeezehome demo` and tests fall back to it.

The broker runs on its own asyncio loop in a background thread, bound to loopback on a free port.

Example:
    >>> with EmbeddedBroker() as broker:          # doctest: +SKIP
    ...     print(broker.url)                      # mqtt://127.0.0.1:40123
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

from device_agent.errors import UserError


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    """True once a TCP connect to host:port succeeds, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class EmbeddedBroker:
    """amqtt broker on 127.0.0.1:`port` (a free port by default), anonymous access, in-memory only."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or free_loopback_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

    def _run(self, started: threading.Event) -> None:
        try:
            from amqtt.broker import Broker
        except ImportError as exc:  # pragma: no cover - depends on the install
            self._error = UserError(
                "the embedded MQTT broker needs amqtt: pip install 'squeezehome[demo]' (or pass --broker)"
            )
            self._error.__cause__ = exc
            started.set()
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.CRITICAL)

        async def start() -> None:
            self._broker = Broker(self._config())
            await self._broker.start()

        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # noqa: BLE001 - reported to the caller of start()
            self._error = exc
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(self._broker.shutdown())
        loop.close()

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it accepts connections."""
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="embedded-mqtt", daemon=True)
        self._thread.start()
        started.wait(15)
        if self._error is not None:
            if isinstance(self._error, UserError):
                raise self._error
            raise UserError(f"the embedded MQTT broker failed to start on {self.url}: {self._error}")
        if not wait_for_port(self.host, self.port):
            raise UserError(f"the embedded MQTT broker did not open {self.url}")
        return self

    def stop(self) -> None:
        """Shut the broker down and join its thread."""
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
