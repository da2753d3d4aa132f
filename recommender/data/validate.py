"""Validation of raw tables against the data contract.

Every problem is reported (never only the first) as table, row, column, value and rule. Rows are
numbered from 1, header excluded (row 1 is the first data row; in a spreadsheet it is line 2).
Values of personal identifiers (NIP) are never quoted.

The result keeps, per table, the parsed (normalised, typed) values and the reasons each bad row
was rejected, so :mod:`training.ingest` can write clean tables and a quarantine without parsing
twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recommender.data import normalize as nz
from recommender.data.schema import PROFILES, TABLES, Column, Kind, Table

REDACTED = "(redacted)"
PERSONAL = (Kind.NIP, Kind.PERSON)
MAX_REPORTED_VALUE = 60


@dataclass(frozen=True)
class Problem:
    """One problem found in the data. ``row`` is 1-based (header excluded); None = whole table."""

    table: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.table}" + (f" row {self.row}" if self.row is not None else "")
        col = f" column '{self.column}'" if self.column else ""
        return f"{where}{col}: {self.message} [{self.rule}]"


@dataclass
class TableResult:
    """Outcome for one table: parsed values (raw column names) and bad rows with reasons."""

    table: Table
    raw: pd.DataFrame
    parsed: pd.DataFrame | None = None
    failed: str | None = None
    reasons: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def bad_rows(self) -> np.ndarray:
        """Positions (0-based) of rejected rows, sorted; every row when the table failed."""
        if self.failed is not None:
            return np.arange(len(self.raw))
        return np.array(sorted(self.reasons), dtype=np.int64)

    @property
    def good_mask(self) -> np.ndarray:
        """Boolean mask over rows, True for rows that passed every check."""
        mask = np.ones(len(self.raw), dtype=bool)
        mask[self.bad_rows] = False
        return mask


@dataclass
class Report:
    """All problems, and the per-table results."""

    results: dict[str, TableResult]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity ``error`` (those that make validation fail)."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        """True when no error was found."""
        return not self.errors


class _Collector:
    """Turns masks of bad rows into problems and row reasons."""

    def __init__(self, result: TableResult, problems: list[Problem]) -> None:
        self.result, self.problems = result, problems

    def add(
        self,
        mask: np.ndarray | pd.Series,
        column: Column | None,
        rule: str,
        message: Callable[[str, int], str],
    ) -> None:
        """Record a problem for each True in ``mask``; ``message(value, position)`` words it."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        raw = self.result.raw
        for pos in positions:
            value = _display(raw, column, int(pos))
            msg = message(value if value is not None else "", int(pos))
            self.result.reasons[int(pos)].append(f"{column.name + ': ' if column else ''}{msg}")
            self.problems.append(
                Problem(
                    self.result.table.name,
                    int(pos) + 1,
                    column.name if column else None,
                    value,
                    rule,
                    msg,
                )
            )


def _display(raw: pd.DataFrame, column: Column | None, pos: int) -> str | None:
    if column is None or column.name not in raw.columns:
        return None
    if column.kind in PERSONAL:
        return REDACTED
    value = raw[column.name].iloc[pos]
    return None if nz.is_missing(pd.Series([value])).iloc[0] else str(value)[:MAX_REPORTED_VALUE]


def _parse_text(s: pd.Series) -> nz.Parsed:
    missing = nz.is_missing(s).to_numpy()
    values = s.astype(str).str.strip().to_numpy(dtype=object, copy=True)
    values[missing] = None
    return nz.Parsed(
        pd.Series(values, index=s.index, dtype=object), pd.Series(None, index=s.index, dtype=object)
    )


def _parse_number(s: pd.Series, integer: bool) -> nz.Parsed:
    missing = nz.is_missing(s)
    text = s.astype(str).str.strip().str.replace(",", ".", regex=False)
    num = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = ~missing & num.isna()
    if integer:
        bad |= ~missing & num.notna() & (num != np.floor(num))
    kind = "an integer" if integer else "a number"
    errors = pd.Series(None, index=s.index, dtype=object)
    errors[bad] = [f"'{v}' is not {kind}" for v in s[bad]]
    values = num.where(~bad)
    return nz.Parsed(values.astype("Int64") if integer else values.astype(float), errors)


def _parse_list(s: pd.Series) -> nz.Parsed:
    parsed = _parse_text(s)
    values = parsed.values.to_numpy(dtype=object, copy=True)
    for i, v in enumerate(values):
        if v is not None:
            joined = ";".join(x.strip() for x in v.split(";") if x.strip())
            values[i] = joined or None
    return nz.Parsed(pd.Series(values, index=s.index, dtype=object), parsed.errors)


