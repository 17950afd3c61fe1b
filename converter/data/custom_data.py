"""The project's YAML data format: custom intents, templates, name lists and examples.

The same format holds the project's own templates (``sample_data/templates/*.yaml``) and the files
users pass with ``squeezehome train --data FILE.yaml``; see ``sample_data/CUSTOM_DATA.md``::

    intents:                      # optional: new intents (appended to the schema's labels)
      OpenWindow: {description: "Open a window", slots: [name, area]}
    lists:                        # name lists; merged with sample_data/names.yaml
      name_cover: [skylight, attic hatch]
      duration: {range: {from: 1, to: 90}}
    expansion_rules:              # hassil rules usable as <rule>
      polite: "(please|could you)"
    templates:                    # hassil templates per intent
      OpenWindow: ["<polite> open [<the>] {area} window"]
    examples:                     # literal examples; [slot:words] marks a span
      - "OpenWindow | open the [area:attic] window"
      - {text: "crack the window open", intent: OpenWindow}
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hassil.expression import Sentence
from hassil.intents import RangeSlotList
from hassil.parse_expression import parse_sentence

from converter.data.example import Example
from converter.data.hassil_expansion import load_ha_intents
from converter.data.labelling_values import make_example
from converter.data.template_sampler import TemplateSampler
from device_agent.errors import UserError
from device_agent.schema import NOT_RECOGNIZED, IntentSpec, Schema

# {name} without a list prefix takes device names of this kind, by intent.
DEFAULT_NAME_LIST: dict[str, str] = {
    "HassTurnOn": "name_light",
    "HassTurnOff": "name_light",
    "HassLightSet": "name_light",
    "LightBrighten": "name_light",
    "LightDim": "name_light",
    "HassClimateSetTemperature": "name_climate",
    "HassClimateGetTemperature": "name_climate",
    "HassGetState": "name_switch",
    "HassSetPosition": "name_cover",
    "HassFanSetSpeed": "name_fan",
    "HassVacuumStart": "name_vacuum",
    "HassVacuumReturnToBase": "name_vacuum",
    "HassStartTimer": "name_timer",
    "HassCancelTimer": "name_timer",
    "HassTimerStatus": "name_timer",
    "HassListAddItem": "name_list",
    "HassGetWeather": "name_weather",
    "MakeCoffee": "name_coffee",
}
_MEDIA_INTENTS = ("HassMedia", "HassSetVolume")
# Alternative device lists {name} may take for some intents (picked at random with the default).
_EXTRA_NAME_LISTS: dict[str, tuple[str, ...]] = {
    "HassTurnOn": ("name_switch", "name_fan", "name_media_player", "name_climate"),
    "HassTurnOff": ("name_switch", "name_fan", "name_media_player", "name_climate"),
    "HassGetState": ("name_light", "name_fan", "name_media_player"),
}
_EXAMPLE_SPAN = re.compile(r"\[([a-z_]+)\s*:\s*([^\]]+?)\s*\]")


@dataclass
class CustomData:
    """What one YAML data file holds."""

    intents: list[IntentSpec] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, RangeSlotList] = field(default_factory=dict)
    expansion_rules: dict[str, str] = field(default_factory=dict)
    templates: dict[str, list[str]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None


def load_custom_data(path: str | Path) -> CustomData:
    """Read and check a YAML data file (clear errors for a malformed one)."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise UserError(f"data file {p} does not exist") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{p} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise UserError(
            f"{p}: expected a mapping with intents/lists/templates/examples; see sample_data/CUSTOM_DATA.md"
        )
    unknown = set(raw) - {"intents", "lists", "expansion_rules", "templates", "examples", "language"}
    if unknown:
        raise UserError(f"{p}: unknown top-level keys {sorted(unknown)}; see sample_data/CUSTOM_DATA.md")
    data = CustomData(path=p)
    for name, spec in (raw.get("intents") or {}).items():
        spec = spec or {}
        data.intents.append(IntentSpec(name, str(spec.get("description", "")), tuple(spec.get("slots", ()))))
    for name, values in (raw.get("lists") or {}).items():
        if isinstance(values, dict) and "range" in values:
            r = values["range"]
            data.ranges[name] = RangeSlotList(
                name=name, start=int(r["from"]), stop=int(r["to"]), step=int(r.get("step", 1))
            )
        elif isinstance(values, list):
            data.lists[name] = [str(v).strip().lower() for v in values if str(v).strip()]
        else:
            raise UserError(f"{p}: list {name!r} must be a list of strings or {{range: {{from, to}}}}")
    data.expansion_rules = {k: str(v) for k, v in (raw.get("expansion_rules") or {}).items()}
    for intent, templates in (raw.get("templates") or {}).items():
        if isinstance(templates, str):
            templates = [templates]
        data.templates[intent] = [str(t) for t in templates]
    data.examples = list(raw.get("examples") or [])
    return data


