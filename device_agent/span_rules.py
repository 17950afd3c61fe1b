"""The schema's span conventions as rules over decoded spans (used by :mod:`device_agent.slot_decoding`).

A span is ``[slot, first word, last word, confidence]`` over the sentence's lower-cased written words. The
model's tags give the spans; these rules repair them where the schema (sample_data/SCHEMA.md) or Home
Assistant decides what the words mean: spans cut in two ("toilet" + "paper"), a device's noun ("lava lamp"), an
area's "room", places that are areas ("in the stairwell"), "add {item} to the {name} list", colours ("from blue
to white"), what a play request names, one-of-a-kind devices (the weather service, the coffee machine), timer
names and "is the {name} {state}" questions.
"""

from __future__ import annotations

from typing import Any

from device_agent.play_request_rules import PLAY_INTENTS, play_request_spans
from device_agent.schema import Schema
from device_agent.span_words import (
    AREA_PREPOSITIONS,
    DETERMINERS,
    FILLERS,
    NAME_NOUNS,
    Span,
    merge_adjacent_text_spans,
    taken_words,
    word_before,
)
from device_agent.value_normalizers import COLOR_WORDS, normalize_value, parse_number


def join_spans(spans: list[Span], words: list[str], schema: Schema) -> list[Span]:
    """Join what belongs together: back-to-back spans of one text slot, a query across "by", items across
    "and", a number and its spelled decimal part or "and a half"."""
    return _with_spelled_decimals(merge_adjacent_text_spans(spans, words), words, schema)


def apply_conventions(
    spans: list[Span],
    words: list[str],
    intent: str,
    allowed: set[str],
    listed: set[tuple[int, int]],
    slot_probs: list[float],
    schema: Schema,
) -> list[Span]:
    """Apply the span conventions of ``intent`` (only slots in ``allowed`` matter). ``listed`` are the word
    ranges of known names found in the sentence; ``slot_probs`` per word how much the model saw a slot there
    (1 − p(O)): the confidence of a span a rule adds."""
    spans = [
        span for span in spans if not _a_word_of_grammar(span, words) and not _a_described_degree(span, words)
    ]
    spans = _with_room_modifier(_with_trailing_device_noun(spans, words), words)
    spans = _with_name_modifiers(spans, words, schema.not_name_words)
    spans = _no_trailing_routine(_with_model_word(spans, words), words)
    spans = _no_device_or_unit_areas(spans, words, schema.generic_device_words)
    spans = [span for span in spans if not _a_level_that_is_a_duration(span, words)]
    spans = _no_name_starting_a_device_phrase(spans, words, schema.generic_device_words)
    if intent in schema.inference.get("intents_with_domain", ()):
        spans = _bare_device_class_is_no_area(spans, words, schema)
    if "area" in allowed and intent not in PLAY_INTENTS | _LIST_INTENTS | _SHOPPING_INTENTS:
        spans = _places_are_areas(spans, words, listed)
    if intent in _LIST_INTENTS | _SHOPPING_INTENTS:
        spans = _list_add_parts(spans, words, "name" in allowed and intent in _LIST_INTENTS, slot_probs)
    if intent in _LIST_INTENTS:
        spans = _whole_list_names(spans, words)
    if "color" in allowed:
        spans = _no_colour_is_no_colour(spans, words, "area" in allowed)
    if "color" in allowed and not any(span[0] == "color" for span in spans):
        spans = _colour_word_is_the_colour(spans, words)
    if "color" in allowed:
        spans = _colour_after_to(spans, words)
    if intent in PLAY_INTENTS and "search_query" in allowed:
        spans = play_request_spans(spans, words, allowed, listed, slot_probs, schema.not_name_words)
    elif intent in _ONE_OF_A_KIND_INTENTS:
        spans = [span for span in spans if span[0] != "name" or _names_a_device(span, words, listed, intent)]
    if intent == "MakeCoffee":
        spans = _whole_coffee_type(spans, words)
    if "name" in allowed and intent in _TIMER_INTENTS:
        spans = _with_timer_name(spans, words, slot_probs)
    elif "name" in allowed and intent == "HassGetState":
        spans = _with_state_question(spans, words, slot_probs, "state" in allowed)
    # what is left of a lone colour word as a name names no device: "dim lights to dull **blue**" (LightDim sets
    # no colour; no training label is such a name)
    return [s for s in spans if not (s[0] == "name" and s[1] == s[2] and words[s[1]] in COLOR_WORDS)]


