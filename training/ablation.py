"""Feature-group ablation of the programme ranker (``jenjang evaluate programs --ablation``).

The groups are defined once, here (:data:`FEATURE_GROUPS`), over
:data:`recommender.programs.features.FEATURES`: every feature is in exactly one group
(:func:`check_groups`). The ablation builds the frames of every split from the data, fits the
full model and one model without each group (same configuration, same frames, labels as
observed: HR review decisions are not applied), and reports for each group the change of
NDCG@10 on the test year against the full refit, with the paired bootstrap interval of the
difference (queries resampled together, :func:`training.evaluate.compare`). A negative change
means the group helps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from recommender.programs.features import FEATURES
from training import programs, tracking
from training.configs import ProgramsConfig
from training.datasets import YearFrame, concat
from training.evaluate import compare
from training.metrics import query_metrics

#: Feature groups of the ablation (every feature of FEATURES exactly once).
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "gaps": (
        "gap_coverage",
        "target_gap_coverage",
        "gap_rule",
        "level_delta",
        "assessed_cover",
        "position_overlap",
        "target_level",
        "n_competencies",
    ),
    "priorities": ("priority_alignment",),
    "popularity": (
        "pop_global",
        "pop_position",
        "pop_unit",
        "pop_unit_recent",
        "pop_tier",
        "years_offered",
    ),
    "history": (
        "n_enrolments",
        "completion_rate",
        "self_paced_completion",
        "n_self_paced",
        "jp_last_year",
    ),
    "modality": (
        "modality_code",
        "classical",
        "self_paced",
        "modality_habit",
        "jp",
        "duration_days",
    ),
    "cost_accreditation": ("log_cost", "accredited"),
    "collaborative": ("item_knn", "ease_score"),
    "person": (
        "age",
        "education_rank",
        "grade_rank",
        "tier_level",
        "years_in_position",
        "years_of_service",
        "last_rating",
        "talent_box",
        "java",
    ),
}
ARTIFACT = "evaluation/ablation.json"

Progress = Callable[[str], None]


def check_groups(
    *, groups: dict[str, tuple[str, ...]] = FEATURE_GROUPS, features: tuple[str, ...] = FEATURES
) -> None:
    """Raise ValueError naming the features that are in no group, in two groups, or in a
    group but not in ``features``."""
    seen: dict[str, str] = {}
    twice = []
    for group, names in groups.items():
        for name in names:
            if name in seen:
                twice.append(f"{name} ({seen[name]}, {group})")
            seen[name] = group
    missing = [f for f in features if f not in seen]
    unknown = [f for f in seen if f not in features]
    problems = []
    if missing:
        problems.append(f"in no group: {', '.join(missing)}")
    if twice:
        problems.append(f"in two groups: {', '.join(twice)}")
    if unknown:
        problems.append(f"not a feature: {', '.join(unknown)}")
    if problems:
        raise ValueError("ablation feature groups: " + "; ".join(problems))


def _test_queries(ranker: Any, test: list[YearFrame]) -> pd.DataFrame:
    df = concat(test)
    relevant = pd.concat([f.relevant for f in test], ignore_index=True)
    return query_metrics(df, relevant, ranker.predict(df[ranker.feature_names_]), ks=(10,))


def ablate(
    *,
    frames: dict[str, list[YearFrame]],
    cfg: ProgramsConfig,
    progress: Progress,
    groups: dict[str, tuple[str, ...]] = FEATURE_GROUPS,
) -> dict[str, Any]:
    """Fit the full model and one without each group on ``frames`` (``train``, ``validation``,
    ``test`` year frames). Returns ``{"full": {"ndcg@10": x, "ndcg@10_ci": [lo, hi]},
    "groups": {group: {"features": [...], "ndcg@10": x, "change": d, "change_ci": [lo, hi],
    "relative": r}}}`` (change = without the group - full, on the test year). Raises
    ValueError when the groups do not cover the features exactly once."""
    check_groups(groups=groups)
    train, valid = concat(frames["train"]), concat(frames["validation"])
    progress("ablation: fitting the full model")
    full = programs.fit_ranker(train, valid, cfg)
    full_q = _test_queries(full, frames["test"])
    from training.metrics import bootstrap_ci

    out: dict[str, Any] = {
        "full": {
            "ndcg@10": float(full_q["ndcg@10"].mean()),
            "ndcg@10_ci": list(bootstrap_ci(full_q["ndcg@10"].to_numpy(), cfg.n_boot)),
            "best_iteration": full.best_iteration_,
        },
        "groups": {},
    }
    for group, names in groups.items():
        progress(f"ablation: fitting without {group}")
        kept = [f for f in FEATURES if f not in names]
        ranker = programs.fit_ranker(train, valid, cfg, features=kept)
        q = _test_queries(ranker, frames["test"])
        cmp = compare(q, full_q, cfg.n_boot)
        out["groups"][group] = {
            "features": list(names),
            "ndcg@10": float(q["ndcg@10"].mean()),
            "change": cmp["diff"],
            "change_ci": cmp["diff_ci"],
            "relative": cmp["lift"],
        }
    return out


def metrics(result: dict[str, Any]) -> dict[str, float]:
    """The ablation as flat MLflow metrics: ``ablation.full.ndcg_at_10`` and, per group,
    ``ablation.<group>.ndcg_at_10``, ``.change``, ``.change_ci_low``, ``.change_ci_high``."""
    out = {tracking.metric_key("ablation", "full", "ndcg@10"): result["full"]["ndcg@10"]}
    for group, row in result["groups"].items():
        out[tracking.metric_key("ablation", group, "ndcg@10")] = row["ndcg@10"]
        out[tracking.metric_key("ablation", group, "change")] = row["change"]
        out[tracking.metric_key("ablation", group, "change_ci_low")] = row["change_ci"][0]
        out[tracking.metric_key("ablation", group, "change_ci_high")] = row["change_ci"][1]
    return out


def run(
    *,
    settings: Any,
    data: Any,
    model: str,
    cfg: ProgramsConfig,
    progress: Progress,
) -> dict[str, Any]:
    """The ablation on the clean tables in ``data``, logged (metrics and ``ARTIFACT``) on the
    run of the registered ``jenjang-programs`` version ``model`` (alias or number). Returns
    :func:`ablate`'s result with ``run_id``. Raises LookupError when no such version exists
    (checked before the frames are built)."""
    from recommender.data.io import load_clean
    from training import registry

    mv = registry.model_version(settings, programs.MODEL_NAME, model, programs.KIND.train_command)
    tables = load_clean(data)
    frames = programs.build_split_frames(tables, cfg, progress)
    result = ablate(frames=frames, cfg=cfg, progress=progress)
    run_id = str(mv.run_id)
    progress("logging the ablation to MLflow")
    tracking.log_metrics_batch(settings=settings, run_id=run_id, metrics=metrics(result))
    tracking.client(settings).log_dict(run_id, result, ARTIFACT)
    return {**result, "run_id": run_id, "version": str(mv.version)}
