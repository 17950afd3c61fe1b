"""Vocabulary trimming: keep only the word-pieces a task needs, so the embedding table shrinks.

Kept, in their original order: the special tokens, every single-character piece of the Latin script,
punctuation and common symbols (``x`` and ``##x``, so WordPiece can always fall back to characters and no
word of such characters becomes ``[UNK]``), every piece the given texts tokenize into, any extra pieces
asked for, and optionally the most frequent remaining pieces up to a target size. BERT's ~1,500 single
characters of other scripts (CJK, Arabic, Indic, …) are kept only where the texts need them: their rows serve
an English model better as more English pieces (``all_scripts=True`` keeps them). The embedding rows are
remapped with :func:`remap_rows`.

Example:
    >>> trim = trim_vocabulary(vocab, texts, tokenize=tokenizer.tokenize)
    >>> new_table = remap_rows(old_table, trim)      # old_table: [len(vocab), d]
    >>> write_vocab(trim.pieces, "vocab.txt")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@dataclass(frozen=True)
class VocabTrim:
    """The kept pieces and, for each, its id in the original vocabulary."""

    pieces: list[str]
    old_ids: np.ndarray  # int64 [len(pieces)]

    def __len__(self) -> int:
        return len(self.pieces)


def read_vocab(path: str | Path) -> list[str]:
    """One piece per line, id = line number."""
    return Path(path).read_text(encoding="utf-8").splitlines()


def write_vocab(pieces: Iterable[str], path: str | Path) -> None:
    Path(path).write_text("".join(f"{p}\n" for p in pieces), encoding="utf-8")


def is_single_character(piece: str) -> bool:
    """``a`` or ``##a`` (special tokens like ``[PAD]`` are not)."""
    body = piece[2:] if piece.startswith("##") else piece
    return len(body) == 1


def is_latin_character(piece: str) -> bool:
    """A single-character piece of Latin script, punctuation or a common symbol (``é``, ``##x``, ``’``, ``€``)."""
    if not is_single_character(piece):
        return False
    code = ord(piece[-1])
    return code <= 0x2FF or 0x1E00 <= code <= 0x1EFF or 0x2000 <= code <= 0x218F


def trim_vocabulary(
    vocab: list[str],
    texts: Iterable[str],
    tokenize: Callable[[str], list[str]],
    keep: Iterable[str] = (),
    target_size: int | None = None,
    all_scripts: bool = False,
) -> VocabTrim:
    """Keep special tokens, single-character pieces, the pieces ``texts`` need and ``keep``.

    Args:
        vocab: the original vocabulary (id = index); ``[PAD]`` must be first.
        texts: the task's sentences (training data, templates, name lists).
        tokenize: text -> word-pieces with the ORIGINAL vocabulary (e.g. ``WordPieceTokenizer.tokenize``).
        keep: further pieces to keep when present in ``vocab``.
        target_size: if larger than what is needed, fill up with the lowest-id remaining pieces (BERT's ids
            are frequency ordered), so words the data never had still find whole-word pieces.
        all_scripts: keep the single characters of every script, not only Latin, punctuation and symbols.
    """
    index = {piece: i for i, piece in enumerate(vocab)}
    if not vocab or vocab[0] != "[PAD]":
        raise ValueError("the vocabulary must start with [PAD] (id 0 is padding)")
    wanted = {p for p in SPECIAL_TOKENS if p in index}
    single = is_single_character if all_scripts else is_latin_character
    wanted.update(p for p in vocab if single(p))
    wanted.update(p for p in keep if p in index)
    for text in texts:
        wanted.update(p for p in tokenize(text) if p in index)
    if target_size is not None and target_size > len(wanted):
        for piece in vocab:
            if len(wanted) >= target_size:
                break
            if not piece.startswith("[unused"):
                wanted.add(piece)
    old_ids = np.array(sorted(index[p] for p in wanted), dtype=np.int64)
    return VocabTrim(pieces=[vocab[i] for i in old_ids], old_ids=old_ids)


def remap_rows(table: np.ndarray, trim: VocabTrim) -> np.ndarray:
    """The rows of an embedding (or output) table for the kept pieces, in the new id order."""
    return np.asarray(table)[trim.old_ids]
