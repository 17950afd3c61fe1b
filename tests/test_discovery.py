"""Home Assistant device-based discovery payload (keys as documented by Home Assistant's MQTT integration)."""

from __future__ import annotations

import json

from device_agent.discovery import (
    birth_topic,
    discovery_message,
    discovery_payload,
    discovery_topic,
    event_types,
    info_payload,
)

INTENTS = ["HassTurnOn", "HassTurnOff", "HassLightSet", "NotRecognized"]


def test_topics_and_prefix() -> None:
    assert discovery_topic("kitchen") == "homeassistant/device/squeezehome_kitchen/config"
    assert discovery_topic("living room", prefix="ha") == "ha/device/squeezehome_living_room/config"
    assert birth_topic() == "homeassistant/status"
    assert birth_topic("ha") == "ha/status"


def test_event_types_are_schema_intents_plus_not_recognized() -> None:
    assert event_types(INTENTS) == ["HassTurnOn", "HassTurnOff", "HassLightSet", "not_recognized"]


def test_device_based_discovery_keys() -> None:
    payload = discovery_payload("kitchen", INTENTS, "squeezehome-default", "1.2.0")
    assert set(payload) >= {"dev", "o", "cmps", "availability"}
    assert payload["dev"]["ids"] == ["squeezehome_kitchen"]
    assert {"name", "mf", "mdl", "sw"} <= set(payload["dev"])
    assert payload["dev"]["mdl_id"] == "1.2.0"
    assert payload["o"]["name"] == "squeezehome" and payload["o"]["sw"]
    assert payload["availability"] == [
        {
            "topic": "squeezehome/kitchen/status",
            "payload_available": "online",
            "payload_not_available": "offline",
        }
    ]
    components = payload["cmps"]
    platforms = sorted(c["p"] for c in components.values())
    assert platforms == ["event", "sensor", "sensor", "sensor"]
    unique_ids = [c["unique_id"] for c in components.values()]
    assert len(set(unique_ids)) == len(unique_ids) and set(unique_ids) == set(components)
    for component in components.values():
        assert component["state_topic"].startswith("squeezehome/kitchen/")
        assert component["name"]
    event = components["squeezehome_kitchen_intent"]
    assert event["state_topic"] == "squeezehome/kitchen/intent"
    assert event["event_types"][-1] == "not_recognized"
    latency = components["squeezehome_kitchen_latency"]
    assert (latency["unit_of_measurement"], latency["device_class"], latency["state_class"]) == (
        "ms",
        "duration",
        "measurement",
    )
    assert "latency_ms" in latency["value_template"]
    version = components["squeezehome_kitchen_model_version"]
    assert version["state_topic"] == "squeezehome/kitchen/info"
    assert "model.version" in version["value_template"]


def test_discovery_message_is_json_bytes() -> None:
    topic, payload = discovery_message("kitchen", INTENTS, "m", "1", prefix="ha")
    assert topic == "ha/device/squeezehome_kitchen/config"
    assert json.loads(payload) == discovery_payload("kitchen", INTENTS, "m", "1")


def test_info_payload_feeds_the_model_version_sensor() -> None:
    info = json.loads(info_payload("kitchen", ["kitchen", "hall"], "m", "1.2.0"))
    assert info["model"] == {"name": "m", "version": "1.2.0"}
    assert info["site_ids"] == ["kitchen", "hall"]
    assert info["agent_version"]
