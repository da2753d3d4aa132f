"""The verdict with a horizon (recommender/careers/horizon.py) on hand-built pairs: each
condition that accrues with time gets its date (tenure, a yearly rating arriving, a grade by
regular promotion), the pair's date is the last of them, conditions that do not accrue
(education, training, vacancy, age, no rule) never get a date, and the vectorised result agrees
with the eligibility check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender.careers.eligibility import check_pairs
from recommender.careers.horizon import FIXED, horizons, pair_horizon
from recommender.careers.rules import RuleSet, load_rules
from recommender.data.normalize import EDUCATION_LEVELS, GRADES

AT = pd.Timestamp("2025-01-01")
BAIK, BUTUH_PERBAIKAN = 3.0, 2.0


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def grade(code: str) -> int:
    return GRADES.index(code)


def pair(**over: Any) -> dict[str, Any]:
    """A pelaksana (III/c, S1, 5 years in post, aged 40, rated Baik, top grade of the post III/d)
    and a pengawas post (minimum III/d, S1, one vacancy): eligible now under
    ``pengawas-dari-pelaksana`` (4 years in post, Baik x 2, grade III/d minus one step)."""
    row: dict[str, Any] = {
        "p_tier": "pelaksana",
        "p_jf": None,
        "p_grade_rank": grade("III/c"),
        "p_education_rank": EDUCATION_LEVELS.index("S1"),
        "p_years_in_position": 5.0,
        "p_age": 40,
        "p_rating_1": BAIK,
        "p_rating_2": BAIK,
        "p_rating_3": BAIK,
        "p_last_rating": BAIK,
        "p_training_mask": 0,
        "p_max_grade_rank": grade("III/d"),
        "t_tier": "pengawas",
        "t_jf": None,
        "t_min_grade_rank": grade("III/d"),
        "t_min_education_rank": EDUCATION_LEVELS.index("S1"),
        "t_required_mask": 0,
        "t_formasi": 2,
        "t_holders": 1,
    }
    assert not set(over) - set(row) - {"p_years_in_grade"}
    row.update(over)
    return row


def one(rules: RuleSet, **over: Any) -> Any:
    return pair_horizon(horizons(rules, pd.DataFrame([pair(**over)]), AT), 0)


def test_eligible_now_has_today_and_nothing_pending(rules: RuleSet) -> None:
    h = one(rules)
    assert h.eligible_now and h.eligible_by == AT and h.within
    assert h.pending == () and h.blocked == ()


@pytest.mark.parametrize(
    ("years", "expected", "within"),
    [(3.5, "2025-07-03", True), (3.0, "2026-01-02", False), (1.0, "2028-01-02", False)],
)
def test_tenure_accrues_day_by_day(
    rules: RuleSet, years: float, expected: str, within: bool
) -> None:
    h = one(rules, p_years_in_position=years)
    assert not h.eligible_now
    assert h.eligible_by == pd.Timestamp(expected)
    assert h.pending == (("years_in_post", pd.Timestamp(expected)),)
    assert h.within is within and h.blocked == ()


def test_unknown_tenure_is_never_dated(rules: RuleSet) -> None:
    h = one(rules, p_years_in_position=np.nan)
    assert h.eligible_by is None and "years_in_post" in h.blocked


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        # last year below Baik: two new Baik ratings push it out (1 Jan 2027)
        ((BUTUH_PERBAIKAN, BAIK, BAIK), None),
        # the year before last below: one new rating pushes it out (1 Jan 2026)
        ((BAIK, BUTUH_PERBAIKAN, BAIK), "2026-01-01"),
        # last year has no rating (pending): two new ones fill the window (1 Jan 2027)
        ((np.nan, BAIK, BAIK), "2027-01-01"),
    ],
)
def test_a_rating_arrives_each_first_of_january(
    rules: RuleSet, ratings: tuple[float, float, float], expected: str | None
) -> None:
    r1, r2, r3 = ratings
    last = r1 if not np.isnan(r1) else r2  # the last recorded rating
    h = one(rules, p_rating_1=r1, p_rating_2=r2, p_rating_3=r3, p_last_rating=last)
    if expected is None:  # the last recorded rating is below Baik: not projected to improve
        assert h.eligible_by is None and h.blocked == ("rating",)
    else:
        assert h.eligible_by == pd.Timestamp(expected)
        assert h.pending == (("rating", pd.Timestamp(expected)),)


def test_no_rating_on_record_is_never_dated(rules: RuleSet) -> None:
    h = one(rules, p_rating_1=np.nan, p_rating_2=np.nan, p_rating_3=np.nan, p_last_rating=np.nan)
    assert h.eligible_by is None and h.blocked == ("rating",)


def test_grade_accrues_by_regular_promotion_within_the_post(rules: RuleSet) -> None:
    # III/b, needs III/c (III/d minus one step): one regular promotion, 4 years in rank
    h = one(rules, p_grade_rank=grade("III/b"))
    assert h.eligible_by == pd.Timestamp("2029-01-01")
    assert h.pending == (("grade", pd.Timestamp("2029-01-01")),)
    # 3.5 years already in rank: half a year to go
    h = one(rules, p_grade_rank=grade("III/b"), p_years_in_grade=3.5)
    assert h.eligible_by == pd.Timestamp("2025-07-03") and h.within
    # the grade needed is above the top grade of the current post: not by time alone
    h = one(rules, p_grade_rank=grade("III/b"), p_max_grade_rank=grade("III/b"))
    assert h.eligible_by is None and h.blocked == ("grade",)


def test_the_date_is_the_last_pending_condition(rules: RuleSet) -> None:
    h = one(rules, p_years_in_position=3.5, p_rating_2=BUTUH_PERBAIKAN)
    assert h.eligible_by == pd.Timestamp("2026-01-01")
    assert h.pending == (
        ("years_in_post", pd.Timestamp("2025-07-03")),
        ("rating", pd.Timestamp("2026-01-01")),
    )


@pytest.mark.parametrize(
    ("over", "condition"),
    [
        ({"p_education_rank": EDUCATION_LEVELS.index("D3")}, "education"),
        ({"t_formasi": 1, "t_holders": 1}, "vacancy"),
    ],
)
def test_conditions_that_do_not_accrue_never_get_a_date(
    rules: RuleSet, over: dict[str, Any], condition: str
) -> None:
    assert condition in FIXED
    # even with tenure that would accrue in half a year
    h = one(rules, p_years_in_position=3.5, **over)
    assert not h.eligible_now and h.eligible_by is None and not h.within
    assert condition in h.blocked
    assert ("years_in_post", pd.Timestamp("2025-07-03")) in h.pending  # still said


def test_training_required_by_the_rule_never_gets_a_date(rules: RuleSet) -> None:
    # first JF appointment needs basic functional training: not on record, not projected
    h = one(rules, t_tier="ahli_pertama", t_jf="JF_X", t_min_grade_rank=grade("III/a"))
    assert h.eligible_by is None and h.blocked == ("training",)
    h = one(rules, t_tier="ahli_pertama", t_jf="JF_X", p_years_in_position=1.5)
    assert h.eligible_by is None and "training" in h.blocked


def test_an_age_cap_is_checked_on_the_projected_date(rules: RuleSet) -> None:
    jpt = {
        "p_tier": "administrator",
        "p_grade_rank": grade("IV/c"),
        "p_max_grade_rank": grade("IV/c"),
        "t_tier": "jpt_pratama",
        "t_min_grade_rank": grade("IV/c"),
    }
    assert one(rules, **jpt, p_age=56).eligible_now
    # 1.5 of 2 years in post: met in mid-2025, aged 56 that year -> dated
    assert one(rules, **jpt, p_age=56, p_years_in_position=1.5).within
    # met in 2026, aged 57 by then -> past the cap of 56: not by time alone
    h = one(rules, **jpt, p_age=56, p_years_in_position=0.5)
    assert h.eligible_by is None and h.blocked == ("age",)
    assert one(rules, **jpt, p_age=57).blocked == ("age",)


def test_no_rule_is_blocked(rules: RuleSet) -> None:
    h = one(rules, t_tier="jpt_madya")
    assert h.eligible_by is None and h.blocked == ("no_rule",) and h.pending == ()


def test_vectorised_agrees_with_the_check_and_each_pair(rules: RuleSet) -> None:
    rows = [
        pair(),
        pair(p_years_in_position=3.5),
        pair(p_education_rank=EDUCATION_LEVELS.index("D3")),
        pair(p_rating_2=BUTUH_PERBAIKAN),
        pair(t_tier="jpt_madya"),
        pair(p_grade_rank=grade("III/b")),
    ]
    frame = pd.DataFrame(rows)
    h = horizons(rules, frame, AT)
    assert (h.eligible_now == check_pairs(rules, frame).eligible).all()
    assert list(h.within(months=12)) == [True, True, False, True, False, False]
    assert list(h.within(months=60)) == [True, True, False, True, False, True]
    by = h.eligible_by()
    for i in range(len(rows)):
        single = pair_horizon(horizons(rules, frame.iloc[[i]], AT), 0)
        assert (single.eligible_by is None) == bool(np.isnat(by[i]))
    with pytest.raises(ValueError, match="months"):
        h.within(months=-1)


CREDIT_RULES = """
version: "test-ak"
rules:
  - id: jf-naik-jenjang-ak
    kind: vertical
    legal_basis: "PermenPANRB 1/2023 (angka kredit dari predikat kinerja)"
    from_tiers: [ahli_pertama]
    to_tiers: [ahli_muda]
    conditions:
      same_jf: true
      tier_step: 1
      credit_points: true
      min_rating: Baik
      vacancy: true
