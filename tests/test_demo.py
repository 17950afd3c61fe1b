"""`squeezehome demo` end to end: embedded broker, and a real Mosquitto, each as a user would run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from device_agent.bundle import default_bundle_dir

pytestmark = pytest.mark.skipif(
    not (default_bundle_dir() / "manifest.json").is_file(),
    reason="no shipped default bundle in this checkout",
)


def run_demo_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from converter.cli import main; main()", "demo", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def answers_of(stdout: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {row["input"]: row for row in rows}


def intent_of(answer: dict) -> str | None:
    return answer["intent"]["intentName"] if answer.get("intent") else None


def check_demo_output(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    answers = answers_of(proc.stdout)
    assert len(answers) == 20
    assert intent_of(answers["turn on the kitchen lights"]) == "HassTurnOn"
    assert intent_of(answers["start the vacuum"]) == "HassVacuumStart"
    assert intent_of(answers["tell me a joke about penguins"]) is None
    kitchen = {s["slotName"]: s["value"]["value"] for s in answers["turn on the kitchen lights"]["slots"]}
    assert kitchen["area"] == "kitchen"
    # the flashed agent.toml names the example names file: names only that list knows come back whole
    chromecast = {s["slotName"]: s["value"]["value"] for s in answers["mute the chromecast"]["slots"]}
    assert chromecast == {"name": "chromecast"}
    sonos = {
        s["slotName"]: s["value"]["value"]
        for s in answers["pause the sonos one in the walk-in closet"]["slots"]
    }
    assert sonos == {"name": "sonos one", "area": "walk-in closet"}
    assert all("latency_ms" in a and a["model"]["version"] for a in answers.values())
    assert "homeassistant/device/squeezehome_demo/config" in proc.stdout
    assert "agent stopped cleanly" in proc.stdout


def test_demo_on_the_embedded_broker() -> None:
    check_demo_output(run_demo_cli())


@pytest.mark.skipif(
    shutil.which("mosquitto") is None, reason="mosquitto not installed (apt install mosquitto)"
)
def test_demo_on_a_real_mosquitto() -> None:
    from brokers import MosquittoBroker

    with MosquittoBroker() as broker:
        proc = run_demo_cli("--broker", broker.url)
    check_demo_output(proc)
    assert "(embedded amqtt)" not in proc.stdout


def test_demo_reports_an_unreachable_broker_in_one_line() -> None:
    from firmware.embedded_broker import free_loopback_port

    proc = run_demo_cli("--broker", f"mqtt://127.0.0.1:{free_loopback_port()}", "--timeout", "3")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("squeezehome: ")
