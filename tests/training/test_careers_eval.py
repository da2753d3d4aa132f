"""The evaluation over everyone active (training/careers_eval.py) on hand-built frames: the
``rules`` baseline's order, upward moves, verdict recall and precision, the move scores and
the flattening for MLflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.careers.eligibility import CONDITIONS
from training.careers_data import per_query
from training.careers_eval import (
    PeopleYear,
    flat_figures,
    move_scores,
    rules_score,
    upward_moves,
    verdict_validity,
)

V, D, H, NONE = 1.0, 3.0, 2.0, 0.0  # move kinds: vertical, diagonal, horizontal, none


def test_rules_baseline_puts_eligible_higher_posts_of_the_unit_group_first() -> None:
    frame = pd.DataFrame(
        {
            "eligible": [0, 1, 1, 1, 1, 0, 0],
            "move_kind": [V, H, V, D, V, V, NONE],
            "same_unit_group": [1, 1, 0, 1, 1, 1, 1],
        }
    )
    score = rules_score(frame=frame)
    order = list(np.argsort(-score, kind="stable"))
    # eligible higher in the group (rows 3, 4), eligible higher elsewhere (2), eligible
    # rotation (1), then the rest
    assert order[:4] == [3, 4, 2, 1]
    assert score[0] == score[5] == 3.0 and score[6] == 1.0


def test_rules_baseline_ranks_like_a_ranker() -> None:
    frame = pd.DataFrame(
        {
            "year": 2025,
            "employee_id": ["a"] * 3 + ["b"] * 3,
            "eligible": [1, 0, 0, 0, 0, 1],
            "move_kind": [V, H, NONE, V, H, H],
            "same_unit_group": [1, 1, 1, 0, 1, 0],
            "label": [1, 0, 0, 1, 0, 0],
        }
    )
    pq = per_query(frame, rules_score(frame=frame))
    assert pq["mrr"].tolist() == [1.0, 0.5]  # b's eligible rotation comes before its promotion


def _moves(rows: list[tuple[str, str, str, str]]) -> dict[str, pd.DataFrame]:
    moves = pd.DataFrame(rows, columns=["employee_id", "move_date", "to_position_id", "move_type"])
    moves["move_date"] = pd.to_datetime(moves["move_date"])
    moves["from_position_id"] = "P0"
    return {"career_moves": moves}


def test_upward_moves_are_the_first_promotion_of_the_year() -> None:
    tables = _moves(
        [
            ("a", "2025-03-01", "P1", "horizontal"),
            ("a", "2025-06-01", "P2", "jf_tier"),
            ("a", "2025-09-01", "P3", "vertical"),
            ("b", "2024-12-31", "P4", "vertical"),
            ("c", "2025-02-01", "P5", "equalisation"),
            ("d", "2025-05-01", "P6", "jf_first_appointment"),
        ]
    )
    ups = upward_moves(tables=tables, year=2025)
    assert ups.set_index("employee_id")["to_position_id"].to_dict() == {"a": "P2", "d": "P6"}


def test_verdict_recall_and_precision_count_what_they_say() -> None:
    people = pd.DataFrame(
        {
            "eligible_now": [1, 1, 1, 0, 0, 0],
            "eligible_12m": [1, 1, 1, 1, 0, 0],
            "moved_up": [1, 0, 0, 1, 1, 0],
        },
        index=list("abcdef"),
    )
    verdicts = pd.DataFrame(
        {
            "employee_id": ["a", "d", "e"],
            "eligible_now": [True, False, False],
            "within_12m": [True, True, False],
            "no_rule": [False, False, False],
            "move_type": ["jf_tier", "jf_tier", "jf_first_appointment"],
        }
    )
    for name in CONDITIONS:
        verdicts[f"blocked_{name}"] = [False, False, name == "training"]
    out = verdict_validity(year=PeopleYear(2025, people, verdicts))
    assert out["verdict_recall_now"] == pytest.approx(1 / 3)
    assert out["verdict_recall_12m"] == pytest.approx(2 / 3)
    assert out["verdict_precision_now"] == pytest.approx(1 / 3)
    assert out["verdict_precision_12m"] == pytest.approx(2 / 4)
    assert out["verdict_upward_moves"] == 3 and out["verdict_called_now"] == 3
    assert out["verdict_by_move_type"]["jf_tier"] == {"n": 2, "recall_now": 0.5, "recall_12m": 1.0}
    assert out["verdict_missed_12m_blocked_by"]["training"] == 1
    assert out["verdict_missed_12m_blocked_by"]["vacancy"] == 0


def test_move_scores_beat_the_baseline_when_the_verdict_knows() -> None:
    rng = np.random.default_rng(0)

    def year(n: int) -> pd.DataFrame:
        eligible = rng.random(n) < 0.3
        moved = eligible & (rng.random(n) < 0.5) | (rng.random(n) < 0.02)
        return pd.DataFrame(
            {
                "years_in_grade": rng.uniform(0, 8, n),
                "years_in_position": rng.uniform(0, 10, n),
                "grade_rank": rng.integers(0, 16, n).astype(float),
                "higher_mass": rng.random(n),
                "top_higher_gap": -rng.random(n),
                "eligible_now": eligible.astype(float),
                "eligible_12m": eligible.astype(float),
                "years_to_eligible": np.where(eligible, 0.0, 10.0),
                "moved_up": moved.astype(int),
            }
        )

    result = move_scores(fit=year(2000), test=year(2000), n_boot=20, seed=0)
    f = result.figures
    assert f["move_auc"] > f["move_auc_baseline"] + 0.2
    assert f["move_brier"] < f["move_brier_baseline"]
    assert f["move_auc_diff_ci"][0] > 0 and f["move_people"] == 2000
    assert set(result.curves) == {"moved_up", "model", "baseline"}
    with pytest.raises(ValueError, match="moved up"):
        move_scores(fit=year(50).assign(moved_up=0), test=year(50), n_boot=5, seed=0)


def test_flat_figures_keep_finite_numbers_only() -> None:
    flat = flat_figures(
        figures={"a": 0.5, "b": {"hit@5": 1, "c": float("nan"), "d": [1, 2]}, "e": True}
    )
    assert flat == {"everyone.a": 0.5, "everyone.b.hit_at_5": 1.0}


def test_calibration_figure_draws_both_scores_and_the_diagonal() -> None:
    from training.careers_eval import calibration_figure

    rng = np.random.default_rng(1)
    p = rng.random(400) * 0.2
    curves = pd.DataFrame(
        {"moved_up": (rng.random(400) < p).astype(int), "model": p, "baseline": p / 2}
    )
    ax = calibration_figure(curves=curves).axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["model", "baseline", "perfect"]
    assert len(ax.get_lines()[0].get_xdata()) == 10  # ten equal-count bins


def test_the_text_output_keeps_rankers_apart_from_the_figures_over_everyone() -> None:
    from recommender.cli.common import console
    from training.cli.careers import print_everyone, rankers_of

    ranker = {"hit@1": 0.5, "hit@5": 0.8, "mrr": 0.6, "ndcg@5": 0.6, "queries": 10}
    head = {
        "model": ranker,
        "rules": ranker,
        "move_auc": 0.74,
        "move_auc_baseline": 0.57,
        "move_auc_diff_ci": [0.12, 0.21],
        "move_brier": 0.031,
        "move_brier_baseline": 0.032,
        "move_people": 4368,
        "move_rate": 0.033,
        "move_fit_year": 2024,
        "everyone_year": 2025,
        "verdict_recall_now": 0.276,
        "verdict_recall_12m": 0.345,
        "verdict_precision_now": 0.053,
        "verdict_upward_moves": 145,
        "verdict_called_now": 1201,
        "by_move_type": {"jf_tier": {"n": 82, "model": {"mrr": 1.0, "hit@5": 1.0}}},
    }
    assert list(rankers_of(head=head)) == ["model", "rules"]
    with console.capture() as out:
        print_everyone(head=head)
    text = out.get()
    assert "AUC 0.740 vs tenure-and-grade 0.570" in text
    assert "within 12 months 0.345" in text and "jf_tier (82)" in text
    with console.capture() as none:
        print_everyone(head={"model": ranker})
    assert none.get() == ""