# a product's model word after its brand: "the sonos **one**", "echo **dot**", "nest **mini**" (the training pool's
# names end in one of these 455 times; the word follows a name it is not part of only before a unit or a number:
# "open vexel one per cent", "z one hundred")
_MODEL_WORDS = frozenset(
    {"one", "two", "mini", "dot", "arc", "beam", "pro", "plus", "move", "lite", "ultra", "studio"}
)
_UNITS = frozenset(
    {"percent", "per", "%", "degrees", "degree", "minutes", "minute", "hours", "hour", "seconds", "hundred", "thousand"}
)  # fmt: skip


def _with_model_word(spans: list[Span], words: list[str]) -> list[Span]:
    """A ``name`` takes the untagged model word right after it ("pause the **sonos one**"), not before a unit or
    "hundred"."""
    taken = taken_words(spans)
    for span in spans:
        nxt = span[2] + 1
        if span[0] != "name" or nxt >= len(words) or nxt in taken or words[nxt] not in _MODEL_WORDS:
            continue
        if nxt + 1 < len(words) and words[nxt + 1] in _UNITS:
            continue
        span[2] = nxt
    return spans


_ROUTINE = frozenset({"routine", "routines"})


def _no_trailing_routine(spans: list[Span], words: list[str]) -> list[Span]:
    """A routine's name is the words before "routine", as a scene's before "scene" ("run the **bedtime**
    routine": schema.json counts routine among a script's words; every annotator and the independent set label
    so). Followed by "script" the routine is part of the name ("the bedtime routine script")."""
    for span in spans:
        last = span[2]
        after = words[last + 1] if last + 1 < len(words) else ""
        if span[0] == "name" and last > span[1] and words[last] in _ROUTINE and not after.startswith("scr"):
            span[2] -= 1
    return spans


_AREA_HEADS = frozenset({"room", "closet"})
_NOT_MODIFIERS = frozenset(
    {"the", "my", "our", "your", "a", "an", "this", "that", "in", "on", "at", "of", "to", "for", "every",
     "each", "whole", "entire", "all", "any", "some", "and", "or", "'", "’", "-",
     # verbs: "turn room lights off" is the room, not a "turn room"
     "turn", "switch", "set", "put", "dim", "brighten", "clean", "vacuum", "hoover", "open", "close", "shut",
     "lock", "unlock", "start", "stop", "play", "pause", "mute", "unmute", "check", "activate", "deactivate",
     "make", "is", "are", "cut", "kill", "heat", "cool", "warm", "up", "down"}
)  # fmt: skip


# Words of grammar, never a device's or a room's name on their own: "transition to **another** colour", "put
# **out** the lights", "is there anything **new** on reddit" (no training label is one of them)
_GRAMMAR_WORDS = frozenset(
    {
        "another", "other", "out", "new", "next", "some", "any", "all", "every", "each", "there", "it", "them",
        "this", "that", "these", "those", "up", "down", "off", "on", "more", "less", "bit", "little", "one",
        "ones",
        # and of chat: interjections, courtesies and a few verbs and adverbs the model tagged alone ("scrap the
        # timer", "nah skip", "i left it on", "lights off lol"; 13 of the training pool's answers did, no label)
        "nah", "lol", "plz", "pls", "ugh", "hey", "ok", "okay", "yeah", "yes", "nope", "scrap", "rid", "nearly",
        "almost", "lower", "raise", "left", "freezing", "blast", "please", "thanks", "cheers", "mate", "yo",
    }
)  # fmt: skip


