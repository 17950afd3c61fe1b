"""Exact command frames over listed names (device_agent.command_frames) and their use by the recognizer."""

import numpy as np
import pytest

from device_agent.command_frames import framed_intent
from device_agent.known_names import KnownNames
from device_agent.recognizer import Recognizer

NAMES = KnownNames.from_lists(
    {
        "name_switch": ["tumble dryer", "computer"],
        "name_media_player": ["chromecast"],
        "name_cover": ["sliding door"],
        "name_lock": ["gun safe"],
        "name_scene": ["movie night"],
        "name_vacuum": ["roborock"],
        "name_timer": ["pizza"],
        "name": ["big fish"],
    }
)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("turn on the tumble dryer", "HassTurnOn"),
        ("Please switch the computer off now.", "HassTurnOff"),
        ("can you power off my computer for me", "HassTurnOff"),
        ("pause our chromecast", "HassMediaPause"),
        ("resume the chromecast please", "HassMediaUnpause"),
        ("unmute chromecast", "HassMediaPlayerUnmute"),
        ("open the sliding door", "HassTurnOn"),
        ("lock the gun safe", "HassTurnOn"),
        ("activate movie night", "HassTurnOn"),
        ("turn on the big fish", "HassTurnOn"),  # listed plainly: any device
        # not a bare frame, a verb the name's domain does not take, or no device
        ("is the tumble dryer done", None),
        ("turn on the tumble dryer when the rain stops", None),
        ("open the computer", None),
        ("open the chromecast app", None),
        ("lock the chromecast", None),
        ("turn on roborock", None),  # a vacuum starts: HassVacuumStart is the model's to say
        ("turn on the pizza", None),
        ("turn on the dryer", None),  # not a listed name
        ("turn on", None),
    ],
)
def test_a_bare_frame_around_a_listed_name(text, intent):
    assert framed_intent(text, NAMES) == intent


def test_no_names_no_frames():
    assert framed_intent("turn on the tumble dryer", None) is None
    assert framed_intent("turn on the tumble dryer", KnownNames()) is None


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.from_bundle()


def test_a_refused_frame_around_a_listed_name_is_recognized(recognizer):
    """The model refuses "turn on the jacuzzi" (v1.4.3 refused "pause the chromecast": its training linked
    "chrome" to out-of-scope sentences) and "turn on the computer" (a name of the bundle's own lists); listed,
    the bare frame is the command. An unlisted name, or a sentence that is more than the frame, stays refused."""
    texts = ["turn on the jacuzzi", "turn on the computer", "turn on the treadmill"]
    outputs = recognizer.model_outputs(texts)
    assert [recognizer.labels[int(np.argmax(o[1]))] for o in outputs] == ["NotRecognized"] * 3
    assert [r.intent for r in recognizer.recognize_many(texts)] == [None, "HassTurnOn", None]
    saved = recognizer.known_names
    try:
        recognizer.known_names = KnownNames.from_lists({"name_switch": ["jacuzzi", "treadmill"]})
        answers = recognizer.recognize_many([*texts, "the jacuzzi keeps tripping the breaker"])
        assert [(a.intent, a.slot_values().get("name")) for a in answers] == [
            ("HassTurnOn", "jacuzzi"),
            ("HassTurnOn", "computer"),
            ("HassTurnOn", "treadmill"),
            (None, None),
        ]
    finally:
        recognizer.known_names = saved


def test_an_answer_a_rule_gave_is_as_sure_as_the_bar(recognizer):
    """A refused sentence a frame or the words answer reports the bundle's acceptance threshold as its
    confidence (the model's own probability for that intent is tiny), never less."""
    answer = recognizer.recognize("turn on the computer")
    assert answer.intent == "HassTurnOn"
    assert answer.confidence == pytest.approx(recognizer.intent_threshold)
    assert answer.to_hermes()["intent"]["confidenceScore"] == pytest.approx(
        recognizer.intent_threshold, abs=1e-4
    )
