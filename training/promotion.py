"""Promotion of a registered version of one kind through its quality gate and the exposure rule.

The one path every pipeline promotes by (:meth:`training.pipeline.RankingPipeline.promote`,
``jenjang promote <kind>``): the kind's own quality-and-parity gate, then the attainable-exposure
rule (:func:`training.exposure.rule.exposure_rule`), then :func:`training.registry.promote`
moves the ``champion`` alias and logs the decision on the candidate's run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recommender.config import Settings
from training import registry, tracking
from training.exposure.rule import exposure_rule
from training.kinds import Kind

#: A kind's quality gate on logged test metrics: (new, champion or None) -> (ok, reasons).
QualityGate = Callable[[dict[str, float], dict[str, float] | None], tuple[bool, list[str]]]


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
    the exposure rule (``fairness_override``: a reason that lets a model failing only the
    exposure rule through, logged with the decision).

    Returns {"decision": promoted | refused | unchanged, "version", "champion_before",
    "reasons"}. Raises LookupError when the candidate does not exist.
    """
    check = registry.with_fairness(
        check=quality,
        fairness_check=exposure_rule(
            kind=kind, min_ratio=min_exposure_ratio, tolerance=exposure_tolerance
        ),
        override=fairness_override,
    )
    return registry.promote(settings, kind.model_name, candidate, check, kind.train_command)
