"""Readiness (job-person match) on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.careers.readiness import KMS, MMS, MS, category, readiness

IDS = ["MK01", "MK02", "TK001", "TK002"]
NAN = np.nan


def test_meets_the_standard_exactly() -> None:
    r = readiness(np.array([3, 3, 2, 0]), np.array([1, 1, 1.5, 1]), np.array([3, 4, 2, NAN]), IDS)
    assert r.jpm == 100.0 and r.category == MS and r.gaps == () and r.unknown == ()
    assert r.coverage == 1.0


def test_hand_computed_partial_match() -> None:
    # standard: MK01 3 (w1), MK02 3 (w1), TK001 4 (w2); assessed 2, 3, 2
    # JPM = (1*2 + 1*3 + 2*2) / (1*3 + 1*3 + 2*4) = 9 / 14 = 64.3 % -> KMS
    r = readiness(np.array([3, 3, 4, 0]), np.array([1, 1, 2, 1]), np.array([2, 3, 2, 5]), IDS)
    assert r.jpm == pytest.approx(64.3)
    assert r.category == KMS
    assert [g.competency_id for g in r.gaps] == ["TK001", "MK01"]  # 2 levels x w2 first
    assert r.gaps[0].size == 2


def test_unassessed_competencies_are_unknown_not_zero() -> None:
    # TK001 never assessed: JPM over MK01, MK02 only = (3 + 2) / (3 + 3) = 83.3 %
    r = readiness(np.array([3, 3, 4, 0]), np.array([1, 1, 2, 1]), np.array([3, 2, NAN, NAN]), IDS)
    assert r.jpm == pytest.approx(83.3) and r.category == MS
    assert r.unknown == ("TK001",)
    assert r.coverage == pytest.approx(6 / 14, abs=1e-4)


def test_nothing_assessed_gives_no_score() -> None:
    r = readiness(np.array([3, 3, 0, 0]), np.ones(4), np.full(4, NAN), IDS)
    assert r.jpm is None and r.category is None and r.unknown == ("MK01", "MK02")


@pytest.mark.parametrize(
    ("jpm", "expected"), [(80, MS), (79.9, MMS), (68, MMS), (67.9, KMS), (0, KMS), (100, MS)]
)
def test_categories(jpm: float, expected: str) -> None:
    assert category(jpm) == expected


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        category(101)
    with pytest.raises(ValueError, match="no competency standard"):
        readiness(np.zeros(4), np.ones(4), np.ones(4), IDS)
    with pytest.raises(ValueError, match="one length"):
        readiness(np.ones(3), np.ones(4), np.ones(4), IDS)
