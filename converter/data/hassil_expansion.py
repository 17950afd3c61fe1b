"""Home Assistant's English sentence templates → labelled examples in the schema.

Templates come from the ``home_assistant_intents`` package (the compiled ``en`` data) and are expanded
with :class:`~converter.data.template_sampler.TemplateSampler`, filling ``{name}`` / ``{area}`` /
``{floor}`` and the wildcards (search queries, list items, timer names) from the project's own lists.
HA intents are mapped to the schema; intents the schema lacks but that sound alike (pause a timer,
check an item off a list, mow the lawn) become ``NotRecognized`` near misses.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from hassil.intents import IntentData, Intents

from converter.data.example import Example
from converter.data.labelling_values import make_example
from converter.data.name_lists import DEVICE_DOMAINS
from converter.data.template_sampler import TemplateSampler
from device_agent.schema import NOT_RECOGNIZED, Schema

# HA intent → schema intent (identity for the schema's own names is added at run time).
HA_INTENT_MAP: dict[str, str] = {
    "HassVacuumCleanArea": "HassVacuumStart",
    "HassCancelAllTimers": "HassCancelTimer",
    # Near misses: the schema does not support them, so the board must refuse them.
    "HassIncreaseTimer": NOT_RECOGNIZED,
    "HassDecreaseTimer": NOT_RECOGNIZED,
    "HassPauseTimer": NOT_RECOGNIZED,
    "HassUnpauseTimer": NOT_RECOGNIZED,
    "HassShoppingListCompleteItem": NOT_RECOGNIZED,
    "HassListCompleteItem": NOT_RECOGNIZED,
    "HassListRemoveItem": NOT_RECOGNIZED,
    "HassClimateSetFanMode": NOT_RECOGNIZED,
    "HassLawnMowerDock": NOT_RECOGNIZED,
    "HassLawnMowerStartMowing": NOT_RECOGNIZED,
    "HassRespond": NOT_RECOGNIZED,
}

# Near misses whose words must show what makes them out of scope: "return to base" is said to a mower and
# to a vacuum alike, so a mower sentence without "mow"/"lawn" would teach the board to refuse a vacuum command.
NEAR_MISS_MARKERS: dict[str, tuple[str, ...]] = {
    "HassLawnMowerDock": ("mow", "lawn"),
    "HassLawnMowerStartMowing": ("mow", "lawn"),
}

# HA slot name → schema slot; None: filled but not recorded (inferred later or irrelevant).
HA_SLOT_MAP: dict[str, str | None] = {
    **{
        s: s
        for s in ("name", "area", "floor", "brightness", "color", "temperature", "position", "percentage")
    },
    **{s: s for s in ("volume_level", "search_query", "media_class", "item", "hours", "minutes", "seconds")},
    "state": "state",
    "start_hours": "hours",
    "start_minutes": "minutes",
    "start_seconds": "seconds",
    "device_class": None,
    "volume_step": None,
    "domain": None,
    "fan_mode": None,
}

# Domain of {name} when a block does not say: by (schema) intent.
_INTENT_NAME_DOMAINS: dict[str, tuple[str, ...]] = {
    "HassClimateSetTemperature": ("climate",),
    "HassClimateGetTemperature": ("climate",),
    "HassFanSetSpeed": ("fan",),
    "HassLightSet": ("light",),
    "HassVacuumStart": ("vacuum",),
    "HassVacuumReturnToBase": ("vacuum",),
    "HassGetWeather": ("weather",),
    "HassListAddItem": ("list",),
    "HassStartTimer": ("timer",),
    "HassCancelTimer": ("timer",),
    "HassTimerStatus": ("timer",),
    "HassGetState": DEVICE_DOMAINS,
    "HassTurnOn": ("light", "switch", "fan"),
    "HassTurnOff": ("light", "switch", "fan"),
}
_DOMAIN_ALIASES = {"input_boolean": "switch", "todo": "list", "shopping_list": "list"}
_WILDCARD_LISTS = {"shopping_list_item": "item", "todo_list_item": "item", "search_query": "search_query"}


@functools.lru_cache(maxsize=4)
def load_ha_intents(language: str = "en") -> Intents:
    """Home Assistant's compiled intents for a language, from the ``home_assistant_intents`` package (cached)."""
    from home_assistant_intents import get_intents

    data = get_intents(language)
    if data is None:
        raise ValueError(f"home_assistant_intents has no language {language!r}")
    return Intents.from_dict(data)


