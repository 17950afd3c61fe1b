"""Slot text → normalized value, following the schema's conventions (sample_data/SCHEMA.md).

Pure functions, no dependencies: numbers (digits or spelled out, "half way", "a quarter", "max"),
percentages, temperatures, colours, duration parts, states, media classes, volume steps and text.
Each returns ``None`` when the text does not hold a value of that kind.

Example:
    >>> normalize_percent("fifty percent"), normalize_percent("half way"), normalize_percent("max")
    (50, 50, 100)
    >>> normalize_text("The Desk Lamp")
    'desk lamp'
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "oh": 0, "nought": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000}
_FRACTIONS = {"half": 0.5, "quarter": 0.25, "quarters": 0.25, "third": 1 / 3, "thirds": 1 / 3}
_ARTICLES_AS_ONE = {"a", "an"}

_LEADING_DETERMINERS = ("the", "my", "a", "an", "our", "your")
_PERCENT_WORDS = {
    "full": 100, "fully": 100, "max": 100, "maximum": 100, "highest": 100, "all the way": 100, "all the way up": 100,
    "completely": 100, "brightest": 100, "full blast": 100, "full power": 100,
    "min": 1, "minimum": 1, "lowest": 1, "dimmest": 1,
    "half": 50, "halfway": 50, "half way": 50, "half open": 50, "half way open": 50, "midway": 50, "middle": 50,
    "quarter": 25, "a quarter": 25, "quarter way": 25, "a quarter of the way": 25, "three quarters": 75,
    "three quarter": 75, "three quarters of the way": 75, "off": 0, "nothing": 0, "none": 0,
}  # fmt: skip
_FILLER_AROUND_NUMBER = re.compile(
    r"\b(to|at|by|about|around|roughly|approximately|percent|per cent|pct|degrees?|deg|celsius|fahrenheit|"
    r"centigrade|c|f|°c|°f|°|%|level|the|of|way|up|down|brightness|volume|position|speed|point zero)\b"
)
_NUMBER_TOKEN = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_PUNCT_EDGES = re.compile(r"^[\s\"'“”‘’.,!?;:()\[\]-]+|[\s\"'“”‘’.,!?;:()\[\]-]+$")


def _words(text: str) -> list[str]:
    text = text.lower().replace("%", " percent ").replace("°", " degrees ")
    text = re.sub(r"(\d)-(?=[a-z])", r"\1 ", text)  # "50-percent" → "50 percent"
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # "fifty-five" → "fifty five"
    return [w for w in re.split(r"[\s,]+", text) if w]


def parse_number(text: str) -> float | None:
    """A number written in digits or English words ("72", "twenty two point five", "one hundred"), else None."""
    words = [w for w in _words(text) if w != "and"]
    if not words:
        return None
    if len(words) == 1 and _NUMBER_TOKEN.match(words[0]):
        return float(words[0].replace(",", "."))
    negative = False
    if words[0] in {"minus", "negative"}:
        negative, words = True, words[1:]
    if "point" in words:
        i = words.index("point")
        whole = _parse_integer_words(words[:i]) if i else 0
        digits = [_UNITS.get(w) if not w.isdigit() else int(w) for w in words[i + 1 :]]
        if whole is None or not digits or any(d is None or d > 9 for d in digits):
            return None
        value = float(f"{whole}." + "".join(str(d) for d in digits))
    else:
        whole = _parse_integer_words(words)
        if whole is None:
            return None
        value = float(whole)
    return -value if negative else value


def _parse_integer_words(words: list[str]) -> int | None:
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    total, current, seen = 0, 0, False
    for w in words:
        if w.isdigit():
            current += int(w)
        elif w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w in _SCALES:
            current = max(current, 1) * _SCALES[w]
            if _SCALES[w] >= 1000:
                total, current = total + current, 0
        elif w in _ARTICLES_AS_ONE and not seen:
            current += 1
        else:
            return None
        seen = True
    return total + current if seen else None


def _strip_number_fillers(text: str) -> str:
    return " ".join(_FILLER_AROUND_NUMBER.sub(" ", text.lower().replace("%", " % ")).split())


def normalize_percent(text: str) -> int | None:
    """An integer 0–100: "fifty percent" 50, "half way" 50, "a quarter" 25, "full"/"max" 100, "min" 1; a little
    over 100 is 100 ("150"), a number in the thousands is no percent at all ("2700" kelvin) and gives None."""
    low = " ".join(_words(text))
    low = _PUNCT_EDGES.sub("", low)
    if low in _PERCENT_WORDS:
        return _PERCENT_WORDS[low]
    core = _strip_number_fillers(low)
    if core in _PERCENT_WORDS:
        return _PERCENT_WORDS[core]
    value = parse_number(core)
    if value is None:
        frac = _parse_fraction(core)
        if frac is None:
            return None
        value = frac * 100
    if value >= 1000:
        return None
    return int(round(min(max(value, 0.0), 100.0)))


def _parse_fraction(text: str) -> float | None:
    """'a half' 0.5, 'three quarters' 0.75, 'one third' 0.33."""
    words = text.split()
    if not words or words[-1] not in _FRACTIONS:
        return None
    count = _parse_integer_words(words[:-1]) if words[:-1] else 1
    return None if count is None else count * _FRACTIONS[words[-1]]


def normalize_number(text: str) -> int | float | None:
    """A number (temperature): "seventy two degrees" 72, "21.5" 21.5; int when whole."""
    core = _strip_number_fillers(" ".join(_words(text)))
    value = parse_number(core)
    if value is None:
        words = core.split()
        if len(words) >= 2 and words[-1] == "half" and words[-2] == "a":  # "twenty one and a half"
            base = parse_number(" ".join(words[:-2]))
            value = None if base is None else base + 0.5
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 2)


def normalize_duration_part(text: str) -> int | None:
    """An integer count of hours/minutes/seconds: "five" 5, "an" 1, "90" 90."""
    core = " ".join(w for w in _words(text) if w not in {"hour", "hours", "minute", "minutes", "min", "mins",
                                                         "second", "seconds", "sec", "secs", "and"})  # fmt: skip
    if core in {"a", "an", "one"}:
        return 1
    value = parse_number(core)
    if value is None or value < 0:
        return None
    return int(round(value))


_TENS_WORDS = "|".join(_TENS)
_SMALL_NUMBER = (
    rf"(?:(?:{_TENS_WORDS})[ -])?(?:an?|{'|'.join(sorted(_UNITS, key=len, reverse=True))}|{_TENS_WORDS}|\d+)"
)
_SMALLER_UNIT = {"hour": ("hours", "minutes"), "minute": ("minutes", "seconds")}
_DURATION_FRACTIONS = [
    # "two and a half hours", "one and a quarter minutes"
    re.compile(
        rf"\b(?P<num>{_SMALL_NUMBER}) and (?P<frac>a half|a quarter|three quarters) (?P<unit>hour|minute)s?\b"
    ),
    # "an hour and a half", "two minutes and a half"
    re.compile(
        rf"\b(?P<num>{_SMALL_NUMBER}) (?P<unit>hour|minute)s? and (?P<frac>a half|a quarter|three quarters)\b"
    ),
    # "1.5 hours", "2.5 minutes"
    re.compile(r"\b(?P<num>\d+)(?P<dec>\.\d+) ?(?P<unit>hour|minute)s?\b"),
    # "half an hour", "a quarter of an hour", "three quarters of an hour", "half a minute", "a half hour"
    re.compile(
        r"\b(?:(?:a|one) )?(?P<frac>half|quarter|three quarters)(?: of)?(?: an?)? (?P<unit>hour|minute)s?\b"
    ),
]


def fractional_durations(text: str) -> list[tuple[int, int, dict[str, int]]]:
    """Durations said with a fraction, as whole hours/minutes/seconds: "half an hour" → minutes 30, "an hour and
    a half" → hours 1 + minutes 30, "1.5 minutes" → minutes 1 + seconds 30. ``(start, end, parts)`` per match,
    in text order, non-overlapping (the longest patterns first)."""
    low = text.lower()
    found: list[tuple[int, int, dict[str, int]]] = []
    if len(low) != len(text):  # offsets must stay the text's own ("İ" lower-cases to two characters)
        return found
    for pattern in _DURATION_FRACTIONS:
        for m in pattern.finditer(low):
            if any(m.start() < end and start < m.end() for start, end, _ in found):
                continue
            groups = m.groupdict()
            whole = (parse_number(groups["num"]) or 0.0) if groups.get("num") else 0.0  # "an" hour: 1
            fraction = float(groups["dec"]) if groups.get("dec") else (_parse_fraction(groups["frac"]) or 0.0)
            unit, smaller = _SMALLER_UNIT[groups["unit"]]
            parts = {unit: int(whole)} if whole >= 1 else {}
            rest = round((whole - int(whole) + fraction) * 60)
            if rest:
                parts[smaller] = rest
            found.append((m.start(), m.end(), parts))
    return sorted(found)


# Colour words a light takes (Home Assistant reads CSS colour names); a room or a device is rarely called one.
COLOR_WORDS = frozenset(
    {"red", "green", "blue", "yellow", "orange", "purple", "pink", "white", "gray", "grey", "cyan", "magenta",
     "violet", "indigo", "turquoise", "teal", "amber", "gold", "lavender", "lime", "crimson", "aqua", "coral",
     "salmon", "navy", "maroon", "black", "brown"}
)  # fmt: skip

_COLOR_ALIASES = {"grey": "gray", "violet": "purple", "aqua": "cyan", "colour": "", "color": "", "coloured": "",
                  "colored": "", "light": "light", "the": ""}  # fmt: skip


def normalize_color(text: str) -> str | None:
    """A lower-case colour word ("Warm White" → "warm white", "grey" → "gray")."""
    words = [_COLOR_ALIASES.get(w, w) for w in _words(_PUNCT_EDGES.sub("", text))]
    words = [w for w in words if w]
    return " ".join(words) or None


_STATES = {
    "on": "on", "off": "off", "open": "open", "opened": "open", "opening": "open", "ajar": "open",
    "closed": "closed", "close": "closed", "shut": "closed", "closing": "closed",
    "locked": "locked", "lock": "locked", "securely locked": "locked", "unlocked": "unlocked", "unlock": "unlocked",
    "running": "on", "switched on": "on", "switched off": "off", "turned on": "on", "turned off": "off",
}  # fmt: skip


def normalize_state(text: str) -> str | None:
    """on, off, open, closed, locked or unlocked."""
    return _STATES.get(" ".join(_words(_PUNCT_EDGES.sub("", text))))


_MEDIA_CLASSES = {
    "album": "album", "albums": "album", "record": "album", "lp": "album",
    "artist": "artist", "band": "artist", "singer": "artist", "group": "artist",
    "track": "track", "song": "track", "songs": "track", "tune": "track", "tracks": "track", "single": "track",
    "playlist": "playlist", "play list": "playlist", "mix": "playlist",
    "podcast": "podcast", "podcasts": "podcast", "episode": "podcast",
    "movie": "movie", "film": "movie", "movies": "movie", "films": "movie",
    "tv show": "tv_show", "show": "tv_show", "series": "tv_show", "tv series": "tv_show", "tv_show": "tv_show",
    "shows": "tv_show", "radio": "radio", "station": "radio", "radio station": "radio",
}  # fmt: skip


def normalize_media_class(text: str) -> str | None:
    """album, artist, track, playlist, podcast, movie, tv_show or radio."""
    return _MEDIA_CLASSES.get(" ".join(_words(_PUNCT_EDGES.sub("", text))))


_VOLUME_UP = {
    "up",
    "louder",
    "raise",
    "increase",
    "turn up",
    "crank",
    "crank up",
    "boost",
    "higher",
    "pump up",
}
_VOLUME_DOWN = {"down", "quieter", "lower", "decrease", "reduce", "softer", "turn down", "less loud"}


def normalize_volume_step(text: str) -> str | None:
    """ "up" or "down" from a verb or adverb ("louder" → up, "lower" → down)."""
    low = " ".join(_words(_PUNCT_EDGES.sub("", text)))
    if low in _VOLUME_UP:
        return "up"
    if low in _VOLUME_DOWN:
        return "down"
    return None


def normalize_text(text: str) -> str | None:
    """The words, lower-case, single-spaced, without a leading the/my/a/an or edge punctuation."""
    words = _PUNCT_EDGES.sub("", text.lower()).split()
    while words and words[0] in _LEADING_DETERMINERS and len(words) > 1:
        words = words[1:]
    value = " ".join(words)
    value = re.sub(r"\s+'s\b", "'s", value)
    return value or None


def normalize_enum(text: str, slot: str, allowed: tuple[str, ...] = ()) -> str | None:
    """An enum slot's value: the slot's own normalizer, else the lower-case text if it is allowed."""
    special = {
        "state": normalize_state,
        "media_class": normalize_media_class,
        "volume_step": normalize_volume_step,
    }
    if slot in special:
        value = special[slot](text)
    else:
        value = normalize_text(text)
        value = value.replace(" ", "_") if value else None
    if value is not None and allowed and value not in allowed:
        return None
    return value


# the drink's own word after a coffee's type: "black coffee", "irish coffees" (HWU64 and SLURP label the type
# "black", "strong", "hot", "morning" without it)
_COFFEE_NOUN = re.compile(r"\s+(coffee|coffees|cup of coffee)$")


def normalize_value(
    kind: str, text: str, slot: str = "", allowed: tuple[str, ...] = ()
) -> str | int | float | None:
    """Dispatch on the schema's value kind (text, integer_percent, number, color, duration_part, enum)."""
    if kind == "text":
        value = normalize_text(text)
        if slot == "coffee_type" and value and " " in value:
            value = _COFFEE_NOUN.sub("", value)  # "a black coffee" is a coffee of type black (HWU64, SLURP)
        return value
    if kind == "integer_percent":
        return normalize_percent(text)
    if kind == "number":
        return normalize_number(text)
    if kind == "color":
        return normalize_color(text)
    if kind == "duration_part":
        return normalize_duration_part(text)
    if kind == "enum":
        return normalize_enum(text, slot, allowed)
    raise ValueError(f"unknown value kind {kind!r}")
