"""Baselines of the programme ranker, scored on the same queries as the model (names used in
all output: ``jenjang evaluate programs --json``, MLflow ``test.<name>.<metric>``).

On the model's candidates (same rows, same relevant set):

- ``popularity_pool``: enrolments in the programme over the last two years, everyone (the
  former ``popularity``: global popularity, but ranked only inside the candidate pool).
- ``popularity_position``: share of people in the same position who took it.
- ``gap_rule``: priority-weighted coverage of the current and target-position gaps — what a
  manual training-needs analysis does today.
- ``item_knn``: item-based k-nearest neighbours on co-enrolment (cosine, top 20 neighbours).
- ``behaviour_formula``: the default synthetic world's enrolment utility
  (:data:`training.synthetic.choices.UTILITY`, coefficient for coefficient) on the observable
  features (:func:`behaviour_formula`). It cannot see the generator's hidden terms: the
  person's e-learning affinity (times ``self_paced_affinity``), the position and unit tastes
  and the Gumbel noise; its gap term uses the observable target position's standard where the
  generator perceives "one level above the current standard".
- ``ease`` and ``rp3beta``: item-item collaborative models (:mod:`recommender.programs.collab`)
  on the person x programme matrix of what people finished before 1 January of the query
  year; hyper-parameters chosen on the validation year only (:func:`choose_collab`), then
  fixed for the test year.

Over the whole catalogue (:func:`global_popularity`): ``popularity`` ranks *every* eligible
programme of the query year (offered, fits the tier, not completed, prerequisites done — the
candidate generator's eligibility) by the last two years' enrolments, not only the candidates;
its frame is scored with the same metrics and the same relevant set, so programmes the
candidate generator missed can be hits.

Ties are broken by global popularity, then by candidate order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from recommender.programs import collab
from recommender.programs.catalog import Catalog
from recommender.programs.features import build_usage, eligible, program_features
from recommender.snapshot import Snapshot, build_snapshot
from training.frames import GROUPS
from training.metrics import query_metrics
from training.synthetic.choices import UTILITY

#: Baselines that are a column of the candidate frame.
BASELINES: dict[str, str] = {
    "popularity_pool": "pop_global",
    "popularity_position": "pop_position",
    "gap_rule": "gap_rule",
    "item_knn": "item_knn",
}
FORMULA = "behaviour_formula"
COLLAB = ("ease", "rp3beta")
GLOBAL = "popularity"
#: Every baseline, in the order they are reported.
ALL_BASELINES = (GLOBAL, *BASELINES, FORMULA, *COLLAB)
#: Weight of the "one level above standard" term in the generator's perceived gap
#: (``training.synthetic.choices.Choices.perceived_gap``; not part of ``UTILITY``).
TARGET_GAP_WEIGHT = 0.35
#: Hyper-parameter grids searched on the validation year.
EASE_GRID: tuple[dict[str, float], ...] = tuple(
    {"l2": v} for v in (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)
)
RP3_GRID: tuple[dict[str, float], ...] = tuple(
    {"alpha": a, "beta": b, "top_k": k}
    for a, b, k in product((0.6, 0.8, 1.0, 1.2, 1.5), (0.0, 0.2, 0.4, 0.6, 0.8, 1.0), (0, 50))
)


def _tie(frame: pd.DataFrame) -> np.ndarray:
    pop = frame["pop_global"].to_numpy(float)
    out: np.ndarray = 1e-6 * pop / (1 + pop.max(initial=0.0))
    return out


def column_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Score of every column baseline (:data:`BASELINES`) for every row of ``frame``."""
    tie = _tie(frame)
    out = {}
    for name, column in BASELINES.items():
        values = np.nan_to_num(frame[column].to_numpy(float))
        out[name] = values + (tie if column != "pop_global" else 0.0)
    return out


#: The former name (plots and older callers): the column baselines.
baseline_scores = column_scores


