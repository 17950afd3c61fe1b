"""Board-side commands: ``recognize``, ``agent run|check``, ``send``, ``listen`` (no TensorFlow imported).

The root ``squeezehome`` group (converter/cli.py) loads these lazily; ``python -m device_agent`` runs them
without the root. User mistakes raise ``UserError`` (one line, non-zero exit).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from device_agent.config import AgentConfig, ConfigError
from device_agent.errors import UserError

# === Shared options ===

_CONNECTION_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--config", "config_file"), {"type": click.Path(dir_okay=False), "help": "TOML config file."}),
    (("--broker", "broker_url"), {"help": "Broker URL, mqtt://host:1883 or mqtts://host:8883."}),
    (("--site-id",), {"help": "Site id (default: default)."}),
    (("--username",), {"help": "Broker user name (password: SQUEEZEHOME_PASSWORD or the config file)."}),
    (("--client-id",), {"help": "MQTT client id."}),
    (("--protocol",), {"type": click.Choice(["3.1.1", "5"]), "help": "MQTT protocol version."}),
    (("--tls-ca",), {"type": click.Path(dir_okay=False), "help": "CA certificate that signed the broker's."}),
    (("--tls-cert",), {"type": click.Path(dir_okay=False), "help": "Client certificate (PEM)."}),
    (("--tls-key",), {"type": click.Path(dir_okay=False), "help": "Client private key (PEM)."}),
    (
        ("--tls-insecure",),
        {"is_flag": True, "default": None, "help": "Skip server certificate checks (testing)."},
    ),
]

_AGENT_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--bundle",), {"type": click.Path(file_okay=False), "help": "Bundle directory (default: shipped)."}),
    (
        ("--trusted-key",),
        {"type": click.Path(dir_okay=False), "help": "Ed25519 public key; refuse unsigned."},
    ),
    (
        ("--known-names",),
        {"type": click.Path(dir_okay=False), "help": "The household's names (TOML/JSON) to favour."},
    ),
    (("--max-text-length",), {"type": int, "help": "Longest accepted text (default 1000)."}),
    (("--num-threads",), {"type": int, "help": "Interpreter threads (default 1)."}),
    (("--ha-discovery-prefix",), {"help": "Home Assistant discovery prefix (default homeassistant)."}),
    (
        ("--ota/--no-ota", "ota_enabled"),
        {"default": None, "help": "Accept OTA bundles on squeezehome/S/ota."},
    ),
    (("--log-level",), {"type": click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)}),
    (("--log-format",), {"type": click.Choice(["json", "text"])}),
]


def _options(specs: list[tuple[tuple[str, ...], dict[str, Any]]]) -> Callable[[Callable], Callable]:
    def decorate(func: Callable) -> Callable:
        for names, kwargs in reversed(specs):
            func = click.option(*names, **kwargs)(func)
        return func

    return decorate


def _load_config(options: dict[str, Any]) -> AgentConfig:
    config_file = options.pop("config_file", None)
    return AgentConfig.load(config_file=config_file, overrides=options)


# === recognize ===


@click.command()
@click.option(
    "--bundle", type=click.Path(file_okay=False), help="Bundle directory (default: the shipped one)."
)
@click.option("--trusted-key", type=click.Path(dir_okay=False), help="Refuse bundles not signed by this key.")
@click.option(
    "--jsonl", is_flag=True, help='Read JSON lines {"text": …, "id": …} instead of plain text lines.'
)
@click.option("--intent-filter", help="Comma-separated intents to consider.")
@click.option(
    "--known-names",
    type=click.Path(dir_okay=False),
    help="The household's device names, areas and floors (TOML/JSON; docs/AGENT.md) to favour.",
)
@click.option("--no-bundle-names", is_flag=True, help="Decode without the names the bundle carries.")
@click.option("--num-threads", type=int, default=1, show_default=True)
@click.argument("texts", nargs=-1)
def recognize(
    bundle: str | None,
    trusted_key: str | None,
    jsonl: bool,
    known_names: str | None,
    no_bundle_names: bool,
    intent_filter: str | None,
    num_threads: int,
    texts: tuple[str, ...],
) -> None:
    """Recognize intents and slots: one Hermes-shaped JSON line per text (stdin when no TEXT is given)."""
    from device_agent.agent import load_recognizer
    from device_agent.bundle import default_bundle_dir

    _, recognizer = load_recognizer(bundle or default_bundle_dir(), trusted_key, num_threads, known_names)
    if no_bundle_names:
        recognizer.bundle_names = None
    names = [n.strip() for n in intent_filter.split(",") if n.strip()] if intent_filter else None
    records = ({"text": t} for t in texts) if texts else _stdin_records(jsonl)
    for record in records:
        result = recognizer.recognize(record["text"], names).to_hermes()
        if "id" in record:
            result["id"] = record["id"]
        click.echo(json.dumps(result, ensure_ascii=False))


def _stdin_records(jsonl: bool):
    for number, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not jsonl:
            if line.strip():
                yield {"text": line}
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record.get("text", record.get("input"))
        except (json.JSONDecodeError, AttributeError):
            raise UserError(
                f"stdin line {number} is not a JSON object; drop --jsonl for plain text"
            ) from None
        if not isinstance(text, str):
            raise UserError(f'stdin line {number} has no "text" string')
        yield {**({"id": record["id"]} if "id" in record else {}), "text": text}


# === agent run | check ===


@click.group()
def agent() -> None:
    """Run or check the on-board MQTT agent."""


@agent.command()
@_options(_CONNECTION_OPTIONS + _AGENT_OPTIONS)
def run(**options: Any) -> None:
    """Answer Hermes NLU queries and plain-text commands until SIGTERM."""
    import signal

    def stop_while_starting(signum: int, frame: Any) -> None:
        raise SystemExit(0)  # nothing is in flight yet; run_forever() installs the graceful handler

    signal.signal(signal.SIGTERM, stop_while_starting)
    from device_agent.agent import Agent
    from device_agent.structured_logging import setup_logging

    config = _load_config(options)
    setup_logging(config.log_level, config.log_format)
    Agent(config).run_forever()


@agent.command()
@_options(_CONNECTION_OPTIONS + _AGENT_OPTIONS)
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Broker connect timeout (s).")
def check(timeout: float, **options: Any) -> None:
    """Check config, bundle, model and broker for a first boot: one line per check, non-zero on failure."""
    failures = 0

    def report(name: str, ok: bool, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")

    try:
        config = _load_config(options)
    except ConfigError as exc:
        report("config", False, str(exc))
        raise UserError("1 check failed: fix the configuration") from None
    report("config", True, f"site {config.site_id}, broker {config.broker_url}, protocol {config.protocol}")
    for name in ("tls_ca", "tls_cert", "tls_key", "trusted_key"):
        value = getattr(config, name)
        if value:
            report(name, Path(value).is_file(), value if Path(value).is_file() else f"{value} does not exist")
    if config.known_names:
        from device_agent.known_names import KnownNames

        try:
            known = KnownNames.load(config.known_names)
            counts = ", ".join(f"{len(v)} {k}" for k, v in known.phrases.items()) or "no phrases"
            report("known_names", True, f"{config.known_names}: {counts}")
        except UserError as exc:
            report("known_names", False, str(exc))
    bundle, recognizer = None, None
    try:
        from device_agent.agent import load_recognizer

        bundle, recognizer = load_recognizer(config.bundle_path(), config.trusted_key, config.num_threads)
        model = bundle.manifest.model
        signed = ", signature verified" if bundle.signed else ""
        names = f", {len(recognizer.bundle_names)} known names" if recognizer.bundle_names else ""
        report("bundle", True, f"{bundle.path}: {model.name} {model.version}{signed}{names}")
    except UserError as exc:
        report("bundle", False, str(exc))
    if recognizer is not None and bundle is not None:
        tests = [t for t in bundle.manifest.self_test if isinstance(t, dict) and "text" in t]
        passed = sum(_self_test_passes(recognizer, t) for t in tests)
        report("self-test", passed == len(tests), f"{passed}/{len(tests)} sentences recognized as expected")
    report(*_check_broker(config, timeout))
    if failures:
        raise UserError(f"{failures} check{'s' if failures > 1 else ''} failed; see the FAIL lines above")


def _self_test_passes(recognizer: Any, case: dict[str, Any]) -> bool:
    expected = case.get("intent")
    got = recognizer.recognize(case["text"], None).intent
    return got == (None if expected in (None, "NotRecognized") else expected)


def _check_broker(config: AgentConfig, timeout: float) -> tuple[str, bool, str]:
    from device_agent.mqtt_client import MqttConnection

    try:
        # A separate, clean client id: never take over the running agent's persistent session.
        conn = MqttConnection(
            config, client_id=f"{config.effective_client_id}-check-{uuid.uuid4().hex[:6]}", persistent=False
        )
        started = time.monotonic()
        conn.connect(timeout=timeout)
        took = (time.monotonic() - started) * 1000
        conn.close()
        tls = " over TLS" if config.uses_tls else ""
        return "broker", True, f"connected to {conn.where}{tls} in {took:.0f} ms"
    except UserError as exc:
        return "broker", False, str(exc)


# === send ===


@click.command()
@_options(_CONNECTION_OPTIONS)
@click.option(
    "--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for the answer."
)
@click.option("--intent-filter", help="Comma-separated intents to consider.")
@click.argument("text")
def send(text: str, timeout: float, intent_filter: str | None, **options: Any) -> None:
    """Publish TEXT as a Hermes NLU query and print the answer with the same id."""
    from device_agent import hermes

    config = _load_config(options)
    query = hermes.NluQuery(
        input=text,
        id=str(uuid.uuid4()),
        siteId=config.site_id,
        sessionId=f"squeezehome-send-{uuid.uuid4().hex[:8]}",
        intentFilter=[n.strip() for n in intent_filter.split(",")] if intent_filter else None,
    )
    answer = request(config, query, timeout)
    topic, payload = answer
    click.echo(f"{topic}\n{json.dumps(payload, indent=2, ensure_ascii=False)}")
    if topic == hermes.NLU_ERROR:
        raise UserError(f"the agent answered with an error: {payload.get('error')}")


def request(config: AgentConfig, query: Any, timeout: float) -> tuple[str, Any]:
    """Publish a Hermes query and return ``(topic, payload)`` of the answer carrying its id (or session id)."""
    from device_agent import hermes
    from device_agent.mqtt_client import MqttConnection

    answer: list[tuple[str, Any]] = []
    done = threading.Event()

    def on_message(message: Any) -> None:
        payload = hermes.decode_published(message.topic, message.payload)
        if not isinstance(payload, dict):
            return
        if payload.get("id") == query.id or (
            message.topic == hermes.NLU_ERROR and payload.get("sessionId") == query.sessionId
        ):
            answer.append((message.topic, payload))
            done.set()

    conn = MqttConnection(
        config,
        client_id=f"squeezehome-send-{uuid.uuid4().hex[:8]}",
        subscriptions=[f"{hermes.INTENT_PREFIX}+", hermes.NLU_NOT_RECOGNIZED, hermes.NLU_ERROR],
        on_message=on_message,
        persistent=False,
    )
    conn.connect(timeout=min(timeout, 10.0))
    try:
        conn.publish(query.topic(), query.payload(), qos=1)
        if not done.wait(timeout):
            raise UserError(
                f"no answer within {timeout:.0f}s; is an agent for site {query.siteId!r} running? "
                f"check `squeezehome listen` for squeezehome/{config.site_id}/status"
            )
    finally:
        conn.close(timeout=1.0)
    return answer[0]


# === listen ===


@click.command()
@_options(_CONNECTION_OPTIONS)
@click.option("--count", type=int, default=0, help="Exit after this many messages (0: run until Ctrl-C).")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per message instead of pretty output.")
@click.option("--discovery/--no-discovery", default=True, show_default=True, help="Also show HA discovery.")
def listen(count: int, as_json: bool, discovery: bool, **options: Any) -> None:
    """Subscribe to what agents publish (intents, errors, status, discovery) and pretty-print it."""
    from device_agent import hermes
    from device_agent.discovery import discovery_topic
    from device_agent.mqtt_client import MqttConnection

    config = _load_config(options)
    topics = hermes.agent_topics(config.site_id)
    if discovery:
        topics.append(discovery_topic(config.site_id, config.ha_discovery_prefix))
    seen = 0
    finished = threading.Event()
    lock = threading.Lock()

    def on_message(message: Any) -> None:
        nonlocal seen
        payload = hermes.decode_published(message.topic, message.payload)
        with lock:
            if finished.is_set():
                return
            if as_json:
                click.echo(
                    json.dumps({"topic": message.topic, "retain": bool(message.retain), "payload": payload})
                )
            else:
                stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
                retained = " (retained)" if message.retain else ""
                body = (
                    json.dumps(payload, indent=2, ensure_ascii=False)
                    if isinstance(payload, dict | list)
                    else payload
                )
                click.echo(f"{stamp} {message.topic}{retained}\n{body}")
            sys.stdout.flush()
            seen += 1
            if count and seen >= count:
                finished.set()

    conn = MqttConnection(
        config,
        client_id=f"squeezehome-listen-{uuid.uuid4().hex[:8]}",
        subscriptions=topics,
        on_message=on_message,
        persistent=False,
    )
    conn.connect(timeout=10.0)
    try:
        while not finished.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        conn.close(timeout=1.0)