"""


@pytest.fixture
def credit_rules(tmp_path: Any) -> RuleSet:
    path = tmp_path / "ak.yaml"
    path.write_text(CREDIT_RULES)
    return load_rules(path)


def jf(**over: Any) -> dict[str, Any]:
    """An ahli pertama of JF_X with 90 of the 100 credit points to ahli muda, rated Baik."""
    base = {"p_tier": "ahli_pertama", "p_jf": "JF_X", "t_tier": "ahli_muda", "t_jf": "JF_X"}
    row = pair(**base)
    row["p_credit_points"] = 90.0
    row.update(over)
    return row


def test_credit_points_accrue_at_the_last_rating(credit_rules: RuleSet) -> None:
    def horizon(**over: Any) -> Any:
        return pair_horizon(horizons(credit_rules, pd.DataFrame([jf(**over)]), AT), 0)

    assert horizon(p_credit_points=100.0).eligible_now
    # 10 points at 12.5 a year (Baik, 100 %): 0.8 years = 293 days
    h = horizon()
    assert h.pending == (("credit_points", pd.Timestamp("2025-10-21")),) and h.within
    # Sangat Baik counts 150 %: 18.75 a year, 195 days
    assert horizon(p_last_rating=4.0, p_rating_1=4.0).eligible_by == pd.Timestamp("2025-07-15")
    # 20 points short at Baik: 1.6 years, beyond the 12-month horizon
    assert not horizon(p_credit_points=80.0).within
    # no points on record: the condition fails and is never dated
    row = jf()
    del row["p_credit_points"]
    h = pair_horizon(horizons(credit_rules, pd.DataFrame([row]), AT), 0)
    assert h.eligible_by is None and h.blocked == ("credit_points",)


def test_credit_points_are_explained_in_words(credit_rules: RuleSet) -> None:
    from recommender.careers.eligibility import explain

    verdict = explain(credit_rules, pd.Series(jf()), 2025)
    assert not verdict.eligible
    assert verdict.failed == ("needs 100 credit points to the next tier, has 90.0",)
    assert explain(credit_rules, pd.Series(jf(p_credit_points=100.0)), 2025).eligible
