"""Carry training's drift of the word-piece table over to the pieces training never saw.

The student's word-piece table starts as MiniLM's (projected to the student's width). Fine-tuning moves
every row whose piece occurs in the training data and leaves the others where pretraining put them — so a
word the training data lacks ("parlor", "stairwell") is looked up in a space the trained encoder no longer
reads. :func:`align_unseen_rows` fits one affine map of the drift, ``trained - initial ≈ initial @ W + b``,
on the rows training moved (ridge-regularized toward their mean drift) and applies it to the rows it did
not, so an unseen piece lands where the trained table would have put a piece that started next to it.

Example:
    >>> table = align_unseen_rows(initial, trained, seen=seen_rows(training_ids, len(initial)))
"""

from __future__ import annotations

import numpy as np


def seen_rows(token_ids: np.ndarray, vocabulary_size: int) -> np.ndarray:
    """A boolean mask [vocabulary_size] of the ids that occur in ``token_ids`` (any shape)."""
    mask = np.zeros(vocabulary_size, dtype=bool)
    mask[np.asarray(token_ids, dtype=np.int64).ravel()] = True
    return mask


def fit_drift(
    initial: np.ndarray, trained: np.ndarray, seen: np.ndarray, ridge: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(W [d, d], b [d])`` minimizing ``|initial @ W + b - (trained - initial)|² + ridge·|W|²`` on seen rows.

    A large ``ridge`` shrinks ``W`` to 0: every row then moves by the seen rows' mean drift ``b``.
    """
    x = np.asarray(initial, dtype=np.float64)[seen]
    y = np.asarray(trained, dtype=np.float64)[seen] - x
    if len(x) == 0:
        raise ValueError("no seen rows to fit the drift on")
    mean_x, mean_y = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mean_x, y - mean_y
    gram = xc.T @ xc + ridge * np.eye(x.shape[1])
    w = np.linalg.solve(gram, xc.T @ yc)
    return w, mean_y - mean_x @ w


def align_unseen_rows(
    initial: np.ndarray, trained: np.ndarray, seen: np.ndarray, ridge: float = 1.0
) -> np.ndarray:
    """The trained table with every unseen row replaced by its initial row moved by the fitted drift."""
    initial = np.asarray(initial)
    trained = np.asarray(trained)
    if initial.shape != trained.shape or seen.shape != (initial.shape[0],):
        raise ValueError(
            f"shapes differ: initial {initial.shape}, trained {trained.shape}, seen {seen.shape}"
        )
    out = trained.copy()
    unseen = ~seen
    if unseen.any() and seen.any():
        w, b = fit_drift(initial, trained, seen, ridge)
        moved = initial[unseen].astype(np.float64)
        out[unseen] = (moved + moved @ w + b).astype(trained.dtype)
    return out
