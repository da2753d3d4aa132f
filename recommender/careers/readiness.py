"""Readiness for a position: job-person match (JPM), its category and the gaps.

JPM % = 100 x sum(weight x min(assessed level, required level)) / sum(weight x required level)
over the competencies of the position's standard that the person has been assessed on
(domain.md 1.6). Categories: *Memenuhi Syarat* (MS) >= 80, *Masih Memenuhi Syarat* (MMS)
68-79, *Kurang Memenuhi Syarat* (KMS) < 68. Competencies never assessed are listed as unknown,
not counted as zero; ``coverage`` says which share of the standard's weight was assessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MS, MMS, KMS = "Memenuhi Syarat", "Masih Memenuhi Syarat", "Kurang Memenuhi Syarat"
MS_CUT, MMS_CUT = 80.0, 68.0


@dataclass(frozen=True)
class Gap:
    """One competency below the standard: required and assessed level, weight."""

    competency_id: str
    required: int
    assessed: float
    weight: float

    @property
    def size(self) -> float:
        """Levels missing (required - assessed)."""
        return self.required - self.assessed


@dataclass(frozen=True)
class Readiness:
    """JPM % (None when nothing was assessed), category, gaps (largest weighted first),
    competencies not assessed, and the assessed share of the standard's weight (0-1)."""

    jpm: float | None
    category: str | None
    gaps: tuple[Gap, ...]
    unknown: tuple[str, ...]
    coverage: float


def category(jpm: float) -> str:
    """MS / MMS / KMS for a JPM percentage; raises ValueError outside 0-100."""
    if not 0 <= jpm <= 100:
        raise ValueError(f"JPM must be between 0 and 100, got {jpm}")
    return MS if jpm >= MS_CUT else MMS if jpm >= MMS_CUT else KMS


def readiness(
    required: np.ndarray, weight: np.ndarray, assessed: np.ndarray, competency_ids: list[str]
) -> Readiness:
    """Readiness of one person for one position.

    ``required`` (C,) required level, 0 where the standard has no requirement; ``weight`` (C,);
    ``assessed`` (C,) last assessed level, NaN if never assessed; ``competency_ids`` (C,).
    Raises ValueError when the shapes differ or the standard is empty.
    """
    if not (len(required) == len(weight) == len(assessed) == len(competency_ids)):
        raise ValueError("required, weight, assessed and competency_ids must have one length")
    std = np.flatnonzero(required > 0)
    if len(std) == 0:
        raise ValueError("the position has no competency standard")
    known = std[~np.isnan(assessed[std])]
    unknown = tuple(competency_ids[i] for i in std if np.isnan(assessed[i]))
    total = float((weight[std] * required[std]).sum())
    coverage = float((weight[known] * required[known]).sum() / total) if total else 0.0
    if len(known) == 0:
        return Readiness(None, None, (), unknown, 0.0)
    have = np.minimum(assessed[known], required[known])
    jpm = round(
        100.0 * float((weight[known] * have).sum() / (weight[known] * required[known]).sum()), 1
    )
    gaps = [
        Gap(competency_ids[i], int(required[i]), float(assessed[i]), float(weight[i]))
        for i in known
        if assessed[i] < required[i]
    ]
    gaps.sort(key=lambda g: (-g.size * g.weight, g.competency_id))
    return Readiness(jpm, category(jpm), tuple(gaps), unknown, round(coverage, 4))
