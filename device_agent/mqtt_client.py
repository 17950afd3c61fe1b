"""The paho-mqtt edge: one connection with TLS, credentials, a persistent session, QoS 1, last will, backoff.

Everything protocol-specific (MQTT 3.1.1 vs 5, clean session vs session expiry, TLS, TCP_NODELAY) is decided
here from an ``AgentConfig``; the agent and the client tools only see ``connect``/``publish``/``ack``/``close``.

Example::

    conn = MqttConnection(config, subscriptions=["hermes/nlu/query"], on_message=print)
    conn.connect(timeout=5)            # UserError with one line if the broker is unreachable or refuses
    conn.publish("hermes/nlu/query", b'{"input": "hi"}').wait_for_publish(5)
    conn.close()
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device_agent.config import AgentConfig
from device_agent.errors import UserError

log = logging.getLogger("squeezehome.mqtt")

MessageHandler = Callable[[mqtt.MQTTMessage], None]


class BrokerError(UserError):
    """The broker cannot be reached, refused the connection, or its certificate does not verify."""


def set_tcp_nodelay(sock: Any) -> None:
    """Disable Nagle's algorithm on an MQTT socket (see DESIGN.md: 45–78 ms → 0.6 ms round trips)."""
    with contextlib.suppress(OSError, AttributeError):  # non-TCP transports
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def describe_connect_error(exc: BaseException, where: str) -> str:
    """One line saying why a TCP/TLS connect to the broker failed and what to do."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the broker certificate at {where} does not verify ({exc.verify_message}); "
            "set tls_ca to the CA that signed it (or tls_insecure only for testing)"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc}); check tls_ca/tls_cert/tls_key and the port"
    if isinstance(exc, ConnectionRefusedError):
        return f"no MQTT broker listens at {where}; start mosquitto or fix broker_url"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the broker host of {where}; fix broker_url"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"connecting to {where} timed out; check the network and broker_url"
    return f"cannot connect to {where}: {exc}"


class MqttConnection:
    """A paho-mqtt client configured from ``AgentConfig``, running its network loop in a thread.

    Args:
        config: broker URL, credentials, TLS, protocol, keepalive, session expiry.
        client_id: defaults to ``config.effective_client_id``.
        subscriptions: topics subscribed with QoS 1 on every (re)connect.
        on_message: called in paho's network thread for every message.
        on_connected: called after each (re)connect once the subscriptions are acknowledged, with
            ``session_present``; ``connect()`` returns after it.
        will: ``(topic, payload)`` of a retained QoS 1 last will.
        persistent: keep the session (queued QoS 1 messages survive disconnects).
        manual_ack: QoS 1 messages are acknowledged only by ``ack()`` (after they were handled).
    """

    def __init__(
        self,
        config: AgentConfig,
        *,
        client_id: str | None = None,
        subscriptions: list[str] | None = None,
        on_message: MessageHandler | None = None,
        on_connected: Callable[[bool], None] | None = None,
        will: tuple[str, bytes] | None = None,
        persistent: bool = True,
        manual_ack: bool = False,
        reconnect_delay: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        self.config = config
        self.address = config.broker
        self.where = f"{self.address.host}:{self.address.port}"
        self.subscriptions = list(subscriptions or [])
        self._on_message = on_message
        self._on_connected = on_connected
        self.persistent = persistent
        self.connected = threading.Event()
        self.refused: str | None = None
        self.connect_count = 0
        self._closing = False
        self.v5 = config.protocol == "5"
        # === paho client ===
        client_id = client_id or config.effective_client_id
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if self.v5 else not persistent,
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
        if log.isEnabledFor(logging.DEBUG):  # paho logs every publish attempt during an outage as an error
            self.client.enable_logger(logging.getLogger("squeezehome.paho"))
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(min_delay=reconnect_delay[0], max_delay=reconnect_delay[1])
        username, password = config.credentials()
        if username is not None:
            self.client.username_pw_set(username, password)
        if config.uses_tls:
            try:
                self.client.tls_set(
                    ca_certs=config.tls_ca,
                    certfile=config.tls_cert,
                    keyfile=config.tls_key,
                    cert_reqs=ssl.CERT_NONE if config.tls_insecure else ssl.CERT_REQUIRED,
                    tls_version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except (OSError, ssl.SSLError, ValueError) as exc:
                files = ", ".join(f for f in (config.tls_ca, config.tls_cert, config.tls_key) if f)
                raise BrokerError(
                    f"cannot load the TLS files ({files}): {getattr(exc, 'strerror', None) or exc}; "
                    "check tls_ca/tls_cert/tls_key (PEM files readable by the agent)"
                ) from None
            if config.tls_insecure:
                self.client.tls_insecure_set(True)
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.client.on_socket_open = lambda client, userdata, sock: set_tcp_nodelay(sock)
        self.client.on_connect = self._handle_connect
        self.client.on_disconnect = self._handle_disconnect
        self.client.on_message = self._handle_message
        self.client.on_subscribe = self._handle_subscribe
        self._subscribe_mid: int | None = None
        self._session_present = False

    # === Connection ===

    def _connect_properties(self) -> Properties | None:
        if not self.v5:
            return None
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry if self.persistent else 0
        return props

    def connect(
        self, timeout: float = 10.0, retry: bool = False, stop: threading.Event | None = None
    ) -> None:
        """Connect and start the network thread; afterwards paho reconnects with backoff by itself.

        With ``retry`` the first connection is retried with backoff (boot order: the broker may come up later)
        until it succeeds or ``stop`` is set; otherwise a failure raises ``BrokerError`` after ``timeout``.
        """
        delay = 0.5
        while True:
            try:
                self._connect_once(timeout)
                return
            except BrokerError as exc:
                if not retry or (stop is not None and stop.is_set()):
                    raise
                log.warning("broker not ready, retrying in %.1fs: %s", delay, exc)
                if stop is not None and stop.wait(delay):
                    raise
                if stop is None:
                    time.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _connect_once(self, timeout: float) -> None:
        self.refused = None
        self.client.connect_timeout = timeout
        try:
            kwargs: dict[str, Any] = {"keepalive": self.config.keepalive}
            if self.v5:
                kwargs.update(clean_start=not self.persistent, properties=self._connect_properties())
            self.client.connect(self.address.host, self.address.port, **kwargs)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerError(describe_connect_error(exc, self.where)) from None
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while not self.connected.wait(0.05):
            if self.refused or time.monotonic() > deadline:
                self.client.loop_stop()
                self.client.disconnect()
                reason = self.refused or f"no answer from the broker at {self.where} within {timeout:.0f}s"
                raise BrokerError(reason)

    def _handle_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self.refused = (
                f"the broker at {self.where} refused the connection: {reason}; check username/password"
            )
            log.error(self.refused)
            return
        self.connect_count += 1
        log.info(
            "connected to %s (session present: %s, connection #%d)",
            self.where,
            flags.session_present,
            self.connect_count,
        )
        self._session_present = bool(flags.session_present)
        if self.subscriptions:
            # ready (and announced online) only once the broker acknowledged the subscriptions
            _, self._subscribe_mid = client.subscribe([(topic, 1) for topic in self.subscriptions])
        else:
            self._ready()

    def _handle_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [
            topic for topic, reason in zip(self.subscriptions, reasons, strict=False) if reason.is_failure
        ]
        if refused:
            log.error("the broker refused subscriptions to %s; check its ACL", ", ".join(refused))
        self._ready()

    def _ready(self) -> None:
        if self._on_connected is not None:
            self._on_connected(self._session_present)
        self.connected.set()

    def _handle_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if not self.connected.is_set() and not self._closing and self.refused is None:
            self.refused = (
                f"the broker at {self.where} closed the connection before accepting it ({reason}); "
                "does it require a client certificate (tls_cert/tls_key) or credentials?"
            )
        self.connected.clear()
        if not self._closing:
            log.warning("disconnected from %s (%s); reconnecting with backoff", self.where, reason)

    def _handle_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._on_message is not None:
            try:
                self._on_message(message)
            except Exception:  # the network thread must survive a handler bug
                log.exception("message handler failed on %s", message.topic)

    # === Messages ===

    def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False, properties: Any = None
    ) -> mqtt.MQTTMessageInfo:
        """Publish (queued by paho while disconnected and sent after the reconnect)."""
        return self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)

    def reply(self, request: mqtt.MQTTMessage, payload: bytes) -> bool:
        """MQTT 5 request/response: publish ``payload`` on the request's Response Topic (with its Correlation
        Data). Returns False when the request asked for no response (or the protocol is 3.1.1)."""
        request_props = getattr(request, "properties", None)
        response_topic = getattr(request_props, "ResponseTopic", None) if request_props is not None else None
        if not self.v5 or not response_topic:
            return False
        props = Properties(PacketTypes.PUBLISH)
        correlation = getattr(request_props, "CorrelationData", None)
        if correlation is not None:
            props.CorrelationData = correlation
        self.client.publish(response_topic, payload, qos=1, properties=props)
        return True

    def ack(self, message: mqtt.MQTTMessage) -> None:
        """Acknowledge a message received with ``manual_ack`` (QoS 1: sends the PUBACK)."""
        if message.qos > 0:
            self.client.ack(message.mid, message.qos)

    def close(self, timeout: float = 5.0) -> None:
        """Wait for queued publications (up to ``timeout``), then disconnect cleanly (no last will)."""
        self._closing = True
        deadline = time.monotonic() + timeout
        while self.client.want_write() or self._pending_publications():
            if time.monotonic() > deadline or not self.connected.is_set():
                break
            time.sleep(0.01)
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    def _pending_publications(self) -> int:
        return len(getattr(self.client, "_out_messages", {}))
