"""`Recognizer` on the shipped default bundle (int8, LiteRT): answers, Hermes shape, bad input, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device_agent.bundle import BundleError, default_bundle_dir, load_bundle
from device_agent.errors import UserError
from device_agent.intent_rules import LIGHT_INTENTS
from device_agent.recognizer import Recognition, Recognizer
from device_agent.schema import NOT_RECOGNIZED
from device_agent.slot_decoding import SlotValue, tags_a_slot


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.from_bundle()


def answers(recognizer: Recognizer, texts: list[str]) -> list[str | None]:
    """The recognizer's final intents (None: not recognized)."""
    return [r.intent for r in recognizer.recognize_many(texts)]


def as_if_the_model_said(
    recognizer: Recognizer, texts: list[str], said: list[str | None]
) -> list[str | None]:
    """The recognizer's final intents had the model's arg-max been ``said`` (None: what it does say), its slot
    tags as they are: what the rules make of that answer, whichever model ships."""
    outputs = recognizer.model_outputs(texts)
    forced = []
    for (encoding, logits, slots), intent in zip(outputs, said, strict=True):
        if intent is not None:
            logits = np.full_like(logits, -10.0)
            logits[recognizer.labels.index(intent)] = 10.0
        forced.append((encoding, logits, slots))
    return [r.intent for r in recognizer.recognize_outputs(texts, forced)]


def assert_the_rules_settle(recognizer: Recognizer, texts: list[str], said: list[str | None]) -> None:
    """Had the model said ``said`` (what an earlier shipped model said when the rule was written), the answers
    would be the ones the recognizer gives now: the assertions that follow pin those answers, so they pin what
    the rules make of ``said`` too."""
    assert as_if_the_model_said(recognizer, texts, said) == answers(recognizer, texts)


def assert_rules_refuse_what_the_model_accepts(recognizer: Recognizer, texts: list[str]) -> None:
    """Every text is refused once the rules have read it, whichever command the model takes it for (its best
    in-scope intent), and by the recognizer."""
    best = [recognizer.intents[int(np.argmax(o[1][:-1]))] for o in recognizer.model_outputs(texts)]
    assert as_if_the_model_said(recognizer, texts, best) == [None] * len(texts)
    assert answers(recognizer, texts) == [None] * len(texts)


def test_default_bundle_loads_and_describes_itself(recognizer):
    manifest = load_bundle(default_bundle_dir()).manifest
    assert recognizer.model_name == manifest.model.name and recognizer.model_version == manifest.model.version
    assert recognizer.intents == manifest.intents[:-1] and NOT_RECOGNIZED not in recognizer.intents
    assert recognizer.schema.slot_tags == manifest.slot_tags
    assert 0.0 < recognizer.intent_threshold < 1.0
    assert (default_bundle_dir() / "model.tflite").stat().st_size <= 4 * 1024 * 1024


def test_self_test_sentences_are_answered_as_the_manifest_says(recognizer):
    self_test = load_bundle(default_bundle_dir()).manifest.self_test
    assert len(self_test) >= 5
    for item in self_test:
        got = recognizer.recognize(item["text"]).intent or NOT_RECOGNIZED
        assert got == item["intent"], item["text"]


def test_a_command_with_slots_in_hermes_shape(recognizer):
    text = "turn off the lights in the kitchen"
    r = recognizer.recognize(text)
    assert r.intent == "HassTurnOff" and r.recognized
    values = r.slot_values()
    assert values.get("area") == "kitchen" and values.get("domain") == "light"
    hermes = r.to_hermes()
    assert hermes["input"] == text
    assert hermes["intent"]["intentName"] == "HassTurnOff" and 0 < hermes["intent"]["confidenceScore"] <= 1
    area = next(s for s in hermes["slots"] if s["slotName"] == "area")
    assert area["entity"] == "area" and area["value"] == {"kind": "text", "value": "kitchen"}
    assert text[area["range"]["start"] : area["range"]["end"]] == area["rawValue"] == "kitchen"
    json.dumps(hermes)  # serialisable


def test_numbers_are_normalized(recognizer):
    r = recognizer.recognize("set the bedroom lamp to fifty percent")
    assert r.intent == "HassLightSet"
    assert r.slot_values().get("brightness") == 50


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \t\n ",
        "\x00\x01\x02\x1b[31m",
        "🙂🙂🙂 🎉",
        "x" * 10_000,
        "turn on the light " * 700,
        "\ufffd\ufffd\ufffd",
        "今日はいい天気ですね",
        "Какая сегодня погода",
        "asdf qwer zxcv uiop",
        "asdfgh jkl",  # the model: LightDim, name "jkl"
        "zxcv bnm",  # the model: HassTurnOn, name "zxcv bnm"
        "asdf jkl uh turn",
    ],
)
def test_bad_input_is_not_recognized_and_never_crashes(recognizer, text):
    r = recognizer.recognize(text)
    assert isinstance(r, Recognition)
    if text.strip(" \t\n\x00\x01\x02") == "" or text.startswith(("🙂", "\ufffd", "\x00")):
        assert r.intent is None and r.slots == []
    if text in ("今日はいい天気ですね", "Какая сегодня погода") or "asdf" in text or "zxcv" in text:
        assert r.intent is None, (text, r.confidence)
    assert r.to_hermes()["input"] == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_gives_an_answer(recognizer, text):
    r = recognizer.recognize(text)
    assert r.intent is None or r.intent in recognizer.intents
    assert 0.0 <= r.confidence <= 1.0
    for s in r.slots:
        assert 0 <= s.start <= s.end <= len(text)


def test_non_text_is_one_clear_error(recognizer):
    with pytest.raises(UserError, match="takes text"):
        recognizer.recognize(b"turn on the light")  # type: ignore[arg-type]


def test_intent_filter_restricts_the_answer(recognizer):
    text = "turn on the kitchen light"
    assert recognizer.recognize(text).intent == "HassTurnOn"
    assert recognizer.recognize(text, intent_filter=["HassTurnOn", "HassTurnOff"]).intent == "HassTurnOn"
    filtered = recognizer.recognize(text, intent_filter=["HassGetWeather"])
    assert filtered.intent in (None, "HassGetWeather")
    assert recognizer.recognize(text, intent_filter=[]).intent is None


def test_recognize_many_matches_one_by_one(recognizer):
    texts = ["pause the music", "", "what time is it", "set a timer for ten minutes"]
    many = recognizer.recognize_many(texts, batch_size=3)
    assert [r.text for r in many] == texts
    for text, r in zip(texts, many, strict=True):
        one = recognizer.recognize(text)
        assert (one.intent, round(one.confidence, 5)) == (r.intent, round(r.confidence, 5))


