"""Intent rules: where the sentence's words or its decoded slots settle what the intent head got wrong (used by
:mod:`device_agent.recognizer`; docs/AGENT.md, "Not recognized"). Each was checked against the training
sentences of the intents it touches (docs/TRAINING.md, "Decoder rules, second round"): none is moved, and only
7 of 450 typo-augmented temperature questions are refused."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from device_agent.schema import Schema
from device_agent.slot_decoding import VOLUME_DIRECTIONS

LIGHT_INTENTS = frozenset({"HassLightSet", "LightBrighten", "LightDim"})
_BRIGHTER_WORDS = frozenset(
    {"bright", "brighter", "brighten", "brightness", "lighter", "more", "up", "increase", "raise"}
)
# intents that start something, and the words that stop it: "stop vacuuming" is no HassVacuumStart
_STARTING_INTENTS = frozenset({"HassVacuumStart", "MakeCoffee"})
_STOP_WORDS = frozenset({"stop", "pause", "halt", "quit", "cancel", "abort"})
# besides the schema's climate words: what "turn up the heat", "make it warmer" are about ("warm white" is a
# colour: "warm" alone says nothing of heating)
_HEATING_WORDS = frozenset({"heat", "warmer", "cooler", "hotter", "colder", "temperature", "temp", "degrees"})
# what a temperature question speaks of, or asks a device to tell ("what does the ecobee **say**")
_WARMTH_WORDS = _HEATING_WORDS | {
    "temps", "degree", "hot", "cold", "warm", "cool", "chilly", "freezing", "toasty", "humid", "celsius",
    "fahrenheit", "thermostat", "aircon", "climate", "say", "says", "read", "reads", "reading", "show", "shows", "showing",
}  # fmt: skip


def rerouted(intent: str, text: str, may_answer: Callable[[str], bool]) -> str:
    """Two confusions the words settle: "switch on the big chandelier" is no LightBrighten but a HassTurnOn
    (no brightening sentence of the training data says turn/switch on; "turn on the lights brighter" still
    brightens), and "time left?" asks a timer, not the clock (no time question of the training data says left
    or remaining; 160 timer questions do). An intent ``may_answer`` rejects (a filter) keeps the model's."""
    moved = intent
    if (
        intent == "LightBrighten"
        and re.search(r"\b(turn|switch|flip) on\b", text.lower())
        and not _says(text, _BRIGHTER_WORDS)
    ):
        moved = "HassTurnOn"
    elif intent == "HassGetCurrentTime" and _says(text, ("left", "remaining")):
        moved = "HassTimerStatus"
    return moved if may_answer(moved) else intent


def settled_by_slots(
    intent: str,
    text: str,
    slots: list[Any],
    slots_for: Callable[[str], list[Any]],
    may_answer: Callable[[str], bool],
) -> tuple[str, list[Any]]:
    """What Home Assistant cannot act on, settled by the slots: a to-do list without its name is the shopping
    list ("add kitchen roll to my list"; every HassListAddItem training sentence names its list), and a volume
    set without a level but with a direction, or with a direction and no "to"/"at" a level, is a step ("set the
    volume to low", "volume down 60 percent"; every HassSetVolume training sentence has its level, and none says
    a direction without "to" outside its slot values). ``slots_for(intent)`` decodes the slots for an intent."""
    has = {s.slot for s in slots}
    if intent == "HassListAddItem" and "name" not in has and may_answer("HassShoppingListAddItem"):
        return "HassShoppingListAddItem", slots_for("HassShoppingListAddItem")
    steps = "volume_level" not in has or _steps_without_a_target(text, slots)
    if intent == "HassSetVolume" and steps and may_answer("HassSetVolumeRelative"):
        stepped = slots_for("HassSetVolumeRelative")
        if any(s.slot == "volume_step" for s in stepped):
            return "HassSetVolumeRelative", stepped
    return intent, slots


