"""The next-position pipeline: frames -> LambdaRank -> baselines -> MLflow ``jenjang-careers``.

``train`` builds point-in-time frames for the global temporal split (train 2020-2023,
validation 2024, test 2025), fits LambdaRank with early stopping on validation NDCG@5, scores
the model and the baselines ``markov`` (most frequent transition from the current position,
ties by recent popularity) and ``similarity`` (cosine between the person's competency profile
and the target's standard) on the same full candidate lists of the test year, logs everything to
MLflow and registers ``jenjang-careers@challenger``. ``promote`` moves ``champion`` through the
gate (MRR over the champion, parity by sex and region); ``evaluate`` re-scores a registered
version.

Why ranking rather than classification: each query has exactly one right answer among ~370
positions and what matters is its rank; LambdaRank optimises the order within a query directly.
On the 2024 validation year it gave MRR 0.63 against 0.57-0.60 for a binary LightGBM classifier
with the same features (docs/careers-model.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from recommender.careers.features import FEATURES, build_context
from recommender.careers.rules import load_rules
from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.programs.catalog import build_catalog
from recommender.programs.ranker import ProgramRanker
from recommender.snapshot import build_snapshot
from training import careers_eval, plots, registry, tracking
from training.careers_data import (
    CareerYear,
    build_year,
    by_move_type,
    concat,
    evaluate_all,
    policy_figures,
    policy_flags,
    target_ranks,
)
from training.configs import CareersConfig
from training.datasets import SPLITS
from training.exposure.figures import Report
from training.exposure.report import careers_report
from training.exposure.store import log as log_fairness
from training.fingerprint import data_fingerprint
from training.frames import query_groups
from training.kinds import Kind
from training.promotion import promote_kind

KIND = Kind.CAREERS
MODEL_NAME = KIND.model_name
EXPERIMENT = KIND.experiment
__all__ = ["CareersConfig"]
#: baselines read from a column of the candidates; ``rules`` is computed
#: (:func:`training.careers_eval.rules_score`)
BASELINE_COLUMNS = {"markov": "markov", "similarity": "similarity_score"}
BASELINES = (*BASELINE_COLUMNS, "rules")
HEADLINE = ("hit@1", "hit@5", "mrr", "ndcg@5")
Progress = Callable[[str], None]


def build_split_frames(
    tables: dict[str, pd.DataFrame], cfg: CareersConfig, progress: Progress
) -> dict[str, list[CareerYear]]:
    """Year frames of every split, reporting each year to ``progress``."""
    cat, rules = build_catalog(tables), load_rules(cfg.rules)
    out: dict[str, list[CareerYear]] = {}
    for split, years in SPLITS.items():
        out[split] = []
        for year in years:
            progress(f"features {split} {year}")
            out[split].append(
                build_year(tables, cat, rules, year, cfg.max_queries_per_year, cfg.seed)
            )
    return out


def fit_ranker(train: pd.DataFrame, valid: pd.DataFrame, cfg: CareersConfig) -> ProgramRanker:
    """Fit LambdaRank (one relevant position per query) with early stopping on NDCG@5."""
    ranker = ProgramRanker(
        n_estimators=cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        num_leaves=cfg.num_leaves,
        min_child_samples=cfg.min_child_samples,
        early_stopping_rounds=cfg.early_stopping_rounds,
        eval_at=5,
        random_state=cfg.seed,
    )
    f = list(FEATURES)
    return ranker.fit(
        train[f],
        train["label"].to_numpy(),
        query_groups(train),
        valid[f],
        valid["label"].to_numpy(),
        query_groups(valid),
    )


def scores_for(df: pd.DataFrame, ranker: ProgramRanker) -> dict[str, np.ndarray]:
    """Model and baseline scores on the same candidates (model first)."""
    out = {"model": ranker.predict(df[list(FEATURES)])}
    out.update({name: df[col].to_numpy(float) for name, col in BASELINE_COLUMNS.items()})
    out["rules"] = careers_eval.rules_score(frame=df)
    return out


def score_split(
    years: list[CareerYear], ranker: ProgramRanker, n_boot: int
) -> dict[str, dict[str, Any]]:
    """Model and baselines on a split; the model also gets MRR / Hit@5 by move type and its
    ``policy`` figures (the served order beside the unconstrained one:
    :func:`training.careers_data.policy_figures`; the headline keys stay unconstrained)."""
    flagged = [y.frame.assign(policy_flag=policy_flags(year=y)) for y in years]
    df = concat([CareerYear(y.year, f, y.context) for y, f in zip(years, flagged, strict=True)])
    scores = scores_for(df, ranker)
    results = evaluate_all(df, scores, n_boot)
    for name, score in scores.items():
        results[name]["by_move_type"] = by_move_type(df, score)
    results["model"]["policy"] = policy_figures(
        frame=df, score=scores["model"], flagged=df["policy_flag"].to_numpy(bool), n_boot=n_boot
    )
    return results


def train(settings: Settings, data: Path, cfg: CareersConfig, progress: Progress) -> dict[str, Any]:
    """Run the whole pipeline; returns the run id, version and test results.

    Raises RulesError for a broken rules file and FileNotFoundError for missing clean tables.
    """
    tables = load_clean(data)
    frames = build_split_frames(tables, cfg, progress)
    progress("fitting LambdaRank")
    ranker = fit_ranker(concat(frames["train"]), concat(frames["validation"]), cfg)
    progress("evaluating on the test year")
    results = score_split(frames["test"], ranker, cfg.n_boot)
    everyone = everyone_figures(
        tables=tables,
        fit_context=frames["validation"][-1].context,
        years=frames["test"],
        ranker=ranker,
        cfg=cfg,
        progress=progress,
    )
    progress("exposure of career-advancing positions by group")
    fair = fairness_report({y.year: y.context for y in frames["test"]}, ranker, cfg)
    progress("logging to MLflow")
    registered = _log(settings, data, cfg, ranker, frames, results)
    log_fairness(settings, registered.run_id, fair)
    log_everyone(settings=settings, run_id=registered.run_id, everyone=everyone)
    return {
        "run_id": registered.run_id,
        "version": registered.version,
        "model": MODEL_NAME,
        "test": results,
        "everyone": everyone.figures,
        "fairness": fair.to_dict(),
        "best_iteration": ranker.best_iteration_,
    }


def everyone_figures(
    *,
    tables: dict[str, pd.DataFrame],
    fit_context: Any,
    years: list[CareerYear],
    ranker: ProgramRanker,
    cfg: CareersConfig,
    progress: Progress,
    max_people: int | None = None,
) -> careers_eval.Everyone:
    """The evaluation over everyone active (:mod:`training.careers_eval`): who moves up in the
    last year of ``years`` (move scores fitted on everyone of ``fit_context``), verdict validity,
    and the movers' figures by move type on ``years`` with paired intervals."""
    found = careers_eval.evaluate_everyone(
        tables=tables,
        fit_context=fit_context,
        test_context=years[-1].context,
        scorer=ranker.predict,
        n_boot=cfg.n_boot,
        seed=cfg.seed,
        max_people=max_people,
        progress=progress,
    )
    test = concat(years)
    found.figures["by_move_type"] = careers_eval.by_move_type(
        frame=test, scores=scores_for(test, ranker), n_boot=cfg.n_boot
    )
    return found


