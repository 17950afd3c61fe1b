"""BERT basic tokenization with alignments: the text normalization and word splitting before WordPiece.

Reproduces Hugging Face ``tokenizers``' BertNormalizer + BertPreTokenizer (what ``transformers`` 5
``BertTokenizer`` runs), character for character:

1. clean: drop ``\\0``, ``\\ufffd`` and control, format and private-use characters; whitespace becomes
   a space (unassigned code points are kept);
2. put spaces around CJK ideographs;
3. strip accents: NFD, then drop non-spacing marks — on by default when lower-casing;
4. lower-case, character by character (no final-sigma rule);
5. split on whitespace and isolate punctuation (ASCII symbols count as punctuation).

Character classes come from ``bert_char_tables`` (probed from ``tokenizers``, whose Unicode data is older
than Python's), so the result does not depend on the Python version's ``unicodedata``.

Every normalized character remembers the index of the original character it came from, so words
and word-pieces map back to spans of what the user typed, even when normalization changes the
length of the text.

Example:
    >>> BertBasicTokenizer().words("Café, ÉTÉ!")[:2]
    [('cafe', [0, 1, 2, 3]), (',', [4])]
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence

from device_agent import bert_char_tables

# Code-point ranges treated as CJK ideographs (as in tokenizers' BertNormalizer).
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)

# Character classes of the per-character rule table.
_WORD, _DROP, _SPACE, _MIXED = 0, 1, 2, 3
# Classes of single normalized characters inside a _MIXED rule.
_C_WORD, _C_SPACE, _C_PUNCT = "w", "s", "p"

# ASCII text without control characters is tokenized by one regular expression.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WORDS = re.compile(r"[^\t\n\r !-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")


def _half_open(table: tuple[int, ...]) -> tuple[int, ...]:
    """Inclusive ``(first, last, …)`` ranges → half-open ``(first, last + 1, …)`` for bisection."""
    return tuple(x + (k % 2) for k, x in enumerate(table))


_DROPPED = _half_open(bert_char_tables.DROPPED)
_MARKS = _half_open(bert_char_tables.NONSPACING_MARKS)
_PUNCTUATION = _half_open(bert_char_tables.PUNCTUATION)
_NON_STARTERS = _half_open(bert_char_tables.NON_STARTERS)
_CJK = _half_open(tuple(x for r in sorted(_CJK_RANGES) for x in r))
# Unicode White_Space (a stable property); \x0b, \x0c and \x85 are dropped as control characters first.
_WHITESPACE = frozenset(
    "\t\n\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _in(table: tuple[int, ...], ch: str) -> bool:
    return bisect_right(table, ord(ch)) % 2 == 1


def _is_cjk(ch: str) -> bool:
    return _in(_CJK, ch)


def _is_dropped(ch: str) -> bool:
    """Removed by text cleaning: ``\\0``, ``\\ufffd`` and control/format/private-use characters."""
    return _in(_DROPPED, ch)


def _is_whitespace(ch: str) -> bool:
    return ch in _WHITESPACE


def _is_mark(ch: str) -> bool:
    return _in(_MARKS, ch)


def _is_punctuation(ch: str) -> bool:
    return _in(_PUNCTUATION, ch)


def _combining_class(ch: str) -> int:
    """Canonical combining class as tokenizers' NFD knows it (0 for marks newer than its data)."""
    return unicodedata.combining(ch) if _in(_NON_STARTERS, ch) else 0


def _nfd(ch: str) -> str:
    """Canonical decomposition of one character as tokenizers' NFD does it."""
    return bert_char_tables.DECOMPOSITIONS.get(ord(ch)) or unicodedata.normalize("NFD", ch)


def _strip_accents(ch: str) -> str:
    """NFD of one character without its non-spacing marks."""
    cp = ord(ch)
    if 0xAC00 <= cp <= 0xD7A3:  # Hangul syllable: algorithmic decomposition into jamo
        s = cp - 0xAC00
        lead, vowel, tail = 0x1100 + s // 588, 0x1161 + (s % 588) // 28, s % 28
        return chr(lead) + chr(vowel) + (chr(0x11A7 + tail) if tail else "")
    out = bert_char_tables.STRIPPED.get(cp)
    if out is not None:
        return out
    return "" if _is_mark(ch) else ch


def _lower(text: str) -> str:
    """Character-by-character lower case (no context rules such as the final sigma)."""
    table = bert_char_tables.LOWERCASE
    return "".join(table.get(ord(c), c) for c in text)


