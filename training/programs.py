"""The programme-recommendation pipeline: frames -> LambdaRank -> baselines -> MLflow.

``train`` builds point-in-time frames for the global temporal split, corrects the train and
validation labels with the HR review decisions of the application database
(:mod:`training.decisions`), fits the ranker with early stopping on the validation year,
evaluates the model and every baseline on the test year, logs everything to MLflow and
registers the model as ``jenjang-programs@challenger``. ``promote``
moves ``champion`` through the quality-and-parity gate; ``evaluate`` re-scores a registered
version on the data given.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.programs.catalog import build_catalog
from recommender.programs.features import FEATURES
from recommender.programs.ranker import ProgramRanker
from training import decisions, distributed, plots, registry, tracking
from training.baselines import (
    ALL_BASELINES,
    COLLAB,
    YearState,
    choose_collab,
    score_baselines,
    year_state,
)
from training.configs import ProgramsConfig
from training.datasets import SPLITS, YearFrame, build_year, concat
from training.evaluate import best_baseline, evaluate_all, policy_figures, policy_flags
from training.exposure.figures import Report
from training.exposure.report import programs_report
from training.exposure.store import log as log_fairness
from training.fingerprint import data_fingerprint
from training.frames import query_groups, with_positives
from training.kinds import Kind
from training.metrics import program_families
from training.promotion import promote_kind

log = logging.getLogger(__name__)
KIND = Kind.PROGRAMS
MODEL_NAME = KIND.model_name
EXPERIMENT = KIND.experiment
__all__ = ["ProgramsConfig"]


Progress = Callable[[str], None]


def build_split_frames(
    tables: dict[str, pd.DataFrame], cfg: ProgramsConfig, progress: Progress
) -> dict[str, list[YearFrame]]:
    """Year frames of every split, reporting each year to ``progress``."""
    cat = build_catalog(tables)
    out: dict[str, list[YearFrame]] = {}
    for split, years in SPLITS.items():
        out[split] = []
        for year in years:
            progress(f"features {split} {year}")
            out[split].append(
                build_year(tables, cat, year, cfg.max_candidates, cfg.max_people_per_year, cfg.seed)
            )
    return out


def build_test_frames(
    *, tables: dict[str, pd.DataFrame], cfg: ProgramsConfig, progress: Progress
) -> list[YearFrame]:
    """Year frames of the test split only, reporting each year as ``features test <year>``."""
    cat = build_catalog(tables)
    frames = []
    for year in SPLITS["test"]:
        progress(f"features test {year}")
        frames.append(
            build_year(tables, cat, year, cfg.max_candidates, cfg.max_people_per_year, cfg.seed)
        )
    return frames


def fit_ranker(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    cfg: ProgramsConfig,
    features: Sequence[str] = FEATURES,
) -> ProgramRanker:
    """Fit LambdaRank on ``features`` (default: all of :data:`FEATURES`) with early stopping
    on validation NDCG@10."""
    train, valid = with_positives(train), with_positives(valid)
    ranker = ProgramRanker(
        n_estimators=cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        num_leaves=cfg.num_leaves,
        min_child_samples=cfg.min_child_samples,
        early_stopping_rounds=cfg.early_stopping_rounds,
        random_state=cfg.seed,
    )
    features = list(features)
    return ranker.fit(
        train[features],
        train["label"].to_numpy(),
        query_groups(train),
        valid[features],
        valid["label"].to_numpy(),
        query_groups(valid),
    )


@dataclass
class BaselineContext:
    """What the baselines need beyond the candidate frames: the :class:`YearState` of every
    scored year and the collaborative hyper-parameters chosen on the validation year."""

    states: dict[int, YearState]
    chosen: dict[str, dict[str, Any]]
    families: pd.Series


def baseline_context(
    *,
    tables: dict[str, pd.DataFrame],
    validation: list[YearFrame],
    scored: list[YearFrame],
    progress: Progress,
) -> BaselineContext:
    """Choose the EASE and RP3beta hyper-parameters on the validation year (only) and build
    the year states of the ``scored`` years. Raises ValueError unless the validation split is
    one year."""
    if len(validation) != 1:
        raise ValueError(f"the validation split must be one year, got {len(validation)}")
    cat = build_catalog(tables)
    valid = validation[0]
    progress(f"choosing EASE and RP3beta hyper-parameters on {valid.year}")
    state = year_state(tables=tables, cat=cat, year=valid.year)
    chosen = choose_collab(frame=concat(validation), relevant=valid.relevant, state=state)
    states = {f.year: year_state(tables=tables, cat=cat, year=f.year) for f in scored}
    return BaselineContext(states, chosen, program_families(programs=tables["programs"]))


def score_split(
    frames: list[YearFrame], ranker: ProgramRanker, n_boot: int, context: BaselineContext
) -> dict[str, dict[str, Any]]:
    """Model and every baseline (:data:`training.baselines.ALL_BASELINES`) on the same queries
    of a split; ``ease`` and ``rp3beta`` carry their chosen ``params``; the model also its
    ``policy`` figures (the served order's NDCG@10 beside the unconstrained one:
    :func:`training.evaluate.policy_figures`). The headline keys stay the unconstrained
    ranker's."""
    df = concat(frames)
    relevant = pd.concat([f.relevant for f in frames], ignore_index=True)
    offered = int(df.groupby("year")["program_id"].nunique().max())
    base = score_baselines(
        frame=df, relevant=relevant, states=context.states, chosen=context.chosen
    )
    scores = {"model": ranker.predict(df[ranker.feature_names_]), **base.same}
    results = evaluate_all(
        df, relevant, scores, offered, n_boot, outside=base.outside, families=context.families
    )
    for method in COLLAB:
        results[method]["params"] = dict(context.chosen[method]["params"])
    snaps = {year: (state.snap, state.cat) for year, state in context.states.items()}
    results["model"]["policy"] = policy_figures(
        frame=df,
        relevant=relevant,
        score=scores["model"],
        flagged=policy_flags(frame=df, snaps=snaps),
        n_boot=n_boot,
    )
    return {k: results[k] for k in ("model", *ALL_BASELINES) if k in results}


