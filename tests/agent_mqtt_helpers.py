"""A test-side MQTT client that publishes queries and collects what the agent publishes."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from device_agent.config import AgentConfig
from device_agent.mqtt_client import MqttConnection

ANSWER_TOPICS = ["hermes/intent/+", "hermes/nlu/intentNotRecognized", "hermes/error/nlu"]


class Collector:
    """Subscribes to ``topics`` and keeps every message as ``(topic, payload (JSON or text), retain)``."""

    def __init__(
        self,
        url: str,
        topics: list[str],
        *,
        client_id: str | None = None,
        persistent: bool = False,
        **config: Any,
    ) -> None:
        self.messages: list[tuple[str, Any, bool]] = []
        self._cond = threading.Condition()
        cfg = AgentConfig.load(env={}, overrides={"broker_url": url, **config})
        self.conn = MqttConnection(
            cfg,
            client_id=client_id or f"test-collector-{uuid.uuid4().hex[:8]}",
            subscriptions=topics,
            on_message=self._on_message,
            persistent=persistent,
            reconnect_delay=(0.1, 1.0),
        )
        self.conn.connect(timeout=10)  # returns once the subscriptions are acknowledged

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        try:
            payload: Any = json.loads(message.payload)
        except ValueError:
            payload = message.payload.decode("utf-8", errors="replace")
        with self._cond:
            self.messages.append((message.topic, payload, bool(message.retain)))
            self._cond.notify_all()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> Any:
        return self.conn.publish(topic, payload, qos=qos, retain=retain)

    def query(self, text: str, query_id: str, site_id: str = "default", **extra: Any) -> Any:
        payload = json.dumps({"input": text, "id": query_id, "siteId": site_id, **extra})
        return self.publish("hermes/nlu/query", payload)

    def wait_for(
        self, predicate: Callable[[list[tuple[str, Any, bool]]], bool], timeout: float = 20.0
    ) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))
            return True

    def on(self, topic: str) -> list[Any]:
        with self._cond:
            return [payload for t, payload, _ in self.messages if t == topic]

    def answers(self) -> list[tuple[str, dict]]:
        """Hermes answers (intent or not recognized) as (topic, payload)."""
        with self._cond:
            return [
                (t, p)
                for t, p, _ in self.messages
                if (t.startswith("hermes/intent/") or t == "hermes/nlu/intentNotRecognized")
                and isinstance(p, dict)
            ]

    def close(self) -> None:
        self.conn.close(timeout=2)
