"""Exposure of career-advancing items, bootstrap intervals, the judged ratio, the gate's words
and the model page's parsing, on small hand-made frames (training/fairness.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender.web.models_page import fairness_from_metrics, figures_from_metrics
from training import fairness

W = 1.0 / np.log2(np.arange(1, 13) + 1.0)  # weights of ranks 1..12


def _scored(rows: list[tuple[str, float, bool]], year: int = 2025) -> pd.DataFrame:
    return pd.DataFrame(
        [(year, e, s, a) for e, s, a in rows], columns=["year", "employee_id", "score", "advancing"]
    )


# ------------------------------------------------------------------------------- exposure


def test_discount_is_one_over_log2_of_rank_plus_one() -> None:
    assert fairness.discount(3) == pytest.approx([1.0, 1 / math.log2(3), 0.5])
    assert fairness.discount()[-1] == pytest.approx(1 / math.log2(11))


def test_exposure_is_the_discounted_share_of_advancing_items() -> None:
    got = fairness.exposure(
        _scored(
            [
                ("a", 1.0, False),  # rank 3
                ("a", 3.0, True),  # rank 1
                ("a", 2.0, True),  # rank 2
                ("b", 0.5, False),  # b: nothing advancing
                ("b", 0.7, False),
            ]
        )
    )
    assert got[(2025, "a")] == pytest.approx((1 + W[1]) / (1 + W[1] + W[2]))
    assert got[(2025, "a")] == pytest.approx(0.765361, abs=1e-6)
    assert got[(2025, "b")] == 0.0
    assert got.name == "exposure" and list(got.index.names) == ["year", "employee_id"]


def test_exposure_counts_only_the_top_k_and_normalises_by_the_list_shown() -> None:
    # 12 candidates, scores 12..1: the advancing ones are ranked 10 and 11
    rows = [("p", float(12 - i), i in (9, 10)) for i in range(12)]
    got = fairness.exposure(_scored(rows))
    assert got[(2025, "p")] == pytest.approx(W[9] / W[:10].sum())
    assert fairness.exposure(_scored(rows), k=11)[(2025, "p")] == pytest.approx(
        (W[9] + W[10]) / W[:11].sum()
    )
    # a list of one advancing item: the whole (short) list is advancing
    assert fairness.exposure(_scored([("q", 0.1, True)]))[(2025, "q")] == 1.0


def test_equal_scores_keep_the_candidate_order_as_served() -> None:
    got = fairness.exposure(_scored([("t", 1.0, True), ("t", 1.0, False)]))
    assert got[(2025, "t")] == pytest.approx(1 / (1 + W[1]))
    got = fairness.exposure(_scored([("t", 1.0, False), ("t", 1.0, True)]))
    assert got[(2025, "t")] == pytest.approx(W[1] / (1 + W[1]))


def test_the_same_person_in_two_years_is_two_entries() -> None:
    frame = pd.concat([_scored([("a", 1.0, True)], 2024), _scored([("a", 1.0, False)], 2025)])
    got = fairness.exposure(frame)
    assert got[(2024, "a")] == 1.0 and got[(2025, "a")] == 0.0


# ------------------------------------------------------------------------------- groups


def test_age_bands_and_group_labels() -> None:
    ages = pd.Series([24, 29, 30, 39, 40, 49, 50, 64, np.nan])
    assert fairness.age_band(ages).tolist() == [
        "under_30",
        "under_30",
        "30-39",
        "30-39",
        "40-49",
        "40-49",
        "50_plus",
        "50_plus",
        "unknown",
    ]
    people = pd.DataFrame(
        {"female": [1, 0], "java": [0, 1], "age": [31, 55], "grade": ["II/c", None]},
        index=["e1", "e2"],
    )
    groups = fairness.person_groups(people)
    assert groups.loc["e1"].tolist() == ["P", "outside_java", "30-39", "II"]
    assert groups.loc["e2"].tolist() == ["L", "java", "50_plus", "unknown"]


def test_top_of_ladder_is_the_highest_tier_of_the_catalogue() -> None:
    positions = pd.DataFrame({"tier": ["pelaksana", "administrator", "jpt_madya"]})
    people = pd.DataFrame({"tier_level": [1, 4, 6, np.nan]})
    assert fairness.top_of_ladder(people, positions).tolist() == [False, False, True, True]


# ------------------------------------------------------------------------------ bootstrap


def test_bootstrap_means_follow_the_seeded_stream() -> None:
    values = np.array([0.0, 1.0, 0.5, 0.25])
    got = fairness.bootstrap_means(values, 7, np.random.default_rng(3))
    block = values[np.random.default_rng(3).integers(0, 4, (7, 4))].mean(axis=1)
    assert got == pytest.approx(block)
    assert fairness.bootstrap_means(np.full(5, 0.4), 50, np.random.default_rng(0)) == (
        pytest.approx(np.full(50, 0.4))
    )


def _hand_made() -> tuple[np.ndarray, np.ndarray]:
    """120 women at 0.5, 150 men at 0.8 (constant), 30 'X' at 0.1 (too small to judge)."""
    values = np.concatenate([np.full(120, 0.5), np.full(150, 0.8), np.full(30, 0.1)])
    groups = np.array(["P"] * 120 + ["L"] * 150 + ["X"] * 30)
    return values, groups


def test_groups_get_mean_size_interval_and_a_small_flag() -> None:
    values, groups = _hand_made()
    a = fairness.attribute_figure("sex", values, groups, n_boot=50, seed=1)
    by = {g.group: g for g in a.groups}
    assert [g.group for g in a.groups] == ["L", "P", "X"]
    assert (by["P"].n, by["L"].n, by["X"].n) == (120, 150, 30)
    assert by["P"].exposure == 0.5 and by["L"].exposure == pytest.approx(0.8)
    assert (by["P"].ci_low, by["P"].ci_high) == (0.5, 0.5)  # constant: the interval collapses
    assert by["P"].judged and by["L"].judged and not by["X"].judged
    assert [g.group for g in a.small] == ["X"]
    # the small group (0.1) would make the ratio 0.125: it is flagged, not judged
    assert a.ratio == pytest.approx(0.5 / 0.8)
    assert (a.lowest, a.highest) == ("P", "L")
    assert a.ratio_ci == pytest.approx((0.625, 0.625))


def test_interval_matches_percentiles_of_within_group_resamples() -> None:
    rng = np.random.default_rng(11)
    values = rng.random(260)
    groups = np.array(["a"] * 130 + ["b"] * 130)
    a = fairness.attribute_figure("x", values, groups, n_boot=200, seed=5)
    stream = np.random.default_rng(5)
    means = {g: fairness.bootstrap_means(values[groups == g], 200, stream) for g in ("a", "b")}
    lo, hi = np.quantile(means["a"], [0.025, 0.975])
    fig_a = a.attribute_group("a")
    assert (fig_a.ci_low, fig_a.ci_high) == (pytest.approx(lo), pytest.approx(hi))
    assert fig_a.ci_low <= fig_a.exposure <= fig_a.ci_high
    ratios = np.minimum(means["a"], means["b"]) / np.maximum(means["a"], means["b"])
    assert a.ratio_ci == pytest.approx(tuple(np.quantile(ratios, [0.025, 0.975])))
    again = fairness.attribute_figure("x", values, groups, n_boot=200, seed=5)
    assert again == a  # seeded: the same figures


def test_no_ratio_with_fewer_than_two_judged_groups() -> None:
    values, groups = _hand_made()
    a = fairness.attribute_figure("sex", values, groups, n_boot=10, min_group=130)
    assert [g.judged for g in a.groups] == [True, False, False]
    assert math.isnan(a.ratio) and a.lowest is None
    b = fairness.attribute_figure("sex", values, groups, n_boot=10, min_group=10)
    assert b.ratio == pytest.approx(0.1 / 0.8) and b.lowest == "X"
    with pytest.raises(ValueError):
        fairness.attribute_figure("sex", values, groups[:-1])


def _people(n: int) -> pd.DataFrame:
    idx = pd.MultiIndex.from_arrays(
        [[2025] * n, [f"e{i}" for i in range(n)]], names=fairness.PERSON
    )
    return pd.DataFrame(
        {
            "sex": np.where(np.arange(n) % 2 == 0, "P", "L"),
            "region": "java",
            "age_band": "30-39",
            "grade": np.where(np.arange(n) < 10, "II", "III"),
            "top": np.arange(n) >= n - 3,
        },
        index=idx,
    )


def test_measure_leaves_the_top_of_the_ladder_out_and_reads_back() -> None:
    people = _people(250)
    values = pd.Series(np.where(people["sex"] == "P", 0.6, 0.75), index=people.index)
    report = fairness.measure("programs", values, people, n_boot=20, seed=0)
    assert report.people == 247 and report.excluded_top == 3 and report.years == (2025,)
    sex = report.attribute("sex")
    assert sex.ratio == pytest.approx(0.8) and (sex.lowest, sex.highest) == ("P", "L")
    grade = report.attribute("grade")
    assert [(g.group, g.n, g.judged) for g in grade.groups] == [
        ("II", 10, False),
        ("III", 237, True),
    ]
    assert math.isnan(grade.ratio)
    assert math.isnan(report.attribute("region").ratio)  # one group only
    again = fairness.Report.from_dict(report.to_dict())
    assert again.to_dict() == report.to_dict()
    metrics = report.metrics()
    assert metrics["fairness.programs.sex.ratio"] == pytest.approx(0.8)
    assert metrics["fairness.programs.grade.II.small"] == 1.0
    assert metrics["fairness.programs.grade.II.n"] == 10.0
    assert metrics["fairness.programs.grade.III.small"] == 0.0
    assert metrics["fairness.programs.grade.judged_groups"] == 1.0
    assert "fairness.programs.grade.ratio" not in metrics  # NaN is not logged
    table = report.table()
    assert set(table.columns) >= {"attribute", "group", "n", "exposure", "ci_low", "small"}
    assert not table.astype(str).apply(lambda c: c.str.startswith("e")).any().any(), "no person"
    with pytest.raises(ValueError):
        fairness.measure("programs", values.iloc[:0], people)


# ------------------------------------------------------------------- what is advancing


def test_next_standard_and_advancing_programmes() -> None:
    comps = pd.Index(["MK01", "TK01", "TK02"])
    cat: Any = SimpleNamespace(
        positions=pd.DataFrame({"position_id": ["PEL", "JF-A-ahli_pertama", "JF-A-ahli_muda"]}),
        # pelaksana: MK 1, TK01 2; JF ahli pertama: MK 1, TK01 2; ahli muda: MK 2, TK01 3
        req=np.array([[1, 2, 0], [1, 2, 0], [2, 3, 0]], dtype=np.float32),
        next_position=np.array([0, 2, 2]),
        competencies=comps,
        # programme 0: TK01 to 3; programme 1: TK02 to 3 (not required); programme 2: MK01 to 2
        target=np.array([[0, 3, 0], [0, 0, 3], [2, 0, 0]], dtype=np.float32),
    )
    snap: Any = SimpleNamespace(
        people=pd.DataFrame(
            {
                "position_id": ["PEL", "JF-A-ahli_pertama", "JF-A-ahli_pertama", "NOPE"],
                "tier": ["pelaksana", "ahli_pertama", "ahli_pertama", None],
            }
        ),
        # person 2 is assessed at TK01 3 and MK01 2 already
        levels=np.array(
            [[np.nan] * 3, [np.nan] * 3, [2, 3, np.nan], [np.nan] * 3], dtype=np.float32
        ),
    )
    types = pd.Series(["manajerial", "teknis", "teknis"], index=comps)
    seen, nxt = fairness.next_standard(snap, cat, types)
    assert seen[0].tolist() == [0.5, 1.5, 1.0]  # unassessed: requirement - 0.5 (1.0 if none)
    assert nxt[0].tolist() == [1, 2, 0]  # pelaksana -> ahli pertama: managerial level 1
    assert nxt[1].tolist() == [2, 3, 0]  # the next tier of the same JF
    assert nxt[3].tolist() == [0, 0, 0]  # post not in the catalogue
    person = np.repeat(np.arange(4), 3)
    programme = np.tile(np.arange(3), 4)
    adv = fairness.advancing_programmes(seen, nxt, cat.target, person, programme).reshape(4, 3)
    assert adv[0].tolist() == [True, False, True]  # closes the presumed half-level gaps
    assert adv[1].tolist() == [True, False, True]
    assert adv[2].tolist() == [False, False, False]  # already at the next standard
    assert adv[3].tolist() == [False, False, False]


# ------------------------------------------------------------------------------ the gate


def _logged(kind: str = "programs", **ratios: float) -> dict[str, float]:
    out: dict[str, float] = {"test.model.ndcg_at_10": 0.2}
    for attr, ratio in ratios.items():
        base = f"fairness.{kind}.{attr}"
        out[f"{base}.ratio"] = ratio
        out[f"{base}.judged_groups"] = 2.0
        out[f"{base}.lo.exposure"], out[f"{base}.lo.n"], out[f"{base}.lo.small"] = ratio, 300, 0
        out[f"{base}.hi.exposure"], out[f"{base}.hi.n"], out[f"{base}.hi.small"] = 1.0, 400, 0
        out[f"{base}.tiny.exposure"], out[f"{base}.tiny.n"], out[f"{base}.tiny.small"] = 0, 12, 1
    return out


def test_gate_refuses_a_ratio_below_0_8_and_says_which_groups() -> None:
    ok, reasons = fairness.gate(_logged(sex=0.95, grade=0.75), None, "programs")
    assert not ok
    assert (
        "exposure ratio by grade is 0.750 < 0.8 (lo 0.750 / hi 1.000); "
        "flagged, not judged (small): tiny (n=12)"
    ) in reasons
    assert any(
        r.startswith("exposure ratio by sex 0.950 >= 0.8 (lo 0.950 / hi 1.000)") for r in reasons
    )
    assert fairness.gate(_logged(sex=0.95, grade=0.8), None, "programs")[0]


def test_gate_refuses_a_ratio_worse_than_the_champions() -> None:
    champion = _logged(sex=0.95, grade=0.90)
    ok, reasons = fairness.gate(_logged(sex=0.96, grade=0.85), champion, "programs")
    assert not ok
    assert "exposure ratio by grade 0.850 is worse than the champion's 0.900" in reasons
    assert "exposure ratio by sex 0.960 is not worse than the champion's 0.950" in reasons
    assert fairness.gate(_logged(sex=0.95, grade=0.90), champion, "programs")[0]  # a tie passes
    assert fairness.gate(_logged(sex=0.95, grade=0.85), champion, "programs", tolerance=0.06)[0]


def test_gate_without_figures_refuses_and_an_old_champion_is_not_compared() -> None:
    ok, reasons = fairness.gate({"test.model.mrr": 0.5}, None, "careers")
    assert not ok and "jenjang fairness careers --version" in reasons[0]
    ok, reasons = fairness.gate(_logged("careers", sex=0.9), {"test.model.mrr": 0.4}, "careers")
    assert ok and reasons[-1] == "the champion has no exposure figures: not compared"
    other_kind = _logged("programs", sex=0.9)
    assert not fairness.gate(other_kind, None, "careers")[0]


def test_gate_reports_attributes_without_two_judged_groups() -> None:
    metrics = {
        "fairness.careers.grade.judged_groups": 1.0,
        "fairness.careers.grade.II.exposure": 0.2,
        "fairness.careers.grade.II.n": 40.0,
        "fairness.careers.grade.II.small": 1.0,
    }
    ok, reasons = fairness.gate(metrics, None, "careers")
    assert ok
    assert reasons == [
        "exposure by grade not judged: fewer than two large groups; "
        "flagged, not judged (small): II (n=40)"
    ]


# ---------------------------------------------------------------------------- the page


def test_model_page_reads_ratio_and_small_groups_from_the_metrics() -> None:
    metrics = _logged(sex=0.95, grade=0.7)
    metrics["fairness.programs.age_band.judged_groups"] = 0.0
    rows = fairness_from_metrics(metrics)
    assert [(r.attribute, r.ratio) for r in rows] == [
        ("sex", 0.95),
        ("age_band", None),
        ("grade", 0.7),
    ]
    grade = rows[2]
    assert grade.below and not rows[0].below
    assert grade.groups == [("hi", 1.0), ("lo", 0.7)] and grade.small == [("tiny", 12)]
    figures = figures_from_metrics(metrics)
    assert figures.fairness == rows and figures.columns == ["ndcg_at_10"]
    assert figures_from_metrics({"test.model.mrr": 0.5}).fairness == []
