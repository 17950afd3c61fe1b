"""Data sources: template sampler, HA expansion, HWU64/SLURP mapping, custom YAML data, augmentation."""

import json
import random

import pytest
from hassil.parse_expression import parse_sentence

from converter.data import build_datasets
from converter.data.augmentation import (
    augment,
    stt_form,
    with_filler,
    with_place_slip,
    with_politeness,
    with_typo,
)
from converter.data.custom_data import load_custom_data, parse_annotated
from converter.data.example import Example, SlotSpan, read_examples, write_jsonl
from converter.data.hassil_expansion import expand_ha_templates, map_intent
from converter.data.hwu_slurp import map_row
from converter.data.name_lists import is_generic_device_phrase, load_lists, split_lists
from converter.data.template_sampler import TemplateSampler
from device_agent.errors import UserError
from device_agent.schema import NOT_RECOGNIZED, Schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load()


def test_sampler_records_spans_of_list_values():
    sampler = TemplateSampler(
        {"area": ["living room", "kids' room"], "name": ["desk lamp"]}, random.Random(1)
    )
    for _ in range(20):
        out = sampler.sample(parse_sentence("[please] turn (on|off) [the] {name} in [the] {area}[ now]"))
        spans = {slot: out.text[a:b] for slot, a, b in out.spans}
        assert spans["name"] == "desk lamp" and spans["area"] in ("living room", "kids' room")
        assert "  " not in out.text and out.text == out.text.strip()


def test_sampler_rejects_unmapped_slots_and_missing_lists():
    rng = random.Random(0)
    assert TemplateSampler({}, rng).sample(parse_sentence("turn on {name}")) is None
    mapped = TemplateSampler({"x": ["a"]}, rng, slot_map={"name": "name"})
    assert mapped.sample(parse_sentence("say {x}")) is None


def test_ha_expansion_maps_intents_and_uses_our_names(schema):
    names = split_lists(load_lists(), schema, seed=0).train
    examples = expand_ha_templates(schema, names, random.Random(0), per_intent=25, near_miss_per_intent=5)
    intents = {e.intent for e in examples}
    assert {"HassTurnOn", "HassLightSet", "HassGetState", "HassStartTimer", NOT_RECOGNIZED} <= intents
    ours = {v for key, vs in names.items() for v in vs}
    for e in examples:
        for s in e.slots:
            if s.type in ("name", "area", "floor"):
                assert s.value.lower() in ours, (e.text, s)
    assert map_intent("HassPauseTimer", schema) == NOT_RECOGNIZED
    assert map_intent("HassVacuumCleanArea", schema) == "HassVacuumStart"
    assert map_intent("HassBroadcast", schema) is None


def test_near_misses_never_teach_refusing_an_in_scope_command(schema):
    # "return to base" is a lawn-mower template in HA, and a vacuum command in the schema
    names = split_lists(load_lists(), schema, seed=0).train
    examples = expand_ha_templates(schema, names, random.Random(0), per_intent=0, near_miss_per_intent=80)
    refused = {e.text.lower() for e in examples if e.intent == NOT_RECOGNIZED}
    assert any("mow" in t for t in refused)
    assert not {"return to base", "return to the dock", "return to dock", "return to the base"} & refused


def _row(text, intent, *slots):
    out = []
    for slot_type, value in slots:
        start = text.index(value)
        out.append({"type": slot_type, "value": value, "start": start, "end": start + len(value)})
    return {"text": text, "intent": intent, "slots": out}


