"""BERT WordPiece tokenizer in pure Python + numpy: the one tokenizer used at training and on the board.

It reproduces Hugging Face's BERT tokenizer (``tokenizers``' BertNormalizer + BertPreTokenizer +
WordPiece, which is what ``transformers`` 5 ``BertTokenizer`` runs) with ``lowercase=True``:

1. clean: drop ``\\0``, ``\\ufffd`` and control/format/unassigned characters; whitespace becomes a space;
2. put spaces around CJK ideographs;
3. strip accents: NFD, then drop non-spacing marks (``Mn``) — on by default when lower-casing;
4. lower-case, character by character;
5. split on whitespace, isolate punctuation (ASCII symbols count as punctuation);
6. greedy longest-match-first WordPiece; a word with no segmentation or longer than
   ``max_input_chars_per_word`` characters becomes ``[UNK]``.

Every token keeps the character span of the ORIGINAL text it came from, so slots can be cut
out of what the user said even when normalization changes the length of the text.

Example:
    >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "turn", "on", "the", "lamp", "##s"])
    >>> enc = tok.encode("Turn ON the lamps!", max_length=10)
    >>> enc.tokens
    ['[CLS]', 'turn', 'on', 'the', 'lamp', '##s', '[UNK]', '[SEP]']
    >>> enc.offsets[4:6]
    [(12, 16), (16, 17)]
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device_agent import bert_char_tables
from device_agent.errors import UserError

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
_WORD_CACHE_LIMIT = 100_000


@dataclass(frozen=True)
class Encoding:
    """One text encoded for the model.

    Attributes:
        input_ids: int32 ``[max_length]``: ``[CLS]`` pieces ``[SEP]`` then ``[PAD]``.
        attention_mask: int32 ``[max_length]``: 1 for real tokens (specials included), 0 for padding.
        tokens: the pieces including ``[CLS]``/``[SEP]``, without padding.
        offsets: per token, the ``(start, end)`` character span in the original text; ``(0, 0)`` for specials.
        word_ids: per token, the index of the basic-tokenized word it came from; ``None`` for specials.
        truncated: True if pieces were dropped to fit ``max_length``.
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    tokens: list[str]
    offsets: list[tuple[int, int]]
    word_ids: list[int | None]
    truncated: bool


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


