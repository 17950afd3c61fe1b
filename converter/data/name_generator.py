"""Synthetic device names, rooms, floors, items and media titles for training only.

A model that has seen five hundred device names memorizes them; people name their devices anything
("emma's moon lamp", "kalomi", "left garage door"). Mixing compositional and made-up names into the
training lists forces the tagger to read the context ("turn on the ___") instead of the name itself.
Generated names are used for TRAINING only; the unseen-names dev set keeps the held-out real names.

Example:
    >>> import random
    >>> lists = synthetic_lists(random.Random(0), per_list=3)
    >>> sorted(lists)[:3]
    ['area', 'floor', 'item']
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

FIRST_NAMES = [
    "emma", "liam", "olivia", "noah", "ava", "lucas", "mia", "leo", "zoe", "ethan", "aisha", "omar", "yuki",
    "hiro", "chloe", "finn", "ruby", "jack", "grace", "sam", "nina", "max", "ella", "theo", "isla", "arjun",
    "sofia", "mateo", "lena", "felix", "maya", "kai", "ivy", "ben", "rosa", "tom", "lily", "dev", "ana", "joe",
]  # fmt: skip
MODIFIERS = [
    "left", "right", "big", "small", "little", "old", "new", "corner", "main", "back", "front", "upper", "lower",
    "north", "south", "east", "west", "tall", "round", "brass", "wooden", "glass", "vintage", "retro", "white",
    "black", "gold", "silver", "copper", "red", "blue", "green", "paper", "hanging", "standing", "twin", "double",
    "tiny", "giant", "smart", "cosy", "bright", "secret", "spare", "second", "third", "first", "outside", "inside",
]  # fmt: skip
DEVICE_NOUNS = {
    "light": ["lamp", "light", "lights", "bulb", "strip", "spot", "spots", "sconce", "pendant", "lantern",
              "globe", "lightbar", "led", "glow", "beam", "candle"],
    "switch": ["plug", "outlet", "socket", "switch", "heater", "kettle", "pump", "charger", "blanket", "fountain",
               "printer", "mixer", "fryer", "cooker", "warmer", "purifier"],
    "fan": ["fan", "fans", "blower", "ventilator", "air circulator", "cooler"],
    "cover": ["blind", "blinds", "shade", "shades", "curtain", "curtains", "shutter", "awning", "gate",
              "garage door", "skylight", "window", "roller"],
    "lock": ["door", "lock", "deadbolt", "gate lock", "door lock", "latch", "padlock"],
    "climate": ["thermostat", "heat pump", "radiator", "aircon", "heater", "ac"],
    "media_player": ["speaker", "speakers", "tv", "soundbar", "stereo", "radio", "player", "hifi", "projector",
                     "screen", "jukebox", "box"],
    "vacuum": ["robot", "vacuum", "bot", "hoover", "mop", "sweeper", "cleaner"],
    "scene": ["mode", "vibes", "mood", "time", "evening", "night", "glow", "setting"],
    "script": ["routine", "sequence", "check", "mode", "protocol"],
    "valve": ["valve", "tap", "main", "line", "sprinkler"],
    "sensor": ["temperature", "humidity", "meter", "level", "reading", "gauge"],
    "binary_sensor": ["sensor", "detector", "contact", "motion", "alarm"],
    "coffee": ["espresso machine", "coffee machine", "brewer", "barista"],
    "weather": ["station", "forecast", "weather"],
    "timer": ["bake", "boil", "stretch", "study", "nap", "tea", "rest", "pizza", "soak", "reading"],
    "list": ["errands", "jobs", "chores", "supplies", "ideas", "tasks", "projects", "wishes"],
}  # fmt: skip
SYLLABLES = ["ka", "lo", "mi", "zen", "tor", "ba", "ri", "no", "vex", "lu", "sa", "po", "qui", "dar", "el", "mo",
             "ty", "ra", "fin", "go", "ji", "ko", "ber", "ul", "ax", "ne", "zo", "pi", "wen", "sha"]  # fmt: skip
ROOM_NOUNS = ["room", "bedroom", "office", "study", "bathroom", "lounge", "den", "nook", "corner", "suite", "loft",
              "studio", "wing", "hall", "landing", "porch", "deck", "annex", "cabin", "snug"]  # fmt: skip
ROOM_MODIFIERS = ["blue", "green", "red", "yellow", "sun", "upper", "lower", "back", "front", "north", "south",
                  "east", "west", "old", "new", "guest", "spare", "second", "third", "small", "big", "quiet",
                  "music", "game", "toy", "plant", "reading", "tea", "hobby", "lego", "piano", "yoga"]  # fmt: skip
ORDINALS = ["first", "second", "third", "fourth", "fifth", "top", "bottom", "middle", "upper", "lower"]
FOOD_ADJ = ["organic", "fresh", "frozen", "smoked", "spicy", "greek", "vegan", "whole", "low fat", "gluten free",
            "sparkling", "dark", "salted", "unsalted", "brown", "wild", "sweet", "free range", "red", "green"]  # fmt: skip
FOODS = ["rice", "beans", "pasta", "salmon", "yogurt", "butter", "bread", "olives", "lentils", "cheese", "grapes",
         "tofu", "mushrooms", "peppers", "noodles", "almonds", "juice", "honey", "oats", "chillies", "water",
         "tea bags", "crackers", "cookies", "soup", "sausages", "pears", "plums", "carrots", "chickpeas"]  # fmt: skip
TITLE_WORDS = ["midnight", "summer", "electric", "golden", "silent", "wild", "blue", "broken", "dancing", "lonely",
               "paper", "velvet", "neon", "crystal", "thunder", "river", "ocean", "city", "desert", "moon", "fire",
               "heart", "dreams", "road", "sky", "rain", "garden", "stars", "shadows", "echoes", "morning", "tiger",
               "honey", "satellite", "harbour", "mountain", "kingdom", "orchestra", "machine", "radio"]  # fmt: skip
# Song titles are mostly everyday words ("hold me close", "walking home", "sweet little town"); artists are
# people's names. Pools for titles made of ordinary English, so "play ___" is read from its context.
TITLE_VERBS = ["hold", "kiss", "miss", "call", "need", "want", "leave", "tell", "show", "take", "keep", "find",
               "wake", "bring", "meet", "trust", "feel", "save", "free", "forget", "carry", "follow", "chase"]  # fmt: skip
TITLE_OBJECTS = ["me", "you", "us", "her", "him", "it", "them", "me home", "me now", "me tonight", "you back",
                 "it all", "my hand", "your heart", "the night", "it easy", "me closer", "me down"]  # fmt: skip
TITLE_GERUNDS = ["walking", "running", "falling", "driving", "waiting", "living", "talking", "singing", "flying",
                 "coming", "rolling", "burning", "holding", "looking", "sleeping", "shining"]  # fmt: skip
TITLE_TAILS = ["home", "away", "back", "on", "in the dark", "on air", "alone", "for you", "to the sun",
               "all night", "slow", "down the line", "with me", "in circles", "on empty", "so high"]  # fmt: skip
TITLE_ADJECTIVES = ["sweet", "little", "bad", "good", "hungry", "young", "lucky", "crazy", "lazy", "happy", "sad",
                    "easy", "dirty", "pretty", "simple", "strange", "perfect", "quiet", "lost", "cold"]  # fmt: skip
TITLE_NOUNS = ["girl", "boy", "town", "love", "days", "eyes", "feeling", "friend", "song", "heart", "world",
               "people", "thing", "money", "life", "road", "baby", "weekend", "summer", "sunday"]  # fmt: skip
SURNAMES = ["miller", "cooper", "hughes", "walker", "hayes", "brooks", "fisher", "ward", "reed", "price", "harper",
            "bell", "lawson", "nash", "porter", "santos", "kowalski", "okafor", "lindqvist", "moreau"]  # fmt: skip
BAND_NOUNS = ["kids", "brothers", "sisters", "wolves", "strangers", "dreamers", "kings", "birds", "lovers",
              "ramblers", "saints", "sparks", "travellers", "neighbours"]  # fmt: skip
WORD_SHARE = 0.3  # share of generated device names and areas made of everyday words, when given some


def _made_up(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3))))


def _one_of(rng: random.Random, *choices: tuple[float, Callable[[], str]]) -> str:
    """One draw picks the first maker whose cumulative bound exceeds it (the last takes the rest)."""
    r = rng.random()
    return next((make for bound, make in choices[:-1] if r < bound), choices[-1][1])()


def _device_name(domain: str, rng: random.Random) -> str:
    noun = rng.choice(DEVICE_NOUNS[domain])
    suffixes = ("one", "two", "three", "a", "b", "1", "2", "plus", "mini", "max", "pro")
    return _one_of(
        rng,
        (0.35, lambda: f"{rng.choice(MODIFIERS)} {noun}"),
        (0.55, lambda: f"{rng.choice(FIRST_NAMES)}'s {noun}"),
        (0.7, lambda: f"{_made_up(rng)} {noun}"),
        (0.8, lambda: _made_up(rng)),
        (0.9, lambda: f"{rng.choice(MODIFIERS)} {rng.choice(MODIFIERS)} {noun}"),
        (1.0, lambda: f"{noun} {rng.choice(suffixes)}"),
    )


def _word_device_name(domain: str, rng: random.Random, words: Sequence[str]) -> str:
    noun = rng.choice(DEVICE_NOUNS[domain])
    return _one_of(
        rng,
        (0.4, lambda: f"{rng.choice(words)} {noun}"),
        (0.7, lambda: rng.choice(words)),
        (0.85, lambda: f"{rng.choice(words)} {rng.choice(words)}"),
        (1.0, lambda: f"{rng.choice(MODIFIERS)} {rng.choice(words)}"),
    )


def _word_area(rng: random.Random, words: Sequence[str]) -> str:
    return _one_of(
        rng,
        (0.5, lambda: rng.choice(words)),
        (1.0, lambda: f"{rng.choice(words)} {rng.choice(ROOM_NOUNS)}"),
    )


def _area(rng: random.Random) -> str:
    return _one_of(
        rng,
        (0.35, lambda: f"{rng.choice(FIRST_NAMES)}'s {rng.choice(ROOM_NOUNS)}"),
        (0.75, lambda: f"{rng.choice(ROOM_MODIFIERS)} {rng.choice(ROOM_NOUNS)}"),
        (0.9, lambda: f"{_made_up(rng)} {rng.choice(ROOM_NOUNS)}"),
        (1.0, lambda: _made_up(rng)),
    )


def _floor(rng: random.Random) -> str:
    levels = ("one", "two", "three", "four", "five", "1", "2", "3", "a", "b")
    places = ("garden", "street", "lower ground", "attic", "loft", "sky", "mezzanine")
    return _one_of(
        rng,
        (0.5, lambda: f"{rng.choice(ORDINALS)} floor"),
        (0.75, lambda: f"level {rng.choice(levels)}"),
        (1.0, lambda: f"{rng.choice(places)} level"),
    )


def _item(rng: random.Random) -> str:
    return f"{rng.choice(FOOD_ADJ)} {rng.choice(FOODS)}" if rng.random() < 0.7 else rng.choice(FOODS)


def _artist(rng: random.Random) -> str:
    return _one_of(
        rng,
        (0.6, lambda: f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"),
        (0.8, lambda: f"the {rng.choice(TITLE_ADJECTIVES)} {rng.choice(BAND_NOUNS)}"),
        (1.0, lambda: _made_up(rng)),
    )


def _everyday_title(rng: random.Random) -> str:
    return _one_of(
        rng,
        (0.3, lambda: f"{rng.choice(TITLE_VERBS)} {rng.choice(TITLE_OBJECTS)}"),
        (0.55, lambda: f"{rng.choice(TITLE_GERUNDS)} {rng.choice(TITLE_TAILS)}"),
        (0.8, lambda: f"{rng.choice(TITLE_ADJECTIVES)} {rng.choice(TITLE_NOUNS)}"),
        (1.0, lambda: f"{rng.choice(TITLE_NOUNS)} like {rng.choice(TITLE_NOUNS)}"),
    )


def _poetic_title(rng: random.Random) -> str:
    words = rng.sample(TITLE_WORDS, rng.choice((1, 2, 2, 3)))
    if rng.random() < 0.3:
        words = ["the", *words]
    if rng.random() < 0.2:
        words = [rng.choice(FIRST_NAMES), *words]
    return " ".join(words)


def _title(rng: random.Random) -> str:
    """A media title: poetic words, everyday phrases, an artist, or "title by artist"."""
    return _one_of(
        rng,
        (0.4, lambda: _poetic_title(rng)),
        (0.7, lambda: _everyday_title(rng)),
        (0.85, lambda: _artist(rng)),
        (1.0, lambda: f"{_everyday_title(rng)} by {_artist(rng)}"),
    )


def synthetic_lists(
    rng: random.Random, per_list: int = 150, words: Sequence[str] = (), word_share: float = WORD_SHARE
) -> dict[str, list[str]]:
    """Generated values for every name list (``name_<domain>``, area, floor, item, search_query).

    With ``words`` (everyday words, ``converter.data.name_words``), ``word_share`` of the device names and
    areas are made of them ("fender", "handbook lamp", "kingsley room").
    """

    def device(domain: str) -> str:
        if words and rng.random() < word_share:
            return _word_device_name(domain, rng, words)
        return _device_name(domain, rng)

    def area() -> str:
        return _word_area(rng, words) if words and rng.random() < word_share else _area(rng)

    def unique(make, n: int) -> list[str]:
        out: dict[str, None] = {}
        for _ in range(n * 5):
            out[make()] = None
            if len(out) >= n:
                break
        return list(out)

    lists = {f"name_{d}": unique(lambda d=d: device(d), per_list) for d in DEVICE_NOUNS}
    lists["area"] = unique(area, per_list)
    lists["floor"] = unique(lambda: _floor(rng), max(per_list // 5, 10))
    lists["item"] = unique(lambda: _item(rng), per_list)
    lists["search_query"] = unique(lambda: _title(rng), per_list)
    return lists
