"""Features of (learner, course) pairs from interactions only, and the baseline scores.

Everything here is computed from one :class:`History` (the matrices of one set of
interactions): in fitting, the train file without each learner's last course(s); for the test,
the whole train file. The test file never reaches this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender.programs.collab import ease_weights, scores
from recommender.programs.features import item_similarity
from training.external.xuetangx_collab import Tuned, rp3_weights
from training.external.xuetangx_data import codes

BASE_FEATURES = (
    "pop_log",
    "pop_next",
    "pop_last",
    "course_position",
    "course_strength",
    "knn_sum",
    "knn_max",
    "knn_last",
    "knn_strength",
    "trans_last",
    "trans_sum",
    "history_length",
    "mean_strength",
    "last_strength",
)
COLLAB_FEATURES = (
    "ease",
    "ease_rank",
    "ease_last",
    "ease_recent",
    "rp3",
    "rp3_rank",
    "rp3_last",
    "rp3_recent",
)
SEQUENCE_FEATURES = (
    "trans_prev",
    "skip_last",
    "adjacent_last",
    "trans_recent",
)
MORE_COLLAB_FEATURES = (
    "user_knn",
    "rp3_popular_down",
    "ease_low_l2",
    "ease_high_l2",
    "rp3_z",
    "rp3_to_top",
)
#: Weight of a course ``j`` steps before the learner's latest one in the ``*_recent`` scores.
RECENCY = 0.5
#: Neighbours kept per learner in ``user_knn``.
USER_NEIGHBOURS = 200
FEATURES = (*BASE_FEATURES, *COLLAB_FEATURES, *SEQUENCE_FEATURES, *MORE_COLLAB_FEATURES)
BASELINES = ("popularity", "item_knn", "ease", "rp3beta")


@dataclass
class History:
    """Learner x course matrices of one set of interactions. ``last`` is the index of each
    learner's latest course (-1 when the learner has none), ``prev`` of the one before it;
    ``transitions[i, j]`` counts learners taking ``j`` right after ``i``, ``skips[i, j]`` two
    steps after ``i``."""

    taken: np.ndarray
    strength: np.ndarray
    last: np.ndarray
    length: np.ndarray
    transitions: np.ndarray
    position: np.ndarray
    prev: np.ndarray
    skips: np.ndarray


def build_history(frame: pd.DataFrame, learners: pd.Index, courses: pd.Index) -> History:
    """Matrices of ``frame`` (clean interactions) over ``learners`` x ``courses``; rows of other
    learners or courses are ignored."""
    u, c = codes(frame, learners, courses)
    keep = (u >= 0) & (c >= 0)
    df = pd.DataFrame(
        {"u": u[keep], "c": c[keep], "s": frame["strength"].to_numpy(float)[keep]},
    ).assign(seq=frame["seq"].to_numpy()[keep])
    df = df.sort_values(["u", "seq"], kind="stable")
    n_u, n_c = len(learners), len(courses)
    taken = np.zeros((n_u, n_c), dtype=bool)
    taken[df["u"], df["c"]] = True
    strength = np.zeros((n_u, n_c), dtype=np.float32)
    strength[df["u"], df["c"]] = df["s"]
    length = np.bincount(df["u"], minlength=n_u)
    last = np.full(n_u, -1, dtype=int)
    ends = df.groupby("u")["c"].last()
    last[ends.index.to_numpy()] = ends.to_numpy()
    transitions, skips = (_lag_counts(df, lag, n_c) for lag in (1, 2))
    prev = np.full(n_u, -1, dtype=int)
    before = df.groupby("u")["c"].nth(-2)
    prev[df.loc[before.index, "u"].to_numpy()] = before.to_numpy()
    rank = df.groupby("u").cumcount().to_numpy(float)
    span = np.maximum(length[df["u"].to_numpy()] - 1, 1)
    position = np.full((n_u, n_c), np.nan, dtype=np.float32)
    position[df["u"], df["c"]] = rank / span
    return History(taken, strength, last, length, transitions, position, prev, skips)


def _lag_counts(df: pd.DataFrame, lag: int, n_c: int) -> np.ndarray:
    """(courses, courses) float32: learners taking ``j`` exactly ``lag`` steps after ``i``
    (``df``: columns ``u``, ``c``, sorted by learner and order)."""
    nxt = df.groupby("u")["c"].shift(-lag)
    pairs = df.assign(nxt=nxt).dropna(subset=["nxt"])
    out = np.zeros((n_c, n_c), dtype=np.float32)
    np.add.at(out, (pairs["c"].to_numpy(), pairs["nxt"].to_numpy(int)), 1.0)
    return out


def _knn_max(taken: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """Per learner and course, the largest similarity to one of the learner's courses."""
    out = np.zeros(taken.shape, dtype=np.float32)
    u, c = np.nonzero(taken)
    np.maximum.at(out, u, sim[c])
    return out


def _first_courses(hist: History) -> np.ndarray:
    """Index of each learner's first course (learners with no history left out)."""
    pos = np.where(hist.taken, hist.position, np.inf)
    first: np.ndarray = np.argmin(pos, axis=1)[hist.length > 0]
    return first


