"""Collaborative item-item models that need no training loop: EASE and RP3beta.

Both take a user x item interaction matrix ``X`` (dense, 0/1 or counts; users are rows) and
return an item x item weight matrix ``W`` (float32); a user's score for every item is then
``x_u @ W`` (:func:`scores`). Items a user already has are not removed here: the candidate
generator decides what may be recommended.

- **EASE** (Steck, 2019, "Embarrassingly Shallow Autoencoders"): ``B = I - P / diag(P)`` with
  ``P = (X^T X + l2 I)^-1`` and the diagonal forced to 0. Only the Gram matrix ``X^T X`` is
  needed (:func:`ease_from_gram`), so it can be built from additive co-occurrence counts.
- **RP3beta** (Paudel et al., 2017; the variant of Dacrema et al., 2019): a three-step random
  walk user -> item -> user -> item with transition probabilities raised to ``alpha`` and the
  arrival item's popularity divided out with exponent ``beta``; ``top_k`` neighbours per item
  are kept (0 keeps all).
"""

from __future__ import annotations

import numpy as np


def _check_matrix(name: str, x: np.ndarray) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D users x items matrix, got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"{name} must hold finite, non-negative interaction values")
    return arr


def ease_from_gram(*, gram: np.ndarray, l2: float) -> np.ndarray:
    """EASE weights from the item x item Gram matrix ``X^T X`` (shape (I, I)).

    Returns ``B`` (I, I) float32 with a zero diagonal. Raises ValueError for a non-square
    Gram matrix or ``l2 <= 0``.
    """
    g = np.asarray(gram, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ValueError(f"gram must be a square item x item matrix, got shape {g.shape}")
    if not l2 > 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    g = g + l2 * np.eye(len(g))
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


def ease_weights(*, interactions: np.ndarray, l2: float) -> np.ndarray:
    """EASE weights (I, I) float32 from a users x items matrix (U, I). Raises ValueError for
    a matrix that is not 2-D, has negative or non-finite values, or ``l2 <= 0``."""
    x = _check_matrix("interactions", interactions)
    return ease_from_gram(gram=x.T @ x, l2=l2)


def rp3beta_weights(
    *, interactions: np.ndarray, alpha: float, beta: float, top_k: int = 0
) -> np.ndarray:
    """RP3beta item x item weights (I, I) float32 from a users x items matrix (U, I).

    ``W[i, j] = (sum_u P(u|i)^alpha P(j|u)^alpha) / pop(j)^beta`` with ``P(u|i)`` the item's
    interactions normalised over its users and ``P(j|u)`` the user's normalised over their
    items; the diagonal is 0 and, with ``top_k > 0``, only the ``top_k`` largest weights of
    each row are kept. Raises ValueError for a bad matrix, ``alpha < 0``, ``beta < 0`` or
    ``top_k < 0``.
    """
    x = _check_matrix("interactions", interactions)
    if alpha < 0 or beta < 0 or top_k < 0:
        raise ValueError(f"alpha, beta and top_k must be >= 0, got {alpha}, {beta}, {top_k}")
    user_deg = x.sum(axis=1, keepdims=True)
    item_deg = x.sum(axis=0)
    p_ui = np.divide(x, user_deg, out=np.zeros_like(x), where=user_deg > 0) ** alpha
    p_iu = np.divide(x.T, item_deg[:, None], out=np.zeros_like(x.T), where=item_deg[:, None] > 0)
    w = (p_iu**alpha) @ p_ui
    pop = np.where(item_deg > 0, item_deg, 1.0) ** beta
    w = w / pop[None, :]
    np.fill_diagonal(w, 0.0)
    if 0 < top_k < w.shape[1]:
        cut = np.argpartition(-w, top_k - 1, axis=1)[:, top_k - 1 : top_k]
        w = np.where(w >= np.take_along_axis(w, cut, axis=1), w, 0.0)
    out: np.ndarray = w.astype(np.float32)
    return out


def scores(*, history: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Scores (U, I) float32 of every item for every user: ``history @ weights``, with
    ``history`` (U, I) and ``weights`` (I, I). Raises ValueError when the shapes disagree."""
    h = np.asarray(history, dtype=np.float32)
    if h.ndim != 2 or weights.ndim != 2 or h.shape[1] != weights.shape[0]:
        raise ValueError(f"history {h.shape} and weights {weights.shape} do not match")
    out: np.ndarray = h @ weights
    return out
