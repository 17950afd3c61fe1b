"""The schema file and its loader."""

import json

import pytest

from device_agent.errors import UserError
from device_agent.schema import NOT_RECOGNIZED, Schema

FIXED_INTENTS = [
    "HassTurnOn",
    "HassTurnOff",
    "HassLightSet",
    "LightBrighten",
    "LightDim",
    "HassClimateSetTemperature",
    "HassClimateGetTemperature",
    "HassGetState",
    "HassSetPosition",
    "HassFanSetSpeed",
    "HassMediaPause",
    "HassMediaUnpause",
    "HassMediaNext",
    "HassMediaPrevious",
    "HassMediaPlayerMute",
    "HassMediaPlayerUnmute",
    "HassSetVolume",
    "HassSetVolumeRelative",
    "HassMediaSearchAndPlay",
    "HassVacuumStart",
    "HassVacuumReturnToBase",
    "HassStartTimer",
    "HassCancelTimer",
    "HassTimerStatus",
    "HassShoppingListAddItem",
    "HassListAddItem",
    "HassGetWeather",
    "HassGetCurrentTime",
    "HassGetCurrentDate",
    "HassNevermind",
    "MakeCoffee",
]


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load()


def test_intents_are_the_fixed_31_in_order(schema):
    assert schema.intents == FIXED_INTENTS
    assert schema.intent_labels == FIXED_INTENTS + [NOT_RECOGNIZED]
    assert schema.intent_id(NOT_RECOGNIZED) == 31


def test_slot_tags_cover_tagged_slots_only(schema):
    tags = schema.slot_tags
    assert tags[0] == "O"
    assert len(tags) == 1 + 2 * len(schema.tagged_slots)
    assert "B-domain" not in tags and "B-device_class" not in tags
    assert set(schema.inferred_slots) == {"domain", "device_class", "volume_step"}
    for slot in schema.tagged_slots:
        assert tags.index(f"I-{slot}") == tags.index(f"B-{slot}") + 1


def test_value_kinds_follow_the_issue(schema):
    kinds = {s: schema.value_kind(s) for s in schema.slots}
    for s in ("brightness", "position", "volume_level", "percentage"):
        assert kinds[s] == "integer_percent"
    for s in ("name", "area", "floor", "item", "search_query", "coffee_type"):
        assert kinds[s] == "text"
    assert kinds["temperature"] == "number" and kinds["color"] == "color"
    assert {kinds[s] for s in ("hours", "minutes", "seconds")} == {"duration_part"}
    assert set(schema.enum_values("state")) == {"on", "off", "open", "closed", "locked", "unlocked"}
    assert set(schema.enum_values("media_class")) == {
        "album",
        "artist",
        "track",
        "playlist",
        "podcast",
        "movie",
        "tv_show",
        "radio",
    }
    assert "binary_sensor" in schema.enum_values("domain") and "garage" in schema.enum_values("device_class")


def test_every_intent_slot_is_declared(schema):
    for intent in schema.intents:
        assert set(schema.intent_slots(intent)) <= set(schema.slots)
    assert schema.intent_slots(NOT_RECOGNIZED) == ()


def test_round_trip_and_bundle_directory(schema, tmp_path):
    (tmp_path / "schema.json").write_text(json.dumps(schema.to_dict()))
    again = Schema.load(tmp_path)
    assert again.intent_labels == schema.intent_labels and again.slot_tags == schema.slot_tags
    assert again.intent_requires_one_of("HassGetState") == schema.intent_requires_one_of("HassGetState")


def test_a_state_question_needs_something_to_ask_about(schema):
    """HassGetState answers must name a device, room, floor or kind of device; other intents need nothing."""
    assert set(schema.intent_requires_one_of("HassGetState")) == {
        "name",
        "area",
        "floor",
        "domain",
        "device_class",
    }
    assert schema.intent_requires_one_of("HassTurnOn") == () == schema.intent_requires_one_of(NOT_RECOGNIZED)


@pytest.mark.parametrize(
    "broken",
    [
        {"intents": [], "slots": [{"name": "x", "kind": "weird"}]},
        {"intents": [{"name": "A", "slots": ["nope"]}], "slots": []},
        {"intents": [{"name": "NotRecognized"}], "slots": []},
        {
            "intents": [{"name": "A", "slots": [], "requires_one_of": ["x"]}],
            "slots": [{"name": "x", "kind": "text"}],
        },
        {"slots": []},
    ],
)
def test_malformed_schema_is_a_user_error(broken, tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(broken))
    with pytest.raises(UserError):
        Schema.load(p)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        Schema.load(tmp_path / "absent.json")