def test_decode_applies_the_threshold_and_not_recognized_class(recognizer):
    enc = recognizer.tokenizer.encode("turn on the light", recognizer.max_seq_length)
    n = len(recognizer.labels)
    slot_logits = np.zeros((recognizer.max_seq_length, len(recognizer.schema.slot_tags)), "float32")
    logits = np.full(n, -10.0, "float32")
    logits[0] = 10.0
    assert recognizer.decode("turn on the light", enc, logits, slot_logits).intent == recognizer.labels[0]
    logits[-1] = 20.0  # NotRecognized wins
    r = recognizer.decode("turn on the light", enc, logits, slot_logits)
    assert r.intent is None and r.confidence < 0.01
    flat = np.zeros(n, "float32")  # every class equally likely: far below any useful threshold
    assert recognizer.decode("turn on the light", enc, flat, slot_logits).intent is None


def test_missing_or_broken_bundle_is_a_bundle_error(tmp_path):
    with pytest.raises(BundleError):
        Recognizer.from_bundle(tmp_path / "nothing")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError):
        Recognizer.from_bundle(tmp_path)


def test_recognizer_runs_without_tensorflow():
    code = (
        "import sys\n"
        "from device_agent.recognizer import Recognizer\n"
        "r = Recognizer.from_bundle().recognize('turn on the kitchen light')\n"
        "assert r.intent == 'HassTurnOn', r\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'converter', 'firmware')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_not_recognized_bias_in_the_manifest_moves_the_decision(tmp_path, recognizer):
    """The bundle's decoder.not_recognized_bias reaches the board: a large positive bias refuses a clear
    command, a large negative one accepts a sentence the model refuses."""
    from firmware.bundle_builder import build_bundle

    command, chatter = "turn on the kitchen lights", "tell me a joke"
    assert recognizer.recognize(command).intent == "HassTurnOn"
    assert recognizer.recognize(chatter).intent is None
    answers = {}
    for bias in (20.0, -20.0):
        decoder = {"intent_threshold": 0.0, "not_recognized_bias": bias}
        biased = Recognizer.from_bundle(
            build_bundle(default_bundle_dir(), tmp_path / str(bias), decoder=decoder)
        )
        assert biased.not_recognized_bias == bias
        answers[bias] = [r.intent for r in biased.recognize_many([command, chatter])]
    assert answers[20.0] == [None, None]
    assert answers[-20.0][0] == "HassTurnOn" and answers[-20.0][1] is not None


def test_slot_outside_bias_in_the_manifest_reaches_the_slots(tmp_path, recognizer):
    """The bundle's decoder.slot_outside_bias reaches the board's slot decoding: a negative bias tags a device
    name the model leaves O by a margin, a large positive one tags nothing (inferred slots and span rules stay);
    the intent does not move. (Without the bundle's names: "floor lamp" is one of them.)"""
    from firmware.bundle_builder import build_bundle

    texts = ["dim the floor lamp to 20 percent", "turn on the kitchen lights"]
    slots = {}
    for bias in (0.0, -3.0, 20.0):
        decoder = {**load_bundle(default_bundle_dir()).manifest.decoder, "slot_outside_bias": bias}
        biased = Recognizer.from_bundle(
            build_bundle(default_bundle_dir(), tmp_path / str(bias), decoder=decoder, known_names=False)
        )
        assert biased.slot_outside_bias == bias
        answers = biased.recognize_many(texts)
        assert [a.intent for a in answers] == ["HassLightSet", "HassTurnOn"]
        slots[bias] = [a.slot_values() for a in answers]
    assert slots[0.0][0] == {"floor": "floor", "brightness": 20}
    assert slots[-3.0][0] == {"name": "floor lamp", "brightness": 20}
    assert slots[20.0] == [{}, {"domain": "light"}]  # nothing tagged; the domain is still inferred


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("play chopin", {"search_query": "chopin"}),  # the model tags nothing; the words after "play"
        ("play enrique", {"search_query": "enrique"}),  # tagged a name; no "on the ..." before it
        ("set a timer for half an hour", {"minutes": 30}),  # tagged "an hour" (hours 1)
        ("turn the heating up to 21 and a half degrees", {"temperature": 21.5}),
        ("add eggs and milk to my shopping list", {"item": "eggs and milk"}),
        ("turn the hallway light red", {"area": "hallway", "color": "red"}),
        ("change light colors from blue to white", {"color": "white"}),
        ("set a 10 minute timer for the eggs", {"minutes": 10, "name": "eggs"}),
        ("siri how is the weather outside", {}),  # no weather service called "outside"
        # the second round of rules (docs/TRAINING.md, "Decoder rules, second round")
        ("adjust the temperature in stairwell to twenty-one", {"area": "stairwell", "temperature": 21}),  # name
        ("boiler room set the volume to 2 %", {"area": "boiler room", "volume_level": 2}),  # name "boiler"
        ("greenhouse lamps at 74", {"area": "greenhouse", "brightness": 74}),  # colour "greenhouse"
        ("turn the lights in the greenhouse blue", {"area": "greenhouse", "color": "blue"}),  # "greenhouse blue"
        ("add laundry detergent to the camping gear list", {"item": "laundry detergent", "name": "camping gear"}),
        ("put batteries on the hardware store list", {"item": "batteries", "name": "hardware store"}),
        ("play the album moonlight sonata on receiver",
         {"media_class": "album", "search_query": "moonlight sonata", "name": "receiver"}),
        ("switch off the tv in the lounge", {"area": "lounge", "domain": "media_player"}),  # area "tv" too
        ("set the lamp to 2700 kelvin", {}),  # area "kelvin"
        ("play bbc radio 2 on the kitchen speaker", {"search_query": "bbc radio 2", "area": "kitchen"}),
        ("play lucy in the sky with diamonds", {"search_query": "lucy in the sky with diamonds"}),
        # a name cut after its first words takes them back (docs/TRAINING.md, "Decoder rules, fourth round")
        ("make the himalayan salt lamp brighter", {"name": "himalayan salt lamp"}),  # "salt lamp"
        ("unmute tommy's boombox", {"name": "tommy's boombox"}),  # "boombox"
    ],
)  # fmt: skip
def test_the_shipped_model_through_the_span_rules(recognizer, text, expected):
    """What the decoder's span conventions make of the shipped model's own tags (docs/TRAINING.md, "Decoder
    rules"): each of these came out wrong before its rule."""
    values = recognizer.recognize(text).slot_values()
    values = {k: v for k, v in values.items() if k != "domain" or "domain" in expected}
    assert values == expected


def test_a_slotless_intent_whose_sentence_names_something_is_not_recognized(recognizer):
    """HassNevermind carries no slot: a sentence whose words the tagger puts in one (a room, a device) is about
    something else, however sure the intent head is."""
    near_misses = ["cancel my gym membership", "my landlord never fixes the heating"]
    outputs = recognizer.model_outputs(near_misses)
    assert_the_rules_settle(recognizer, near_misses, ["HassNevermind"] * 2)
    encoding, _intent, slots = outputs[0]
    assert tags_a_slot(encoding, slots, recognizer.schema)  # "gym": a slot never-mind cannot carry
    assert answers(recognizer, near_misses) == [None, None]
    bare = ["never mind", "cancel that please", "forget it", "what time is it", "what's the date today"]
    assert answers(recognizer, bare) == [
        "HassNevermind",
        "HassNevermind",
        "HassNevermind",
        "HassGetCurrentTime",
        "HassGetCurrentDate",
    ]


