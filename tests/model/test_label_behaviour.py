"""Grade 3 from the supervisor's behaviour-change rating (issue 16, part 3): reachable by every
modality, no second chance for tested ones, the post-test rule only for data without ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.datasets import BEHAVIOUR_POINTS, GAIN_POINTS, worked, year_labels

YEAR = 2023
MODALITY = {"C": "coaching", "S": "detasering", "K": "komunitas_belajar", "T": "teknis"}


def _tables(scores: list[float | None]) -> dict[str, pd.DataFrame]:
    """Five completed enrolments of 2023: coaching, secondment, community of practice rated,
    and two classroom courses with a large test gain (one rated low, one not rated)."""
    enr = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c", "d", "e"],
            "program_id": ["C", "S", "K", "T", "T"],
            "start_date": pd.to_datetime([f"{YEAR}-0{m}-01" for m in range(1, 6)]),
            "status": ["completed"] * 5,
            "pre_test": [np.nan, np.nan, np.nan, 40.0, 40.0],
            "post_test": [np.nan, np.nan, np.nan, 40 + GAIN_POINTS + 5, 40 + GAIN_POINTS + 5],
            "behaviour_change_score": scores,
        }
    )
    programs = pd.DataFrame({"program_id": list(MODALITY), "modality": list(MODALITY.values())})
    return {"enrollments": enr, "programs": programs}


def _grades(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    out = year_labels(tables, YEAR)
    return dict(zip(out["employee_id"], out["label"].astype(int), strict=True))


def test_non_classical_modalities_reach_grade_3() -> None:
    got = _grades(_tables([BEHAVIOUR_POINTS, 4.6, BEHAVIOUR_POINTS - 0.2, 3.0, None]))
    # coaching and secondment rated at or above the threshold -> 3; community just below -> 2;
    # the classroom course with a big test gain but a low rating -> 2, and without a rating
    # -> 2 too (the post-test does not stand in for a missing rating)
    assert got == {"a": 3, "b": 3, "c": 2, "d": 2, "e": 2}


def test_without_ratings_the_post_test_rule_applies() -> None:
    for column in ([None] * 5, "absent"):
        tables = _tables([None] * 5)
        if column == "absent":
            tables["enrollments"] = tables["enrollments"].drop(columns="behaviour_change_score")
        # only the tested classroom courses can reach 3 in the fallback
        assert _grades(tables) == {"a": 2, "b": 2, "c": 2, "d": 3, "e": 3}


def test_a_rating_that_is_not_a_number_is_refused() -> None:
    enr = _tables([4.0, "very good", None, None, None])["enrollments"]
    with pytest.raises(ValueError, match=r"enrollments\.behaviour_change_score"):
        worked(enr)
