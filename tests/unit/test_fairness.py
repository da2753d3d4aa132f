"""Exposure of career-advancing items (raw, and attainable: normalised by the ideal DCG of the
person's attainable candidates), bootstrap intervals, the judged ratio, the gate's words and the
model page's parsing, on small hand-made frames (training/fairness.py)."""

from __future__ import annotations

import math
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


def _both(rows: list[tuple[str, float, bool, bool]], year: int = 2025) -> pd.DataFrame:
    """Candidates as (person, score, advancing, attainable)."""
    return pd.DataFrame(
        [(year, e, s, a, t) for e, s, a, t in rows],
        columns=["year", "employee_id", "score", "advancing", "attainable"],
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


# ------------------------------------------------------------------- attainable exposure


def test_ideal_dcg_sums_the_first_min_k_n_weights() -> None:
    got = fairness.ideal_dcg(np.array([0, 1, 3, 10, 25]))
    assert got == pytest.approx([0.0, 1.0, W[:3].sum(), W[:10].sum(), W[:10].sum()])
    assert fairness.ideal_dcg(np.array([4]), k=2) == pytest.approx([1 + W[1]])
    with pytest.raises(ValueError):
        fairness.ideal_dcg(np.array([-1]))


def test_attainable_exposure_is_dcg_over_the_ideal_dcg() -> None:
    got = fairness.exposures(
        _both(
            [
                ("a", 4.0, True, False),  # rank 1: advancing, not open to a now
                ("a", 3.0, False, False),  # rank 2
                ("a", 2.0, True, True),  # rank 3: attainable
                ("a", 1.0, True, True),  # rank 4: attainable
                ("b", 2.0, True, True),  # b: its only attainable item first = the ideal
                ("b", 1.0, False, False),
            ]
        )
    )
    a = got.loc[(2025, "a")]
    # DCG of the attainable items at ranks 3 and 4 / the ideal: the two at ranks 1 and 2
    assert a["attainable"] == pytest.approx((W[2] + W[3]) / (W[0] + W[1]))
    assert a["attainable"] == pytest.approx(0.570642, abs=1e-6)
    assert a["raw"] == pytest.approx((W[0] + W[2] + W[3]) / W[:4].sum())  # raw counts rank 1
    assert a["n_attainable"] == 2
    b = got.loc[(2025, "b")]
    assert b["attainable"] == 1.0 and b["raw"] == pytest.approx(1 / (1 + W[1]))
    assert list(got.columns) == ["raw", "attainable", "n_attainable"]


def test_a_person_with_nothing_attainable_has_no_attainable_figure() -> None:
    got = fairness.exposures(
        _both([("c", 2.0, True, False), ("c", 1.0, False, False), ("d", 1.0, False, True)])
    )
    c = got.loc[(2025, "c")]
    assert math.isnan(c["attainable"]) and c["n_attainable"] == 0
    assert c["raw"] == pytest.approx(1 / (1 + W[1]))  # raw still measured
    assert got.loc[(2025, "d"), "attainable"] == 1.0  # attainable is its own column


def test_attainable_exposure_with_ties_keeps_the_candidate_order() -> None:
    first = fairness.exposures(_both([("t", 1.0, True, True), ("t", 1.0, False, False)]))
    assert first.loc[(2025, "t"), "attainable"] == 1.0
    second = fairness.exposures(_both([("t", 1.0, False, False), ("t", 1.0, True, True)]))
    assert second.loc[(2025, "t"), "attainable"] == pytest.approx(W[1])


def test_attainable_exposure_with_fewer_than_10_candidates_and_beyond_the_top_10() -> None:
    # 3 candidates, all attainable: the ideal is the 3 weights, the model reaches it
    short = fairness.exposures(_both([("s", float(i), True, True) for i in range(3)]))
    assert short.loc[(2025, "s"), "attainable"] == pytest.approx(1.0)
    # 12 candidates, 2 attainable ranked 2 and 11: only rank 2 counts, the ideal is ranks 1-2
    rows = [("p", float(12 - i), i in (1, 10), i in (1, 10)) for i in range(12)]
    got = fairness.exposures(_both(rows)).loc[(2025, "p")]
    assert got["attainable"] == pytest.approx(W[1] / (1 + W[1]))
    assert got["n_attainable"] == 2
    # 12 candidates, 11 attainable, the top 10 all attainable: 1 although one is left out
    full = [("f", float(12 - i), i != 11, i != 11) for i in range(12)]
    assert fairness.exposures(_both(full)).loc[(2025, "f"), "attainable"] == pytest.approx(1.0)
    # attainable only beyond the top 10: 0, not NaN (something was possible)
    late = [("l", float(12 - i), i >= 10, i >= 10) for i in range(12)]
    assert fairness.exposures(_both(late)).loc[(2025, "l"), "attainable"] == 0.0


def test_without_an_attainable_column_advancing_items_are_attainable() -> None:
    got = fairness.exposures(_scored([("a", 2.0, False), ("a", 1.0, True)]))
    assert got.loc[(2025, "a"), "attainable"] == pytest.approx(W[1])
    assert got.loc[(2025, "a"), "raw"] == pytest.approx(W[1] / (1 + W[1]))


def test_served_applies_the_policy_and_keeps_the_rankers_order() -> None:
    """The policy moves missing attainable items into the top 10 (at least min(m, 3)); the
    unconstrained order stays beside it."""
    rows = [("e0", float(20 - r), r >= 12, r >= 12) for r in range(20)]  # attainable at 13..20
    rows += [("e1", 1.0, True, True), ("e1", 2.0, False, False)]
    scored = fairness.served(_both(rows))
    values = fairness.both_exposures(scored)
    e0 = values.loc[(2025, "e0")]
    assert e0["unconstrained"] == 0.0  # none of the 8 attainable items in the ranker's top 10
    assert e0["attainable"] == pytest.approx(W[7:10].sum() / W[:8].sum())  # 3 moved to 8..10
    e1 = values.loc[(2025, "e1")]
    assert e1["attainable"] == e1["unconstrained"] == pytest.approx(W[1])  # already in the top
    assert scored["unconstrained"].tolist() == [r[1] for r in rows]


@pytest.fixture(scope="module")
def tiny_context(tiny_clean: Any) -> Any:
    from recommender.careers.features import build_context
    from recommender.careers.rules import load_rules
    from recommender.data.io import load_clean
    from recommender.programs.catalog import build_catalog
    from recommender.snapshot import build_snapshot

    tables = load_clean(tiny_clean)
    snap = build_snapshot(tables, "2025-01-01")
    return build_context(tables, snap, build_catalog(tables), load_rules())


def test_careers_exposure_judges_the_served_order_on_posts_open_within_the_horizon(
    tiny_context: Any,
) -> None:
    """Attainable = a higher tier eligible now or within 12 months (the recommender's horizon);
    the served order guarantees min(m, 3) of them in the top 10 even against a ranker that puts
    them last."""
    from recommender.careers.features import FEATURES, candidate_frame
    from recommender.careers.horizon import horizons

    ctx = tiny_context

    def adverse(f: pd.DataFrame) -> np.ndarray:
        return -f["tier_step"].to_numpy(float)  # advancing posts last

    values, who = fairness.careers_exposure(ctx, 2025, adverse, max_people=40, seed=3)
    measured = who.loc[values.index]
    rows = ctx.snap.people.index.get_indexer(measured.index.get_level_values("employee_id"))
    cands = candidate_frame(ctx, rows, detail=True)
    h = horizons(ctx.rules, cands, ctx.snap.at)
    open_ = (cands["tier_step"].to_numpy() > 0) & (h.days <= 366)
    expected = pd.Series(open_).groupby(cands["employee_id"].to_numpy()).sum()
    got = values["n_attainable"].droplevel("year")
    assert got.to_dict() == expected.reindex(got.index).to_dict()
    some = values[values["n_attainable"] > 0]
    assert len(some) > 0, "the tiny organisation has people with an attainable post"
    assert (some["attainable"] >= some["unconstrained"] - 1e-12).all()
    assert (some["attainable"] > 0).all() and (some["unconstrained"] == 0).all()
    assert set(FEATURES) <= set(cands.columns)
    assert {"legal", "n_within", "n_now", "years_to_retirement", "tier_level"} <= set(who.columns)
    assert (measured.loc[measured["n_within"] > 0, "legal"]).all()  # open within 12 months: legal


def test_a_move_datable_only_after_retirement_is_not_legal(tiny_context: Any) -> None:
    from recommender.careers.features import candidate_frame

    ctx = tiny_context
    cands = candidate_frame(ctx, np.arange(len(ctx.snap.people)), detail=True)
    bup = np.full(len(cands), 58.0)
    attainable, legal, now = fairness.pair_verdicts(
        rules=ctx.rules, pairs=cands, at=ctx.snap.at, bup=np.full(len(cands), np.nan)
    )
    later = np.flatnonzero(attainable & ~now)  # open within the horizon, not yet
    assert len(later) > 0 and legal[later].all() and (now <= attainable).all()
    older = cands.iloc[later].copy()
    older["p_age"] = 57.999  # retires (BUP 58) before the move can be made
    moved = fairness.pair_verdicts(rules=ctx.rules, pairs=older, at=ctx.snap.at, bup=bup[later])
    assert not moved[1].any()


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


def test_adjusted_means_compare_like_with_like() -> None:
    """Exposure driven by tier only: the raw group means differ (group b sits in the low tier
    more often), the adjusted ones do not; a true group effect stays after adjustment."""
    rng = np.random.default_rng(0)
    n = 2000
    group = np.where(np.arange(n) < n // 2, "a", "b")
    low_tier = rng.random(n) < np.where(group == "a", 0.2, 0.8)
    exposure = np.where(low_tier, 0.3, 0.9) + rng.normal(0, 0.02, n)
    cov = low_tier[:, None].astype(float)
    plain = fairness.attribute_figure("x", exposure, group, n_boot=50, seed=1)
    adjusted = fairness.adjusted_figure("x", exposure, group, cov, n_boot=50, seed=1)
    assert plain.ratio < 0.6 and plain.ratio_ci[1] < 0.8
    assert adjusted.adjusted and adjusted.ratio > 0.98 and adjusted.ratio_ci[1] >= 0.8
    assert adjusted.attribute_group("a").exposure == pytest.approx(
        0.3 * low_tier.mean() + 0.9 * (1 - low_tier.mean()), abs=0.01
    )
    unfair = exposure - 0.4 * (group == "b")
    still = fairness.adjusted_figure("x", unfair, group, cov, n_boot=50, seed=1)
    assert still.ratio_ci[1] < 0.8 and still.lowest == "b"


def test_people_no_law_lets_advance_are_excluded_and_counted() -> None:
    people = _people(250).assign(legal=np.arange(250) % 10 != 0)  # e0, e10, ... cannot advance
    values = _values(people, np.full(250, 0.2), np.full(250, 0.5))
    report = fairness.measure("careers", values, people, n_boot=10, seed=0)
    barred = int((~people["legal"] & ~people["top"]).sum())
    assert report.excluded_legal == barred and report.people == 247 - barred
    assert report.raw_people == 247  # the raw figures keep them
    grade = report.attribute("grade")
    assert grade.attribute_group("II").excluded_legal == 1  # e0 of e0..e9
    assert sum(g.excluded_legal for g in grade.groups) == barred
    assert report.metrics()["fairness.careers.excluded_legal"] == barred


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


def _values(people: pd.DataFrame, raw: np.ndarray, attainable: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"raw": raw, "attainable": attainable}, index=people.index)


def test_measure_leaves_the_top_of_the_ladder_out_and_reads_back() -> None:
    people = _people(250)
    women = (people["sex"] == "P").to_numpy()
    values = _values(people, np.where(women, 0.3, 0.75), np.where(women, 0.6, 0.75))
    report = fairness.measure("programs", values, people, n_boot=20, seed=0)
    assert report.people == 247 and report.excluded_top == 3 and report.years == (2025,)
    assert report.measure == "attainable" and report.none_attainable == 0
    sex = report.attribute("sex")
    assert sex.ratio == pytest.approx(0.8) and (sex.lowest, sex.highest) == ("P", "L")
    assert sex.raw is not None and sex.raw.ratio == pytest.approx(0.4)  # raw beside, not judged
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
    assert metrics["fairness.programs.raw.sex.ratio"] == pytest.approx(0.4)
    assert metrics["fairness.programs.raw.sex.P.exposure"] == pytest.approx(0.3)
    assert metrics["fairness.programs.none_attainable"] == 0.0
    assert metrics["fairness.programs.grade.II.small"] == 1.0
    assert metrics["fairness.programs.grade.II.n"] == 10.0
    assert metrics["fairness.programs.grade.III.small"] == 0.0
    assert metrics["fairness.programs.grade.judged_groups"] == 1.0
    assert "fairness.programs.grade.ratio" not in metrics  # NaN is not logged
    assert metrics["fairness.programs.gate_version"] == fairness.GATE_VERSION
    assert metrics["fairness.programs.excluded_legal"] == 0.0
    assert metrics["fairness.programs.policy"] == 0.0  # no unconstrained column: no policy
    assert metrics["fairness.programs.sex.ratio_ci_high"] == pytest.approx(0.8)
    table = report.table()
    assert set(table.columns) >= {"attribute", "group", "n", "exposure", "ci_low", "small"}
    assert set(table.columns) >= {"none_attainable", "raw_exposure", "raw_ratio"}
    assert set(table.columns) >= {"excluded_legal", "ratio_ci_high", "unconstrained_exposure"}
    assert not table.astype(str).apply(lambda c: c.str.startswith("e")).any().any(), "no person"
    with pytest.raises(ValueError):
        fairness.measure("programs", values.iloc[:0], people)


def test_people_with_nothing_attainable_are_counted_per_group_not_measured() -> None:
    people = _people(250)  # e0..e9 grade II, e247..e249 at the top of the ladder
    attainable = np.full(250, 0.5)
    attainable[:10] = np.nan  # nothing attainable for the whole of grade II
    attainable[10:14] = np.nan  # and for 4 of grade III
    values = _values(people, np.full(250, 0.2), attainable)
    report = fairness.measure("careers", values, people, n_boot=10, seed=0)
    assert report.people == 233 and report.none_attainable == 14 and report.raw_people == 247
    assert report.mean_exposure == pytest.approx(0.5)
    assert report.raw_mean_exposure == pytest.approx(0.2)
    grade = report.attribute("grade")
    two = grade.attribute_group("II")
    assert (two.n, two.none_attainable, two.judged) == (0, 10, False)
    assert math.isnan(two.exposure)
    three = grade.attribute_group("III")
    assert (three.n, three.none_attainable) == (233, 4)
    assert grade.raw is not None and grade.raw.attribute_group("II").n == 10  # raw measures them
    assert grade.none_attainable == 14
    metrics = report.metrics()
    assert metrics["fairness.careers.grade.II.none_attainable"] == 10.0
    assert metrics["fairness.careers.grade.III.none_attainable"] == 4.0
    assert metrics["fairness.careers.grade.II.n"] == 0.0
    assert "fairness.careers.grade.II.exposure" not in metrics  # NaN: not logged
    line = fairness.ratio_line(grade, report.min_group)
    assert "nothing attainable (not measured): II 10, III 4" in line
    assert line.startswith("grade: attainable (adjusted) not judged") and "; raw ratio" in line
    sex = fairness.ratio_line(report.attribute("sex"), report.min_group)
    assert sex.startswith("sex: attainable ratio 1.000 [1.000, 1.000] (lowest")
    notes = {(r[0], r[1]): r[5] for r in fairness.rows(report)}
    assert "10 with nothing attainable" in notes[("grade", "II")]
    assert "raw 0.200 (n 10)" in notes[("grade", "II")]
    # no one measurable at all
    with pytest.raises(ValueError, match="attainable"):
        fairness.measure(
            "careers", _values(people, np.full(250, 0.2), np.full(250, np.nan)), people
        )


def test_a_report_logged_before_attainable_exposure_reads_back_as_raw() -> None:
    people = _people(250)
    report = fairness.measure(
        "programs", _values(people, np.full(250, 0.2), np.full(250, 0.5)), people, n_boot=10
    )
    old = report.to_dict()
    for key in ("measure", "none_attainable", "raw_people", "raw_mean_exposure"):
        del old[key]
    for key in ("excluded_legal", "policy", "unconstrained_mean_exposure", "gate_version"):
        del old[key]
    for a in old["attributes"]:
        for key in ("raw", "adjusted", "unadjusted", "unconstrained"):
            del a[key]
        for g in a["groups"]:
            del g["none_attainable"], g["excluded_legal"]
    back = fairness.Report.from_dict(old)
    assert back.measure == "raw" and back.attribute("sex").raw is None
    assert back.gate_version == 1
    metrics = back.metrics()
    assert "fairness.programs.gate_version" not in metrics
    assert "fairness.programs.none_attainable" not in metrics  # no attainable marker
    assert not any(".raw." in k or "none_attainable" in k for k in metrics)


# ------------------------------------------------------------------- what is advancing
# The definition is the recommender's (recommender/programs/advancing.py,
# tests/unit/test_advancing.py); the measure uses it.


def test_the_measure_uses_the_recommenders_definition_of_advancing() -> None:
    from recommender.programs import advancing

    assert fairness.next_standard is advancing.next_standard
    assert fairness.advancing_programmes is advancing.advancing_programmes


# ------------------------------------------------------------------------------ the gate


def _logged(
    kind: str = "programs",
    raw: float | None = None,
    old: bool = False,
    version: int = fairness.GATE_VERSION,
    width: float = 0.05,
    **ratios: float,
) -> dict[str, float]:
    """Metrics of a run: the judged ratio per attribute with its interval (ratio +- ``width``)
    and groups lo / hi / tiny (small), the raw ratio ``raw`` beside each, the attainable marker
    unless ``old`` (a run logged before attainable exposure: its ratios are raw) and the gate
    version ``version`` (0: not logged)."""
    out: dict[str, float] = {"test.model.ndcg_at_10": 0.2}
    if not old:
        out[f"fairness.{kind}.none_attainable"] = 7.0
        if version:
            out[f"fairness.{kind}.gate_version"] = float(version)
    for attr, ratio in ratios.items():
        base = f"fairness.{kind}.{attr}"
        out[f"{base}.ratio"] = ratio
        out[f"{base}.ratio_ci_low"], out[f"{base}.ratio_ci_high"] = ratio - width, ratio + width
        out[f"{base}.judged_groups"] = 2.0
        out[f"{base}.adjusted"] = 1.0 if attr in fairness.ADJUSTED else 0.0
        out[f"{base}.lo.exposure"], out[f"{base}.lo.n"], out[f"{base}.lo.small"] = ratio, 300, 0
        out[f"{base}.hi.exposure"], out[f"{base}.hi.n"], out[f"{base}.hi.small"] = 1.0, 400, 0
        out[f"{base}.tiny.exposure"], out[f"{base}.tiny.n"], out[f"{base}.tiny.small"] = 0, 12, 1
        if not old:
            out[f"{base}.lo.none_attainable"] = 7.0
            out[f"{base}.hi.excluded_legal"] = 3.0
        if raw is not None:
            out[f"fairness.{kind}.raw.{attr}.ratio"] = raw
            out[f"fairness.{kind}.raw.{attr}.lo.exposure"] = raw
    return out


ADJUSTED_WORDS = "attainable exposure (adjusted for tier, years to retirement and eligibility)"


def test_gate_refuses_when_the_whole_interval_is_below_0_8_and_says_which_groups() -> None:
    ok, reasons = fairness.gate(_logged(sex=0.95, grade=0.70), None, "programs")
    assert not ok
    assert (
        f"failed: {ADJUSTED_WORDS} ratio by grade 0.700 [0.650, 0.750]: the whole 95 % interval "
        "is below 0.8 (lo 0.700 / hi 1.000); flagged, not judged (small): tiny (n=12); "
        "no advancement legally possible before retirement, excluded: hi 3; "
        "nothing attainable, not measured: lo 7"
    ) in reasons
    assert any(
        r.startswith(
            "passed: attainable exposure ratio by sex 0.950 [0.900, 1.000]: the 95 % interval "
            "reaches 0.8 (lo 0.950 / hi 1.000)"
        )
        for r in reasons
    )
    assert [r for r in reasons if fairness.is_failure(r)] == [reasons[1]]


def test_gate_judges_the_upper_end_of_the_interval_not_the_point() -> None:
    # point 0.76 but the interval reaches 0.81: sampling noise cannot rule 0.8 out
    ok, reasons = fairness.gate(_logged(sex=0.76, width=0.05), None, "programs")
    assert ok, reasons
    assert reasons[0].startswith("passed: attainable exposure ratio by sex 0.760 [0.710, 0.810]")
    # the same point with a tight interval fails
    ok, reasons = fairness.gate(_logged(sex=0.76, width=0.02), None, "programs")
    assert not ok and reasons[0].startswith("failed: attainable exposure ratio by sex 0.760")


def test_gate_judges_attainable_ratios_and_only_reports_raw_ones() -> None:
    ok, reasons = fairness.gate(_logged(raw=0.4, sex=0.9, grade=0.85), None, "programs")
    assert ok, reasons  # raw 0.4 < 0.8 does not refuse
    assert any(
        r.startswith(f"passed: {ADJUSTED_WORDS} ratio by grade 0.850")
        and r.endswith("; raw exposure ratio 0.400 (reported, not gated)")
        for r in reasons
    )
    ok, reasons = fairness.gate(_logged(raw=0.95, grade=0.7), None, "programs")
    assert not ok  # a fine raw ratio does not rescue a low attainable one
    assert any(r.startswith(f"failed: {ADJUSTED_WORDS} ratio by grade 0.700") for r in reasons)


def test_gate_refuses_a_ratio_clearly_worse_than_the_champions() -> None:
    champion = _logged(sex=0.95, grade=0.95)
    ok, reasons = fairness.gate(_logged(sex=0.96, grade=0.85), champion, "programs")
    assert not ok
    assert (
        "failed: exposure ratio by grade 0.850 (interval up to 0.900) is below the champion's 0.950"
    ) in reasons
    assert (
        "passed: exposure ratio by sex 0.960 (interval up to 1.010) is not below the "
        "champion's 0.950"
    ) in reasons
    assert fairness.gate(_logged(sex=0.95, grade=0.90), champion, "programs")[0]  # within noise
    assert fairness.gate(_logged(sex=0.95, grade=0.85), champion, "programs", tolerance=0.06)[0]


def test_gate_does_not_compare_with_a_champion_of_an_older_rule() -> None:
    """A champion logged before the rule of issue 18 (no gate version, or raw figures only) is
    not compared; the reasons say so; the floor still applies."""
    for champion in (
        _logged(old=True, sex=0.99, grade=0.99),
        _logged(version=0, sex=0.99, grade=0.99),
    ):
        ok, reasons = fairness.gate(_logged(raw=0.6, sex=0.9, grade=0.85), champion, "programs")
        assert ok, reasons
        assert not any("below the champion" in r for r in reasons)
        assert reasons[-1] == (
            "note: the champion has no exposure figures of this rule (version "
            f"{fairness.GATE_VERSION}): not compared with it, only the floor applied"
        )
        assert not fairness.gate(_logged(sex=0.7), champion, "programs")[0]


def test_gate_refuses_a_candidate_with_figures_of_an_older_rule() -> None:
    ok, reasons = fairness.gate(_logged("careers", old=True, sex=0.99), None, "careers")
    assert not ok and reasons[0].startswith("failed: the exposure figures on this run predate")
    assert "jenjang fairness careers --version" in reasons[0]
    ok, reasons = fairness.gate(_logged("careers", version=1, sex=0.99), None, "careers")
    assert not ok and fairness.is_failure(reasons[0])


def test_gate_without_figures_refuses_and_a_champion_without_is_not_compared() -> None:
    ok, reasons = fairness.gate({"test.model.mrr": 0.5}, None, "careers")
    assert not ok and "jenjang fairness careers --version" in reasons[0]
    assert reasons[0].startswith("failed: no exposure figures on this run")
    ok, reasons = fairness.gate(_logged("careers", sex=0.9), {"test.model.mrr": 0.4}, "careers")
    assert ok and reasons[-1].startswith("note: the champion has no exposure figures")
    other_kind = _logged("programs", sex=0.9)
    assert not fairness.gate(other_kind, None, "careers")[0]


def test_gate_reports_attributes_without_two_judged_groups() -> None:
    metrics = {
        "fairness.careers.none_attainable": 0.0,
        "fairness.careers.gate_version": float(fairness.GATE_VERSION),
        "fairness.careers.grade.judged_groups": 1.0,
        "fairness.careers.grade.adjusted": 1.0,
        "fairness.careers.grade.II.exposure": 0.2,
        "fairness.careers.grade.II.n": 40.0,
        "fairness.careers.grade.II.small": 1.0,
    }
    ok, reasons = fairness.gate(metrics, None, "careers")
    assert ok
    assert reasons == [
        f"not judged: {ADJUSTED_WORDS} by grade: fewer than two groups of 100+; "
        "flagged, not judged (small): II (n=40)"
    ]


def test_sub_measures_are_not_read_as_attributes() -> None:
    metrics = _logged(sex=0.9)
    metrics["fairness.programs.unconstrained.sex.ratio"] = 0.3
    metrics["fairness.programs.unadjusted.grade.ratio"] = 0.2
    logged = fairness.from_metrics(metrics, "programs")
    assert list(logged) == ["sex"] and logged["sex"].ci == pytest.approx((0.85, 0.95))
    assert logged["sex"].excluded_legal == {"hi": 3}


# ---------------------------------------------------------------------------- the page


def test_model_page_reads_ratio_and_small_groups_from_the_metrics() -> None:
    metrics = _logged(raw=0.5, sex=0.95, grade=0.7)
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
    assert grade.raw_ratio == 0.5 and grade.attainable and grade.none_attainable == [("lo", 7)]
    assert rows[1].raw_ratio is None
    figures = figures_from_metrics(metrics)
    assert figures.fairness == rows and figures.columns == ["ndcg_at_10"]
    assert figures_from_metrics({"test.model.mrr": 0.5}).fairness == []


def test_model_page_shows_an_old_runs_ratio_as_raw_and_not_judged() -> None:
    rows = fairness_from_metrics(_logged(old=True, sex=0.95, grade=0.7))
    assert [(r.attribute, r.ratio, r.raw_ratio, r.attainable) for r in rows] == [
        ("sex", None, 0.95, False),
        ("grade", None, 0.7, False),
    ]
    assert not rows[1].below  # a raw ratio is not judged


def test_model_page_reads_the_interval_exclusions_and_the_policys_cost() -> None:
    metrics = _logged(raw=0.5, sex=0.95, grade=0.78, width=0.05)
    metrics["fairness.programs.unconstrained.grade.ratio"] = 0.6
    metrics["fairness.programs.unadjusted.grade.ratio"] = 0.55
    metrics["fairness.programs.people"] = 900.0
    metrics["fairness.programs.excluded_legal"] = 31.0
    metrics["test.model.policy.ndcg_at_10_cost"] = 0.0033
    rows = {r.attribute: r for r in fairness_from_metrics(metrics)}
    grade = rows["grade"]
    assert grade.ci == pytest.approx((0.73, 0.83)) and grade.adjusted
    assert not grade.below  # 0.78 < 0.8 but the interval reaches it: passes, as the gate does
    assert (grade.unadjusted_ratio, grade.unconstrained_ratio) == (0.55, 0.6)
    assert grade.excluded_legal == [("hi", 3)] and not rows["sex"].adjusted
    figures = figures_from_metrics(metrics)
    assert figures.policy == {"test.model.policy.ndcg_at_10_cost": 0.0033}
    assert not any(c.startswith("policy.") for c in figures.columns)
    assert figures.excluded["programs"]["excluded_legal"] == 31.0