def test_a_light_intent_about_heating_is_not_recognized(recognizer):
    """ "turn up the heat" is no LightBrighten: a light intent whose sentence speaks of heating or cooling and of
    no light is refused (none of the 1,800 light sentences of the shipped model's training does)."""
    warmth = ["turn up the heat", "make it warmer in the nursery", "turn the heating down a bit"]
    assert_the_rules_settle(recognizer, warmth, ["LightBrighten", "LightBrighten", "LightDim"])
    assert answers(recognizer, warmth) == [None, None, None]
    lights = ["brighten the lamp by the radiator", "dim the kitchen lights", "make the hallway lights warmer"]
    assert [r.intent in LIGHT_INTENTS for r in recognizer.recognize_many(lights)] == [True, True, True]


def test_a_temperature_question_must_speak_of_warmth(recognizer):
    """ "how tall is the eiffel tower" came back HassClimateGetTemperature: a temperature question that says
    nothing of heat, cold, a thermostat or what a device reads is refused; the usual forms stay."""
    near_misses = ["how tall is the eiffel tower", "how far above sea level is denver"]
    assert_the_rules_settle(recognizer, near_misses, ["HassClimateGetTemperature"] * 2)
    assert answers(recognizer, near_misses) == [None, None]
    asked = ["what does the ecobee say", "how hot is it in the kitchen", "is it cold in the basement",
             "what's the temperature in the nursery"]  # fmt: skip
    assert {r.intent for r in recognizer.recognize_many(asked)} == {"HassClimateGetTemperature"}


def test_stopping_is_no_start(recognizer):
    """ "stop vacuuming" came back HassVacuumStart: a vacuum or coffee start whose sentence says stop, pause,
    cancel … is refused (the schema has no stop intent for either; no training sentence of the two says so)."""
    assert recognizer.recognize("stop vacuuming").intent is None
    assert recognizer.recognize("stop making coffee").intent is None
    assert answers(recognizer, ["start the vacuum", "make me an espresso"]) == [
        "HassVacuumStart",
        "MakeCoffee",
    ]


def test_words_settle_confusions(recognizer):
    """ "switch on the big chandelier" came back LightBrighten, "time left?" HassGetCurrentTime, "will you dim
    all the lights" LightBrighten; the words settle them (no training sentence of the intents is moved), and
    brightening, asking the time or "it's too dim in here" stays."""
    moved = ["hey switch on the big chandelier in the dining room", "time left?"]
    assert_the_rules_settle(recognizer, moved, ["LightBrighten", "HassGetCurrentTime"])
    assert answers(recognizer, moved) == ["HassTurnOn", "HassTimerStatus"]
    kept = ["turn on the lights a bit brighter", "what time is it"]
    kept_said = ["LightBrighten", "HassGetCurrentTime"]
    assert as_if_the_model_said(recognizer, kept, kept_said) == kept_said
    verbs = ["will you dim all the lights", "can you bright the lights please", "shut up"]
    assert_the_rules_settle(recognizer, verbs, ["LightBrighten", "LightDim", "HassTurnOff"])
    assert answers(recognizer, verbs) == [
        "LightDim",
        "LightBrighten",
        "HassMediaPlayerMute",
    ]
    steps = ["it's way too dim in here", "the lights are too bright", "shut up the awning"]
    assert answers(recognizer, steps) == [
        "LightBrighten",
        "LightDim",
        "HassTurnOff",
    ]
    only_lights = Recognizer.from_loaded_bundle(load_bundle(default_bundle_dir()))
    first = recognizer.model_outputs(moved[:1])
    answer = only_lights.decode_outputs(moved[:1], first, intent_filter=["LightBrighten"])[0]
    assert answer.intent == "LightBrighten"  # an intent filter keeps the model's answer


def test_a_list_without_a_name_is_the_shopping_list(recognizer):
    """HassListAddItem needs the list's name (every one of its training sentences has one); answered without
    one, the request is for the shopping list. A named list stays a HassListAddItem."""
    texts = ["add kitchen roll to my list", "add buy stamps to my errands list"]
    assert_the_rules_settle(recognizer, texts, ["HassListAddItem"] * 2)
    searches = recognizer.recognize_many(texts)
    assert [(a.intent, a.slot_values()) for a in searches] == [
        ("HassShoppingListAddItem", {"item": "kitchen roll"}),
        ("HassListAddItem", {"item": "buy stamps", "name": "errands"}),
    ]


def test_a_volume_step_to_a_level_is_a_level(recognizer):
    """ "the speaker volume should increase to forty" came back HassSetVolumeRelative: a step whose level is said
    with "to"/"at" sets that level (the schema's convention, as "dim the lights to 30 %" is HassLightSet)."""
    texts = ["the speaker volume should increase to forty", "turn the volume up a bit"]
    assert_the_rules_settle(recognizer, texts, ["HassSetVolumeRelative", *[None] * (len(texts) - 1)])
    searches = recognizer.recognize_many(texts)
    assert [(a.intent, a.slot_values()) for a in searches] == [
        ("HassSetVolume", {"volume_level": 40}),
        ("HassSetVolumeRelative", {"volume_step": "up"}),
    ]


def test_a_volume_set_without_a_level_but_with_a_direction_is_a_step(recognizer):
    """ "set the volume to low" came back HassSetVolume with no level (every training sentence of it has one),
    "volume down sonos move 60 percent" with a level but no "to": with a direction the words say, both are steps;
    a level said with "to" keeps it absolute."""
    stepped = ["set the volume to low", "volume down sonos move 60 percent"]
    assert_the_rules_settle(recognizer, stepped, ["HassSetVolume"] * 2)
    answers = recognizer.recognize_many(
        [*stepped, "set the volume to 40 percent", "turn the volume down to 20"]
    )
    assert [(a.intent, a.slot_values()) for a in answers] == [
        ("HassSetVolumeRelative", {"volume_step": "down"}),
        ("HassSetVolumeRelative", {"name": "sonos move", "volume_step": "down"}),
        ("HassSetVolume", {"volume_level": 40}),
        ("HassSetVolume", {"volume_level": 20}),
    ]


def test_ticking_an_item_off_a_list_is_not_recognized(recognizer):
    """Home Assistant's list-completion requests are not in the schema; the model read two as state questions.
    A state question that says "check … off" stays one."""
    ticks = ["check off wrapping paper on my work tasks", "check call the plumber off in my work tasks"]
    assert_the_rules_settle(recognizer, ticks, ["HassGetState"] * 2)
    assert answers(recognizer, [*ticks, "mark the laundry as done"]) == [None] * 3
    questions = ["check if the tv is off", "check the lights are off in the kitchen"]
    assert answers(recognizer, questions) == ["HassGetState"] * 2


