"""XuetangX MOOC interactions: the programme ranker in interactions-only mode.

Evaluation (the publisher's task): for every learner present in both files, rank every course of
the train file that the learner has not taken there; each course in the learner's test rows is a
hit. The test file is read for nothing else.

Everything that is chosen or fitted comes from the train file alone: each learner's last
``holdout`` course(s) there are carved out as a validation slice; EASE and RP3beta settings are
tuned on it (:mod:`training.external.xuetangx_collab`) and the LightGBM ranker is fitted and
early-stopped on it (:mod:`training.external.xuetangx_model`). For the test, the same feature
code (:mod:`training.external.xuetangx_features`) runs on the whole train file. Loading and the
data contract: :mod:`training.external.xuetangx_data`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table as RichTable

from training.evaluate import compare
from training.external.xuetangx_collab import K, Tuned, tune
from training.external.xuetangx_data import (
    ExternalDataError,
    Interactions,
    load_interactions,
    split_back,
    split_last,
    split_random,
    target_matrix,
)
from training.external.xuetangx_features import (
    BASELINES,
    FEATURES,
    History,
    baseline_scores,
    build_history,
    candidate_frame,
    pair_features,
)
from training.external.xuetangx_model import XuetangxConfig, fit_model, labels
from training.metrics import bootstrap_ci, query_metrics, ranked

__all__ = [
    "BASELINES",
    "FEATURES",
    "ExternalDataError",
    "XuetangxConfig",
    "headline",
    "load_interactions",
    "report_table",
    "run",
    "split_last",
]

HEADLINE = ("ndcg@5", "ndcg@10", "recall@10", "map@10", "mrr")


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _coverage(frame: pd.DataFrame, score: np.ndarray, n_courses: int) -> float:
    """Distinct courses in all top-K lists / courses in the catalogue."""
    df = ranked(frame, score)
    return float(df.loc[df["rank"] <= K, "program_id"].nunique() / max(n_courses, 1))


def score_rankers(
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
    scores: dict[str, np.ndarray],
    n_courses: int,
    n_boot: int,
) -> dict[str, dict[str, Any]]:
    """Figures of every ranker on the same candidates; the model also gets ``vs_<baseline>``
    (relative NDCG@10 lift and the paired bootstrap interval of the difference)."""
    per_query = {name: query_metrics(frame, relevant, s, ks=(5, K)) for name, s in scores.items()}
    out: dict[str, dict[str, Any]] = {}
    for name, q in per_query.items():
        figures: dict[str, Any] = {m: float(q[m].mean()) for m in HEADLINE}
        figures["coverage"] = _coverage(frame, scores[name], n_courses)
        figures["ndcg@10_ci"] = list(bootstrap_ci(q["ndcg@10"].to_numpy(), n_boot))
        figures["recall@10_ci"] = list(bootstrap_ci(q["recall@10"].to_numpy(), n_boot))
        figures["queries"] = len(q)
        out[name] = figures
    for base in BASELINES:
        vs: dict[str, Any] = dict(compare(per_query["model"], per_query[base], n_boot))
        model_q = per_query["model"]
        recall_diff = model_q["recall@10"] - per_query[base]["recall@10"].reindex(model_q.index)
        vs["recall@10_diff"] = float(recall_diff.mean())
        vs["recall@10_diff_ci"] = list(bootstrap_ci(recall_diff.to_numpy(), n_boot))
        out["model"][f"vs_{base}"] = vs
    return out


def _fit(
    train: Interactions,
    learners: pd.Index,
    courses: pd.Index,
    config: XuetangxConfig,
    say: Callable[[str], None],
) -> tuple[Any, Tuned, dict[str, Any]]:
    """Carve the validation slice from the train file, tune EASE and RP3beta on it, fit the
    model on it. Returns (ranker, tuned settings, facts about the fit)."""
    past, targets = split_last(
        train.frame, config.holdout, share=config.holdout_share, min_past=config.min_past
    )
    hist = build_history(past, learners, courses)
    say("tuning EASE and RP3beta on a slice carved from the train file")
    tuned = tune(taken=hist.taken, relevant=target_matrix(targets, learners, courses))
    say("fitting the ranker on pseudo-targets of the train file")
    carvings = grouped_carvings(train.frame, targets, learners, courses, config)
    scored = len(carvings)
    for i in range(config.extra_carvings):
        more_past, more = split_random(
            train.frame, seed=config.seed + 1 + i, min_past=config.min_past
        )
        carvings.append((build_history(more_past, learners, courses), more))
    for back in range(1, config.prefix_carvings + 1):
        earlier, more = split_back(train.frame, back=back, min_past=config.prefix_min_past)
        if len(more):
            carvings.append((build_history(earlier, learners, courses), more))
    ranker, fit = fit_model(
        carvings=carvings,
        learners=learners,
        courses=courses,
        tuned=tuned,
        config=config,
        scored=scored,
    )
    return ranker, tuned, fit


def grouped_carvings(
    frame: pd.DataFrame,
    targets: pd.DataFrame,
    learners: pd.Index,
    courses: pd.Index,
    config: XuetangxConfig,
) -> list[tuple[History, pd.DataFrame]]:
    """The scored carvings: the learners with a target are cut into ``config.carving_groups``
    random groups (seeded); each carving holds one group's targets and the history of the
    whole train file ``frame`` less those targets only, so that its matrices are close to the
    test-time ones while no learner's target reaches its own features. One group: the train
    file less every target."""
    groups = max(config.carving_groups, 1)
    who = pd.Index(targets["employee_id"].unique())
    group_of = np.random.default_rng(config.seed).permutation(len(who)) % groups
    target_group = group_of[who.get_indexer(pd.Index(targets["employee_id"]))]
    pair = frame["employee_id"].astype(str) + "\x00" + frame["program_id"].astype(str)
    out = []
    for g in range(groups):
        part = targets[target_group == g]
        held = part["employee_id"].astype(str) + "\x00" + part["program_id"].astype(str)
        past = frame[~pair.isin(set(held))]
        out.append((build_history(past, learners, courses), part.reset_index(drop=True)))
    return out


def _test_queries(
    test: Interactions, taken: np.ndarray, learners: pd.Index, courses: pd.Index
) -> tuple[pd.DataFrame, np.ndarray]:
    """Relevant rows of the test file as codes (learners outside the train file dropped, test
    rows already taken in the train file dropped) and the mask of those already taken."""
    u = learners.get_indexer(pd.Index(test.frame["employee_id"]))
    c = courses.get_indexer(pd.Index(test.frame["program_id"]))
    relevant = pd.DataFrame({"year": 0, "employee_id": u, "program_id": c, "label": 1})
    relevant = relevant[relevant["employee_id"] >= 0]  # c = -1: a course not in the catalogue
    already = (relevant["program_id"] >= 0).to_numpy() & taken[
        relevant["employee_id"], relevant["program_id"].clip(lower=0)
    ]
    return relevant[~already], already


def run(
    train_path: str | Path,
    test_path: str | Path,
    key: str,
    config: XuetangxConfig | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load, validate, tune and fit on the train file, rank for the test learners and score the
    model and every baseline of :data:`BASELINES`. Returns ``{"rankers": ..., "data": ...,
    "fit": ..., "tuning": ..., "config": ...}``; raises ExternalDataError for a missing or
    malformed file or a train file too small to train on."""
    config = config or XuetangxConfig()
    say = step or (lambda _text: None)
    say("reading files")
    train = load_interactions(train_path, key)
    test = load_interactions(test_path, key)
    learners = pd.Index(train.frame["employee_id"].unique())  # file order: key-independent
    courses = pd.Index(sorted(train.frame["program_id"].unique()))
    if len(courses) < 2 or len(learners) < 2:
        raise ExternalDataError(f"{train_path}: too few learners or courses to train on")
    try:
        ranker, tuned, fit = _fit(train, learners, courses, config, say)
    except ValueError as exc:
        raise ExternalDataError(f"{train_path}: cannot train on it: {exc}") from exc
    say("ranking every untaken course for the test learners")
    hist = build_history(train.frame, learners, courses)
    feats = pair_features(hist, tuned)
    relevant, already = _test_queries(test, hist.taken, learners, courses)
    rows = np.unique(relevant["employee_id"].to_numpy())
    frame = candidate_frame(feats, hist.taken, rows)
    shape = (len(learners), len(courses))
    frame["label"] = labels(
        frame, relevant["employee_id"].to_numpy(), relevant["program_id"].to_numpy(), shape
    )
    scores = {"model": ranker.predict(frame), **baseline_scores(feats, frame)}
    say("scoring")
    rankers = score_rankers(frame, relevant, scores, len(courses), config.n_boot)
    data = {
        "train": _describe(train),
        "test": _describe(test),
        "catalogue_courses": len(courses),
        "query_learners": len(rows),
        "test_learners_not_in_train": int(test.frame["employee_id"].nunique() - len(rows)),
        "relevant_outside_catalogue": int((relevant["program_id"] < 0).sum()),
        "test_rows_already_taken": int(already.sum()),
        "candidates": len(frame),
    }
    tuning = {"ease": tuned.ease, "rp3beta": tuned.rp3beta, "validation": tuned.validation}
    return {
        "rankers": rankers,
        "data": data,
        "fit": fit,
        "tuning": tuning,
        "config": asdict(config),
    }


