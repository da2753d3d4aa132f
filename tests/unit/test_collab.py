"""EASE and RP3beta (recommender/programs/collab.py) against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.programs.collab import ease_from_gram, ease_weights, rp3beta_weights, scores

X = np.array(
    [
        [1, 1, 0, 0],
        [1, 1, 1, 0],
        [0, 1, 1, 0],
        [0, 0, 1, 1],
        [1, 0, 0, 0],
    ],
    dtype=float,
)


def test_ease_matches_closed_form_and_zero_diagonal() -> None:
    l2 = 2.0
    b = ease_weights(interactions=X, l2=l2)
    p = np.linalg.inv(X.T @ X + l2 * np.eye(4))
    expected = np.eye(4) - p / np.diag(p)
    assert np.allclose(b, expected, atol=1e-6)
    assert np.all(np.diag(b) == 0)
    assert np.allclose(ease_from_gram(gram=X.T @ X, l2=l2), b)


def test_ease_ranks_the_co_taken_item_first() -> None:
    b = ease_weights(interactions=X, l2=0.5)
    s = scores(history=np.array([[0, 0, 0, 1.0]]), weights=b)[0]
    # item 3 was only ever taken with item 2
    assert int(np.argmax(np.where([1, 1, 1, 0], s, -np.inf))) == 2


def test_rp3beta_is_the_random_walk_with_popularity_penalty() -> None:
    alpha, beta = 1.0, 0.5
    w = rp3beta_weights(interactions=X, alpha=alpha, beta=beta)
    p_ui = X / X.sum(1, keepdims=True)
    p_iu = X.T / X.sum(0)[:, None]
    expected = (p_iu @ p_ui) / X.sum(0)[None, :] ** beta
    np.fill_diagonal(expected, 0)
    assert np.allclose(w, expected, atol=1e-6)
    # each row of the walk without the penalty is a probability distribution over items
    walk = rp3beta_weights(interactions=X, alpha=1.0, beta=0.0)
    assert np.allclose(walk.sum(1) + np.diag(p_iu @ p_ui), 1.0, atol=1e-6)


def test_rp3beta_top_k_keeps_the_largest_per_row() -> None:
    w = rp3beta_weights(interactions=X, alpha=0.8, beta=0.3, top_k=1)
    assert ((w > 0).sum(1) <= 1).all()
    full = rp3beta_weights(interactions=X, alpha=0.8, beta=0.3)
    assert np.array_equal(w.argmax(1), full.argmax(1))


@pytest.mark.parametrize(
    "call",
    [
        lambda: ease_weights(interactions=X, l2=0.0),
        lambda: ease_weights(interactions=-X, l2=1.0),
        lambda: ease_from_gram(gram=np.ones((2, 3)), l2=1.0),
        lambda: rp3beta_weights(interactions=X, alpha=-1, beta=0.2),
        lambda: rp3beta_weights(interactions=X[0], alpha=1, beta=0.2),
        lambda: scores(history=np.ones((1, 3)), weights=np.ones((4, 4), np.float32)),
    ],
)
def test_bad_arguments_are_refused(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        call()