@pytest.mark.parametrize(
    "row, intent, values",
    [
        (
            _row("turn off the porch light", "iot_hue_lightoff", ("house_place", "porch")),
            "HassTurnOff",
            {"area": "porch", "domain": "light"},
        ),
        (
            _row(
                "dim the lights to thirty percent", "iot_hue_lightdim", ("change_amount", "to thirty percent")
            ),
            "HassLightSet",
            {"brightness": 30},
        ),
        (
            _row("dim the lights by ten percent", "iot_hue_lightdim", ("change_amount", "by ten percent")),
            "LightDim",
            {"brightness": 10},
        ),
        (
            _row("turn the plug socket on", "iot_wemo_on", ("device_type", "plug socket")),
            "HassTurnOn",
            {"domain": "switch"},
        ),
        (
            _row(
                "switch on the disco lights upstairs",
                "iot_hue_lighton",
                ("device_type", "disco lights"),
                ("house_place", "upstairs"),
            ),
            "HassTurnOn",
            {"name": "disco lights", "floor": "upstairs", "domain": "light"},
        ),
        (
            _row("make me a flat white", "iot_coffee", ("coffee_type", "flat white")),
            "MakeCoffee",
            {"coffee_type": "flat white"},
        ),
        (
            _row("change the lights to a romantic mood", "iot_hue_lightchange", ("color_type", "romantic")),
            "HassLightSet",
            {},
        ),
        (_row("make it louder", "audio_volume_up"), "HassSetVolumeRelative", {"volume_step": "up"}),
        # "TO fifty" is an absolute level, as for lights
        (
            _row("increase the volume to fifty", "audio_volume_up", ("change_amount", "to fifty")),
            "HassSetVolume",
            {"volume_level": 50},
        ),
        (
            _row("turn the volume up by ten", "audio_volume_up", ("change_amount", "by ten")),
            "HassSetVolumeRelative",
            {"volume_step": "up"},
        ),
        (
            _row("play some jazz", "play_music", ("music_genre", "jazz")),
            "HassMediaSearchAndPlay",
            {"search_query": "jazz"},
        ),
        (
            _row(
                "play jumper by third eye blind",
                "play_music",
                ("song_name", "jumper"),
                ("artist_name", "third eye blind"),
            ),
            "HassMediaSearchAndPlay",
            {"search_query": "jumper by third eye blind"},
        ),
        (
            _row("play my rap playlist", "play_music", ("music_genre", "rap")),
            "HassMediaSearchAndPlay",
            {"search_query": "rap", "media_class": "playlist"},
        ),
        (
            _row("please play workout playlist", "play_music", ("playlist_name", "workout playlist")),
            "HassMediaSearchAndPlay",
            {"search_query": "workout", "media_class": "playlist"},
        ),
        (
            _row("please play the song joy to the world", "play_music", ("song_name", "joy to the world")),
            "HassMediaSearchAndPlay",
            {"search_query": "joy to the world", "media_class": "track"},
        ),
        (
            _row("i want to listen to classical music", "play_music", ("music_genre", "classical")),
            "HassMediaSearchAndPlay",
            {"search_query": "classical music"},
        ),
        (_row("will it rain", "weather_query"), "HassGetWeather", {}),
        (_row("what is the date", "datetime_query"), "HassGetCurrentDate", {}),
        (_row("tell me a joke", "general_joke"), NOT_RECOGNIZED, {}),
        (_row("set an alarm for seven", "alarm_set", ("time", "seven")), NOT_RECOGNIZED, {}),
    ],
)
def test_hwu_slurp_mapping(schema, row, intent, values):
    ex = map_row(row, schema, "test")
    assert (ex.intent, ex.values) == (intent, values)


@pytest.mark.parametrize(
    "row",
    [
        _row("turn off the lights at ten pm", "iot_hue_lightoff", ("time", "ten pm")),
        _row("play my favorite music", "play_music"),  # nothing named to search for
        _row("jazz could be choice for me", "play_music", ("music_genre", "jazz")),  # no request to play
        _row(
            "play my second playlist", "play_music", ("playlist_name", "second playlist")
        ),  # a pick, no title
        _row(
            "play jazz from jennifer's latest album",
            "play_music",
            ("music_genre", "jazz"),
            ("artist_name", "jennifer's"),
        ),
        _row("play jazz at seven", "play_music", ("music_genre", "jazz"), ("time", "seven")),
        _row("what's the weather in paris", "weather_query", ("place_name", "paris")),
        _row("stop", "general_commandstop"),
    ],
)
def test_hwu_slurp_rows_the_schema_cannot_express_are_skipped(schema, row):
    assert map_row(row, schema, "test") is None


def test_generic_device_words_are_not_names(schema):
    assert is_generic_device_phrase("the lights", schema)
    assert is_generic_device_phrase("robot vacuum", schema)
    assert not is_generic_device_phrase("desk lamp", schema)


def test_annotated_line_format():
    intent, text, spans, extra = parse_annotated(
        "HassTurnOn | open the [area:attic] [name:velux] now | domain=cover"
    )
    assert (intent, text, extra) == ("HassTurnOn", "open the attic velux now", {"domain": "cover"})
    assert [(s, text[a:b]) for s, a, b in spans] == [("area", "attic"), ("name", "velux")]


