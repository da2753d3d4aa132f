"""O*NET occupation standards: the career scorer in standards-only mode.

The files and the mapping of O*NET to positions and competencies are in
:mod:`training.external.onet_data` (its public names are importable from here).

Truth: any file of ranked occupation pairs in O*NET's related-occupations format; only
``O*NET-SOC Code``, ``Related O*NET-SOC Code`` and ``Index`` are read (``Relatedness Tier`` may be
missing). Relevant: the pairs with ``Index`` <= :data:`RELEVANT_INDEX` (O*NET's Primary-Short and
Primary-Long tiers). A query is a source occupation that is a position and has a relevant pair;
every other position is ranked; relevant occupations that are not positions stay in the
denominators (they count as misses). Recall@10 = relevant in the top 10 / relevant; MRR = mean of
1 / rank of the first relevant (0 if none); NDCG@10 with binary gains. Ties keep catalogue order
(codes sorted). Intervals: percentile bootstrap over queries, paired for differences.

Honesty: source occupations are split by ``crc32(code) % 2`` into a *tune* half (even) and a
*held-out* half (odd). Parameters are chosen on the tune half only (:func:`tune`); figures are
reported on the held-out half and on all queries.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table as RichTable

from recommender.careers.standards import (
    StandardsParams,
    combine,
    cosine_matrix,
    standards_matrix,
    terms,
)
from training.external.onet_data import (
    CODE,
    ELEMENT_COLUMNS,
    GROUPS,
    HELD_OUT,
    INDEX,
    JOB_ZONES,
    LV_MAX,
    MAX_LEVEL,
    MIN_IMPORTANCE,
    RELATED,
    SPLIT_RULE,
    TIER,
    TRUTH_REQUIRED,
    TUNE,
    ExternalDataError,
    Standards,
    default_onet_dir,
    level_from_lv,
    load_standards,
    read_csv,
    read_truth,
    split_half,
    tier_from_job_zone,
    weight_from_importance,
)
from training.metrics import bootstrap_ci

K = 10
RELEVANT_INDEX = 10
N_BOOT = 1000
METRICS = ("recall@10", "mrr", "ndcg@10")
#: Grid searched by :func:`tune` (the objective is Recall@10 + MRR on the tune half).
GRID: dict[str, tuple[float, ...]] = {
    "prior": (0.0, 1.0, 2.0, 4.0),
    "gap": (0.0, 0.1, 0.2, 0.5),
    "up": (0.0, 0.1, 0.2, 0.5, 1.0),
    "down": (0.0, 0.05, 0.1, 0.2),
}


# --------------------------------------------------------------------------------------------
# Queries and metrics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queries:
    """One query per source occupation: ``sources`` (Q,) position rows; ``codes`` (Q,);
    ``relevant`` (Q, P) relevant positions; ``n_relevant`` (Q,) relevant occupations, those that
    are not positions included; ``tune`` (Q,) True for the tune half."""

    sources: np.ndarray
    codes: tuple[str, ...]
    relevant: np.ndarray
    n_relevant: np.ndarray
    tune: np.ndarray

    def subset(self, mask: np.ndarray) -> Queries:
        """The queries where ``mask`` is True."""
        return Queries(
            self.sources[mask],
            tuple(np.asarray(self.codes, dtype=object)[mask]),
            self.relevant[mask],
            self.n_relevant[mask],
            self.tune[mask],
        )


def build_queries(std: Standards, truth: pd.DataFrame) -> tuple[Queries, dict[str, int]]:
    """Queries of ``truth`` (from :func:`read_truth`) over the positions of ``std``, and counts
    of what could not be used."""
    rel = truth[truth["index"] <= RELEVANT_INDEX]
    positions = pd.Index(std.codes)
    rel = rel.assign(
        s=positions.get_indexer(pd.Index(rel["source"])),
        t=positions.get_indexer(pd.Index(rel["target"])),
    )
    usable = rel[rel["s"] >= 0]
    sources = np.unique(usable["s"].to_numpy())
    row = pd.Series(np.arange(len(sources)), index=sources)
    relevant = np.zeros((len(sources), len(positions)), dtype=bool)
    ok = usable[usable["t"] >= 0]
    relevant[row[ok["s"]].to_numpy(), ok["t"].to_numpy()] = True
    n_relevant = usable.groupby("s").size().reindex(sources).to_numpy(int)
    codes = tuple(positions[sources])
    queries = Queries(
        sources, codes, relevant, n_relevant, np.array([split_half(c) == TUNE for c in codes])
    )
    facts = {
        "truth_pairs": len(truth),
        "truth_sources": int(truth["source"].nunique()),
        "relevant_pairs": len(rel),
        "sources_without_standard": int(rel.loc[rel["s"] < 0, "source"].nunique()),
        "relevant_not_positions": int((usable["t"] < 0).sum()),
    }
    return queries, facts


def query_metrics(scores: np.ndarray, queries: Queries, k: int = K) -> dict[str, np.ndarray]:
    """Per query (Q,): ``recall@k``, ``mrr`` and ``ndcg@k`` of ``scores`` (Q, P), ranked in
    descending order (ties in catalogue order); binary gains, relevant non-positions count as
    misses."""
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(queries.relevant, order, axis=1)
    n_rel = np.maximum(queries.n_relevant, 1)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(n_rel, k) - 1]
    first = hits.argmax(axis=1)
    top = hits[:, :k]  # fewer than k columns when there are fewer positions
    return {
        f"recall@{k}": top.sum(axis=1) / n_rel,
        "mrr": np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0),
        f"ndcg@{k}": (top * discount[: top.shape[1]]).sum(axis=1) / ideal,
    }


def summarise(per_query: dict[str, np.ndarray], mask: np.ndarray, n_boot: int) -> dict[str, Any]:
    """Means and bootstrap 95 % intervals of :data:`METRICS` over the queries in ``mask``
    (None when ``mask`` selects no query: JSON has no NaN)."""
    out: dict[str, Any] = {}
    for m in METRICS:
        values = per_query[m][mask]
        out[m] = float(values.mean()) if values.size else None
        out[f"{m}_ci"] = list(bootstrap_ci(values, n_boot)) if values.size else None
    out["queries"] = int(mask.sum())
    return out


def paired(
    model: dict[str, np.ndarray], base: dict[str, np.ndarray], mask: np.ndarray, n_boot: int
) -> dict[str, dict[str, Any]]:
    """Per metric: relative lift of the mean (None when the baseline's mean is 0), mean
    difference and its paired bootstrap 95 % interval (queries resampled together), over the
    queries in ``mask`` (None when it selects none)."""
    out: dict[str, dict[str, Any]] = {}
    for m in METRICS:
        mod, bas = model[m][mask], base[m][mask]
        if not mod.size:
            out[m] = {"lift": None, "diff": None, "diff_ci": None}
            continue
        b = float(bas.mean())
        out[m] = {
            "lift": float(mod.mean() / b - 1) if b else None,
            "diff": float((mod - bas).mean()),
            "diff_ci": list(bootstrap_ci(mod - bas, n_boot)),
        }
    return out


# --------------------------------------------------------------------------------------------
# Tuning and the run
# --------------------------------------------------------------------------------------------


def objective(per_query: dict[str, np.ndarray]) -> float:
    """What :func:`tune` maximises: mean Recall@10 + MRR."""
    return float(per_query["recall@10"].mean() + per_query["mrr"].mean())


def tune(
    std: Standards,
    queries: Queries,
    grid: Mapping[str, Sequence[float]] | None = None,
    step: Callable[[str], None] | None = None,
) -> tuple[StandardsParams, dict[str, Any]]:
    """Grid search of :class:`StandardsParams` on the **tune half** of ``queries`` only (the
    held-out half is never scored here). Ties keep the first in grid order. Returns the best
    parameters and ``{"grid": ..., "combinations": n, "objective": best}``; raises ValueError
    when the tune half is empty."""
    grid = grid or GRID
    part = queries.subset(queries.tune)
    if len(part.sources) == 0:
        raise ValueError("no query in the tune half")
    best: tuple[float, StandardsParams] | None = None
    combos = list(itertools.product(grid["gap"], grid["up"], grid["down"]))
    for i, prior in enumerate(grid["prior"]):
        if step:
            step(f"tuning on the tune half: prior {i + 1}/{len(grid['prior'])}")
        parts = terms(std.required, std.weight, std.tier, prior, std.groups, part.sources)
        for gap, up, down in combos:
            params = StandardsParams(prior=prior, gap=gap, up=up, down=down)
            value = objective(query_metrics(combine(parts, params), part))
            if best is None or value > best[0] + 1e-12:
                best = (value, params)
    assert best is not None
    info = {
        "grid": {k: list(v) for k, v in grid.items()},
        "combinations": len(grid["prior"]) * len(combos),
        "objective": "recall@10 + mrr",
        "best": best[0],
    }
    return best[1], info


def run(
    truth_path: str | Path,
    onet_dir: str | Path,
    params: StandardsParams | None = None,
    retune: bool = False,
    n_boot: int = N_BOOT,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load the standards and the truth, score the model (``params``, default
    :class:`StandardsParams`; with ``retune`` chosen by :func:`tune` on the tune half of this
    truth file) and the cosine baseline for every query. Returns ``{"per_query", "queries",
    "params", "tuning", "data"}``; raises ExternalDataError for a missing or malformed file or a
    truth file with no usable query."""
    say = step or (lambda _text: None)
    say("reading the O*NET standards")
    std = load_standards(onet_dir)
    say("reading the truth file")
    truth = read_truth(truth_path)
    queries, facts = build_queries(std, truth)
    if len(queries.sources) == 0:
        raise ExternalDataError(
            f"{truth_path}: no source occupation with a standard and a pair with "
            f"{INDEX} <= {RELEVANT_INDEX}"
        )
    tuning: dict[str, Any] | None = None
    if retune:
        if not queries.tune.any():
            raise ExternalDataError(f"{truth_path}: --tune needs a source in the tune half")
        params, tuning = tune(std, queries, step=say)
    params = params or StandardsParams()
    say("ranking every position for every source occupation")
    scores = {
        "model": standards_matrix(
            std.required, std.weight, std.tier, params, std.groups, queries.sources
        ),
        "cosine": cosine_matrix(std.importance, queries.sources),
    }
    per_query = {name: query_metrics(s, queries) for name, s in scores.items()}
    return {
        "per_query": per_query,
        "queries": queries,
        "params": params,
        "tuning": tuning,
        "n_boot": n_boot,
        "data": {**std.facts, **facts},
    }


def headline(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON printed by ``jenjang external onet --json``, shaped like ``jenjang evaluate
    programs --json``: ``{"model": {...}, "cosine": {...}}``. Top-level figures are over all
    queries; ``held_out`` has the same figures on the held-out half; the model's ``tuned_on``
    says where its parameters came from and ``vs_cosine`` compares it with the baseline
    (``all`` and ``held_out``)."""
    pq, queries, n_boot = result["per_query"], result["queries"], result["n_boot"]
    every = np.ones(len(queries.sources), dtype=bool)
    held = ~queries.tune
    out: dict[str, dict[str, Any]] = {}
    for name in ("model", "cosine"):
        figures = summarise(pq[name], every, n_boot)
        figures["evaluated_on"] = "all"
        figures["held_out"] = summarise(pq[name], held, n_boot)
        out[name] = figures
    tuning = result["tuning"]
    out["model"]["tuned_on"] = {
        "half": TUNE,
        "split": SPLIT_RULE,
        "queries": int(queries.tune.sum()),
        "params": asdict(result["params"]),
        "how": (
            "grid search on the tune half of this truth file (--tune)"
            if tuning
            else "defaults (StandardsParams), chosen by grid search on the tune half of "
            "O*NET 29.3 related occupations"
        ),
        "figures": summarise(pq["model"], queries.tune, n_boot),
    }
    if tuning:
        out["model"]["tuned_on"]["search"] = tuning
    out["model"]["vs_cosine"] = {
        "all": paired(pq["model"], pq["cosine"], every, n_boot),
        "held_out": paired(pq["model"], pq["cosine"], held, n_boot),
    }
    return out


def _ci(figures: dict[str, Any], metric: str) -> str:
    if figures[f"{metric}_ci"] is None:
        return "-"
    lo, hi = figures[f"{metric}_ci"]
    return f"{lo:.3f}-{hi:.3f}".replace("0.", ".")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def report_table(result: dict[str, Any]) -> tuple[RichTable, list[str]]:
    """The rich table printed by ``jenjang external onet`` (fits 80 columns) and the lines
    under it."""
    head = headline(result)
    table = RichTable(title="O*NET related occupations: standards only, every position ranked")
    table.add_column("ranker")
    table.add_column("sources")
    for col in ("R@10", "95 % CI", "MRR", "95 % CI", "NDCG@10"):
        table.add_column(col, justify="right")
    for name in ("model", "cosine"):
        for label, figures in (("held-out", head[name]["held_out"]), ("all", head[name])):
            table.add_row(
                name,
                label,
                _num(figures["recall@10"]),
                _ci(figures, "recall@10"),
                _num(figures["mrr"]),
                _ci(figures, "mrr"),
                _num(figures["ndcg@10"]),
            )
    lines = [
        f"queries (source occupations): {head['model']['held_out']['queries']:,} held-out, "
        f"{head['model']['queries']:,} all; R@10 = Recall@10"
    ]
    for scope in ("held_out", "all"):
        vs = head["model"]["vs_cosine"][scope]
        if vs["mrr"]["diff"] is None:
            continue
        parts = [
            f"{m} {vs[m]['diff']:+.4f} [{vs[m]['diff_ci'][0]:+.4f}, {vs[m]['diff_ci'][1]:+.4f}]"
            for m in ("recall@10", "mrr")
        ]
        lines.append(f"model - cosine ({scope.replace('_', '-')}): " + "; ".join(parts))
    tuned = head["model"]["tuned_on"]
    params = ", ".join(f"{k}={v:g}" for k, v in tuned["params"].items())
    lines.append(f"parameters: {params} ({tuned['how']}; split {tuned['split']})")
    d = result["data"]
    lines.append(
        f"{d['positions']:,} positions (of {d['occupations']:,} occupations), "
        f"{d['competencies']} competencies, {d['requirements']:,} requirements; "
        f"{d['relevant_pairs']:,} relevant pairs (Index <= {RELEVANT_INDEX}), "
        f"{d['sources_without_standard']:,} sources without a standard skipped, "
        f"{d['relevant_not_positions']:,} relevant occupations without a standard counted as misses"
    )
    lines.append(
        "O*NET 29.3 data (CC BY 4.0) by the U.S. Department of Labor, Employment and Training "
        "Administration (USDOL/ETA)."
    )
    return table, lines


__all__ = [
    "CODE",
    "ELEMENT_COLUMNS",
    "GRID",
    "GROUPS",
    "HELD_OUT",
    "INDEX",
    "JOB_ZONES",
    "LV_MAX",
    "MAX_LEVEL",
    "METRICS",
    "MIN_IMPORTANCE",
    "N_BOOT",
    "RELATED",
    "RELEVANT_INDEX",
    "SPLIT_RULE",
    "TIER",
    "TRUTH_REQUIRED",
    "TUNE",
    "ExternalDataError",
    "K",
    "Queries",
    "Standards",
    "build_queries",
    "default_onet_dir",
    "headline",
    "level_from_lv",
    "load_standards",
    "objective",
    "paired",
    "query_metrics",
    "read_csv",
    "read_truth",
    "report_table",
    "run",
    "split_half",
    "summarise",
    "tier_from_job_zone",
    "tune",
    "weight_from_importance",
]