def train(
    settings: Settings,
    data: Path,
    cfg: ProgramsConfig,
    progress: Progress,
    dask: str | None = None,
) -> dict[str, Any]:
    """Run the whole pipeline; returns a summary with the run id, version and test results.

    ``dask``: ``None`` fits on this machine; ``"local"`` (a 2-process local cluster) or a
    scheduler address fits with ``lightgbm.dask`` (:mod:`training.distributed`); the cluster is
    reached before the features are built, so a wrong address fails fast with
    :class:`training.distributed.DaskConnectionError`. The model is logged and registered the
    same way either way, with the parameter ``trainer`` = ``single`` or ``dask``.
    """
    with contextlib.ExitStack() as stack:
        client = None
        if dask is not None:
            progress(f"connecting to Dask ({dask})")
            client = stack.enter_context(distributed.connect(dask))
        tables = load_clean(data)
        found = load_hr_decisions(settings, cfg, progress)
        frames = build_split_frames(tables, cfg, progress)
        frames, hr = apply_hr_decisions(frames, found, progress)
        ranker, trainer = _fit(frames, cfg, progress, client, dask)
    context = baseline_context(
        tables=tables, validation=frames["validation"], scored=frames["test"], progress=progress
    )
    progress("evaluating on the test year")
    results = score_split(frames["test"], ranker, cfg.n_boot, context)
    progress("exposure of career-advancing programmes by group")
    fair = fairness_report(tables, frames["test"], ranker, cfg)
    progress("logging to MLflow")
    registered = _log(settings, data, cfg, ranker, frames, results, hr, trainer, context)
    log_fairness(settings, registered.run_id, fair)
    return {
        "run_id": registered.run_id,
        "version": registered.version,
        "model": MODEL_NAME,
        "test": results,
        "fairness": fair.to_dict(),
        "best_iteration": ranker.best_iteration_,
        "decisions": hr,
        "trainer": trainer["trainer"],
        "dask": {k.removeprefix("dask_"): v for k, v in trainer.items() if k != "trainer"} or None,
    }


def _fit(
    frames: dict[str, list[YearFrame]],
    cfg: ProgramsConfig,
    progress: Progress,
    client: Any,
    dask: str | None,
) -> tuple[ProgramRanker, dict[str, Any]]:
    """Fit on this machine (``client`` None) or on the Dask cluster; returns the ranker and the
    trainer parameters logged with the run."""
    if client is None:
        progress("fitting LambdaRank")
        ranker = fit_ranker(concat(frames["train"]), concat(frames["validation"]), cfg)
        return ranker, {"trainer": "single"}
    n_workers = len(distributed.workers(client))
    progress(f"fitting LambdaRank on Dask ({n_workers} workers)")
    fit = distributed.fit_dask(concat(frames["train"]), concat(frames["validation"]), cfg, client)
    return fit.ranker, {
        "trainer": "dask",
        "dask_scheduler": dask,
        "dask_workers": n_workers,
        "dask_machines": fit.machines,
        "dask_partitions": fit.partitions,
        "dask_trees_fitted": fit.trees_fitted,
    }


def load_hr_decisions(
    settings: Settings, cfg: ProgramsConfig, progress: Progress
) -> pd.DataFrame | None:
    """The HR review decisions in ``settings.database_url`` (None when ``cfg.use_decisions`` is
    off). Read before the frames are built, so an unreachable database fails fast.

    Raises :class:`training.decisions.DecisionsError` when the database cannot be read.
    """
    if not cfg.use_decisions:
        progress("HR decisions: not used (use_decisions=False)")
        return None
    progress("reading HR decisions")
    return decisions.load_decisions(settings.database_url)