def _broadcast(v: np.ndarray, shape: tuple[int, int], axis: int) -> np.ndarray:
    """``v`` as a (learners, courses) view: per course (axis 0) or per learner (axis 1)."""
    arr = np.asarray(v, dtype=np.float32)
    return np.broadcast_to(arr[None, :] if axis == 0 else arr[:, None], shape)


def base_features(hist: History) -> dict[str, np.ndarray]:
    """Learner x course matrices of every feature in :data:`BASE_FEATURES`, from ``hist``."""
    n_u, n_c = hist.taken.shape
    taken = hist.taken.astype(np.float32)
    counts = taken.sum(axis=0)
    non_first = counts - np.bincount(_first_courses(hist), minlength=n_c)
    ended = np.bincount(hist.last[hist.last >= 0], minlength=n_c)
    sim = item_similarity(hist.taken)
    trans = hist.transitions / np.maximum(hist.transitions.sum(axis=1, keepdims=True), 1.0)
    has_last = hist.last >= 0
    last = np.where(has_last, hist.last, 0)
    last_strength = np.where(has_last, hist.strength[np.arange(n_u), last], 0.0)
    position_sum = np.where(hist.taken, hist.position, 0.0).sum(axis=0)
    course_position = np.where(counts > 0, position_sum / np.maximum(counts, 1), 0.5)
    shape = (n_u, n_c)
    return {
        "pop_log": _broadcast(np.log1p(counts), shape, 0),
        "pop_next": _broadcast(np.log1p(non_first), shape, 0),
        "pop_last": _broadcast(np.log1p(ended), shape, 0),
        "course_position": _broadcast(course_position, shape, 0),
        "course_strength": _broadcast(hist.strength.sum(axis=0) / np.maximum(counts, 1), shape, 0),
        "knn_sum": taken @ sim,
        "knn_max": _knn_max(hist.taken, sim),
        "knn_last": np.where(has_last[:, None], sim[last], 0.0),
        "knn_strength": hist.strength @ sim,
        "trans_last": np.where(has_last[:, None], trans[last], 0.0),
        "trans_sum": taken @ trans,
        "history_length": _broadcast(hist.length, shape, 1),
        "mean_strength": _broadcast(
            hist.strength.sum(axis=1) / np.maximum(hist.length, 1), shape, 1
        ),
        "last_strength": _broadcast(last_strength, shape, 1),
    }


