"""Random expansion of hassil sentence templates into labelled sentences with slot spans.

hassil's own ``sample_intents`` enumerates every combination and loses where each list value landed.
This sampler walks the same expression tree (``Alternative``, ``Sequence``, ``Permutation``, rules,
lists) choosing one branch at random, and records the character span and slot of every list value it
fills, so each sentence comes out with its spans.

Example:
    >>> import random
    >>> from hassil.parse_expression import parse_sentence
    >>> s = TemplateSampler({"area": ["kitchen"]}, random.Random(0))
    >>> out = s.sample(parse_sentence("turn on the {area} lights"))
    >>> out.text, out.spans
    ('turn on the kitchen lights', [('area', 12, 19)])
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    Sequence,
    TextChunk,
)
from hassil.intents import RangeSlotList, SlotList, TextSlotList

_NUMBER_WORDS_CACHE: dict[int, str] = {}


class Rejected(Exception):
    """The template needs a list or value this sampler does not fill (e.g. a wildcard command)."""


@dataclass
class Sampled:
    """One expanded sentence: text, (slot, start, end) spans and the list slots it filled."""

    text: str
    spans: list[tuple[str, int, int]] = field(default_factory=list)
    filled: dict[str, str] = field(default_factory=dict)


def number_words(n: int) -> str:
    """English words for an integer ("fifty-five"), via hassil's RBNF engine."""
    if n not in _NUMBER_WORDS_CACHE:
        from hassil.numbers import get_rbnf_engine

        result = get_rbnf_engine("en").format_number(n)
        _NUMBER_WORDS_CACHE[n] = result.text_by_ruleset.get("spellout-cardinal") or str(n)
    return _NUMBER_WORDS_CACHE[n]


# A list fill returns the text to insert, or raises Rejected.
ListFiller = Callable[[str, str, random.Random], str]


class TemplateSampler:
    """Expand hassil templates at random, filling open lists from the project's own name lists.

    Args:
        lists: values for list names (``{"area": [...], "name": [...]}``); these win over ``slot_lists``.
        rng: the random source (seeded by the caller for reproducibility).
        slot_lists: hassil slot lists (value lists, ranges) from the template files.
        expansion_rules: hassil ``<rule>`` bodies.
        slot_map: template slot name → schema slot name; a slot mapped to None is filled but not
            recorded (e.g. device_class, inferred later); a slot absent from the map rejects the sentence.
        words_probability: chance that a number from a range is written as words ("fifty") instead of digits.
    """

    def __init__(
        self,
        lists: dict[str, list[str]],
        rng: random.Random,
        slot_lists: dict[str, SlotList] | None = None,
        expansion_rules: dict[str, Sentence] | None = None,
        slot_map: dict[str, str | None] | None = None,
        words_probability: float = 0.35,
    ) -> None:
        self.lists = lists
        self.rng = rng
        self.slot_lists = slot_lists or {}
        self.expansion_rules = expansion_rules or {}
        self.slot_map = slot_map
        self.words_probability = words_probability

    def sample(self, sentence: Sentence, rules: dict[str, Sentence] | None = None) -> Sampled | None:
        """One random sentence from a template, or None if the template cannot be filled."""
        pieces: list[tuple[str, str | None]] = []
        filled: dict[str, str] = {}
        try:
            self._walk(sentence.expression, pieces, filled, {**self.expansion_rules, **(rules or {})}, 0)
        except Rejected:
            return None
        return _assemble(pieces, filled)

    # === Expression walk ===
    def _walk(self, exp: Expression, out: list, filled: dict, rules: dict, depth: int) -> None:
        if depth > 50:
            raise Rejected("template recursion too deep")
        if isinstance(exp, TextChunk):
            out.append((exp.original_text if exp.original_text is not None else exp.text, None))
        elif isinstance(exp, Alternative):
            self._walk(self.rng.choice(exp.items), out, filled, rules, depth + 1)
        elif isinstance(exp, Permutation):
            items = list(exp.items)
            self.rng.shuffle(items)
            for item in items:
                out.append((" ", None))
                self._walk(item, out, filled, rules, depth + 1)
                out.append((" ", None))
        elif isinstance(exp, (Sequence, Group)):
            for item in exp.items:
                self._walk(item, out, filled, rules, depth + 1)
        elif isinstance(exp, RuleReference):
            if exp.rule_name not in rules:
                raise Rejected(f"missing rule <{exp.rule_name}>")
            self._walk(rules[exp.rule_name].expression, out, filled, rules, depth + 1)
        elif isinstance(exp, ListReference):
            self._fill_list(exp, out, filled, rules, depth)
        else:
            raise Rejected(f"unknown expression {type(exp).__name__}")

    def _fill_list(self, ref: ListReference, out: list, filled: dict, rules: dict, depth: int) -> None:
        slot = ref.slot_name
        if self.slot_map is not None:
            if slot not in self.slot_map:
                raise Rejected(f"slot {slot} is not mapped")
            target = self.slot_map[slot]
        else:
            target = slot
        if ref.list_name in self.lists:
            values = self.lists[ref.list_name]
            if not values:
                raise Rejected(f"empty list {ref.list_name}")
            text = self.rng.choice(values)
        elif ref.list_name in self.slot_lists:
            text = self._from_slot_list(self.slot_lists[ref.list_name], filled, rules, depth)
        else:
            raise Rejected(f"no values for list {{{ref.list_name}}}")
        text = text.strip()
        if not text:
            raise Rejected("empty value")
        filled[slot] = text
        out.append((text, target))

    def _from_slot_list(self, slot_list: SlotList, filled: dict, rules: dict, depth: int) -> str:
        if isinstance(slot_list, TextSlotList):
            if not slot_list.values:
                raise Rejected("empty slot list")
            value = self.rng.choice(slot_list.values)
            inner: list[tuple[str, str | None]] = []
            self._walk(value.text_in, inner, filled, rules, depth + 1)
            return "".join(t for t, _ in inner)
        if isinstance(slot_list, RangeSlotList):
            numbers = list(range(slot_list.start, slot_list.stop + 1, slot_list.step))
            n = self.rng.choice(numbers)
            if slot_list.words and self.rng.random() < self.words_probability:
                words = number_words(n)  # "fifty-five"; speech-to-text writes "fifty five"
                return words.replace("-", " ") if self.rng.random() < 0.5 else words
            return str(n)
        raise Rejected(f"cannot fill {type(slot_list).__name__}")


def _assemble(pieces: list[tuple[str, str | None]], filled: dict[str, str]) -> Sampled | None:
    """Join pieces, collapse whitespace, and keep the spans of slot pieces."""
    text = ""
    spans: list[tuple[str, int, int]] = []
    for piece, slot in pieces:
        if slot is None:
            piece = re.sub(r"\s+", " ", piece)
            if text.endswith(" ") and piece.startswith(" "):
                piece = piece[1:]
            text += piece
        else:
            if text and not text.endswith(" ") and text[-1].isalnum():
                text += " "
            spans.append((slot, len(text), len(text) + len(piece)))
            text += piece
    # Strip the edges and shift the spans.
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    spans = [(s, a - lead, b - lead) for s, a, b in spans]
    if not text or any(a < 0 or b > len(text) for _, a, b in spans):
        return None
    return Sampled(text=text, spans=spans, filled=filled)