class WordPieceTokenizer:
    """BERT basic tokenization + greedy WordPiece with offsets, padding and truncation.

    Args:
        vocab: token → id mapping, or the tokens in id order (the lines of ``vocab.txt``).
        lowercase: lower-case the text (BERT uncased).
        strip_accents: remove accents (NFD + drop ``Mn``); ``None`` follows ``lowercase``.
        unk_token, cls_token, sep_token, pad_token: special tokens; all must be in the vocabulary.
        max_input_chars_per_word: longer words become ``unk_token``.
        mask_token: one more special token, used only if the vocabulary has it.
        split_special_tokens: tokenize special tokens written in the text (``"[SEP]"``) like any
            other text. False (the default, as in Hugging Face) maps them to their special id.
    """

    def __init__(
        self,
        vocab: Mapping[str, int] | Sequence[str],
        *,
        lowercase: bool = True,
        strip_accents: bool | None = None,
        unk_token: str = "[UNK]",
        cls_token: str = "[CLS]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        max_input_chars_per_word: int = 100,
        mask_token: str = "[MASK]",
        split_special_tokens: bool = False,
    ) -> None:
        if isinstance(vocab, Mapping):
            self._vocab: dict[str, int] = {str(t): int(i) for t, i in vocab.items()}
        else:
            self._vocab = {}
            for i, token in enumerate(vocab):
                self._vocab[token] = i
        if not self._vocab:
            raise UserError("the WordPiece vocabulary is empty; give a vocab.txt with one token per line")
        missing = [t for t in (unk_token, cls_token, sep_token, pad_token) if t not in self._vocab]
        if missing:
            raise UserError(f"the WordPiece vocabulary lacks the special token(s) {', '.join(missing)}")
        self._inverse = {i: t for t, i in self._vocab.items()}
        self.lowercase = lowercase
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.unk_token, self.cls_token, self.sep_token, self.pad_token = (
            unk_token,
            cls_token,
            sep_token,
            pad_token,
        )
        self.max_input_chars_per_word = max_input_chars_per_word
        specials = [t for t in (unk_token, cls_token, sep_token, pad_token, mask_token) if t in self._vocab]
        self._specials_re = (
            None
            if split_special_tokens
            else re.compile("|".join(re.escape(t) for t in sorted(set(specials), key=len, reverse=True)))
        )
        self._special_starts = frozenset(t[0] for t in specials if t)
        self._char_rules: dict[str, tuple[int, str, str, bool]] = {}
        self._word_cache: dict[str, tuple[tuple[int, int, int], ...]] = {}

    @classmethod
    def from_file(cls, vocab_path: str | Path, **kw) -> WordPieceTokenizer:
        """Read a ``vocab.txt`` (one token per line, the line number is the id).

        Raises:
            UserError: the file is missing, unreadable or empty.
        """
        path = Path(vocab_path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"vocabulary file {path} not found; give the vocab.txt of the model") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read vocabulary file {path}: {exc}") from None
        tokens = [line.rstrip("\r") for line in text.split("\n")]
        if tokens and tokens[-1] == "":
            tokens.pop()
        if not tokens:
            raise UserError(f"vocabulary file {path} is empty; give the vocab.txt of the model")
        return cls(tokens, **kw)

    # === Vocabulary ===
    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    @property
    def cls_id(self) -> int:
        return self._vocab[self.cls_token]

    @property
    def sep_id(self) -> int:
        return self._vocab[self.sep_token]

    @property
    def pad_id(self) -> int:
        return self._vocab[self.pad_token]

    @property
    def unk_id(self) -> int:
        return self._vocab[self.unk_token]

    def id_to_token(self, i: int) -> str:
        """The token of id ``i`` (KeyError if unknown)."""
        return self._inverse[int(i)]

    def token_to_id(self, t: str) -> int:
        """The id of token ``t``; the ``[UNK]`` id if it is not in the vocabulary."""
        return self._vocab.get(t, self.unk_id)

    # === Basic tokenization ===
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

    def _words(self, text: str) -> list[tuple[str, Sequence[int]]]:
        """Basic-tokenize: each word as (normalized text, original index of each of its characters)."""
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

    def _split(self, text: str) -> tuple[list[tuple[str, Sequence[int]]], dict[int, int]]:
        """Words of ``text`` (normalized text, original index per character) and {word index: special id}.

        Special tokens written in the text are matched first, on the raw text, and kept whole.
        """
        if self._specials_re is None or not any(c in text for c in self._special_starts):
            return self._words(text), {}
        words: list[tuple[str, Sequence[int]]] = []
        special: dict[int, int] = {}
        pos = 0
        for m in [*self._specials_re.finditer(text), None]:
            end = m.start() if m is not None else len(text)
            if end > pos:
                words.extend((w, [i + pos for i in o]) for w, o in self._words(text[pos:end]))
            if m is not None:
                special[len(words)] = self._vocab[m.group()]
                words.append((m.group(), range(m.start(), m.end())))
                pos = m.end()
        return words, special

    def basic_tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """Normalized words with their ``(start, end)`` character span in the original text."""
        return [(w, o[0], o[-1] + 1) for w, o in self._split(text)[0]]

    # === WordPiece ===
    def _wordpiece(self, word: str) -> tuple[tuple[int, int, int], ...]:
        """Greedy longest-match-first pieces of one word as (id, start char, end char); cached."""
        pieces = self._word_cache.get(word)
        if pieces is not None:
            return pieces
        n = len(word)
        if n > self.max_input_chars_per_word:
            pieces = ((self.unk_id, 0, n),)
        else:
            found: list[tuple[int, int, int]] = []
            vocab = self._vocab
            start = 0
            while start < n:
                end = n
                while end > start:
                    sub = word[start:end] if start == 0 else "##" + word[start:end]
                    piece_id = vocab.get(sub)
                    if piece_id is not None:
                        found.append((piece_id, start, end))
                        break
                    end -= 1
                else:
                    found = [(self.unk_id, 0, n)]
                    break
                start = end
            pieces = tuple(found)
        if len(self._word_cache) >= _WORD_CACHE_LIMIT:
            self._word_cache.clear()
        self._word_cache[word] = pieces
        return pieces

    def _pieces(self, text: str) -> list[tuple[int, int, int, int]]:
        """(id, start, end, word index) of every piece of ``text``."""
        out: list[tuple[int, int, int, int]] = []
        words, special = self._split(text)
        for w, (word, origin) in enumerate(words):
            if special and w in special:
                out.append((special[w], origin[0], origin[-1] + 1, w))
                continue
            for piece_id, a, b in self._wordpiece(word):
                out.append((piece_id, origin[a], origin[b - 1] + 1, w))
        return out

    def tokenize(self, text: str) -> list[tuple[str, int, int, int]]:
        """Pieces (``##`` marks a continuation) with their original span and word index."""
        inv = self._inverse
        return [(inv[i], s, e, w) for i, s, e, w in self._pieces(text)]

    # === Model inputs ===
    def encode(self, text: str, max_length: int = 32) -> Encoding:
        """``[CLS] pieces[:max_length-2] [SEP]`` padded with ``[PAD]`` to ``max_length``."""
        if max_length < 2:
            raise ValueError(f"max_length must be at least 2 ([CLS] and [SEP]), got {max_length}")
        pieces = self._pieces(text)
        keep = pieces[: max_length - 2]
        pad = max_length - 2 - len(keep)
        ids, starts, ends, word_ids = zip(*keep, strict=True) if keep else ((), (), (), ())
        inv = self._inverse
        return Encoding(
            input_ids=np.array([self.cls_id, *ids, self.sep_id, *([self.pad_id] * pad)], dtype=np.int32),
            attention_mask=np.array([1] * (len(keep) + 2) + [0] * pad, dtype=np.int32),
            tokens=[self.cls_token, *(inv[i] for i in ids), self.sep_token],
            offsets=[(0, 0), *zip(starts, ends, strict=True), (0, 0)],
            word_ids=[None, *word_ids, None],
            truncated=len(pieces) > len(keep),
        )

    def encode_batch(self, texts: Iterable[str], max_length: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """``input_ids`` and ``attention_mask``, both int32 ``[len(texts), max_length]``."""
        if max_length < 2:
            raise ValueError(f"max_length must be at least 2 ([CLS] and [SEP]), got {max_length}")
        cls_id, sep_id, pad_id = self.cls_id, self.sep_id, self.pad_id
        rows: list[list[int]] = []
        lengths: list[int] = []
        for text in texts:
            keep = [p[0] for p in self._pieces(text)[: max_length - 2]]
            rows.append([cls_id, *keep, sep_id, *([pad_id] * (max_length - 2 - len(keep)))])
            lengths.append(len(keep) + 2)
        ids = np.array(rows, dtype=np.int32).reshape(len(rows), max_length)
        mask = (np.arange(max_length) < np.array(lengths, dtype=np.int32)[:, None]).astype(np.int32)
        return ids, mask
