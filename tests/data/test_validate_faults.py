"""Corrupted raw exports: every fault is reported at its table, 1-based row, column and rule.

Each case copies the tiny organisation (CSV read as text, as an HR export arrives; a few on
Parquet), breaks one thing and checks that :func:`validate` (and, for some, ``jenjang validate``)
reports exactly that problem and no other error. Messy but valid real-world spellings must pass
and come out canonical after ingest.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.data.io import read_tables
from recommender.data.schema import TABLES
from recommender.data.validate import REDACTED, Problem, Report, validate
from recommender.pseudonym import pseudonymise
from tests.conftest import TEST_KEY
from training.cli import app
from training.ingest import ingest

#: Breaks files of a copied raw folder; returns the 1-based row it broke (None: whole table).
Corrupt = Callable[[Path], int | None]
#: Where a problem is: (table, row, column, rule).
Where = tuple[str, int | None, str | None, str]

#: Tables whose rows belong to an employee (their ``nip`` refers to employees.nip), from the
#: contract so a new child table (e.g. position_history) is covered without editing this list.
NIP_CHILDREN = tuple(
    t for t, table in TABLES.items() if any(c.references == "employees.nip" for c in table.columns)
)
#: Tables no column refers to: cutting their rows keeps a copy referentially sound.
LEAVES = tuple(
    t
    for t in TABLES
    if not any(
        c.references and c.references.startswith(f"{t}.")
        for other in TABLES.values()
        for c in other.columns
    )
)
SMALL_ROWS = 150


# --------------------------------------------------------------------------------------------
# Copying and corrupting raw folders (shared with test_ingest.py)
# --------------------------------------------------------------------------------------------


def copy_raw(source: Path, tmp_path: Path, name: str = "raw") -> Path:
    """A private copy of a fixture folder: fixtures are shared by the session, never modified."""
    return Path(shutil.copytree(source, tmp_path / name))


def make_small(source: Path, dest: Path) -> Path:
    """A copy of ``source`` with the leaf tables cut to their first rows (fast to validate)."""
    folder = Path(shutil.copytree(source, dest))
    for table in LEAVES:
        if any(folder.glob(f"{table}.*")):
            write_raw(read_raw(folder, table).head(SMALL_ROWS), folder, table)
    return folder


def table_path(folder: Path, table: str) -> Path:
    """The CSV or Parquet file of ``table`` in ``folder``."""
    for suffix in (".csv", ".parquet"):
        path = folder / f"{table}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"no file for table '{table}' in {folder}")


def read_raw(folder: Path, table: str) -> pd.DataFrame:
    """A raw table as stored: CSV as text (every cell a string), Parquet typed."""
    path = table_path(folder, table)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.read_parquet(path)


def write_raw(df: pd.DataFrame, folder: Path, table: str) -> None:
    """Write a raw table back over its file, in the same format."""
    path = table_path(folder, table)
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)


def set_cell(table: str, row: int, column: str, value: Any) -> Corrupt:
    """Set one cell (``row`` 1-based); ``value`` may be a function of the original row."""

    def corrupt(folder: Path) -> int:
        df = read_raw(folder, table)
        new = value(df.iloc[row - 1]) if callable(value) else value
        assert str(new) != str(df.at[row - 1, column]), "the corruption must change the value"
        df.at[row - 1, column] = new
        write_raw(df, folder, table)
        return row

    return corrupt


def append_copy(table: str, row: int) -> Corrupt:
    """Copy row ``row`` (1-based) to the end of the table; the copy is the broken row."""

    def corrupt(folder: Path) -> int:
        df = read_raw(folder, table)
        write_raw(pd.concat([df, df.iloc[[row - 1]]], ignore_index=True), folder, table)
        return len(df) + 1

    return corrupt


def drop_column(table: str, column: str) -> Corrupt:
    """Remove a column from a table (the whole table is then broken)."""

    def corrupt(folder: Path) -> None:
        write_raw(read_raw(folder, table).drop(columns=[column]), folder, table)

    return corrupt


def add_column(table: str, column: str, value: str) -> Corrupt:
    """Add a column the contract does not know."""

    def corrupt(folder: Path) -> None:
        write_raw(read_raw(folder, table).assign(**{column: value}), folder, table)

    return corrupt


def unknown_nip(table: str, row: int) -> Corrupt:
    """Give an event row a valid NIP that no employee has (same person, unused sequence)."""

    def corrupt(folder: Path) -> int:
        known = set(read_raw(folder, "employees")["nip"])
        df = read_raw(folder, table)
        nip = df.at[row - 1, "nip"]
        df.at[row - 1, "nip"] = next(
            nip[:15] + f"{seq:03d}"
            for seq in range(999, 0, -1)
            if nip[:15] + f"{seq:03d}" not in known
        )
        write_raw(df, folder, table)
        return row

    return corrupt


def shift_day(column: str, days: int) -> Callable[[pd.Series], str]:
    """Value function: the row's ``column`` date moved by ``days`` (ISO text)."""
    return lambda r: (pd.Timestamp(r[column]) + pd.Timedelta(days=days)).strftime("%Y-%m-%d")


