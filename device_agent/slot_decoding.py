"""Slot decoding: word-level BIO tags → character spans → normalized values, plus inferred slots.

The model predicts a BIO tag on the first word-piece of every word. :func:`decode_slots` reads those
predictions with a constrained Viterbi pass (well-formed BIO, only the slots the intent carries), cuts the span
out of the ORIGINAL text using the tokenizer's offsets, normalizes the value by the slot's kind, and
adds the slots the schema infers rather than tags (``domain``, ``device_class``, ``volume_step``).
The schema's span conventions are rules in :mod:`device_agent.span_rules` (joined spans, device nouns, places,
lists, timer names, colours, one-of-a-kind devices, state questions; play requests in
:mod:`device_agent.play_request_rules`); here: spans are
whole written words ("nan's room", "19.5"), a number slot's span must hold a number, a duration slot follows
its unit word and a duration said with a fraction is whole parts ("half an hour" → minutes 30), a bare generic
device word is never a ``name``, and an ``area``/``floor`` never ends in one ("the bedroom tv" → area
"bedroom"; the device word becomes the inferred ``domain``). Names the bundle carries and the household's names
(``device_agent.known_names``) get a bonus before the Viterbi pass.

Example:
    >>> schema = Schema.load()
    >>> [(s.slot, s.value) for s in infer_slots("open the garage door", "HassTurnOn", schema)]
    [('domain', 'cover'), ('device_class', 'garage')]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from device_agent.known_names import DEFAULT_KNOWN_NAME_BONUS, KnownNames
from device_agent.schema import NOT_RECOGNIZED, Schema
from device_agent.span_rules import apply_conventions, join_spans
from device_agent.value_normalizers import fractional_durations, normalize_value


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

    spans = join_spans(spans, word_texts, schema)
    # a number slot's span without a number goes before the rules run: it frees "bread" for a timer name
    spans = [span for span in spans if _has_value(span, text, words, schema)]
    o = tags.index("O")
    not_o = [1.0 - float(p[o]) for p in rows]  # a rule's span confidence: how much the model saw a slot
    listed = {(first, last) for _slot, first, last in found}
    spans = apply_conventions(spans, word_texts, intent, allowed, listed, not_o, schema)
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


def _duration_slot_by_unit(text: str, start: int, end: int, slot: str, allowed: set[str]) -> str:
    """The duration slot named by the unit word inside or right after the span ("ten minutes" → minutes)."""
    words = [w for w, _s, _e in _tokens(text[start:])][:8]
    span_words = len(_tokens(text[start:end]))
    for word in words[: span_words + 1]:
        for unit, names in _UNIT_WORDS.items():
            if word in names and unit in allowed:
                return unit
    return slot


_NUMBER_KINDS = frozenset({"integer_percent", "number", "duration_part"})


def _has_value(span: list[Any], text: str, words: list[tuple[int, int, int]], schema: Schema) -> bool:
    """False for a number slot's span that holds no number ("start a timer named **bread**" tagged as minutes):
    it would be dropped anyway, and its words are left to the rules that come after."""
    spec = schema.slot(span[0])
    if spec.kind not in _NUMBER_KINDS:
        return True
    start, end = _whole_words(text, words[span[1]][1], words[span[2]][2])
    return normalize_value(spec.kind, text[start:end], span[0], spec.values) is not None


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


_DERIVED: dict[tuple[str, int], tuple[Any, Any]] = {}


def _derived(kind: str, table: Any, build: Callable[[Any], Any]) -> Any:
    """``build(table)``, computed once per schema table object (kept alive in the cache beside its result)."""
    cached = _DERIVED.get((kind, id(table)))
    if cached is None or cached[0] is not table:
        cached = _DERIVED[(kind, id(table))] = (table, build(table))
    return cached[1]


def _phrase_table(phrases: dict[str, list[str]]) -> list[tuple[list[str], str]]:
    """Phrases split into words, longest first (cached per phrase dict)."""
    return _derived(
        "phrases",
        phrases,
        lambda ps: sorted(
            ((p.split(), key) for key, values in ps.items() for p in values), key=lambda x: -len(x[0])
        ),
    )


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


# words that say which way the volume goes, not how it is ("loud", "low" describe)
VOLUME_DIRECTIONS = frozenset(
    {"up", "down", "louder", "quieter", "softer", "raise", "lower", "increase", "decrease", "reduce", "boost",
     "crank", "amplify", "quieten"}
)  # fmt: skip


def _device_word_slips(inference: dict[str, Any]) -> dict[str, str]:
    """Typing slips of the one-word device words (4+ letters) → the word: two neighbouring letters swapped
    ("lihgts", "wnidow", "fnas") or one letter doubled ("fanns", "sshades", "heatter"). Never a device word
    itself. Cached per inference table."""
    return _derived("slips", inference, _build_slips)


def _build_slips(inference: dict[str, Any]) -> dict[str, str]:
    words = {
        p
        for table in ("domain_words", "device_class_words")
        for ps in inference.get(table, {}).values()
        for p in ps
        if " " not in p
    }
    slips: dict[str, str] = {}
    for word in sorted(words):
        if len(word) < 4:
            continue
        swapped = [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
        doubled = [word[: i + 1] + word[i] + word[i + 1 :] for i in range(len(word))]
        for slip in swapped + doubled:
            if slip != word and slip not in words:
                slips.setdefault(slip, word)
    return slips


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
        # a direction said outright decides over a description: "it's really loud, turn the music **down**"
        said = [h for h in hits if text[h[1] : h[2]].lower() in VOLUME_DIRECTIONS]
        if hits:
            step, start, end, _ = (said or hits)[0]
            out.append(SlotValue("volume_step", text[start:end], step, "enum", start, end, 1.0))

    if intent not in inference.get("intents_with_domain", []):
        return out
    slips = _device_word_slips(inference)
    toks = [(slips.get(w, w), start, end) for w, start, end in toks]  # "lihgts" → lights
    nouns = [
        t
        for t in toks
        if not (t[0] == "switch" and (_next_word(toks, t) in _SWITCH_VERB_NEXT or toks.index(t) == 0))
    ]
    domain_hits = _find_phrases(nouns, inference.get("domain_words", {}))
    class_hits = _find_phrases(nouns, inference.get("device_class_words", {}))
    verb_hits = [
        (inference["verb_domains"][w], s, e)
        for w, s, e in toks
        if w in inference.get("verb_domains", {}) and not (w == "shut" and _shuts_nothing(toks, (w, s, e)))
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


def _shuts_nothing(toks: Sequence[tuple[str, int, int]], t: tuple[str, int, int]) -> bool:
    """Whether "shut" closes nothing: "shut off the kettle" switches off, a bare "shut up" / "shut down"
    silences or powers down ("shut up the awning", Home Assistant's template, still closes)."""
    after = _next_word(toks, t)
    return after == "off" or (after in ("up", "down") and toks.index(t) + 2 == len(toks))


def _next_word(toks: Sequence[tuple[str, int, int]], t: tuple[str, int, int]) -> str:
    i = toks.index(t)
    return toks[i + 1][0] if i + 1 < len(toks) else ""
