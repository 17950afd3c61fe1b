"""Word-swapped copies of the training sentences, for the teacher to label (distillation on augmented data).

TinyBERT (Jiao et al., 2020) distils on the task data plus copies in which words are replaced by their
neighbours in an embedding space; the teacher labels the copies, so the student learns how the teacher
reads words and phrasings the data never put in front of it. Here the neighbours are MiniLM's input
word-piece table (cosine similarity, whole-word pieces of letters only), a replaced word is a single
word-piece and its replacement is one too, so the word positions — and the slot tags' positions — stay.

Example:
    >>> neighbours = piece_neighbours(word_table, pieces, k=10)
    >>> ids, mask, rows = swapped_copies(train.input_ids, train.attention_mask, pieces, neighbours,
    ...                                  random.Random(1126), copies=1.0, swap=0.3)
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[a-z]{2,}")


def piece_neighbours(word_table: np.ndarray, pieces: Sequence[str], k: int = 10) -> dict[int, np.ndarray]:
    """For each whole-word piece of two or more letters, the ids of its ``k`` nearest such pieces (cosine)."""
    ids = np.array([i for i, p in enumerate(pieces) if _WORD.fullmatch(p)], dtype=np.int64)
    if len(ids) <= k:
        return {}
    vectors = np.asarray(word_table, dtype=np.float32)[ids]
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), 1024):
        sims = vectors[start : start + 1024] @ vectors.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -np.inf  # not itself
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        for row, cols in enumerate(top):
            order = cols[np.argsort(-sims[row, cols])]
            out[int(ids[start + row])] = ids[order]
    return out


def swapped_copies(
    input_ids: np.ndarray,
    attention_mask: np.ndarray,
    pieces: Sequence[str],
    neighbours: dict[int, np.ndarray],
    rng: random.Random,
    copies: float = 1.0,
    swap: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copies of the rows with some single-piece words replaced by a neighbour.

    Each row gets ``int(copies)`` copies, plus one more with probability ``copies % 1``; in a copy each
    word that is one whole piece with neighbours is replaced with probability ``swap`` (at least one is,
    or the copy is dropped). Returns the copies' ids, their masks (unchanged) and, per copy, the index of
    the row it came from.
    """
    continuation = np.array([p.startswith("##") for p in pieces])
    out_ids, out_rows = [], []
    for row in range(len(input_ids)):
        n = int(copies) + (rng.random() < copies % 1)
        if not n:
            continue
        ids = input_ids[row]
        length = int(attention_mask[row].sum())
        candidates = [
            j for j in range(1, length - 1) if int(ids[j]) in neighbours and not continuation[int(ids[j + 1])]
        ]
        if not candidates:
            continue
        for _ in range(n):
            chosen = [j for j in candidates if rng.random() < swap] or [rng.choice(candidates)]
            copy = ids.copy()
            for j in chosen:
                options = neighbours[int(ids[j])]
                copy[j] = options[rng.randrange(len(options))]
            out_ids.append(copy)
            out_rows.append(row)
    if not out_ids:
        width = input_ids.shape[1]
        return (
            np.zeros((0, width), input_ids.dtype),
            np.zeros((0, width), attention_mask.dtype),
            np.zeros(0, int),
        )
    rows = np.array(out_rows)
    return np.stack(out_ids), attention_mask[rows], rows