CUSTOM_YAML = """
intents:
  WaterPlants: {description: "Water the plants", slots: [area, name]}
lists:
  area: [orchid corner]
  name_pump: [drip pump]
expansion_rules:
  water: "(water|irrigate|give water to)"
templates:
  WaterPlants:
    - "<water> [the] plants [in [the] {area}]"
    - "start [the] {pump:name}"
examples:
  - "WaterPlants | water the ferns in the [area:orchid corner]"
  - {text: "the plants are thirsty", intent: WaterPlants}
  - {text: "turn on the greenhouse lamp", intent: HassTurnOn, slots: {name: greenhouse lamp}}
"""


def test_custom_yaml_adds_intents_templates_names_and_examples(tmp_path):
    path = tmp_path / "plants.yaml"
    path.write_text(CUSTOM_YAML)
    jsonl = tmp_path / "more.jsonl"
    write_jsonl(jsonl, [Example("hydrate the basil", "WaterPlants", (), {}, "user")])
    data = build_datasets(
        seed=0,
        extra_data=[path, jsonl],
        ha_per_intent=10,
        own_per_intent=10,
        hwu_negatives=10,
        own_out_of_scope=10,
        min_per_intent=0,
    )
    assert data.schema.intent_labels[-2:] == ["WaterPlants", NOT_RECOGNIZED]
    plants = [e for e in data.train if e.intent == "WaterPlants"]
    texts = {e.text for e in plants}
    assert "water the ferns in the orchid corner" in texts and "the plants are thirsty" in texts
    assert "hydrate the basil" in texts
    assert any(e.values.get("name") == "drip pump" for e in plants)
    lamp = next(e for e in data.train if e.text == "turn on the greenhouse lamp")
    assert lamp.values["name"] == "greenhouse lamp" and lamp.slots[0].start == 12


@pytest.mark.parametrize(
    "content, message",
    [
        ("intents: [", "not valid YAML"),
        ("templates: {Unknown: ['hello']}\n", "unknown intent"),
        ("colours: [red]\n", "unknown top-level"),
        ("examples: ['HassTurnOn | set [brightness:bright]']\n", "does not parse"),
        ("lists: {area: 3}\n", "must be a list"),
    ],
)
def test_malformed_custom_data_is_a_user_error(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        build_datasets(
            seed=0, extra_data=[path], ha_per_intent=2, own_per_intent=2, hwu_negatives=2, own_out_of_scope=2
        )


def test_unknown_extra_data_kind_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="yaml"):
        build_datasets(seed=0, extra_data=[tmp_path / "x.csv"])


def test_own_template_files_load():
    from converter.data.datasets import TEMPLATES_DIR

    files = sorted(TEMPLATES_DIR.glob("*.yaml"))
    assert files
    for f in files:
        assert load_custom_data(f).templates


def test_canonical_jsonl_round_trip(tmp_path):
    ex = Example("dim the den lamp", "LightDim", (SlotSpan("area", "den", 8, 11),), {"area": "den"}, "x")
    write_jsonl(tmp_path / "a.jsonl", [ex])
    assert read_examples(tmp_path / "a.jsonl") == [ex]
    assert json.loads((tmp_path / "a.jsonl").read_text())["slots"][0]["start"] == 8
    with pytest.raises(ValueError):
        Example("dim the den lamp", "LightDim", (SlotSpan("area", "lamp", 8, 11),))


def test_augmentations_keep_spans_and_values():
    ex = Example(
        "Turn the Living Room lights to fifty percent.",
        "HassLightSet",
        (SlotSpan("area", "Living Room", 9, 20), SlotSpan("brightness", "fifty", 31, 36)),
        {"area": "living room", "brightness": 50},
        "t",
    )
    rng = random.Random(0)
    outs = [stt_form(ex)] + [f(ex, rng) for f in (with_politeness, with_filler, with_typo) for _ in range(10)]
    for out in outs:
        assert out.values == ex.values
        assert [out.text[s.start : s.end].lower() for s in out.slots] == ["living room", "fifty"]
    assert stt_form(ex).text == "turn the living room lights to fifty percent"
    for out in [augment(ex, rng) for _ in range(30)]:  # a place slip ("livng room") is the typed value
        assert out.values["brightness"] == 50
        assert [out.text[s.start : s.end].lower() for s in out.slots] == [out.values["area"], "fifty"]
    slipped = with_place_slip(ex, rng)
    assert slipped.values["area"] == "livng room"
    assert slipped.text[slipped.slots[0].start : slipped.slots[0].end].lower() == "livng room"


@pytest.mark.parametrize(
    "row",
    [
        _row("set a timer for five minutes for cookies", "calendar_set"),
        _row("add vodka to my party shopping list", "lists_query"),
        _row("cancel", "calendar_remove"),
    ],
)
def test_negatives_that_ask_for_supported_things_are_skipped(schema, row):
    assert map_row(row, schema, "test") is None


