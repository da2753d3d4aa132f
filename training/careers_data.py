"""Labelled next-position frames and their metrics (point in time, one global temporal split).

A query is (employee, year): the person made a career move in the year (not an equalisation,
the position changed); at ``t`` = 1 January of the year, which position will they move to? All
positions other than the current one are candidates (full ranking) and exactly one is right: the
first move's target. Features come from :func:`recommender.careers.features.candidate_frame` on
the snapshot of ``t`` — the code the service uses. The split is the programmes' one (train
2020-2023, validation 2024, test 2025).

Metrics per query from the rank r of the true target (ties between equal scores broken by a
seeded random order, so a baseline gains nothing from catalogue order): Hit@k = [r <= k],
MRR = 1/r, NDCG@5 = 1/log2(r + 1) if r <= 5 else 0 (one relevant item, ideal DCG = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.careers.features import CareerContext, build_context, candidate_frame
from recommender.careers.features import career_moves as choice_moves
from recommender.careers.horizon import HORIZON_MONTHS
from recommender.careers.policy import SPREAD, attainable_advancing, served_met, served_scores
from recommender.careers.rules import RuleSet
from recommender.programs.catalog import Catalog
from recommender.ranking_policy import POLICY_GUARANTEE, POLICY_TOP
from recommender.snapshot import build_snapshot
from training.frames import QUERY, concat_years, group_parity
from training.metrics import bootstrap_ci

METRICS = ("hit@1", "hit@5", "mrr", "ndcg@5")
MIN_GROUP_QUERIES = 20
PAIR = ["employee_id", "position_id"]


@dataclass
class CareerYear:
    """Candidates with features, ``label`` (1 = the position moved to) and group columns."""

    year: int
    frame: pd.DataFrame
    context: CareerContext


def year_queries(tables: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    """First career move of each person in ``year``: employee_id, to_position_id, move_type."""
    moves = choice_moves(tables, pd.Timestamp(f"{year + 1}-01-01"))
    moves = moves[moves["move_date"] >= pd.Timestamp(f"{year}-01-01")]
    first = moves.sort_values("move_date").drop_duplicates("employee_id")
    return first[["employee_id", "from_position_id", "to_position_id", "move_type"]]


def build_year(
    tables: dict[str, pd.DataFrame],
    cat: Catalog,
    rules: RuleSet,
    year: int,
    max_queries: int | None = None,
    seed: int = 0,
) -> CareerYear:
    """Snapshot at 1 January ``year`` -> candidates for everyone who moved that year -> labels.

    People whose position on 1 January differs from the move's origin (an earlier move the
    history does not show) are left out. ``max_queries`` caps the queries with a seeded sample.
    """
    snap = build_snapshot(tables, f"{year}-01-01")
    ctx = build_context(tables, snap, cat, rules)
    q = year_queries(tables, year)
    q = q[q["employee_id"].isin(snap.people.index)]
    q = q[snap.people.loc[q["employee_id"], "position_id"].to_numpy() == q["from_position_id"]]
    if max_queries is not None and len(q) > max_queries:
        q = q.sample(max_queries, random_state=seed)
    rows = np.sort(snap.people.index.get_indexer(pd.Index(q["employee_id"])))
    frame = candidate_frame(ctx, rows)
    target = q.set_index("employee_id")["to_position_id"]
    frame["label"] = (frame["position_id"] == frame["employee_id"].map(target)).astype(int)
    frame.insert(0, "year", year)
    people = snap.people.reindex(frame["employee_id"])
    frame["group_sex"] = np.where(people["female"].to_numpy() == 1, "P", "L")
    frame["group_region"] = np.where(people["java"].to_numpy() == 1, "java", "outside_java")
    frame["group_grade"] = people["grade"].str.split("/").str[0].to_numpy()
    frame["move_type"] = frame["employee_id"].map(q.set_index("employee_id")["move_type"])
    return CareerYear(year, frame, ctx)


def concat(years: list[CareerYear]) -> pd.DataFrame:
    """One frame for a split, sorted by query so groups are contiguous
    (:func:`training.frames.concat_years`)."""
    return concat_years(years=years)


def target_ranks(frame: pd.DataFrame, score: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Rank of the true target per query: columns year, employee_id, rank (1-based).

    Queries whose target is not among the candidates get rank = inf (counted as misses).
    """
    rng = np.random.default_rng(seed)
    df = frame[[*QUERY, "label"]].assign(score=np.asarray(score, float), tie=rng.random(len(frame)))
    df = df.sort_values([*QUERY, "score", "tie"], ascending=[True, True, False, True])
    df["rank"] = df.groupby(QUERY, sort=False).cumcount() + 1
    hit = df[df["label"] == 1].set_index(QUERY)["rank"]
    queries = frame[QUERY].drop_duplicates().set_index(QUERY)
    return queries.assign(rank=hit.reindex(queries.index).fillna(np.inf)).reset_index()