def test_a_state_question_about_nothing_is_not_recognized(tmp_path, recognizer):
    """The schema's requires_one_of for HassGetState reaches the board: "is it on?" names nothing to ask
    about and is refused; with the requirement taken out of the bundle's schema it was a HassGetState."""
    from firmware.bundle_builder import build_bundle

    texts = ["is it on", "what is the status", "is the kettle on"]
    assert answers(recognizer, texts) == [None, None, "HassGetState"]
    schema = json.loads((default_bundle_dir() / "schema.json").read_text())
    for intent in schema["intents"]:
        intent.pop("requires_one_of", None)
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    loose = Recognizer.from_bundle(
        build_bundle(default_bundle_dir(), tmp_path / "b", schema=tmp_path / "schema.json")
    )
    assert [r.intent for r in loose.recognize_many(texts)] == ["HassGetState"] * 3


def test_games_ratings_and_repeats_are_not_play_requests(recognizer):
    """Games, rating a song and asking to hear the last answer again came back as media intents (HWU64's
    play_game, music_likeness, general_repeat are out of scope); the words refuse them, and play requests that
    say game room, rating or "again" louder stay."""
    texts = ["i want to play poker", "play some games", "give this song five stars", "say that one more time"]
    assert_the_rules_settle(recognizer, texts, [*["HassMediaSearchAndPlay"] * 3, "HassGetCurrentTime"])
    assert answers(recognizer, texts) == [None] * 4
    kept = ["play jazz in the game room", "let's play some music", "play my five star songs",
            "can you say it again louder"]  # fmt: skip
    assert answers(recognizer, kept) == [
        "HassMediaSearchAndPlay",
        "HassMediaSearchAndPlay",
        "HassMediaSearchAndPlay",
        "HassSetVolumeRelative",
    ]


def test_clock_questions_about_elsewhere_and_questions_of_fact_are_not_recognized(recognizer):
    """The clock intents answer the board's own time and date, and a state question asks about a device:
    another place's time, a birth date and "what's a …" are refused; the board's clock and a device's state
    are still answered."""
    texts = ["what time is it in paris now", "what's my mum's birth date", "what's a dehumidifier"]
    assert_the_rules_settle(recognizer, texts, ["HassGetCurrentTime", "HassGetCurrentDate", "HassGetState"])
    assert answers(recognizer, texts) == [None] * 3
    kept = ["what time is it", "what's the date today", "is the front door locked", "is the garage door open"]
    assert answers(recognizer, kept) == [
        "HassGetCurrentTime",
        "HassGetCurrentDate",
        "HassGetState",
        "HassGetState",
    ]


def test_a_track_step_that_names_a_title_is_a_search(recognizer):
    """ "play stairway to heaven next" came back HassMediaNext: a track step that says play and names a title
    right after it is a search for the title; "play the next song" and "play the last track again" stay steps."""
    texts = ["play yellow submarine next"]  # "play stairway to heaven next": test_slips_of_the_shipped_model
    assert_the_rules_settle(recognizer, texts, ["HassMediaNext"])
    searches = recognizer.recognize_many(texts)
    assert [(a.intent, a.slot_values()) for a in searches] == [
        ("HassMediaSearchAndPlay", {"search_query": "yellow submarine"}),
    ]
    steps = ["play the next song", "play the last track again", "play the previous track"]
    assert answers(recognizer, steps) == [
        "HassMediaNext",
        "HassMediaPrevious",
        "HassMediaPrevious",
    ]


def test_asking_for_advice_is_no_command(recognizer):
    """ "should we turn off the lights when we leave" came back a state question: advice is asked of no device
    (every "should i/we" sentence of the training pool is a weather question or out of scope); what to wear or
    bring stays the weather's."""
    texts = ["should we turn off the lights when we leave", "should i bring an umbrella today"]
    assert_the_rules_settle(recognizer, texts, ["HassGetState", *[None] * (len(texts) - 1)])
    assert answers(recognizer, texts) == [None, "HassGetWeather"]


def test_a_coffee_request_speaks_of_coffee(recognizer):
    """ "we adopted a bulldog" came back MakeCoffee: a coffee request that says no coffee, kind of coffee,
    machine or kettle and names none is refused (every MakeCoffee training sentence says or names one)."""
    texts = ["we adopted a bulldog", "make me a red eye", "brew me a cup", "make me a latte"]
    assert_the_rules_settle(recognizer, texts, ["MakeCoffee", *[None] * (len(texts) - 1)])
    assert answers(recognizer, texts) == [
        None,
        "MakeCoffee",
        "MakeCoffee",
        "MakeCoffee",
    ]


def test_taking_things_off_a_list_is_no_addition(recognizer):
    """ "cancel shopping list" came back HassShoppingListAddItem: a list addition that says cancel, delete,
    remove, … outside its item, or asks what is on the list, is refused (the schema has no intent for either);
    "add clear tape" keeps its item."""
    texts = ["cancel shopping list", "add clear tape to the shopping list"]
    assert_the_rules_settle(recognizer, texts, ["HassShoppingListAddItem", *[None] * (len(texts) - 1)])
    searches = recognizer.recognize_many(texts)
    assert [(a.intent, a.slot_values()) for a in searches] == [
        (None, {}),
        ("HassShoppingListAddItem", {"item": "clear tape"}),
    ]


def test_when_who_why_questions_are_no_state_questions(recognizer):
    """ "when did the garage door open" came back HassGetState: Home Assistant keeps no history to answer it;
    a when/who/why/where question is refused unless it asks a timer or the weather."""
    texts = ["when did the garage door open", "when does the pizza timer go off", "when will it stop raining"]
    assert_the_rules_settle(recognizer, texts, ["HassGetState", *[None] * (len(texts) - 1)])
    assert answers(recognizer, texts) == [None, "HassTimerStatus", "HassGetWeather"]


@pytest.mark.parametrize(
    ("intent", "text", "is_refused"),
    [
        # definitions, spellings, translations and facts are no commands, whatever the model says
        ("HassGetWeather", "what an umbrella means", True),
        ("HassGetCurrentDate", "what is the definition of inchoate", True),
        ("HassGetWeather", "please give height of lindsey lohan", True),
        ("HassGetWeather", "what's the weather like tomorrow", False),
        # games said as "start play" / "load up"
        ("HassMediaSearchAndPlay", "start play road rash", True),
        ("HassMediaSearchAndPlay", "load up my workout playlist", False),
        # a player's shuffle or repeat setting is no intent of the schema
        ("HassMediaSearchAndPlay", "turn on shuffle on the kitchen speaker", True),
        ("HassMediaPause", "stop repeating this song", True),
        ("HassMediaSearchAndPlay", "play my road trip playlist without shuffle", False),
        # liking music is no volume step either
        ("HassSetVolumeRelative", "i like soft jazz music", True),
        ("HassSetVolumeRelative", "the music is too soft", False),
        # buying is the shopping list's
        ("HassVacuumStart", "buy a robot vacuum on amazon", True),
        ("HassShoppingListAddItem", "remember to buy milk", False),
    ],
)
def test_words_refuse_what_is_no_command(recognizer, intent, text, is_refused):
    from device_agent.refusal_rules import refused

    required = recognizer.schema.intent_requires_one_of(intent)
    slots = [] if not required else [SlotValue(sorted(required)[0], "x", "x", "text", 0, 0, 1.0)]
    assert refused(intent, text, slots, recognizer.schema) is is_refused


