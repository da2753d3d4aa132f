"""Ingest: validate raw tables, normalise, pseudonymise, write clean tables and a quarantine.

Clean tables (Parquet) hold only rows that passed every check, with normalised values and the
NIP replaced by its keyed pseudonym. Every rejected row is written to ``quarantine/<table>.csv``
with its 1-based source row and reasons; personal identifiers there are pseudonymised too, so
the output folder never holds a NIP. Nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recommender.data.io import read_tables, write_table
from recommender.data.nip import normalize_nip
from recommender.data.parsing import is_missing
from recommender.data.schema import Kind
from recommender.data.validate import PERSONAL, Report, TableResult, validate
from recommender.pseudonym import pseudonymise_series

log = logging.getLogger(__name__)
QUARANTINE = "quarantine"
REPORT_FILE = "_ingest_report.json"


@dataclass(frozen=True)
class TableOutcome:
    """Rows kept and rejected for one table; ``failed`` names why a whole table was rejected."""

    table: str
    kept: int
    rejected: int
    failed: str | None = None


def _pseudonymise_raw(values: pd.Series, kind: Kind, key: str) -> pd.Series:
    """Pseudonymise identifiers as they stand in a raw file (normalised first when possible)."""
    if kind is Kind.NIP:
        parsed = normalize_nip(values)
        values = parsed.values.where(parsed.values.notna(), values.astype(str).str.strip())
    return pseudonymise_series(values.where(~is_missing(values)), key)


def clean_frame(res: TableResult, key: str) -> pd.DataFrame:
    """The accepted rows of one table, typed, pseudonymised and with clean column names."""
    assert res.parsed is not None
    df = res.parsed.loc[res.good_mask].reset_index(drop=True)
    for col in res.table.columns:
        if col.kind in PERSONAL:
            df[col.name] = pseudonymise_series(df[col.name], key)
        elif col.kind is Kind.BOOL:
            df[col.name] = df[col.name].astype("boolean")
    df = df.rename(columns={c.name: c.out_name for c in res.table.columns})
    if res.table.name == "employees":
        df = _minimise_employees(df)
    return df


def _minimise_employees(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the birth year only: birth date + sex + hire month would rebuild most of a NIP."""
    df = df.copy()
    df.insert(df.columns.get_loc("birth_date"), "birth_year", df["birth_date"].dt.year)
    return df.drop(columns=["birth_date"])


def quarantine_frame(res: TableResult, key: str) -> pd.DataFrame:
    """The rejected rows as they were read, with ``_row`` (1-based) and ``_reasons`` first.

    Columns outside the contract are left out: they are ignored, and may hold personal data.
    """
    rows = res.bad_rows
    known = [c for c in res.raw.columns if c in res.table.names]  # unknown ones may hold a NIP
    df = res.raw.iloc[rows][known].copy()
    for col in res.table.columns:
        if col.kind in PERSONAL and col.name in df.columns:
            df[col.name] = _pseudonymise_raw(df[col.name], col.kind, key)
    if res.failed is not None:
        reasons = [f"table rejected: {res.failed}"] * len(df)
    else:
        reasons = ["; ".join(res.reasons[int(r)]) for r in rows]
    df.insert(0, "_reasons", reasons)
    df.insert(0, "_row", rows + 1)
    return df


def write_outputs(report: Report, out: Path, key: str) -> list[TableOutcome]:
    """Write clean tables and quarantine files for every table of ``report``."""
    outcomes = []
    for name, res in report.results.items():
        if res.parsed is not None:
            write_table(clean_frame(res, key), out, name)
        else:  # no clean table, not even a previous run's
            (out / f"{name}.parquet").unlink(missing_ok=True)
        bad = quarantine_frame(res, key)
        if len(bad):
            write_table(bad, out / QUARANTINE, name, fmt="csv")
        outcomes.append(TableOutcome(name, int(len(res.raw) - len(bad)), len(bad), res.failed))
    return outcomes


def ingest(
    source: str | Path, out: Path, key: str, profile: str | None = None
) -> tuple[Report, list[TableOutcome]]:
    """Validate ``source`` (directory or SQL URL) and write clean tables and quarantine to ``out``.

    Returns the validation report and one outcome per table. Raises DataSourceError when the
    source cannot be read, ValueError for an unknown profile.
    """
    frames = read_tables(source)
    report = validate(frames, profile, accepted_only=True)
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)
    outcomes = write_outputs(report, out, key)
    summary = {
        "tables": [o.__dict__ for o in outcomes],
        "problems_by_rule": pd.Series([p.rule for p in report.errors], dtype=object)
        .value_counts()
        .to_dict(),
    }
    (out / REPORT_FILE).write_text(json.dumps(summary, indent=2))
    log.info("ingested %d tables into %s", len(outcomes), out)
    return report, outcomes


def _clear_previous(out: Path) -> None:
    """Remove a previous run's quarantine files so stale rejections are not mistaken for new."""
    qdir = out / QUARANTINE
    if qdir.is_dir():
        for path in qdir.glob("*.csv"):
            path.unlink()
