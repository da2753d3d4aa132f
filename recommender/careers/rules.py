"""The career pattern (*pola karier*) as a versioned rules file, loaded and validated.

The default file is ``recommender/careers/pola_karier.yaml`` (its header documents every
condition); an agency points ``JENJANG_CAREER_RULES`` at its own file. A rule says which moves
(from tiers -> to tiers, optionally only one tier up or within the same JF) it allows, under which
conditions, and on which legal basis. Errors name the file, the rule and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from recommender import domain
from recommender.data.normalize import EDUCATION_LEVELS, MODALITIES

DEFAULT_RULES = Path(__file__).with_name("pola_karier.yaml")
RATINGS = ("Sangat Kurang", "Kurang", "Butuh Perbaikan", "Baik", "Sangat Baik")  # score 0..4


class RulesError(ValueError):
    """The rules file cannot be read or breaks the rules schema (message names file and rule)."""


class Conditions(BaseModel):
    """Eligibility conditions of one rule (see the YAML header for their meaning)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_education: str | None = None
    min_years_in_post: float = Field(0.0, ge=0, le=40)
    min_rating: str | None = None
    rating_years: int = Field(2, ge=1, le=3)
    grade: Literal["position", "top_of_current", "none"] = "none"
    grade_slack: int = Field(0, ge=0, le=4)
    max_age: int | None = Field(None, ge=18, le=70)
    required_training: list[str] | Literal["position"] = Field(default_factory=list)
    training_after_appointment: list[str] = Field(default_factory=list)
    vacancy: bool = False
    credit_points: bool = False
    same_jf: bool | None = None
    tier_step: int | None = Field(None, ge=-6, le=6)

    @field_validator("min_education")
    @classmethod
    def _education(cls, v: str | None) -> str | None:
        if v is not None and v != "position" and v not in EDUCATION_LEVELS:
            raise ValueError(f"unknown education {v!r}; use one of {list(EDUCATION_LEVELS)}")
        return v

    @field_validator("min_rating")
    @classmethod
    def _rating(cls, v: str | None) -> str | None:
        if v is not None and v not in RATINGS:
            raise ValueError(f"unknown rating {v!r}; use one of {list(RATINGS)}")
        return v

    @field_validator("required_training", "training_after_appointment")
    @classmethod
    def _modalities(cls, v: list[str] | str) -> list[str] | str:
        if isinstance(v, list):
            bad = [m for m in v if m not in MODALITIES]
            if bad:
                raise ValueError(f"unknown training modality {bad}; see the data contract")
        return v


class Rule(BaseModel):
    """One allowed kind of move with its conditions and legal basis."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: Literal["vertical", "horizontal", "diagonal"]
    description: str = ""
    legal_basis: str = Field(min_length=3)
    from_tiers: list[str] = Field(min_length=1)
    to_tiers: list[str] = Field(min_length=1)
    conditions: Conditions = Field(default_factory=Conditions)

    @field_validator("from_tiers", "to_tiers")
    @classmethod
    def _tiers(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if t not in domain.TIER_LEVEL]
        if bad:
            raise ValueError(f"unknown tier {bad}; use one of {list(domain.TIER_LEVEL)}")
        return v


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1)
    title: str = ""
    source: str = ""
    rules: list[Rule] = Field(min_length=1)


@dataclass(frozen=True)
class RuleSet:
    """A loaded, validated career pattern: ``version``, ``title``, ``rules`` in file order."""

    version: str
    title: str
    rules: tuple[Rule, ...]
    path: str

    def rule(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``; raises KeyError."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _location(err: dict[str, object], data: dict[str, object]) -> str:
    loc = list(err["loc"])  # type: ignore[call-overload]
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            rid = rules[loc[1]].get("id", f"#{loc[1] + 1}")
            where = f"rule {rid!r}, field {'.'.join(str(p) for p in loc[2:]) or '(rule)'}"
    return where


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Read and validate a rules file (default: the packaged Kemnaker demonstration rules).

    Raises :class:`RulesError` naming the file, the rule and the field on any problem (missing
    file, YAML syntax, unknown tier / education / rating / modality, missing legal basis,
    duplicate rule ids).
    """
    file = Path(path) if path is not None else DEFAULT_RULES
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read career rules {file}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"career rules {file} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"career rules {file}: expected a mapping with 'version' and 'rules'")
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_location(e, data)}: {e['msg']}" for e in exc.errors())  # type: ignore[arg-type]
        raise RulesError(f"career rules {file}: {problems}") from exc
    ids = [r.id for r in parsed.rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise RulesError(f"career rules {file}: duplicate rule id {dup}")
    return RuleSet(parsed.version, parsed.title, tuple(parsed.rules), str(file))
