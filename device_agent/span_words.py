"""Words and helpers the span rules share (:mod:`device_agent.span_rules`, :mod:`device_agent.play_request_rules`).

A span is ``[slot, first word, last word, confidence]`` over the sentence's lower-cased written words.
"""

from __future__ import annotations

from typing import Any

Span = list[Any]

# text slots whose back-to-back spans are one value ("toilet" + "paper")
TEXT_SLOTS_MERGED = ("name", "area", "floor", "item", "search_query", "coffee_type", "color")
# A device's own name keeps the device noun that follows it ("the lava lamp" → name "lava lamp", as
# "desk lamp"); scene/script words are not part of a name ("the movie scene" → name "movie").
NAME_NOUNS = frozenset(
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
        # personal-care appliances on a smart plug ("did i leave the hair **straightener** on")
        "straightener", "straighteners", "tongs", "dryer", "dryers", "curler", "curlers", "trimmer",
    }
)  # fmt: skip


def taken_words(spans: list[list[Any]]) -> set[int]:
    """Indices of the words some span already covers."""
    return {w for _slot, first, last, _c in spans for w in range(first, last + 1)}


TARGET_PREPOSITIONS = frozenset(
    {"on", "in", "at", "through", "to", "into", "via", "throughout", "across", "around", "over", "near"}
)
DETERMINERS = frozenset({"the", "my", "our", "a", "an", "this", "that", "your"})
# what may stand between a preposition and the name it introduces: "on **erm the** front speaker", "in **you
# know the** den"
# speech fillers ("i mean" is two of them)
FILLERS = frozenset({"er", "erm", "uh", "um", "uhm", "hmm", "like", "i", "mean"})
BETWEEN = DETERMINERS | FILLERS | {"actually", "you", "know", "just"}


def word_before(span: list[Any], words: list[str]) -> str:
    """The word before a span, past determiners and fillers ("" at the start of the sentence)."""
    before = span[1] - 1
    while before >= 0 and words[before] in BETWEEN:
        before -= 1
    return words[before] if before >= 0 else ""


AREA_PREPOSITIONS = frozenset({"in", "inside", "around", "across", "throughout"})


def merge_adjacent_text_spans(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """Join back-to-back spans of the same text slot ("toilet" + "paper" → "toilet paper"), search-query
    spans across "by" ("bohemian rhapsody" by "queen" → "bohemian rhapsody by queen"), and items across "and"
    or a comma: "add eggs and milk" is one item, "eggs and milk", as Home Assistant's list takes it."""
    merged: list[list[Any]] = []
    for span in spans:
        prev = merged[-1] if merged else None
        same = prev is not None and prev[0] == span[0] and span[0] in TEXT_SLOTS_MERGED
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