def test_asking_for_silence_is_a_mute(recognizer):
    """ "please stop talking" came back HassMediaPause, "do not respond" was refused: asking the speaker for
    silence is HassMediaPlayerMute (the training pool says these words only in mute sentences)."""
    texts = ["please stop talking", "do not respond", "no talking please"]
    assert_the_rules_settle(recognizer, texts, ["HassMediaPause", "NotRecognized", "HassSetVolumeRelative"])
    assert answers(recognizer, texts) == ["HassMediaPlayerMute"] * 3
    only_pause = recognizer.recognize("please stop talking", intent_filter=["HassMediaPause"])
    assert only_pause.intent == "HassMediaPause"  # a filter without mute keeps the model's answer


def test_a_volume_step_without_a_direction_that_asks_to_hear_a_title_is_a_search():
    """ "i need to hear notorious thugs by bone thugs now" came back HassSetVolumeRelative with no direction:
    asking to hear what the search decoding names is a search; a sentence about volume or sound stays a step."""
    from device_agent.intent_rules import settled_by_slots

    def slots_for(intent):
        if intent == "HassMediaSearchAndPlay":
            return [SlotValue("search_query", "notorious thugs", "notorious thugs", "text", 15, 30, 0.9)]
        return []

    def anything(_intent):
        return True

    text = "i need to hear notorious thugs by bone thugs now"
    intent, slots = settled_by_slots("HassSetVolumeRelative", text, [], slots_for, anything)
    assert intent == "HassMediaSearchAndPlay" and slots[0].value == "notorious thugs"
    kept = "i need to hear the volume of the current music"
    assert (
        settled_by_slots("HassSetVolumeRelative", kept, [], slots_for, anything)[0] == "HassSetVolumeRelative"
    )
    step = [SlotValue("volume_step", "louder", "up", "enum", 0, 6, 1.0)]
    assert (
        settled_by_slots("HassSetVolumeRelative", text, step, slots_for, anything)[0]
        == "HassSetVolumeRelative"
    )


def test_make_sure_asks_for_the_state(recognizer):
    """ "make sure the front door is locked" came back a state question: it asks for the state, and the device
    is the one the question named (Home Assistant's own templates say "make sure all the lamps are off")."""
    texts = [
        "make sure the front door is locked",
        "make sure the porch light is on",
        "is the front door locked",
    ]
    assert_the_rules_settle(recognizer, texts, ["HassGetState"] * 3)
    searches = recognizer.recognize_many(texts)
    assert [(a.intent, a.slot_values()) for a in searches] == [
        ("HassTurnOn", {"name": "front door", "domain": "lock"}),
        ("HassTurnOn", {"area": "porch", "domain": "light"}),
        ("HassGetState", {"name": "front door", "state": "locked", "domain": "lock"}),
    ]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("please do not respond", "HassMediaPlayerMute"),
        ("mute yourself when i am in a meeting", "HassMediaPlayerMute"),
        ("i am unable to hear you can you speak little loud", "HassSetVolumeRelative"),
        ("i can't hear the tv", "HassSetVolumeRelative"),
        ("put my phone on silent", None),  # a phone's silent mode is no speaker's
        ("tell me a joke", None),
    ],
)
def test_words_that_settle_a_refused_sentence(text, intent):
    from device_agent.intent_rules import rescued

    assert rescued(text) == intent


@pytest.mark.parametrize(
    ("intent", "text", "moved"),
    [
        # a sentence that opens with switch/turn and ends with on/off switches
        ("HassLightSet", "switch lamp around my greenhouse on", "HassTurnOn"),
        ("HassLightSet", "turn the greenhouse lights off", "HassTurnOff"),
        ("HassLightSet", "turn the lights green", "HassLightSet"),  # no on/off at the end
        ("HassLightSet", "switch the lamp to blue and leave it on", "HassLightSet"),  # a colour is set
    ],
)
def test_switching_is_no_light_setting(intent, text, moved):
    """ "switch lamp around my greenhouse on" came back HassLightSet (the model read "green"): a light setting
    with no level or colour said as "switch/turn … on|off" switches."""
    from device_agent.intent_rules import settled_by_slots

    slots = [SlotValue("color", "blue", "blue", "text", 20, 24, 1.0)] if "blue" in text else []
    assert settled_by_slots(intent, text, slots, lambda _wanted: [], lambda _intent: True)[0] == moved


def test_warmer_lights_are_a_colour_not_a_step(recognizer):
    """ "make the bedroom lights warmer" came back LightBrighten: warm and cool set a light's colour (no
    brightening or dimming training sentence says them); about heating alone, a light intent is still refused."""
    texts = ["make the bedroom lights warmer", "make it warmer in the nursery", "brighten the lamp"]
    assert_the_rules_settle(recognizer, texts, ["LightBrighten", *[None] * (len(texts) - 1)])
    assert answers(recognizer, texts) == ["HassLightSet", None, "LightBrighten"]


def test_unmuting_ending_a_timer_and_turning_a_light_down(recognizer):
    """ "take the office speaker off mute" came back a mute, "get rid of the ten minute timer" a timer question,
    "uh scrap the kitchen timer" a timer start, "turn down the chandelier" a brightening: the words settle them;
    muting, asking about a timer and brightening stay."""
    moved = [
        "take the office speaker off mute",
        "get rid of the ten minute timer",
        "uh scrap the kitchen timer",
        "turn down the chandelier",
    ]
    assert_the_rules_settle(
        recognizer, moved, ["HassMediaPlayerMute", "HassTimerStatus", "HassStartTimer", "LightBrighten"]
    )
    assert answers(recognizer, moved) == [
        "HassMediaPlayerUnmute",
        "HassCancelTimer",
        "HassCancelTimer",
        "LightDim",
    ]
    kept = ["mute the office speaker", "when does the pizza timer end", "turn up the chandelier"]
    assert answers(recognizer, kept) == [
        "HassMediaPlayerMute",
        "HassTimerStatus",
        "LightBrighten",
    ]


def test_translations_and_the_date_of_something_are_not_recognized(recognizer):
    """ "how do you say turn off the lights in french" came back a state question and "what's the date of easter
    next year" today's date; both are refused."""
    texts = ["how do you say turn off the lights in french", "what's the date of easter next year"]
    assert_the_rules_settle(recognizer, texts, ["HassGetState", "HassGetCurrentDate"])
    assert answers(recognizer, texts) == [None, None]


def test_directions_sun_times_and_sums_are_not_recognized(recognizer):
    """Driving directions came back track steps and lights, the time of sunset the weather, "add 15 and 27" a
    shopping list addition; all are refused, and a device on the left, the weather after sunset and a list
    addition with a number stay."""
    texts = ["turn left at the next roundabout", "what time is sunset today", "add 15 and 27"]
    assert_the_rules_settle(
        recognizer,
        texts,
        [
            "HassMediaNext",
            "HassGetWeather",
            None,  # "add 15 and 27": the shipped model's tags no longer make it a list addition
        ],
    )
    assert answers(recognizer, texts) == [None] * 3
    kept = ["turn left aircon to 20", "add 2 lemons to the shopping list"]  # the weather after sunset: below
    assert answers(recognizer, kept) == ["HassClimateSetTemperature", "HassShoppingListAddItem"]
    weather = ["will there be fog after sunset"]
    assert as_if_the_model_said(recognizer, weather, ["HassGetWeather"]) == ["HassGetWeather"]


