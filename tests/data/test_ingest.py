"""Ingest: clean tables keep every good row and no NIP; bad rows go to quarantine, exactly.

Also partial data sets (standards, interactions only), missing tables and a SQLite source.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from recommender.config import get_settings
from recommender.data.io import read_tables
from recommender.data.schema import TABLES, Kind
from recommender.data.validate import detect_profile, validate
from recommender.pseudonym import pseudonymise
from tests.conftest import TEST_KEY
from tests.data.test_validate_faults import (
    NIP_CHILDREN,
    Corrupt,
    append_copy,
    copy_raw,
    day_before,
    drop_column,
    read_raw,
    set_cell,
    where,
    write_raw,
)
from training.cli import app
from training.ingest import QUARANTINE, REPORT_FILE, ingest

NIP_RUN = re.compile(r"\d{18}")
LONG_DIGITS = re.compile(r"\d{17,}")  # a NIP, or one that lost a digit


# small_csv: tests/data/conftest.py


def raw_nips(folder: Path) -> set[str]:
    return set(read_raw(folder, "employees")["nip"])


def nip_leaks(text: str, nips: set[str]) -> list[str]:
    """18-digit runs and known NIPs found in ``text`` (empty when clean)."""
    return NIP_RUN.findall(text) + sorted(n for n in nips if n in text)


def clean_text(out: Path) -> str:
    """Every string value and column name of every clean table, one per line."""
    parts = []
    for path in sorted(out.glob("*.parquet")):
        df = pd.read_parquet(path)
        parts.extend(map(str, df.columns))
        text = df.select_dtypes(exclude=["number", "datetime"])
        for col in text.columns:
            parts.extend(text[col].dropna().astype(str))
    return "\n".join(parts)


def quarantine(out: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(out / QUARANTINE / f"{table}.csv", dtype=str, keep_default_na=False)


def quarantined_tables(out: Path) -> set[str]:
    return {p.stem for p in (out / QUARANTINE).glob("*.csv")}


def dangling_references(out: Path) -> list[str]:
    """References in clean tables to rows that are not in the clean parent table."""
    tables = {p.stem: pd.read_parquet(p) for p in out.glob("*.parquet")}
    found = []
    for name, df in tables.items():
        for col in TABLES[name].columns:
            if col.references is None or col.references.split(".")[0] not in tables:
                continue
            parent, parent_col = col.references.split(".")
            keys = set(tables[parent][TABLES[parent].column(parent_col).out_name].dropna())
            values = df[col.out_name].dropna()
            if col.kind is Kind.LIST:
                values = values.str.split(";").explode()
            if missing := set(values) - keys:
                found.append(f"{name}.{col.name}: {len(missing)} unknown keys")
    return found


# --------------------------------------------------------------------------------------------
# A clean export, through the command line
# --------------------------------------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass(frozen=True)
class CliRun:
    out: Path
    printed: str
    logged: str


@pytest.fixture(scope="module")
def cli_run(tiny_raw_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliRun]:
    """`jenjang -v ingest` of the whole tiny organisation (CSV) with the test key."""
    out = tmp_path_factory.mktemp("cli_ingest") / "clean"
    lines, root = _Lines(), logging.getLogger()
    level = root.level
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JENJANG_PSEUDONYM_KEY", TEST_KEY)
        get_settings.cache_clear()
        root.addHandler(lines)
        root.setLevel(logging.DEBUG)
        try:
            result = CliRunner().invoke(app, ["-v", "ingest", str(tiny_raw_csv), "--out", str(out)])
        finally:
            root.removeHandler(lines)
            root.setLevel(level)
            get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    yield CliRun(out, result.output + result.stderr, "\n".join(lines.lines))


def test_clean_export_keeps_every_row(cli_run: CliRun, tiny_raw_csv: Path) -> None:
    raw = read_tables(tiny_raw_csv)
    clean = {p.stem: len(pd.read_parquet(p)) for p in cli_run.out.glob("*.parquet")}
    assert clean == {name: len(df) for name, df in raw.items()}
    assert not any((cli_run.out / QUARANTINE).glob("*"))
    summary = json.loads((cli_run.out / REPORT_FILE).read_text())
    assert summary["problems_by_rule"] == {}
    assert {t["table"]: (t["kept"], t["rejected"], t["failed"]) for t in summary["tables"]} == {
        name: (len(df), 0, None) for name, df in raw.items()
    }


def test_no_nip_in_clean_tables_output_or_logs(cli_run: CliRun, tiny_raw_csv: Path) -> None:
    nips = raw_nips(tiny_raw_csv)
    assert len(nips) == len(read_raw(tiny_raw_csv, "employees"))
    assert "ingested" in cli_run.logged  # the log was captured, so scanning it means something
    assert "employees" in cli_run.printed
    for what, text in {
        "clean tables": clean_text(cli_run.out),
        "printed": cli_run.printed,
        "logged": cli_run.logged,
        "report": (cli_run.out / REPORT_FILE).read_text(),
    }.items():
        assert nip_leaks(text, nips) == [], what


def test_clean_tables_carry_pseudonyms_not_nips(cli_run: CliRun, tiny_raw_csv: Path) -> None:
    for path in cli_run.out.glob("*.parquet"):
        assert "nip" not in pd.read_parquet(path).columns, path.name
    raw = read_raw(tiny_raw_csv, "employees")
    pseudonyms = {pseudonymise(n, TEST_KEY) for n in raw["nip"]}
    for name in NIP_CHILDREN:
        ids = pd.read_parquet(cli_run.out / f"{name}.parquet")["employee_id"]
        assert ids.notna().all() and set(ids) <= pseudonyms, name

    emp = pd.read_parquet(cli_run.out / "employees.parquet")
    assert list(emp["employee_id"]) == [pseudonymise(n, TEST_KEY) for n in raw["nip"]]
    assert "birth_date" not in emp.columns
    assert list(emp["birth_year"]) == [int(d[:4]) for d in raw["birth_date"]]
    assert dangling_references(cli_run.out) == []


# --------------------------------------------------------------------------------------------
# Injected faults: exactly the bad rows are quarantined
# --------------------------------------------------------------------------------------------

#: (corruption, table, a word every reason of that row names)
INJECTED: list[tuple[Corrupt, str, str]] = [
    (append_copy("employees", 1), "employees", "nip"),
    (set_cell("assessments", 3, "level", "7"), "assessments", "level"),
    (set_cell("assessments", 10, "competency_id", "XX99"), "assessments", "competency_id"),
    (set_cell("assessments", 25, "assessed_on", "kemarin"), "assessments", "assessed_on"),
    (set_cell("appraisals", 6, "rating", "Bagus"), "appraisals", "rating"),
    (set_cell("appraisals", 9, "nip", lambda r: r["nip"][:-1]), "appraisals", "nip"),
    (set_cell("enrollments", 12, "end_date", day_before("start_date")), "enrollments", "end_date"),
    (set_cell("enrollments", 13, "status", "lulus"), "enrollments", "status"),
]


def test_ingest_quarantines_exactly_the_injected_rows(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    expected: dict[str, dict[int, str]] = {}
    for corrupt, table, word in INJECTED:
        row = corrupt(folder)
        assert row is not None
        expected.setdefault(table, {})[row] = word
    raw = read_tables(folder)
    out = tmp_path / "clean"

    _, outcomes = ingest(folder, out, TEST_KEY)

    assert quarantined_tables(out) == set(expected)
    for o in outcomes:
        rows = expected.get(o.table, {})
        assert (o.rejected, o.kept + o.rejected, o.failed) == (len(rows), len(raw[o.table]), None)
        assert len(pd.read_parquet(out / f"{o.table}.parquet")) == o.kept
        if not rows:
            continue
        q = quarantine(out, o.table)
        assert sorted(q["_row"].astype(int)) == sorted(rows), o.table
        for row, reason in zip(q["_row"].astype(int), q["_reasons"], strict=True):
            assert rows[row] in reason, (o.table, row, reason)
        if "nip" in q.columns:  # pseudonymised, as the raw file had it
            originals = raw[o.table]["nip"].iloc[q["_row"].astype(int) - 1]
            assert list(q["nip"]) == [pseudonymise(n, TEST_KEY) for n in originals]
        text = (out / QUARANTINE / f"{o.table}.csv").read_text()
        assert LONG_DIGITS.findall(text) == [] and nip_leaks(text, raw_nips(folder)) == []
    assert dangling_references(out) == []


def test_row_of_a_rejected_parent_is_quarantined_too(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    children = {t: read_raw(folder, t) for t in NIP_CHILDREN}
    emp = read_raw(folder, "employees")
    k = next(
        i
        for i, n in enumerate(emp["nip"])
        if sum((c["nip"] == n).sum() > 0 for c in children.values()) >= 3
    )
    nip = emp.at[k, "nip"]
    set_cell("employees", k + 1, "birth_date", "31-02-1980")(folder)
    expected = {t: {i + 1 for i in c.index[c["nip"] == nip]} for t, c in children.items()}
    expected = {t: rows for t, rows in expected.items() if rows} | {"employees": {k + 1}}
    out = tmp_path / "clean"

    ingest(folder, out, TEST_KEY)

    assert quarantined_tables(out) == set(expected)
    assert "birth_date" in quarantine(out, "employees").at[0, "_reasons"]
    for table, rows in expected.items():
        q = quarantine(out, table)
        assert set(q["_row"].astype(int)) == rows, table
        if table != "employees":
            assert q["_reasons"].str.contains("refers to a rejected").all(), table
    pseudonym = pseudonymise(nip, TEST_KEY)
    assert pseudonym not in clean_text(out)
    assert dangling_references(out) == []


def test_missing_column_sends_the_whole_table_to_quarantine(
    small_csv: Path, tmp_path: Path
) -> None:
    folder = copy_raw(small_csv, tmp_path)
    drop_column("appraisals", "rating")(folder)
    n = len(read_raw(folder, "appraisals"))
    out = tmp_path / "clean"
    # a previous run's outputs must not survive as if they were this run's
    (out / QUARANTINE).mkdir(parents=True)
    pd.DataFrame({"x": [1]}).to_parquet(out / "appraisals.parquet")
    pd.DataFrame({"_row": [1]}).to_csv(out / QUARANTINE / "units.csv", index=False)

    report, outcomes = ingest(folder, out, TEST_KEY)

    outcome = next(o for o in outcomes if o.table == "appraisals")
    assert (outcome.kept, outcome.rejected) == (0, n)
    assert outcome.failed is not None and "rating" in outcome.failed
    assert not (out / "appraisals.parquet").exists()
    assert quarantined_tables(out) == {"appraisals"}
    q = quarantine(out, "appraisals")
    assert list(q["_row"].astype(int)) == list(range(1, n + 1))
    assert q["_reasons"].str.contains("rating").all()
    assert q["nip"].str.startswith("e_").all()
    assert [where(p) for p in report.errors] == [("appraisals", None, "rating", "missing_column")]


def test_rows_referring_to_a_rejected_table_are_quarantined(
    small_csv: Path, tmp_path: Path
) -> None:
    folder = copy_raw(small_csv, tmp_path)
    drop_column("employees", "sex")(folder)
    out = tmp_path / "clean"

    report, outcomes = ingest(folder, out, TEST_KEY)

    rejected = {o.table: o.rejected for o in outcomes if o.rejected}
    assert rejected == {t: len(read_raw(folder, t)) for t in ("employees", *NIP_CHILDREN)}
    for table in NIP_CHILDREN:
        assert len(pd.read_parquet(out / f"{table}.parquet")) == 0
        assert quarantine(out, table)["_reasons"].str.contains("rejected").all()
    assert [where(p) for p in report.problems if p.row is None] == [
        ("employees", None, "sex", "missing_column")
    ]
    # validation alone cannot check those references: a warning per child table
    checked = validate(read_tables(folder))
    assert {(p.table, p.rule, p.severity) for p in checked.problems if p.table != "employees"} == {
        (t, "unchecked_reference", "warning") for t in NIP_CHILDREN
    }


def test_units_below_a_rejected_unit_are_quarantined(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    units = read_raw(folder, "units")
    root = units.index[units["parent_id"] == ""][0]
    set_cell("units", root + 1, "level", "kantor")(folder)
    parent = dict(zip(units["unit_id"], units["parent_id"], strict=True))

    def under_root(unit: str) -> bool:
        while unit:
            if unit == units.at[root, "unit_id"]:
                return True
            unit = parent[unit]
        return False

    below = {i + 1 for i, u in enumerate(units["unit_id"]) if under_root(u)}
    depth_two = {u for u in units["unit_id"] if parent[u] and parent[parent[u]]}
    assert depth_two & set(units["unit_id"].iloc[[r - 1 for r in below]])  # grandchildren
    out = tmp_path / "clean"

    ingest(folder, out, TEST_KEY)

    assert set(quarantine(out, "units")["_row"].astype(int)) == below
    assert dangling_references(out) == []


def test_unknown_column_is_not_copied_to_quarantine(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    df = read_raw(folder, "appraisals")
    write_raw(df.assign(nip_atasan=df["nip"]), folder, "appraisals")  # supervisor's NIP
    set_cell("appraisals", 2, "rating", "Bagus")(folder)
    out = tmp_path / "clean"

    report, _ = ingest(folder, out, TEST_KEY)

    assert ("appraisals", None, "nip_atasan", "unknown_column") in [
        where(p) for p in report.problems
    ]
    q = quarantine(out, "appraisals")
    assert list(q["_row"]) == ["2"] and "nip_atasan" not in q.columns
    text = (out / QUARANTINE / "appraisals.csv").read_text() + clean_text(out)
    assert nip_leaks(text, raw_nips(folder)) == []


# --------------------------------------------------------------------------------------------
# Partial data sets, missing tables, SQL
# --------------------------------------------------------------------------------------------

STANDARDS = ("competencies", "positions", "position_requirements")


@pytest.mark.parametrize("profile", ["standards", None], ids=["given", "detected"])
def test_standards_only(profile: str | None, small_csv: Path, tmp_path: Path) -> None:
    for name in STANDARDS:
        shutil.copy(small_csv / f"{name}.csv", tmp_path)
    frames = read_tables(tmp_path)
    assert detect_profile(set(frames)) == "standards"

    report = validate(frames, profile)

    assert report.ok
    assert [(p.table, p.row, p.column, p.rule, p.severity) for p in report.problems] == [
        ("positions", None, "unit_id", "unchecked_reference", "warning")
    ]


def test_standards_with_units_checks_unit_references(small_csv: Path, tmp_path: Path) -> None:
    for name in (*STANDARDS, "units"):
        shutil.copy(small_csv / f"{name}.csv", tmp_path)
    set_cell("positions", 1, "unit_id", "NOWHERE")(tmp_path)
    frames = read_tables(tmp_path)
    assert detect_profile(set(frames)) == "standards"
    assert [where(p) for p in validate(frames).problems] == [
        ("positions", 1, "unit_id", "unknown_reference")
    ]


def _interactions(small_csv: Path) -> pd.DataFrame:
    enr = read_raw(small_csv, "enrollments").head(40)
    ids = [n if i % 2 else f"learner{i:03d}@contoh.go.id" for i, n in enumerate(enr["nip"])]
    return pd.DataFrame(
        {
            "employee_id": ids,
            "program_id": enr["program_id"],
            "ts": enr["start_date"],
            "strength": ["1", "0,5", "2.25", "3"] * 10,
        }
    )


def test_interactions_only(small_csv: Path, tmp_path: Path) -> None:
    raw = _interactions(small_csv)
    folder = tmp_path / "raw"
    folder.mkdir()
    raw.to_csv(folder / "interactions.csv", index=False)
    frames = read_tables(folder)
    assert detect_profile(set(frames)) == "interactions"
    assert validate(frames).problems == []
    out = tmp_path / "clean"

    report, outcomes = ingest(folder, out, TEST_KEY)

    assert report.ok and [(o.table, o.kept, o.rejected) for o in outcomes] == [
        ("interactions", len(raw), 0)
    ]
    clean = pd.read_parquet(out / "interactions.parquet")
    assert list(clean["employee_id"]) == [pseudonymise(i, TEST_KEY) for i in raw["employee_id"]]
    assert list(clean["program_id"]) == list(raw["program_id"])
    assert list(clean["strength"][:4]) == [1.0, 0.5, 2.25, 3.0]
    text = clean_text(out)
    assert nip_leaks(text, set(raw["employee_id"])) == [] and "@contoh" not in text


@pytest.mark.parametrize(
    ("profile", "removed", "missing"),
    [
        ("full", "appraisals", "appraisals"),
        (None, "appraisals", "appraisals"),
        (None, "employees", "employees"),
        ("standards", "position_requirements", "position_requirements"),
        ("interactions", None, "interactions"),
    ],
    ids=["full", "full-detected", "no-employees-detected", "standards", "interactions"],
)
def test_missing_required_table(
    profile: str | None, removed: str | None, missing: str, small_csv: Path, tmp_path: Path
) -> None:
    folder = copy_raw(small_csv, tmp_path)
    if removed:
        (folder / f"{removed}.csv").unlink()
    report = validate(read_tables(folder), profile)
    assert [where(p) for p in report.errors] == [(missing, None, None, "missing_table")]


def test_sqlite_source_validates_like_the_folder(small_csv: Path, tmp_path: Path) -> None:
    folder = copy_raw(small_csv, tmp_path)
    append_copy("employees", 2)(folder)
    set_cell("assessments", 7, "level", "7")(folder)
    frames = read_tables(folder)
    url = f"sqlite:///{tmp_path / 'hr.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name, df in frames.items():
            df.to_sql(name, conn, index=False)
    engine.dispose()

    from_db = read_tables(url)
    assert {n: len(df) for n, df in from_db.items()} == {n: len(df) for n, df in frames.items()}
    expected = [where(p) for p in validate(frames).problems]
    assert expected == [
        ("employees", len(frames["employees"]), "nip", "duplicate_key"),
        ("assessments", 7, "level", "range"),
    ]
    assert [where(p) for p in validate(from_db).problems] == expected

    result = CliRunner().invoke(app, ["validate", url, "--json"])
    assert result.exit_code == 1
    printed = json.loads(result.output)
    assert [(p["table"], p["row"], p["column"], p["rule"]) for p in printed["problems"]] == expected
