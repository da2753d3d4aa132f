"""What advances (recommender/programs/advancing.py) and the positions' served order
(recommender/careers/policy.py), on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.careers.policy import attainable_advancing, served_scores
from recommender.careers.rules import load_rules
from recommender.programs.advancing import advancing_programmes


def test_a_programme_advances_when_it_lifts_a_level_below_the_next_standard() -> None:
    seen = np.array([[2.0, 3.0], [4.0, 4.0]], dtype=np.float32)
    nxt = np.array([[3.0, 3.0], [4.0, 4.0]], dtype=np.float32)
    target = np.array([[3.0, 0.0], [0.0, 4.0], [2.0, 0.0]], dtype=np.float32)
    person = np.array([0, 0, 0, 1, 1, 1])
    programme = np.array([0, 1, 2, 0, 1, 2])
    out = advancing_programmes(
        seen=seen, nxt=nxt, target=target, person=person, programme=programme
    )
    # person 0 is below the next standard on competency 0 only: programme 0 lifts it; programme
    # 1 lifts competency 1 (no gap there); programme 2 stays at the level. Person 1 has no gap.
    assert out.tolist() == [True, False, False, False, False, False]


def test_advancing_programmes_rejects_rows_outside() -> None:
    seen = nxt = np.zeros((1, 2), dtype=np.float32)
    with pytest.raises(IndexError):
        advancing_programmes(
            seen=seen,
            nxt=nxt,
            target=np.zeros((1, 2)),
            person=np.array([1]),
            programme=np.array([0]),
        )


def test_served_scores_scale_the_guarantee_for_a_short_answer() -> None:
    score = np.arange(10, 0, -1, dtype=float)
    flagged = np.zeros(10, dtype=bool)
    flagged[[7, 8, 9]] = True
    group = np.zeros(10, dtype=int)
    five = np.argsort(-served_scores(group=group, score=score, flagged=flagged, k=5), kind="stable")
    ten = np.argsort(-served_scores(group=group, score=score, flagged=flagged, k=10), kind="stable")
    assert five[:5].tolist() == [0, 1, 7, 2, 8]  # 2 of 5 (policy_cut), by ranks 3 and 5
    assert ten[:10].tolist() == [0, 1, 7, 2, 3, 8, 4, 5, 9, 6]  # spread: ranks 3, 6 and 9


def test_attainable_advancing_of_an_empty_frame() -> None:
    out = attainable_advancing(rules=load_rules(), frame=pd.DataFrame(), at="2025-01-01")
    assert out.dtype == bool and len(out) == 0
