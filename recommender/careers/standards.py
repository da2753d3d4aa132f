"""Standards-only career scoring: target positions for a source position from competency
standards and tiers alone, for an agency that has positions and requirements but no move history.

For a source position ``s`` and every other position ``t``::

    score(s, t) = z_s(sim(s, t)) - gap * level_gap(s, t)
                  - up * max(step - free_up, 0) - down * max(-step, 0)

- ``sim``: similarity of the requirement profiles. A position's profile is its requirement
  weights plus a small prior on every competency of the dictionary (``prior`` x the mean positive
  weight of the catalogue: every competency is assumed to matter a little everywhere, which keeps
  the unimportant ones from dominating the angle); cosine per competency group (e.g. the
  competency types), averaged over the groups.
- ``z_s``: standardised over the source's candidates (mean 0, standard deviation 1), so the other
  terms are in units of the spread of similarity and the parameters do not depend on the size of
  the dictionary or the scale of the weights.
- ``level_gap``: importance-weighted mean absolute difference of the required levels (0 where a
  position does not require the competency) over the competencies either position requires,
  weighted by the larger of the two weights; 0 (same levels) to 5.
- ``step``: tier level of the target minus that of the source (``domain.TIER_LEVEL``). The same
  tier and up to ``free_up`` steps up cost nothing; larger jumps up and every step down are
  penalised. An unknown tier (NaN) adds no tier term.

The source itself scores ``-inf``. ``cosine_scores`` is the baseline: plain cosine over the
importance vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_LEVEL = 5
#: Sources per block when computing level gaps (bounds memory at block x P x C floats).
BLOCK = 64


@dataclass(frozen=True)
class StandardsParams:
    """Parameters of :func:`standards_scores`. The defaults were chosen by grid search on the
    tuning half of O*NET 29.3's related occupations (``training.external.onet.tune``; see
    docs/external-data.md); ``free_up`` is a product rule, not tuned."""

    prior: float = 2.0
    gap: float = 0.2
    up: float = 0.5
    down: float = 0.1
    free_up: int = 1

    def __post_init__(self) -> None:
        for name in ("prior", "gap", "up", "down", "free_up"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0, got {value}")


def _check(
    req: np.ndarray, weight: np.ndarray, tier_level: np.ndarray, groups: np.ndarray | None
) -> None:
    if req.ndim != 2 or req.shape != weight.shape:
        raise ValueError(
            f"req and weight must be (P, C) of one shape, got {req.shape}, {weight.shape}"
        )
    if req.shape[0] < 2:
        raise ValueError("at least two positions are needed")
    if tier_level.shape != (req.shape[0],):
        raise ValueError(f"tier_level must be ({req.shape[0]},), got {tier_level.shape}")
    if not np.all(np.isfinite(req)) or req.min() < 0 or req.max() > MAX_LEVEL:
        raise ValueError(f"required levels must be between 0 and {MAX_LEVEL}")
    if not np.all(np.isfinite(weight)) or weight.min() < 0:
        raise ValueError("weights must be finite and non-negative")
    if groups is not None and groups.shape != (req.shape[1],):
        raise ValueError(f"groups must be ({req.shape[1]},), got {groups.shape}")


def _sources(sources: np.ndarray | None, n: int) -> np.ndarray:
    rows = np.arange(n) if sources is None else np.asarray(sources, dtype=int).reshape(-1)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"source index out of range 0..{n - 1}")
    return rows


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return out


def profile_similarity(
    weight: np.ndarray, prior: float, groups: np.ndarray | None, sources: np.ndarray
) -> np.ndarray:
    """(S, P) cosine of ``weight + prior x mean positive weight`` per group, mean over groups.

    ``weight`` (P, C); ``groups`` (C,) labels or None (one group); ``sources`` (S,) rows."""
    positive = weight[weight > 0]
    profile = weight + prior * (float(positive.mean()) if positive.size else 1.0)
    labels = np.zeros(weight.shape[1], dtype=int) if groups is None else np.asarray(groups)
    sims = []
    for g in np.unique(labels):
        unit = _unit_rows(profile[:, labels == g])
        sims.append(unit[sources] @ unit.T)
    out: np.ndarray = np.mean(sims, axis=0)
    return out


def level_gap(req: np.ndarray, weight: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """(S, P) weighted mean |required level difference| between each source and every position.

    Weight of a competency in a pair: the larger of the two weights (0 when neither position
    requires it); a pair with no weight at all has gap 0."""
    out = np.zeros((len(sources), req.shape[0]))
    w = np.where(req > 0, weight, 0.0)
    for start in range(0, len(sources), BLOCK):
        rows = sources[start : start + BLOCK]
        pair_w = np.maximum(w[rows][:, None, :], w[None, :, :])
        diff = np.abs(req[rows][:, None, :] - req[None, :, :])
        total = pair_w.sum(axis=2)
        num = (pair_w * diff).sum(axis=2)
        out[start : start + len(rows)] = np.divide(
            num, total, out=np.zeros_like(num), where=total > 0
        )
    return out


def standardise(sim: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """(S, P) each row minus its mean, over its standard deviation, both taken over the
    candidates (the source's own column left out); a constant row becomes 0."""
    mask = np.ones(sim.shape, dtype=bool)
    mask[np.arange(len(sources)), sources] = False
    n = mask.sum(axis=1, keepdims=True)
    mean = np.where(mask, sim, 0.0).sum(axis=1, keepdims=True) / n
    var = np.where(mask, (sim - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / n
    sd = np.sqrt(var)
    out: np.ndarray = np.divide(sim - mean, sd, out=np.zeros_like(sim), where=sd > 1e-12)
    return out


@dataclass(frozen=True)
class Terms:
    """The parameter-free parts of the score for S sources over P positions: ``similarity``
    (S, P) standardised profile similarity, ``gap`` (S, P) level gap, ``step`` (S, P) tier step
    (NaN where a tier is unknown), ``sources`` (S,) the sources' row indices."""

    similarity: np.ndarray
    gap: np.ndarray
    step: np.ndarray
    sources: np.ndarray


def terms(
    req: np.ndarray,
    weight: np.ndarray,
    tier_level: np.ndarray,
    prior: float,
    groups: np.ndarray | None = None,
    sources: np.ndarray | None = None,
) -> Terms:
    """The :class:`Terms` of ``sources`` (default: every position). Inputs and errors as in
    :func:`standards_matrix`; ``prior`` as in :class:`StandardsParams`."""
    req, weight = np.asarray(req, dtype=float), np.asarray(weight, dtype=float)
    tiers = np.asarray(tier_level, dtype=float)
    _check(req, weight, tiers, groups)
    rows = _sources(sources, req.shape[0])
    w = np.where(req > 0, weight, 0.0)
    return Terms(
        similarity=standardise(profile_similarity(w, prior, groups, rows), rows),
        gap=level_gap(req, w, rows),
        step=tiers[None, :] - tiers[rows][:, None],
        sources=rows,
    )


def combine(parts: Terms, params: StandardsParams) -> np.ndarray:
    """(S, P) scores from precomputed :class:`Terms` (``params.prior`` is already in them);
    each source's own column is ``-inf``."""
    step = parts.step
    pen = params.up * np.maximum(step - params.free_up, 0) + params.down * np.maximum(-step, 0)
    score = parts.similarity - params.gap * parts.gap - np.nan_to_num(pen, nan=0.0)
    score[np.arange(len(parts.sources)), parts.sources] = -np.inf
    out: np.ndarray = score
    return out


def standards_matrix(
    req: np.ndarray,
    weight: np.ndarray,
    tier_level: np.ndarray,
    params: StandardsParams | None = None,
    groups: np.ndarray | None = None,
    sources: np.ndarray | None = None,
) -> np.ndarray:
    """(S, P) scores of every position for each source in ``sources`` (default: all, S = P).

    ``req`` (P, C) required levels 0-5 (0 = not required); ``weight`` (P, C) importance weights
    >= 0 (used where ``req`` > 0); ``tier_level`` (P,) tier levels, NaN if unknown; ``groups``
    (C,) competency group labels or None (one group). Each source's own column is ``-inf``.
    Raises ValueError on mismatched shapes, levels outside 0-5, negative or non-finite weights,
    fewer than two positions or a source index out of range."""
    params = params or StandardsParams()
    return combine(terms(req, weight, tier_level, params.prior, groups, sources), params)


def standards_scores(
    req: np.ndarray,
    weight: np.ndarray,
    tier_level: np.ndarray,
    source: int,
    params: StandardsParams | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """(P,) scores of every position as the next position for ``source`` (itself ``-inf``);
    higher is better. Shapes and errors as in :func:`standards_matrix`."""
    scores: np.ndarray = standards_matrix(
        req, weight, tier_level, params, groups, np.array([source])
    )[0]
    return scores


def cosine_matrix(importance: np.ndarray, sources: np.ndarray | None = None) -> np.ndarray:
    """(S, P) cosine similarity of the importance vectors (``importance`` (P, C), >= 0) of each
    source and every position; a zero vector has similarity 0; each source's own column is
    ``-inf``. Raises ValueError for a non-2-D, negative or non-finite matrix or a source index
    out of range."""
    x = np.asarray(importance, dtype=float)
    if x.ndim != 2 or not np.all(np.isfinite(x)) or (x.size and x.min() < 0):
        raise ValueError("importance must be a finite, non-negative (P, C) matrix")
    rows = _sources(sources, x.shape[0])
    unit = _unit_rows(x)
    score: np.ndarray = unit[rows] @ unit.T
    score[np.arange(len(rows)), rows] = -np.inf
    return score


def cosine_scores(importance: np.ndarray, source: int) -> np.ndarray:
    """(P,) the baseline: cosine of ``source``'s importance vector with every position's
    (itself ``-inf``). Errors as in :func:`cosine_matrix`."""
    scores: np.ndarray = cosine_matrix(importance, np.array([source]))[0]
    return scores