def apply_hr_decisions(
    frames: dict[str, list[YearFrame]], found: pd.DataFrame | None, progress: Progress
) -> tuple[dict[str, list[YearFrame]], dict[str, Any]]:
    """Correct the train and validation labels with the decisions (test labels stay the
    observed outcome; decisions after the last split year wait for the split to move forward).
    Returns the frames and the counts (:meth:`training.decisions.DecisionStats.as_dict` plus
    ``enabled`` and ``reviews``, the programme reviews read)."""
    if found is None:
        return frames, {"enabled": False}
    frames, stats = decisions.apply_to_splits(frames, found)
    last_year = max(y for years in SPLITS.values() for y in years)
    message = stats.describe(last_year)
    progress(message)
    if stats.after_split:
        log.warning(message)
    else:
        log.info(message)
    reviews = int(found.attrs.get("reviews", 0))
    return frames, {"enabled": True, "reviews": reviews, **stats.as_dict()}


def _log(
    settings: Settings,
    data: Path,
    cfg: ProgramsConfig,
    ranker: ProgramRanker,
    frames: dict[str, list[YearFrame]],
    results: dict[str, Any],
    hr: dict[str, Any] | None = None,
    trainer: dict[str, Any] | None = None,
    context: BaselineContext | None = None,
) -> tracking.Registered:
    params = {
        **cfg.model_dump(),
        **(trainer or {"trainer": "single"}),
        "data_fingerprint": data_fingerprint(directory=data),
        "splits": json.dumps(SPLITS),
        **{f"rows_{k}": int(sum(len(f.frame) for f in v)) for k, v in frames.items()},
    }
    if hr and hr.get("enabled"):
        counts = {k: v for k, v in hr.items() if k not in ("enabled", "reviews")}
        params["hr_reviews_read"] = hr.get("reviews", 0)
        params.update(decisions.DecisionStats(**counts).flat())
    for method, chosen in (context.chosen if context else {}).items():
        params.update({f"baseline_{method}_{k}": v for k, v in chosen["params"].items()})
    example = concat(frames["test"])[ranker.feature_names_].head(5).astype("float64")
    figures = plots.programs_figures(results, ranker, frames["test"])
    return registry.log_and_register(
        settings, EXPERIMENT, MODEL_NAME, ranker, params, results, figures, example
    )


def fairness_report(
    tables: dict[str, pd.DataFrame],
    frames: list[YearFrame],
    ranker: ProgramRanker,
    cfg: ProgramsConfig,
) -> Report:
    """Exposure of career-advancing programmes in the top 10 by group on the test-year frames
    (:mod:`training.fairness`). Raises ValueError when the frames hold no one to measure."""
    return programs_report(
        tables, concat(frames), ranker.predict, cfg.n_boot, cfg.seed, cfg.fairness_min_group
    )


def load_registered(settings: Settings, alias_or_version: str) -> tuple[ProgramRanker, Any]:
    """Load ``jenjang-programs`` at an alias or version; the booster hash is verified.

    Raises LookupError when no such alias or version exists.
    """
    return registry.load_booster(settings, MODEL_NAME, alias_or_version, KIND.train_command)


def evaluate(
    settings: Settings, data: Path, alias_or_version: str, cfg: ProgramsConfig, progress: Progress
) -> dict[str, Any]:
    """Re-score a registered model and the baselines on the test year of ``data``."""
    ranker, _mv = load_registered(settings, alias_or_version)
    tables = load_clean(data)
    frames = build_eval_frames(tables=tables, cfg=cfg, progress=progress)
    context = baseline_context(
        tables=tables, validation=frames["validation"], scored=frames["test"], progress=progress
    )
    return score_split(frames["test"], ranker, cfg.n_boot, context)


def build_eval_frames(
    *, tables: dict[str, pd.DataFrame], cfg: ProgramsConfig, progress: Progress
) -> dict[str, list[YearFrame]]:
    """Year frames of the validation split (to choose the baselines' hyper-parameters) and of
    the test split, reporting each year."""
    cat = build_catalog(tables)
    out: dict[str, list[YearFrame]] = {}
    for split in ("validation", "test"):
        out[split] = []
        for year in SPLITS[split]:
            progress(f"features {split} {year}")
            out[split].append(
                build_year(tables, cat, year, cfg.max_candidates, cfg.max_people_per_year, cfg.seed)
            )
    return out