def log_everyone(*, settings: Settings, run_id: str, everyone: careers_eval.Everyone) -> None:
    """Log the evaluation over everyone on the (finished) run: ``everyone.*`` metrics,
    ``evaluation/everyone.json`` and ``plots/move_calibration.png``. Raises MlflowException
    when the store cannot be written."""
    tracking.log_metrics_batch(
        settings=settings,
        run_id=run_id,
        metrics=careers_eval.flat_figures(figures=everyone.figures),
    )
    client = tracking.client(settings)
    client.log_dict(run_id, everyone.figures, "evaluation/everyone.json")
    fig = careers_eval.calibration_figure(curves=everyone.curves)
    client.log_figure(run_id, fig, "plots/move_calibration.png")


def _log(
    settings: Settings,
    data: Path,
    cfg: CareersConfig,
    ranker: ProgramRanker,
    frames: dict[str, list[CareerYear]],
    results: dict[str, Any],
) -> tracking.Registered:
    rules_version = frames["test"][0].context.rules.version
    test = concat(frames["test"])
    ranks = {
        n: target_ranks(test, s)["rank"].to_numpy() for n, s in scores_for(test, ranker).items()
    }
    params = {
        **cfg.model_dump(),
        "data_fingerprint": data_fingerprint(directory=data),
        "splits": json.dumps(SPLITS),
        "rules_version": rules_version,
        **{
            f"queries_{k}": int(sum(y.frame["employee_id"].nunique() for y in v))
            for k, v in frames.items()
        },
    }
    figures = {
        "mrr_by_group": plots.groups_figure(results, "mrr"),
        "feature_importance": plots.importance_figure(ranker),
        "hit_vs_k": plots.hit_vs_k_figure(ranks),
    }
    example = test[list(FEATURES)].head(5).astype("float64")
    return registry.log_and_register(
        settings,
        EXPERIMENT,
        MODEL_NAME,
        ranker,
        params,
        results,
        figures,
        example,
        {"rules_version": rules_version},
    )