def _a_word_of_grammar(span: list[Any], words: list[str]) -> bool:
    """Whether a name or area span is one word of grammar or of chat."""
    return span[0] in ("name", "area") and span[1] == span[2] and words[span[1]] in _GRAMMAR_WORDS


# Words of degree: what follows them describes ("way too **quiet**", "a bit too **bright**"), it names no room
_DEGREE_WORDS = frozenset({"too", "very", "really", "quite", "rather", "pretty", "extremely", "super", "way"})


def _a_described_degree(span: list[Any], words: list[str]) -> bool:
    """Whether a one-word name, area or floor follows a word of degree ("so" too, unless it opens the
    sentence: "so fire stick replay …"). No training label does."""
    if span[0] not in ("name", "area", "floor") or span[1] != span[2] or span[1] == 0:
        return False
    before = words[span[1] - 1]
    return before in _DEGREE_WORDS or (before == "so" and span[1] > 1)


def _with_room_modifier(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """An area and the "room"/"closet" around it are one area: a bare "room" takes the word before it
    ("boiler" + "room" → "boiler room", also when "boiler" was tagged a one-word name), and an area right
    before an untagged "room" takes it ("grandma's" + "room")."""
    taken = taken_words(spans)
    absorbed: set[int] = set()  # indices of one-word names that became an area's first word
    for i, span in enumerate(spans):
        if span[0] != "area":
            continue
        prev, nxt = span[1] - 1, span[2] + 1
        if span[1] == span[2] and words[span[1]] in _AREA_HEADS and prev >= 0:
            before = spans[i - 1] if i > 0 else None
            modifier = words[prev].replace("-", "").isalpha()  # "boiler", "walk-in"
            if prev not in taken and modifier and words[prev] not in _NOT_MODIFIERS:
                span[1] = prev
            elif before and before[0] == "name" and before[1] == before[2] == prev and modifier:
                span[1] = prev
                absorbed.add(i - 1)
        elif nxt < len(words) and nxt not in taken and words[nxt] in _AREA_HEADS:
            span[2] = nxt
    return [span for k, span in enumerate(spans) if k not in absorbed]


def _with_trailing_device_noun(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """Extend each ``name`` span over a device noun right after it ("lava" + "lamp" → "lava lamp")."""
    taken = taken_words(spans)
    for span in spans:
        nxt = span[2] + 1
        if span[0] == "name" and nxt < len(words) and nxt not in taken and words[nxt] in NAME_NOUNS:
            span[2] = nxt
    return spans


# what does not describe a device in front of its name: places' prepositions, fillers, what is set or asked
# about ("the **volume** on fire tv", "the **timer** for chicken"), what is played ("the **next track** on
# roku"), numbers and colours
_NOT_NAME_MODIFIERS = (
    _NOT_MODIFIERS
    | FILLERS
    | frozenset(
        {"from", "with", "by", "into", "onto", "named", "called", "about", "inside", "outside", "near", "over",
         "under", "through", "via", "actually", "you", "know", "so", "but", "please", "now", "then", "also", "too",
         "very", "its", "it", "was", "be", "speed", "volume", "temperature", "temp", "brightness", "color",
         "colour", "state", "status", "mood", "scene", "position", "level", "weather", "forecast", "timer",
         "countdown", "alarm", "music", "media", "sound", "audio", "track", "song", "episode", "one", "player",
         "players", "radio", "podcast", "next", "last", "previous", "charging", "home", "base", "list", "other",
         "same", "main", "first", "second", "third", "just", "current", "hour", "hours", "minute", "minutes",
         "seconds", "half", "quarter"}
    )
)  # fmt: skip
# the determiners a device's name follows ("an espresso copper coffee machine": a coffee, then the machine)
_NAME_DETERMINERS = frozenset({"the", "my", "our", "your"})
# "what's", "it's", "let's": a contraction, not an owner
_CONTRACTED = frozenset(
    {"what", "how", "it", "that", "there", "here", "who", "where", "let", "he", "she", "when"}
)


def _with_name_modifiers(
    spans: list[list[Any]], words: list[str], not_name_words: frozenset[str]
) -> list[list[Any]]:
    """A name the model cut after its first words takes them back: the untagged words between a determiner
    and the name ("the **himalayan salt** lamp", "the **unicorn** nightlight", at most two), and an owner right
    before it ("**tommy's** boombox" — a possessive is part of the name, as in the training lists). In the
    training labels a name follows such words 8 times in 9,500 names (the owner: never)."""
    taken = taken_words(spans)

    def modifier(k: int) -> bool:
        word = words[k]
        return (
            k not in taken
            and word.isalpha()
            and word not in DETERMINERS
            and word not in _NOT_NAME_MODIFIERS
            and word not in not_name_words
            and word not in COLOR_WORDS
            and parse_number(word) is None
        )

    def owner(k: int) -> int | None:
        """The owner's word index when words[k] ends a possessive ("tommy" "'" "s")."""
        if k >= 2 and words[k] == "s" and words[k - 1] in ("'", "’") and {k, k - 1, k - 2}.isdisjoint(taken):
            who = words[k - 2]
            if who.isalpha() and who not in _CONTRACTED and who not in DETERMINERS:
                return k - 2
        return None

    for span in spans:
        if span[0] != "name":
            continue
        k, run = span[1] - 1, 0
        while k >= 0 and owner(k) is None and run < 2 and modifier(k):
            k, run = k - 1, run + 1
        if k < 0:
            continue
        who = owner(k)
        if who is not None:
            span[1] = who
        elif run and words[k] in _NAME_DETERMINERS and k not in taken:
            span[1] = k + 1
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


_LEVEL_SLOTS = frozenset({"brightness", "position", "volume_level", "percentage", "temperature"})
_TIME_UNITS = frozenset(
    {"minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "second", "seconds", "sec"}
)


def _a_level_that_is_a_duration(span: list[Any], words: list[str]) -> bool:
    """A level or temperature followed by a time unit is a duration: "turn on the porch light for **ten**
    minutes" sets no brightness."""
    return span[0] in _LEVEL_SLOTS and span[2] + 1 < len(words) and words[span[2] + 1] in _TIME_UNITS


def _no_name_starting_a_device_phrase(
    spans: list[list[Any]], words: list[str], generic: frozenset[str]
) -> list[list[Any]]:
    """A name that with the one or two untagged words after it makes a kind of device is no name: "turn on the
    **air** con" (the inferred domain says what it is)."""
    taken = taken_words(spans)

    def device_phrase(span: list[Any]) -> bool:
        ends = range(span[2] + 2, min(span[2] + 3, len(words)) + 1)
        return any(
            " ".join(words[span[1] : end]) in generic and not taken & set(range(span[2] + 1, end))
            for end in ends
        )

    return [span for span in spans if span[0] != "name" or not device_phrase(span)]


_UNIT_WORDS = frozenset(
    {"kelvin", "k", "percent", "per", "cent", "%", "degrees", "degree", "celsius", "fahrenheit"}
)


def _no_device_or_unit_areas(
    spans: list[list[Any]], words: list[str], generic: frozenset[str]
) -> list[list[Any]]:
    """A unit is no room ("2700 **kelvin**"), nor, beside a real room, a bare device word ("switch off the
    **tv** in the lounge": the tv is the domain; "garage" alone stays an area)."""
    spans = [s for s in spans if s[0] != "area" or not all(w in _UNIT_WORDS for w in words[s[1] : s[2] + 1])]
    areas = [s for s in spans if s[0] == "area"]
    if len(areas) < 2:
        return spans
    device_only = [s for s in areas if " ".join(words[s[1] : s[2] + 1]) in generic]
    if len(device_only) == len(areas):
        return spans
    return [s for s in spans if not any(s is d for d in device_only)]


_PLACE_CUES = AREA_PREPOSITIONS | {"at", "of", "from"}  # "the lights **in** the garage"


def _bare_device_class_is_no_area(
    spans: list[list[Any]], words: list[str], schema: Schema
) -> list[list[Any]]:
    """A bare device-class word is the device, not a room, where a cover's verb (open, close, shut) is said,
    no other device word, and no preposition makes it a place: "shut the **garage**" is the garage door;
    "the lights **in** the garage" and "turn on the garage" keep the room."""
    classes = {p for ps in schema.inference.get("device_class_words", {}).values() for p in ps}
    verbs = schema.inference.get("verb_domains", {})
    taken = taken_words(spans)
    others = [w for i, w in enumerate(words) if i not in taken and w in schema.generic_device_words]
    if others or not any(verbs.get(w) == "cover" for w in words):
        return spans
    return [
        span
        for span in spans
        if not (
            span[0] == "area"
            and " ".join(words[span[1] : span[2] + 1]) in classes
            and word_before(span, words) not in _PLACE_CUES
        )
    ]


def _places_are_areas(
    spans: list[list[Any]], words: list[str], listed: set[tuple[int, int]]
) -> list[list[Any]]:
    """A place is an area, not a device's name: an unlisted name right after in/around/across/throughout
    ("the temperature in **stairwell**"), ending in "room" ("**nan's room** timer status") or followed by
    an untagged "room" ("**boiler** room") — unless it ends in a device noun ("in the **sonos speaker**")
    or the sentence already has an area."""
    if any(span[0] == "area" for span in spans):
        return spans
    taken = taken_words(spans)
    for span in spans:
        if span[0] != "name" or (span[1], span[2]) in listed or words[span[2]] in NAME_NOUNS:
            continue
        nxt = span[2] + 1
        room_after = (
            nxt < len(words)
            and nxt not in taken
            and words[nxt] in _AREA_HEADS
            and (nxt + 1 >= len(words) or words[nxt + 1] not in NAME_NOUNS)
        )
        if room_after:
            span[2] = nxt
        if room_after or words[span[2]] in _AREA_HEADS or word_before(span, words) in AREA_PREPOSITIONS:
            span[0] = "area"
            break  # one area per sentence
    return spans


# Words that say a colour (HA's colour list and the colours the training sentences set); a ``color`` span
# without one is a misread word ("our **green**house")
_COLOUR_LIKE = COLOR_WORDS | {
    "beige", "peach", "lilac", "daylight", "candle", "candlelight", "warm", "cool", "soft", "silver", "tan",
    "mint", "rose", "cream", "ivory", "scarlet", "emerald", "ruby", "sky", "olive", "khaki", "fuchsia", "plum",
    "burgundy", "mauve", "rainbow", "dark", "light", "bright", "pastel", "neon", "natural",
}  # fmt: skip


def _no_colour_is_no_colour(spans: list[list[Any]], words: list[str], area_allowed: bool) -> list[list[Any]]:
    """A ``color`` span without a colour word where a room stands (after my/our, in/around/…, or before a
    light noun: "turn down our **greenhouse**", "**greenhouse** lamps at 74") is the area; elsewhere it is
    left alone."""
    has_area = any(span[0] == "area" for span in spans)
    out: list[list[Any]] = []
    for span in spans:
        if span[0] != "color":
            out.append(span)
            continue
        lead = span[1]
        while lead <= span[2] and words[lead] not in _COLOUR_LIKE:
            lead += 1
        if lead == span[1]:
            out.append(span)
            continue
        before = words[span[1] - 1] if span[1] > 0 else ""
        nxt = words[lead] if lead < len(words) else ""
        if before in ("my", "our") or word_before(span, words) in AREA_PREPOSITIONS or nxt in NAME_NOUNS:
            if lead <= span[2]:  # "in the **greenhouse blue**": the room, then the colour ("hot pink" stays)
                out.append(["color", lead, span[2], span[3]])
            if area_allowed and not has_area:
                out.append(["area", span[1], lead - 1, span[3]])
            has_area = True
        else:
            out.append(span)
    return sorted(out, key=lambda span: span[1])


_LIST_INTENTS = frozenset({"HassListAddItem"})
_SHOPPING_INTENTS = frozenset({"HassShoppingListAddItem"})
_ADD_VERBS = frozenset({"add", "put", "write", "stick", "pop", "include", "jot", "throw", "append", "place"})
_ADD_TO = frozenset({"to", "on", "onto", "in", "into"})
_ITEM_SKIP = frozenset({"the", "teh", "a", "an", "some", "more", "me", "us"}) | FILLERS
_ITEM_END_SKIP = frozenset({"please", "too", "also", "now", "then", "again"}) | FILLERS
_LIST_NAME_SKIP = DETERMINERS | FILLERS | {"teh"}
_LIST_WORDS = frozenset({"list", "lists", "lsit", "lst", "ilst", "lis", "lisst"})  # with speech-to-text slips
# what ends a list's name said without "list": "to my wedding **asap**", "groceries **cheers**"
_COURTESY = frozenset({"thanks", "thank", "cheers", "asap", "please", "if", "now", "today", "too", "when"})
_PRONOUNS = frozenset({"it", "that", "this", "them", "these", "those", "something", "stuff"})


def _is_word(word: str) -> bool:
    """Letters or digits, or the apostrophe of a possessive ("maya" "'" "s")."""
    return word.isalnum() or word in ("'", "’")


def _list_add_parts(
    spans: list[list[Any]], words: list[str], name_allowed: bool, slot_probs: list[float]
) -> list[list[Any]]:
    """Home Assistant's "add {item} to [the|my] {name} [list]": the words between the verb and to/on/in are
    the item ("add **laundry detergent** to …", tagged "detergent"), and for a named list the words after it
    up to "list" or the end the list's name ("… to my **office supplies**"), where the model tagged nothing
    else there."""
    verb = next((i for i, w in enumerate(words) if w in _ADD_VERBS), None)
    if verb is None:
        return spans
    to = next((i for i in range(verb + 2, len(words)) if words[i] in _ADD_TO), None)
    if to is None:
        return spans

    def region_ok(first: int, last: int, slots: tuple[str, ...], most: int) -> bool:
        return (
            1 <= last - first + 1 <= most
            and all(
                (_is_word(w) or w in ("and", ",", "&")) and w not in _PRONOUNS
                for w in words[first : last + 1]
            )
            and all(span[0] in slots for span in spans if span[1] <= last and span[2] >= first)
        )

    first, last = verb + 1, to - 1
    while first <= last and words[first] in _ITEM_SKIP:
        first += 1
    while last >= first and words[last] in _ITEM_END_SKIP:
        last -= 1
    parts: list[list[Any]] = []
    if region_ok(first, last, ("item", "name"), 5) and words[first] not in ("and", ","):
        parts.append(["item", first, last, min(slot_probs[first : last + 1])])
    if name_allowed:
        start = to + 1
        while start < len(words) and words[start] in _LIST_NAME_SKIP:
            start += 1
        end = next((i for i in range(start, min(start + 6, len(words))) if words[i] in _LIST_WORDS), None)
        if end is None:
            end = start
            while end < len(words) and _is_word(words[end]) and words[end] not in _COURTESY:
                end += 1
        if region_ok(start, end - 1, ("name", "item"), 3):
            parts.append(["name", start, end - 1, min(slot_probs[start:end])])
    if not parts or not any(p[0] == "item" for p in [*parts, *spans]):
        return spans
    covered = [(p[1], p[2]) for p in parts]
    rest = [s for s in spans if not any(s[1] <= b and s[2] >= a for a, b in covered)]
    return sorted([*rest, *parts], key=lambda span: span[1])


def _whole_list_names(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A list's name runs up to the word "list" ("hardware" + "store" + list → "hardware store"), never
    takes it ("packing list" tagged whole, as a listed name is → "packing"), and "do" of "to do" keeps its
    "to"."""
    taken = taken_words(spans)
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


# Intents whose ``name`` is an optional target a home has one or two of: its weather service, its coffee
# machine. An unlisted word tagged there is far more often part of the request ("the weather **outside**", "my
# **morning** coffee") than a name.
_ONE_OF_A_KIND_INTENTS = frozenset({"HassGetWeather", "MakeCoffee"})
_MACHINE_CUES = frozenset({"on", "using", "with", "in", "at", "from", "start", "run", "use"})
_MACHINE_NOUNS = NAME_NOUNS | {"brewer", "maker", "barista", "grinder"}


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
    return word_before(span, words) in _MACHINE_CUES or words[span[2]] in _MACHINE_NOUNS


_COFFEE_MODIFIERS = frozenset(
    {"double", "triple", "single", "shot", "large", "small", "medium", "iced", "hot", "strong", "decaf", "skinny",
     "extra", "tall", "grande", "oat", "soy", "almond", "milky", "weak", "sweet"}
)  # fmt: skip


def _whole_coffee_type(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A coffee type takes the untagged size and strength words before it ("a **double shot** latte")."""
    taken = taken_words(spans)
    for span in spans:
        if span[0] != "coffee_type":
            continue
        while span[1] > 0 and span[1] - 1 not in taken and words[span[1] - 1] in _COFFEE_MODIFIERS:
            span[1] -= 1
    return spans


_TIMER_INTENTS = frozenset({"HassStartTimer", "HassCancelTimer", "HassTimerStatus"})
_TIMER_WORDS = frozenset({"timer", "timers", "countdown"})
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
        "what's", "whats", "how's", "hows", "status", "thanks", "thank", "computer", "s", "stat", "strt",
    }
)  # fmt: skip


def _with_timer_name(spans: list[list[Any]], words: list[str], slot_probs: list[float]) -> list[list[Any]]:
    """The schema's timer names: the words before "timer" or "countdown" ("start a **pasta** timer", "the
    **eggs** countdown") or after "timer named/called/for" ("a ten minute timer for the **eggs**", "a timer for
    ten minutes named **eggs**") are the ``name`` when the model left them untagged and tagged no name."""
    if any(span[0] == "name" for span in spans):
        return spans
    taken = taken_words(spans)

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
        # Home Assistant's "ten minute timer named / called / for {name}", "timer for ten minutes named {name}"
        cues = [t + 1] if t + 1 < len(words) and words[t + 1] in ("named", "called", "for") else []
        cues += [k for k in range(t + 2, len(words)) if words[k] in ("named", "called")]
        for cue in cues if first == t else []:
            first = cue + 1
            while first < len(words) and first not in taken and words[first] in ("the", "my", "our"):
                first += 1
            last = first
            while last < len(words) and last - first < 3 and free(last):
                last += 1
            if first < last:
                break
        if first < last:
            name = ["name", first, last - 1, min(slot_probs[first:last])]
            return sorted([*spans, name], key=lambda span: span[1])
    return spans


_STATE_WORDS = frozenset({"on", "off", "open", "closed", "locked", "unlocked"})
_QUANTIFIERS = frozenset({"some", "any", "all", "every", "each", "none"})


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
    if words[2] in _QUANTIFIERS:  # "is the any switch off", "are my all lights on": no one device
        return spans
    if words[end - 1] not in _STATE_WORDS:
        return spans
    last = end - 2 if words[end - 2] != "still" else end - 3
    taken = taken_words(spans)
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
    taken = taken_words(out)
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


def _is_digit_word(word: str) -> bool:
    value = parse_number(word)
    return value is not None and value == int(value) and 0 <= value <= 9