def per_query(frame: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    """hit@1, hit@5, mrr, ndcg@5 per query (index year, employee_id)."""
    r = target_ranks(frame, score).set_index(QUERY)["rank"]
    return pd.DataFrame(
        {
            "hit@1": (r <= 1).astype(float),
            "hit@5": (r <= 5).astype(float),
            "mrr": 1.0 / r,
            "ndcg@5": np.where(r <= 5, 1.0 / np.log2(r.clip(upper=1e9) + 1), 0.0),
        }
    )


def _compare(model: pd.DataFrame, base: pd.DataFrame, n_boot: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in ("mrr", "hit@5"):
        diff = (model[m] - base[m].reindex(model.index)).to_numpy()
        b = float(base[m].mean())
        out[m] = {
            "lift": float(model[m].mean() / b - 1) if b else float("inf"),
            "diff_ci": list(bootstrap_ci(diff, n_boot)),
        }
    # flat keys for the tracking layer (lift of the gate metric, MRR)
    out["lift"], out["diff_ci"] = out["mrr"]["lift"], out["mrr"]["diff_ci"]
    return out


def evaluate_all(
    frame: pd.DataFrame, scores: dict[str, np.ndarray], n_boot: int = 300
) -> dict[str, dict[str, Any]]:
    """Every ranker in ``scores`` (``model`` first) on the same candidates: the metrics, 95 %
    bootstrap intervals of MRR and Hit@5, groups with parity (MRR), and for the model
    ``vs_<baseline>`` lifts with paired bootstrap intervals of the differences."""
    out: dict[str, dict[str, Any]] = {}
    pqs: dict[str, pd.DataFrame] = {}
    for name, score in scores.items():
        pq = per_query(frame, score)
        pqs[name] = pq
        res: dict[str, Any] = {m: float(pq[m].mean()) for m in METRICS}
        res["mrr_ci"] = list(bootstrap_ci(pq["mrr"].to_numpy(), n_boot))
        res["hit@5_ci"] = list(bootstrap_ci(pq["hit@5"].to_numpy(), n_boot))
        res["queries"] = len(pq)
        res["groups"] = group_parity(
            per_query=pq,
            frame=frame,
            n_boot=n_boot,
            metric="mrr",
            also=("hit@5",),
            min_queries=MIN_GROUP_QUERIES,
            min_judged=2,
        )
        out[name] = res
    if "model" in scores:
        for name in scores:
            if name != "model":
                out["model"][f"vs_{name}"] = _compare(pqs["model"], pqs[name], n_boot)
    return out


def by_move_type(frame: pd.DataFrame, score: np.ndarray) -> dict[str, dict[str, float]]:
    """MRR and Hit@5 per move type of the true move (for the report)."""
    pq = per_query(frame, score)
    kinds = frame.drop_duplicates(QUERY).set_index(QUERY)["move_type"]
    joined = pq.join(kinds)
    return {
        str(k): {"mrr": float(p["mrr"].mean()), "hit@5": float(p["hit@5"].mean()), "n": len(p)}
        for k, p in joined.groupby("move_type")
    }


def policy_flags(*, year: CareerYear, batch: int = 256) -> np.ndarray:
    """Whether each row of ``year.frame`` is a post the ranking policy guarantees (advancing and
    eligible within the horizon on 1 January: :func:`recommender.careers.policy.
    attainable_advancing`), bool (len(frame),) in frame order. The pair columns the horizon
    reads are rebuilt ``batch`` people at a time (the year frame does not keep them)."""
    ctx = year.context
    frame = year.frame
    ids = pd.Index(frame["employee_id"].unique())
    rows = np.sort(ctx.snap.people.index.get_indexer(ids))
    parts = []
    for i in range(0, len(rows), batch):
        detail = candidate_frame(ctx, rows[i : i + batch], detail=True)
        flags = attainable_advancing(rules=ctx.rules, frame=detail, at=ctx.snap.at)
        parts.append(pd.Series(flags, index=pd.MultiIndex.from_frame(detail[PAIR])))
    if not parts:
        return np.zeros(len(frame), dtype=bool)
    found = pd.concat(parts)
    key = pd.MultiIndex.from_frame(frame[PAIR])
    out: np.ndarray = found.reindex(key).fillna(False).to_numpy(bool)
    return out


def policy_figures(
    *, frame: pd.DataFrame, score: np.ndarray, flagged: np.ndarray, n_boot: int = 300
) -> dict[str, Any]:
    """The cost of the ranking policy: MRR and Hit@5 of the served order (the policy of
    :mod:`recommender.careers.policy` over each query's candidates, top 10, guarantee 3, spread
    3) beside the unconstrained order of ``score`` (n,), on the same queries of ``frame``;
    ``flagged`` (n,) from :func:`policy_flags`. Returns ``k``, ``guarantee``, ``spread``,
    ``horizon_months``, ``mrr``, ``hit@5`` (served), ``mrr_unconstrained``,
    ``hit@5_unconstrained``, ``mrr_cost`` and
    ``hit@5_cost`` (relative: 1 - served / unconstrained), ``mrr_diff_ci`` (95 % paired
    bootstrap interval of served - unconstrained), ``queries``, ``queries_reranked`` (share of
    queries whose order the policy changed), ``with_attainable`` (share with at least one
    flagged post) and ``hit@5_answer_of_5`` with its cost (the served answer of 5 posts, which
    keeps 2 flagged ones: :func:`recommender.ranking_policy.policy_cut`). Raises ValueError for
    a non-finite score."""
    group = frame.groupby(QUERY, sort=False).ngroup().to_numpy()
    served = served_scores(group=group, score=score, flagged=flagged, k=POLICY_TOP)
    plain, policy = per_query(frame, score), per_query(frame, served)
    met = served_met(group=group, score=score, flagged=flagged, k=POLICY_TOP)
    out: dict[str, Any] = {
        "k": POLICY_TOP,
        "guarantee": POLICY_GUARANTEE,
        "spread": SPREAD,
        "horizon_months": HORIZON_MONTHS,
        "queries": len(plain),
        "queries_reranked": float(1.0 - met.mean()) if len(met) else 0.0,
        "with_attainable": float(pd.Series(flagged).groupby(group).any().mean()),
    }
    # the service's default answer of 5 posts keeps 2 of them (policy_cut): its Hit@5
    short = per_query(frame, served_scores(group=group, score=score, flagged=flagged, k=5))
    for m in ("mrr", "hit@5"):
        before, after = float(plain[m].mean()), float(policy[m].reindex(plain.index).mean())
        out[m], out[f"{m}_unconstrained"] = after, before
        out[f"{m}_cost"] = 1.0 - after / before if before else 0.0
    five = float(short["hit@5"].reindex(plain.index).mean())
    out["hit@5_answer_of_5"] = five
    base = out["hit@5_unconstrained"]
    out["hit@5_answer_of_5_cost"] = 1.0 - five / base if base else 0.0
    diff = (policy["mrr"].reindex(plain.index) - plain["mrr"]).to_numpy()
    out["mrr_diff_ci"] = list(bootstrap_ci(diff, n_boot))
    return out
