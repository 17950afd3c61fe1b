"""Label-preserving rewrites of examples: how people and speech-to-text really phrase commands.

Every rewrite edits only the text OUTSIDE slot spans (the spans are moved, never broken), so the
labels stay exact: polite prefixes and suffixes, filler words, lower-case unpunctuated STT output,
sentence casing and punctuation, and typos / speech slips on non-slot words.

Example:
    >>> import random
    >>> ex = Example("turn on the lights", "HassTurnOn", (), {"domain": "light"}, "t")
    >>> stt_form(with_casing(ex, random.Random(0))).text
    'turn on the lights'
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from converter.data.example import Example, SlotSpan

PREFIXES = [
    "please", "could you", "can you", "would you", "hey", "ok", "okay", "would you mind", "i'd like you to",
    "hey could you", "can you please", "could you please", "um", "uh", "so", "alright", "yo", "hi", "excuse me",
    "i want you to", "go ahead and", "quickly", "hey there", "computer", "jarvis", "ok house", "hey home",
    "olly", "olly please", "alexa", "hey google", "ok google", "siri", "hey siri", "hey mycroft", "assistant",
    "would you be so kind as to", "i was wondering if you could", "do me a favour and", "could you just",
    "can you just", "please could you", "hey can you", "if you could",
]  # fmt: skip
SUFFIXES = [
    "please", "thanks", "thank you", "for me", "now", "right now", "please and thank you", "if you can",
    "when you get a chance", "asap", "real quick", "thanks a lot", "cheers", "if you don't mind", "ok",
    "for me please", "would you", "could you", "thanks so much", "if that's ok",
]  # fmt: skip
FILLERS = ["um", "uh", "like", "er", "erm", "you know", "i mean", "actually", "just"]
SPEECH_SLIPS = {
    "lights": "lites", "light": "lite", "turn": "tern", "the": "teh", "off": "of", "please": "pls",
    "brightness": "brightnes", "kitchen": "kitchin", "volume": "volumn", "temperature": "temprature",
    "thermostat": "thermastat", "vacuum": "vaccum", "coffee": "cofee", "curtains": "curtins",
    "weather": "wether", "timer": "timmer", "minutes": "mins", "seconds": "secs", "tomorrow": "tommorow",
    "switch": "swich", "living": "livin", "you": "u", "are": "r", "to": "2", "your": "ur",
    "unpause": "un pause", "unmute": "un-mute", "what's": "whats", "it's": "its", "don't": "dont",
}  # fmt: skip
# More slips per word (chosen at random with the one above).
EXTRA_SLIPS = {
    "lights": ["lihgts", "ligths", "lites"], "off": ["of", "offf"], "on": ["onn"], "turn": ["trun", "tunr", "tun"],
    "unmute": ["un mute", "unmut"], "unpause": ["un-pause", "unpase"], "living": ["livng", "liveing"],
    "bedroom": ["bedrom", "bed room"], "kitchen": ["kichen", "kitchn"], "bathroom": ["bathrom", "bath room"],
    "switch": ["swtich", "witch", "swich"], "set": ["sett", "st"], "timer": ["timre", "tmer"], "lamp": ["lmap", "lamb"],
    "brighter": ["brigher", "britter"], "dim": ["dimm"], "thermostat": ["thermostate", "thermo"],
    "close": ["clsoe", "cloze"], "open": ["opne", "oppen"], "music": ["musci", "muisc"],
    "shopping": ["shoping", "shoppin"], "list": ["lsit", "lst"], "please": ["plz", "plase"],
}  # fmt: skip
# Slips inside a place name (area / floor spans): the value becomes the misspelt words, as typed.
SLOT_SLIPS = {
    "living": "livng", "bedroom": "bedrom", "kitchen": "kitchn", "bathroom": "bathrom", "hallway": "halway",
    "upstairs": "upstars", "downstairs": "downstiars", "garage": "garge", "office": "ofice",
}  # fmt: skip


def _segments(ex: Example) -> list[tuple[str, SlotSpan | None]]:
    """The text cut into (piece, span-or-None), in order."""
    out: list[tuple[str, SlotSpan | None]] = []
    pos = 0
    for s in sorted(ex.slots, key=lambda s: s.start):
        if s.start > pos:
            out.append((ex.text[pos : s.start], None))
        out.append((ex.text[s.start : s.end], s))
        pos = s.end
    if pos < len(ex.text):
        out.append((ex.text[pos:], None))
    return out


def _rebuild(ex: Example, segments: list[tuple[str, SlotSpan | None]], tag: str) -> Example:
    text = ""
    spans = []
    for piece, span in segments:
        if span is None:
            text += piece
        else:
            spans.append(SlotSpan(span.type, piece, len(text), len(text) + len(piece)))
            text += piece
    # Collapse whitespace while keeping spans aligned.
    cleaned, mapping = [], []
    for ch in text:
        if ch.isspace() and (not cleaned or cleaned[-1] == " "):
            mapping.append(len(cleaned))
            continue
        mapping.append(len(cleaned))
        cleaned.append(" " if ch.isspace() else ch)
    mapping.append(len(cleaned))
    new_text = "".join(cleaned).rstrip()
    new_spans = []
    for s in spans:
        a, b = mapping[s.start], mapping[s.end]
        piece = new_text[a:b].strip()
        a = new_text.index(piece, a) if piece else a
        new_spans.append(SlotSpan(s.type, piece, a, a + len(piece)))
    source = ex.source if tag in ex.source else f"{ex.source}+{tag}"
    return Example(new_text, ex.intent, tuple(new_spans), dict(ex.values), source)


def _map_free_text(ex: Example, fn: Callable[[str], str], tag: str) -> Example:
    return _rebuild(ex, [(fn(p) if s is None else p, s) for p, s in _segments(ex)], tag)


def with_politeness(ex: Example, rng: random.Random) -> Example:
    """Add a polite or chatty prefix and/or suffix."""
    segs = _segments(ex)
    r = rng.random()
    if r < 0.45 or r > 0.8:
        segs = [(rng.choice(PREFIXES) + " ", None), *segs]
    if r >= 0.45:
        segs = [*segs, (" " + rng.choice(SUFFIXES), None)]
    return _rebuild(ex, segs, "polite")


def with_filler(ex: Example, rng: random.Random) -> Example:
    """Insert one hesitation or filler word between two words outside the slots."""
    segs = _segments(ex)
    free = [
        i for i, (p, s) in enumerate(segs) if s is None and " " in p.strip(" ") or (s is None and p == " ")
    ]
    if not free:
        return _rebuild(ex, [(rng.choice(FILLERS) + " ", None), *segs], "filler")
    i = rng.choice(free)
    piece = segs[i][0]
    gaps = [m.start() for m in re.finditer(" ", piece)]
    g = rng.choice(gaps)
    segs[i] = (piece[:g] + " " + rng.choice(FILLERS) + " " + piece[g + 1 :], None)
    return _rebuild(ex, segs, "filler")


def stt_form(ex: Example) -> Example:
    """Speech-to-text output: lower-case, no sentence punctuation."""
    segs = [(p.lower() if s is None else p.lower(), s) for p, s in _segments(ex)]
    segs = [(re.sub(r"[.,!?;:\"]", "", p) if s is None else p, s) for p, s in segs]
    return _rebuild(ex, segs, "stt")


def with_casing(ex: Example, rng: random.Random) -> Example:
    """Typed form: a capital first letter and a full stop or question mark (sometimes an exclamation)."""
    segs = _segments(ex)
    if segs and segs[0][1] is None:
        first = segs[0][0]
        segs[0] = (first[:1].upper() + first[1:], None)
    question = re.match(r"\s*(is|are|what|how|did|do|can|could|will|when|which|who)\b", ex.text.lower())
    end = "?" if question else rng.choice([".", "!", ""])
    return _rebuild(ex, [*segs, (end, None)], "cased")


_KNOWN_SLIPS = SPEECH_SLIPS.keys() | EXTRA_SLIPS.keys()  # short words too: "on" -> "onn", "off" -> "of"


def with_typo(ex: Example, rng: random.Random) -> Example:
    """One typo or speech slip in a word outside the slots (swap, drop or double a letter, or a known slip)."""

    def typo(piece: str) -> str:
        words = piece.split(" ")
        candidates = [
            i for i, w in enumerate(words) if w.isalpha() and (len(w) >= 3 or w.lower() in _KNOWN_SLIPS)
        ]
        if not candidates:
            return piece
        i = rng.choice(candidates)
        w = words[i]
        slips = [
            *([SPEECH_SLIPS[w.lower()]] if w.lower() in SPEECH_SLIPS else []),
            *EXTRA_SLIPS.get(w.lower(), []),
        ]
        short = len(w) < 3  # short words only get known slips ("on" never becomes "no")
        if slips and (short or rng.random() < 0.6):
            words[i] = rng.choice(slips)
        else:
            j = rng.randrange(len(w) - 1)
            kind = rng.choice(("swap", "drop", "double"))
            if kind == "swap":
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            elif kind == "drop":
                words[i] = w[:j] + w[j + 1 :]
            else:
                words[i] = w[: j + 1] + w[j] + w[j + 1 :]
        return " ".join(words)

    segs = _segments(ex)
    free = [i for i, (p, s) in enumerate(segs) if s is None and re.search(r"[a-zA-Z]{3}", p)]
    if not free:
        return ex
    i = rng.choice(free)
    segs[i] = (typo(segs[i][0]), None)
    return _rebuild(ex, segs, "typo")


def with_place_slip(ex: Example, rng: random.Random) -> Example:
    """A typo inside an area/floor span ("livng room"); the slot value is the typed words."""
    segs = _segments(ex)
    options = [
        (i, w)
        for i, (p, s) in enumerate(segs)
        if s is not None and s.type in ("area", "floor")
        for w in p.lower().split()
        if w in SLOT_SLIPS
    ]
    if not options:
        return ex
    i, w = rng.choice(options)
    piece, span = segs[i]
    new = re.sub(rf"\b{re.escape(w)}\b", SLOT_SLIPS[w], piece, count=1, flags=re.IGNORECASE)
    segs[i] = (new, span)
    out = _rebuild(ex, segs, "typo")
    values = dict(out.values)
    for s in out.slots:
        if s.type in ("area", "floor"):
            values[s.type] = s.value.lower()
    return Example(out.text, out.intent, out.slots, values, out.source)


def augment(ex: Example, rng: random.Random) -> Example:
    """A random mix of rewrites (each with its own probability); always returns a new Example."""
    out = ex
    if rng.random() < 0.55:  # polite wrappers around multi-word names are common and were under-trained
        out = with_politeness(out, rng)
    if rng.random() < 0.2:
        out = with_filler(out, rng)
    if rng.random() < 0.3:
        out = with_typo(out, rng)
    if rng.random() < 0.08:
        out = with_place_slip(out, rng)
    r = rng.random()
    if r < 0.35:
        out = with_casing(out, rng)
    elif r < 0.7:
        out = stt_form(out)
    return out
