"""Home Assistant device-based MQTT discovery for one agent (pure functions, no network).

One retained message on ``<prefix>/device/squeezehome_<site>/config`` describes the device (``dev``), the origin
(``o``) and its components (``cmps``):

- an ``event`` entity on ``squeezehome/<site>/intent`` whose event types are the schema's intents plus
  ``not_recognized`` (automations trigger on ``event_type``);
- sensors: last intent, recognition latency (ms), model version (from the retained info topic).

Availability of every entity follows ``squeezehome/<site>/status``. The agent publishes it again when
``<prefix>/status`` says ``online`` (Home Assistant restarted).

Example::

    topic, payload = discovery_message("kitchen", intents=["HassTurnOn"], model_name="m", model_version="1.0")
"""

from __future__ import annotations

import json
import re
from typing import Any

from device_agent import __version__
from device_agent.hermes import NOT_RECOGNIZED_EVENT, info_topic, site_intent_topic, status_topic

DEFAULT_PREFIX = "homeassistant"
ORIGIN_URL = "https://github.com/squeezehome/squeezehome"
NOT_RECOGNIZED_CLASS = "NotRecognized"


def object_id(site_id: str) -> str:
    """``squeezehome_<site>`` with characters HA does not allow in a discovery topic replaced by ``_``."""
    return "squeezehome_" + re.sub(r"[^A-Za-z0-9_-]", "_", site_id)


def discovery_topic(site_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}/device/{object_id(site_id)}/config"


def birth_topic(prefix: str = DEFAULT_PREFIX) -> str:
    """Home Assistant's own status topic (``online`` after it starts)."""
    return f"{prefix}/status"


def event_types(intents: list[str]) -> list[str]:
    """The event entity's types: the schema's intents (without the out-of-scope class) plus ``not_recognized``."""
    names = [name for name in intents if name != NOT_RECOGNIZED_CLASS]
    return [*dict.fromkeys(names), NOT_RECOGNIZED_EVENT]


def discovery_payload(
    site_id: str,
    intents: list[str],
    model_name: str,
    model_version: str,
) -> dict[str, Any]:
    """The device-based discovery JSON object for the agent of ``site_id``."""
    oid = object_id(site_id)
    intent_state = site_intent_topic(site_id)
    return {
        "dev": {
            "ids": [oid],
            "name": f"squeezehome {site_id}",
            "mf": "squeezehome",
            "mdl": model_name,
            "mdl_id": model_version,
            "sw": __version__,
        },
        "o": {"name": "squeezehome", "sw": __version__, "url": ORIGIN_URL},
        "cmps": {
            f"{oid}_intent": {
                "p": "event",
                "name": "Intent",
                "unique_id": f"{oid}_intent",
                "state_topic": intent_state,
                "event_types": event_types(intents),
                "icon": "mdi:account-voice",
            },
            f"{oid}_last_intent": {
                "p": "sensor",
                "name": "Last intent",
                "unique_id": f"{oid}_last_intent",
                "state_topic": intent_state,
                "value_template": "{{ value_json.event_type }}",
                "json_attributes_topic": intent_state,
                "json_attributes_template": "{{ {'input': value_json.input, 'slots': value_json.slots} | tojson }}",
                "icon": "mdi:text-recognition",
            },
            f"{oid}_latency": {
                "p": "sensor",
                "name": "Recognition latency",
                "unique_id": f"{oid}_latency",
                "state_topic": intent_state,
                "value_template": "{{ value_json.latency_ms }}",
                "unit_of_measurement": "ms",
                "device_class": "duration",
                "state_class": "measurement",
                "entity_category": "diagnostic",
            },
            f"{oid}_model_version": {
                "p": "sensor",
                "name": "Model version",
                "unique_id": f"{oid}_model_version",
                "state_topic": info_topic(site_id),
                "value_template": "{{ value_json.model.version }}",
                "entity_category": "diagnostic",
                "icon": "mdi:tag",
            },
        },
        "availability": [
            {
                "topic": status_topic(site_id),
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ],
        "qos": 1,
    }


def discovery_message(
    site_id: str,
    intents: list[str],
    model_name: str,
    model_version: str,
    prefix: str = DEFAULT_PREFIX,
) -> tuple[str, bytes]:
    """(topic, payload bytes) of the retained discovery message."""
    payload = discovery_payload(site_id, intents, model_name, model_version)
    return discovery_topic(site_id, prefix), json.dumps(payload, separators=(",", ":")).encode()


def info_payload(
    site_id: str,
    site_ids: list[str],
    model_name: str,
    model_version: str,
    known_names: dict[str, int] | None = None,
) -> bytes:
    """The retained ``squeezehome/<site>/info`` message: agent version, answered site ids, model, and how
    many of the household's names (per slot) slot decoding favours."""
    data = {
        "agent_version": __version__,
        "site_id": site_id,
        "site_ids": list(site_ids),
        "model": {"name": model_name, "version": model_version},
        "known_names": dict(known_names or {}),
    }
    return json.dumps(data, separators=(",", ":")).encode()