def parse_annotated(line: str) -> tuple[str, str, list[tuple[str, int, int]], dict[str, str]]:
    """``"Intent | text with [slot:words] | domain=light"`` → (intent, text, spans, extra values)."""
    parts = [part.strip() for part in line.split("|")]
    if len(parts) < 2:
        raise ValueError(f"expected 'Intent | text', got {line!r}")
    intent, annotated = parts[0], parts[1]
    extra = {}
    for part in parts[2:]:
        for item in part.split():
            if "=" in item:
                k, v = item.split("=", 1)
                extra[k.strip()] = v.strip()
    text, spans, pos, last = "", [], 0, 0
    for m in _EXAMPLE_SPAN.finditer(annotated):
        text += annotated[last : m.start()]
        start = len(text)
        text += m.group(2)
        spans.append((m.group(1), start, len(text)))
        last = m.end()
        pos = m.end()
    text += annotated[max(last, pos) :]
    return intent, text, spans, extra


def examples_from_custom(data: CustomData, schema: Schema, source: str, strict: bool = True) -> list[Example]:
    """Literal examples of a data file as labelled Examples (annotated strings or canonical dicts)."""
    out = []
    for n, item in enumerate(data.examples, 1):
        where = f"{data.path}: example {n}"
        try:
            if isinstance(item, str):
                intent, text, spans, extra = parse_annotated(item)
            elif isinstance(item, dict) and isinstance(item.get("slots"), dict):
                intent, text, extra = item["intent"], item["text"], {}
                spans = _locate_values(text, item["slots"])
            else:
                ex = Example.from_dict(item)
                intent, text, extra = ex.intent, ex.text, dict(ex.values)
                spans = [(s.type, s.start, s.end) for s in ex.slots]
        except (KeyError, ValueError, TypeError) as exc:
            raise UserError(f"{where} is malformed ({exc}); see sample_data/CUSTOM_DATA.md") from exc
        if intent != NOT_RECOGNIZED and intent not in schema.intents:
            raise UserError(f"{where}: unknown intent {intent!r}; declare it under 'intents:'")
        ex = make_example(text, intent, spans, schema, source, strict=True)
        if ex is None:
            if strict:
                raise UserError(
                    f"{where}: a slot is not allowed for {intent} or its value does not parse: {text!r}"
                )
            continue
        if extra:
            values = {k: v for k, v in ex.values.items() if schema.slot(k).tagged}
            values.update(extra)
            ex = Example(ex.text, ex.intent, ex.slots, values, ex.source)
        out.append(ex)
    return out


def _locate_values(text: str, slots: dict[str, Any]) -> list[tuple[str, int, int]]:
    spans = []
    low = text.lower()
    for slot, value in slots.items():
        i = low.find(str(value).lower())
        if i < 0:
            raise ValueError(f"slot value {value!r} does not occur in {text!r}")
        spans.append((slot, i, i + len(str(value))))
    return spans


def expand_custom_templates(
    data: CustomData,
    schema: Schema,
    lists: dict[str, list[str]],
    rng: random.Random,
    per_intent: int = 300,
    source: str = "own_templates",
    per_intent_for: dict[str, int] | None = None,
) -> list[Example]:
    """Sample up to ``per_intent`` distinct labelled sentences per intent (``per_intent_for`` overrides)."""
    ha = load_ha_intents()
    rules: dict[str, Sentence] = dict(ha.expansion_rules)
    for name, body in data.expansion_rules.items():
        rules[name] = parse_sentence(body)
    slot_lists = {**ha.slot_lists, **data.ranges}
    out: list[Example] = []
    for intent in sorted(data.templates):
        if intent != NOT_RECOGNIZED and intent not in schema.intents:
            raise UserError(
                f"{data.path}: templates for unknown intent {intent!r}; declare it under 'intents:'"
            )
        try:
            sentences = [parse_sentence(t) for t in data.templates[intent]]
        except Exception as exc:  # hassil raises several parse error types
            raise UserError(f"{data.path}: a template of {intent} does not parse: {exc}") from exc
        budget = (per_intent_for or {}).get(intent, per_intent)
        seen: set[str] = set()
        attempts = 0
        while len(seen) < budget and attempts < budget * 5:
            attempts += 1
            fill = _lists_for(intent, lists, rng)
            sampler = TemplateSampler(fill, rng, slot_lists=slot_lists, expansion_rules=rules)
            sampled = sampler.sample(rng.choice(sentences))
            if sampled is None or sampled.text.lower() in seen:
                continue
            ex = make_example(sampled.text, intent, sampled.spans, schema, source)
            if ex is None:
                continue
            seen.add(sampled.text.lower())
            out.append(ex)
    return out


def _lists_for(intent: str, lists: dict[str, list[str]], rng: random.Random) -> dict[str, list[str]]:
    fill = dict(lists)
    for key, values in lists.items():  # {cover:name} reads list "cover" = name_cover
        if key.startswith("name_"):
            fill.setdefault(key[len("name_") :], values)
    default = DEFAULT_NAME_LIST.get(intent)
    if intent.startswith(_MEDIA_INTENTS):
        default = "name_media_player"
    choices = [default, *_EXTRA_NAME_LISTS.get(intent, ())] if default else []
    if choices:
        fill["name"] = lists.get(rng.choice(choices), [])
    elif "name" not in lists:
        fill["name"] = lists.get("name_light", [])
    return fill
