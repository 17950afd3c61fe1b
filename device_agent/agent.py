"""The on-board service: answer Hermes NLU queries and plain-text commands over MQTT, exactly once each.

Flow: paho's network thread queues each message → one worker thread recognizes it, publishes the answer
(QoS 1; with MQTT 5 also on the query's Response Topic, with its Correlation Data) and only then
acknowledges the query (manual PUBACK). A query that was received but not answered
when the agent dies is therefore redelivered by the broker (persistent session), and a redelivery of a query
already answered (``dup`` flag after a broker restart) is recognised and not answered twice.

OTA hook (``config.ota_enabled``): messages on ``squeezehome/<site>/ota`` are handed, in order and on their own
thread, to ``device_agent.ota.OtaReceiver.handle(payload)``; when the receiver activates a new bundle it calls
``Agent.switch_bundle(path)``, which validates the bundle, loads a new ``Recognizer``, swaps it in between two
queries and republishes info and discovery. The receiver publishes its progress through ``Agent.publish``.

The household's names (:mod:`device_agent.known_names`): the ``known_names`` file of the config, plus the
JSON lists last published (retained) on ``squeezehome/<site>/known_names``; slot decoding favours both. The
info message counts them; a payload that is not such lists gets a ``hermes/error/nlu`` answer and changes
nothing.

Example::

    agent = Agent(AgentConfig.load(overrides={"site_id": "kitchen"}))
    agent.run_forever()            # until SIGTERM/SIGINT: finish in-flight queries, publish offline, disconnect
"""

from __future__ import annotations

import hashlib
import logging
import queue
import signal
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

from device_agent import hermes
from device_agent.bundle import Bundle, load_bundle
from device_agent.config import AgentConfig
from device_agent.discovery import birth_topic, discovery_message, info_payload
from device_agent.errors import UserError
from device_agent.known_names import KnownNames, KnownNamesError
from device_agent.mqtt_client import MqttConnection

log = logging.getLogger("squeezehome.agent")

_RECENT_LIMIT = 4096


class Publication(NamedTuple):
    """One message to publish (QoS 1)."""

    topic: str
    payload: bytes
    retain: bool = False


def load_recognizer(
    bundle_dir: str | Path,
    trusted_key: str | None = None,
    num_threads: int = 1,
    known_names: str | Path | None = None,
) -> tuple[Bundle, Any]:
    """Validate a bundle (checksums, format, signature when a key is trusted) and open its ``Recognizer``;
    ``known_names`` is a names file whose phrases slot decoding favours (:mod:`device_agent.known_names`)."""
    from device_agent.recognizer import Recognizer

    names = KnownNames.load(known_names) if known_names else None
    bundle = load_bundle(bundle_dir, trusted_public_key=trusted_key)

    try:
        recognizer = Recognizer.from_loaded_bundle(bundle, num_threads=num_threads)
    except UserError:
        raise
    except Exception as exc:  # a bundle that validates but whose model cannot be opened
        raise UserError(f"cannot open the model of bundle {bundle.path}: {exc}") from exc
    recognizer.known_names = names
    return bundle, recognizer


