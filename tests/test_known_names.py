"""The household's names (`device_agent.known_names`): loading, matching, and what they change in the answers
of the shipped default bundle — on the recognizer, the CLI, `evaluate`, the agent's config and `agent check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_agent_cli import error_line, run_cli

from converter.cli import main
from device_agent.agent import Agent
from device_agent.bundle import default_bundle_dir
from device_agent.config import AgentConfig
from device_agent.known_names import KnownNames, KnownNamesError, phrase_words
from device_agent.recognizer import Recognizer

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "sample_data" / "examples" / "known_names.toml"
GENERIC = {"lights", "fan", "speaker", "garage", "door"}


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.from_bundle()


def answer(recognizer: Recognizer, text: str, known: KnownNames | None) -> dict[str, str]:
    recognizer.known_names = known
    try:
        r = recognizer.recognize(text)
    finally:
        recognizer.known_names = None
    return {"intent": r.intent, **{s.slot: s.value for s in r.slots}}


# === Matching ===


def test_phrases_are_the_decoders_words_without_a_leading_article() -> None:
    assert phrase_words("The Walk-in Closet") == ("walk-in", "closet")
    assert phrase_words("Mum's study") == ("mum", "'", "s", "study")
    assert phrase_words("my") == ("my",)


def test_longest_phrase_wins_and_matches_do_not_overlap() -> None:
    known = KnownNames.from_lists(
        {"name_light": ["desk lamp", "lamp two"], "name": ["desk"], "area": ["study"]}
    )
    words = ["turn", "on", "the", "desk", "lamp", "two", "in", "the", "study"]
    assert known.matches(words) == [("name", 3, 4), ("area", 8, 8)]
    assert known.matches(words, allowed={"area"}) == [("area", 8, 8)]
    tie = KnownNames.from_lists({"area": ["office"], "name": ["office"]})
    assert tie.matches(["office"]) == [("name", 0, 0)]


def test_generic_device_words_are_never_names() -> None:
    known = KnownNames.from_lists({"area": ["garage", "kitchen"], "name": ["kitchen speaker", "lights"]})
    # "garage" is a kind of device, "lights" too; "kitchen speaker" is area kitchen + a device word
    assert known.matches(["open", "the", "garage"], generic=GENERIC) == []
    assert known.matches(["mute", "the", "kitchen", "speaker"], generic=GENERIC) == [("area", 2, 2)]
    assert known.matches(["mute", "the", "kitchen", "speaker"]) == [("name", 2, 3)]


def test_a_name_listed_by_domain_matches_where_its_domain_fits() -> None:
    known = KnownNames.from_lists(
        {"name_scene": ["romantic"], "name_media_player": ["den tv"], "name": ["echo"]}
    )
    assert known.matches(["play", "something", "romantic"], intent="HassMediaSearchAndPlay") == []
    assert known.matches(["activate", "romantic"], intent="HassTurnOn") == [("name", 1, 1)]
    assert known.matches(["mute", "den", "tv"], intent="HassMediaPlayerMute") == [("name", 1, 2)]
    assert known.matches(["dim", "den", "tv"], intent="LightDim") == []
    assert known.matches(["dim", "echo"], intent="LightDim") == [("name", 1, 1)]  # listed plainly: any intent
    assert known.matches(["dim", "den", "tv"], intent="MyCustomIntent") == [("name", 1, 2)]
    timers = KnownNames.from_lists({"name_timer": ["pizza"], "name_pump": ["pond"]})
    assert timers.matches(["is", "the", "pizza", "on"], intent="HassGetState") == []  # a timer is no device
    assert timers.matches(["pizza", "timer", "status"], intent="HassTimerStatus") == [("name", 0, 0)]
    assert timers.matches(["start", "the", "pond"], intent="HassTurnOn") == [("name", 2, 2)]  # custom domain


@pytest.mark.parametrize(
    ("suffix", "content", "message"),
    [
        (".toml", "name = 3", "'name' must be a list of phrases"),
        (".toml", "[area]\nden = 1", "'area' must be a list of phrases"),
        (".toml", "name = [1]", "holds 1, not a phrase"),
        (".toml", "name = [", "is not valid TOML"),
        (".json", '{"room": ["den"]}', "unknown list 'room'"),
        (".json", '["den"]', "expected lists named name, area and floor"),
        (".yaml", "name: [den]", "use a .toml or .json file"),
    ],
)
def test_bad_names_files_are_one_clear_error(tmp_path: Path, suffix: str, content: str, message: str) -> None:
    path = tmp_path / f"names{suffix}"
    path.write_text(content)
    with pytest.raises(KnownNamesError, match=message):
        KnownNames.load(path)
    with pytest.raises(KnownNamesError, match="does not exist"):
        KnownNames.load(tmp_path / "missing.toml")


def test_odd_phrases_are_skipped_and_a_flood_is_refused() -> None:
    odd = KnownNames.from_lists({"name": ["", "  ", "the", "💡 lamp", "x" * 300, " ".join(["word"] * 13)]})
    assert odd.phrases == {"name": (("💡", "lamp"), ("x" * 300,))}
    with pytest.raises(KnownNamesError, match="at most 20,000"):
        KnownNames.from_lists({"name": [f"lamp {i}" for i in range(20_001)]})


def test_toml_and_json_files_load_the_same(tmp_path: Path) -> None:
    lists = {"name": ["Sonos One"], "area": ["den"], "floor": ["upstairs"]}
    (tmp_path / "n.json").write_text(json.dumps(lists))
    assert KnownNames.load(tmp_path / "n.json") == KnownNames.from_lists(lists)
    example = KnownNames.load(EXAMPLE)
    assert ("sonos", "one") in example.phrases["name"] and ("walk-in", "closet") in example.phrases["area"]


# === What names change in the answers (the shipped int8 model) ===


def test_a_listed_name_the_model_misses_is_found(recognizer) -> None:
    known = KnownNames.load(EXAMPLE)
    assert answer(recognizer, "mute the chromecast", None) == {"intent": "HassMediaPlayerMute"}
    assert answer(recognizer, "mute the chromecast", known) == {
        "intent": "HassMediaPlayerMute",
        "name": "chromecast",
    }
    assert answer(recognizer, "send sir sweeps-a-lot to clean", None)["name"] == "sweeps-a-lot"
    assert answer(recognizer, "send sir sweeps-a-lot to clean", known)["name"] == "sir sweeps-a-lot"
    assert answer(recognizer, "pause the music in the walk-in closet", known)["area"] == "walk-in closet"
    recognizer.known_names = known
    slot = recognizer.recognize("mute the chromecast").to_hermes()["slots"][0]
    recognizer.known_names = None
    assert slot["rawValue"] == "chromecast" and slot["confidence"] > 0.5  # the decoder's, not the model's


def test_names_not_in_the_text_change_nothing(recognizer) -> None:
    known = KnownNames.load(EXAMPLE)
    for text in (
        "turn off the lights in the kitchen",
        "set the bedroom lamp to fifty percent",
        "tell me a joke",
    ):
        recognizer.known_names = known
        with_names = recognizer.recognize(text).to_hermes()
        recognizer.known_names = None
        assert with_names == recognizer.recognize(text).to_hermes(), text


def test_a_name_is_never_forced_where_the_intent_cannot_carry_it(recognizer) -> None:
    known = KnownNames.from_lists({"name": ["time", "weather"], "area": ["garage"]})
    assert answer(recognizer, "what time is it", known) == {"intent": "HassGetCurrentTime"}
    garage = answer(recognizer, "open the garage door", known)
    assert garage.get("device_class") == "garage" and "area" not in garage


def test_a_listed_list_name_stops_before_the_word_list(recognizer) -> None:
    known = KnownNames.from_lists({"name_list": ["packing list", "christmas list"]})
    assert answer(recognizer, "add passport to my packing list", known)["name"] == "packing"
    assert answer(recognizer, "can you put tent pegs on the christmas list", known)["name"] == "christmas"


def test_a_state_question_about_a_listed_name_keeps_its_state(recognizer) -> None:
    known = KnownNames.from_lists({"name": ["sliding door"]})
    assert answer(recognizer, "is the sliding door open", known) | {"domain": None, "device_class": None} == {
        "intent": "HassGetState",
        "name": "sliding door",
        "state": "open",
        "domain": None,
        "device_class": None,
    }


# === CLI, evaluate, agent ===


def test_recognize_cli_reads_a_names_file(tmp_path: Path) -> None:
    result = run_cli("recognize", "--known-names", str(EXAMPLE), "mute the chromecast")
    assert result.returncode == 0, result.stderr
    slots = json.loads(result.stdout)["slots"]
    assert [(s["slotName"], s["value"]["value"]) for s in slots] == [("name", "chromecast")]
    floor_lamp = run_cli("recognize", "dim the floor lamp to 20 percent")
    alone = run_cli("recognize", "--no-bundle-names", "dim the floor lamp to 20 percent")
    assert "name" in {s["slotName"] for s in json.loads(floor_lamp.stdout)["slots"]}
    assert "name" not in {s["slotName"] for s in json.loads(alone.stdout)["slots"]}
    bad = tmp_path / "names.toml"
    bad.write_text("room = ['den']")
    failed = run_cli("recognize", "--known-names", str(bad), "mute the chromecast")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "unknown list 'room'" in error_line(failed.stderr)


def test_evaluate_scores_with_the_households_names(tmp_path: Path, capsys) -> None:
    data = tmp_path / "dev.jsonl"
    rows = [
        {"text": "mute the chromecast", "intent": "HassMediaPlayerMute", "slots": {"name": "chromecast"}},
        {
            "text": "send sir sweeps-a-lot to clean",
            "intent": "HassVacuumStart",
            "slots": {"name": "sir sweeps-a-lot"},
        },
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    main(["evaluate", "--bundle", str(default_bundle_dir()), str(data), "--json"])
    without = json.loads(capsys.readouterr().out)
    main(
        [
            "evaluate",
            "--bundle",
            str(default_bundle_dir()),
            str(data),
            "--json",
            "--known-names",
            str(EXAMPLE),
        ]
    )
    with_names = json.loads(capsys.readouterr().out)
    assert without["slot_f1"] == 0.0 and with_names["slot_f1"] == 1.0
    assert "names from" in with_names["source"]
    main(["evaluate", "--bundle", str(default_bundle_dir()), str(data), "--json", "--no-bundle-names"])
    assert "without the bundle's names" in json.loads(capsys.readouterr().out)["source"]


def test_the_agent_config_names_a_file(tmp_path: Path) -> None:
    config_file = tmp_path / "agent.toml"
    config_file.write_text(f'site_id = "den"\nknown_names = "{EXAMPLE}"\n')
    agent = Agent(AgentConfig.load(config_file=config_file, env={}))
    out = agent.handle(
        "hermes/nlu/query", json.dumps({"input": "mute the chromecast", "siteId": "den"}).encode()
    )
    answer_ = json.loads(out[0].payload)
    assert [s["rawValue"] for s in answer_["slots"]] == ["chromecast"]
    good = run_cli(
        "agent", "check", "--config", str(config_file), "--broker", "mqtt://127.0.0.1:1", "--timeout", "1"
    )
    assert "ok   known_names: " + str(EXAMPLE) + ": 6 name, 4 area, 2 floor" in good.stdout, good.stdout
    bundle_line = next(line for line in good.stdout.splitlines() if line.startswith("ok   bundle"))
    assert bundle_line.endswith(f", {len(Recognizer.from_bundle().bundle_names)} known names")

    config_file.write_text(f'known_names = "{tmp_path / "none.toml"}"\n')
    with pytest.raises(KnownNamesError, match="does not exist"):
        Agent(AgentConfig.load(config_file=config_file, env={}))
    check = run_cli(
        "agent", "check", "--config", str(config_file), "--broker", "mqtt://127.0.0.1:1", "--timeout", "1"
    )
    assert check.returncode == 2
    assert f"FAIL known_names: names file {tmp_path / 'none.toml'} does not exist" in check.stdout


# === Names over MQTT ===


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent(AgentConfig.load(env={}, overrides={"site_id": "den", "known_names": str(EXAMPLE)}))


def ask(agent: Agent, text: str) -> dict[str, str]:
    out = agent.handle("hermes/nlu/query", json.dumps({"input": text, "siteId": "den"}).encode())
    return {s["slotName"]: s["value"]["value"] for s in json.loads(out[0].payload)["slots"]}


def test_names_published_on_the_sites_topic_join_the_files(agent: Agent) -> None:
    topic = "squeezehome/den/known_names"
    assert ask(agent, "dim the nook lamp").get("name") != "nook lamp"
    out = agent.handle(topic, json.dumps({"name_light": ["nook lamp"], "area": ["loft"]}).encode())
    assert [p.topic for p in out] == ["squeezehome/den/info"] and out[0].retain
    assert json.loads(out[0].payload)["known_names"] == {"name": 7, "area": 5, "floor": 2}
    assert ask(agent, "dim the nook lamp")["name"] == "nook lamp"
    assert ask(agent, "mute the chromecast")["name"] == "chromecast"  # the file's names stay

    bad = agent.handle(topic, b'{"room": ["den"]}')
    assert [p.topic for p in bad] == ["hermes/error/nlu"]
    error = json.loads(bad[0].payload)
    assert "unknown list 'room'" in error["error"] and error["siteId"] == "den"
    assert ask(agent, "dim the nook lamp")["name"] == "nook lamp"  # unchanged

    cleared = agent.handle(topic, b"")
    assert json.loads(cleared[0].payload)["known_names"] == {"name": 6, "area": 4, "floor": 2}
    assert ask(agent, "mute the chromecast")["name"] == "chromecast"


def test_a_retained_names_message_reaches_an_agent_that_starts_later() -> None:
    from agent_mqtt_helpers import ANSWER_TOPICS, Collector
    from brokers import start_broker

    broker = start_broker()
    agent = Agent(AgentConfig.load(env={}, overrides={"broker_url": broker.url, "site_id": "loft"}))
    collector = Collector(broker.url, ANSWER_TOPICS)
    try:
        names = json.dumps({"name": ["chromecast"]})
        collector.publish("squeezehome/loft/known_names", names, retain=True).wait_for_publish(2)
        agent.start(retry=False)
        assert collector.wait_for(lambda m: len(agent.known_names) == 1, 10)
        collector.query("mute the chromecast", "q1", "loft")
        assert collector.wait_for(lambda m: len(collector.answers()) == 1, 10)
        slots = collector.answers()[0][1]["slots"]
        assert [s["rawValue"] for s in slots] == ["chromecast"]
    finally:
        agent.stop()
        collector.publish("squeezehome/loft/known_names", b"", retain=True).wait_for_publish(2)
        collector.close()
        broker.cleanup()


# === The names the shipped bundle carries ===


def test_the_shipped_bundle_carries_the_names_its_model_trained_with(recognizer) -> None:
    names = recognizer.bundle_names
    assert names is not None and len(names) > 500
    assert ("floor", "lamp") in names.phrases["name"] and ("kitchen",) in names.phrases["area"]
    assert ("chromecast",) not in names.phrases["name"]  # held out of training: the unseen-names set's
    floor_lamp = {"intent": "HassLightSet", "name": "floor lamp", "brightness": 20}
    assert answer(recognizer, "dim the floor lamp to 20 percent", None) == floor_lamp
    saved, recognizer.bundle_names = recognizer.bundle_names, None
    try:  # the model alone tags no name here
        assert "name" not in answer(recognizer, "dim the floor lamp to 20 percent", None)
    finally:
        recognizer.bundle_names = saved
    both = KnownNames.load(EXAMPLE)  # the home's names join the bundle's
    assert answer(recognizer, "mute the chromecast", both)["name"] == "chromecast"
    assert answer(recognizer, "dim the floor lamp to 20 percent", both) == floor_lamp
