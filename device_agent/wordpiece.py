"""BERT WordPiece tokenizer in pure Python + numpy: the one tokenizer used at training and on the board.

It reproduces Hugging Face's BERT tokenizer (``tokenizers``' BertWordPieceTokenizer, which is what
``transformers`` 5 ``BertTokenizer`` runs): special tokens written in the text are kept whole, the
rest goes through BERT basic tokenization (``bert_basic_tokenizer``: cleaning, CJK splitting, accent
stripping, lower-casing, punctuation splitting), then greedy longest-match-first WordPiece; a word
with no segmentation or longer than ``max_input_chars_per_word`` characters becomes ``[UNK]``.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device_agent.bert_basic_tokenizer import BertBasicTokenizer
from device_agent.errors import UserError

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
        self._basic = BertBasicTokenizer(lowercase, strip_accents)
        self.lowercase, self.strip_accents = lowercase, self._basic.strip_accents
        self.unk_token = unk_token
        self.cls_token = cls_token
        self.sep_token = sep_token
        self.pad_token = pad_token
        self.max_input_chars_per_word = max_input_chars_per_word
        specials = [t for t in (unk_token, cls_token, sep_token, pad_token, mask_token) if t in self._vocab]
        self._specials_re = (
            None
            if split_special_tokens
            else re.compile("|".join(re.escape(t) for t in sorted(set(specials), key=len, reverse=True)))
        )
        self._special_starts = frozenset(t[0] for t in specials if t)
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
    def _split(self, text: str) -> tuple[list[tuple[str, Sequence[int]]], dict[int, int]]:
        """Words of ``text`` (normalized text, original index per character) and {word index: special id}.

        Special tokens written in the text are matched first, on the raw text, and kept whole.
        """
        if self._specials_re is None or not any(c in text for c in self._special_starts):
            return self._basic.words(text), {}
        words: list[tuple[str, Sequence[int]]] = []
        special: dict[int, int] = {}
        pos = 0
        for m in [*self._specials_re.finditer(text), None]:
            end = m.start() if m is not None else len(text)
            if end > pos:
                words.extend((w, [i + pos for i in o]) for w, o in self._basic.words(text[pos:end]))
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
        n = len(keep) + 2
        inv = self._inverse
        ids, tokens, offsets, word_ids = [self.cls_id], [self.cls_token], [(0, 0)], [None]
        for piece_id, start, end, word in keep:
            ids.append(piece_id)
            tokens.append(inv[piece_id])
            offsets.append((start, end))
            word_ids.append(word)
        ids.append(self.sep_id)
        ids.extend([self.pad_id] * (max_length - n))
        tokens.append(self.sep_token)
        offsets.append((0, 0))
        word_ids.append(None)
        mask = np.zeros(max_length, dtype=np.int32)
        mask[:n] = 1
        return Encoding(
            input_ids=np.array(ids, dtype=np.int32),
            attention_mask=mask,
            tokens=tokens,
            offsets=offsets,
            word_ids=word_ids,
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