def behaviour_formula(frame: pd.DataFrame, *, gain_total: np.ndarray) -> np.ndarray:
    """The default world's enrolment utility on observable features, one score per row.

    ``frame``: candidate rows with ``year``, ``gap_coverage``, ``target_gap_coverage``,
    ``priority_alignment``, ``pop_global``, ``position_overlap``, ``modality_habit``,
    ``self_paced``, ``classical``; ``gain_total`` (rows,): the programme's total competency
    gain (the generator weighs gaps by each programme's gain share). Term by term, with the
    coefficients of :data:`UTILITY`:

    - ``gap`` x (gap coverage + 0.35 x target-position gap coverage) / total gain;
    - ``priority`` x priority alignment (the same quantity as the generator's);
    - ``log_popularity`` x log(1 + enrolments of the last two years) (the observable stand-in
      for the hidden popularity; a constant shift does not change a ranking);
    - ``position_overlap`` x position overlap; ``modality_habit`` x modality habit;
    - self-paced trend (``self_paced_after_2020`` from 2020, ``self_paced_before_2020``
      before) x self-paced; ``covid_classical`` x classical in 2020.

    Raises KeyError when a column is missing and ValueError when ``gain_total`` has the wrong
    length.
    """
    gain_total = np.asarray(gain_total, dtype=float)
    if gain_total.shape != (len(frame),):
        raise ValueError(f"gain_total has shape {gain_total.shape}, frame has {len(frame)} rows")
    c = UTILITY

    def col(name: str) -> np.ndarray:
        return np.nan_to_num(frame[name].to_numpy(float))

    year = frame["year"].to_numpy(int)
    perceived = col("gap_coverage") + TARGET_GAP_WEIGHT * col("target_gap_coverage")
    u = c.gap * perceived / np.maximum(gain_total, 1e-6)
    u = u + c.priority * col("priority_alignment") + c.log_popularity * col("pop_global")
    u = u + c.position_overlap * col("position_overlap") + c.modality_habit * col("modality_habit")
    trend = np.where(year >= 2020, c.self_paced_after_2020, c.self_paced_before_2020)
    u = u + trend * col("self_paced")
    u = u + np.where(year == 2020, c.covid_classical, 0.0) * col("classical")
    out: np.ndarray = u + _tie(frame)
    return out


@dataclass
class YearState:
    """What the collaborative and global baselines need for one query year: the snapshot at
    1 January (its ``taken`` matrix is the history), the catalogue and the programme
    popularity of the last two years (log(1 + enrolments), (P,))."""

    year: int
    snap: Snapshot
    cat: Catalog
    popularity: np.ndarray
    cache: dict[Any, np.ndarray] = field(default_factory=dict)


def year_state(*, tables: dict[str, pd.DataFrame], cat: Catalog, year: int) -> YearState:
    """:class:`YearState` of ``year`` from the clean tables (snapshot strictly before
    1 January)."""
    snap = build_snapshot(tables, f"{year}-01-01")
    return YearState(year, snap, cat, build_usage(tables, snap).global_)


def collab_weights(*, method: str, history: np.ndarray, params: dict[str, float]) -> np.ndarray:
    """Item x item weights of ``method`` (``ease`` or ``rp3beta``) on ``history`` (people x
    programmes). Raises ValueError for an unknown method or bad parameters."""
    if method == "ease":
        return collab.ease_from_gram(gram=_gram(history), l2=float(params["l2"]))
    if method == "rp3beta":
        return collab.rp3beta_weights(
            interactions=history,
            alpha=float(params["alpha"]),
            beta=float(params["beta"]),
            top_k=int(params["top_k"]),
        )
    raise ValueError(f"unknown collaborative method {method!r}; expected one of {COLLAB}")


def _gram(history: np.ndarray) -> np.ndarray:
    h = history.astype(np.float32)
    out: np.ndarray = (h.T @ h).astype(np.float64)
    return out


def collab_scores(
    *, frame: pd.DataFrame, state: YearState, method: str, params: dict[str, float]
) -> np.ndarray:
    """Score of every row of ``frame`` (one query year) by ``method`` with ``params``:
    ``history[person] @ W[:, programme]`` (:func:`recommender.programs.collab.scores`), plus
    the popularity tie-break. People not in the snapshot score 0. Raises ValueError as
    :func:`collab_weights`."""
    history = state.snap.taken
    key = (method, tuple(sorted(params.items())))
    if key not in state.cache:
        state.cache[key] = collab_weights(method=method, history=history, params=params)
    rows = state.snap.people.index.get_indexer(pd.Index(frame["employee_id"]))
    cols = state.cat.ids.get_indexer(pd.Index(frame["program_id"]))
    people, inverse = np.unique(rows, return_inverse=True)
    known = np.where(people >= 0, people, 0)
    full = collab.scores(history=history[known], weights=state.cache[key])
    full[people < 0] = 0.0
    out: np.ndarray = full[inverse, cols].astype(float) + _tie(frame)
    return out