class Agent:
    """The MQTT NLU service of one site.

    Args:
        config: the merged configuration.
        bundle, recognizer: an already-loaded pair (tests, benchmarks); by default loaded from ``config``.
    """

    def __init__(self, config: AgentConfig, bundle: Bundle | None = None, recognizer: Any = None) -> None:
        self.config = config
        if recognizer is None:
            bundle, recognizer = load_recognizer(
                config.bundle_path(), config.trusted_key, config.num_threads, config.known_names
            )
        self.bundle = bundle
        self.recognizer = recognizer
        self._recognizer_lock = threading.Lock()
        self._file_names: KnownNames = getattr(recognizer, "known_names", None) or KnownNames()
        self._live_names = KnownNames()
        self.site_id = config.site_id
        self._answer_all_sites = "*" in config.site_ids
        self._site_ids = set(config.answered_site_ids)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._recent: OrderedDict[tuple[str, int, bytes], None] = OrderedDict()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.answered = 0
        self.errors = 0
        self.ota = None
        self._ota_queue: queue.Queue[Any] = queue.Queue()
        self._ota_thread: threading.Thread | None = None
        subscriptions = [
            hermes.NLU_QUERY,
            hermes.command_topic(self.site_id),
            hermes.known_names_topic(self.site_id),
        ]
        if config.ha_discovery:
            subscriptions.append(birth_topic(config.ha_discovery_prefix))
        if config.ota_enabled:
            subscriptions.append(hermes.ota_topic(self.site_id))
        self.connection = MqttConnection(
            config,
            subscriptions=subscriptions,
            on_message=self._on_message,
            on_connected=self._on_connected,
            will=(hermes.status_topic(self.site_id), b"offline"),
            persistent=True,
            manual_ack=True,
        )

    # === Model ===

    @property
    def model_info(self) -> dict[str, str]:
        return {"name": str(self.recognizer.model_name), "version": str(self.recognizer.model_version)}

    @property
    def known_names(self) -> KnownNames:
        """The names slot decoding favours now: the config's file and the site's MQTT lists."""
        return self._file_names | self._live_names

    def set_live_names(self, names: KnownNames) -> None:
        """Replace the MQTT-given names (between two queries)."""
        with self._recognizer_lock:
            self._live_names = names
            self.recognizer.known_names = self.known_names or None

    @property
    def intents(self) -> list[str]:
        if self.bundle is not None:
            return self.bundle.manifest.intents
        return list(getattr(self.recognizer, "intents", []))

    def switch_bundle(self, bundle_dir: str | Path) -> None:
        """Load and swap in the recognizer of another bundle (OTA); raises ``UserError`` and keeps the old one."""
        bundle, recognizer = load_recognizer(
            bundle_dir, self.config.trusted_key, self.config.num_threads, self.config.known_names
        )
        with self._recognizer_lock:
            self._file_names = recognizer.known_names or KnownNames()
            recognizer.known_names = self.known_names or None
            self.bundle, self.recognizer = bundle, recognizer
        log.info(
            "switched to bundle %s",
            bundle.path,
            extra={"fields": {"model": self.model_info}},
        )
        for publication in self.announcements():
            self.publish(*publication)

    # === Pure message handling (no network) ===

    def announcements(self) -> list[Publication]:
        """Retained info and discovery messages (sent on every connect and on HA's birth message)."""
        model = self.model_info
        counts = {slot: len(phrases) for slot, phrases in self.known_names.phrases.items()}
        publications = [
            Publication(
                hermes.info_topic(self.site_id),
                info_payload(
                    self.site_id, self.config.answered_site_ids, model["name"], model["version"], counts
                ),
                True,
            )
        ]
        if self.config.ha_discovery:
            topic, payload = discovery_message(
                self.site_id, self.intents, model["name"], model["version"], self.config.ha_discovery_prefix
            )
            publications.append(Publication(topic, payload, True))
        return publications

    def answers_site(self, site_id: str | None) -> bool:
        return self._answer_all_sites or site_id is None or site_id in self._site_ids

    def handle(self, topic: str, payload: bytes, received: float | None = None) -> list[Publication]:
        """What to publish in reply to one incoming message (queries, commands, HA birth)."""
        received = time.monotonic() if received is None else received
        limit = self.config.max_text_length
        if topic == hermes.NLU_QUERY:
            try:
                query = hermes.parse_query(payload, limit)
            except hermes.PayloadError as exc:
                return self._error(exc, payload)
            if not self.answers_site(query.siteId):
                return []
            return self.answer(query, received)
        if topic == hermes.command_topic(self.site_id):
            try:
                query = hermes.parse_command(payload, self.site_id, limit)
            except hermes.PayloadError as exc:
                return self._error(exc, payload)
            return self.answer(query, received)
        if topic == hermes.known_names_topic(self.site_id):
            return self._known_names_message(payload)
        if self.config.ha_discovery and topic == birth_topic(self.config.ha_discovery_prefix):
            return self.announcements() if payload.strip() == b"online" else []
        return []

    def _known_names_message(self, payload: bytes) -> list[Publication]:
        """Take the site's names from MQTT; answer with the updated info message, or an error."""
        try:
            names = KnownNames.parse(payload, hermes.known_names_topic(self.site_id))
        except KnownNamesError as exc:
            context = payload[:200].decode("utf-8", "replace")
            error = hermes.NluError(error=str(exc), context=context, siteId=self.site_id)
            self.errors += 1
            log.warning("bad known names: %s", exc)
            return [Publication(error.topic(), error.payload())]
        self.set_live_names(names)
        log.info("known names from MQTT: %d phrases (%d in all)", len(names), len(self.known_names))
        return self.announcements()[:1]

    def _error(self, exc: hermes.PayloadError, payload: bytes) -> list[Publication]:
        if exc.site_id is not None and not self.answers_site(exc.site_id):
            return []
        error = hermes.error_for(exc, payload, self.site_id)
        self.errors += 1
        log.warning("bad payload: %s", exc, extra={"fields": {"context": error.context}})
        return [Publication(error.topic(), error.payload())]

    def answer(self, query: hermes.NluQuery, received: float) -> list[Publication]:
        """Recognize ``query`` and return its Hermes answer plus the site's intent message."""
        if not query.input.strip():
            result: dict[str, Any] = {"input": query.input, "intent": None, "slots": []}
        else:
            try:
                with self._recognizer_lock:
                    recognition = self.recognizer.recognize(query.input, query.intentFilter)
                result = recognition.to_hermes()
            except Exception as exc:  # the agent keeps running; the query still gets exactly one answer
                log.exception("recognition failed")
                error = hermes.NluError(
                    error=f"recognition failed: {exc}",
                    context=query.input[:200],
                    siteId=query.siteId,
                    sessionId=query.sessionId,
                )
                self.errors += 1
                return [Publication(error.topic(), error.payload())]
        message = hermes.answer_for(query, result)
        latency_ms = (time.monotonic() - received) * 1000.0
        site = hermes.SiteIntent(self.site_id, message.to_dict(), latency_ms, self.model_info)
        self.answered += 1
        if log.isEnabledFor(logging.DEBUG):
            fields = {"id": query.id, "event_type": site.event_type, "latency_ms": round(latency_ms, 3)}
            log.debug("answered", extra={"fields": fields})
        return [Publication(message.topic(), message.payload()), Publication(site.topic(), site.payload())]

    # === MQTT edge ===

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.connection.publish(topic, payload, qos=1, retain=retain)

    def _on_connected(self, session_present: bool) -> None:
        self.publish(hermes.status_topic(self.site_id), b"online", retain=True)
        for publication in self.announcements():
            self.publish(*publication)

    def _on_message(self, message: Any) -> None:
        if self.config.ota_enabled and message.topic == hermes.ota_topic(self.site_id):
            self._ota_queue.put(message)
        else:
            self._queue.put(message)

    def _seen_before(self, message: Any) -> bool:
        """True for a broker redelivery (``dup``) of a message this agent already answered."""
        key = (message.topic, message.mid, hashlib.sha1(message.payload).digest())
        if message.dup and key in self._recent:
            return True
        self._recent[key] = None
        if len(self._recent) > _RECENT_LIMIT:
            self._recent.popitem(last=False)
        return False

    def _work(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                if message.retain and message.topic != hermes.known_names_topic(self.site_id):
                    # a retained "query" would be answered again on every restart
                    log.warning("ignoring a retained message on %s", message.topic)
                elif not self._seen_before(message):
                    publications = self.handle(message.topic, message.payload, message.timestamp)
                    for publication in publications:
                        self.publish(*publication)
                    if publications and message.topic != birth_topic(self.config.ha_discovery_prefix):
                        # MQTT 5 clients may ask for the Hermes answer on their own Response Topic too
                        self.connection.reply(message, publications[0].payload)
            except Exception:
                log.exception("failed to handle a message on %s", message.topic)
            finally:
                self.connection.ack(message)

    def _work_ota(self) -> None:
        while True:
            message = self._ota_queue.get()
            if message is None:
                return
            try:
                if self.ota is not None:
                    self.ota.handle(message.payload)
            except Exception:
                log.exception("OTA receiver failed")
            finally:
                self.connection.ack(message)

    def _start_ota(self) -> None:
        from device_agent.ota import OtaReceiver

        self.ota = OtaReceiver.for_agent(self)
        self._ota_thread = threading.Thread(target=self._work_ota, name="squeezehome-ota", daemon=True)
        self._ota_thread.start()

    # === Lifecycle ===

    def warm_up(self) -> float:
        """Run the model once before going online (the first invocation allocates); returns its ms."""
        started = time.monotonic()
        with self._recognizer_lock:
            self.recognizer.recognize("turn on the light", None)
        return (time.monotonic() - started) * 1000.0

    def start(self, retry: bool = True, timeout: float = 10.0) -> None:
        """Start the worker and connect (retrying with backoff until connected or ``stop()``)."""
        if self.config.ota_enabled:
            self._start_ota()
        self.warm_up()
        self._worker = threading.Thread(target=self._work, name="squeezehome-worker", daemon=True)
        self._worker.start()
        self.connection.connect(timeout=timeout, retry=retry, stop=self._stop)
        log.info(
            "agent online",
            extra={
                "fields": {
                    "site_id": self.site_id,
                    "broker": self.connection.where,
                    "model": self.model_info,
                    "client_id": self.config.effective_client_id,
                }
            },
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop: answer what was already received, publish ``offline`` (retained), disconnect."""
        self._stop.set()
        for worker, work_queue in ((self._worker, self._queue), (self._ota_thread, self._ota_queue)):
            if worker is not None and worker.is_alive():
                work_queue.put(None)
                worker.join(timeout)
        if self.connection.connected.is_set():
            self.publish(hermes.status_topic(self.site_id), b"offline", retain=True)
        self.connection.close(timeout=timeout)
        log.info("agent stopped", extra={"fields": {"answered": self.answered, "errors": self.errors}})

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then stop gracefully."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stop.set())
        try:
            self.start(retry=True)
        except UserError:
            if self._stop.is_set():  # stopped while waiting for the broker
                self.stop()
                return
            raise
        while not self._stop.wait(0.5):
            pass
        self.stop()
