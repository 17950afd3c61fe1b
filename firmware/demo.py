"""`squeezehome demo`: the whole main job on embedded defaults, as a board and a client would see it.

broker (embedded amqtt, or --broker) → bundle built from the shipped default model → flashed into a
temporary device root, with the example home's names (sample_data/examples/known_names.toml) → the agent started from that root as its own process → sample commands sent over
MQTT as Hermes queries → a table of intents, slots, confidence and latency → the Home Assistant discovery
the agent published → clean shutdown. Non-zero exit if any step fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from device_agent.errors import UserError

SAMPLE_COMMANDS = [
    "turn on the kitchen lights",
    "could you dim the living room lights to thirty percent",
    "lites off in the kids room",
    "set the bedroom lamp to blue",
    "is the garage door still open",
    "open the garage door",
    "lock the front door",
    "set the thermostat to 21 degrees",
    "what's the temperature in the office",
    "start the vacuum",
    "pause the music",
    "turn the volume up",
    "set a timer for 10 minutes",
    "add milk to my shopping list",
    "make me a cappuccino",
    "what's the weather like",
    "mute the chromecast",  # a name only the home's list knows (sample_data/examples/known_names.toml)
    "pause the sonos one in the walk-in closet",
    "my neighbour's lights are always on",
    "tell me a joke about penguins",
]


@dataclass
class DemoResult:
    """Answers collected during a demo run (used by tests and the printed table)."""

    broker: str
    answers: list[dict[str, Any]] = field(default_factory=list)
    discovery: dict[str, Any] | None = None
    offline_seen: bool = False
    agent_exit_code: int | None = None


def _step(message: str) -> None:
    click.echo(click.style("==> ", fg="cyan", bold=True) + message)


@contextmanager
def _broker(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from firmware.embedded_broker import EmbeddedBroker

    with EmbeddedBroker() as broker:
        yield broker.url


def _flash_default(workdir: Path, broker_url: str, site_id: str) -> Path:
    """Build a bundle from the shipped default model and flash it into a fresh device root; return the root."""
    from device_agent.bundle import default_bundle_dir, load_bundle
    from firmware.bundle_builder import build_bundle
    from firmware.flash import FlashSettings, flash_bundle

    shipped = default_bundle_dir()
    manifest = load_bundle(shipped).manifest
    bundle = build_bundle(
        shipped,
        workdir / "bundle",
        labels={"intents": list(manifest.labels["intents"]), "slot_tags": list(manifest.labels["slot_tags"])},
        name=manifest.model.name,
        version=manifest.model.version,
        self_test=list(manifest.self_test) or None,
        decoder=dict(manifest.decoder) or None,
    )
    root = workdir / "device"
    (root / "etc").mkdir(parents=True)
    from sample_data import SAMPLE_DATA_DIR

    names = SAMPLE_DATA_DIR / "examples" / "known_names.toml"  # the home's names, as a user would flash them
    settings = FlashSettings(broker=broker_url, site_id=site_id, known_names=names)
    result = flash_bundle(bundle, str(root), settings)
    click.echo("    " + result.summary())
    return root


def _agent_command(root: Path) -> list[str]:
    return [
        sys.executable, "-m", "device_agent", "agent", "run",
        "--config", str(root / "etc/squeezehome/agent.toml"),
        "--bundle", str(root / "opt/squeezehome/current"),
        "--known-names", str(root / "etc/squeezehome/known_names.toml"),  # agent.toml's path is the device's
        "--log-format", "text", "--log-level", "WARNING",
    ]  # fmt: skip


class _Client:
    """A plain MQTT client that collects what the agent publishes, keyed by query id."""

    def __init__(self, broker_url: str, site_id: str) -> None:
        from device_agent import hermes
        from device_agent.config import AgentConfig
        from device_agent.mqtt_client import MqttConnection

        self.hermes = hermes
        self.site_id = site_id
        self.status: list[str] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.discovery: dict[str, Any] | None = None
        self.cond = threading.Condition()
        config = AgentConfig().updated({"broker_url": broker_url, "site_id": site_id}, source="demo")
        self.discovery_topic = f"homeassistant/device/squeezehome_{site_id}/config"
        self.conn = MqttConnection(
            config,
            client_id=f"squeezehome-demo-{uuid.uuid4().hex[:8]}",
            subscriptions=[
                hermes.status_topic(site_id),
                hermes.site_intent_topic(site_id),
                self.discovery_topic,
            ],
            on_message=self._on_message,
            persistent=False,
        )
        self.conn.connect(timeout=10.0)

    def _on_message(self, message: Any) -> None:
        with self.cond:
            if message.topic == self.hermes.status_topic(self.site_id):
                self.status.append(message.payload.decode("utf-8", "replace"))
            elif message.topic == self.discovery_topic and message.payload:
                self.discovery = json.loads(message.payload)
            else:
                payload = json.loads(message.payload)
                if isinstance(payload, dict) and payload.get("id"):
                    self.answers[payload["id"]] = payload
            self.cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    def query(self, text: str, timeout: float) -> dict[str, Any]:
        query_id = str(uuid.uuid4())
        query = self.hermes.NluQuery(
            input=text, id=query_id, siteId=self.site_id, sessionId=f"demo-{query_id[:8]}"
        )
        sent = time.perf_counter()
        self.conn.publish(query.topic(), query.payload(), qos=1)
        if not self.wait_for(lambda: query_id in self.answers, timeout):
            raise UserError(f"the agent did not answer {text!r} within {timeout:.0f}s")
        answer = dict(self.answers[query_id])
        answer["round_trip_ms"] = (time.perf_counter() - sent) * 1000
        return answer

    def close(self) -> None:
        self.conn.close(timeout=2.0)


def _format_slots(answer: dict[str, Any]) -> str:
    parts = []
    for slot in answer.get("slots") or []:
        value = slot.get("value", {}).get("value")
        parts.append(f"{slot.get('slotName')}={value}")
    return ", ".join(parts) or "-"


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = ("command", "intent", "conf", "slots", "agent ms", "round trip ms")
    table = []
    for row in rows:
        intent = row.get("intent") or {}
        table.append((
            row["input"],
            intent.get("intentName", "(not recognized)"),
            f"{intent.get('confidenceScore', 0.0):.2f}" if intent else "-",
            _format_slots(row),
            f"{row.get('latency_ms', 0.0):.2f}",
            f"{row['round_trip_ms']:.1f}",
        ))  # fmt: skip
    widths = [min(max(len(str(r[i])) for r in [header, *table]), 48) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    click.echo(click.style(line, bold=True))
    for r in table:
        click.echo("  ".join(str(c)[:w].ljust(w) for c, w in zip(r, widths, strict=True)))


def run_demo(
    broker_url: str | None = None,
    site_id: str = "demo",
    commands: list[str] | None = None,
    timeout: float = 20.0,
    keep: Path | None = None,
) -> DemoResult:
    """Run the demo; raise UserError on the first failing step."""
    commands = commands or SAMPLE_COMMANDS
    workdir = Path(tempfile.mkdtemp(prefix="squeezehome-demo-")) if keep is None else keep
    workdir.mkdir(parents=True, exist_ok=True)
    agent: subprocess.Popen[bytes] | None = None
    client: _Client | None = None
    try:
        with _broker(broker_url) as url:
            result = DemoResult(broker=url)
            _step(f"MQTT broker: {url}" + ("" if broker_url else " (embedded amqtt)"))
            _step("building a bundle from the shipped default model and flashing it into a device root")
            root = _flash_default(workdir, url, site_id)
            click.echo(f"    device root: {root}")
            client = _Client(url, site_id)
            _step("starting the agent from the device root, as the board's boot service would")
            started = time.perf_counter()
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            agent = subprocess.Popen(_agent_command(root), env=env, stderr=subprocess.PIPE)
            online = client.wait_for(
                lambda: bool(client.status) and client.status[-1] == "online" or agent.poll() is not None,
                timeout,
            )
            if agent.poll() is not None or not online:
                err = agent.stderr.read().decode(errors="replace") if agent.poll() is not None else ""
                raise UserError(f"the agent did not come online within {timeout:.0f}s {err.strip()[-400:]}")
            click.echo(f"    agent online after {time.perf_counter() - started:.1f}s (pid {agent.pid})")
            _step(f"sending {len(commands)} commands over MQTT (hermes/nlu/query)")
            with click.progressbar(commands, label="    commands", show_pos=True) as bar:
                for text in bar:
                    result.answers.append(client.query(text, timeout))
            _print_table(result.answers)
            client.wait_for(lambda: client.discovery is not None, 5.0)
            result.discovery = client.discovery
            if result.discovery is None:
                raise UserError("the agent published no Home Assistant discovery message")
            _step(f"Home Assistant discovery on {client.discovery_topic}:")
            components = result.discovery.get("cmps") or result.discovery.get("components") or {}
            dev = result.discovery.get("dev") or result.discovery.get("device") or {}
            click.echo(f"    device: {dev.get('name')} ({dev.get('mdl', dev.get('model', ''))})")
            for key, comp in components.items():
                extra = f", {len(comp.get('event_types', []))} event types" if "event_types" in comp else ""
                click.echo(f"    {comp.get('p', comp.get('platform'))}: {key}{extra}")
            _step("stopping the agent (SIGTERM) and the broker")
            agent.send_signal(signal.SIGTERM)
            try:
                result.agent_exit_code = agent.wait(timeout=15)
            except subprocess.TimeoutExpired as exc:
                raise UserError("the agent did not stop within 15s of SIGTERM") from exc
            result.offline_seen = client.wait_for(lambda: client.status[-1:] == ["offline"], 5.0)
            if result.agent_exit_code != 0 or not result.offline_seen:
                raise UserError(
                    f"the agent stopped uncleanly (exit {result.agent_exit_code}, offline seen: {result.offline_seen})"
                )
            client.close()
            client = None
            return result
    finally:
        if client is not None:
            client.close()
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait()
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


@click.command()
@click.option("--broker", "broker_url", help="Use this broker (mqtt://host:port) instead of an embedded one.")
@click.option("--site-id", default="demo", show_default=True, help="Site id of the demo board.")
@click.option("--timeout", type=float, default=20.0, show_default=True, help="Seconds to wait for each step.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), help="Keep the device root here.")
@click.option("--json", "as_json", is_flag=True, help="Also print every answer as a JSON line.")
@click.argument("commands", nargs=-1)
def demo(
    broker_url: str | None,
    site_id: str,
    timeout: float,
    keep: Path | None,
    as_json: bool,
    commands: tuple[str, ...],
) -> None:
    """Run the whole pipeline on embedded defaults: broker, bundle, flashed board, commands over MQTT.

    With COMMANDS, send those instead of the built-in sample set.
    """
    started = time.perf_counter()
    result = run_demo(broker_url, site_id, list(commands) or None, timeout, keep)
    if as_json:
        for answer in result.answers:
            click.echo(json.dumps(answer, ensure_ascii=False))
    recognized = sum(1 for a in result.answers if a.get("intent"))
    _step(
        f"done in {time.perf_counter() - started:.1f}s: {len(result.answers)} answers, {recognized} recognized, "
        "agent stopped cleanly"
    )