def fairness_report(contexts: dict[int, Any], ranker: ProgramRanker, cfg: CareersConfig) -> Report:
    """Exposure of career-advancing positions in the top 10 by group for the people active on
    1 January of each test year (``contexts``: year -> CareerContext; :mod:`training.fairness`).
    Raises ValueError when no one is left to measure."""
    return careers_report(
        contexts,
        ranker.predict,
        cfg.n_boot,
        cfg.seed,
        cfg.fairness_min_group,
        cfg.fairness_max_people,
    )


def year_contexts(tables: dict[str, pd.DataFrame], cfg: CareersConfig) -> dict[int, Any]:
    """The CareerContext of 1 January of each test year (for :func:`fairness_report`).
    Raises RulesError for a broken rules file."""
    cat, rules = build_catalog(tables), load_rules(cfg.rules)
    return {
        year: build_context(tables, build_snapshot(tables, f"{year}-01-01"), cat, rules)
        for year in SPLITS["test"]
    }


def load_registered(settings: Settings, alias_or_version: str) -> tuple[ProgramRanker, Any]:
    """Load ``jenjang-careers`` at an alias or version (hash verified); raises LookupError."""
    return registry.load_booster(settings, MODEL_NAME, alias_or_version, KIND.train_command)


def evaluate(
    settings: Settings, data: Path, alias_or_version: str, cfg: CareersConfig, progress: Progress
) -> dict[str, Any]:
    """Re-score a registered model and the baselines on the test year of ``data``; the
    evaluation over everyone active under ``everyone`` (:func:`everyone_figures`, fitted on
    the validation year)."""
    ranker, _mv = load_registered(settings, alias_or_version)
    tables = load_clean(data)
    years = build_test_years(tables=tables, cfg=cfg, progress=progress)
    results: dict[str, Any] = score_split(years, ranker, cfg.n_boot)
    year = SPLITS["validation"][-1]
    progress(f"career context {year}")
    fit_context = build_context(
        tables,
        build_snapshot(tables, f"{year}-01-01"),
        build_catalog(tables),
        load_rules(cfg.rules),
    )
    everyone = everyone_figures(
        tables=tables,
        fit_context=fit_context,
        years=years,
        ranker=ranker,
        cfg=cfg,
        progress=progress,
    )
    results["everyone"] = everyone.figures
    return results


def build_test_years(
    *, tables: dict[str, pd.DataFrame], cfg: CareersConfig, progress: Progress
) -> list[CareerYear]:
    """Year frames of the test split only, reporting each year as ``features test <year>``.
    Raises RulesError for a broken rules file."""
    cat, rules = build_catalog(tables), load_rules(cfg.rules)
    years = []
    for year in SPLITS["test"]:
        progress(f"features test {year}")
        years.append(build_year(tables, cat, rules, year, cfg.max_queries_per_year, cfg.seed))
    return years


def gate(
    new: dict[str, float], champion: dict[str, float] | None, cfg: CareersConfig
) -> tuple[bool, list[str]]:
    """Beat the champion's test MRR by the margin; parity (MRR) by sex and region at least
    ``min_parity``; grade parity is reported, not gated (grade groups differ by the kind of
    move they make, see docs/careers-model.md)."""
    return registry.gate(
        new,
        champion,
        "test.model.mrr",
        "MRR",
        cfg.promote_margin,
        cfg.min_parity,
        cfg.parity_groups,
    )