def map_intent(ha_intent: str, schema: Schema) -> str | None:
    """Schema intent for an HA intent, NotRecognized for near misses, None to skip."""
    if ha_intent in schema.intents:
        return ha_intent
    return HA_INTENT_MAP.get(ha_intent)


@dataclass(frozen=True)
class _Block:
    ha_intent: str
    intent: str
    data: IntentData
    name_domains: tuple[str, ...]


def _blocks(intents: Intents, schema: Schema) -> Iterator[_Block]:
    for ha_intent, intent in intents.intents.items():
        mapped = map_intent(ha_intent, schema)
        if mapped is None:
            continue
        for data in intent.data:
            ctx = data.requires_context.get("domain")
            if ctx:
                domains = [ctx] if isinstance(ctx, str) else list(ctx)
                domains = [_DOMAIN_ALIASES.get(d, d) for d in domains]
                known = tuple(d for d in domains if d in DEVICE_DOMAINS or d in ("list", "weather"))
                if not known:
                    continue  # buttons, persons, zones…: nothing the schema names
            else:
                fixed = data.slots.get("domain")
                known = (fixed,) if isinstance(fixed, str) and fixed in DEVICE_DOMAINS else ()
                known = known or _INTENT_NAME_DOMAINS.get(mapped, DEVICE_DOMAINS)
            yield _Block(ha_intent, mapped, data, known)


def _fill_lists(lists: dict[str, list[str]], block: _Block, rng: random.Random) -> dict[str, list[str]]:
    domain = rng.choice(block.name_domains)
    fill = {
        "area": lists.get("area", []),
        "floor": lists.get("floor", []),
        "name": lists.get(f"name_{domain}", []),
        "timer_name": lists.get("name_timer", []),
        "color": lists.get("color", []),
    }
    for ha_list, ours in _WILDCARD_LISTS.items():
        fill[ha_list] = lists.get(ours, [])
    return fill


def expand_ha_templates(
    schema: Schema,
    lists: dict[str, list[str]],
    rng: random.Random,
    per_intent: int = 400,
    near_miss_per_intent: int = 60,
    source: str = "ha_templates",
    intents: Intents | None = None,
    per_intent_for: dict[str, int] | None = None,
) -> list[Example]:
    """Sample up to ``per_intent`` distinct labelled sentences per mapped HA intent.

    Args:
        schema: the output schema.
        lists: name lists (``area``, ``floor``, ``name_<domain>``, ``item``, ``search_query``, ``color``…).
        rng: seeded random source.
        per_intent: target number of distinct sentences per schema intent (fewer when the templates run out).
        near_miss_per_intent: the same for each HA intent that maps to NotRecognized.
        per_intent_for: budgets of particular schema intents (instead of ``per_intent``).
    """
    intents = intents or load_ha_intents()
    by_intent: dict[str, list[_Block]] = {}
    for block in _blocks(intents, schema):
        key = block.ha_intent if block.intent == NOT_RECOGNIZED else block.intent
        by_intent.setdefault(key, []).append(block)
    out: list[Example] = []
    for key in sorted(by_intent):
        blocks = by_intent[key]
        if blocks[0].intent == NOT_RECOGNIZED:
            budget = near_miss_per_intent
        else:
            budget = (per_intent_for or {}).get(key, per_intent)
        seen: set[str] = set()
        attempts = 0
        while len(seen) < budget and attempts < budget * 6:
            attempts += 1
            block = rng.choice(blocks)
            sentence = rng.choice(block.data.sentences)
            sampler = TemplateSampler(
                _fill_lists(lists, block, rng),
                rng,
                slot_lists={**intents.slot_lists, **block.data.slot_lists},
                expansion_rules={**intents.expansion_rules, **block.data.expansion_rules},
                slot_map=HA_SLOT_MAP,
            )
            sampled = sampler.sample(sentence)
            if sampled is None or sampled.text.lower() in seen:
                continue
            state = sampled.filled.get("state", "")
            if state in ("opening", "closing", "shutting"):
                continue
            markers = NEAR_MISS_MARKERS.get(block.ha_intent, ())
            if markers and not any(m in sampled.text.lower() for m in markers):
                continue
            ex = make_example(sampled.text, block.intent, sampled.spans, schema, source)
            if ex is None:
                continue
            seen.add(sampled.text.lower())
            out.append(ex)
    return out
