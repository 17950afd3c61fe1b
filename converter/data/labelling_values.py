"""From (text, intent, spans) to a canonical Example: normalized values plus inferred slots."""

from __future__ import annotations

import re

from converter.data.example import Example, SlotSpan
from device_agent.schema import NOT_RECOGNIZED, Schema
from device_agent.slot_decoding import infer_slots
from device_agent.value_normalizers import normalize_value

_EDGE_WORDS = re.compile(r"^(?:(?:to|at|by|about|around|of|the|my|a|an|our)\s+)+", re.IGNORECASE)
_UNIT_TAIL = re.compile(r"(?:\s*(?:%|percent|per cent|degrees?|celsius|fahrenheit|°[cf]?))+$", re.IGNORECASE)
_NUMERIC_KINDS = {"integer_percent", "number", "duration_part"}


def trim_span(text: str, slot: str, start: int, end: int, kind: str) -> tuple[int, int]:
    """Trim a span to the schema's convention: no leading the/my/a/an; numbers without to/by or units.

    "to fifty percent" → "fifty", "the kitchen" → "kitchen"; "a quarter" and "half way" stay whole.
    """
    piece = text[start:end]
    if kind in _NUMERIC_KINDS:
        m = _EDGE_WORDS.match(piece)
        if (
            m
            and normalize_value(kind, piece[m.end() :], slot) is not None
            and not piece.lower().startswith("a quarter")
        ):
            start += m.end()
            piece = text[start:end]
        m2 = _UNIT_TAIL.search(piece)
        if m2 and m2.start() > 0:
            end = start + m2.start()
    elif kind == "text":
        words = piece.split(" ")
        while len(words) > 1 and words[0].lower() in {"the", "my", "a", "an", "our"}:
            start += len(words[0]) + 1
            words = words[1:]
    piece = text[start:end]
    start += len(piece) - len(piece.lstrip())
    end -= len(piece) - len(piece.rstrip())
    return start, end


def make_example(
    text: str,
    intent: str,
    spans: list[tuple[str, int, int]],
    schema: Schema,
    source: str,
    *,
    strict: bool = True,
) -> Example | None:
    """Label a sentence: trim spans, normalize their values, add inferred slots.

    With ``strict`` an example whose span does not normalize (or whose slot the intent cannot carry)
    is rejected (None); otherwise such spans are dropped and the example kept.
    """
    if intent == NOT_RECOGNIZED:
        return Example(text=text, intent=intent, slots=(), values={}, source=source)
    allowed = set(schema.intent_slots(intent))
    kept: list[SlotSpan] = []
    values: dict = {}
    for slot, start, end in sorted(spans, key=lambda s: s[1]):
        if slot not in allowed or not schema.slot(slot).tagged:
            if strict:
                return None
            continue
        spec = schema.slot(slot)
        start, end = trim_span(text, slot, start, end, spec.kind)
        value = normalize_value(spec.kind, text[start:end], slot, spec.values) if end > start else None
        if value is None or slot in values:
            if strict:
                return None
            continue
        values[slot] = value
        kept.append(SlotSpan(slot, text[start:end], start, end))
    exclude = [(s.start, s.end) for s in kept if s.type in ("area", "floor")]
    for inferred in infer_slots(text, intent, schema, exclude=exclude):
        values.setdefault(inferred.slot, inferred.value)
    return Example(text=text, intent=intent, slots=tuple(kept), values=values, source=source)