def test_statements_errands_figures_of_speech_and_other_devices_are_not_recognized(recognizer):
    """What someone did or always does, errands, figures of speech, headphones and "cancel my uber" came back
    commands; all are refused, and the commands they resemble stay."""
    texts = [
        "I closed the garage door on my way out",
        "i just switched off the tv before i left",
        "my flatmate never turns the lights off",
        "record the rugby on sky",
        "she really lights up the room",
        "I'm feeling a bit under the weather",
        "turn the volume up on my headphones",
        "cancel my uber",
    ]
    assert_the_rules_settle(
        recognizer,
        texts,
        [
            "HassTurnOff",
            "HassTurnOff",
            "HassMediaPlayerMute",
            "HassTurnOn",
            "LightBrighten",
            "HassGetWeather",
            "HassSetVolumeRelative",
            "HassNevermind",
        ],
    )
    assert answers(recognizer, texts) == [None] * len(texts)
    kept = [
        "close the garage door",
        "turn the lights off",
        "turn the volume up on the kitchen speaker",
        "cancel my request",
        "what's the weather like",
    ]
    assert answers(recognizer, kept) == [
        "HassTurnOff",
        "HassTurnOff",
        "HassSetVolumeRelative",
        "HassNevermind",
        "HassGetWeather",
    ]


def test_a_refused_command_with_its_reason_after_a_comma_is_its_first_clause(recognizer):
    """ "close the water main, there's a leak" was refused for its reason; its first clause is the command, with
    slot ranges in the whole sentence. A refusal stays one when the first clause is short, a never-mind or no
    command."""
    text = "open the curtains in the nursery pls, baby's waking up"
    assert_the_rules_settle(
        recognizer, [text, "close the water main, there's a leak"], ["NotRecognized", "NotRecognized"]
    )
    answer = recognizer.recognize(text)
    assert answer.intent == "HassTurnOn"
    area = next(s for s in answer.slots if s.slot == "area")
    assert (area.value, text[area.start : area.end]) == ("nursery", "nursery")
    assert answer.to_hermes()["input"] == text
    assert recognizer.recognize("close the water main, there's a leak").intent == "HassTurnOff"
    kept = ["uh no, i think you've done this incorrectly", "my heater broke again, can you believe it"]
    assert answers(recognizer, kept) == [None, None]


def test_the_song_before_skipping_and_running_a_routine(recognizer):
    """ "back to the song before plz" came back an unpause, "play the one before this again" was refused,
    "Next one please, in the kitchen" switched something on, "run the goodnight routine" off: the words settle
    them; unpausing, switching on and off stay."""
    texts = [
        "back to the song before plz",
        "play the one before this again",
        "Next one please, in the kitchen",
        "run the goodnight routine",
    ]
    assert_the_rules_settle(
        recognizer, texts, ["HassMediaUnpause", "NotRecognized", "HassTurnOn", "HassTurnOff"]
    )
    assert answers(recognizer, texts) == [
        "HassMediaPrevious",
        "HassMediaPrevious",
        "HassMediaNext",
        "HassTurnOn",
    ]
    kept = ["resume the music", "turn on the kitchen light", "turn off the goodnight lamp"]
    assert answers(recognizer, kept) == [
        "HassMediaUnpause",
        "HassTurnOn",
        "HassTurnOff",
    ]


def test_a_command_said_the_other_way_round_planned_or_reported_is_not_recognized(recognizer):
    """ "don't turn off the lights" asks for nothing, nor does a plan ("i'm going to …"), a report ("mum said to
    …") or another home named by its owner alone ("at my mum's"); whatever command the model takes each for, the
    rules refuse it. "don't forget to …" still asks, and a room named by its owner stays a room."""
    texts = [
        "don't turn off the lights",
        "please don't open the garage door",
        "let's not turn on the heating yet",
        "there's no need to lock the door",
        "you don't need to turn on the fan",
        "i'm going to turn off the lights",
        "mum said to turn off the lights",
        "turn on the lights at my mum's",
    ]
    assert_rules_refuse_what_the_model_accepts(recognizer, texts)
    kept = ["don't forget to turn off the lights", "turn on the lamp at emma's room"]
    assert as_if_the_model_said(recognizer, kept, ["HassTurnOff", "HassTurnOn"]) == [
        "HassTurnOff",
        "HassTurnOn",
    ]


def test_a_gadgets_lock_torch_app_or_microphone_and_the_weather_since_monday_are_not_recognized(recognizer):
    """Out-of-scope training sentences v1.5.0's model accepted: a phone's or a game's lock, a torch, an app or a
    presentation, a call's microphone, the weather since some time, a screen's sound, what a thing does, the
    home's commands in another language; the rules refuse them whatever command the model takes them for, and
    the home's own locks, lights and speakers stay commands."""
    texts = [
        "lock my ipad screen",
        "lock the next level",
        "switch on my torch",
        "start the presentation",
        "open a spreadsheet",
        "mute the mic in slack",
        "mute the iphone",
        "it's been windy since monday",
        "turn the screen volume up",
        "would you switch off my tablet",  # the openings every word route reads
        "skip this video on my watch",
        "what does a deebot do",
        "öffne das garagentor zu bitte",
        "sluk lampen",
    ]
    assert_rules_refuse_what_the_model_accepts(recognizer, texts)
    kept = ["lock the front door", "switch on the porch light", "mute the living room speaker",
            "turn up the volume on the tv"]  # fmt: skip
    said = ["HassTurnOn", "HassTurnOn", "HassMediaPlayerMute", "HassSetVolumeRelative"]
    assert as_if_the_model_said(recognizer, kept, said) == said


def test_another_home_the_weather_talked_about_and_personal_gadgets_are_not_recognized(recognizer):
    """Out-of-scope training sentences the model accepted: another home, the weather talked about, a temperature
    of no place here, a phone's ringer and a tablet's volume; all are refused, the home's own stay."""
    texts = [
        "is the heating on at mum's house please",
        "the weather is lovely this morning",
        "what is the temperature of the sun",
        "mute my ringer",
        "decrease my tablet volume",
    ]
    assert_the_rules_settle(
        recognizer,
        texts,
        ["HassGetState", "HassGetWeather", "HassGetWeather", "HassMediaPlayerMute", "HassSetVolumeRelative"],
    )
    assert answers(recognizer, texts) == [None] * len(texts)
    kept = [
        "is the heater on in grandma's room",
        "what's home temperature",  # a contraction, not an owner: no other home
        "what's the weather like this morning",
        "what is the temperature in the living room",
        "mute the tv",
        "turn off the computer",
    ]
    assert answers(recognizer, kept) == [
        "HassGetState",
        "HassClimateGetTemperature",
        "HassGetWeather",
        "HassClimateGetTemperature",
        "HassMediaPlayerMute",
        "HassTurnOff",
    ]