def _rank_share(score: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Per learner, each untaken course's rank by ``score`` among the untaken ones, as a share
    in (0, 1] (1 = best); taken courses get 0."""
    s = np.where(taken, -np.inf, score)
    order = np.argsort(-s, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(s.shape[1])[None, :], axis=1)
    n_free = np.maximum((~taken).sum(axis=1, keepdims=True), 1)
    return np.where(taken, 0.0, 1.0 - rank / n_free).astype(np.float32)


def recency_history(hist: History) -> np.ndarray:
    """(learners, courses) float32: ``RECENCY ** j`` for a course taken ``j`` steps before the
    learner's latest course (1 for the latest), 0 for courses not taken."""
    steps = np.where(hist.taken, (1.0 - np.nan_to_num(hist.position)), 0.0)
    steps = steps * np.maximum(hist.length - 1, 0)[:, None]
    return np.where(hist.taken, RECENCY**steps, 0.0).astype(np.float32)


def collab_features(hist: History, tuned: Tuned) -> dict[str, np.ndarray]:
    """EASE and RP3beta scores with the tuned settings, built from ``hist`` only: the score,
    its rank share among the learner's untaken courses and the weight from the learner's
    latest course alone (:data:`COLLAB_FEATURES`, each (learners, courses))."""
    x = hist.taken.astype(np.float32)
    has_last = hist.last >= 0
    last = np.where(has_last, hist.last, 0)
    out: dict[str, np.ndarray] = {}
    weights = {
        "ease": ease_weights(interactions=x, l2=tuned.ease["l2"]),
        "rp3": rp3_weights(
            taken=hist.taken,
            alpha=tuned.rp3beta["alpha"],
            beta=tuned.rp3beta["beta"],
            top_k=int(tuned.rp3beta["top_k"]),
        ),
    }
    recent = recency_history(hist)
    for name, w in weights.items():
        s = scores(history=x, weights=w)
        out[f"{name}_recent"] = scores(history=recent, weights=w)
        out[name] = s
        out[f"{name}_rank"] = _rank_share(s, hist.taken)
        out[f"{name}_last"] = np.where(has_last[:, None], w[last], 0.0)
    return out


def _row_normalised(m: np.ndarray) -> np.ndarray:
    out: np.ndarray = m / np.maximum(m.sum(axis=1, keepdims=True), 1.0)
    return out


def _from_course(m: np.ndarray, course: np.ndarray) -> np.ndarray:
    """Row ``course[u]`` of ``m`` for every learner (zeros where ``course`` is -1)."""
    out: np.ndarray = np.where((course >= 0)[:, None], m[np.maximum(course, 0)], 0.0)
    return out.astype(np.float32)


def sequence_features(hist: History) -> dict[str, np.ndarray]:
    """:data:`SEQUENCE_FEATURES` from the order of ``hist``: the next-course share from the
    learner's second-latest course, two steps on from the latest, either side of the latest
    (before or after it) and from every course weighted by recency (each (learners,
    courses))."""
    trans = _row_normalised(hist.transitions)
    return {
        "trans_prev": _from_course(trans, hist.prev),
        "skip_last": _from_course(_row_normalised(hist.skips), hist.last),
        "adjacent_last": _from_course(
            _row_normalised(hist.transitions + hist.transitions.T), hist.last
        ),
        "trans_recent": recency_history(hist) @ trans,
    }


def user_knn(taken: np.ndarray, neighbours: int = USER_NEIGHBOURS) -> np.ndarray:
    """(learners, courses) float32: sum over the learner's ``neighbours`` most similar other
    learners (cosine of their course sets) of similarity x taken."""
    x = taken.astype(np.float32)
    xn = x / np.sqrt(np.maximum(x.sum(axis=1, keepdims=True), 1.0))
    sim = xn @ xn.T
    np.fill_diagonal(sim, 0.0)
    if neighbours < sim.shape[1]:
        cut = np.argpartition(-sim, neighbours - 1, axis=1)[:, neighbours - 1 : neighbours]
        sim = np.where(sim >= np.take_along_axis(sim, cut, axis=1), sim, 0.0)
    out: np.ndarray = sim @ x
    return out


def _within_learner(score: np.ndarray, taken: np.ndarray) -> dict[str, np.ndarray]:
    """z-score of ``score`` among each learner's untaken courses, and its ratio to the
    learner's best untaken score (taken courses: 0)."""
    free = np.where(taken, np.nan, score.astype(np.float64))
    mean = np.nanmean(free, axis=1, keepdims=True)
    std = np.nanstd(free, axis=1, keepdims=True)
    top = np.nanmax(free, axis=1, keepdims=True)
    z = np.nan_to_num((free - mean) / np.where(std > 0, std, 1.0))
    ratio = np.nan_to_num(free / np.where(top > 0, top, 1.0))
    return {"z": z.astype(np.float32), "to_top": ratio.astype(np.float32)}


def more_collab_features(hist: History, tuned: Tuned, rp3: np.ndarray) -> dict[str, np.ndarray]:
    """:data:`MORE_COLLAB_FEATURES` from ``hist`` only: user-kNN, RP3beta with a stronger
    popularity discount, EASE at a tenth and five times the tuned ``l2``, and the tuned RP3beta
    score ``rp3`` (learners, courses) normalised within the learner."""
    x = hist.taken.astype(np.float32)
    l2 = tuned.ease["l2"]
    alpha, beta = tuned.rp3beta["alpha"], tuned.rp3beta["beta"]
    down = rp3_weights(taken=hist.taken, alpha=alpha, beta=beta + 0.3, top_k=0)
    within = _within_learner(rp3, hist.taken)
    return {
        "user_knn": user_knn(hist.taken),
        "rp3_popular_down": scores(history=x, weights=down),
        "ease_low_l2": scores(history=x, weights=ease_weights(interactions=x, l2=l2 / 10)),
        "ease_high_l2": scores(history=x, weights=ease_weights(interactions=x, l2=l2 * 5)),
        "rp3_z": within["z"],
        "rp3_to_top": within["to_top"],
    }


def pair_features(hist: History, tuned: Tuned) -> dict[str, np.ndarray]:
    """Learner x course matrices of every feature in :data:`FEATURES`, from ``hist`` only."""
    collab = collab_features(hist, tuned)
    return {
        **base_features(hist),
        **collab,
        **sequence_features(hist),
        **more_collab_features(hist, tuned, collab["rp3"]),
    }


def candidate_frame(
    feats: dict[str, np.ndarray], taken: np.ndarray, rows: np.ndarray
) -> pd.DataFrame:
    """One row per (learner in ``rows``, course not taken), sorted by learner: ``year`` (0),
    ``employee_id`` and ``program_id`` as integer codes, and every feature."""
    sub_u, c = np.nonzero(~taken[rows])
    u = rows[sub_u]
    frame = pd.DataFrame({"year": 0, "employee_id": u, "program_id": c})
    for name in FEATURES:
        frame[name] = feats[name][u, c]
    return frame


def baseline_scores(feats: dict[str, np.ndarray], frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Scores of :data:`BASELINES` on the rows of ``frame``: ``popularity`` (learners per
    course), ``item_knn`` (sum of cosine similarities to the learner's courses, ties broken by
    popularity), ``ease`` and ``rp3beta`` (their tuned scores; ties in course order, as in
    tuning)."""
    pop = np.rint(np.expm1(frame["pop_log"].to_numpy(float)))
    tie = 1e-6 * pop / (1 + pop.max(initial=0.0))
    return {
        "popularity": pop,
        "item_knn": frame["knn_sum"].to_numpy(float) + tie,
        "ease": frame["ease"].to_numpy(float),
        "rp3beta": frame["rp3"].to_numpy(float),
    }
