"""Promotion of a registered version of one kind through its quality gate and the exposure rule.

The one path every pipeline promotes by (:meth:`training.pipeline.RankingPipeline.promote`,
``jenjang promote <kind>``): the kind's own quality-and-parity gate, then the exposure rule
(:func:`training.exposure.rule.exposure_rule`), then :func:`training.registry.promote` moves the
``champion`` alias and logs the decision on the candidate's run. The decision also names the
failed checks (``failed``), which ``jenjang promote`` prints before exiting
:data:`training.cli.models.REFUSED_EXIT`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from recommender.config import Settings
from training import registry, tracking
from training.exposure.rule import exposure_rule, is_failure
from training.kinds import Kind

#: A kind's quality gate on logged test metrics: (new, champion or None) -> (ok, reasons).
QualityGate = Callable[[dict[str, float], dict[str, float] | None], tuple[bool, list[str]]]

#: How the quality-and-parity gate (:func:`training.registry.gate`) words a failed check.
_QUALITY_FAILURE = re.compile(r"^parity by \S+ is .* < |does not beat the champion")


def failed_checks(
    *, quality: tuple[bool, list[str]], exposure: tuple[bool, list[str]]
) -> list[str]:
    """The failed checks among the reasons of the quality gate and of the exposure rule: the
    quality reasons worded as failures (all of them if it failed without one) and the exposure
    rule's ``failed:`` reasons (all of them if it failed without one). Raises nothing."""
    q_ok, q_reasons = quality
    e_ok, e_reasons = exposure
    out = [r for r in q_reasons if _QUALITY_FAILURE.search(r)]
    if not q_ok and not out:
        out = list(q_reasons)
    fair = [r for r in e_reasons if is_failure(r)]
    if not e_ok and not fair:
        fair = list(e_reasons)
    return out + fair


def promote_kind(
    *,
    settings: Settings,
    kind: Kind,
    quality: QualityGate,
    min_exposure_ratio: float,
    exposure_tolerance: float,
    candidate: str = tracking.CHALLENGER,
    fairness_override: str | None = None,
) -> dict[str, Any]:
    """Move ``<kind>@champion`` to ``candidate`` (alias or version) if it passes ``quality`` and
    the exposure rule (``fairness_override``: a documented reason that lets a model failing only
    the exposure rule through, logged with the decision).

    Returns {"decision": promoted | refused | unchanged, "version", "champion_before",
    "reasons", "failed"}: ``failed`` the failed checks (:func:`failed_checks`; on a promotion
    by override, the overridden exposure failures). Raises LookupError when the candidate does
    not exist.
    """
    seen: dict[str, tuple[bool, list[str]]] = {}
    rule = exposure_rule(kind=kind, min_ratio=min_exposure_ratio, tolerance=exposure_tolerance)

    def watched_quality(
        new: dict[str, float], old: dict[str, float] | None
    ) -> tuple[bool, list[str]]:
        seen["quality"] = quality(new, old)
        return seen["quality"]

    def watched_rule(new: dict[str, float], old: dict[str, float] | None) -> tuple[bool, list[str]]:
        seen["exposure"] = rule(new, old)
        return seen["exposure"]

    check = registry.with_fairness(
        check=watched_quality, fairness_check=watched_rule, override=fairness_override
    )
    decision = registry.promote(settings, kind.model_name, candidate, check, kind.train_command)
    if "quality" in seen and "exposure" in seen:
        decision["failed"] = failed_checks(quality=seen["quality"], exposure=seen["exposure"])
    else:
        decision["failed"] = []
    return decision
