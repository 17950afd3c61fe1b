"""The project's own templates (sample_data/templates): every template expands, indirect forms carry the right labels."""

import random
import re

import pytest
from hassil.parse_expression import parse_sentence

from converter.data.custom_data import _lists_for, expand_custom_templates, load_custom_data
from converter.data.datasets import TEMPLATES_DIR
from converter.data.hassil_expansion import load_ha_intents
from converter.data.labelling_values import make_example
from converter.data.name_lists import load_lists, merge_lists
from converter.data.template_sampler import TemplateSampler
from device_agent.schema import NOT_RECOGNIZED, Schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load()


@pytest.fixture(scope="module")
def own():
    return [load_custom_data(p) for p in sorted(TEMPLATES_DIR.glob("*.yaml"))]


@pytest.fixture(scope="module")
def lists(own):
    return merge_lists(load_lists(), *[c.lists for c in own])


@pytest.fixture(scope="module")
def extension_examples(own, lists, schema):
    ext = next(c for c in own if c.path.name == "extensions.yaml")
    return expand_custom_templates(ext, schema, lists, random.Random(0), per_intent=1500)


def test_every_own_template_yields_labelled_sentences(own, lists, schema):
    ha = load_ha_intents()
    rng = random.Random(0)
    dead = []
    for data in own:
        rules = {**ha.expansion_rules, **{k: parse_sentence(v) for k, v in data.expansion_rules.items()}}
        slot_lists = {**ha.slot_lists, **data.ranges}
        for intent, templates in data.templates.items():
            for template in templates:
                sentence = parse_sentence(template)
                for _ in range(40):
                    sampler = TemplateSampler(
                        _lists_for(intent, lists, rng), rng, slot_lists=slot_lists, expansion_rules=rules
                    )
                    sampled = sampler.sample(sentence)
                    if sampled and make_example(sampled.text, intent, sampled.spans, schema, "t"):
                        break
                else:
                    dead.append((data.path.name, intent, template))
    assert not dead, dead[:5]


def test_out_of_scope_templates_cover_the_near_miss_categories(own, lists, schema):
    oos = next(c for c in own if c.path.name == "out_of_scope.yaml")
    examples = expand_custom_templates(
        oos, schema, lists, random.Random(0), per_intent=3000, per_intent_for={NOT_RECOGNIZED: 3000}
    )
    texts = [e.text for e in examples]
    assert len(texts) >= 2500 and all(e.intent == NOT_RECOGNIZED and not e.slots for e in examples)
    for pattern in (
        r"\b(burnt|burned) out\b",  # statements about devices
        r"^i (already|just) (turned|switched)",  # past tense
        r"\bhow much (is|are|does|do)\b",  # prices
        r"\b(neighbour's|neighbor's)\b",  # other people's devices
        r"\b(car|tesla|truck)\b",  # cars
        r"\b(alarm|appointment|reminder)\b",  # calendar
        r"^play (a round|a game|a match)",  # games and sports
        r"\b(cart|basket)\b",  # shopping online
        r"^(read|tell|show) me (my|the|our) .*list$",  # reading lists
        r"\b(lawn mower|robot mower|lawnmower)\b",  # unsupported devices
        r"\b(is stuck|is jammed)\b",  # stuck doors
        r"\b(news|headlines)\b",
        r"\bwikipedia\b",
        r"\b(recipe|traffic|directions)\b",
    ):
        assert any(re.search(pattern, t) for t in texts), pattern


def test_indirect_volume_forms_infer_the_step(extension_examples):
    relative = [e for e in extension_examples if e.intent == "HassSetVolumeRelative"]
    quiet = [e for e in relative if re.search(r"\btoo (quiet|soft)\b|^i can't hear", e.text)]
    loud = [e for e in relative if re.search(r"\btoo loud\b", e.text)]
    assert len(quiet) >= 20 and len(loud) >= 20
    assert all(e.values.get("volume_step") == "up" for e in quiet)
    assert all(e.values.get("volume_step") == "down" for e in loud)


def test_indirect_light_and_state_forms(extension_examples):
    by_intent = {}
    for e in extension_examples:
        by_intent.setdefault(e.intent, []).append(e)
    assert any(
        re.search(r"\bis (way|far|much|a bit|a little|really|just) too bright", e.text)
        for e in by_intent["LightDim"]
    )
    assert any(" too dim" in e.text or " dim " in e.text for e in by_intent["LightBrighten"])
    assert not any("too bright" in e.text for e in by_intent["LightBrighten"])
    assert not any(re.search(r"too (dim|dark)", e.text) for e in by_intent["LightDim"])
    humidity = [e for e in by_intent["HassGetState"] if "humidity" in e.text]
    assert humidity and all(e.values.get("domain") == "sensor" for e in humidity)
    typo_off = [e for e in by_intent["HassTurnOff"] if re.match(r"(turn|switch|tun|trun) of ", e.text)]
    assert typo_off and all({"domain", "name", "area"} & e.values.keys() for e in typo_off)


