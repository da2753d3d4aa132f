"""Issue 16 baselines: the behaviour formula term by term, EASE/RP3beta as collab gives them,
popularity over the whole eligible catalogue, and the evaluation of rankers on their own frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from recommender.programs import collab
from training import baselines
from training.evaluate import evaluate_all
from training.synthetic.choices import UTILITY


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2020, 2020, 2025, 2025],
            "employee_id": ["a", "a", "b", "b"],
            "program_id": ["p0", "p1", "p0", "p2"],
            "gap_coverage": [2.0, 0.0, 1.0, np.nan],
            "target_gap_coverage": [1.0, 4.0, 0.0, 2.0],
            "priority_alignment": [0.5, 0.1, 0.0, 0.3],
            "pop_global": [np.log1p(10), np.log1p(3), 0.0, np.log1p(1)],
            "position_overlap": [3.0, 1.0, 0.0, 2.0],
            "modality_habit": [0.25, 0.5, 1.0, 0.0],
            "self_paced": [1.0, 0.0, 0.0, 1.0],
            "classical": [0.0, 1.0, 1.0, 0.0],
        }
    )


def test_behaviour_formula_is_the_utility_term_by_term() -> None:
    f = _frame()
    gain = np.array([2.0, 4.0, 2.0, 1.0])
    got = baselines.behaviour_formula(f, gain_total=gain)
    c = UTILITY
    by_hand = []
    for i, r in f.iterrows():
        u = c.gap * (np.nan_to_num(r.gap_coverage) + 0.35 * r.target_gap_coverage) / gain[i]
        u += c.priority * r.priority_alignment + c.log_popularity * r.pop_global
        u += c.position_overlap * r.position_overlap + c.modality_habit * r.modality_habit
        u += (
            c.self_paced_after_2020 if r.year >= 2020 else c.self_paced_before_2020
        ) * r.self_paced
        u += (c.covid_classical if r.year == 2020 else 0.0) * r.classical
        by_hand.append(u)
    np.testing.assert_allclose(got, by_hand, atol=1e-5)
    # the COVID term exists only in 2020: same row in 2021 gains -covid_classical
    later = baselines.behaviour_formula(f.assign(year=2021), gain_total=gain)
    assert later[1] - got[1] == pytest.approx(-c.covid_classical, abs=1e-5)
    with pytest.raises(ValueError, match="gain_total"):
        baselines.behaviour_formula(f, gain_total=gain[:2])


@dataclass
class _Snap:
    taken: np.ndarray
    people: pd.DataFrame


@dataclass
class _Cat:
    ids: pd.Index


def _state() -> baselines.YearState:
    taken = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 1], [1, 1, 1, 0]], dtype=bool)
    snap = _Snap(taken, pd.DataFrame(index=pd.Index(["a", "b", "c", "d"])))
    cat = _Cat(pd.Index(["p0", "p1", "p2", "p3"]))
    return baselines.YearState(2025, snap, cat, np.zeros(4))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "params"),
    [("ease", {"l2": 5.0}), ("rp3beta", {"alpha": 0.8, "beta": 0.3, "top_k": 0})],
)
def test_collab_scores_are_what_collab_gives(method: str, params: dict[str, float]) -> None:
    state = _state()
    frame = pd.DataFrame(
        {
            "employee_id": ["b", "b", "d", "zz"],
            "program_id": ["p0", "p3", "p3", "p1"],
            "pop_global": [0.0, 0.0, 0.0, 0.0],
        }
    )
    got = baselines.collab_scores(frame=frame, state=state, method=method, params=params)
    x = state.snap.taken.astype(float)
    if method == "ease":
        w = collab.ease_weights(interactions=x, l2=5.0)
    else:
        w = collab.rp3beta_weights(interactions=x, alpha=0.8, beta=0.3)
    full = collab.scores(history=x, weights=w)
    np.testing.assert_allclose(got, [full[1, 0], full[1, 3], full[3, 3], 0.0], rtol=1e-5)
    assert got[0] != got[1]  # not constant: the test can fail


def test_global_popularity_ranks_beyond_the_candidate_pool() -> None:
    """A relevant programme outside the candidates is a hit for ``popularity`` ranked over the
    whole eligible catalogue (its own frame), and a miss for every candidate-pool ranker."""
    cand = pd.DataFrame(
        {
            "year": 2025,
            "employee_id": ["a", "a"],
            "program_id": ["p0", "p1"],
            "label": [0, 0],
            "classical": [1.0, 1.0],
            "self_paced": [0.0, 0.0],
            "jp": [10.0, 10.0],
            "priority_alignment": [0.0, 0.0],
            "group_sex": "L",
            "group_region": "java",
            "group_grade": "III",
        }
    )
    relevant = pd.DataFrame(
        {"year": [2025], "employee_id": ["a"], "program_id": ["p9"], "label": [2]}
    )
    own = pd.concat([cand, cand.iloc[[0]].assign(program_id="p9", label=2)], ignore_index=True)
    out = evaluate_all(
        cand,
        relevant,
        {"model": np.array([1.0, 0.0])},
        offered=3,
        n_boot=10,
        outside={"popularity": (own, np.array([0.0, 0.5, 1.0]))},
    )
    assert out["model"]["ndcg@10"] == 0.0
    assert out["popularity"]["ndcg@10"] == pytest.approx(1.0)
    assert out["model"]["vs_popularity"]["diff"] == pytest.approx(-1.0)
    assert "ndcg@10_by_family" in out["popularity"]


def test_every_baseline_is_named_once() -> None:
    assert len(set(baselines.ALL_BASELINES)) == len(baselines.ALL_BASELINES)
    for name in ("behaviour_formula", "ease", "rp3beta", "popularity", "popularity_position"):
        assert name in baselines.ALL_BASELINES
    with pytest.raises(ValueError, match="unknown collaborative method"):
        baselines.collab_weights(method="svd", history=np.ones((2, 2)), params={})
