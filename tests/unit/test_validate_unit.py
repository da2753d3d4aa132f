"""Unit tests of recommender.data.validate on small hand-built tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from recommender.data.schema import PROFILES, TABLES
from recommender.data.validate import (
    REDACTED,
    Problem,
    Report,
    check_table,
    detect_profile,
    required_tables,
    validate,
)

NIP = "198805032013102001"  # born 1988-05-03, appointed 2013-10, female, number 1
NIP_2 = "197502021999061002"  # born 1975-02-02, appointed 1999-06, male, number 2


def _check(table: str, **columns: list[str | None]) -> tuple[list[Problem], pd.DataFrame]:
    problems: list[Problem] = []
    res = check_table(TABLES[table], pd.DataFrame(columns, dtype=object), problems)
    assert res.parsed is not None
    return problems, res.parsed


def _where(problems: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.rule) for p in problems]


def _competencies(ids: list[str | None]) -> dict[str, list[str | None]]:
    return {"competency_id": ids, "name": ["x"] * len(ids), "type": ["teknis"] * len(ids)}


def _employee(nip: str = NIP, **changes: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "nip": nip,
        "name": "Fitri",
        "sex": "P",
        "birth_date": "1988-05-03",
        "education": "S1",
        "grade": "III/c",
        "grade_date": "2022-11-03",
        "asn_status": "PNS",
        "position_id": "P1",
        "unit_id": "U1",
        "hire_date": "2013-10-01",
        "position_start_date": "2022-11-03",
        "status": "active",
        "end_date": None,
    }
    return row | changes


def _assessments(nips: list[str | None]) -> pd.DataFrame:
    n = len(nips)
    return pd.DataFrame(
        {
            "nip": nips,
            "competency_id": ["MK01"] * n,
            "level": ["3"] * n,
            "assessed_on": [f"2023-01-{i + 1:02d}" for i in range(n)],
            "method": ["cat"] * n,
        },
        dtype=object,
    )


# --------------------------------------------------------------------------------------------
# Single tables
# --------------------------------------------------------------------------------------------


def test_valid_table_has_no_problem_and_optional_columns_may_be_absent() -> None:
    problems, parsed = _check("competencies", **_competencies(["MK01", " MK02 "]))
    assert problems == []
    assert list(parsed["competency_id"]) == ["MK01", "MK02"]  # stripped
    assert parsed["name_en"].isna().all()  # optional column, not in the input


def test_rows_are_numbered_from_1_whatever_the_index() -> None:
    df = pd.DataFrame(_competencies(["A", "B", "C"]), index=[10, 20, 30])
    df.loc[30, "type"] = "lain"
    problems: list[Problem] = []
    res = check_table(TABLES["competencies"], df, problems)
    assert _where(problems) == [(3, "type", "allowed_values")]
    assert list(res.bad_rows) == [2] and list(res.good_mask) == [True, True, False]
    assert dict(res.reasons) == {
        2: ["type: 'lain' is not one of: manajerial, sosial_kultural, teknis"]
    }


@pytest.mark.parametrize(
    ("value", "ok", "parsed"),
    [
        ("3", True, 3),
        (" 4 ", True, 4),
        ("3,0", True, 3),
        ("1e0", True, 1),
        ("2.5", False, None),
        ("dua", False, None),
        ("3 orang", False, None),
    ],
    ids=["plain", "spaces", "comma-decimal-zero", "exponent", "fraction", "word", "unit"],
)
def test_integers(value: str, ok: bool, parsed: int | None) -> None:
    problems, out = _check(
        "position_requirements",
        position_id=["P1"],
        competency_id=["C1"],
        required_level=[value],
        weight=["1"],
    )
    if ok:
        assert problems == [] and out.at[0, "required_level"] == parsed
    else:
        assert _where(problems) == [(1, "required_level", "parse_int")]
        assert problems[0].message == f"'{value}' is not an integer"
        assert problems[0].value == value
        assert pd.isna(out.at[0, "required_level"])


def test_integer_range_is_inclusive() -> None:
    problems, _ = _check(
        "position_requirements",
        position_id=["P"] * 4,
        competency_id=["A", "B", "C", "D"],
        required_level=["0", "1", "5", "6"],
        weight=["1"] * 4,
    )
    assert _where(problems) == [(1, "required_level", "range"), (4, "required_level", "range")]
    assert problems[0].message == "0 is below the minimum 1"
    assert problems[1].message == "6 is above the maximum 5"


def test_float_range_and_parsing() -> None:
    weights = ["10.5", "-0.1", "0", "10", "2,5", "x", "inf"]
    problems, out = _check(
        "position_requirements",
        position_id=["P"] * 7,
        competency_id=[f"C{i}" for i in range(7)],
        required_level=["1"] * 7,
        weight=weights,
    )
    assert sorted(_where(problems)) == [
        (1, "weight", "range"),
        (2, "weight", "range"),
        (6, "weight", "parse_float"),
        (7, "weight", "range"),
    ]
    assert next(p for p in problems if p.row == 1).message == "10.5 is above the maximum 10"
    assert next(p for p in problems if p.row == 2).message == "-0.1 is below the minimum 0"
    assert list(out["weight"][2:5]) == [0.0, 10.0, 2.5]


def test_required_and_nullable_values() -> None:
    problems, _ = _check(
        "positions",
        position_id=["P1", "P2"],
        title=["a", " "],
        family=["jpt", "jpt"],
        category=["manajerial", "manajerial"],
        tier=["jpt_madya", "jpt_madya"],
        jf_code=[None, None],
        unit_id=[None, "U1"],
        min_grade=["IV/c", "IV/c"],
        max_grade=["IV/e", "IV/e"],
        min_education=["S1", "S1"],
        required_training=[None, "pkn_i;bogus"],
        formasi=["1", ""],
        retirement_age=["60", "60"],
    )
    assert sorted(_where(problems)) == [
        (2, "formasi", "required_value"),
        (2, "required_training", "allowed_values"),
        (2, "title", "required_value"),
    ]


def test_duplicate_composite_key_names_the_first_row() -> None:
    problems, _ = _check(
        "position_requirements",
        position_id=["P", "P", "P", "Q", " P", "P"],
        competency_id=["C", "D", "C", "C", "C", None],
        required_level=["1"] * 6,
        weight=["1"] * 6,
    )
    dups = [p for p in problems if p.rule == "duplicate_key"]
    assert [(p.row, p.message) for p in dups] == [
        (3, "duplicate key (position_id, competency_id) of row 1"),
        (5, "duplicate key (position_id, competency_id) of row 1"),  # ' P' is 'P'
    ]
    assert _where([p for p in problems if p.rule != "duplicate_key"]) == [
        (6, "competency_id", "required_value")  # an incomplete key is no duplicate
    ]


def test_duplicate_key_compares_normalised_values() -> None:
    df = _assessments([NIP, "19880503 201310 2 001"])
    df.loc[1, "assessed_on"] = "1 Januari 2023"  # the same day as row 1
    problems: list[Problem] = []
    check_table(TABLES["assessments"], df, problems)
    assert _where(problems) == [(2, "nip", "duplicate_key")]
    assert problems[0].value == REDACTED
    assert problems[0].message == "duplicate key (nip, competency_id, assessed_on) of row 1"


def test_missing_and_unknown_columns() -> None:
    problems: list[Problem] = []
    df = pd.DataFrame({"competency_id": ["A", "B"], "type": ["teknis", "x"], "extra": ["1", "2"]})
    res = check_table(TABLES["competencies"], df, problems)
    assert [(p.row, p.column, p.rule, p.severity) for p in problems] == [
        (None, "name", "missing_column", "error"),
        (None, "extra", "unknown_column", "warning"),
    ]
    assert res.failed == "missing required column(s): name"
    assert res.parsed is None
    assert list(res.bad_rows) == [0, 1] and not res.good_mask.any()


def test_row_rules() -> None:
    problems, _ = _check(
        "sessions",
        session_id=["S1", "S2", "S3"],
        program_id=["P"] * 3,
        start_date=["2024-01-10", "2024-01-10", "bukan"],
        end_date=["2024-01-10", "2024-01-09", "2024-01-01"],
        seats=["10"] * 3,
    )
    assert _where(problems) == [(3, "start_date", "parse_date"), (2, None, "session_dates")]
    assert problems[1].message == "end_date is before start_date" and problems[1].value is None


def test_nip_rules_on_employees() -> None:
    rows = [
        _employee(),
        _employee(NIP_2, sex="P", birth_date="1975-02-03", grade="III/d", hire_date="1999-06-01"),
    ]
    problems, parsed = _check("employees", **pd.DataFrame(rows).to_dict(orient="list"))
    assert sorted(_where(problems), key=str) == [(2, None, "nip_birth_date"), (2, None, "nip_sex")]
    assert list(parsed["nip"]) == [NIP, NIP_2]


# --------------------------------------------------------------------------------------------
# Personal identifiers are never quoted
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [NIP[:-1], NIP + "9", NIP[:8] + "x" + NIP[9:], "19881403" + NIP[8:], "20" + NIP[2:]],
    ids=["17-digits", "19-digits", "letter", "bad-birth-month", "born-in-the-future"],
)
def test_nip_values_are_redacted(bad: str) -> None:
    problems: list[Problem] = []
    check_table(TABLES["assessments"], _assessments([bad]), problems)
    assert _where(problems) == [(1, "nip", "parse_nip")]
    p = problems[0]
    assert p.value == REDACTED
    digits = re.sub(r"\D", "", bad)
    for text in (p.message, str(p)):
        assert not re.search(r"\d{6,}", text), text
        assert not any(digits[i : i + 6] in text for i in range(len(digits) - 5)), text


def test_person_ids_and_references_are_redacted() -> None:
    problems: list[Problem] = []
    inter = pd.DataFrame(
        {
            "employee_id": ["u1", "u1"],
            "program_id": ["p", "p"],
            "ts": ["2024-01-01"] * 2,
            "strength": ["1", "1"],
        }
    )
    check_table(TABLES["interactions"], inter, problems)
    assert [(p.row, p.rule, p.value) for p in problems] == [(2, "duplicate_key", REDACTED)]

    frames = {
        "employees": pd.DataFrame([_employee()], dtype=object),
        "assessments": _assessments([NIP, NIP_2]),
    }
    report = validate(frames, profile="standards")
    unknown = [p for p in report.errors if p.rule == "unknown_reference"]
    assert [(p.table, p.row, p.column, p.value) for p in unknown] == [
        ("assessments", 2, "nip", REDACTED)
    ]
    assert NIP_2 not in unknown[0].message and NIP_2[:8] not in str(unknown[0])


# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------


def _units(levels: list[str]) -> pd.DataFrame:
    """A chain of units: U0 is the root, U(i) the parent of U(i+1)."""
    n = len(levels)
    return pd.DataFrame(
        {
            "unit_id": [f"U{i}" for i in range(n)],
            "name": ["u"] * n,
            "parent_id": [None] + [f"U{i}" for i in range(n - 1)],
            "level": levels,
            "province_code": ["31"] * n,
            "province": ["DKI"] * n,
        },
        dtype=object,
    )


@pytest.mark.parametrize(
    ("accepted_only", "rejected"), [(False, [0]), (True, [0, 1, 2, 3])], ids=["validate", "ingest"]
)
def test_rows_below_a_rejected_row_of_the_same_table(
    accepted_only: bool, rejected: list[int]
) -> None:
    units = _units(["bogus", "eselon_i", "eselon_ii", "upt"])
    report = validate({"units": units}, profile="standards", accepted_only=accepted_only)
    assert list(report.results["units"].bad_rows) == rejected
    assert [p.row for p in report.errors if p.rule == "unknown_reference"] == [
        r + 1 for r in rejected[1:]
    ]


def _programs(prerequisites: list[str | None]) -> pd.DataFrame:
    n = len(prerequisites)
    row = {
        "title": "t",
        "modality": "Diklat Teknis",
        "classical": "ya",
        "jp": "20",
        "duration_days": "3",
        "cost_idr": "0",
        "provider": "LAN",
        "lan_accredited": "tidak",
        "accreditation_grade": None,
        "target_tiers": "pelaksana",
        "capacity_per_batch": "30",
        "priority_tags": None,
        "active_from": "2020",
        "active_to": None,
    }
    return pd.DataFrame([row] * n, dtype=object).assign(
        program_id=[f"P{i + 1}" for i in range(n)], prerequisites=prerequisites
    )


def test_list_references_are_checked_per_element() -> None:
    report = validate(
        {"programs": _programs([None, "P1; P3", "P1;PX", "PX;PY"])}, profile="standards"
    )
    assert [
        (p.row, p.column, p.rule, p.value) for p in report.problems if p.table == "programs"
    ] == [
        (3, "prerequisites", "unknown_reference", "P1;PX"),
        (4, "prerequisites", "unknown_reference", "PX;PY"),  # one problem per row, not per element
    ]
    assert report.results["programs"].parsed is not None
    assert report.results["programs"].parsed.at[1, "prerequisites"] == "P1;P3"


def test_references_to_a_rejected_table() -> None:
    emp = pd.DataFrame([_employee()], dtype=object).drop(columns=["sex"])
    frames = {"employees": emp, "assessments": _assessments([NIP])}
    checked = validate(frames, profile="standards")
    assert [
        (p.column, p.rule, p.severity) for p in checked.problems if p.table == "assessments"
    ] == [
        ("nip", "unchecked_reference", "warning"),  # employees rejected: cannot check
        ("competency_id", "unchecked_reference", "warning"),  # competencies not provided
    ]
    ingested = validate(frames, profile="standards", accepted_only=True)
    assert list(ingested.results["assessments"].bad_rows) == [0]
    assert "rejected" in ingested.results["assessments"].reasons[0][0]


# --------------------------------------------------------------------------------------------
# Problems, reports, profiles
# --------------------------------------------------------------------------------------------


def test_problem_str() -> None:
    assert str(Problem("units", 3, "level", "x", "allowed_values", "bad level")) == (
        "units row 3 column 'level': bad level [allowed_values]"
    )
    assert str(Problem("units", None, None, None, "missing_table", "no table")) == (
        "units: no table [missing_table]"
    )
    assert str(Problem("units", 2, None, None, "r", "m", "warning")) == "units row 2: m [r]"


def test_report_ok_ignores_warnings() -> None:
    warning = Problem("units", None, "x", None, "unknown_column", "m", "warning")
    error = Problem("units", 1, "x", None, "range", "m")
    assert Report({}, [warning]).ok and Report({}, [warning]).errors == []
    assert not Report({}, [warning, error]).ok and Report({}, [warning, error]).errors == [error]


FULL = set(PROFILES["full"])
STANDARDS = set(PROFILES["standards"])


@pytest.mark.parametrize(
    ("names", "profile"),
    [
        (FULL, "full"),
        (FULL | {"interactions"}, "full"),
        ({"interactions"}, "interactions"),
        (STANDARDS, "standards"),
        (STANDARDS | {"units"}, "standards"),
        (STANDARDS | {"employees"}, "full"),
        (FULL - {"appraisals"}, "full"),
        ({"competencies"}, "full"),
        (set(), "full"),
    ],
    ids=[
        "full",
        "full+interactions",
        "interactions",
        "standards",
        "standards+units",
        "standards+employees",
        "full-minus-one",
        "one-table",
        "nothing",
    ],
)
def test_detect_profile(names: set[str], profile: str) -> None:
    assert detect_profile(names) == profile


def test_required_tables() -> None:
    assert required_tables("standards") == ("competencies", "positions", "position_requirements")
    assert required_tables("interactions") == ("interactions",)
    assert "interactions" not in required_tables("full")
    with pytest.raises(ValueError, match=r"unknown profile 'bogus'.*full, interactions, standards"):
        required_tables("bogus")
    with pytest.raises(ValueError, match="unknown profile"):
        validate({}, profile="bogus")


def test_missing_tables_are_errors_of_the_profile() -> None:
    report = validate({"competencies": pd.DataFrame(_competencies(["A"]))}, profile="standards")
    assert [(p.table, p.row, p.rule) for p in report.errors] == [
        ("positions", None, "missing_table"),
        ("position_requirements", None, "missing_table"),
    ]
    assert np.array_equal(report.results["competencies"].bad_rows, [])