def _describe(part: Interactions) -> dict[str, Any]:
    return {
        "rows": part.rows,
        "kept": len(part.frame),
        "dropped": part.dropped,
        "learners": int(part.frame["employee_id"].nunique()),
        "courses": int(part.frame["program_id"].nunique()),
        "problems": part.problems,
    }


def headline(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON printed by ``jenjang external xuetangx --json``, shaped like
    ``jenjang evaluate programs --json``: ``{"model": ..., "popularity": ..., "item_knn": ...,
    "ease": ..., "rp3beta": ...}``, each with the same metric keys. ``ease`` and ``rp3beta``
    also carry ``params`` (the settings chosen on the carved slice of the train file) and
    ``validation`` (their NDCG@10 / Recall@10 there); the model carries its lifts, the
    intervals of its differences and ``ratio_vs_best_collab`` (model / the better of ``ease``
    and ``rp3beta``, per metric)."""
    rankers = result["rankers"]
    keys = (*HEADLINE, "coverage", "ndcg@10_ci", "recall@10_ci", "queries")
    out = {name: {k: rankers[name][k] for k in keys} for name in ("model", *BASELINES)}
    for name in ("ease", "rp3beta"):
        out[name]["params"] = result["tuning"][name]
        out[name]["validation"] = result["tuning"]["validation"][name]
    best = max(BASELINES, key=lambda b: rankers[b]["ndcg@10"])
    model = out["model"]
    model["best_baseline"] = best
    model["lift_vs_best"] = rankers["model"][f"vs_{best}"]["lift"]
    model["diff_ci_vs_best"] = rankers["model"][f"vs_{best}"]["diff_ci"]
    model["lift_vs_popularity"] = rankers["model"]["vs_popularity"]["lift"]
    for base in BASELINES:
        model[f"diff_ci_vs_{base}"] = rankers["model"][f"vs_{base}"]["diff_ci"]
        model[f"recall@10_diff_ci_vs_{base}"] = rankers["model"][f"vs_{base}"]["recall@10_diff_ci"]
    model["ratio_vs_best_collab"] = {
        m: rankers["model"][m] / max(rankers["ease"][m], rankers["rp3beta"][m], 1e-12)
        for m in ("ndcg@10", "recall@10")
    }
    return out


def report_table(result: dict[str, Any]) -> tuple[RichTable, list[str]]:
    """The rich table printed by ``jenjang external xuetangx`` and the lines under it."""
    head = headline(result)
    cols = ("ndcg@10", "recall@10", "map@10", "mrr", "coverage")
    table = RichTable(title="XuetangX test file (every untaken course ranked, interactions only)")
    table.add_column("ranker")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("ndcg@10 CI", justify="right")
    for name, figures in head.items():
        lo, hi = figures["ndcg@10_ci"]
        table.add_row(name, *(f"{figures[c]:.4f}" for c in cols), f"[{lo:.4f}, {hi:.4f}]")
    data, fit = result["data"], result["fit"]
    lines = [
        f"{data['query_learners']:,} query learners (in both files); "
        f"{data['catalogue_courses']:,} courses; {data['candidates']:,} candidates",
    ]
    for base in BASELINES:
        lo, hi = head["model"][f"diff_ci_vs_{base}"]
        lift = result["rankers"]["model"][f"vs_{base}"]["lift"]
        r_lo, r_hi = head["model"][f"recall@10_diff_ci_vs_{base}"]
        lines.append(
            f"model vs {base}: {100 * lift:+.1f} % NDCG@10, difference 95 % CI "
            f"[{lo:.4f}, {hi:.4f}]; Recall@10 difference 95 % CI [{r_lo:.4f}, {r_hi:.4f}]"
        )
    for part in ("train", "test"):
        d = data[part]
        problems = ", ".join(f"{k} x{v}" for k, v in d["problems"].items()) or "none"
        lines.append(
            f"{part}: {d['rows']:,} rows, {d['dropped']:,} dropped, {d['learners']:,} learners; "
            f"contract problems: {problems}"
        )
    tuning = result["tuning"]
    ease, rp3 = tuning["ease"], tuning["rp3beta"]
    lines.append(
        f"chosen on the carved slice of the train file: EASE l2 = {ease['l2']:g}; RP3beta "
        f"alpha = {rp3['alpha']:g}, beta = {rp3['beta']:g}, top_k = {rp3['top_k']:g}"
    )
    ratio = head["model"]["ratio_vs_best_collab"]
    lines.append(
        f"model / better of ease and rp3beta: NDCG@10 x{ratio['ndcg@10']:.3f}, "
        f"Recall@10 x{ratio['recall@10']:.3f}"
    )
    internal = fit["internal"]
    lines.append(
        f"fit: {fit['folds']} fold models on {fit['learners_with_target']:,} learners' last "
        f"train courses (best iterations {fit['best_iterations']}); out-of-fold NDCG@10 there: "
        + ", ".join(f"{name} {v['ndcg@10']:.4f}" for name, v in internal.items())
    )
    return table, lines
