"""Every rule of the career-pattern file keeps its teeth: for each rule and each condition it
sets, a pair that meets everything else is eligible under the rule, and the same pair with that
one condition broken is refused under it (the generator must agree with the rules by moving
people under them, never by the rules being loosened; issue 17)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from recommender import domain
from recommender.careers.eligibility import MODALITY_BIT, applies, check_pairs, rule_failures
from recommender.careers.rules import RATINGS, Rule, RuleSet, load_rules
from recommender.data.normalize import EDUCATION_LEVELS, GRADES

STRUCTURAL = ("pelaksana", "pengawas", "administrator", "jpt_pratama", "jpt_madya", "jpt_utama")
ALL_TRAINING = sum(1 << b for b in MODALITY_BIT.values())
RULES = load_rules()


def _tiers(rule: Rule) -> tuple[str, str]:
    step = rule.conditions.tier_step
    for f in rule.from_tiers:
        for t in rule.to_tiers:
            if step is None or domain.TIER_LEVEL[t] - domain.TIER_LEVEL[f] == step:
                return f, t
    raise AssertionError(f"{rule.id}: no tier pair")


def _good(rule: Rule) -> dict[str, Any]:
    """A pair meeting every condition of ``rule`` with room to spare."""
    f, t = _tiers(rule)
    jf_from = "JF_A" if f not in STRUCTURAL else None
    same = rule.conditions.same_jf
    t_jf = None if t in STRUCTURAL else ("JF_A" if same else "JF_B")
    top = float(GRADES.index("IV/e"))
    return {
        "p_tier": f,
        "p_jf": jf_from if same is not True else "JF_A",
        "p_grade_rank": top,
        "p_max_grade_rank": top,
        "p_education_rank": float(EDUCATION_LEVELS.index("S3")),
        "p_years_in_position": 30.0,
        "p_age": 30.0,
        "p_rating_1": 4.0,
        "p_rating_2": 4.0,
        "p_rating_3": 4.0,
        "p_training_mask": ALL_TRAINING,
        "p_credit_points": 1e4,
        "t_tier": t,
        "t_jf": t_jf,
        "t_min_grade_rank": float(GRADES.index("III/a")),
        "t_min_education_rank": float(EDUCATION_LEVELS.index("D3")),
        "t_required_mask": ALL_TRAINING,
        "t_formasi": 3.0,
        "t_holders": 0.0,
    }


def _breaks(rule: Rule) -> dict[str, dict[str, Any]]:
    """Per condition the rule sets: the columns that break it alone."""
    c = rule.conditions
    out: dict[str, dict[str, Any]] = {}
    if c.min_education is not None:
        out["education"] = {"p_education_rank": 0.0, "t_min_education_rank": 5.0}
    if c.min_years_in_post > 0:
        out["years_in_post"] = {"p_years_in_position": c.min_years_in_post - 0.01}
    if c.min_rating is not None and RATINGS.index(c.min_rating) > 0:
        out["rating"] = {"p_rating_1": RATINGS.index(c.min_rating) - 1.0}
    if c.grade == "position":
        need = float(GRADES.index("III/d"))
        out["grade"] = {"t_min_grade_rank": need, "p_grade_rank": need - c.grade_slack - 1}
    elif c.grade == "top_of_current":
        out["grade"] = {"p_grade_rank": float(GRADES.index("IV/e")) - 1}
    if c.max_age is not None:
        out["age"] = {"p_age": c.max_age + 1.0}
    if c.required_training:
        out["training"] = {"p_training_mask": 0}
    if c.vacancy:
        out["vacancy"] = {"t_holders": 3.0}
    if c.credit_points:
        out["credit_points"] = {"p_credit_points": 0.0}
    return out


CASES = [(r.id, cond) for r in RULES.rules for cond in _breaks(r)]


def _one(rules: RuleSet, rule_id: str, **over: Any) -> tuple[pd.DataFrame, Rule]:
    rule = rules.rule(rule_id)
    return pd.DataFrame([{**_good(rule), **over}]), rule


@pytest.mark.parametrize("rule_id", [r.id for r in RULES.rules])
def test_every_rule_has_an_eligible_case(rule_id: str) -> None:
    pairs, rule = _one(RULES, rule_id)
    assert applies(rule, pairs).all()
    fails = rule_failures(rule, pairs)
    assert not any(v[0] for v in fails.values()), {k: bool(v[0]) for k, v in fails.items()}
    assert check_pairs(RULES, pairs).eligible[0]


@pytest.mark.parametrize(("rule_id", "condition"), CASES)
def test_every_condition_of_every_rule_refuses_a_case(rule_id: str, condition: str) -> None:
    rule = RULES.rule(rule_id)
    pairs, _ = _one(RULES, rule_id, **_breaks(rule)[condition])
    assert applies(rule, pairs).all()
    fails = rule_failures(rule, pairs)
    assert [k for k, v in fails.items() if v[0]] == [condition]


def test_the_default_file_checks_what_the_generator_obeys() -> None:
    """The conditions the generator moves people under (training/synthetic/progression.py) are
    all in the rules file: vacancy for every upward rule, the basic functional training for the
    first JF appointment, two Baik ratings, years in post."""
    upward = [r for r in RULES.rules if r.kind in ("vertical", "diagonal")]
    assert upward and all(r.conditions.vacancy for r in upward)
    assert all(r.conditions.min_rating == "Baik" and r.conditions.rating_years == 2 for r in upward)
    assert all(r.conditions.min_years_in_post >= 2 for r in upward)
    first = RULES.rule("jf-pengangkatan-pertama").conditions
    assert first.required_training == ["fungsional_dasar"]
    assert len(CASES) >= 5 * len(upward)