PARSERS: dict[Kind, Callable[[pd.Series], nz.Parsed]] = {
    Kind.STR: _parse_text,
    Kind.PERSON: _parse_text,
    Kind.LIST: _parse_list,
    Kind.INT: lambda s: _parse_number(s, integer=True),
    Kind.FLOAT: lambda s: _parse_number(s, integer=False),
    Kind.BOOL: nz.normalize_bool,
    Kind.DATE: nz.normalize_date,
    Kind.NIP: nz.normalize_nip,
    Kind.GRADE: nz.normalize_grade,
    Kind.RATING: nz.normalize_rating,
    Kind.MODALITY: nz.normalize_modality,
    Kind.SEX: nz.normalize_sex,
    Kind.EDUCATION: nz.normalize_education,
}


def _elements(values: pd.Series) -> pd.Series:
    """Explode a LIST column into one element per row (index = row position)."""
    return values.dropna().str.split(";").explode()


def _check_columns(res: TableResult, out: _Collector) -> bool:
    table = res.table
    missing = [c.name for c in table.columns if c.required and c.name not in res.raw.columns]
    for name in missing:
        out.problems.append(
            Problem(
                table.name,
                None,
                name,
                None,
                "missing_column",
                f"required column '{name}' is missing; the whole table is rejected",
            )
        )
    extra = [c for c in res.raw.columns if c not in table.names]
    for name in extra:
        out.problems.append(
            Problem(
                table.name,
                None,
                str(name),
                None,
                "unknown_column",
                f"column '{name}' is not in the contract and is ignored",
                "warning",
            )
        )
    if missing:
        res.failed = f"missing required column(s): {', '.join(missing)}"
    return not missing


def _check_column(col: Column, raw: pd.Series, out: _Collector) -> pd.Series:
    parsed = PARSERS[col.kind](raw)
    errors = parsed.errors.reset_index(drop=True)
    out.add(errors.notna(), col, f"parse_{col.kind.value}", lambda _v, pos: str(errors[pos]))
    if not col.nullable:
        out.add(nz.is_missing(raw), col, "required_value", lambda _v, _p: "value is required")
    values = parsed.values.reset_index(drop=True)
    _check_domain(col, values, out)
    return values


def _check_domain(col: Column, values: pd.Series, out: _Collector) -> None:
    if col.allowed is not None:
        elems = _elements(values) if col.kind is Kind.LIST else values.dropna()
        bad_elems = elems[~elems.isin(col.allowed)]
        mask = np.zeros(len(values), dtype=bool)
        mask[np.unique(bad_elems.index.to_numpy()).astype(int)] = True
        shown = ", ".join(col.allowed[:12]) + (", ..." if len(col.allowed) > 12 else "")
        out.add(mask, col, "allowed_values", lambda v, _p: f"'{v}' is not one of: {shown}")
    if col.min is not None:
        below = (values < col.min).fillna(False).to_numpy(dtype=bool)
        out.add(below, col, "range", lambda v, _p: f"{v} is below the minimum {col.min:g}")
    if col.max is not None:
        above = (values > col.max).fillna(False).to_numpy(dtype=bool)
        out.add(above, col, "range", lambda v, _p: f"{v} is above the maximum {col.max:g}")


def _check_key(res: TableResult, parsed: pd.DataFrame, out: _Collector) -> None:
    key = list(res.table.key)
    if not key:
        return
    keyed = parsed[key].notna().all(axis=1)
    dup = (parsed.duplicated(key, keep="first") & keyed).to_numpy()
    if not dup.any():
        return
    with_pos = parsed.loc[keyed, key].assign(_pos=np.flatnonzero(keyed.to_numpy()))
    first = with_pos.groupby(key, dropna=False)["_pos"].transform("first")
    first_of = dict(zip(with_pos["_pos"], first, strict=True))
    label = ", ".join(key)
    out.add(
        dup,
        res.table.column(key[0]),
        "duplicate_key",
        lambda _v, pos: f"duplicate key ({label}) of row {first_of[pos] + 1}",
    )


def _check_rules(res: TableResult, parsed: pd.DataFrame, out: _Collector) -> None:
    for name, message, rule in res.table.rules:
        mask = rule(parsed).to_numpy(dtype=bool)
        out.add(mask, None, name, _constant(message))


def _constant(message: str) -> Callable[[str, int], str]:
    """A message function that ignores the value and row."""
    return lambda _value, _pos: message


