"""The agent against real Mosquitto brokers: volume, broker restart, agent restart, fuzzing, discovery, TLS."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter

import pytest
from agent_bundles import agent_bundle
from agent_mqtt_helpers import ANSWER_TOPICS, Collector
from brokers import MOSQUITTO, MosquittoBroker, make_pki, start_broker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device_agent import hermes
from device_agent.agent import Agent, load_recognizer
from device_agent.config import AgentConfig
from device_agent.mqtt_client import BrokerError

SENTENCES = [
    "turn on the kitchen light",
    "turn off the bedroom lights",
    "set the living room light to 40 percent",
    "what is the temperature in the kitchen",
    "open the garage door",
    "tell me a joke",
    "lock the front door",
    "start a timer for 5 minutes",
]

needs_mosquitto = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")


@pytest.fixture(scope="module")
def loaded():
    path, trained = agent_bundle()
    bundle, recognizer = load_recognizer(path)
    return bundle, recognizer, trained


@pytest.fixture(scope="module")
def broker():
    broker = start_broker()
    yield broker
    broker.cleanup()


def make_agent(loaded, url: str, **overrides) -> Agent:
    bundle, recognizer, _ = loaded
    values = {"broker_url": url, "site_id": f"s{uuid.uuid4().hex[:6]}", "log_format": "text", **overrides}
    return Agent(AgentConfig.load(env={}, overrides=values), bundle=bundle, recognizer=recognizer)


def expected_topic(recognizer, text: str) -> str:
    intent = recognizer.recognize(text, None).intent
    return f"hermes/intent/{intent}" if intent else "hermes/nlu/intentNotRecognized"


# === Volume ===


@pytest.mark.parametrize("protocol", ["3.1.1", pytest.param("5", marks=needs_mosquitto)])
def test_500_queries_500_answers(loaded, broker, protocol: str) -> None:
    _, recognizer, trained = loaded
    agent = make_agent(loaded, broker.url, protocol=protocol)
    site = agent.site_id
    collector = Collector(broker.url, ANSWER_TOPICS)
    agent.start(retry=False)
    try:
        expected = {text: expected_topic(recognizer, text) for text in SENTENCES}
        sent = {}
        for i in range(500):
            text = SENTENCES[i % len(SENTENCES)]
            sent[f"q{i}"] = text
            collector.query(text, f"q{i}", site)
        assert collector.wait_for(lambda m: len(m) >= 500, timeout=60), f"{len(collector.messages)} answers"
        time.sleep(0.2)  # anything extra (a duplicate) would arrive now
        answers = collector.answers()
        ids = Counter(payload["id"] for _, payload in answers)
        assert set(ids) == set(sent)
        assert max(ids.values()) == 1
        for topic, payload in answers:
            assert topic == expected[sent[payload["id"]]]
            assert payload["input"] == sent[payload["id"]]
            assert payload["siteId"] == site
        assert agent.answered == 500 and agent.errors == 0
        if trained:
            # the bundle's own known sentences, sent through the broker like the rest
            cases = loaded[0].manifest.self_test
            for i, case in enumerate(cases):
                collector.query(case["text"], f"known{i}", site)
            assert collector.wait_for(lambda m: len(m) >= 500 + len(cases), timeout=30)
            got = {p["id"]: t for t, p in collector.answers()}
            for i, case in enumerate(cases):
                intent = case["intent"]
                want = (
                    "hermes/nlu/intentNotRecognized"
                    if intent == "NotRecognized"
                    else f"hermes/intent/{intent}"
                )
                assert got[f"known{i}"] == want, case
    finally:
        agent.stop()
        collector.close()


# === Broker restart ===


@needs_mosquitto
def test_broker_restart_mid_stream_loses_nothing(loaded) -> None:
    with MosquittoBroker(persistence=True) as broker:
        agent = make_agent(loaded, broker.url)
        agent.connection.client.reconnect_delay_set(0.1, 1.0)
        collector = Collector(broker.url, ANSWER_TOPICS, client_id=f"c-{agent.site_id}", persistent=True)
        agent.start(retry=False)
        total = 300

        def stream() -> None:  # 300 queries over ~1.5 s; the broker goes down in the middle
            for i in range(total):
                collector.query(SENTENCES[i % len(SENTENCES)], f"a{i}", agent.site_id)
                time.sleep(0.005)

        publisher = threading.Thread(target=stream)
        try:
            publisher.start()
            time.sleep(0.5)
            broker.restart(down_for=0.3)
            publisher.join()
            done = collector.wait_for(
                lambda m: len({p["id"] for _, p in collector.answers()}) >= total, timeout=40
            )
            ids = Counter(p["id"] for _, p in collector.answers())
            missing = {f"a{i}" for i in range(total)} - set(ids)
            assert done and not missing, f"missing answers: {sorted(missing)}"
            assert agent.connection.connect_count >= 2 and collector.conn.connect_count >= 2
            # QoS 1 is at-least-once on the answer leg; the agent itself answers each query once.
            assert agent.answered == total
        finally:
            agent.stop()
            collector.close()


# === Agent restart with queries waiting ===


@needs_mosquitto
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_queries_sent_while_the_agent_is_down_are_answered_after(loaded, protocol: str) -> None:
    with MosquittoBroker() as broker:
        site = f"r{uuid.uuid4().hex[:6]}"
        status = hermes.status_topic(site)
        collector = Collector(broker.url, [*ANSWER_TOPICS, status])
        first = make_agent(loaded, broker.url, site_id=site, protocol=protocol)
        first.start(retry=False)
        assert collector.wait_for(lambda m: "online" in collector.on(status), 5)
        first.stop()
        assert collector.wait_for(lambda m: collector.on(status)[-1:] == ["offline"], 5)
        for i in range(20):
            collector.query(f"turn on light {i}", f"w{i}", site)
        time.sleep(0.2)
        assert collector.answers() == []
        second = make_agent(loaded, broker.url, site_id=site, protocol=protocol)
        second.start(retry=False)
        try:
            assert collector.wait_for(lambda m: len(collector.answers()) >= 20, 20)
            assert sorted(p["id"] for _, p in collector.answers()) == sorted(f"w{i}" for i in range(20))
            assert collector.wait_for(lambda m: collector.on(status)[-1:] == ["online"], 5)
        finally:
            second.stop()
            collector.close()


# === Fuzzing over MQTT ===


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    batch=st.lists(
        st.tuples(
            st.sampled_from(["query", "command"]),
            st.one_of(
                st.binary(max_size=60),
                st.text(max_size=40).map(str.encode),
                st.dictionaries(
                    st.sampled_from(["input", "id", "siteId", "sessionId", "intentFilter"]),
                    st.none()
                    | st.integers()
                    | st.text(max_size=12)
                    | st.lists(st.text(max_size=5), max_size=2),
                    max_size=5,
                ).map(lambda d: json.dumps(d).encode()),
            ),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_fuzzed_payloads_on_both_topics(fuzz_agent, batch) -> None:
    agent, collector = fuzz_agent
    start = len(collector.messages)
    expected = 0
    for kind, payload in batch:
        topic = hermes.NLU_QUERY if kind == "query" else hermes.command_topic(agent.site_id)
        expected += len(agent.handle(topic, payload))  # what the agent must publish (pure function)
        collector.publish(topic, payload)
    marker = f"end-{uuid.uuid4().hex}"
    collector.query("turn on the light", marker, agent.site_id)
    expected += 2
    assert collector.wait_for(
        lambda m: any(isinstance(p, dict) and p.get("id") == marker for _, p, _ in m[start:])
    )
    assert collector.wait_for(lambda m: len(m) - start >= expected, 5)
    time.sleep(0.05)
    assert len(collector.messages) - start == expected
    assert agent.connection.connected.is_set() and agent._worker.is_alive()


@pytest.fixture(scope="module")
def fuzz_agent(loaded, broker):
    agent = make_agent(loaded, broker.url, site_id="default", max_text_length=30, ha_discovery=False)
    collector = Collector(broker.url, [*ANSWER_TOPICS, hermes.site_intent_topic("default")])
    agent.start(retry=False)
    yield agent, collector
    agent.stop()
    collector.close()


# === Home Assistant discovery ===


def test_discovery_published_and_republished_on_ha_birth(loaded, broker) -> None:
    agent = make_agent(loaded, broker.url, ha_discovery_prefix="hatest")
    topic = f"hatest/device/squeezehome_{agent.site_id}/config"
    info = hermes.info_topic(agent.site_id)
    collector = Collector(broker.url, [topic, info])
    agent.start(retry=False)
    try:
        assert collector.wait_for(lambda m: len(collector.on(topic)) == 1 and collector.on(info), 5)
        discovery = collector.on(topic)[0]
        assert discovery["availability"][0]["topic"] == hermes.status_topic(agent.site_id)
        assert discovery["cmps"][f"squeezehome_{agent.site_id}_intent"]["p"] == "event"
        assert collector.on(info)[0]["model"]["version"] == loaded[1].model_version
        collector.publish("hatest/status", "offline")
        time.sleep(0.2)
        assert len(collector.on(topic)) == 1
        collector.publish("hatest/status", "online")
        assert collector.wait_for(lambda m: len(collector.on(topic)) == 2, 5)
        assert collector.on(topic)[1] == discovery
    finally:
        agent.stop()
        # leave no retained discovery behind in the shared broker
        collector.publish(topic, b"", retain=True).wait_for_publish(2)
        collector.close()


# === TLS ===


@needs_mosquitto
def test_tls_with_client_certificate_and_refusal_of_an_unverifiable_server(loaded, tmp_path) -> None:
    pki = make_pki(tmp_path / "pki", "good")
    other = make_pki(tmp_path / "other", "other")
    with MosquittoBroker(tls=pki, require_certificate=True) as broker:
        tls = {"tls_ca": str(pki.ca), "tls_cert": str(pki.client_cert), "tls_key": str(pki.client_key)}
        agent = make_agent(loaded, broker.url, **tls)
        collector = Collector(broker.url, ANSWER_TOPICS, **tls)
        agent.start(retry=False)
        try:
            collector.query("turn on the kitchen light", "tls1", agent.site_id)
            assert collector.wait_for(lambda m: len(collector.answers()) == 1, 10)
            assert collector.answers()[0][1]["id"] == "tls1"
        finally:
            agent.stop()
            collector.close()

        wrong_ca = make_agent(loaded, broker.url, **{**tls, "tls_ca": str(other.ca)})
        with pytest.raises(BrokerError, match="does not verify"):
            wrong_ca.connection.connect(timeout=5)
        system_ca = make_agent(loaded, broker.url, tls_cert=tls["tls_cert"], tls_key=tls["tls_key"])
        with pytest.raises(BrokerError, match="does not verify"):
            system_ca.connection.connect(timeout=5)
        no_client_cert = make_agent(loaded, broker.url, tls_ca=str(pki.ca))
        with pytest.raises(BrokerError, match="client certificate"):
            no_client_cert.connection.connect(timeout=3)


def test_retained_queries_are_not_answered(loaded, broker) -> None:
    agent = make_agent(loaded, broker.url)
    collector = Collector(broker.url, ANSWER_TOPICS)
    payload = json.dumps({"input": "turn on the light", "id": "retained", "siteId": agent.site_id})
    collector.publish(hermes.NLU_QUERY, payload, retain=True).wait_for_publish(2)
    agent.start(retry=False)
    try:
        collector.query("turn on the light", "live", agent.site_id)
        assert collector.wait_for(lambda m: len(collector.answers()) >= 1, 10)
        time.sleep(0.2)
        assert [p["id"] for _, p in collector.answers()] == ["live"]
    finally:
        agent.stop()
        collector.publish(hermes.NLU_QUERY, b"", retain=True).wait_for_publish(2)
        collector.close()


@needs_mosquitto
def test_username_and_password(loaded) -> None:
    with MosquittoBroker(users={"board": "s3cret@pass"}) as broker:
        url_with_credentials = broker.url.replace("mqtt://", "mqtt://board:s3cret%40pass@")
        agent = make_agent(loaded, url_with_credentials)
        collector = Collector(broker.url, ANSWER_TOPICS, username="board", password="s3cret@pass")
        agent.start(retry=False)
        try:
            collector.query("turn on the light", "auth1", agent.site_id)
            assert collector.wait_for(lambda m: len(collector.answers()) == 1, 10)
        finally:
            agent.stop()
            collector.close()
        wrong = make_agent(loaded, broker.url, username="board", password="wrong")
        with pytest.raises(BrokerError, match="refused the connection.*username/password"):
            wrong.connection.connect(timeout=5)
        anonymous = make_agent(loaded, broker.url)
        with pytest.raises(BrokerError, match="refused"):
            anonymous.connection.connect(timeout=5)


@needs_mosquitto
def test_tcp_nodelay_on_every_socket_including_reconnects(tmp_path) -> None:
    import socket

    from device_agent.mqtt_client import MqttConnection

    pki = make_pki(tmp_path)
    for tls in (None, pki):
        with MosquittoBroker(tls=tls) as broker:
            extra = {"tls_ca": str(pki.ca)} if tls else {}
            config = AgentConfig.load(env={}, overrides={"broker_url": broker.url, **extra})
            conn = MqttConnection(config, subscriptions=["x"], reconnect_delay=(0.1, 0.5))
            conn.connect(timeout=5)
            try:
                first = conn.client.socket()
                assert first.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                broker.restart(down_for=0.2)
                deadline = time.monotonic() + 10
                while conn.connect_count < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
                second = conn.client.socket()
                assert conn.connect_count == 2 and second is not first
                assert second.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            finally:
                conn.close()


@needs_mosquitto
def test_mqtt5_response_topic_and_correlation_data(loaded, broker) -> None:
    import threading

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    agent = make_agent(loaded, broker.url, protocol="5")
    agent.start(retry=False)
    replies: list[tuple[bytes, bytes]] = []
    got = threading.Event()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_subscribe = lambda *a: subscribed.set()

    def on_message(c, userdata, message) -> None:
        replies.append((message.payload, message.properties.CorrelationData))
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", int(broker.url.rsplit(":", 1)[1]))
    client.loop_start()
    try:
        client.subscribe("test/replies/1", qos=1)
        assert subscribed.wait(5)
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "test/replies/1"
        props.CorrelationData = b"corr-42"
        query = json.dumps({"input": "turn on the kitchen light", "id": "v5", "siteId": agent.site_id})
        client.publish(hermes.NLU_QUERY, query, qos=1, properties=props)
        assert got.wait(10)
        payload, correlation = replies[0]
        assert correlation == b"corr-42"
        assert json.loads(payload)["id"] == "v5"
    finally:
        client.loop_stop()
        client.disconnect()
        agent.stop()
