"""Choosing the slot decoder's O-tag bias on dev sets (`converter.slot_calibration`)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.data.example import Example
from converter.slot_calibration import SLOT_OUTSIDE_BIASES, calibrate_slot_outside_bias
from device_agent.recognizer import Recognizer
from device_agent.schema import Schema
from device_agent.wordpiece import WordPieceTokenizer

WORDS = ["turn", "on", "the", "desk", "lamp", "reading", "light", "kitchen"]
LENGTH = 12


def tagger(schema: Schema, tok: WordPieceTokenizer, margin: float):
    """A model as the recognizer sees one (input ids → logits): every sentence is HassTurnOn; a device
    name's words ("desk lamp", "reading light") score ``margin`` below O for their name tag (negative:
    above), every other word is O by far."""
    intents = schema.intent_labels
    ids = {w: tok.token_to_id(w) for w in WORDS}
    o, b, i = schema.tag_id("O"), schema.tag_id("B-name"), schema.tag_id("I-name")

    def run(input_ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        n = len(input_ids)
        intent = np.zeros((n, len(intents)), np.float32)
        intent[:, intents.index("HassTurnOn")] = 10.0
        slots = np.zeros((n, LENGTH, len(schema.slot_tags)), np.float32)
        slots[..., o] = 10.0
        for row in range(n):
            for t, piece in enumerate(input_ids[row]):
                if piece in (ids["desk"], ids["reading"]):
                    slots[row, t, o], slots[row, t, b] = 1.0, 1.0 - margin
                elif piece in (ids["lamp"], ids["light"]) and input_ids[row][t - 1] in (
                    ids["desk"],
                    ids["reading"],
                ):
                    slots[row, t, o], slots[row, t, i] = 1.0, 1.0 - margin
        return {"intent_logits": intent, "slot_logits": slots}

    return run


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load()


@pytest.fixture(scope="module")
def tok() -> WordPieceTokenizer:
    return WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])


def dev_sets() -> dict[str, list[Example]]:
    return {
        "names": [
            Example.from_dict(
                {
                    "text": "turn on the desk lamp",
                    "intent": "HassTurnOn",
                    "slots": {"name": "desk lamp", "domain": "light"},
                }
            ),
            Example.from_dict(
                {
                    "text": "turn on the reading light",
                    "intent": "HassTurnOn",
                    "slots": {"name": "reading light", "domain": "light"},
                }
            ),
        ],
        "areas": [
            Example.from_dict(
                {"text": "turn on the kitchen light", "intent": "HassTurnOn", "slots": {"domain": "light"}}
            )
        ],
    }


def recognizer(schema, tok, margin: float) -> Recognizer:
    return Recognizer(tagger(schema, tok, margin), tok, schema, schema.intent_labels, LENGTH, 0.5)


def test_a_model_that_leaves_names_untagged_gets_the_smallest_bias_that_tags_them(schema, tok):
    r = recognizer(schema, tok, margin=0.6)
    assert r.recognize("turn on the desk lamp").slot_values() == {"domain": "light"}  # name left O
    bias, stats = calibrate_slot_outside_bias(r, dev_sets())
    assert bias == -0.75  # -0.5 is not enough for a 0.6 margin; further ones tie and lose to the nearer
    assert stats["slot_f1_at_zero"]["names"] < stats["slot_f1"]["names"] == 1.0
    assert stats["mean_slot_f1"] > stats["mean_slot_f1_at_zero"]
    assert [row["bias"] for row in stats["table"]] == sorted(SLOT_OUTSIDE_BIASES)
    r.slot_outside_bias = bias
    assert r.recognize("turn on the desk lamp").slot_values() == {"name": "desk lamp", "domain": "light"}


def test_a_model_that_tags_well_keeps_no_bias(schema, tok):
    bias, stats = calibrate_slot_outside_bias(recognizer(schema, tok, margin=-2.0), dev_sets())
    assert bias == 0.0 and stats["mean_slot_f1"] == stats["mean_slot_f1_at_zero"] == 1.0


def test_no_dev_slots_means_no_bias(schema, tok):
    only_intents = {
        "x": [Example.from_dict({"text": "turn on the light", "intent": "HassTurnOn", "slots": {}})]
    }
    assert calibrate_slot_outside_bias(recognizer(schema, tok, margin=0.6), only_intents)[0] == 0.0