def day_before(column: str) -> Callable[[pd.Series], str]:
    """Value function: the day before the row's ``column`` date (ISO text)."""
    return shift_day(column, -1)


def where(p: Problem) -> Where:
    return p.table, p.row, p.column, p.rule


def flat(text: str) -> str:
    """Text with every run of whitespace made one space (rich wraps long lines)."""
    return " ".join(text.split())


# small_csv, small_parquet: tests/data/conftest.py


# --------------------------------------------------------------------------------------------
# The faults
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One corruption and the single problem it must produce."""

    id: str
    corrupt: Corrupt
    table: str
    column: str | None
    rule: str
    severity: str = "error"
    message: str | None = None  # a piece of the expected message
    source: str = "small_csv"  # the fixture copied (CSV or Parquet)
    cli: bool = False  # also check `jenjang validate --json`
    #: (table, column, rule) of errors that follow from the fault in other rows
    knock_on: frozenset[tuple[str, str | None, str]] = frozenset()


NIP_KNOCK_ON = frozenset((t, "nip", "unknown_reference") for t in NIP_CHILDREN)

# fmt: off
FAULTS = [
    # id, corruption (row 1 = first data row), table, column, rule
    Fault("duplicate-employee", append_copy("employees", 1),
          "employees", "nip", "duplicate_key", message="of row 1", cli=True),
    Fault("duplicate-assessment", append_copy("assessments", 2),
          "assessments", "nip", "duplicate_key", message="of row 2"),
    Fault("unknown-competency", set_cell("assessments", 5, "competency_id", "XX99"),
          "assessments", "competency_id", "unknown_reference", message="competencies", cli=True),
    Fault("level-7", set_cell("assessments", 7, "level", "7"),
          "assessments", "level", "range", message="maximum 5"),
    Fault("unparseable-date", set_cell("enrollments", 9, "start_date", "31-02-2023"),
          "enrollments", "start_date", "parse_date", message="31-02-2023", cli=True),
    Fault("missing-column", drop_column("appraisals", "rating"),
          "appraisals", "rating", "missing_column", message="rating"),
    Fault("empty-required-text", set_cell("employees", 4, "unit_id", ""),
          "employees", "unit_id", "required_value"),
    Fault("blank-required-date", set_cell("assessments", 11, "assessed_on", "   "),
          "assessments", "assessed_on", "required_value"),
    Fault("unknown-status", set_cell("enrollments", 3, "status", "lulus"),
          "enrollments", "status", "allowed_values", message="'lulus'"),
    Fault("unknown-list-element", set_cell("programs", 2, "target_tiers", "pelaksana;kepala"),
          "programs", "target_tiers", "allowed_values"),
    Fault("bad-grade", set_cell("employees", 6, "grade", "IV/f"),
          "employees", "grade", "parse_grade", message="IV/f"),
    Fault("nip-17-digits", set_cell("employees", 2, "nip", lambda r: r["nip"][:-1]),
          "employees", "nip", "parse_nip", message="18 digits", knock_on=NIP_KNOCK_ON),
    Fault("event-for-unknown-nip", unknown_nip("appraisals", 4),
          "appraisals", "nip", "unknown_reference", message="employees.nip"),
    Fault("unknown-prerequisite", set_cell("programs", 3, "prerequisites", "PL001;PX999"),
          "programs", "prerequisites", "unknown_reference", message="programs.program_id"),
    Fault("unknown-session", set_cell("enrollments", 15, "session_id", "S-NONE-2019-01"),
          "enrollments", "session_id", "unknown_reference"),
    Fault("end-before-start", set_cell("enrollments", 11, "end_date", day_before("start_date")),
          "enrollments", None, "enrollment_dates"),
    Fault("session-end-before-start",
          set_cell("sessions", 8, "end_date", day_before("start_date")),
          "sessions", None, "session_dates"),
    Fault("birth-date-not-nip",
          set_cell("employees", 8, "birth_date", shift_day("birth_date", 1)),
          "employees", None, "nip_birth_date"),
    Fault("sex-not-nip", set_cell("employees", 9, "sex", lambda r: {"L": "P", "P": "L"}[r["sex"]]),
          "employees", None, "nip_sex"),
    Fault("bad-boolean", set_cell("programs", 5, "lan_accredited", "mungkin"),
          "programs", "lan_accredited", "parse_bool"),
    Fault("unknown-modality", set_cell("programs", 6, "modality", "Diklat PKN III"),
          "programs", "modality", "parse_modality"),
    Fault("extra-column", add_column("units", "catatan", "x"),
          "units", "catatan", "unknown_column", severity="warning", cli=True),
    # Parquet, typed as a database export would be
    Fault("pq-duplicate-employee", append_copy("employees", 3),
          "employees", "nip", "duplicate_key", message="of row 3", source="small_parquet"),
    Fault("pq-level-7", set_cell("assessments", 7, "level", 7),
          "assessments", "level", "range", source="small_parquet"),
    Fault("pq-missing-column", drop_column("appraisals", "rating"),
          "appraisals", "rating", "missing_column", source="small_parquet", cli=True),
    Fault("pq-nip-17-digits", set_cell("employees", 2, "nip", lambda r: r["nip"][:-1]),
          "employees", "nip", "parse_nip", source="small_parquet", knock_on=NIP_KNOCK_ON),
]
# fmt: on


def _only(report: Report, expected: Where) -> Problem:
    found = [p for p in report.problems if where(p) == expected]
    assert len(found) == 1, f"expected one {expected}, got {[str(p) for p in report.problems]}"
    return found[0]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_fault_is_reported_once_at_its_row(
    fault: Fault, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = copy_raw(request.getfixturevalue(fault.source), tmp_path)
    row = fault.corrupt(folder)
    report = validate(read_tables(folder))

    hit = _only(report, (fault.table, row, fault.column, fault.rule))
    assert hit.severity == fault.severity
    if fault.message is not None:
        assert fault.message in hit.message
    others = [
        str(p)
        for p in report.errors
        if p is not hit and (p.table, p.column, p.rule) not in fault.knock_on
    ]
    assert others == []
    assert report.ok is (fault.severity != "error")
    if fault.cli:
        result = CliRunner().invoke(app, ["validate", str(folder), "--json"])
        assert result.exit_code == (1 if fault.severity == "error" else 0), result.output
        printed = json.loads(result.output)
        assert hit.__dict__ in printed["problems"]
        assert printed["ok"] is report.ok


@pytest.mark.parametrize("source", ["tiny_raw_csv", "tiny_raw"])
def test_clean_copy_has_no_problem(source: str, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(source)  # only read: no copy needed
    report = validate(read_tables(folder))
    assert [str(p) for p in report.problems] == []
    assert report.ok
    assert all(len(r.bad_rows) == 0 and r.failed is None for r in report.results.values())


def test_cli_validate_clean_copy_exits_0_and_prints_row_counts(tiny_raw_csv: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(tiny_raw_csv)])
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    for name, df in read_tables(tiny_raw_csv).items():
        assert re.search(rf"\b{name} │ +{len(df):,} │", out), name
    assert "0 error(s), 0 warning(s)" in out


def test_missing_column_rejects_the_whole_table(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    drop_column("appraisals", "rating")(folder)
    report = validate(read_tables(folder))
    result = report.results["appraisals"]
    assert result.failed is not None and "rating" in result.failed
    assert result.parsed is None
    assert len(result.bad_rows) == len(result.raw) and not result.good_mask.any()
    # nothing else is checked in that table: the one problem is the missing column
    assert [where(p) for p in report.problems if p.table == "appraisals"] == [
        ("appraisals", None, "rating", "missing_column")
    ]


def test_every_employee_event_table_is_a_nip_child() -> None:
    # NIP_CHILDREN comes from the contract: it must still list every table of employee events
    # (a lost reference would silently shrink what the knock-on and quarantine tests cover)
    assert set(NIP_CHILDREN) == {
        "assessments",
        "appraisals",
        "talent_box",
        "enrollments",
        "career_moves",
        "position_history",
        "rank_history",
    }


def test_malformed_nip_is_never_quoted(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    nip = read_raw(folder, "employees").at[1, "nip"]
    set_cell("employees", 2, "nip", nip[:-1])(folder)
    report = validate(read_tables(folder))

    windows = {nip[i : i + 8] for i in range(len(nip) - 7)}
    for p in report.problems:
        for text in (p.message, p.value or "", str(p)):
            assert not any(w in text for w in windows), str(p)
    assert {p.value for p in report.problems if p.column == "nip"} == {REDACTED}
    # every event row of that employee now refers to nothing: one error each, not more
    child_rows = sum(int((read_raw(folder, t)["nip"] == nip).sum()) for t in NIP_CHILDREN)
    knock_on = [p for p in report.errors if p.rule == "unknown_reference"]
    assert child_rows > 0 and len(knock_on) == child_rows


# --------------------------------------------------------------------------------------------
# Every fault of the issue at once
# --------------------------------------------------------------------------------------------

ALL_AT_ONCE: list[tuple[Corrupt, str, str | None, str]] = [
    (append_copy("employees", 1), "employees", "nip", "duplicate_key"),
    (
        set_cell("assessments", 5, "competency_id", "XX99"),
        "assessments",
        "competency_id",
        "unknown_reference",
    ),
    (set_cell("assessments", 7, "level", "7"), "assessments", "level", "range"),
    (
        set_cell("enrollments", 9, "start_date", "31-02-2023"),
        "enrollments",
        "start_date",
        "parse_date",
    ),
    (drop_column("appraisals", "rating"), "appraisals", "rating", "missing_column"),
]


def test_all_faults_at_once_are_each_listed(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    expected = {(t, corrupt(folder), c, r) for corrupt, t, c, r in ALL_AT_ONCE}
    assert ("employees", 301, "nip", "duplicate_key") in expected  # 300 employees + the copy

    report = validate(read_tables(folder))
    assert {where(p) for p in report.errors} == expected
    assert len(report.errors) == len(expected)

    runner = CliRunner()
    text = runner.invoke(app, ["validate", str(folder), "--report", str(tmp_path / "p.csv")])
    assert text.exit_code == 1
    out = flat(text.output)
    for p in report.errors:  # (the rule is lost: see test_cli_prints_the_rule_of_each_problem)
        assert flat(f"error {p}".removesuffix(f" [{p.rule}]")) in out, str(p)
    assert f"{len(expected)} error(s)" in out
    assert re.search(r"\bemployees │ +301 │", out)
    listed = pd.read_csv(tmp_path / "p.csv", dtype={"row": "Int64"})
    assert {
        (t, None if pd.isna(r) else int(r), c, u)
        for t, r, c, u in listed[["table", "row", "column", "rule"]].itertuples(index=False)
    } == expected

    as_json = runner.invoke(app, ["validate", str(folder), "--json"])
    assert as_json.exit_code == 1
    printed = json.loads(as_json.output)
    assert printed["ok"] is False
    assert {(p["table"], p["row"], p["column"], p["rule"]) for p in printed["problems"]} == expected
    assert printed["rows"]["employees"] == 301


def _cli_validate(folder: Path, cell: tuple[str, int, str, str]) -> tuple[Problem, str]:
    set_cell(*cell)(folder)
    [problem] = validate(read_tables(folder)).errors
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 1
    return problem, flat(result.output)


def test_cli_prints_the_rule_of_each_problem(small_csv: Path, tmp_path: Path) -> None:
    problem, out = _cli_validate(copy_raw(small_csv, tmp_path), ("assessments", 7, "level", "7"))
    assert flat(f"error {problem}") in out


def test_cli_prints_values_that_look_like_markup(small_csv: Path, tmp_path: Path) -> None:
    cell = ("enrollments", 3, "status", "[/x]")
    problem, out = _cli_validate(copy_raw(small_csv, tmp_path), cell)
    assert problem.value == "[/x]" and "value='[/x]'" in out


# --------------------------------------------------------------------------------------------
# Messy but valid
# --------------------------------------------------------------------------------------------

MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Ags", "Sep", "Okt", "Nov", "Des")


def _spaced(nip: str) -> str:
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


def _make_messy(folder: Path) -> list[str]:
    """Rewrite valid values in real-world spellings; return the NIPs of employees 1-4."""
    emp = read_raw(folder, "employees")
    nips = list(emp.loc[0:3, "nip"])
    emp.loc[0:2, "nip"] = [_spaced(n) for n in nips[:3]]
    emp.loc[3, "nip"] = f"{nips[3][:8]}.{nips[3][8:14]}.{nips[3][14]}.{nips[3][15:]}"
    emp.loc[4:6, "grade"] = ["III-d", "3d", "Penata Tk. I / III-d"]
    emp.loc[7, "grade_date"] = "15 Ags 2023"
    emp.loc[8, "grade_date"] = "17-05-2023"
    write_raw(emp, folder, "employees")

    app_ = read_raw(folder, "appraisals")
    app_.loc[0:3, "rating"] = ["BAIK", "SANGAT BAIK", "Kurang/Misconduct", "kurang / misconduct"]
    first = app_.index[app_["nip"] == nips[0]]
    app_.loc[first, "nip"] = "'" + nips[0]  # Excel's text marker
    write_raw(app_, folder, "appraisals")

    enr = read_raw(folder, "enrollments")
    start, end = pd.Timestamp(enr.at[1, "start_date"]), pd.Timestamp(enr.at[1, "end_date"])
    enr.at[1, "start_date"] = f"{start.day} {MONTHS_ID[start.month - 1]} {start.year}"
    enr.at[1, "end_date"] = end.strftime("%d-%m-%Y")
    write_raw(enr, folder, "enrollments")
    return nips


def test_messy_but_valid_values_pass_and_come_out_canonical(
    small_csv: Path, tmp_path: Path
) -> None:
    folder = copy_raw(small_csv, tmp_path)
    original = {t: read_raw(folder, t) for t in ("employees", "appraisals", "enrollments")}
    nips = _make_messy(folder)

    report = validate(read_tables(folder))
    assert [str(p) for p in report.problems] == []

    out = tmp_path / "clean"
    _, outcomes = ingest(folder, out, TEST_KEY)
    assert all(o.rejected == 0 for o in outcomes)
    emp = pd.read_parquet(out / "employees.parquet")
    assert list(emp.loc[0:3, "employee_id"]) == [pseudonymise(n, TEST_KEY) for n in nips]
    assert list(emp.loc[4:6, "grade"]) == ["III/d"] * 3
    assert emp.at[7, "grade_date"] == pd.Timestamp("2023-08-15")
    assert emp.at[8, "grade_date"] == pd.Timestamp("2023-05-17")

    appraisals = pd.read_parquet(out / "appraisals.parquet")
    assert list(appraisals.loc[0:3, "rating"]) == ["Baik", "Sangat Baik", "Kurang", "Kurang"]
    first = original["appraisals"]["nip"] == nips[0]
    assert first.any()
    assert set(appraisals.loc[first.to_numpy(), "employee_id"]) == {pseudonymise(nips[0], TEST_KEY)}

    enr = pd.read_parquet(out / "enrollments.parquet")
    for col in ("start_date", "end_date"):
        assert enr.at[1, col] == pd.Timestamp(original["enrollments"].at[1, col])