def check_table(table: Table, raw: pd.DataFrame, problems: list[Problem]) -> TableResult:
    """Check one table's columns, values, key and row rules; append problems; return the result."""
    res = TableResult(table, raw.reset_index(drop=True))
    out = _Collector(res, problems)
    if not _check_columns(res, out):
        return res
    parsed = pd.DataFrame(index=res.raw.index)
    for col in table.columns:
        if col.name in res.raw.columns:
            parsed[col.name] = _check_column(col, res.raw[col.name], out)
        else:
            parsed[col.name] = pd.Series(None, index=res.raw.index, dtype=object)
    _check_key(res, parsed, out)
    _check_rules(res, parsed, out)
    res.parsed = parsed
    return res


def _parent_keys(results: dict[str, TableResult], ref: str, accepted_only: bool) -> set[str] | None:
    table, column = ref.split(".")
    res = results.get(table)
    if res is None:
        return None
    if res.parsed is None:  # the whole parent table was rejected
        return set() if accepted_only else None
    values = res.parsed[column]
    if accepted_only:
        values = values[res.good_mask]
    return set(values.dropna().astype(str))


def check_references(
    results: dict[str, TableResult], problems: list[Problem], accepted_only: bool = False
) -> None:
    """Check every reference column against its parent table, parents first.

    With ``accepted_only`` a reference to a parent row that was itself rejected is rejected too
    (ingest); otherwise any parsed parent key counts (validate). A missing parent table is a
    warning: references to it cannot be checked.
    """
    for res in results.values():
        if res.parsed is None:
            continue
        out = _Collector(res, problems)
        for col in res.table.columns:
            if col.references is None:
                continue
            keys = _parent_keys(results, col.references, accepted_only)
            if keys is None:
                problems.append(
                    Problem(
                        res.table.name,
                        None,
                        col.name,
                        None,
                        "unchecked_reference",
                        f"cannot check references to {col.references}: table not provided",
                        "warning",
                    )
                )
                continue
            _check_reference(col, res.parsed[col.name], keys, out, accepted_only)
            if accepted_only and col.references.split(".")[0] == res.table.name:
                _reject_descendants(results, res, col, out)


def _reject_descendants(
    results: dict[str, TableResult], res: TableResult, col: Column, out: _Collector
) -> None:
    """Self-reference (a unit's parent unit): reject rows below a rejected row, to any depth."""
    assert res.parsed is not None and col.references is not None
    rejected = -1
    while rejected != len(res.reasons):
        rejected = len(res.reasons)
        keys = _parent_keys(results, col.references, accepted_only=True) or set()
        _check_reference(col, res.parsed[col.name], keys, out, accepted_only=True)


def _check_reference(
    col: Column, values: pd.Series, keys: set[str], out: _Collector, accepted_only: bool
) -> None:
    elems = _elements(values) if col.kind is Kind.LIST else values.dropna().astype(str)
    bad = elems[~elems.isin(keys)]
    mask = np.zeros(len(values), dtype=bool)
    mask[np.unique(bad.index.to_numpy()).astype(int)] = True
    if accepted_only:
        mask &= ~np.isin(np.arange(len(values)), np.array(list(out.result.reasons), dtype=int))
    what = "a rejected or unknown row of" if accepted_only else "nothing in"
    out.add(
        mask, col, "unknown_reference", lambda v, _p: f"'{v}' refers to {what} {col.references}"
    )


def required_tables(profile: str) -> tuple[str, ...]:
    """Tables a profile needs; raises ValueError naming the known profiles."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile '{profile}': choose one of {', '.join(PROFILES)}")
    return PROFILES[profile]


def _with_parents(names: tuple[str, ...]) -> set[str]:
    """The tables ``names`` and the tables their columns refer to."""
    refs = {c.references.split(".")[0] for n in names for c in TABLES[n].columns if c.references}
    return set(names) | refs


def detect_profile(names: set[str]) -> str:
    """Guess the kind of data set from the tables present: full, standards or interactions.

    Standards only when nothing but the standards tables (and the tables they refer to) is
    present: an export with other tables is full, so a missing table is reported.
    """
    if set(PROFILES["full"]) <= names:
        return "full"
    if "interactions" in names:
        return "interactions"
    if set(PROFILES["standards"]) <= names <= _with_parents(PROFILES["standards"]):
        return "standards"
    return "full"


def validate(
    frames: dict[str, pd.DataFrame], profile: str | None = None, accepted_only: bool = False
) -> Report:
    """Validate raw tables. ``profile`` (full / interactions / standards) says which are required.

    Returns a :class:`Report`; raises ValueError for an unknown profile.
    """
    problems: list[Problem] = []
    needed = required_tables(profile or detect_profile(set(frames)))
    for name in needed:
        if name not in frames:
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    None,
                    "missing_table",
                    f"table '{name}' is required but was not provided",
                )
            )
    results = {
        name: check_table(table, frames[name], problems)
        for name, table in TABLES.items()
        if name in frames
    }
    check_references(results, problems, accepted_only)
    return Report(results, problems)