def promote(
    settings: Settings,
    cfg: CareersConfig,
    candidate: str = tracking.CHALLENGER,
    fairness_override: str | None = None,
) -> dict[str, Any]:
    """Move ``champion`` to the candidate if it passes :func:`gate` and the exposure rule
    (:func:`training.promotion.promote_kind`); the decision is logged."""
    return promote_kind(
        settings=settings,
        kind=KIND,
        quality=lambda new, old: gate(new, old, cfg),
        min_exposure_ratio=cfg.min_exposure_ratio,
        exposure_tolerance=cfg.exposure_tolerance,
        candidate=candidate,
        fairness_override=fairness_override,
    )


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The JSON printed by ``evaluate careers --json``: every ranker with its headline keys,
    intervals and parity; the model also with its lifts over each baseline; with the evaluation
    over everyone (``results["everyone"]``), its figures at the top level (``move_auc``,
    ``verdict_recall_12m``, ``by_move_type``, ...: :mod:`training.careers_eval`)."""
    out: dict[str, Any] = {}
    rankers = {k: v for k, v in results.items() if k != "everyone"}
    for name, figures in rankers.items():
        out[name] = {k: figures[k] for k in HEADLINE}
        out[name]["mrr_ci"] = figures["mrr_ci"]
        out[name]["hit@5_ci"] = figures["hit@5_ci"]
        out[name]["queries"] = figures["queries"]
        out[name]["parity"] = {g: d["parity_ratio"] for g, d in figures["groups"].items()}
        if "policy" in figures:
            out[name]["policy"] = figures["policy"]
    for base in BASELINES:
        vs = results["model"][f"vs_{base}"]
        out["model"][f"vs_{base}"] = {
            m: {"lift": vs[m]["lift"], "diff_ci": vs[m]["diff_ci"]} for m in ("mrr", "hit@5")
        }
    out.update(results.get("everyone", {}))
    return out


class CareersPipeline:
    """The next-position ranker as a :class:`training.pipeline.RankingPipeline` (the functions
    of this module behind the contract's keyword-only methods)."""

    kind = KIND
    model_name = MODEL_NAME
    headline_metric = "mrr"

    def config(self, **overrides: Any) -> CareersConfig:
        """The defaults with ``overrides``; raises pydantic.ValidationError for a bad value."""
        return CareersConfig(**overrides)

    def config_from_run(self, *, params: dict[str, Any], rules: str | None) -> CareersConfig:
        """The config a run logged (the keys given, defaults for the rest) with the career
        rules file ``rules`` (None = packaged). Raises pydantic.ValidationError."""
        return CareersConfig.model_validate({**params, "rules": rules})

    def build_frames(
        self, *, tables: dict[str, pd.DataFrame], cfg: CareersConfig, progress: Progress
    ) -> dict[str, list[CareerYear]]:
        """Year frames of every split (:func:`build_split_frames`)."""
        return build_split_frames(tables, cfg, progress)

    def fit(self, *, train: pd.DataFrame, valid: pd.DataFrame, cfg: CareersConfig) -> ProgramRanker:
        """LambdaRank with early stopping on NDCG@5 (:func:`fit_ranker`)."""
        return fit_ranker(train, valid, cfg)

    def baselines(self) -> tuple[str, ...]:
        """The baselines scored beside the model."""
        return tuple(BASELINES)

    def fairness_from_data(
        self,
        *,
        tables: dict[str, pd.DataFrame],
        ranker: ProgramRanker,
        cfg: CareersConfig,
        progress: Progress,
    ) -> Report:
        """The exposure report over the people of 1 January of each test year."""
        progress("career contexts of the test year")
        contexts = year_contexts(tables, cfg)
        progress("exposure of career-advancing positions by group")
        return fairness_report(contexts, ranker, cfg)

    def headline(self, *, results: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The JSON of ``evaluate careers --json`` (:func:`headline`; its top-level figures of
        the evaluation over everyone are numbers, not dicts, whatever the contract says)."""
        return cast(dict[str, dict[str, Any]], headline(results))

    def gate(
        self, *, new: dict[str, float], champion: dict[str, float] | None, cfg: CareersConfig
    ) -> tuple[bool, list[str]]:
        """Quality and parity gate (:func:`gate`)."""
        return gate(new, champion, cfg)

    def train(
        self,
        *,
        settings: Settings,
        data: Path,
        cfg: CareersConfig,
        progress: Progress,
        **options: Any,
    ) -> dict[str, Any]:
        """The whole run (:func:`train`; no options)."""
        return train(settings, data, cfg, progress, **options)

    def evaluate(
        self,
        *,
        settings: Settings,
        data: Path,
        model: str,
        cfg: CareersConfig,
        progress: Progress,
    ) -> dict[str, Any]:
        """Re-score a registered version (:func:`evaluate`)."""
        return evaluate(settings, data, model, cfg, progress)

    def promote(
        self,
        *,
        settings: Settings,
        cfg: CareersConfig,
        candidate: str = tracking.CHALLENGER,
        fairness_override: str | None = None,
    ) -> dict[str, Any]:
        """Gate and promote (:func:`promote`)."""
        return promote(settings, cfg, candidate, fairness_override)
