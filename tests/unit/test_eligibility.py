"""Eligibility of (person, target) pairs under the default career pattern, on hand-built pairs:
each condition failing alone with its exact sentence, several at once, eligible pairs, moves no
rule covers, and the vectorised check agreeing with the explanation row by row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender.careers.eligibility import (
    CONDITIONS,
    KIND_CODE,
    MODALITY_BIT,
    applies,
    check_pairs,
    explain,
    modality_mask,
)
from recommender.careers.rules import RuleSet, load_rules
from recommender.data.normalize import EDUCATION_LEVELS, GRADES, MODALITIES

YEAR = 2025
NAN = np.nan
BAIK, BUTUH_PERBAIKAN, SANGAT_BAIK = 3.0, 2.0, 4.0


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def edu(code: str) -> int:
    return EDUCATION_LEVELS.index(code)


def grade(code: str) -> int:
    return GRADES.index(code)


def pair(**over: Any) -> pd.Series:
    """One (person, target) row. Defaults: a pelaksana (III/c, S1, 5 years in post, aged 40,
    rated Baik three years running, no training) and a pengawas post (minimum III/d and S1,
    2 posts planned, 1 filled) -- eligible under ``pengawas-dari-pelaksana``."""
    row: dict[str, Any] = {
        "p_tier": "pelaksana",
        "p_jf": None,
        "p_grade_rank": grade("III/c"),
        "p_education_rank": edu("S1"),
        "p_years_in_position": 5.0,
        "p_age": 40,
        "p_rating_1": BAIK,
        "p_rating_2": BAIK,
        "p_rating_3": BAIK,
        "p_training_mask": 0,
        "p_max_grade_rank": grade("III/d"),
        "t_tier": "pengawas",
        "t_jf": None,
        "t_min_grade_rank": grade("III/d"),
        "t_min_education_rank": edu("S1"),
        "t_required_mask": 0,
        "t_formasi": 2,
        "t_holders": 1,
    }
    unknown = set(over) - set(row)
    assert not unknown, f"not a pairs column: {unknown}"
    row.update(over)
    return pd.Series(row)


# JF tier promotion ahli_pertama (III/a-III/b) -> ahli_muda of the same JF, top of tier reached
JF_PROMOTION = {
    "p_tier": "ahli_pertama",
    "p_jf": "JF_ANALIS",
    "p_grade_rank": grade("III/b"),
    "p_max_grade_rank": grade("III/b"),
    "p_years_in_position": 3.0,
    "t_tier": "ahli_muda",
    "t_jf": "JF_ANALIS",
    "t_min_grade_rank": grade("III/c"),
}
# open JPT pratama selection from an administrator post (IV/a -> minimum IV/c, slack 1)
JPT = {
    "p_tier": "administrator",
    "p_grade_rank": grade("IV/b"),
    "p_education_rank": edu("S2"),
    "p_age": 50,
    "t_tier": "jpt_pratama",
    "t_min_grade_rank": grade("IV/c"),
    "t_min_education_rank": edu("S2"),
}
# first appointment of a pelaksana to ahli_pertama of a JF
FIRST_JF = {
    "p_grade_rank": grade("III/a"),
    "p_years_in_position": 2.0,
    "t_tier": "ahli_pertama",
    "t_jf": "JF_ANALIS",
    "t_min_grade_rank": grade("III/a"),
    "p_training_mask": modality_mask(["fungsional_dasar"]),
}


def verdict(rules: RuleSet, **over: Any) -> Any:
    return explain(rules, pair(**over), YEAR)


# ------------------------------------------------------------------------------- eligible
def test_eligible_pair_names_rule_basis_and_training_after_appointment(rules: RuleSet) -> None:
    v = verdict(rules)
    assert v.eligible
    assert v.rule_id == "pengawas-dari-pelaksana"
    assert v.kind == "vertical"
    assert v.legal_basis == "PP 11/2017 ps. 54-55 (syarat jabatan pengawas)"
    assert v.failed == ()
    assert v.after_appointment == ("Pelatihan Kepemimpinan Pengawas within a year of appointment",)


def test_eligible_examples_of_other_rules(rules: RuleSet) -> None:
    promo = verdict(rules, **JF_PROMOTION)
    assert (promo.eligible, promo.rule_id, promo.after_appointment) == (
        True,
        "jf-kenaikan-jenjang-keahlian",
        (),
    )
    jpt = verdict(rules, **JPT)
    assert jpt.eligible and jpt.rule_id == "jpt-pratama-dari-administrator"
    assert jpt.after_appointment == (
        "Pelatihan Kepemimpinan Nasional Tingkat II within a year of appointment",
    )
    first = verdict(rules, **FIRST_JF)
    assert first.eligible and first.rule_id == "jf-pengangkatan-pertama"
    assert first.kind == "diagonal"
    administrator = verdict(
        rules,
        p_tier="pengawas",
        p_grade_rank=grade("III/d"),
        p_years_in_position=3.0,
        t_tier="administrator",
        t_min_grade_rank=grade("IV/a"),
    )
    assert administrator.eligible and administrator.rule_id == "administrator-dari-pengawas"
    assert administrator.after_appointment == (
        "Pelatihan Kepemimpinan Administrator within a year of appointment",
    )


def test_boundaries_are_inclusive(rules: RuleSet) -> None:
    """Exactly the minimum years, the minimum rating, the age cap and one vacancy all pass."""
    assert verdict(rules, p_years_in_position=4.0, t_formasi=1, t_holders=0).eligible
    assert verdict(rules, **{**JPT, "p_age": 56}).eligible
    assert verdict(rules, p_rating_1=SANGAT_BAIK, p_rating_2=BAIK).eligible


# ------------------------------------------------------------------ one condition failing alone
@pytest.mark.parametrize(
    ("over", "sentence"),
    [
        ({"p_education_rank": edu("D3")}, "needs education S1 or higher, has D3"),
        ({"p_education_rank": edu("SMA")}, "needs education S1 or higher, has SMA"),
        (
            {"p_education_rank": edu("S1"), "t_min_education_rank": edu("S2")},
            "needs education S2 or higher, has S1",
        ),
        ({"p_years_in_position": 3.5}, "needs 4 years in the current post, has 3.5"),
        ({"p_years_in_position": 0.04}, "needs 4 years in the current post, has 0.0"),
        (
            {"p_rating_1": BUTUH_PERBAIKAN},
            "needs rating Baik or better in each of the last 2 year(s), "
            "has 2024: Butuh Perbaikan, 2023: Baik",
        ),
        (
            {"p_rating_2": NAN},
            "needs rating Baik or better in each of the last 2 year(s), has 2024: Baik, 2023: none",
        ),
        (
            {"p_rating_1": NAN, "p_rating_2": NAN},
            "needs rating Baik or better in each of the last 2 year(s), has 2024: none, 2023: none",
        ),
        # minimum III/d with one step of slack: III/c is accepted, III/b is not
        ({"p_grade_rank": grade("III/b")}, "needs grade III/c, has III/b"),
        ({"p_grade_rank": grade("II/d")}, "needs grade III/c, has II/d"),
        ({"t_formasi": 1, "t_holders": 1}, "no vacancy: 1 post(s) planned, 1 filled"),
        ({"t_formasi": 2, "t_holders": 3}, "no vacancy: 2 post(s) planned, 3 filled"),
        ({"t_formasi": 0, "t_holders": 0}, "no vacancy: 0 post(s) planned, 0 filled"),
    ],
)
def test_one_condition_fails_alone(rules: RuleSet, over: dict[str, Any], sentence: str) -> None:
    v = verdict(rules, **over)
    assert not v.eligible
    assert v.rule_id == "pengawas-dari-pelaksana"
    assert v.legal_basis == "PP 11/2017 ps. 54-55 (syarat jabatan pengawas)"
    assert v.failed == (sentence,)
    # the training due after appointment is still shown for an ineligible pair
    assert v.after_appointment == ("Pelatihan Kepemimpinan Pengawas within a year of appointment",)


def test_only_the_rules_rating_years_are_read(rules: RuleSet) -> None:
    """``rating_years: 2``: a missing or poor third-last year does not matter."""
    assert verdict(rules, p_rating_3=NAN).eligible
    assert verdict(rules, p_rating_3=0.0).eligible


def test_grade_top_of_current_tier(rules: RuleSet) -> None:
    v = verdict(rules, **{**JF_PROMOTION, "p_grade_rank": grade("III/a")})
    assert v.rule_id == "jf-kenaikan-jenjang-keahlian"
    assert v.failed == ("needs grade III/b (top of the current tier), has III/a",)
    # the target's minimum grade plays no part in this rule
    assert verdict(rules, **{**JF_PROMOTION, "t_min_grade_rank": grade("IV/e")}).eligible


def test_age_cap_for_jpt(rules: RuleSet) -> None:
    v = verdict(rules, **{**JPT, "p_age": 57})
    assert v.rule_id == "jpt-pratama-dari-administrator"
    assert v.failed == ("must be at most 56 years old, is 57",)
    madya = verdict(
        rules,
        p_tier="jpt_pratama",
        p_grade_rank=grade("IV/c"),
        p_education_rank=edu("S2"),
        p_years_in_position=2.0,
        p_age=59,
        t_tier="jpt_madya",
        t_min_grade_rank=grade("IV/d"),
        t_min_education_rank=edu("S2"),
    )
    assert madya.rule_id == "jpt-madya-dari-jpt-pratama"
    assert madya.failed == ("must be at most 58 years old, is 59",)
    # no age cap below JPT
    assert verdict(rules, p_age=58).eligible


def test_required_training_for_first_jf_appointment(rules: RuleSet) -> None:
    v = verdict(rules, **{**FIRST_JF, "p_training_mask": 0})
    assert v.rule_id == "jf-pengangkatan-pertama"
    assert v.failed == ("needs Pelatihan Dasar Fungsional completed, not on record",)
    # other training does not stand in for it
    other = modality_mask(["latsar", "teknis", "pkp"])
    assert verdict(rules, **{**FIRST_JF, "p_training_mask": other}).failed == v.failed
    both = modality_mask(["latsar", "fungsional_dasar"])
    assert verdict(rules, **{**FIRST_JF, "p_training_mask": both}).eligible


def test_first_appointment_to_pemula_also_needs_basic_functional_training(
    rules: RuleSet,
) -> None:
    """docs/careers-model.md: 'first appointment to a JF (basic functional training
    required)'; pelaksana and pemula are both tier level 1. Found by this test: the rotation
    rule used to cover pelaksana -> pemula and, having fewer failures, won; rotation now leads
    only to administrative and managerial posts, and entering a JF at the same level goes
    through perpindahan-ke-jf (training, rating, vacancy)."""
    v = verdict(
        rules,
        **{**FIRST_JF, "t_tier": "pemula", "t_min_grade_rank": grade("II/a"), "p_training_mask": 0},
    )
    assert not v.eligible, (
        "a pelaksana without Pelatihan Dasar Fungsional is eligible for a first JF appointment "
        f"at tier pemula through {v.rule_id!r}"
    )
    assert any("Pelatihan Dasar Fungsional" in f for f in v.failed)


def test_rotation_into_a_jf_goes_through_the_jf_rule(rules: RuleSet) -> None:
    # a pengawas (level 3) moving to ahli_muda (level 3) of a JF: transfer rule, not rotation
    over = {"p_tier": "pengawas", "t_tier": "ahli_muda", "t_jf": "JF_ANALIS", "t_holders": 2}
    v = verdict(rules, **over)
    assert v.rule_id == "perpindahan-ke-jf" and not v.eligible
    assert "needs Pelatihan Dasar Fungsional completed, not on record" in v.failed
    assert "no vacancy: 2 post(s) planned, 2 filled" in v.failed
    ok = verdict(rules, **{**over, "t_holders": 1, "p_training_mask": FIRST_JF["p_training_mask"]})
    assert ok.eligible and ok.kind == "horizontal"


@pytest.mark.parametrize(
    ("column", "sentence"),
    [
        ("p_education_rank", "needs education S1 or higher, has none on record"),
        ("p_years_in_position", "needs 4 years in the current post, has none on record"),
        ("p_grade_rank", "needs grade III/c, has none on record"),
        ("t_formasi", "no vacancy: none on record post(s) planned, 1 filled"),
    ],
)
def test_unknown_facts_fail_their_condition(rules: RuleSet, column: str, sentence: str) -> None:
    v = verdict(rules, **{column: float("nan")})
    assert not v.eligible and sentence in v.failed


# ---------------------------------------------------------------------- several at once
def test_several_failures_in_condition_order(rules: RuleSet) -> None:
    row = pair(
        p_education_rank=edu("D3"),
        p_years_in_position=1.25,
        p_rating_1=NAN,
        p_grade_rank=grade("II/c"),
        t_formasi=1,
        t_holders=4,
    )
    v = explain(rules, row, YEAR)
    assert not v.eligible and v.rule_id == "pengawas-dari-pelaksana"
    assert v.failed == (
        "needs education S1 or higher, has D3",
        "needs 4 years in the current post, has 1.2",
        "needs rating Baik or better in each of the last 2 year(s), has 2024: none, 2023: Baik",
        "needs grade III/c, has II/c",
        "no vacancy: 1 post(s) planned, 4 filled",
    )
    checks = check_pairs(rules, pd.DataFrame([row]))
    assert checks.n_failed.tolist() == [5]
    assert [c for c in CONDITIONS if checks.failed[c][0]] == [
        "education",
        "years_in_post",
        "rating",
        "grade",
        "vacancy",
    ]


def test_jpt_failing_everything_it_checks(rules: RuleSet) -> None:
    v = verdict(
        rules,
        **{
            **JPT,
            "p_education_rank": edu("S1"),
            "p_years_in_position": 1.0,
            "p_rating_1": 1.0,
            "p_rating_2": 0.0,
            "p_grade_rank": grade("III/d"),
            "p_age": 60,
            "t_holders": 2,
        },
    )
    assert v.failed == (
        "needs education S2 or higher, has S1",
        "needs 2 years in the current post, has 1.0",
        "needs rating Baik or better in each of the last 2 year(s), "
        "has 2024: Kurang, 2023: Sangat Kurang",
        "needs grade IV/b, has III/d",
        "must be at most 56 years old, is 60",
        "no vacancy: 2 post(s) planned, 2 filled",
    )


# ----------------------------------------------------------------------------- D4 as S1
def test_d4_counts_as_s1(rules: RuleSet) -> None:
    assert verdict(rules, p_education_rank=edu("D4")).eligible  # post asks S1
    assert verdict(rules, t_min_education_rank=edu("D4")).eligible  # post asks D4, has S1
    assert verdict(rules, p_education_rank=edu("D4"), t_min_education_rank=edu("D4")).eligible
    # a post asking D4 is read as S1/D4 in the sentence
    assert verdict(rules, p_education_rank=edu("D3"), t_min_education_rank=edu("D4")).failed == (
        "needs education S1 or higher, has D3",
    )
    # but D4 is not S2
    assert verdict(rules, p_education_rank=edu("D4"), t_min_education_rank=edu("S2")).failed == (
        "needs education S2 or higher, has D4",
    )


# --------------------------------------------------------------------- rules that apply or not
def test_no_rule_covers_the_move(rules: RuleSet) -> None:
    v = verdict(rules, p_tier="ahli_muda", p_jf="JF_ANALIS", t_tier="jpt_madya")
    assert v == type(v)(
        False,
        None,
        None,
        None,
        ("no career-pattern rule leads from ahli_muda to jpt_madya",),
        (),
    )
    checks = check_pairs(rules, pd.DataFrame([pair(p_tier="ahli_muda", t_tier="jpt_madya")]))
    assert checks.rule.tolist() == [-1]
    assert checks.n_failed.tolist() == [-1]
    assert checks.kind.tolist() == [KIND_CODE["none"]]
    assert not checks.eligible[0]
    # demotions have no rule either
    assert verdict(rules, p_tier="administrator", t_tier="pengawas").failed == (
        "no career-pattern rule leads from administrator to pengawas",
    )


def test_tier_step_limits_jf_promotion_to_one_tier(rules: RuleSet) -> None:
    two_up = {**JF_PROMOTION, "t_tier": "ahli_madya", "t_min_grade_rank": grade("IV/a")}
    v = verdict(rules, **two_up)
    assert v.rule_id is None
    assert v.failed == ("no career-pattern rule leads from ahli_pertama to ahli_madya",)
    rule = rules.rule("jf-kenaikan-jenjang-keahlian")
    frame = pd.DataFrame([pair(**two_up), pair(**JF_PROMOTION)])
    assert applies(rule, frame).tolist() == [False, True]


def test_same_jf_scopes_jf_promotion(rules: RuleSet) -> None:
    base = {
        **JF_PROMOTION,
        "p_tier": "ahli_muda",
        "p_grade_rank": grade("III/d"),
        "p_max_grade_rank": grade("III/d"),
        "t_tier": "ahli_madya",
        "t_min_grade_rank": grade("IV/a"),
    }
    same = verdict(rules, **base)
    assert same.eligible and same.rule_id == "jf-kenaikan-jenjang-keahlian"
    other = verdict(rules, **{**base, "t_jf": "JF_PRANATA"})
    assert other.rule_id != "jf-kenaikan-jenjang-keahlian"
    assert other.rule_id is None
    assert other.failed == ("no career-pattern rule leads from ahli_muda to ahli_madya",)
    rule = rules.rule("jf-kenaikan-jenjang-keahlian")
    frame = pd.DataFrame(
        [
            pair(**base),
            pair(**{**base, "t_jf": "JF_PRANATA"}),
            pair(**{**base, "t_jf": None}),
            pair(**{**base, "p_jf": None, "t_jf": None}),  # both missing is not "the same JF"
        ]
    )
    assert applies(rule, frame).tolist() == [True, False, False, False]


def test_rotation_at_the_same_level(rules: RuleSet) -> None:
    v = verdict(rules, t_tier="pelaksana", t_min_grade_rank=grade("II/a"), t_formasi=1)
    assert v.eligible and v.rule_id == "rotasi-setingkat" and v.kind == "horizontal"
    assert v.after_appointment == ()
    short = verdict(rules, t_tier="pelaksana", p_years_in_position=1.5)
    assert short.failed == ("needs 2 years in the current post, has 1.5",)


# ------------------------------------------------------------------ vectorised == explained
_PREFIX = {
    "needs education": "education",
    "needs rating": "rating",
    "needs grade": "grade",
    "must be at most": "age",
    "no vacancy": "vacancy",
}


def _condition(sentence: str) -> str:
    for prefix, name in _PREFIX.items():
        if sentence.startswith(prefix):
            return name
    if sentence.endswith("completed, not on record"):
        return "training"
    assert " years in the current post, has " in sentence, sentence
    return "years_in_post"


def _mixed_frame(rules: RuleSet, n: int, seed: int = 11) -> pd.DataFrame:
    """Hand examples above plus random pairs: mostly moves some rule covers (from/to tiers
    drawn from a rule), each condition near its threshold so it passes or fails at random;
    a fifth with any two tiers (often no rule)."""
    rng = np.random.default_rng(seed)
    tiers = sorted({t for r in rules.rules for t in (*r.from_tiers, *r.to_tiers)})
    ratings = [NAN, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0]
    bits = list(MODALITY_BIT.values())
    rows = [pair(), pair(**JF_PROMOTION), pair(**JPT), pair(**FIRST_JF)]
    for _ in range(n):
        if rng.random() < 0.2:
            p_tier, t_tier = str(rng.choice(tiers)), str(rng.choice(tiers))
        else:
            rule = rules.rules[int(rng.integers(len(rules.rules)))]
            p_tier, t_tier = str(rng.choice(rule.from_tiers)), str(rng.choice(rule.to_tiers))
        jf = str(rng.choice(["JF_A", "JF_B"]))
        mask = modality_mask(["fungsional_dasar"]) if rng.random() < 0.7 else 0
        for b in rng.choice(bits, size=int(rng.integers(0, 3)), replace=False):
            mask |= 1 << int(b)
        t_grade = int(rng.integers(4, len(GRADES)))
        p_grade = int(np.clip(t_grade + rng.integers(-2, 2), 0, len(GRADES) - 1))
        t_edu = int(rng.integers(5, len(EDUCATION_LEVELS)))
        holders = int(rng.integers(0, 3))
        rows.append(
            pair(
                p_tier=p_tier,
                p_jf=jf if rng.random() < 0.8 else None,
                p_grade_rank=p_grade,
                p_education_rank=int(np.clip(t_edu + rng.integers(-1, 3), 0, 9)),
                p_years_in_position=float(np.round(rng.uniform(1.5, 6), 2)),
                p_age=int(rng.integers(45, 60)),
                p_rating_1=float(rng.choice(ratings)),
                p_rating_2=float(rng.choice(ratings)),
                p_rating_3=float(rng.choice(ratings)),
                p_training_mask=mask,
                p_max_grade_rank=int(np.clip(p_grade + rng.integers(0, 2), 0, len(GRADES) - 1)),
                t_tier=t_tier,
                t_jf=jf if rng.random() < 0.7 else "JF_C",
                t_min_grade_rank=t_grade,
                t_min_education_rank=t_edu,
                t_required_mask=0,
                t_formasi=holders + int(rng.integers(-1, 3)),
                t_holders=holders,
            )
        )
    return pd.DataFrame(rows).reset_index(drop=True)


def test_check_pairs_equals_explain_row_by_row(rules: RuleSet) -> None:
    frame = _mixed_frame(rules, 250)
    checks = check_pairs(rules, frame)
    assert len(checks.rule) == len(frame)
    # the frame really is mixed
    assert 20 < checks.eligible.sum() < len(frame) - 20
    assert (checks.rule == -1).sum() > 20
    assert len(set(checks.rule[checks.rule >= 0].tolist())) >= 8
    assert set(checks.n_failed.tolist()) >= {-1, 0, 1, 2, 3}
    for i in range(len(frame)):
        v = explain(rules, frame.iloc[i], YEAR)
        where = f"row {i}: {frame.iloc[i].to_dict()} -> {v}"
        assert v.eligible == bool(checks.eligible[i]), where
        if checks.rule[i] < 0:
            assert v.rule_id is None and v.kind is None and v.legal_basis is None, where
            assert len(v.failed) == 1 and v.failed[0].startswith("no career-pattern rule"), where
            assert checks.n_failed[i] == -1 and checks.kind[i] == 0, where
            continue
        rule = rules.rules[checks.rule[i]]
        assert v.rule_id == rule.id and v.legal_basis == rule.legal_basis, where
        assert checks.kind[i] == KIND_CODE[rule.kind] and v.kind == rule.kind, where
        assert len(v.failed) == checks.n_failed[i], where
        assert [_condition(s) for s in v.failed] == [
            c for c in CONDITIONS if checks.failed[c][i]
        ], where
        assert v.eligible == (v.failed == ()), where


def test_check_pairs_is_row_independent(rules: RuleSet) -> None:
    """A pair's result does not depend on its neighbours or on row order."""
    frame = _mixed_frame(rules, 80, seed=5)
    whole = check_pairs(rules, frame)
    order = np.random.default_rng(0).permutation(len(frame))
    shuffled = check_pairs(rules, frame.iloc[order].reset_index(drop=True))
    np.testing.assert_array_equal(shuffled.rule, whole.rule[order])
    np.testing.assert_array_equal(shuffled.eligible, whole.eligible[order])
    np.testing.assert_array_equal(shuffled.n_failed, whole.n_failed[order])
    for c in CONDITIONS:
        np.testing.assert_array_equal(shuffled.failed[c], whole.failed[c][order])


