"""converter.evaluation: metrics, input formats, threshold sweep."""

import json

import pytest

from converter.data.example import Example, SlotSpan
from converter.evaluation import Prediction, canonical_value, evaluate, load_eval_examples, threshold_sweep
from device_agent.errors import UserError
from device_agent.schema import NOT_RECOGNIZED, Schema

GOLD = [
    Example("turn on the kitchen lights", "HassTurnOn", (), {"area": "kitchen", "domain": "light"}),
    Example("dim the den lamp to 30%", "HassLightSet", (), {"area": "den", "brightness": 30}),
    Example("tell me a joke", NOT_RECOGNIZED),
    Example("who invented the lamp", NOT_RECOGNIZED),
    Example("what time is it", "HassGetCurrentTime"),
]


def test_perfect_predictions():
    preds = [{"intent": g.intent, "values": dict(g.values)} for g in GOLD]
    r = evaluate(GOLD, preds)
    assert (r.intent_accuracy, r.slot_f1, r.oos_false_accept, r.in_scope_false_reject) == (1.0, 1.0, 0.0, 0.0)
    assert r.confusions == [] and r.errors == []


def test_counts_false_accepts_rejects_and_slot_errors():
    preds = [
        Prediction("HassTurnOn", {"area": "Kitchen", "domain": "light"}),  # case-insensitive values
        Prediction("HassLightSet", {"area": "den", "brightness": "30.0", "color": "red"}),  # one extra slot
        Prediction("HassTurnOn", {"name": "joke"}),  # out of scope accepted
        Prediction(None),  # correctly rejected
        Prediction(NOT_RECOGNIZED),  # in scope rejected
    ]
    r = evaluate(GOLD, preds)
    assert r.intent_accuracy == pytest.approx(3 / 5)
    assert r.oos_false_accept == pytest.approx(1 / 2)
    assert r.in_scope_false_reject == pytest.approx(1 / 3)
    assert (r.slots.tp, r.slots.fp, r.slots.fn) == (4, 2, 0)
    assert r.slot_precision == pytest.approx(4 / 6) and r.slot_recall == 1.0
    assert r.per_slot["color"].fp == 1 and r.per_slot["area"].f1 == 1.0
    assert r.per_intent["HassGetCurrentTime"]["recall"] == 0.0
    assert (NOT_RECOGNIZED, "HassTurnOn", 1) in r.confusions
    assert ("HassGetCurrentTime", NOT_RECOGNIZED, 1) in r.confusions
    text = r.format("dev")
    assert "OOS false-accept" in text and "HassLightSet" in text
    assert json.loads(json.dumps(r.to_dict()))["slot_f1"] == pytest.approx(r.slot_f1, abs=1e-4)


def test_slots_of_a_rejected_answer_do_not_count():
    r = evaluate(GOLD[:1], [{"intent": NOT_RECOGNIZED, "values": {"area": "kitchen"}}])
    assert (r.slots.tp, r.slots.fp, r.slots.fn) == (0, 0, 2)


def test_hermes_shaped_predictions_are_accepted():
    hermes = {
        "input": "turn on the kitchen lights",
        "intent": {"intentName": "HassTurnOn", "confidenceScore": 0.93},
        "slots": [
            {
                "slotName": "area",
                "entity": "area",
                "value": {"kind": "text", "value": "kitchen"},
                "rawValue": "kitchen",
            },
            {
                "slotName": "domain",
                "entity": "domain",
                "value": {"kind": "enum", "value": "light"},
                "rawValue": "lights",
            },
        ],
    }
    p = Prediction.coerce(hermes)
    assert (
        p.intent == "HassTurnOn"
        and p.confidence == 0.93
        and p.values == {"area": "kitchen", "domain": "light"}
    )
    assert Prediction.coerce({"intent": None, "slots": []}).intent is None


def test_canonical_values():
    assert canonical_value(50) == canonical_value(50.0) == canonical_value("50") == "50"
    assert canonical_value("The Kitchen") == "kitchen"
    assert canonical_value(21.5) == "21.5"


def test_threshold_sweep_trades_false_accepts_for_false_rejects():
    preds = [
        Prediction("HassTurnOn", dict(GOLD[0].values), 0.95),
        Prediction("HassLightSet", dict(GOLD[1].values), 0.6),
        Prediction("HassTurnOn", {}, 0.55),
        Prediction("HassTurnOn", {}, 0.3),
        Prediction("HassGetCurrentTime", {}, 0.9),
    ]
    rows = threshold_sweep(GOLD, preds, [0.0, 0.5, 0.58, 0.99])
    assert [r["oos_false_accept"] for r in rows] == [1.0, 0.5, 0.0, 0.0]
    assert [round(r["in_scope_false_reject"], 3) for r in rows] == [0.0, 0.0, 0.0, 1.0]


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        evaluate(GOLD, [])


def test_reads_all_three_file_formats(tmp_path):
    schema = Schema.load()
    rows = [
        # ../shared/data format (HWU64/SLURP labels and slot types)
        {"text": "turn off the porch light", "intent": "iot_hue_lightoff",
         "slots": [{"type": "house_place", "value": "porch", "start": 13, "end": 18}], "scenario": "iot"},
        {"text": "set an alarm at nine", "intent": "alarm_set", "slots": []},
        {"text": "play jazz", "intent": "play_music", "slots": []},  # skipped by the mapping
        # {"text", "intent", "slots": {name: value}}
        {"text": "set the hall lamp to 40%", "intent": "HassLightSet", "slots": {"name": "hall lamp", "brightness": 40}},
        # canonical spans without values: values are computed
        {"text": "open the garage door", "intent": "HassTurnOn", "slots": []},
        {"text": "dim the den", "intent": "LightDim",
         "slots": [{"type": "area", "value": "den", "start": 8, "end": 11}]},
    ]  # fmt: skip
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    examples, skipped = load_eval_examples(path, schema)
    assert skipped == 1
    assert [(e.intent, e.values) for e in examples] == [
        ("HassTurnOff", {"area": "porch", "domain": "light"}),
        (NOT_RECOGNIZED, {}),
        ("HassLightSet", {"name": "hall lamp", "brightness": 40}),
        ("HassTurnOn", {"domain": "cover", "device_class": "garage"}),
        ("LightDim", {"area": "den"}),
    ]
    assert examples[0].slots == (SlotSpan("area", "porch", 13, 18),)


def test_bad_gold_file_is_a_user_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "hi"}\n')
    with pytest.raises(UserError):
        load_eval_examples(path)
    path.write_text("not json\n")
    with pytest.raises(UserError, match="not valid JSON"):
        load_eval_examples(path)