def _steps_without_a_target(text: str, slots: list[Any]) -> bool:
    """Whether a volume request names a direction and no target level ("volume down sonos move 60 percent";
    "turn the volume down **to** 20" sets a level). Words inside slot values do not count ("the lower snug")."""
    outside = list(text.lower())
    for s in slots:
        outside[s.start : s.end] = " " * (s.end - s.start)
    rest = "".join(outside)
    return _says(rest, VOLUME_DIRECTIONS) and not _says(rest, ("to", "at"))


def refused(intent: str, text: str, slots: list[Any], schema: Schema) -> bool:
    """Whether an accepted intent is still "not recognized": it names none of the slots the schema requires one
    of ("is tom cruise an only child"), a light intent speaks of heating ("turn up the heat"), a temperature
    question of no warmth ("how tall is the eiffel tower"), a start says stop ("stop vacuuming"), or the
    sentence ticks an item off a list, which the schema has no intent for ("check off eggs from the list")."""
    required = schema.intent_requires_one_of(intent)
    if required and not any(s.slot in required for s in slots):
        return True
    if intent in LIGHT_INTENTS and _about_warmth_not_light(text, schema):
        return True
    if intent == "HassClimateGetTemperature" and not _speaks_of_warmth(text, schema):
        return True
    if _ticks_off_a_list_item(text):
        return True
    return intent in _STARTING_INTENTS and _says(text, _STOP_WORDS)


# Home Assistant's HassListCompleteItem / HassShoppingListCompleteItem ("check off eggs from the shopping list"),
# which the schema does not carry: the model reads them as state questions ("check … off")
_TICK_OFF = (
    re.compile(r"\b(tick|cross|strike)\b(\s+\S+){0,6}\s+off\b"),
    re.compile(r"\bcheck off\b"),
    # "check call the plumber off in my tasks", not a question: "check the lights are off in the kitchen"
    re.compile(
        r"\bcheck\b(?!\s+(if|whether|that|to|on|the status|my|for))"
        r"((?!\s+(is|are|was|were)\b|\s+\S*'s\b)\s+\S+){0,6}\s+off\s+(on|in|from|of)\b"
    ),
    re.compile(r"\bmark\b(\s+\S+){0,6}\s+(as\s+)?(done|complete|completed|finished)\b"),
)


def _ticks_off_a_list_item(text: str) -> bool:
    """Whether a sentence completes a list item ("check off eggs from the shopping list", "check call the
    plumber off in my work tasks", "mark the laundry as done"); "check if the tv is off" does not."""
    lowered = text.lower()
    return any(p.search(lowered) for p in _TICK_OFF)


def _about_warmth_not_light(text: str, schema: Schema) -> bool:
    """Whether a sentence speaks of heating or cooling (the schema's climate words, "heat", "warmer", …) and
    of no light: a light intent there is the model's mistake ("turn up the heat", "make it warmer")."""
    domains = schema.inference.get("domain_words", {})
    heating = _says(text, domains.get("climate", ())) or _says(text, _HEATING_WORDS)
    return heating and not _says(text, domains.get("light", ()))


def _speaks_of_warmth(text: str, schema: Schema) -> bool:
    """Whether a sentence speaks of heat or cold: the schema's climate words, "temperature", "hot", "warm", …"""
    climate = schema.inference.get("domain_words", {}).get("climate", ())
    return _says(text, climate) or _says(text, _WARMTH_WORDS)


def _says(text: str, phrases: Iterable[str]) -> bool:
    """Whether one of ``phrases`` (lower-case words or multi-word phrases) occurs in ``text`` as whole words."""
    joined, present = _words_of(text)
    return any(f" {p} " in joined if " " in p else p in present for p in phrases)


@functools.lru_cache(maxsize=32)
def _words_of(text: str) -> tuple[str, frozenset[str]]:
    """A sentence's words, joined between spaces and as a set: the rules ask one sentence several times."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return f" {' '.join(words)} ", frozenset(words)