SLIP_VERB = r"(turn|trun|tunr|tern|trn|tun|turm|tuen|switch|swtich|swich|swithc|swtch|witch)"


def test_verb_typos_keep_on_and_off_apart(own, lists, schema):
    """A "turn of" slip is off: no own template labels it on; "trun on" and "turn onn" are on."""
    examples = [
        e for c in own for e in expand_custom_templates(c, schema, lists, random.Random(1), per_intent=1500)
    ]
    of_forms = [e for e in examples if re.search(rf"\b{SLIP_VERB} (of|offf|oof)\b", e.text)]
    assert len(of_forms) >= 30 and {e.intent for e in of_forms} <= {"HassTurnOff", "HassMediaPlayerMute"}
    on_forms = [e for e in examples if re.match(rf"(can you |could you |could u )?{SLIP_VERB} onn? ", e.text)]
    slipped_on = [e for e in on_forms if not e.text.startswith(("turn on", "switch on"))]
    assert len(slipped_on) >= 30 and all(e.intent == "HassTurnOn" for e in slipped_on)
    assert any(re.search(r"\b(lites|lihgts|ligths)\b", e.text) for e in slipped_on)


def test_darkness_and_brightness_family_follows_the_schema(extension_examples):
    """Dark (no light on) -> HassTurnOn; dim / not bright enough -> LightBrighten; too bright / glary -> LightDim."""
    bare_dark = re.compile(
        r"^(\w+ )?(it's|it is|its|the [\w' ]+ is) [\w ]*\bdark\b(?!.*(brighter|turn|brighten|increase))"
    )
    dark = [e for e in extension_examples if bare_dark.search(e.text)]
    assert len(dark) >= 40 and all(e.intent == "HassTurnOn" for e in dark)
    assert any("kinda dark" in e.text for e in dark) and any(e.text.endswith(" dark") for e in dark)
    for intent, pattern in (
        ("LightBrighten", r"\b(dim|not bright enough)\b"),
        ("LightDim", r"\b(bright|glary)\b"),
    ):
        forms = [e for e in extension_examples if re.search(rf"\b(kinda|way too|so|a bit) {pattern}", e.text)]
        assert len(forms) >= 10 and all(e.intent == intent for e in forms), intent


def test_weather_media_and_nevermind_forms(extension_examples, own, lists, schema):
    by_intent = {}
    for e in extension_examples:
        by_intent.setdefault(e.intent, []).append(e)
    weather = [e.text for e in by_intent["HassGetWeather"]]
    assert any(re.search(r"(umbrella|sunblock|gloves|layers|shorts)", t) for t in weather)
    assert any("overcast" in t for t in weather) and any(
        re.search(r"be (over|above|under|below) \w+", t) for t in weather
    )
    play = by_intent["HassMediaSearchAndPlay"]
    assert any(e.text.startswith("i wanna hear") and e.values.get("search_query") for e in play)
    assert any(" episodes of " in e.text and e.values.get("search_query") for e in play)
    assert any(e.text.startswith("never mind i'll do it") for e in by_intent["HassNevermind"])
    oos = next(c for c in own if c.path.name == "out_of_scope.yaml")
    negatives = [
        e.text for e in expand_custom_templates(oos, schema, lists, random.Random(2), per_intent=6000)
    ]
    for pattern in (r"^hey hey$", r"tic tac toe", r"^turn (left|right) (at|after) the \w+ (light|lights|traffic light)", r"drenched", r"sunset",
                    r"payday", r"inside a lava lamp", r"see in the dark", r"^(add|sum|add up) \w+",
                    r"'s (thermostat|heating|ac|air conditioning) (is|was|are|were) (set|turned|kept|cranked)", r"(loop|repeat) this track"):  # fmt: skip
        assert any(re.search(pattern, t) for t in negatives), pattern


def test_polite_wrappers_keep_whole_multi_word_names(extension_examples, lists):
    names = {v for key, values in lists.items() if key.startswith("name_") for v in values}
    polite = [
        e
        for e in extension_examples
        if e.intent in ("HassTurnOn", "HassTurnOff") and re.match(r"(could|can|would|will) you ", e.text)
    ]
    with_names = [e for e in polite if "name" in e.values]
    assert sum(" " in e.values["name"] for e in with_names) >= 20
    assert all(e.values["name"] in names for e in with_names)
