"""Slot decoding: word-level BIO tags → character spans → normalized values, plus inferred slots.

The model predicts a BIO tag on the first word-piece of every word. :func:`decode_slots` reads those
predictions with a constrained Viterbi pass (well-formed BIO, only the slots the intent carries), cuts the span
out of the ORIGINAL text using the tokenizer's offsets, normalizes the value by the slot's kind, and
adds the slots the schema infers rather than tags (``domain``, ``device_class``, ``volume_step``).
Schema conventions are enforced on the spans (docs/AGENT.md): spans are whole written words ("nan's room",
"19.5"), a duration slot follows its unit word, adjacent pieces of one text slot are joined, a search query
spans "by", a number keeps its spelled decimal part ("twenty one point five"), a ``name`` keeps the device
noun right after it ("lava lamp"), an ``area`` and the "room" around it are one area ("boiler room"), a list's
name runs up to "list", a timer's name is the words before "timer" ("the bread timer"), "is the X on" names
X when nothing else was tagged, a bare generic device word is never a ``name``, and an ``area``/``floor`` never
ends in one ("the bedroom tv" → area "bedroom"; the device word becomes the inferred ``domain``). Names the
bundle carries and the household's names (``device_agent.known_names``) get a bonus before the Viterbi pass.

Example:
    >>> schema = Schema.load()
    >>> [(s.slot, s.value) for s in infer_slots("open the garage door", "HassTurnOn", schema)]
    [('domain', 'cover'), ('device_class', 'garage')]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from device_agent.known_names import DEFAULT_KNOWN_NAME_BONUS, KnownNames
from device_agent.schema import NOT_RECOGNIZED, Schema
from device_agent.value_normalizers import COLOR_WORDS, fractional_durations, normalize_value, parse_number


@dataclass(frozen=True)
class SlotValue:
    """A decoded slot: its raw text and span in the input, normalized value, kind and confidence."""

    slot: str
    raw_value: str
    value: Any
    kind: str
    start: int
    end: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "raw_value": self.raw_value,
            "value": self.value,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "confidence": self.confidence,
        }


# === Tagged slots ===
def decode_slots(
    text: str,
    encoding: Any,
    tag_probs: np.ndarray,
    schema: Schema,
    intent: str | None,
    *,
    min_confidence: float = 0.0,
    outside_bias: float = 0.0,
    known: KnownNames | None = None,
    known_bonus: float = DEFAULT_KNOWN_NAME_BONUS,
) -> list[SlotValue]:
    """Decode tag probabilities into slot values (tagged spans + inferred slots).

    Args:
        text: the original text given to the tokenizer.
        encoding: its ``Encoding`` (``offsets`` and ``word_ids`` per token).
        tag_probs: float ``[L, n_tags]`` probabilities (or logits; only their argmax and softmax are used).
        schema: the schema whose ``slot_tags`` index the last axis.
        intent: the predicted intent; slots the intent cannot carry are dropped; None/NotRecognized → [].
        min_confidence: spans whose confidence is below this are dropped.
        outside_bias: added to the log-probability of the ``O`` tag before the Viterbi pass (calibrated in
            training: negative tags more words, positive fewer); reported confidences are the model's own.
        known: names to favour (:mod:`device_agent.known_names`: the bundle's and the household's): a listed
            phrase the intent can carry gets ``known_bonus`` added to its tags' log-probabilities before the
            Viterbi pass (and its reported confidence is the probability with the bonus).

    Returns:
        Slot values in text order, tagged spans first, then inferred slots.
    """
    if intent is None or intent == NOT_RECOGNIZED:
        return []
    probs = _as_probabilities(np.asarray(tag_probs, dtype=np.float32))
    tags = schema.slot_tags
    allowed = set(schema.intent_slots(intent)) if intent in schema.intents else set(schema.slots)

    words = word_spans(encoding)
    rows = [probs[t] for t, _s, _e in words if t < len(probs)]
    words = words[: len(rows)]
    word_texts = [text[s:e].lower() for _t, s, e in words]
    log_bias = None
    found: list[tuple[str, int, int]] = []
    if known:
        found = known.matches(word_texts, allowed, generic=schema.not_name_words, intent=intent)
        log_bias = _known_name_bias(found, len(word_texts), tags, known_bonus)
    path = viterbi_bio(np.asarray(rows).reshape(len(rows), len(tags)), tags, allowed, outside_bias, log_bias)
    if log_bias is not None:  # a listed phrase's confidence is the decoder's, bonus included
        boosted = np.asarray(rows, dtype=np.float64) * np.exp(log_bias)
        rows = list(boosted / boosted.sum(axis=1, keepdims=True))
    spans: list[list[Any]] = []  # slot, first word, last word, confidence
    for w, tag_id in enumerate(path):
        tag = tags[tag_id]
        if tag == "O":
            continue
        prefix, slot = tag.split("-", 1)
        p = rows[w]
        slot_prob = float(p[tags.index(f"B-{slot}")] + p[tags.index(f"I-{slot}")])
        if prefix == "I" and spans and spans[-1][0] == slot and spans[-1][2] == w - 1:
            spans[-1][2] = w
            spans[-1][3] = min(spans[-1][3], slot_prob)
        else:
            spans.append([slot, w, w, slot_prob])

    spans = _merge_adjacent_text_spans(spans, word_texts)
    spans = _with_spelled_decimals(spans, word_texts, schema)
    spans = [
        span for span in spans if _has_value(span, text, words, schema)
    ]  # frees "bread" for a timer name
    spans = _with_room_modifier(_with_trailing_device_noun(spans, word_texts), word_texts)
    if intent in _LIST_INTENTS:
        spans = _whole_list_names(spans, word_texts)
    if "color" in allowed and not any(span[0] == "color" for span in spans):
        spans = _colour_word_is_the_colour(spans, word_texts)
    if "color" in allowed:
        spans = _colour_after_to(spans, word_texts)
    listed = {(first, last) for _slot, first, last in found}
    if intent in _PLAY_INTENTS and "search_query" in allowed:
        spans = _unplaced_targets_are_queries(spans, word_texts, listed, schema.not_name_words)
        if not any(span[0] == "search_query" for span in spans):
            o = tags.index("O")
            not_o = [1.0 - float(p[o]) for p in rows]
            spans = _query_after_play_verb(spans, word_texts, not_o, schema.not_name_words)
        else:
            spans = _whole_query_words(spans, word_texts)
    elif intent in _ONE_OF_A_KIND_INTENTS:
        spans = [
            span for span in spans if span[0] != "name" or _names_a_device(span, word_texts, listed, intent)
        ]
    if "name" in allowed and (intent in _TIMER_INTENTS or intent == "HassGetState"):
        o = tags.index("O")
        not_o = [1.0 - float(p[o]) for p in rows]  # a rule's span confidence: how much the model saw a slot
        if intent in _TIMER_INTENTS:
            spans = _with_timer_name(spans, word_texts, not_o)
        else:
            spans = _with_state_question(spans, word_texts, not_o, "state" in allowed)
    out: list[SlotValue] = []
    for slot, first, last, conf in spans:
        start, end = _whole_words(text, words[first][1], words[last][2])
        if out and (out[-1].start, out[-1].end) == (start, end):
            continue  # "19" and "5" of "19.5": one written word, one value
        if slot in DURATION_SLOTS:
            slot = _duration_slot_by_unit(text, start, end, slot, allowed)
        if slot not in allowed or conf < min_confidence:
            continue
        if slot in ("area", "floor"):
            end = _end_before_device_words(text, start, end, schema)
        raw = text[start:end]
        spec = schema.slot(slot)
        value = normalize_value(spec.kind, raw, slot, spec.values)
        if value is None or (slot == "name" and _is_generic_device_word(value, schema)):
            continue
        out.append(SlotValue(slot, raw, value, spec.kind, start, end, round(conf, 4)))
    if allowed & set(DURATION_SLOTS):
        out = _with_fractional_durations(out, text, allowed, schema)
    out += infer_slots(
        text, intent, schema, exclude=[(s.start, s.end) for s in out if s.slot in ("area", "floor")]
    )
    return out


def _with_fractional_durations(
    out: list[SlotValue], text: str, allowed: set[str], schema: Schema
) -> list[SlotValue]:
    """A duration said with a fraction replaces the duration values the tags gave around it: "half an hour" is
    minutes 30 (the tags give "an hour" → hours 1), "an hour and a half" hours 1 + minutes 30."""
    for start, end, parts in fractional_durations(text):
        if not set(parts) <= allowed:
            continue
        near = [s for s in out if s.slot in DURATION_SLOTS and s.start < end and start < s.end]
        confidence = min((s.confidence for s in near), default=0.0)
        out = [s for s in out if s not in near and not (s.slot in parts and s.slot in DURATION_SLOTS)]
        raw = text[start:end]
        for slot, value in parts.items():
            out.append(SlotValue(slot, raw, value, schema.slot(slot).kind, start, end, round(confidence, 4)))
    return sorted(out, key=lambda s: s.start)


DURATION_SLOTS = ("hours", "minutes", "seconds")
_UNIT_WORDS = {
    "hours": ("hour", "hours", "hr", "hrs", "h"),
    "minutes": ("minute", "minutes", "min", "mins", "m"),
    "seconds": ("second", "seconds", "sec", "secs", "s"),
}
_TEXT_SLOTS_MERGED = ("name", "area", "floor", "item", "search_query", "coffee_type", "color")
# A device's own name keeps the device noun that follows it ("the lava lamp" → name "lava lamp", as
# "desk lamp"); scene/script words are not part of a name ("the movie scene" → name "movie").
_NAME_NOUNS = frozenset(
    {
        "lamp", "lamps", "light", "lights", "lite", "lites", "bulb", "bulbs", "fan", "fans", "heater",
        "speaker", "speakers", "tv", "television", "blind", "blinds", "shade", "shades", "curtain", "curtains",
        "shutter", "shutters", "plug", "plugs", "socket", "sockets", "outlet", "outlets", "switch", "switches",
        "sensor", "sensors", "heaters", "door", "doors", "gate", "gates", "window", "windows", "valve", "valves",
        "lock", "locks", "thermostat", "thermostats", "radiator", "radiators", "spotlight", "spotlights",
        "sconce", "sconces", "chandelier", "chandeliers", "soundbar", "stereo", "vacuum", "led", "leds",
        "downlight", "downlights", "pump", "pumps", "projector", "machine", "purifier", "humidifier",
        "dehumidifier", "kettle", "charger", "fountain", "player", "receiver", "split", "strip", "lantern",
        "sprinkler", "sprinklers", "camera", "tube", "diffuser", "blanket", "cooker", "fryer",
    }
)  # fmt: skip


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "'’-"


def _in_number(text: str, i: int) -> bool:
    """``text[i]`` is the point or comma inside a written number ("19.5", "1,000")."""
    return text[i] in ".," and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to whole written words: the tokenizer splits "nan's", "sweeps-a-lot" and "19.5" at
    punctuation, and a span that starts at "s" of "nan's room" means "nan's room". Quotes around the span are
    not part of it ("play 'dreams'" → "dreams")."""

    def joined(i: int) -> bool:  # text[i] and text[i - 1] belong to one written word
        both = _is_word_char(text[i - 1]) and _is_word_char(text[i])
        return both or _in_number(text, i) or _in_number(text, i - 1)

    while start > 0 and joined(start):
        start -= 1
    while end < len(text) and joined(end):
        end += 1
    while start < end and text[start] in "'’":  # an opening quote
        start += 1
    quoted = start > 0 and text[start - 1] in "'’‘\""
    while end > start and text[end - 1] in "'’-":  # "the kids'" keeps its apostrophe, not "lamp-"
        if not quoted and text[end - 1] in "'’" and end - 2 >= start and text[end - 2] in "sS":
            break
        end -= 1
    return start, end


