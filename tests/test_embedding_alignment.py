"""Aligning the word-piece rows training never saw to the drift of the rows it did."""

from __future__ import annotations

import numpy as np
import pytest

from converter.embedding_alignment import align_unseen_rows, fit_drift, seen_rows


def _tables(rng: np.random.Generator, n: int = 400, d: int = 8):
    initial = rng.normal(size=(n, d))
    a = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    b = rng.normal(size=d)
    return initial, initial @ a + b, a, b


def test_an_affine_drift_is_carried_over_to_the_unseen_rows():
    initial, drifted, _, _ = _tables(np.random.default_rng(0))
    seen = np.arange(400) < 300
    trained = np.where(seen[:, None], drifted, initial)  # training moved only the seen rows
    out = align_unseen_rows(initial, trained, seen, ridge=1e-6)
    np.testing.assert_array_equal(out[seen], trained[seen])
    np.testing.assert_allclose(out[~seen], drifted[~seen], atol=1e-4)
    assert np.abs(trained[~seen] - drifted[~seen]).max() > 1  # left alone, they were far off


def test_no_drift_leaves_every_row_where_it_was():
    initial = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    seen = np.arange(50) % 3 == 0
    out = align_unseen_rows(initial, initial.copy(), seen)
    np.testing.assert_allclose(out, initial, atol=1e-6)
    assert out.dtype == np.float32


def test_ridge_pulls_the_fitted_map_toward_no_drift():
    initial, drifted, _, _ = _tables(np.random.default_rng(2))
    seen = np.ones(400, dtype=bool)
    weak, _ = fit_drift(initial, drifted, seen, ridge=1e-6)
    strong, _ = fit_drift(initial, drifted, seen, ridge=1e6)
    assert np.abs(strong).max() < 0.01 * np.abs(weak).max()


def test_all_rows_seen_changes_nothing_and_bad_shapes_are_refused():
    initial, drifted, _, _ = _tables(np.random.default_rng(3), n=20)
    everything = np.ones(20, dtype=bool)
    np.testing.assert_array_equal(align_unseen_rows(initial, drifted, everything), drifted)
    with pytest.raises(ValueError, match="shapes differ"):
        align_unseen_rows(initial, drifted[:10], everything)
    with pytest.raises(ValueError, match="no seen rows"):
        fit_drift(initial, drifted, np.zeros(20, dtype=bool))


def test_seen_rows_marks_every_id_that_occurs():
    mask = seen_rows(np.array([[0, 2, 2, 7], [5, 0, 0, 0]]), 9)  # a padded batch of token ids
    assert mask.tolist() == [True, False, True, False, False, True, False, True, False]
