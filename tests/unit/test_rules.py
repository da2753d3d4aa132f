"""The career pattern as a rules file: the packaged default, an agency's replacement, and
errors that name the file, the rule and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from recommender import domain
from recommender.careers.eligibility import check_pairs, explain
from recommender.careers.rules import DEFAULT_RULES, RATINGS, Rule, RulesError, RuleSet, load_rules
from recommender.data.normalize import EDUCATION_LEVELS, GRADES, MODALITIES

Data = dict[str, Any]
DEFAULT_IDS = [
    "pengawas-dari-pelaksana",
    "administrator-dari-pengawas",
    "jpt-pratama-dari-administrator",
    "jpt-madya-dari-jpt-pratama",
    "jf-kenaikan-jenjang-keahlian",
    "jf-kenaikan-jenjang-keterampilan",
    "jf-pengangkatan-pertama",
    "pengawas-dari-jf",
    "administrator-dari-jf",
    "jpt-pratama-dari-jf",
    "jpt-madya-dari-jf",
    "rotasi-setingkat",
    "perpindahan-ke-jf",
]


def _default_data() -> Data:
    data: Data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: Any, name: str = "agency.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _broken(tmp_path: Path, change: Callable[[Data], None]) -> Path:
    data = copy.deepcopy(_default_data())
    change(data)
    return _write(tmp_path, data, "broken.yaml")


def _pair(**over: Any) -> pd.Series:
    """A pelaksana with 3.5 years in post who meets everything else for a pengawas post."""
    row: dict[str, Any] = {
        "p_tier": "pelaksana",
        "p_jf": None,
        "p_grade_rank": GRADES.index("III/c"),
        "p_education_rank": EDUCATION_LEVELS.index("S1"),
        "p_years_in_position": 3.5,
        "p_age": 40,
        "p_rating_1": 3.0,
        "p_rating_2": 3.0,
        "p_rating_3": 3.0,
        "p_training_mask": 0,
        "p_max_grade_rank": GRADES.index("III/d"),
        "t_tier": "pengawas",
        "t_jf": None,
        "t_min_grade_rank": GRADES.index("III/d"),
        "t_min_education_rank": EDUCATION_LEVELS.index("S1"),
        "t_required_mask": 0,
        "t_formasi": 1,
        "t_holders": 1,
    }
    row.update(over)
    return pd.Series(row)


# ------------------------------------------------------------------------- the default file
def test_default_file_loads() -> None:
    rules = load_rules()
    assert isinstance(rules, RuleSet)
    assert rules.version == "kemnaker-demo-2026.1"
    assert rules.title.startswith("Pola karier PNS")
    assert rules.path == str(DEFAULT_RULES)
    assert len(rules.rules) == 13
    assert [r.id for r in rules.rules] == DEFAULT_IDS
    for rule in rules.rules:
        assert len(rule.legal_basis) >= 3 and rule.legal_basis.strip(), rule.id
        assert set(rule.from_tiers) <= set(domain.TIER_LEVEL), rule.id
        assert set(rule.to_tiers) <= set(domain.TIER_LEVEL), rule.id
        for code in rule.conditions.training_after_appointment:
            assert code in MODALITIES, rule.id
    # the default path and an explicit path give the same rules
    assert load_rules(DEFAULT_RULES).rules == rules.rules
    assert load_rules(str(DEFAULT_RULES)).version == rules.version


def test_rule_lookup_by_id() -> None:
    rules = load_rules()
    rule = rules.rule("pengawas-dari-pelaksana")
    assert isinstance(rule, Rule)
    assert rule.kind == "vertical"
    assert rule.conditions.min_education == "position"
    assert rule.conditions.min_years_in_post == 4
    assert rule.conditions.min_rating == "Baik"
    assert rule.conditions.grade_slack == 1
    assert rule.conditions.training_after_appointment == ["pkp"]
    assert rule.conditions.vacancy is True
    assert rules.rule("rotasi-setingkat").conditions.tier_step == 0
    assert rules.rule("jf-kenaikan-jenjang-keahlian").conditions.same_jf is True
    with pytest.raises(KeyError):
        rules.rule("no-such-rule")


def test_rules_are_immutable() -> None:
    rule = load_rules().rules[0]
    with pytest.raises(Exception, match="frozen"):
        rule.id = "changed"  # type: ignore[misc]


def test_conditions_default_to_not_checked(tmp_path: Path) -> None:
    data = {
        "version": "1",
        "rules": [
            {
                "id": "bare",
                "kind": "horizontal",
                "legal_basis": "PP 11/2017",
                "from_tiers": ["pelaksana"],
                "to_tiers": ["pelaksana"],
            }
        ],
    }
    rules = load_rules(_write(tmp_path, data))
    c = rules.rules[0].conditions
    assert c.min_education is None and c.min_rating is None and c.max_age is None
    assert c.min_years_in_post == 0 and c.grade == "none" and c.rating_years == 2
    assert c.required_training == [] and c.training_after_appointment == []
    assert c.vacancy is False and c.same_jf is None and c.tier_step is None
    assert rules.title == "" and rules.path == str(tmp_path / "agency.yaml")


# -------------------------------------------------------------------- an agency's own file
def test_agency_file_replaces_the_default_and_changes_eligibility(tmp_path: Path) -> None:
    one = copy.deepcopy(_default_data()["rules"][0])  # pengawas-dari-pelaksana
    one["id"] = "pengawas-agency"
    one["legal_basis"] = "Peraturan Menteri X/2026 ps. 3"
    one["conditions"]["min_years_in_post"] = 3
    one["conditions"]["vacancy"] = False
    path = _write(tmp_path, {"version": "agency-1", "title": "Agency", "rules": [one]})
    agency = load_rules(path)
    assert agency.version == "agency-1"
    assert [r.id for r in agency.rules] == ["pengawas-agency"]

    pair = _pair()  # 3.5 years in post, the only post already filled
    default = explain(load_rules(), pair, 2025)
    assert not default.eligible
    assert default.rule_id == "pengawas-dari-pelaksana"
    assert default.failed == (
        "needs 4 years in the current post, has 3.5",
        "no vacancy: 1 post(s) planned, 1 filled",
    )
    mine = explain(agency, pair, 2025)
    assert mine.eligible, mine.failed
    assert mine.rule_id == "pengawas-agency"
    assert mine.legal_basis == "Peraturan Menteri X/2026 ps. 3"
    # the default's other rules are gone: a rotation has no rule any more
    rotation = _pair(t_tier="pelaksana")
    assert explain(load_rules(), rotation, 2025).rule_id == "rotasi-setingkat"
    assert explain(agency, rotation, 2025).failed == (
        "no career-pattern rule leads from pelaksana to pelaksana",
    )
    frame = pd.DataFrame([pair, rotation])
    assert check_pairs(agency, frame).eligible.tolist() == [True, False]
    # under the default the rotation is allowed (no vacancy needed, 2 years in post suffice)
    assert check_pairs(load_rules(), frame).eligible.tolist() == [False, True]


def test_position_required_training_reads_the_target(tmp_path: Path) -> None:
    from recommender.careers.eligibility import modality_mask

    data = {
        "version": "1",
        "rules": [
            {
                "id": "needs-post-training",
                "kind": "vertical",
                "legal_basis": "PP 11/2017",
                "from_tiers": ["pelaksana"],
                "to_tiers": ["pengawas"],
                "conditions": {"required_training": "position"},
            }
        ],
    }
    rules = load_rules(_write(tmp_path, data))
    assert rules.rules[0].conditions.required_training == "position"
    need = modality_mask(["teknis", "pkp"])
    missing = explain(rules, _pair(t_required_mask=need, p_training_mask=modality_mask(["pkp"])), 1)
    assert missing.failed == ("needs Pelatihan Teknis completed, not on record",)
    assert explain(rules, _pair(t_required_mask=need, p_training_mask=need), 1).eligible


# ----------------------------------------------------------------------------------- errors
def _error(path: Path) -> str:
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert str(path) in message, message
    return message


def _names(message: str, rule_id: str, field: str) -> None:
    assert f"rule {rule_id!r}" in message, message
    assert f"field {field}" in message, message


def test_unknown_tier(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["rules"][1].update(to_tiers=["administrator", "kepala"]))
    message = _error(path)
    _names(message, "administrator-dari-pengawas", "to_tiers")
    assert "unknown tier ['kepala']" in message


def test_unknown_education(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["rules"][0]["conditions"].update(min_education="S4"))
    message = _error(path)
    _names(message, "pengawas-dari-pelaksana", "conditions.min_education")
    assert "unknown education 'S4'" in message


def test_unknown_rating(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["rules"][4]["conditions"].update(min_rating="Excellent"))
    message = _error(path)
    _names(message, "jf-kenaikan-jenjang-keahlian", "conditions.min_rating")
    assert "unknown rating 'Excellent'" in message
    for rating in RATINGS:
        assert rating in message  # the legal values are listed


@pytest.mark.parametrize("field", ["training_after_appointment", "required_training"])
def test_unknown_modality(tmp_path: Path, field: str) -> None:
    path = _broken(tmp_path, lambda d: d["rules"][6]["conditions"].update({field: ["diklatpim"]}))
    message = _error(path)
    _names(message, "jf-pengangkatan-pertama", f"conditions.{field}")
    assert "unknown training modality ['diklatpim']" in message


def test_missing_legal_basis(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["rules"][2].pop("legal_basis"))
    message = _error(path)
    _names(message, "jpt-pratama-dari-administrator", "legal_basis")
    assert "Field required" in message


def test_empty_legal_basis(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["rules"][3].update(legal_basis=""))
    _names(_error(path), "jpt-madya-dari-jpt-pratama", "legal_basis")


@pytest.mark.parametrize(
    ("where", "field"),
    [("rule", "approved_by"), ("conditions", "conditions.min_years")],
)
def test_unknown_key(tmp_path: Path, where: str, field: str) -> None:
    def change(d: Data) -> None:
        target = d["rules"][2] if where == "rule" else d["rules"][2]["conditions"]
        target[field.rsplit(".", 1)[-1]] = 3

    message = _error(_broken(tmp_path, change))
    _names(message, "jpt-pratama-dari-administrator", field)
    assert "Extra inputs are not permitted" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = _error(_broken(tmp_path, lambda d: d.update(author="someone")))
    assert "author: Extra inputs are not permitted" in message


def test_rule_without_id_is_named_by_its_position(tmp_path: Path) -> None:
    message = _error(_broken(tmp_path, lambda d: d["rules"][1].pop("id")))
    _names(message, "#2", "id")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    def change(d: Data) -> None:
        d["rules"][0]["conditions"]["min_education"] = "S4"
        d["rules"][11]["to_tiers"].append("kepala")

    message = _error(_broken(tmp_path, change))
    _names(message, "pengawas-dari-pelaksana", "conditions.min_education")
    _names(message, "rotasi-setingkat", "to_tiers")


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["rules"].append(copy.deepcopy(d["rules"][0])))
    message = _error(path)
    assert "duplicate rule id ['pengawas-dari-pelaksana']" in message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("version: '1'\nrules:\n  - id: a\n    from_tiers: [pelaksana\n")
    message = _error(path)
    assert "is not valid YAML" in message
    assert "line 4" in message  # where to look


def test_missing_file(tmp_path: Path) -> None:
    message = _error(tmp_path / "nope.yaml")
    assert message.startswith("cannot read career rules")
    assert "No such file or directory" in message


@pytest.mark.parametrize("text", ["- a\n- b\n", "", "just a string\n"])
def test_top_level_not_a_mapping(tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(text)
    assert "expected a mapping with 'version' and 'rules'" in _error(path)


def test_no_rules(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, {"version": "1", "rules": []}))
    assert "rules: List should have at least 1 item" in message