def test_trouble_guesses_likings_greetings_units_fan_modes_and_timer_changes_are_not_recognized(recognizer):
    """More of the training pool's own out-of-scope sentences the model accepted: all are refused, and the
    commands beside them stay."""
    texts = [
        "there's a spark from the socket",
        "i guess the lights are closed",
        "i love the rope light",
        "hi there",
        "how many minutes are in a leap year",
        "put tado fan on focused",
        "remove 39 second off 83 hours timer",
    ]
    assert_rules_refuse_what_the_model_accepts(recognizer, texts)
    kept = [
        "turn off the socket",
        "are the lights closed",
        "i don't like this song skip it",
        "how many minutes are left on the timer",
        "set the fan to 50 percent",
        "remove the pasta timer",
    ]
    assert answers(recognizer, kept) == [
        "HassTurnOff",
        "HassGetState",
        "HassMediaNext",
        "HassTimerStatus",
        "HassFanSetSpeed",
        "HassCancelTimer",
    ]


def test_how_to_prices_appliances_doors_to_answer_calls_and_holidays_are_not_recognized(recognizer):
    """Yet more of the training pool's own out-of-scope sentences the model accepted; the commands beside them
    stay."""
    texts = [
        "how do i clean the west aircon",
        "read me the reviews for the quiulsha coffee machine",
        "set the oven to 23 degrees",
        "answer the door",
        "mute myself on zoom call",
        "which date will be halloween",
    ]
    assert_rules_refuse_what_the_model_accepts(recognizer, texts)
    kept = [
        "set the thermostat to 23 degrees",
        "what's the date today",
        "how much time is left on the timer",
        "open the front door",
    ]
    assert answers(recognizer, kept) == [
        "HassClimateSetTemperature",
        "HassGetCurrentDate",
        "HassTimerStatus",
        "HassTurnOn",
    ]


def test_a_temperature_out_there_is_the_weather(recognizer):
    """ "how hot is it out there" came back a thermostat question; the words make it the weather, and a room's
    temperature stays the thermostat's."""
    texts = ["how hot is it out there", "what's the temperature out there at the moment"]
    assert_the_rules_settle(recognizer, texts, ["HassClimateGetTemperature"] * 2)
    assert answers(recognizer, texts) == ["HassGetWeather"] * 2
    kept = ["what's the temperature in the kitchen", "how hot is it in the kitchen"]
    assert answers(recognizer, kept) == ["HassClimateGetTemperature"] * 2


def test_neighbours_things_remarks_settings_chores_messages_and_event_times_are_not_recognized(recognizer):
    """The training pool's out-of-scope sentences the model still accepted (session of 2026-11-30): someone
    else's devices, a remark on the coffee, a phone's settings, a computer's restart, chores for people, a
    vehicle, cooking times, messages, event times, cookers turned down; the commands beside them stay."""
    texts = [
        "switch off my neighbours' tv",
        "my coffee is too hot",
        "turn on captions",
        "restart the computer",
        "put out the recycling",
        "pop the boat sunroof",
        "how many minutes should i bake broccoli",
        "play my texts",
        "what time does thor start",
        "turn down the stove a bit",
        "what's inside the light bulb",
        "play a quiz",
    ]
    assert_rules_refuse_what_the_model_accepts(recognizer, texts)
    kept = [
        "dim the oven light",
        "turn down the music a bit",
        "what time do you have",
        "restart the movie",
        "set a timer for ten minutes to boil the eggs",
        "play some jazz",
    ]
    assert answers(recognizer, kept) == [
        "LightDim",
        "HassSetVolumeRelative",
        "HassGetCurrentTime",
        "HassMediaUnpause",
        "HassStartTimer",
        "HassMediaSearchAndPlay",
    ]


def test_faults_habits_plans_stories_and_advice_are_not_recognized(recognizer):
    """Near misses of the annotators' sets H and I (the training pool's sentences of these shapes are all out of
    scope): a fault described, a habit, a plan for when something happens, a story, advice asked, a purchase
    planned. "if you could …" still asks."""
    texts = [
        "the back door sticks when it rains",
        "i usually grab a latte on the way to work",
        "if it rains tomorrow we'll take the kids to the cinema",
        "last winter the pipes froze in the garage",
        "what temperature should a baby's room be",
        "we should get a smart plug for the kettle",
    ]
    assert_rules_refuse_what_the_model_accepts(recognizer, texts)
    assert answers(recognizer, ["if you could turn on the lights"]) == ["HassTurnOn"]


def test_a_timer_set_or_cancelled_in_so_many_words_is_rescued(recognizer):
    """The model refused these; every training sentence of the same shape sets or cancels a timer."""
    texts = ["set a 3 minute egg timer", "get rid of the oven timer"]
    assert_the_rules_settle(recognizer, texts, ["NotRecognized"] * 2)
    got = recognizer.recognize_many(texts)
    assert [(r.intent, r.slot_values().get("name")) for r in got] == [
        ("HassStartTimer", "egg"),
        ("HassCancelTimer", "oven"),
    ]


def test_a_lamp_named_by_its_colour_is_switched_not_coloured(recognizer):
    """ "blue" in "the blue sofa lamp" is the lamp's name: a light setting that sets no colour and opens with
    "switch on" switches; a colour that is set stays a setting."""
    texts = ["can you switch on the blue sofa lamp", "switch on the green light in the playroom"]
    assert_the_rules_settle(recognizer, texts[:1], ["HassLightSet"])
    got = recognizer.recognize(texts[0])
    assert (got.intent, got.slot_values().get("name")) == ("HassTurnOn", "blue sofa lamp")
    assert as_if_the_model_said(recognizer, texts[1:], ["HassLightSet"]) == ["HassLightSet"]


def test_routines_valves_and_taking_it_back_in_so_many_words_are_rescued(recognizer):
    """Refused by the model, settled by their words (every training sentence that says so is that intent); a
    valve opened to a level stays a position, an album called Nevermind stays out of scope."""
    texts = [
        "run the good morning routine",
        "open the water main",
        "no, ignore me, sorry",
        "scratch that, doesn't matter",
    ]
    assert_the_rules_settle(recognizer, texts, ["NotRecognized"] * 4)
    got = recognizer.recognize_many(texts)
    assert [r.intent for r in got] == ["HassTurnOn", "HassTurnOn", "HassNevermind", "HassNevermind"]
    assert got[0].slot_values() == {"name": "good morning", "domain": "script"}
    assert answers(recognizer, ["open the garden valve to 40%", "which band sings nevermind"]) == [
        "HassSetPosition",
        None,
    ]


def test_a_kind_of_media_beside_the_title_is_its_media_class(recognizer):
    """SCHEMA.md: "play the song let it be" → media_class track; the model tagged the title only."""
    got = recognizer.recognize_many(
        ["play the song let it be", "play the barney theme song", "play some jazz"]
    )
    assert [r.slot_values() for r in got] == [
        {"media_class": "track", "search_query": "let it be"},
        {"media_class": "track", "search_query": "barney theme"},
        {"search_query": "jazz"},
    ]