def gate(
    new: dict[str, float], champion: dict[str, float] | None, cfg: ProgramsConfig
) -> tuple[bool, list[str]]:
    """Promotion gate on logged test metrics: beat the champion's NDCG@10 by the margin and
    keep every group's parity ratio at or above ``min_parity``. Returns (ok, reasons)."""
    return registry.gate(
        new, champion, "test.model.ndcg_at_10", "NDCG@10", cfg.promote_margin, cfg.min_parity
    )


def promote(
    settings: Settings,
    cfg: ProgramsConfig,
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


def headline(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The JSON printed by ``evaluate --json``: every ranker with its headline keys."""
    keys = (
        "ndcg@5",
        "ndcg@10",
        "recall@10",
        "map@10",
        "mrr",
        "coverage",
        "non_classical_jp_share",
        "priority_alignment",
    )
    out: dict[str, dict[str, Any]] = {}
    for name, figures in results.items():
        out[name] = {k: figures[k] for k in keys}
        out[name]["ndcg@10_ci"] = figures["ndcg@10_ci"]
        out[name]["ndcg@10_by_family"] = figures["ndcg@10_by_family"]
        out[name]["parity"] = {g: d["parity_ratio"] for g, d in figures["groups"].items()}
        if "params" in figures:
            out[name]["params"] = figures["params"]
        if "policy" in figures:
            out[name]["policy"] = figures["policy"]
    best = best_baseline(results)
    out["model"]["best_baseline"] = best
    out["model"]["lift_vs_best"] = results["model"][f"vs_{best}"]["lift"]
    out["model"]["diff_ci_vs_best"] = results["model"][f"vs_{best}"]["diff_ci"]
    out["model"]["lift_vs_popularity"] = results["model"]["vs_popularity"]["lift"]
    return out


class ProgramsPipeline:
    """The programme ranker as a :class:`training.pipeline.RankingPipeline` (the functions of
    this module behind the contract's keyword-only methods)."""

    kind = KIND
    model_name = MODEL_NAME
    headline_metric = "ndcg@10"

    def config(self, **overrides: Any) -> ProgramsConfig:
        """The defaults with ``overrides``; raises pydantic.ValidationError for a bad value."""
        return ProgramsConfig(**overrides)

    def config_from_run(self, *, params: dict[str, Any], rules: str | None) -> ProgramsConfig:
        """The config a run logged (only the keys given; defaults for the rest; ``rules`` is
        not a programmes setting). Raises pydantic.ValidationError for a bad value."""
        return ProgramsConfig.model_validate(params)

    def build_frames(
        self, *, tables: dict[str, pd.DataFrame], cfg: ProgramsConfig, progress: Progress
    ) -> dict[str, list[YearFrame]]:
        """Year frames of every split (:func:`build_split_frames`)."""
        return build_split_frames(tables, cfg, progress)

    def fit(
        self, *, train: pd.DataFrame, valid: pd.DataFrame, cfg: ProgramsConfig
    ) -> ProgramRanker:
        """LambdaRank with early stopping (:func:`fit_ranker`)."""
        return fit_ranker(train, valid, cfg)

    def baselines(self) -> tuple[str, ...]:
        """The baselines scored beside the model."""
        return ALL_BASELINES

    def fairness_from_data(
        self,
        *,
        tables: dict[str, pd.DataFrame],
        ranker: ProgramRanker,
        cfg: ProgramsConfig,
        progress: Progress,
    ) -> Report:
        """The exposure report on the test year of ``tables`` (frames built here)."""
        frames = build_test_frames(tables=tables, cfg=cfg, progress=progress)
        progress("exposure of career-advancing programmes by group")
        return fairness_report(tables, frames, ranker, cfg)

    def headline(self, *, results: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The JSON of ``evaluate programs --json`` (:func:`headline`)."""
        return headline(results)

    def gate(
        self, *, new: dict[str, float], champion: dict[str, float] | None, cfg: ProgramsConfig
    ) -> tuple[bool, list[str]]:
        """Quality and parity gate (:func:`gate`)."""
        return gate(new, champion, cfg)

    def train(
        self,
        *,
        settings: Settings,
        data: Path,
        cfg: ProgramsConfig,
        progress: Progress,
        **options: Any,
    ) -> dict[str, Any]:
        """The whole run (:func:`train`; ``options``: ``dask``)."""
        return train(settings, data, cfg, progress, **options)

    def evaluate(
        self,
        *,
        settings: Settings,
        data: Path,
        model: str,
        cfg: ProgramsConfig,
        progress: Progress,
    ) -> dict[str, Any]:
        """Re-score a registered version (:func:`evaluate`)."""
        return evaluate(settings, data, model, cfg, progress)

    def promote(
        self,
        *,
        settings: Settings,
        cfg: ProgramsConfig,
        candidate: str = tracking.CHALLENGER,
        fairness_override: str | None = None,
    ) -> dict[str, Any]:
        """Gate and promote (:func:`promote`)."""
        return promote(settings, cfg, candidate, fairness_override)