def test_missing_column_raises_key_error(rules: RuleSet) -> None:
    with pytest.raises(KeyError, match="t_holders"):
        check_pairs(rules, pd.DataFrame([pair()]).drop(columns="t_holders"))


# ------------------------------------------------------------- a person eligible for nothing
def test_a_person_eligible_for_nothing_gets_reasons_not_an_error(rules: RuleSet) -> None:
    person = {
        "p_tier": "pelaksana",
        "p_grade_rank": grade("II/a"),
        "p_education_rank": edu("SMA"),
        "p_years_in_position": 0.5,
        "p_age": 58,
        "p_rating_1": 1.0,
        "p_rating_2": NAN,
        "p_training_mask": 0,
    }
    targets: list[dict[str, Any]] = [
        {"t_tier": "pengawas"},
        {"t_tier": "ahli_pertama", "t_jf": "JF_A", "t_min_grade_rank": grade("III/a")},
        {"t_tier": "terampil", "t_jf": "JF_B", "t_min_grade_rank": grade("II/c")},
        {
            "t_tier": "pelaksana",
            "t_min_grade_rank": grade("II/a"),
            "t_min_education_rank": edu("SMA"),
            "t_holders": 5,
        },
        {"t_tier": "administrator"},
        {"t_tier": "jpt_pratama"},
    ]
    frame = pd.DataFrame([pair(**person, **t) for t in targets])
    checks = check_pairs(rules, frame)
    assert not checks.eligible.any()
    verdicts = [explain(rules, frame.iloc[i], YEAR) for i in range(len(frame))]
    assert all(not v.eligible and v.failed for v in verdicts)
    assert [v.rule_id for v in verdicts] == [
        "pengawas-dari-pelaksana",
        "jf-pengangkatan-pertama",
        "jf-pengangkatan-pertama",
        "rotasi-setingkat",
        None,
        None,
    ]
    assert verdicts[1].failed == (
        "needs education S1 or higher, has SMA",
        "needs 2 years in the current post, has 0.5",
        "needs rating Baik or better in each of the last 2 year(s), has 2024: Kurang, 2023: none",
        "needs grade II/d, has II/a",
        "needs Pelatihan Dasar Fungsional completed, not on record",
    )
    assert verdicts[3].failed == ("needs 2 years in the current post, has 0.5",)
    assert verdicts[5].failed == ("no career-pattern rule leads from pelaksana to jpt_pratama",)


def test_modality_mask() -> None:
    assert modality_mask([]) == 0
    assert modality_mask(["latsar"]) == 1 << list(MODALITIES).index("latsar")
    assert modality_mask(["pkp", "pkp"]) == modality_mask(["pkp"])
    assert modality_mask(["pkp", "unknown-code"]) == modality_mask(["pkp"])
    every = modality_mask(MODALITIES)
    assert every == (1 << len(MODALITIES)) - 1