def test_a_personal_care_appliance_keeps_its_device_noun(recognizer):
    """ "hair" alone names nothing: the name keeps "straightener" as "desk lamp" keeps "lamp"."""
    got = recognizer.recognize_many(
        ["did I leave the hair straightener on", "did I leave the curling tongs on"]
    )
    assert [(r.intent, r.slot_values().get("name")) for r in got] == [
        ("HassGetState", "hair straightener"),
        ("HassGetState", "curling tongs"),
    ]


def test_a_question_of_rain_sun_or_what_to_wear_is_the_weather(recognizer):
    """The model refused these weather questions (every training question of the shape is the weather's); a
    request that only mentions a forecast stays out of scope."""
    texts = ["should i dress in layers today", "will i be able to get away with shorts today"]
    assert_the_rules_settle(recognizer, texts, ["NotRecognized"] * 2)
    assert answers(recognizer, texts) == ["HassGetWeather"] * 2
    assert answers(
        recognizer, ["can the latest news be pulled up on the latest weather forecast for the week"]
    ) == [None]
    # fog, storms, what to wear on the feet, a good day for it, the day's low: the weather's too (v1.5.0's model
    # refused these training-pool questions); "humid" is a sensor's as well and stays with the model
    more = ["will there be fog after sunset", "is it muggy today", "will i need wellies", "what's the low tomorrow",
            "will it be a good day for a walk"]  # fmt: skip
    assert as_if_the_model_said(recognizer, more, ["NotRecognized"] * 5) == ["HassGetWeather"] * 5
    assert answers(recognizer, more[:1]) == ["HassGetWeather"]  # a slip of v1.5.0's model, mended by the rule
    assert as_if_the_model_said(recognizer, ["is it humid in the bathroom"], ["NotRecognized"]) == [None]


def test_off_typed_short_still_switches_off(recognizer):
    """ "turn of …" is "turn off" typed short: every training sentence that opens so is HassTurnOff."""
    texts = ["turn of the lights in the livng room", "turn of the himalayan salt lamp"]
    assert_the_rules_settle(recognizer, texts, ["LightDim", "NotRecognized"])
    assert answers(recognizer, texts) == ["HassTurnOff"] * 2


def test_alarms_apps_lost_things_and_more_figures_of_speech_are_not_recognized(recognizer):
    """An alarm, an app's business, something lost or clogged, an idiom: no intent of the schema."""
    texts = [
        "alert me in three hours",
        "pause the download on my xbox",
        "skip the ads on youtube",
        "the aircon remote is missing",
        "my roomba is full of dog hair",
        "whens my next dentist appointment",
    ]
    assert_rules_refuse_what_the_model_accepts(recognizer, texts)
    assert answers(recognizer, ["turn the other cheek, mate"]) == [None]  # its first clause was LightBrighten
    assert answers(recognizer, ["alert me when six minutes have passed", "pause the xbox"]) == [
        "HassStartTimer",
        "HassMediaPause",
    ]


def test_a_sentence_that_opens_with_switch_off_is_no_state_question(recognizer):
    texts = [
        "switch off all the lights please i'm going to bed",
        "please turn off any lights that are still on",
    ]
    assert_the_rules_settle(recognizer, texts, ["HassGetState"] * 2)
    assert answers(recognizer, texts) == ["HassTurnOff"] * 2
    assert answers(recognizer, ["is the porch light switched off"]) == ["HassGetState"]


def test_a_name_keeps_its_model_word(recognizer):
    """ "sonos" + "one": a product's model word after its brand is part of the name (span_rules, tested alone
    in test_slot_decoding)."""
    got = recognizer.recognize_many(["resume the sonos one", "lower the spot one by 27"])
    assert [r.slot_values().get("name") for r in got] == ["sonos one", "spot one"]


def test_a_refused_play_request_that_names_its_artist_is_a_play_request(recognizer):
    texts = ["hey play crazy by britney spears", "can you play falling all night by the pretty ramblers"]
    assert_the_rules_settle(recognizer, texts, ["NotRecognized"] * 2)
    assert answers(recognizer, texts) == ["HassMediaSearchAndPlay"] * 2


def test_weather_talk_bus_times_horoscopes_traffic_candles_and_faults_are_not_recognized(recognizer):
    """The rest of the session's refusals, each on a sentence the model took for a command: the weather talked
    about, a bus on time, a horoscope, traffic, the speed of light, candles, a dog let in, a fault."""
    assert_rules_refuse_what_the_model_accepts(
        recognizer,
        [
            "the weather is gorgeous today",
            "what is my horoscope today",
            "are there any roadblocks",
            "what is the speed of light",
            "blow out the candles",
            "let in the dog",
            "the window sticks",
        ],
    )
    bus = ["are the bus on time today"]  # v1.4.3 took it for a clock question
    assert as_if_the_model_said(recognizer, bus, ["HassGetCurrentTime"]) == answers(recognizer, bus) == [None]


def test_a_track_step_that_opens_with_pause_is_a_pause(recognizer):
    """ "pause the sonos one in the walk-in closet" came back HassMediaNext from v1.5.0's model: a track step or a
    resume that opens with "pause" pauses; "skip this song" stays a step."""
    texts = ["pause the sonos one in the walk-in closet", "please pause the kitchen speaker", "pause the tv"]
    said = ["HassMediaNext", "HassMediaPrevious", "HassMediaUnpause"]
    assert as_if_the_model_said(recognizer, texts, said) == ["HassMediaPause"] * 3
    assert answers(recognizer, texts) == ["HassMediaPause"] * 3
    assert as_if_the_model_said(recognizer, ["skip this song"], ["HassMediaNext"]) == ["HassMediaNext"]
    # every word route reads the same openings: please, can/could/would you, hey
    opened = ["hey pause the tv", "would you turn of the hall lamp"]
    said = ["HassMediaNext", "HassTurnOn"]
    assert as_if_the_model_said(recognizer, opened, said) == ["HassMediaPause", "HassTurnOff"]


@pytest.mark.parametrize(
    ("text", "intent", "values"),
    [
        ("i'd love a double shot latte", "MakeCoffee", {"coffee_type": "double shot latte"}),
        ("please i want to hear we will rock you from queen", "HassMediaSearchAndPlay",
         {"search_query": "we will rock you from queen"}),
        ("play stairway to heaven next", "HassMediaSearchAndPlay", {"search_query": "stairway to heaven"}),
    ],
)  # fmt: skip
@pytest.mark.xfail(strict=True, reason="v1.5.0's model: a title or coffee cut short (v1.4.3 had them)")
def test_slips_of_the_shipped_model(recognizer, text, intent, values):
    """Answers v1.4.3 gave and v1.5.0 does not (docs/TRAINING.md, "Sixth round"): kept as expected failures, so
    that a model or rule that mends one makes this test fail until it moves back among the passing ones."""
    answer = recognizer.recognize(text)
    assert (answer.intent, answer.slot_values()) == (intent, values)
