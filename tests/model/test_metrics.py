"""Ranking metrics: NDCG against scikit-learn, hand-computed recall/MAP/MRR, bootstrap, profile."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score

from training.metrics import bootstrap_ci, query_metrics, ranked, top_k_profile


def _frame(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["year", "employee_id", "program_id", "label"])


def _relevant(frame: pd.DataFrame, extra: list[tuple[int, str, str, int]] = ()) -> pd.DataFrame:
    rel = frame[frame["label"] > 0][["year", "employee_id", "program_id", "label"]]
    if not extra:
        return rel.reset_index(drop=True)
    return pd.concat([rel, _frame(list(extra))], ignore_index=True)


def _random_queries(seed: int, sizes: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    parts = []
    for q, n in enumerate(sizes):
        labels = rng.choice([0, 0, 0, 1, 2, 3], size=n)
        labels[rng.integers(n)] = rng.integers(1, 4)  # at least one relevant
        parts.append(
            pd.DataFrame(
                {
                    "year": 2025,
                    "employee_id": f"e{q:03d}",
                    "program_id": [f"P{i:03d}" for i in range(n)],
                    "label": labels,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    # shuffle rows so that queries are interleaved: grouping must not rely on order
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    score = rng.permutation(len(frame)).astype(float) + rng.random(len(frame))  # no ties
    return frame, score


@pytest.mark.parametrize("k", [1, 3, 5, 10])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ndcg_matches_sklearn(seed: int, k: int) -> None:
    sizes = [2, 3, 5, 8, 13, 21, 40, 2, 7]
    frame, score = _random_queries(seed, sizes)
    out = query_metrics(frame, _relevant(frame), score, ks=(k,))
    assert len(out) == len(sizes)
    df = frame.assign(score=score)
    for (year, emp), part in df.groupby(["year", "employee_id"]):
        gains = 2.0 ** part["label"].to_numpy() - 1
        expected = ndcg_score(gains[None, :], part["score"].to_numpy()[None, :], k=k)
        assert out.loc[(year, emp), f"ndcg@{k}"] == pytest.approx(expected, abs=1e-12)


def test_ndcg_is_one_for_the_ideal_order_and_below_for_the_reverse() -> None:
    frame, _ = _random_queries(5, [6, 9, 12])
    ideal = frame["label"].to_numpy(float)
    best = query_metrics(frame, _relevant(frame), ideal + 1e-6 * np.arange(len(frame)))
    np.testing.assert_allclose(best["ndcg@10"], 1.0)
    np.testing.assert_allclose(best["recall@10"], 1.0)
    np.testing.assert_allclose(best["mrr"], 1.0)
    worst = query_metrics(frame, _relevant(frame), -ideal)
    assert (worst["ndcg@10"] < 1.0).all()


# Query A: five candidates ranked P1..P5; relevant P2 (label 3), P4 (label 1) and P9 (label 2),
# which the candidate generator missed.
QUERY_A = [
    (2025, "a", "P1", 0),
    (2025, "a", "P2", 3),
    (2025, "a", "P3", 0),
    (2025, "a", "P4", 1),
    (2025, "a", "P5", 0),
]
SCORE_A = [5.0, 4.0, 3.0, 2.0, 1.0]
MISSED_A = [(2025, "a", "P9", 2)]
LOG3, LOG5 = math.log2(3), math.log2(5)


def test_hand_computed_query_with_a_missed_relevant_programme() -> None:
    frame = _frame(QUERY_A)
    out = query_metrics(frame, _relevant(frame, MISSED_A), np.array(SCORE_A), ks=(2, 10))
    row = out.loc[(2025, "a")]
    dcg10 = 7 / LOG3 + 1 / LOG5
    idcg10 = 7 + 3 / LOG3 + 1 / 2  # ideal DCG over all three relevant labels 3, 2, 1
    assert row["ndcg@10"] == pytest.approx(dcg10 / idcg10)
    assert row["ndcg@10"] == pytest.approx(0.516054, abs=1e-6)
    assert row["ndcg@2"] == pytest.approx((7 / LOG3) / (7 + 3 / LOG3))
    assert row["recall@10"] == pytest.approx(2 / 3)
    assert row["recall@2"] == pytest.approx(1 / 3)
    # AP@10: hits at ranks 2 and 4 -> precisions 1/2 and 2/4, divided by min(10, 3 relevant)
    assert row["map@10"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    # AP@2: one hit at rank 2 -> 1/2, divided by min(2, 3)
    assert row["map@2"] == pytest.approx((1 / 2) / 2)
    assert row["mrr"] == pytest.approx(1 / 2)


def test_missed_relevant_programme_lowers_recall_and_ndcg() -> None:
    frame = _frame(QUERY_A)
    score = np.array(SCORE_A)
    without = query_metrics(frame, _relevant(frame), score).loc[(2025, "a")]
    with_missed = query_metrics(frame, _relevant(frame, MISSED_A), score).loc[(2025, "a")]
    assert without["recall@10"] == pytest.approx(1.0)
    assert without["ndcg@10"] == pytest.approx((7 / LOG3 + 1 / LOG5) / (7 + 1 / LOG3))
    assert with_missed["recall@10"] < without["recall@10"]
    assert with_missed["ndcg@10"] < without["ndcg@10"]
    assert without["map@10"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert with_missed["mrr"] == without["mrr"] == pytest.approx(0.5)


def test_queries_without_relevant_items_are_excluded_and_misses_score_zero() -> None:
    rows = [
        *QUERY_A,
        (2025, "b", "P1", 0),  # b: relevant programme only outside the candidates
        (2025, "b", "P2", 0),
        (2025, "c", "P1", 0),  # c: nothing taken -> excluded
        (2025, "c", "P3", 0),
        (2024, "a", "P1", 2),  # same person, other year: another query
        (2024, "a", "P2", 0),
    ]
    frame = _frame(rows)
    relevant = _relevant(frame, [*MISSED_A, (2025, "b", "P7", 3)])
    score = np.array([*SCORE_A, 1.0, 2.0, 1.0, 2.0, 0.5, 0.7])
    out = query_metrics(frame, relevant, score)
    assert sorted(out.index) == [(2024, "a"), (2025, "a"), (2025, "b")]
    assert out.loc[(2025, "b")].tolist() == [0.0] * out.shape[1]
    # 2024/a: the only relevant programme is ranked second
    assert out.loc[(2024, "a"), "mrr"] == pytest.approx(0.5)
    assert out.loc[(2024, "a"), "ndcg@5"] == pytest.approx(1 / LOG3)
    assert out.loc[(2024, "a"), "map@10"] == pytest.approx(0.5)
    assert out.loc[(2025, "a"), "ndcg@10"] == pytest.approx(0.516054, abs=1e-6)
    assert list(out.columns) == [
        "ndcg@5",
        "recall@5",
        "map@5",
        "ndcg@10",
        "recall@10",
        "map@10",
        "mrr",
    ]


def test_ranked_breaks_ties_by_input_order() -> None:
    frame = _frame([(2025, "a", "P1", 0), (2025, "a", "P2", 1), (2025, "a", "P3", 0)])
    out = ranked(frame, np.array([1.0, 1.0, 2.0]))
    assert out.set_index("program_id")["rank"].to_dict() == {"P3": 1, "P1": 2, "P2": 3}
    metrics = query_metrics(frame, _relevant(frame), np.array([1.0, 1.0, 2.0]))
    assert metrics.loc[(2025, "a"), "mrr"] == pytest.approx(1 / 3)


def test_bootstrap_ci_contains_the_mean_and_narrows_with_more_data() -> None:
    rng = np.random.default_rng(11)
    small = rng.normal(0.4, 0.2, 50)
    large = rng.normal(0.4, 0.2, 5000)
    lo_s, hi_s = bootstrap_ci(small, n_boot=500, seed=1)
    lo_l, hi_l = bootstrap_ci(large, n_boot=500, seed=1)
    assert lo_s < small.mean() < hi_s
    assert lo_l < large.mean() < hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s) / 5  # ~ 1/sqrt(100) of the width
    # about 2 * 1.96 * sd / sqrt(n)
    assert hi_l - lo_l == pytest.approx(2 * 1.96 * large.std() / np.sqrt(5000), rel=0.2)
    assert bootstrap_ci(small, n_boot=500, seed=1) == (lo_s, hi_s)  # seeded
    assert bootstrap_ci(np.full(20, 0.25)) == pytest.approx((0.25, 0.25))
    assert all(math.isnan(v) for v in bootstrap_ci(np.array([])))


def test_top_k_profile_on_a_hand_built_frame() -> None:
    frame = pd.DataFrame(
        {
            "year": 2025,
            "employee_id": ["q1", "q1", "q1", "q2", "q2", "q2"],
            "program_id": ["A", "B", "C", "A", "D", "B"],
            "label": 0,
            "classical": [True, False, False, True, False, False],
            "jp": [10, 30, 100, 10, 20, 30],
            "priority_alignment": [0.5, 0.1, 0.9, 0.5, 0.3, 0.1],
        },
        index=[10, 11, 12, 20, 21, 22],  # a non-default index must not matter
    )
    score = np.array([3.0, 2.0, 1.0, 1.0, 5.0, 4.0])
    # top 2: q1 -> A, B; q2 -> D, B
    out = top_k_profile(frame, score, offered=6, k=2)
    assert out["coverage"] == pytest.approx(3 / 6)
    assert out["non_classical_jp_share"] == pytest.approx((30 + 20 + 30) / (10 + 30 + 20 + 30))
    assert out["priority_alignment"] == pytest.approx((0.5 + 0.1 + 0.3 + 0.1) / 4)
    everything = top_k_profile(frame, score, offered=8, k=10)
    assert everything["coverage"] == pytest.approx(4 / 8)
    assert everything["non_classical_jp_share"] == pytest.approx(180 / 200)
