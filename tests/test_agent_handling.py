"""Agent.handle(): what the agent publishes for each incoming message, with the real recognizer, no network."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from agent_bundles import agent_bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device_agent.agent import Agent, load_recognizer
from device_agent.config import AgentConfig


@pytest.fixture(scope="module")
def loaded():
    path, trained = agent_bundle()
    bundle, recognizer = load_recognizer(path)
    return bundle, recognizer, trained


def make_agent(loaded, **overrides) -> Agent:
    bundle, recognizer, _ = loaded
    config = AgentConfig.load(env={}, overrides={"site_id": "kitchen", "max_text_length": 50, **overrides})
    return Agent(config, bundle=bundle, recognizer=recognizer)


def decode(publications):
    return [(p.topic, json.loads(p.payload), p.retain) for p in publications]


def query(**fields) -> bytes:
    return json.dumps({"siteId": "kitchen", **fields}).encode()


def test_valid_query_gets_one_hermes_answer_and_one_site_message(loaded) -> None:
    agent = make_agent(loaded)
    out = decode(
        agent.handle("hermes/nlu/query", query(input="turn on the kitchen light", id="q1", sessionId="s"))
    )
    assert len(out) == 2
    (topic, answer, retain), (site_topic, site, _) = out
    assert topic.startswith("hermes/intent/") or topic == "hermes/nlu/intentNotRecognized"
    assert not retain
    assert (answer["id"], answer["siteId"], answer["sessionId"], answer["input"]) == (
        "q1",
        "kitchen",
        "s",
        "turn on the kitchen light",
    )
    if topic.startswith("hermes/intent/"):
        assert answer["intent"]["intentName"] == topic.rsplit("/", 1)[1]
        assert 0.0 <= answer["intent"]["confidenceScore"] <= 1.0
        assert isinstance(answer["slots"], list)
    assert site_topic == "squeezehome/kitchen/intent"
    assert site["id"] == "q1"
    assert site["latency_ms"] >= 0
    assert site["model"] == {"name": loaded[1].model_name, "version": loaded[1].model_version}
    assert site["event_type"] == (answer["intent"]["intentName"] if "intent" in answer else "not_recognized")


def test_answers_agree_with_the_recognizer(loaded) -> None:
    agent = make_agent(loaded)
    for text in ["turn off the bedroom lights", "what is the weather", "set the kitchen light to 50 percent"]:
        (topic, answer, _), _ = decode(agent.handle("hermes/nlu/query", query(input=text, id=text)))
        expected = loaded[1].recognize(text, None).intent
        assert topic == (f"hermes/intent/{expected}" if expected else "hermes/nlu/intentNotRecognized")


def test_known_sentences_of_the_trained_bundle(loaded) -> None:
    bundle, _, trained = loaded
    if not trained:
        pytest.skip("no trained default bundle: the tiny test bundle has no 'right' intents")
    agent = make_agent(loaded)
    for case in bundle.manifest.self_test:
        (topic, _, _), _ = decode(agent.handle("hermes/nlu/query", query(input=case["text"], id="x")))
        expected = case["intent"]
        assert topic == (
            "hermes/nlu/intentNotRecognized" if expected == "NotRecognized" else f"hermes/intent/{expected}"
        ), case


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_not_recognized(loaded, text: str) -> None:
    agent = make_agent(loaded)
    (topic, answer, _), (_, site, _) = decode(agent.handle("hermes/nlu/query", query(input=text, id="e")))
    assert topic == "hermes/nlu/intentNotRecognized"
    assert answer["id"] == "e"
    assert site["event_type"] == "not_recognized"


def test_intent_filter_that_excludes_everything(loaded) -> None:
    agent = make_agent(loaded)
    payload = query(input="turn on the kitchen light", id="f", intentFilter=["NoSuchIntent"])
    (topic, answer, _), _ = decode(agent.handle("hermes/nlu/query", payload))
    assert topic == "hermes/nlu/intentNotRecognized"
    assert answer["id"] == "f"


@pytest.mark.parametrize(
    "payload, error",
    [
        (b"\xff\x00garbage", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b'"just a string"', "not a JSON object"),
        (query(id="1"), "missing input"),
        (query(input=["a"]), "input must be a string"),
        (query(input="x" * 51), "more than the maximum 50"),
    ],
)
def test_bad_queries_get_an_error(loaded, payload: bytes, error: str) -> None:
    agent = make_agent(loaded)
    [(topic, message, _)] = decode(agent.handle("hermes/nlu/query", payload))
    assert topic == "hermes/error/nlu"
    assert error in message["error"]
    assert message["siteId"] == "kitchen"
    assert set(message) == {"error", "context", "siteId", "sessionId"}


def test_command_topic(loaded) -> None:
    agent = make_agent(loaded)
    (topic, answer, _), (site_topic, _, _) = decode(
        agent.handle("squeezehome/kitchen/command", b"turn on the fan")
    )
    assert answer["input"] == "turn on the fan"
    assert answer["siteId"] == "kitchen"
    assert answer["id"]
    assert site_topic == "squeezehome/kitchen/intent"
    [(error_topic, error, _)] = decode(agent.handle("squeezehome/kitchen/command", b"\xc3\x28"))
    assert error_topic == "hermes/error/nlu"
    assert "UTF-8" in error["error"]
    assert agent.handle("squeezehome/hall/command", b"turn on the fan") == []


def test_site_id_filtering(loaded) -> None:
    agent = make_agent(loaded, site_ids="hall")
    assert agent.handle("hermes/nlu/query", json.dumps({"input": "hi", "siteId": "garage"}).encode()) == []
    assert agent.handle("hermes/nlu/query", json.dumps({"input": 3, "siteId": "garage"}).encode()) == []
    assert len(agent.handle("hermes/nlu/query", json.dumps({"input": "hi", "siteId": "hall"}).encode())) == 2
    everyone = make_agent(loaded, site_ids="*")
    assert (
        len(everyone.handle("hermes/nlu/query", json.dumps({"input": "hi", "siteId": "garage"}).encode()))
        == 2
    )


def test_home_assistant_birth_republishes_discovery(loaded) -> None:
    agent = make_agent(loaded, ha_discovery_prefix="ha")
    out = decode(agent.handle("ha/status", b"online"))
    topics = {topic: (payload, retain) for topic, payload, retain in out}
    assert set(topics) == {"squeezehome/kitchen/info", "ha/device/squeezehome_kitchen/config"}
    assert all(retain for _, retain in topics.values())
    discovery, _ = topics["ha/device/squeezehome_kitchen/config"]
    event = discovery["cmps"]["squeezehome_kitchen_intent"]
    expected = [i for i in loaded[0].manifest.intents if i != "NotRecognized"] + ["not_recognized"]
    assert event["event_types"] == expected
    assert agent.handle("ha/status", b"offline") == []


def test_redelivered_duplicate_is_not_answered_twice(loaded) -> None:
    agent = make_agent(loaded)
    first = SimpleNamespace(topic="hermes/nlu/query", mid=7, payload=query(input="x", id="d"), dup=False)
    redelivery = SimpleNamespace(**{**vars(first), "dup": True})
    fresh_same_mid = SimpleNamespace(**{**vars(first), "payload": query(input="y", id="d2"), "dup": True})
    assert not agent._seen_before(first)
    assert agent._seen_before(redelivery)
    assert not agent._seen_before(fresh_same_mid)
    assert not agent._seen_before(SimpleNamespace(**vars(first)))  # not a dup: a new query reusing the mid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    topic=st.sampled_from(["hermes/nlu/query", "squeezehome/kitchen/command"]), payload=st.binary(max_size=80)
)
def test_fuzzed_payloads_get_exactly_one_answer_or_error(loaded, topic: str, payload: bytes) -> None:
    agent = make_agent(loaded)
    out = agent.handle(topic, payload)
    topics = [p.topic for p in out]
    assert (
        topics
        in (
            ["hermes/error/nlu"],
            [],  # a query for another site
            *[[t, "squeezehome/kitchen/intent"] for t in topics[:1] if t != "hermes/error/nlu"],
        )
    )
    for publication in out:
        json.loads(publication.payload)