def test_synthetic_names_are_varied_reproducible_and_never_held_out(schema):
    from converter.data.datasets import _with_synthetic
    from converter.data.name_generator import synthetic_lists

    a = synthetic_lists(random.Random(1), per_list=50)
    assert a == synthetic_lists(random.Random(1), per_list=50)
    assert len(set(a["name_light"])) == 50 and len(set(a["area"])) == 50
    names = split_lists(load_lists(), schema, seed=0)
    merged = _with_synthetic(names.train, names.held_out, schema, random.Random(2), 80)
    held_only = {v for vs in names.held_out.values() for v in vs} - {
        v for vs in names.train.values() for v in vs
    }
    for key, values in merged.items():
        assert not held_only & set(values), key
        if key.startswith("name_"):
            assert not any(is_generic_device_phrase(v, schema) for v in values)
    assert len(merged["name_light"]) > len(names.train["name_light"]) + 50


def test_synthetic_media_titles_include_everyday_phrases_and_artists():
    from converter.data.name_generator import BAND_NOUNS, SURNAMES, TITLE_WORDS, synthetic_lists

    titles = synthetic_lists(random.Random(3), per_list=200)["search_query"]
    poetic = [t for t in titles if all(w in TITLE_WORDS or w == "the" for w in t.split()[-2:])]
    by_artist = [t for t in titles if " by " in t]
    artists = [t for t in titles if t.split()[-1] in SURNAMES or t.split()[-1] in BAND_NOUNS]
    # not only poetic nouns: phrases ("hold me now"), artists ("emma walker") and "title by artist"
    assert len(poetic) < 0.6 * len(titles)
    assert len(by_artist) >= 10 and len(artists) >= 20
    assert all(t.split(" by ")[0] for t in by_artist)


def test_shipped_custom_data_example_trains_new_intents():
    from sample_data import SAMPLE_DATA_DIR

    path = SAMPLE_DATA_DIR / "examples" / "custom_intents.yaml"
    small = dict(ha_per_intent=5, own_per_intent=30, hwu_negatives=5, own_out_of_scope=5, min_per_intent=0)
    data = build_datasets(seed=0, extra_data=[path], **small)
    assert data.schema.intent_labels[-3:] == ["WaterPlants", "FeedPet", NOT_RECOGNIZED]
    counts = {i: sum(e.intent == i for e in data.train) for i in ("WaterPlants", "FeedPet")}
    assert min(counts.values()) >= 15, counts
    assert any(e.values.get("name") == "kibble tower" for e in data.train)


def test_hwu_colour_spans(schema):
    row = _row(
        "change light colors from blue to white",
        "iot_hue_lightchange",
        ("color_type", "blue"),
        ("color_type", "white"),
    )
    assert map_row(row, schema, "t").values == {"color": "white"}
    row = _row("replace color from light to dark", "iot_hue_lightchange", ("color_type", "light"))
    assert map_row(row, schema, "t").values == {}


def test_hwu_place_plus_device_becomes_an_area(schema):
    row = _row("turn off the porch light", "iot_hue_lightoff", ("device_type", "porch light"))
    ex = map_row(row, schema, "t")
    assert ex.values == {"area": "porch", "domain": "light"} and ex.slots[0].value == "porch"


def test_committed_handwritten_jsonl_is_current(tmp_path):
    """sample_data/dev/handwritten.jsonl is generated from handwritten.txt by converter.data.export."""
    from converter.data.export import main
    from sample_data import SAMPLE_DATA_DIR

    main(["--handwritten-only", str(tmp_path)])
    committed = (SAMPLE_DATA_DIR / "dev" / "handwritten.jsonl").read_text()
    assert (tmp_path / "handwritten.jsonl").read_text() == committed, (
        "regenerate: python -m converter.data.export --handwritten-only sample_data/dev"
    )


def test_export_writes_the_names_a_model_at_that_seed_trains_with(tmp_path):
    """known_names.json beside the dev sets: what `squeezehome train --seed` puts in its model directory."""
    import json

    from converter.data.datasets import build_datasets
    from converter.data.export import main

    main([str(tmp_path), "--seed", "3"])
    written = json.loads((tmp_path / "known_names.json").read_text())
    assert written == build_datasets(seed=3).names.trained_known_names() and "area" in written


def test_volume_step_comes_from_the_hwu_label(schema):
    row = _row("could you please yell the answer out to me", "audio_volume_up")
    assert map_row(row, schema, "t").values == {"volume_step": "up"}