def choose_collab(
    *, frame: pd.DataFrame, relevant: pd.DataFrame, state: YearState
) -> dict[str, dict[str, Any]]:
    """Hyper-parameters of ``ease`` and ``rp3beta`` with the best mean NDCG@10 on ``frame``
    (the validation year's candidates) and ``relevant``: ``{method: {"params": {...},
    "validation_ndcg@10": x}}``."""
    grids = {"ease": EASE_GRID, "rp3beta": RP3_GRID}
    out: dict[str, dict[str, Any]] = {}
    for method, grid in grids.items():
        best: tuple[float, dict[str, float]] = (-1.0, grid[0])
        for params in grid:
            score = collab_scores(frame=frame, state=state, method=method, params=params)
            ndcg = float(query_metrics(frame, relevant, score, ks=(10,))["ndcg@10"].mean())
            if ndcg > best[0]:
                best = (ndcg, params)
        out[method] = {"params": dict(best[1]), "validation_ndcg@10": best[0]}
        state.cache.clear()
    return out


def global_popularity(
    *, frame: pd.DataFrame, relevant: pd.DataFrame, state: YearState
) -> tuple[pd.DataFrame, np.ndarray]:
    """``popularity`` over the whole catalogue for the queries of ``frame`` (one year): a frame
    with one row per query and *eligible* programme (``year``, ``employee_id``,
    ``program_id``, ``label`` from ``relevant``, ``classical``, ``self_paced``, ``jp``,
    ``priority_alignment`` and the group columns) and its scores (last two years' enrolments;
    ties by catalogue order). Raises KeyError when a query's person is not in the snapshot."""
    people = frame.drop_duplicates("employee_id")
    rows = state.snap.people.index.get_indexer(pd.Index(people["employee_id"]))
    if (rows < 0).any():
        raise KeyError("a query's person is not in the snapshot of the query year")
    ok = eligible(state.snap, state.cat, state.year, rows)
    r, p = np.nonzero(ok)
    progf = program_features(state.cat, state.year)
    out = pd.DataFrame(
        {
            "year": state.year,
            "employee_id": people["employee_id"].to_numpy()[r],
            "program_id": state.cat.ids.to_numpy()[p],
            "classical": progf["classical"].to_numpy()[p],
            "self_paced": progf["self_paced"].to_numpy()[p],
            "jp": progf["jp"].to_numpy()[p],
            "priority_alignment": progf["priority_alignment"].to_numpy()[p],
        }
    )
    for g in GROUPS:
        out[g] = people[g].to_numpy()[r]
    labels = relevant[["employee_id", "program_id", "label"]]
    out = out.merge(labels, on=["employee_id", "program_id"], how="left")
    out["label"] = out["label"].fillna(0).astype(int)
    score = state.popularity[p] - 1e-9 * p
    return out, score


@dataclass
class BaselineSet:
    """Scores of every baseline for one split: ``same`` on the model's candidate rows,
    ``outside`` as (frame, scores) on frames of their own; ``params`` the chosen
    hyper-parameters (logged)."""

    same: dict[str, np.ndarray]
    outside: dict[str, tuple[pd.DataFrame, np.ndarray]]
    params: dict[str, dict[str, Any]]


def score_baselines(
    *,
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
    states: dict[int, YearState],
    chosen: dict[str, dict[str, Any]],
) -> BaselineSet:
    """Every baseline of :data:`ALL_BASELINES` on the split ``frame`` (sorted by query) with
    its ``relevant`` set (with ``year``); ``states`` the :class:`YearState` of every year of
    the frame, ``chosen`` the collaborative hyper-parameters (:func:`choose_collab`). Raises
    KeyError when a year of the frame has no state."""
    years = frame["year"].to_numpy(int)
    same = column_scores(frame)
    same[FORMULA] = np.zeros(len(frame))
    same.update({method: np.zeros(len(frame)) for method in COLLAB})
    frames, scores = [], []
    for year in np.unique(years):
        part, state = years == year, states[int(year)]
        sub = frame[part]
        gain = pd.Series(state.cat.gain.sum(axis=1), index=state.cat.ids)
        same[FORMULA][part] = behaviour_formula(
            sub, gain_total=gain.reindex(sub["program_id"]).to_numpy(float)
        )
        for method in COLLAB:
            params = chosen[method]["params"]
            same[method][part] = collab_scores(frame=sub, state=state, method=method, params=params)
        pop = global_popularity(frame=sub, relevant=relevant[relevant["year"] == year], state=state)
        frames.append(pop[0])
        scores.append(pop[1])
    outside = {GLOBAL: (pd.concat(frames, ignore_index=True), np.concatenate(scores))}
    return BaselineSet(same, outside, chosen)
