"""The wire contract: MQTT topics and payloads (Rhasspy Hermes NLU + squeezehome topics), pure functions only.

In:  ``hermes/nlu/query`` (Hermes JSON) and ``squeezehome/<site>/command`` (plain UTF-8 text).
Out: ``hermes/intent/<intentName>``, ``hermes/nlu/intentNotRecognized``, ``hermes/error/nlu``,
``squeezehome/<site>/intent`` (the answer + ``latency_ms``, model, ``event_type`` for Home Assistant),
``squeezehome/<site>/status`` (``online``/``offline``, retained, the last will) and ``squeezehome/<site>/info``
(retained: agent and model versions).

Every message is a dataclass with ``topic()``, ``to_dict()``/``from_dict()`` and ``payload()`` (UTF-8 JSON bytes);
``parse_query()``/``parse_command()`` turn raw MQTT payloads into an ``NluQuery`` or raise ``PayloadError``.

Example::

    query = parse_query(b'{"input": "turn on the light", "id": "42"}')
    answer = NluIntentNotRecognized(input=query.input, id=query.id, siteId=query.siteId)
    client.publish(answer.topic(), answer.payload(), qos=1)
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

NLU_QUERY = "hermes/nlu/query"
NLU_NOT_RECOGNIZED = "hermes/nlu/intentNotRecognized"
NLU_ERROR = "hermes/error/nlu"
INTENT_PREFIX = "hermes/intent/"
NOT_RECOGNIZED_EVENT = "not_recognized"
DEFAULT_SITE_ID = "default"
_INTENT_TOPIC = re.compile(r"^hermes/intent/([^/#+]+)$")


class PayloadError(ValueError):
    """A payload that is not a valid query; ``str()`` is the message sent on ``hermes/error/nlu``.

    ``site_id`` and ``session_id`` are filled when they could be read from the payload (else None / "").
    """

    def __init__(self, message: str, site_id: str | None = None, session_id: str = "") -> None:
        super().__init__(message)
        self.site_id = site_id
        self.session_id = session_id


# === Topics ===


def intent_topic(intent_name: str) -> str:
    """``hermes/intent/<intentName>``."""
    return f"{INTENT_PREFIX}{intent_name}"


def is_intent_topic(topic: str) -> bool:
    return bool(_INTENT_TOPIC.match(topic))


def command_topic(site_id: str) -> str:
    """Plain-text commands for one site."""
    return f"squeezehome/{site_id}/command"


def site_intent_topic(site_id: str) -> str:
    """Every answer of one site, with latency, model and ``event_type`` (the HA event entity's state topic)."""
    return f"squeezehome/{site_id}/intent"


def status_topic(site_id: str) -> str:
    """Availability: ``online``/``offline``, retained; the last will."""
    return f"squeezehome/{site_id}/status"


def info_topic(site_id: str) -> str:
    """Retained agent/model description (HA model-version sensor)."""
    return f"squeezehome/{site_id}/info"


def known_names_topic(site_id: str) -> str:
    """The household's names for one site (retained JSON ``{"name", "area", "floor"}``; empty: none)."""
    return f"squeezehome/{site_id}/known_names"


def ota_topic(site_id: str) -> str:
    """Over-the-air update chunks for one site (``device_agent.ota``)."""
    return f"squeezehome/{site_id}/ota"


def agent_topics(site_id: str) -> list[str]:
    """Every topic an agent of ``site_id`` publishes on (what ``squeezehome listen`` subscribes to)."""
    return [
        f"{INTENT_PREFIX}+",
        NLU_NOT_RECOGNIZED,
        NLU_ERROR,
        site_intent_topic(site_id),
        status_topic(site_id),
        info_topic(site_id),
    ]


# === Messages ===


def _fields(message: Any) -> dict[str, Any]:
    """A message's fields as a shallow dict (``dataclasses.asdict`` deep-copies: ~1 ms per answer with slots)."""
    return {name: getattr(message, name) for name in message.__dataclass_fields__}


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Message:
    """``to_dict``/``from_dict``/``payload`` of a Hermes message dataclass (its fields, unknown keys dropped)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def payload(self) -> bytes:
        return _dump(self.to_dict())


@dataclass
class NluQuery(_Message):
    """``hermes/nlu/query``: text to recognize. ``id`` is echoed in the answer."""

    input: str
    id: str = ""
    siteId: str = DEFAULT_SITE_ID
    sessionId: str = ""
    intentFilter: list[str] | None = None
    customData: str | None = None
    lang: str | None = None

    @staticmethod
    def topic() -> str:
        return NLU_QUERY


@dataclass
class NluIntent(_Message):
    """``hermes/intent/<intentName>``: an intent was recognized."""

    input: str
    intent: dict[str, Any]
    slots: list[dict[str, Any]] = field(default_factory=list)
    id: str = ""
    siteId: str = DEFAULT_SITE_ID
    sessionId: str = ""
    customData: str | None = None
    rawInput: str = ""

    def topic(self) -> str:
        return intent_topic(self.intent["intentName"])


@dataclass
class NluIntentNotRecognized(_Message):
    """``hermes/nlu/intentNotRecognized``: no intent (out of scope, filtered out, or empty text)."""

    input: str
    id: str = ""
    siteId: str = DEFAULT_SITE_ID
    sessionId: str = ""
    customData: str | None = None

    @staticmethod
    def topic() -> str:
        return NLU_NOT_RECOGNIZED


@dataclass
class NluError(_Message):
    """``hermes/error/nlu``: a payload could not be handled. ``context`` holds (the start of) the payload."""

    error: str
    context: str = ""
    siteId: str = DEFAULT_SITE_ID
    sessionId: str = ""

    @staticmethod
    def topic() -> str:
        return NLU_ERROR


@dataclass
class SiteIntent:
    """``squeezehome/<site>/intent``: the Hermes answer plus ``latency_ms``, the model and ``event_type``.

    ``event_type`` is the intent name or ``not_recognized``: Home Assistant's event entity fires on it.
    """

    site: str
    answer: dict[str, Any]
    latency_ms: float
    model: dict[str, str]

    def topic(self) -> str:
        return site_intent_topic(self.site)

    @property
    def event_type(self) -> str:
        intent = self.answer.get("intent")
        return intent["intentName"] if intent else NOT_RECOGNIZED_EVENT

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.answer)
        data.setdefault("intent", None)
        data.update(event_type=self.event_type, latency_ms=round(self.latency_ms, 3), model=dict(self.model))
        return data

    def payload(self) -> bytes:
        return _dump(self.to_dict())


# === Parsing raw MQTT payloads ===

_ID_FIELDS = ("id", "siteId", "sessionId")


def error_context(payload: bytes, limit: int = 200) -> str:
    """The start of a payload, printable, for ``NluError.context``."""
    text = payload[:limit].decode("utf-8", errors="replace")
    return text + ("…" if len(payload) > limit else "")


def max_payload_bytes(max_text_length: int) -> int:
    """The largest query payload worth parsing: 4 UTF-8 bytes per character plus 64 KiB for the other fields."""
    return 4 * max_text_length + 65536


def parse_query(payload: bytes, max_text_length: int = 1000) -> NluQuery:
    """Decode a ``hermes/nlu/query`` payload; raise ``PayloadError`` for anything that is not a valid query.

    Missing ``siteId`` means ``"default"``; ``id``/``sessionId`` default to ``""``; ``null`` counts as missing.
    Payloads far larger than any valid query (``max_payload_bytes``) are refused before they are parsed.
    """
    if len(payload) > max_payload_bytes(max_text_length):
        raise PayloadError(
            f"payload is {len(payload)} bytes, too large for a query of at most {max_text_length} characters"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("payload is not UTF-8") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise PayloadError("payload is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("payload is not a JSON object")
    site_id = data.get("siteId")
    session_id = data.get("sessionId")
    site_id = site_id if isinstance(site_id, str) else None
    session_id = session_id if isinstance(session_id, str) else ""
    for key in _ID_FIELDS:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise PayloadError(f"{key} must be a string", site_id, session_id)
    if "input" not in data or data["input"] is None:
        raise PayloadError("missing input", site_id, session_id)
    if not isinstance(data["input"], str):
        raise PayloadError("input must be a string", site_id, session_id)
    if len(data["input"]) > max_text_length:
        raise PayloadError(
            f"input is {len(data['input'])} characters, more than the maximum {max_text_length}",
            site_id,
            session_id,
        )
    intent_filter = data.get("intentFilter")
    if intent_filter is not None and not (
        isinstance(intent_filter, list) and all(isinstance(name, str) for name in intent_filter)
    ):
        raise PayloadError("intentFilter must be a list of intent names", site_id, session_id)
    custom = data.get("customData")
    lang = data.get("lang")
    return NluQuery(
        input=data["input"],
        id=data.get("id") or "",
        siteId=site_id or DEFAULT_SITE_ID,
        sessionId=session_id,
        intentFilter=list(intent_filter) if intent_filter is not None else None,
        customData=custom if isinstance(custom, str) else None,
        lang=lang if isinstance(lang, str) else None,
    )


def parse_command(payload: bytes, site_id: str, max_text_length: int = 1000) -> NluQuery:
    """Decode a plain-text ``squeezehome/<site>/command`` payload into a query with a fresh id."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("command is not UTF-8 text", site_id) from None
    if len(text) > max_text_length:
        raise PayloadError(
            f"command is {len(text)} characters, more than the maximum {max_text_length}", site_id
        )
    if "\x00" in text:
        raise PayloadError("command contains a NUL character", site_id)
    return NluQuery(input=text.strip(), id=str(uuid.uuid4()), siteId=site_id)


def answer_for(query: NluQuery, hermes: dict[str, Any]) -> NluIntent | NluIntentNotRecognized:
    """The Hermes answer to ``query`` from a recognizer's ``to_hermes()`` dict (``intent`` None = not recognized)."""
    intent = hermes.get("intent")
    if not intent:
        return NluIntentNotRecognized(
            input=query.input,
            id=query.id,
            siteId=query.siteId,
            sessionId=query.sessionId,
            customData=query.customData,
        )
    return NluIntent(
        input=query.input,
        intent={
            "intentName": intent["intentName"],
            "confidenceScore": float(intent.get("confidenceScore", 1.0)),
        },
        slots=list(hermes.get("slots", [])),
        id=query.id,
        siteId=query.siteId,
        sessionId=query.sessionId,
        customData=query.customData,
        rawInput=query.input,
    )


def error_for(exc: PayloadError, payload: bytes, site_id: str = DEFAULT_SITE_ID) -> NluError:
    """The ``hermes/error/nlu`` message for a payload that failed to parse (``site_id`` when it had none)."""
    return NluError(
        error=str(exc),
        context=error_context(payload),
        siteId=exc.site_id or site_id,
        sessionId=exc.session_id,
    )


def decode_published(topic: str, payload: bytes) -> Any:
    """Decode what an agent publishes (for ``send``/``listen``): JSON when it parses, else text."""
    text = payload.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
