"""Exact command frames over listed names: Home Assistant's own way of understanding a sentence.

Home Assistant's conversation agent matches a sentence against its templates with the home's entity names
filled in. The model generalizes past the templates, but it can refuse the plainest command when the name
is a word its training linked to out-of-scope sentences: "turn on the tumble dryer", "turn on the computer",
"pause the chromecast". A sentence that is nothing but such a frame around a listed name (the bundle's names,
or the household's) is that command; :meth:`device_agent.recognizer.Recognizer.decode` asks here only for
sentences the model refused.

Example:
    >>> from device_agent.known_names import KnownNames
    >>> names = KnownNames.from_lists({"name_switch": ["tumble dryer"], "name_media_player": ["chromecast"]})
    >>> framed_intent("please turn on the tumble dryer", names), framed_intent("pause our chromecast", names)
    ('HassTurnOn', 'HassMediaPause')
    >>> framed_intent("is the tumble dryer done", names) is None
    True
"""

from __future__ import annotations

import re

from device_agent.known_names import KnownNames, phrase_words

_WORD = re.compile(r"[a-z0-9']+")
_COURTESY_BEFORE = (
    ("please",), ("can", "you"), ("could", "you"), ("would", "you"), ("will", "you"), ("hey",), ("ok",),
    ("okay",), ("now",), ("just",), ("kindly",),
)  # fmt: skip
_COURTESY_AFTER = (("please",), ("now",), ("for", "me"), ("thanks",), ("thank", "you"), ("right", "now"))
_DETERMINERS = frozenset({"the", "my", "our"})

# verb (and particle) → (intent, the domains a listed name must have for it; None: any device)
_SWITCH = {"on": "HassTurnOn", "off": "HassTurnOff"}
_VERBS: dict[str, tuple[str, frozenset[str] | None]] = {
    "open": ("HassTurnOn", frozenset({"cover", "valve"})),
    "close": ("HassTurnOff", frozenset({"cover", "valve"})),
    "lock": ("HassTurnOn", frozenset({"lock"})),
    "unlock": ("HassTurnOff", frozenset({"lock"})),
    "pause": ("HassMediaPause", frozenset({"media_player"})),
    "resume": ("HassMediaUnpause", frozenset({"media_player"})),
    "unpause": ("HassMediaUnpause", frozenset({"media_player"})),
    "mute": ("HassMediaPlayerMute", frozenset({"media_player"})),
    "unmute": ("HassMediaPlayerUnmute", frozenset({"media_player"})),
    "activate": ("HassTurnOn", frozenset({"scene", "script"})),
}
_SWITCH_VERBS = frozenset({"turn", "switch", "power"})
# not switched by "turn on": timers, lists, the weather; a vacuum starts and the coffee machine makes coffee
# (their own intents: "turn on roborock" is HassVacuumStart)
_NOT_DEVICES = frozenset({"timer", "list", "todo", "weather", "vacuum", "coffee"})


def framed_intent(text: str, names: KnownNames | None) -> str | None:
    """The intent of a sentence that is only a command frame around a listed device name, else None.

    Frames: "turn/switch/power on|off [the|my|our] NAME", "turn/switch/power [the|my|our] NAME on|off",
    "open|close|lock|unlock|pause|resume|mute|unmute|activate [the|my|our] NAME" (the verb must fit the
    name's listed domain: only a cover or valve opens), with "please", "can you", "for me", "now" … around.
    """
    if names is None or not names.phrases.get("name"):
        return None
    words = _strip_courtesy(tuple(_WORD.findall(text.lower())))
    if len(words) < 2:
        return None
    verb, rest = words[0], words[1:]
    if verb in _SWITCH_VERBS:
        if rest[0] in _SWITCH:
            return _if_listed(_SWITCH[rest[0]], rest[1:], names, None)
        if rest[-1] in _SWITCH:
            return _if_listed(_SWITCH[rest[-1]], rest[:-1], names, None)
        return None
    if verb in _VERBS:
        intent, domains = _VERBS[verb]
        return _if_listed(intent, rest, names, domains)
    return None


def _strip_courtesy(words: tuple[str, ...]) -> tuple[str, ...]:
    changed = True
    while changed and words:
        changed = False
        for phrase in _COURTESY_BEFORE:
            if words[: len(phrase)] == phrase:
                words, changed = words[len(phrase) :], True
        for phrase in _COURTESY_AFTER:
            if len(words) > len(phrase) and words[-len(phrase) :] == phrase:
                words, changed = words[: -len(phrase)], True
    return words


def _if_listed(
    intent: str, rest: tuple[str, ...], names: KnownNames, domains: frozenset[str] | None
) -> str | None:
    """``intent`` if ``rest`` (past one determiner) is exactly a listed name whose domain fits."""
    if rest and rest[0] in _DETERMINERS:
        rest = rest[1:]
    phrase = phrase_words(" ".join(rest))
    if not phrase or phrase not in names.phrases.get("name", ()):
        return None
    listed = names.domains.get(phrase)  # None: listed plainly, any device
    if listed is not None and not (listed - _NOT_DEVICES):
        return None
    if domains is not None and (listed is None or not listed & domains):
        return None
    return intent