_AREA_HEADS = frozenset({"room", "closet"})
_NOT_MODIFIERS = frozenset(
    {"the", "my", "our", "your", "a", "an", "this", "that", "in", "on", "at", "of", "to", "for", "every",
     "each", "whole", "entire", "all", "any", "some", "and", "or", "'", "’", "-"}
)  # fmt: skip


def _taken_words(spans: list[list[Any]]) -> set[int]:
    """Indices of the words some span already covers."""
    return {w for _slot, first, last, _c in spans for w in range(first, last + 1)}


def _with_room_modifier(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """An area and the "room"/"closet" around it are one area: a bare "room" takes the word before it
    ("boiler" + "room" → "boiler room", also when "boiler" was tagged a one-word name), and an area right
    before an untagged "room" takes it ("grandma's" + "room")."""
    taken = _taken_words(spans)
    absorbed: set[int] = set()  # indices of one-word names that became an area's first word
    for i, span in enumerate(spans):
        if span[0] != "area":
            continue
        prev, nxt = span[1] - 1, span[2] + 1
        if span[1] == span[2] and words[span[1]] in _AREA_HEADS and prev >= 0:
            before = spans[i - 1] if i > 0 else None
            if prev not in taken and words[prev].isalpha() and words[prev] not in _NOT_MODIFIERS:
                span[1] = prev
            elif before and before[0] == "name" and before[1] == before[2] == prev and words[prev].isalpha():
                span[1] = prev
                absorbed.add(i - 1)
        elif nxt < len(words) and nxt not in taken and words[nxt] in _AREA_HEADS:
            span[2] = nxt
    return [span for k, span in enumerate(spans) if k not in absorbed]


def _with_trailing_device_noun(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """Extend each ``name`` span over a device noun right after it ("lava" + "lamp" → "lava lamp")."""
    taken = _taken_words(spans)
    for span in spans:
        nxt = span[2] + 1
        if span[0] == "name" and nxt < len(words) and nxt not in taken and words[nxt] in _NAME_NOUNS:
            span[2] = nxt
    return spans


def _colour_word_is_the_colour(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A light-setting request the model gave no colour, whose lone colour word it read as a room or a name
    ("turn the hallway light **red**" → area red), sets that colour."""
    for span in spans:
        if span[0] in ("area", "name") and span[1] == span[2] and words[span[1]] in COLOR_WORDS:
            span[0] = "color"
            break
    return spans


def _colour_after_to(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """'from blue to white': the colour to set is the one after "to" (tagged, or a colour word a few words
    on: "to a nice **blue**"), not the one after "from"."""
    for span in spans:
        if span[0] != "color" or span[1] == 0 or words[span[1] - 1] != "from":
            continue
        to = next((k for k in range(span[2] + 1, min(span[2] + 3, len(words))) if words[k] == "to"), None)
        if to is None:
            continue
        for j in range(to + 1, min(to + 4, len(words))):
            target = next((o for o in spans if o[0] == "color" and o[1] == j), None)
            if target is not None or words[j] in COLOR_WORDS:
                rest = [o for o in spans if o is not span and o is not target]
                return sorted([*rest, target or ["color", j, j, span[3]]], key=lambda o: o[1])
    return spans


_LIST_INTENTS = frozenset({"HassListAddItem"})


def _whole_list_names(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A list's name runs up to the word "list" ("hardware" + "store" + list → "hardware store"), never
    takes it ("packing list" tagged whole, as a listed name is → "packing"), and "do" of "to do" keeps its
    "to"."""
    taken = _taken_words(spans)
    for span in spans:
        if span[0] != "name":
            continue
        if span[2] > span[1] and words[span[2]] == "list":
            span[2] -= 1
        after = range(span[2] + 1, min(span[2] + 3, len(words)))
        for end in after:
            if words[end] == "list":
                if all(w not in taken and words[w].isalpha() for w in range(span[2] + 1, end)):
                    span[2] = end - 1
                break
        if words[span[1]] == "do" and span[1] > 0 and words[span[1] - 1] == "to" and span[1] - 1 not in taken:
            span[1] -= 1
    return spans


_PLAY_INTENTS = frozenset({"HassMediaSearchAndPlay"})
_TARGET_PREPOSITIONS = frozenset(
    {"on", "in", "at", "through", "to", "into", "via", "throughout", "across", "around", "over", "near"}
)
_DETERMINERS = frozenset({"the", "my", "our", "a", "an", "this", "that", "your"})
# what may stand between a preposition and the name it introduces: "on **erm the** front speaker", "in **you
# know the** den"
_BETWEEN = _DETERMINERS | {"erm", "uh", "um", "er", "like", "actually", "i", "mean", "you", "know", "just"}


def _word_before(span: list[Any], words: list[str]) -> str:
    """The word before a span, past determiners and fillers ("" at the start of the sentence)."""
    before = span[1] - 1
    while before >= 0 and words[before] in _BETWEEN:
        before -= 1
    return words[before] if before >= 0 else ""


def _unplaced_targets_are_queries(
    spans: list[list[Any]], words: list[str], listed: set[tuple[int, int]], generic: frozenset[str]
) -> list[list[Any]]:
    """In a play request the player and the room come after a preposition ("play jazz **on** the kitchen
    speaker", "**in** the office"); a name or area tagged elsewhere ("play enrique", "play me barcelona by
    queen", "play my gym playlist") is what to play: it becomes (part of) the ``search_query``. The
    sentence's first word (a player addressed by name), listed names (unless a kind of media follows: "my
    **gym** playlist") and device words ("the tv") are left alone."""
    changed = False
    classed = {span[1] - 1 for span in spans if span[0] == "media_class"}  # "my **gym** playlist"
    for span in spans:
        if span[0] not in ("name", "area") or span[1] == 0:
            continue
        if (span[1], span[2]) in listed and span[2] not in classed:
            continue
        if all(word in generic for word in words[span[1] : span[2] + 1]):
            continue
        if _word_before(span, words) not in _TARGET_PREPOSITIONS:
            span[0] = "search_query"
            changed = True
    return _query_without_lead(_merge_adjacent_text_spans(spans, words) if changed else spans, words)


_PLAY_VERBS = frozenset({"play", "hear", "playing"})
_AFTER_VERB_SKIP = frozenset(
    {"me", "us", "some", "the", "a", "an", "my", "our", "your", "any", "something", "anything"}
)
_NOT_A_QUERY_END = frozenset({"now", "please", "next", "again", "too", "then", "thanks"})
_QUERY_STOPS = _TARGET_PREPOSITIONS | {"with", "for"}
_NOT_A_QUERY_WORDS = frozenset(
    {"something", "anything", "music", "songs", "song", "tunes", "stuff", "it", "that", "this", "more", "some",
     "all", "radio", "track", "tracks", "album", "playlist", "podcast", "movie", "show", "episode", "one", "good"}
)  # fmt: skip


def _query_after_play_verb(
    spans: list[list[Any]], words: list[str], slot_probs: list[float], generic: frozenset[str]
) -> list[list[Any]]:
    """A play request without a query: the untagged words right after "play" / "hear" / "listen to" (up to a
    tagged span, a preposition or the end; without "me", "some", "now", "please") are what to play ("play
    **chopin**", "i want to hear **love me**"). Nothing when those are only media words ("play some music")."""
    taken = _taken_words(spans)
    verb = next(
        (
            i
            for i, w in enumerate(words)
            if w in _PLAY_VERBS or (w == "to" and i > 0 and words[i - 1] == "listen")
        ),
        None,
    )
    if verb is None:
        return spans
    classed = {w for span in spans if span[0] == "media_class" for w in range(span[1], span[2] + 1)}
    first = verb + 1  # past "me", "some", "the" and a kind of media ("play the **album** thriller")
    while first < len(words) and (
        first in classed or (first not in taken and words[first] in _AFTER_VERB_SKIP)
    ):
        first += 1
    last = first
    while last < len(words) and last not in taken and words[last] not in _QUERY_STOPS:
        if not (words[last].isalnum() or "'" in words[last]):
            break
        last += 1
    last -= 1
    while last >= first and words[last] in _NOT_A_QUERY_END:
        last -= 1
    run = words[first : last + 1]
    if not run or all(w in _NOT_A_QUERY_WORDS or w in generic for w in run):
        return spans
    query = ["search_query", first, last, min(slot_probs[first : last + 1])]
    return _query_without_lead(sorted([*spans, query], key=lambda span: span[1]), words)


_MEDIA_NOUNS = frozenset({"music", "song", "songs", "track", "tracks", "album", "albums", "stuff", "tunes"})
_QUERY_EDGE_STOPS = (
    _QUERY_STOPS | _MEDIA_NOUNS | _AFTER_VERB_SKIP | _NOT_A_QUERY_END | _PLAY_VERBS
    | {"playlist", "podcast", "movie", "show", "episode", "episodes", "artist", "listen", "put", "queue", "start", "up",
       "want", "like", "love", "hear", "i", "to", "of", "and", "by", "from", "genre", "favorite", "favourite",
       "most", "latest", "newest", "rated", "watch", "list", "plz", "thats", "that's", "let's", "lets", "new", "old",
       "would", "could", "are", "is", "only", "that", "this", "popular"}
    | _BETWEEN
)  # fmt: skip


def _whole_query_words(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A one-word query the model cut short takes the untagged title words around it: "time to hear me some
    blake **shelton**" → "blake shelton", "put on cannibal **queen**" → "cannibal queen", "dynamite by **acdc**"
    → "dynamite by acdc"; never past a verb, a preposition, a media word, a filler or another span."""
    taken = _taken_words(spans)

    def free(w: int) -> bool:
        return (
            0 <= w < len(words)
            and w not in taken
            and words[w].isalnum()
            and words[w] not in _QUERY_EDGE_STOPS
        )

    for span in spans:
        if span[0] != "search_query" or span[2] > span[1]:
            continue
        while free(span[1] - 1) or (span[1] >= 2 and words[span[1] - 1] == "by" and free(span[1] - 2)):
            span[1] -= 2 if words[span[1] - 1] == "by" else 1
        while free(span[2] + 1):
            span[2] += 1
    return _query_without_lead(_merge_adjacent_text_spans(spans, words), words)


_QUERY_NEVER_ENDS = frozenset({"by", "from", "of", "and", "the", "to", "for", "a"})


def _query_without_lead(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A query keeps "by <artist>" after a title (SCHEMA.md), but one that starts with it is only the artist:
    "play music **by queen**", "all songs **of eminem**", "the newest album **by jay z**" → the artist. A
    leading "music" is no part of a title ("play music **true love**"), nor a trailing "by" ("the veldt by")."""
    for span in spans:
        if span[0] != "search_query":
            continue
        while span[2] > span[1] and words[span[2]] in _QUERY_NEVER_ENDS:
            span[2] -= 1
        if (
            words[span[1]] in ("music", "songs", "tunes")
            and span[2] > span[1]
            and words[span[1] + 1]
            not in (
                "by",
                "of",
            )
        ):
            span[1] += 1
        first, last = span[1], span[2]
        if words[first] in ("all", "some") and first < last and words[first + 1] in _MEDIA_NOUNS:
            first += 1
        lead = ("by", "of") if words[first] in _MEDIA_NOUNS and first < last else ()
        if lead:
            first += 1
        if first < last and (words[first] == "by" or (lead and words[first] in lead)):
            span[1] = first + 1
    return spans


# Intents whose ``name`` is an optional target a home has one or two of: its weather service, its coffee
# machine. An unlisted word tagged there is far more often part of the request ("the weather **outside**", "my
# **morning** coffee") than a name.
_ONE_OF_A_KIND_INTENTS = frozenset({"HassGetWeather", "MakeCoffee"})
_MACHINE_CUES = frozenset({"on", "using", "with", "in", "at", "from", "start", "run", "use"})
_MACHINE_NOUNS = _NAME_NOUNS | {"brewer", "maker", "barista", "grinder"}


def _names_a_device(span: list[Any], words: list[str], listed: set[tuple[int, int]], intent: str) -> bool:
    """Whether a ``name`` span of a one-of-a-kind intent is kept. A listed name (the bundle's or the home's)
    always. A weather service only then: Home Assistant answers a weather name it does not know with an
    error and no name with the first weather entity. A coffee machine also when the words say it is one:
    after on/using/with/start/run ("make a latte on the **jura**", "run the **zoel**") or ending in a machine
    noun ("the **copper coffee machine**")."""
    if (span[1], span[2]) in listed:
        return True
    if intent != "MakeCoffee":
        return False
    return _word_before(span, words) in _MACHINE_CUES or words[span[2]] in _MACHINE_NOUNS


_TIMER_INTENTS = frozenset({"HassStartTimer", "HassCancelTimer", "HassTimerStatus"})
_TIMER_WORDS = frozenset({"timer", "timers"})
_NOT_TIMER_NAMES = frozenset(
    {
        "a", "an", "the", "my", "our", "your", "this", "that", "these", "those", "all", "every", "each", "any",
        "current", "new", "another", "other", "next", "first", "last", "previous", "running", "active", "one",
        "countdown", "kitchen", "hour", "hours", "minute", "minutes", "second", "seconds", "min", "mins", "sec",
        "secs", "hr", "hrs", "half", "quarter", "and", "for", "of", "to", "on", "in", "off", "set", "start",
        "stop", "cancel", "pause", "is", "how", "long", "much", "left", "named", "called", "delete", "remove",
        "clear", "end", "kill", "restart", "resume", "create", "make", "add", "put", "check", "please",
        # fillers, pronouns, greetings and question words are no names either ("timer for **me**", "hey there
        # timer", "when will timer end")
        "me", "us", "you", "i", "it", "like", "actually", "mean", "know", "just", "um", "uh", "er", "erm", "so",
        "ok", "okay", "hey", "hi", "there", "would", "could", "can", "will", "does", "do", "are", "when", "what",
        "what's", "whats", "how's", "hows", "status", "thanks", "thank", "computer",
    }
)  # fmt: skip


def _with_timer_name(spans: list[list[Any]], words: list[str], slot_probs: list[float]) -> list[list[Any]]:
    """The schema's timer names: the words before "timer" ("start a **pasta** timer", "the **eggs** timer")
    or after "timer named/called/for" ("a ten minute timer for the **eggs**") are the ``name`` when the model
    left them untagged and tagged no name."""
    if any(span[0] == "name" for span in spans):
        return spans
    taken = _taken_words(spans)

    def free(w: int) -> bool:
        word = words[w]
        return (
            w not in taken and word.isalpha() and word not in _NOT_TIMER_NAMES and parse_number(word) is None
        )

    for t, word in enumerate(words):
        if word not in _TIMER_WORDS:
            continue
        first = t
        while first > 0 and t - first < 3 and free(first - 1):
            first -= 1
        last = t
        if first == t and t + 1 < len(words) and words[t + 1] in ("named", "called", "for"):
            first = t + 2  # Home Assistant's "ten minute timer named / called / for {name}"
            while first < len(words) and first not in taken and words[first] in ("the", "my", "our"):
                first += 1
            last = first
            while last < len(words) and last - first < 3 and free(last):
                last += 1
        if first < last:
            name = ["name", first, last - 1, min(slot_probs[first:last])]
            return sorted([*spans, name], key=lambda span: span[1])
        return spans
    return spans


_STATE_WORDS = frozenset({"on", "off", "open", "closed", "locked", "unlocked"})


def _with_state_question(
    spans: list[list[Any]], words: list[str], slot_probs: list[float], state_allowed: bool
) -> list[list[Any]]:
    """Home Assistant's "is the {name} {state}": in "is the sliding door open" the words between "is the" and
    the state word are the ``name`` (and the state word the ``state``) when the model tagged no name, area or
    floor there. A generic device word stays a domain (the caller drops it as a name)."""
    end = len(words)
    while end and not words[end - 1].isalpha():
        end -= 1  # "?" and "!"
    if end < 4 or words[0] not in ("is", "are") or words[1] not in ("the", "my", "our"):
        return spans
    if words[end - 1] not in _STATE_WORDS:
        return spans
    last = end - 2 if words[end - 2] != "still" else end - 3
    taken = _taken_words(spans)
    if any(span[0] in ("name", "area", "floor") for span in spans):
        # X was tagged (a listed name, say) and the state word was not: "is the sliding door open"
        named = any(span[0] in ("name", "area", "floor") and span[2] == last for span in spans)
        if named and state_allowed and end - 1 not in taken:
            return sorted(
                [*spans, ["state", end - 1, end - 1, slot_probs[end - 1]]], key=lambda span: span[1]
            )
        return spans
    middle = range(2, last + 1)
    if not 1 <= len(middle) <= 4 or any(w in taken or not words[w].isalpha() for w in middle):
        return spans
    added = [["name", 2, last, min(slot_probs[2 : last + 1])]]
    if state_allowed and end - 1 not in taken:
        added.append(["state", end - 1, end - 1, slot_probs[end - 1]])
    return sorted([*spans, *added], key=lambda span: span[1])


def _duration_slot_by_unit(text: str, start: int, end: int, slot: str, allowed: set[str]) -> str:
    """The duration slot named by the unit word inside or right after the span ("ten minutes" → minutes)."""
    words = [w for w, _s, _e in _tokens(text[start:])][:8]
    span_words = len(_tokens(text[start:end]))
    for word in words[: span_words + 1]:
        for unit, names in _UNIT_WORDS.items():
            if word in names and unit in allowed:
                return unit
    return slot


def _merge_adjacent_text_spans(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """Join back-to-back spans of the same text slot ("toilet" + "paper" → "toilet paper"), search-query
    spans across "by" ("bohemian rhapsody" by "queen" → "bohemian rhapsody by queen"), and items across "and"
    or a comma: "add eggs and milk" is one item, "eggs and milk", as Home Assistant's list takes it."""
    merged: list[list[Any]] = []
    for span in spans:
        prev = merged[-1] if merged else None
        same = prev is not None and prev[0] == span[0] and span[0] in _TEXT_SLOTS_MERGED
        back_to_back = same and prev[2] == span[1] - 1
        across_by = (
            same and span[0] == "search_query" and prev[2] == span[1] - 2 and words[span[1] - 1] == "by"
        )
        across_and = (
            same and span[0] == "item" and prev[2] == span[1] - 2 and words[span[1] - 1] in (",", "and", "&")
        )
        if back_to_back or across_by or across_and:
            prev[2] = span[2]
            prev[3] = min(prev[3], span[3])
        else:
            merged.append(list(span))
    return merged


def _with_spelled_decimals(spans: list[list[Any]], words: list[str], schema: Schema) -> list[list[Any]]:
    """A number slot takes a spelled decimal part right after it ("twenty one" + "point five" → 21.5), tagged
    as a second span of the slot or not tagged at all."""
    out: list[list[Any]] = []
    for span in spans:
        prev = out[-1] if out else None
        decimal_part = prev is not None and prev[0] == span[0] and prev[2] == span[1] - 1
        if decimal_part and words[span[1]] == "point" and schema.slot(span[0]).kind == "number":
            prev[2], prev[3] = span[2], min(prev[3], span[3])
            continue
        out.append(list(span))
    taken = _taken_words(out)
    for span in out:
        point = span[2] + 1
        if schema.slot(span[0]).kind != "number" or point in taken or words[point : point + 1] != ["point"]:
            continue
        end = point + 1
        while end < len(words) and end not in taken and _is_digit_word(words[end]):
            end += 1
        if end > point + 1:
            span[2] = end - 1
    return _with_and_a_half(out, words, schema)


_AND_FRACTIONS = (["and", "a", "half"], ["and", "a", "quarter"], ["and", "three", "quarters"])


def _with_and_a_half(spans: list[list[Any]], words: list[str], schema: Schema) -> list[list[Any]]:
    """A number takes "and a half" / "and a quarter" right after it ("21" + "and a half" → 21.5), whether the
    model tagged "half" as a second span of the slot or left it untagged."""
    for span in spans:
        if schema.slot(span[0]).kind != "number":
            continue
        after = span[2] + 1
        fraction = next((f for f in _AND_FRACTIONS if words[after : after + len(f)] == f), None)
        if fraction is None:
            continue
        end = after + len(fraction) - 1
        others = [o for o in spans if o is not span and o[1] <= end and o[2] >= after]
        if normalize_value("number", " ".join(words[span[1] : end + 1])) is not None and all(
            o[0] == span[0] and o[1] >= after and o[2] <= end for o in others
        ):
            span[2] = end
            spans = [o for o in spans if o not in others]
    return spans


_NUMBER_KINDS = frozenset({"integer_percent", "number", "duration_part"})


def _has_value(span: list[Any], text: str, words: list[tuple[int, int, int]], schema: Schema) -> bool:
    """False for a number slot's span that holds no number ("start a timer named **bread**" tagged as minutes):
    it would be dropped anyway, and its words are left to the rules that come after."""
    spec = schema.slot(span[0])
    if spec.kind not in _NUMBER_KINDS:
        return True
    start, end = _whole_words(text, words[span[1]][1], words[span[2]][2])
    return normalize_value(spec.kind, text[start:end], span[0], spec.values) is not None


def _is_digit_word(word: str) -> bool:
    value = parse_number(word)
    return value is not None and value == int(value) and 0 <= value <= 9


def _end_before_device_words(text: str, start: int, end: int, schema: Schema) -> int:
    """The end of an area/floor span without trailing generic device words ("living room lights" → "living room").

    A span that is nothing but device words ("garage") is kept whole; a hyphen separates words too
    ("kitchen-light" → "kitchen").
    """
    words = list(re.finditer(r"[^\s-]+", text[start:end]))
    for first in range(1, len(words)):
        tail = text[start + words[first].start() : end].lower()
        if tail in schema.generic_device_words:
            return start + words[first - 1].end()
    return end


def _is_generic_device_word(value: Any, schema: Schema) -> bool:
    """A bare generic device word ("lights", "the tv", "blinds") is a domain, never a device's own name."""
    return str(value).lower() in schema.generic_device_words


@functools.lru_cache(maxsize=8)
def _bio_transitions(tags: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``trans[a, b]`` = 0 where tag b may follow tag a, else -1e9; and which tags are ``I-``."""
    k = len(tags)
    trans = np.zeros((k, k), dtype=np.float32)
    for b, tb in enumerate(tags):
        if tb.startswith("I-"):
            slot = tb[2:]
            for a, ta in enumerate(tags):
                if ta not in (f"B-{slot}", f"I-{slot}"):
                    trans[a, b] = -1e9
    return trans, np.array([t.startswith("I-") for t in tags])


def _known_name_bias(
    found: Sequence[tuple[str, int, int]], n_words: int, tags: Sequence[str], bonus: float
) -> np.ndarray | None:
    """``[n_words, tags]`` log-probability bonuses for the household's phrases ``found`` (None: none)."""
    if not found:
        return None
    index = {t: i for i, t in enumerate(tags)}
    bias = np.zeros((n_words, len(tags)), dtype=np.float64)
    for slot, first, last in found:
        bias[first, index[f"B-{slot}"]] += bonus
        bias[first + 1 : last + 1, index[f"I-{slot}"]] += bonus
    return bias


def viterbi_bio(
    probs: np.ndarray,
    tags: Sequence[str],
    allowed: set[str],
    outside_bias: float = 0.0,
    log_bias: np.ndarray | None = None,
) -> list[int]:
    """The most probable well-formed BIO tag sequence (per word), using only the ``allowed`` slots.

    ``I-x`` may only follow ``B-x`` or ``I-x``; tags of slots the intent cannot carry are excluded. A
    span's boundaries are thus decided jointly ("tv room" as one area rather than "room" alone).
    ``outside_bias`` is added to every word's ``O`` log-probability (a prior shift: < 0 tags more);
    ``log_bias`` (``[n, k]``, optional) is added to the log-probabilities as they are (the household's names).
    """
    n, k = probs.shape
    if n == 0:
        return []
    logp = np.log(np.clip(probs, 1e-9, 1.0))
    if outside_bias and "O" in tags:
        logp[:, list(tags).index("O")] += outside_bias
    if log_bias is not None:
        logp = logp + log_bias
    banned = np.array([t != "O" and t.split("-", 1)[1] not in allowed for t in tags])
    logp[:, banned] = -1e9
    trans, is_inside = _bio_transitions(tuple(tags))
    score = logp[0] + np.where(is_inside, -1e9, 0.0)
    back = np.zeros((n, k), dtype=np.int64)
    for i in range(1, n):
        cand = score[:, None] + trans
        back[i] = cand.argmax(0)
        score = cand.max(0) + logp[i]
    path = [int(score.argmax())]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return path[::-1]


def word_spans(encoding: Any, join_hyphenated: bool = True) -> list[tuple[int, int, int]]:
    """Per written word: (index of its first token, start char, end char) from an Encoding's word_ids/offsets.

    The tokenizer splits at punctuation; with ``join_hyphenated`` a hyphen with a word touching it on both
    sides ("walk-in", "hi-fi", "twenty-one") joins them into one written word, read on its first piece like
    a word split into pieces, so "in" of "walk-in closet" is never read as the preposition. Training labels
    every tokenizer word (``join_hyphenated=False``): the first piece of a hyphenated word carries the
    word's tag either way.
    """
    words: list[list[int]] = []
    last_word = None
    for i, (wid, (start, end)) in enumerate(zip(encoding.word_ids, encoding.offsets, strict=False)):
        if wid is None:
            last_word = None
            continue
        if wid != last_word:
            words.append([i, start, end])
            last_word = wid
        else:
            words[-1][2] = max(words[-1][2], end)
    if join_hyphenated:
        words = _join_hyphenated(words, getattr(encoding, "tokens", None) or ())
    return [(a, b, c) for a, b, c in words]


def _join_hyphenated(words: list[list[int]], tokens: Sequence[str]) -> list[list[int]]:
    """Merge word, "-", word runs whose characters touch (no space around the hyphen)."""
    out: list[list[int]] = []
    i = 0
    while i < len(words):
        word = list(words[i])
        while (
            i + 2 < len(words)
            and words[i + 1][0] < len(tokens)
            and tokens[words[i + 1][0]] == "-"
            and words[i + 1][1] == word[2]
            and words[i + 2][1] == words[i + 1][2]
        ):
            word[2] = words[i + 2][2]
            i += 2
        out.append(word)
        i += 1
    return out


def tags_a_slot(encoding: Any, tag_probs: np.ndarray, schema: Schema, min_probability: float = 0.5) -> bool:
    """Whether the tagger, unconstrained by any intent, puts some word in a slot with at least
    ``min_probability`` ("cancel my **gym** membership": area)."""
    probs = _as_probabilities(np.asarray(tag_probs, dtype=np.float32))
    outside = schema.slot_tags.index("O")
    for token, _start, _end in word_spans(encoding):
        if token < len(probs):
            best = int(np.argmax(probs[token]))
            if best != outside and probs[token][best] >= min_probability:
                return True
    return False


def _as_probabilities(x: np.ndarray) -> np.ndarray:
    if x.size and (x.min() < 0 or not np.allclose(x.sum(-1), 1.0, atol=1e-2)):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    return x


def slot_values_dict(slots: Iterable[SlotValue]) -> dict[str, Any]:
    """``{slot: value}``, keeping the most confident value when a slot occurs twice."""
    best: dict[str, SlotValue] = {}
    for s in slots:
        if s.slot not in best or s.confidence > best[s.slot].confidence:
            best[s.slot] = s
    return {k: v.value for k, v in best.items()}


# === Inferred slots ===
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SWITCH_VERB_NEXT = {
    "on",
    "off",
    "the",
    "my",
    "it",
    "all",
    "everything",
    "our",
    "them",
    "that",
    "this",
    "over",
    "to",
}


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text.lower())]


_TABLES: dict[int, tuple[dict[str, list[str]], list[tuple[list[str], str]]]] = {}


def _phrase_table(phrases: dict[str, list[str]]) -> list[tuple[list[str], str]]:
    """Phrases split into words, longest first (cached per phrase dict; the dict is kept alive with it)."""
    cached = _TABLES.get(id(phrases))
    if cached is None or cached[0] is not phrases:
        table = sorted(
            ((p.split(), key) for key, ps in phrases.items() for p in ps), key=lambda x: -len(x[0])
        )
        cached = _TABLES[id(phrases)] = (phrases, table)
    return cached[1]


def _find_phrases(
    tokens: Sequence[tuple[str, int, int]], phrases: dict[str, list[str]]
) -> list[tuple[str, int, int, int]]:
    """Longest-first matches of phrase lists: (key, start char, end char, token index)."""
    table = _phrase_table(phrases)
    words = [t[0] for t in tokens]
    used = [False] * len(tokens)
    found = []
    for phrase, key in table:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == phrase and not any(used[i : i + n]):
                for j in range(i, i + n):
                    used[j] = True
                found.append((key, tokens[i][1], tokens[i + n - 1][2], i))
    return sorted(found, key=lambda f: f[1])


def infer_slots(
    text: str, intent: str, schema: Schema, exclude: Sequence[tuple[int, int]] = ()
) -> list[SlotValue]:
    """Slots the schema infers from the words: domain and device_class (device intents), volume_step.

    Words inside ``exclude`` spans (the area/floor) are ignored ("tv room lights" → light, not media_player).
    The last matching noun wins ("the lamp by the tv" is rare; "the tv lights" is common); verbs decide
    when no noun does (open/close → cover, lock/unlock → lock, and lock/unlock win for HassTurnOn/Off).
    """
    if intent not in schema.intents:
        return []
    allowed = set(schema.intent_slots(intent))
    inference = schema.inference
    toks = [t for t in _tokens(text) if not any(a <= t[1] < b for a, b in exclude)]
    out: list[SlotValue] = []

    if "volume_step" in allowed:
        hits = _find_phrases(toks, inference.get("volume_step_words", {}))
        if hits:
            step, start, end, _ = hits[0]
            out.append(SlotValue("volume_step", text[start:end], step, "enum", start, end, 1.0))

    if intent not in inference.get("intents_with_domain", []):
        return out
    nouns = [
        t
        for t in toks
        if not (t[0] == "switch" and (_next_word(toks, t) in _SWITCH_VERB_NEXT or toks.index(t) == 0))
    ]
    domain_hits = _find_phrases(nouns, inference.get("domain_words", {}))
    class_hits = _find_phrases(nouns, inference.get("device_class_words", {}))
    verb_hits = [
        (inference["verb_domains"][w], s, e) for w, s, e in toks if w in inference.get("verb_domains", {})
    ]

    domain = domain_hits[-1] if domain_hits else None
    lock_verb = next((v for v in verb_hits if v[0] == "lock"), None)
    if lock_verb and intent in ("HassTurnOn", "HassTurnOff", "HassGetState"):
        domain = (lock_verb[0], lock_verb[1], lock_verb[2], -1)
    elif domain is None and class_hits:
        domain = ("cover", class_hits[-1][1], class_hits[-1][2], -1)
    elif domain is None and verb_hits and intent != "HassGetState":
        domain = (verb_hits[0][0], verb_hits[0][1], verb_hits[0][2], -1)

    if domain is not None and "domain" in allowed:
        key, start, end, _ = domain
        out.append(SlotValue("domain", text[start:end], key, "enum", start, end, 1.0))
    if (
        class_hits
        and "device_class" in allowed
        and (domain is None or domain[0] in ("cover", "binary_sensor"))
    ):
        key, start, end, _ = class_hits[-1]
        out.append(SlotValue("device_class", text[start:end], key, "enum", start, end, 1.0))
    return out


def _next_word(toks: Sequence[tuple[str, int, int]], t: tuple[str, int, int]) -> str:
    i = toks.index(t)
    return toks[i + 1][0] if i + 1 < len(toks) else ""
