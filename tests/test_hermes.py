"""The wire contract: topics, payload shapes and parsing of raw MQTT payloads (no network)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device_agent import hermes
from device_agent.hermes import (
    NluError,
    NluIntent,
    NluIntentNotRecognized,
    NluQuery,
    PayloadError,
    SiteIntent,
    answer_for,
    parse_command,
    parse_query,
)


def test_topics() -> None:
    assert NluQuery.topic() == "hermes/nlu/query"
    assert NluIntentNotRecognized.topic() == "hermes/nlu/intentNotRecognized"
    assert NluError.topic() == "hermes/error/nlu"
    assert hermes.intent_topic("HassTurnOn") == "hermes/intent/HassTurnOn"
    assert hermes.is_intent_topic("hermes/intent/HassTurnOn")
    assert not hermes.is_intent_topic("hermes/intent/a/b")
    assert hermes.command_topic("kitchen") == "squeezehome/kitchen/command"
    assert hermes.site_intent_topic("kitchen") == "squeezehome/kitchen/intent"
    assert hermes.status_topic("kitchen") == "squeezehome/kitchen/status"
    assert hermes.ota_topic("kitchen") == "squeezehome/kitchen/ota"


def test_parse_full_query() -> None:
    payload = {
        "input": "turn on the kitchen light",
        "id": "42",
        "siteId": "kitchen",
        "sessionId": "s1",
        "intentFilter": ["HassTurnOn"],
        "customData": "x",
        "lang": "en",
    }
    query = parse_query(json.dumps(payload).encode())
    assert query.to_dict() == payload
    assert NluQuery.from_dict(json.loads(query.payload())) == query


def test_parse_minimal_query_defaults() -> None:
    query = parse_query(b'{"input": "hi", "siteId": null, "intentFilter": null}')
    assert (query.input, query.id, query.siteId, query.sessionId, query.intentFilter) == (
        "hi",
        "",
        "default",
        "",
        None,
    )


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"turn on", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"id": "1"}', "missing input"),
        (b'{"input": null}', "missing input"),
        (b'{"input": 3}', "input must be a string"),
        (b'{"input": "x", "id": 5}', "id must be a string"),
        (b'{"input": "x", "siteId": ["a"]}', "siteId must be a string"),
        (b'{"input": "x", "intentFilter": "HassTurnOn"}', "intentFilter"),
        (b'{"input": "x", "intentFilter": [1]}', "intentFilter"),
    ],
)
def test_bad_queries(payload: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_query(payload)


def test_bad_query_keeps_site_and_session_for_the_error() -> None:
    payload = b'{"siteId": "kitchen", "sessionId": "s9"}'
    with pytest.raises(PayloadError) as info:
        parse_query(payload)
    error = hermes.error_for(info.value, payload, site_id="fallback")
    assert error.to_dict() == {
        "error": "missing input",
        "context": payload.decode(),
        "siteId": "kitchen",
        "sessionId": "s9",
    }
    assert hermes.error_for(PayloadError("payload is not JSON"), b"x", site_id="hall").siteId == "hall"


def test_max_text_length() -> None:
    assert parse_query(json.dumps({"input": "a" * 10}).encode(), max_text_length=10).input == "a" * 10
    with pytest.raises(PayloadError, match="more than the maximum 10"):
        parse_query(json.dumps({"input": "a" * 11}).encode(), max_text_length=10)
    with pytest.raises(PayloadError, match="more than the maximum"):
        parse_command(b"a" * 11, "s", max_text_length=10)


def test_oversized_payload_is_refused_before_parsing() -> None:
    payload = b'{"input": "x", "pad": "' + b"a" * 66000 + b'"}'
    with pytest.raises(PayloadError, match="too large"):
        parse_query(payload, max_text_length=10)
    assert parse_query(payload, max_text_length=1000).input == "x"


def test_parse_command() -> None:
    query = parse_command("  allume la lumière \n".encode(), "kitchen")
    assert query.input == "allume la lumière"
    assert query.siteId == "kitchen"
    assert len(query.id) == 36
    assert parse_command(b"x", "k").id != query.id
    with pytest.raises(PayloadError, match="not UTF-8"):
        parse_command(b"\xc3\x28", "kitchen")


def test_answer_for_intent_and_not_recognized() -> None:
    query = NluQuery(input="turn on the light", id="7", siteId="kitchen", sessionId="s")
    slot = {
        "entity": "name",
        "slotName": "name",
        "rawValue": "light",
        "value": {"kind": "Unknown", "value": "light"},
    }
    recognized = answer_for(
        query,
        {
            "input": query.input,
            "intent": {"intentName": "HassTurnOn", "confidenceScore": 0.9},
            "slots": [slot],
        },
    )
    assert isinstance(recognized, NluIntent)
    assert recognized.topic() == "hermes/intent/HassTurnOn"
    data = json.loads(recognized.payload())
    assert data["input"] == "turn on the light"
    assert data["intent"] == {"intentName": "HassTurnOn", "confidenceScore": 0.9}
    assert data["slots"] == [slot]
    assert (data["id"], data["siteId"], data["sessionId"]) == ("7", "kitchen", "s")
    assert NluIntent.from_dict(data) == recognized

    missed = answer_for(query, {"input": query.input, "intent": None, "slots": []})
    assert isinstance(missed, NluIntentNotRecognized)
    assert json.loads(missed.payload())["id"] == "7"


def test_site_intent_adds_latency_model_and_event_type() -> None:
    answer = {
        "input": "x",
        "intent": {"intentName": "HassTurnOn", "confidenceScore": 1.0},
        "slots": [],
        "id": "1",
    }
    site = SiteIntent("kitchen", answer, 1.23456, {"name": "m", "version": "1.0"})
    data = json.loads(site.payload())
    assert site.topic() == "squeezehome/kitchen/intent"
    assert data["event_type"] == "HassTurnOn"
    assert data["latency_ms"] == 1.235
    assert data["model"] == {"name": "m", "version": "1.0"}
    assert data["id"] == "1"
    not_recognized = SiteIntent("kitchen", {"input": "x", "id": "2"}, 0.5, {"name": "m", "version": "1"})
    assert json.loads(not_recognized.payload())["event_type"] == "not_recognized"
    assert json.loads(not_recognized.payload())["intent"] is None


@given(st.binary(max_size=300))
def test_parse_query_never_raises_anything_but_payload_error(payload: bytes) -> None:
    try:
        query = parse_query(payload)
    except PayloadError as exc:
        assert str(exc)
        assert isinstance(hermes.error_for(exc, payload).payload(), bytes)
    else:
        assert isinstance(query.input, str)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["input", "id", "siteId", "sessionId", "intentFilter", "customData", "lang", "x"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
            ),
            max_leaves=4,
        ),
    )
)
def test_parse_query_fuzzed_objects(data: dict) -> None:
    payload = json.dumps(data).encode()
    try:
        query = parse_query(payload)
    except PayloadError:
        assert (
            not isinstance(data.get("input"), str)
            or any(
                data.get(k) is not None and not isinstance(data[k], str)
                for k in ("id", "siteId", "sessionId")
            )
            or data.get("intentFilter") is not None
        )
    else:
        assert query.input == data["input"]
