"""Annotators' value-labelled sets: spans found for training, kept whole under the per-intent cap."""

import json

import pytest

from converter.data import build_datasets
from converter.data.annotated import DEV_SETS_DIR, SOURCE_PREFIX, annotators_files, load_annotated, with_spans
from converter.data.datasets import BROAD_SHARE
from device_agent.errors import UserError
from device_agent.schema import NOT_RECOGNIZED, Schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "spans"),
    [
        ({"text": "Dim the Kitchen lights to thirty percent", "intent": "LightDim",
          "slots": {"area": "kitchen", "brightness": 30}}, [("area", "Kitchen"), ("brightness", "thirty")]),
        ({"text": "could you maybe make it twenty one and a half in the bedroom",
          "intent": "HassClimateSetTemperature", "slots": {"temperature": 21.5, "area": "bedroom"}},
         [("temperature", "twenty one and a half"), ("area", "bedroom")]),
        ({"text": "play the song here comes the sun", "intent": "HassMediaSearchAndPlay",
          "slots": {"media_class": "track", "search_query": "here comes the sun"}},
         [("media_class", "song"), ("search_query", "here comes the sun")]),
        # inferred slots get no span; the same word twice: the first free one
        ({"text": "turn on the light in the light room", "intent": "HassTurnOn",
          "slots": {"area": "light room", "domain": "light"}}, [("area", "light room")]),
    ],
)  # fmt: skip
def test_values_are_found_as_spans(schema, row, spans):
    example = with_spans(row, schema)
    assert [(s.type, s.value) for s in example.slots] == spans
    assert example.values == row["slots"]
    assert all(example.text[s.start : s.end] == s.value for s in example.slots)


def test_a_value_not_in_the_sentence_leaves_the_row_out(schema, tmp_path):
    rows = [
        {"text": "turn on the desk lamp", "intent": "HassTurnOn", "slots": {"name": "desk lamp"}},
        {"text": "turn on the desk lamp", "intent": "HassTurnOn", "slots": {"name": "floor lamp"}},
        {"text": "set a timer for half an hour", "intent": "HassStartTimer", "slots": {"minutes": 30}},
    ]
    examples, left_out = load_annotated([write_jsonl(tmp_path / "set.jsonl", rows)], schema)
    assert [e.values for e in examples] == [{"name": "desk lamp"}]
    assert examples[0].source == f"{SOURCE_PREFIX}set"
    assert left_out == 2  # a name that is not there, a duration said as a fraction: never guessed


def test_the_annotators_sets_are_well_formed(schema):
    training, dev = annotators_files(), annotators_files(DEV_SETS_DIR)
    assert [f.stem for f in training] == [f"set_{x}" for x in "abcdehi"]  # the default recipe trains on these
    assert [f.stem for f in dev] == ["set_f", "set_g", "set_j"]  # blind dev sets
    examples, left_out = load_annotated([*training, *dev], schema)
    assert len(examples) > 1500 and left_out < 20
    assert all(e.intent in schema.intent_labels for e in examples)
    assert 0.2 < sum(e.intent == NOT_RECOGNIZED for e in examples) / len(examples) < 0.3


def test_annotated_sentences_are_kept_whole_on_top_of_the_cap(tmp_path, schema):
    rows = [
        {"text": f"switch on the reading light number {i}", "intent": "HassTurnOn", "slots": {}}
        for i in range(12)
    ]
    rows += [
        {"text": f"the hot tub is leaking again {i}", "intent": NOT_RECOGNIZED, "slots": {}} for i in range(3)
    ]
    not_there = {"text": "the orchid lamp", "intent": "HassTurnOn", "slots": {"name": "moon lamp"}}
    people_file = write_jsonl(tmp_path / "people.jsonl", [*rows, not_there])
    small = {"ha_per_intent": 4, "own_per_intent": 4, "hwu_negatives": 20, "own_out_of_scope": 30}
    data = build_datasets(
        seed=0, limit_per_intent=10, annotated=[people_file], project_annotated=False, **small
    )
    assert data.annotated_left_out == 1  # counted, for the training report
    people = [e for e in data.train if e.source.startswith(SOURCE_PREFIX)]
    assert len(people) == 2 * len(rows)  # every one, counted twice like HWU64's real commands
    assert {e.source for e in people} == {f"{SOURCE_PREFIX}people"}  # the project's own sets left out
    sampled = [e for e in data.train if not e.source.startswith((SOURCE_PREFIX, "hwu64/"))]
    turn_on = [e for e in sampled if e.intent == "HassTurnOn"]
    assert len(turn_on) == 10 * BROAD_SHARE  # the cap, whole: people's sentences take no sampled one's place
    assert sum(e.intent == NOT_RECOGNIZED for e in data.train if e in people) == 6
    with_own = build_datasets(seed=0, limit_per_intent=10, **small)
    assert {e.source for e in with_own.train if e.source.startswith(SOURCE_PREFIX)} == {
        f"{SOURCE_PREFIX}set_{x}" for x in "abcdehi"
    }


def test_a_users_value_labelled_jsonl_trains_with_spans_and_a_missing_value_is_one_clear_error(tmp_path):
    small = {"ha_per_intent": 2, "own_per_intent": 2, "hwu_negatives": 5, "own_out_of_scope": 5}
    orchid = {"text": "switch the orchid lamp on", "intent": "HassTurnOn", "slots": {"name": "orchid lamp"}}
    good = write_jsonl(tmp_path / "mine.jsonl", [orchid])
    data = build_datasets(seed=0, extra_data=[good], **small)
    mine = next(e for e in data.train if e.text == "switch the orchid lamp on")
    assert [(s.type, s.value, s.start) for s in mine.slots] == [("name", "orchid lamp", 11)]
    bad = write_jsonl(tmp_path / "bad.jsonl", [{**orchid, "slots": {"name": "moon lamp"}}])
    with pytest.raises(UserError, match=r"bad.jsonl:1: a slot value .* is not in the text"):
        build_datasets(seed=0, extra_data=[bad], **small)