class BertBasicTokenizer:
    """Normalize and split text into words, keeping the original index of every character.

    Args:
        lowercase: lower-case the text (BERT uncased).
        strip_accents: remove accents (NFD + drop non-spacing marks); ``None`` follows ``lowercase``.
    """

    def __init__(self, lowercase: bool = True, strip_accents: bool | None = None) -> None:
        self.lowercase = lowercase
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self._char_rules: dict[str, tuple[int, str, str, bool]] = {}

    def _char_rule(self, ch: str) -> tuple[int, str, str, bool]:
        """How one original character is normalized: (class, output chars, per-char classes, needs reorder)."""
        rule = self._char_rules.get(ch)
        if rule is not None:
            return rule
        if _is_dropped(ch):
            rule = (_DROP, "", "", False)
        elif _is_whitespace(ch):
            rule = (_SPACE, " ", _C_SPACE, False)
        else:
            out = _strip_accents(ch) if self.strip_accents else ch
            # Marks that survive stripping but have a combining class may be reordered by NFD.
            reorder = self.strip_accents and any(_combining_class(c) for c in out)
            if self.lowercase:
                out = _lower(out)
            classes = "".join(
                _C_SPACE if _is_whitespace(c) else _C_PUNCT if _is_punctuation(c) else _C_WORD for c in out
            )
            if not out:
                rule = (_DROP, "", "", reorder)
            elif classes == _C_WORD * len(out) and not _is_cjk(ch):
                rule = (_WORD, out, classes, reorder)
            else:
                rule = (_MIXED, out, classes, reorder)
        self._char_rules[ch] = rule
        return rule

    def words(self, text: str) -> list[tuple[str, Sequence[int]]]:
        """Each word as (normalized text, original index of each of its characters)."""
        if text.isascii() and not _ASCII_CONTROL.search(text):
            low = text.lower() if self.lowercase else text
            return [(m.group(), range(m.start(), m.end())) for m in _ASCII_WORDS.finditer(low)]
        rules = [self._char_rule(ch) for ch in text]
        if self.strip_accents and any(r[3] for r in rules):
            return self._words_reordered(text)
        words: list[tuple[str, Sequence[int]]] = []
        chars: list[str] = []
        origin: list[int] = []

        def flush() -> None:
            if chars:
                words.append(("".join(chars), origin.copy()))
                chars.clear()
                origin.clear()

        for i, (kind, out, classes, _) in enumerate(rules):
            if kind == _WORD:
                chars.append(out)
                origin.extend([i] * len(out))
            elif kind == _SPACE:
                flush()
            elif kind == _MIXED:
                isolate = _is_cjk(text[i])
                if isolate:
                    flush()
                for c, k in zip(out, classes, strict=True):
                    if k == _C_WORD:
                        chars.append(c)
                        origin.append(i)
                    elif k == _C_SPACE:
                        flush()
                    else:
                        flush()
                        words.append((c, [i]))
                if isolate:
                    flush()
        flush()
        return words

    def _words_reordered(self, text: str) -> list[tuple[str, list[int]]]:
        """Slow path for the rare texts whose NFD reorders marks that survive accent stripping."""
        units: list[tuple[str, int]] = []  # (char, original index) after cleaning and CJK spacing
        for i, ch in enumerate(text):
            if _is_dropped(ch):
                continue
            if self._char_rule(ch)[0] == _SPACE:
                units.append((" ", i))
            elif _is_cjk(ch):
                units.extend([(" ", i), (ch, i), (" ", i)])
            else:
                units.append((ch, i))
        # NFD: the first character of each decomposition stands for its unit (flag 0), the others
        # are insertions (flag 1). Canonical ordering stably sorts each run of non-starters by
        # combining class, moving flags with characters; then, as in tokenizers' alignments, a
        # flag-0 character takes the next unit's origin and an insertion the last one taken.
        seq = [(c, int(k > 0)) for ch, _ in units for k, c in enumerate(_nfd(ch))]
        ordered: list[tuple[str, int]] = []
        run: list[tuple[str, int]] = []
        for item in [*seq, ("", 0)]:
            if item[0] and _combining_class(item[0]):
                run.append(item)
                continue
            ordered.extend(sorted(run, key=lambda x: _combining_class(x[0])))
            run = []
            if item[0]:
                ordered.append(item)
        out: list[tuple[str, int]] = []
        taken = -1
        for c, inserted in ordered:
            taken += not inserted
            out.append((c, units[max(taken, 0)][1]))
        words: list[tuple[str, list[int]]] = []
        chars: list[str] = []
        origin: list[int] = []
        for c0, i in out:
            if _is_mark(c0):
                continue
            for c in _lower(c0) if self.lowercase else c0:
                if _is_whitespace(c) or _is_punctuation(c):
                    if chars:
                        words.append(("".join(chars), origin))
                        chars, origin = [], []
                    if not _is_whitespace(c):
                        words.append((c, [i]))
                else:
                    chars.append(c)
                    origin.append(i)
        if chars:
            words.append(("".join(chars), origin))
        return words
