"""HR review decisions as labels for the programme ranker (docs/programs-model.md).

HR reviewers approve, reject (with a reason) or replace (with another programme) the programmes
suggested to a person; the service stores each decision in the ``reviews`` table of the
application database (:class:`recommender.store.models.Review`). This module reads them and
turns them into label corrections of the training frames:

* :func:`load_decisions` — one row per (employee, year, programme) with ``approve`` or
  ``reject``; a ``replace`` is a reject of the original plus an approve of the replacement; when
  the same (employee, year, programme) was decided several times the latest decision wins. The
  year is the UTC year of the review: a decision labels the query of its own year.
* :func:`apply_decisions` — on the candidate rows of a frame: approve raises the label to at least
  2 (an expert judged it right: as good as a completion); reject sets it to 0 unless the observed
  outcome is 2 or more (what really happened wins over an opinion).
* :func:`apply_to_splits` — the temporal split's rules: decisions label train and validation
  years only; test-year decisions are held out (the test metric stays the observed outcome);
  decisions outside the split years — in particular after the last one — are counted, never
  moved into an earlier year nor added as rows.

A training run only reads the database: a missing SQLite file or a database without the
``reviews`` table (never migrated) gives no decisions; an unreachable database raises
:class:`DecisionsError` naming ``JENJANG_DATABASE_URL``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.datasets import YearFrame

#: Columns of :func:`load_decisions`.
COLUMNS = ("employee_id", "year", "program_id", "decision", "reviewed_at")
#: Label decisions (a ``replace`` becomes one of each).
LABEL_DECISIONS = ("approve", "reject")
#: What happened to a decision (every decision gets exactly one).
STATUSES = ("applied", "not_candidate", "outside_split", "held_out_test")
#: Splits whose labels decisions change (the test year keeps the observed outcome).
LABEL_SPLITS = ("train", "validation")
#: The label an approval guarantees (a completion).
APPROVED_LABEL = 2
#: Outcome labels a rejection does not lower (completed, completed with gain).
KEPT_OUTCOME = 2
SETTING = "JENJANG_DATABASE_URL"


class DecisionsError(RuntimeError):
    """The application database could not be read (unreachable, bad URL, unreadable table)."""


def empty_decisions() -> pd.DataFrame:
    """A decisions frame without rows (the columns and dtypes of :func:`load_decisions`)."""
    return pd.DataFrame(
        {
            "employee_id": pd.Series([], dtype="str"),
            "year": pd.Series([], dtype="int64"),
            "program_id": pd.Series([], dtype="str"),
            "decision": pd.Series([], dtype="str"),
            "reviewed_at": pd.Series([], dtype="datetime64[us, UTC]"),
        }
    )


def decisions_from_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """Programme reviews -> one label decision per (employee, year, programme).

    ``reviews`` has the columns review_id, employee_id, item_id, decision ('approve' | 'reject'
    | 'replace'), replacement_id, created_at (programme reviews only). A replace becomes a reject
    of ``item_id`` and an approve of ``replacement_id`` at the same time; the latest decision per
    (employee, year, programme) wins (ties: review id, then the replacement's approve last).
    """
    r = reviews.reset_index(drop=True)
    r = r[r["decision"].isin([*LABEL_DECISIONS, "replace"])]
    if r.empty:
        return empty_decisions()
    at = pd.to_datetime(r["created_at"], utc=True)
    base = pd.DataFrame(
        {
            "employee_id": r["employee_id"].astype("str"),
            "program_id": r["item_id"].astype("str"),
            "decision": r["decision"].where(r["decision"] != "replace", "reject").astype("str"),
            "reviewed_at": at,
            "review_id": r["review_id"].astype("str"),
            "order": 0,
        }
    )
    rep = r[(r["decision"] == "replace") & r["replacement_id"].notna()]
    approved = base.loc[rep.index].assign(
        program_id=rep["replacement_id"].astype("str"), decision="approve", order=1
    )
    out = pd.concat([base, approved], ignore_index=True)
    out["year"] = out["reviewed_at"].dt.year.astype("int64")
    out = out.sort_values(["reviewed_at", "review_id", "order"], kind="stable")
    out = out.drop_duplicates(["employee_id", "year", "program_id"], keep="last")
    out = out.sort_values(["year", "employee_id", "program_id"], kind="stable")
    return out[list(COLUMNS)].reset_index(drop=True)


def load_decisions(database_url: str) -> pd.DataFrame:
    """HR decisions on programmes from the application database at ``database_url``.

    Columns: employee_id, year (UTC year of the review), program_id, decision ('approve' |
    'reject'), reviewed_at (UTC). Only ``item_kind='program'`` reviews; see
    :func:`decisions_from_reviews` for replace and latest-wins. ``attrs["reviews"]`` holds the
    number of programme reviews read.

    Read only: a SQLite file that does not exist, or a database without the ``reviews`` table,
    gives an empty frame (a fresh install trains without a database). Raises
    :class:`DecisionsError` naming ``JENJANG_DATABASE_URL`` when the database cannot be
    reached or read.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db

    try:
        where = db.display_url(database_url)
        path = db.sqlite_file(database_url)
    except SQLAlchemyError as exc:
        raise DecisionsError(
            f"cannot read HR review decisions: {SETTING} is not a database URL ({_reason(exc)}); "
            "fix the setting (ProgramsConfig(use_decisions=False) trains without HR decisions)"
        ) from None
    empty = empty_decisions()
    empty.attrs["reviews"] = 0
    if path is not None and not path.is_file():
        return empty
    rows = _review_rows(database_url, where)
    if rows is None:
        return empty
    reviews = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["review_id", "employee_id", "item_id", "decision", "replacement_id", "created_at"],
    )
    out = decisions_from_reviews(reviews)
    out.attrs["reviews"] = len(reviews)
    return out


def _review_rows(database_url: str, where: str) -> list[Any] | None:
    """The programme reviews (review_id, employee_id, item_id, decision, replacement_id,
    created_at) of the database, or None when it has no ``reviews`` table. Raises
    :class:`DecisionsError` when the database cannot be reached or read."""
    from sqlalchemy import inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from recommender.store import db
    from recommender.store.models import Review

    query = select(
        Review.review_id,
        Review.employee_id,
        Review.item_id,
        Review.decision,
        Review.replacement_id,
        Review.created_at,
    ).where(Review.item_kind == "program")
    try:
        engine = db.make_engine(database_url)
        try:
            with engine.connect() as connection:
                if not inspect(connection).has_table(Review.__tablename__):
                    return None
                return list(connection.execute(query).all())
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        raise DecisionsError(
            f"cannot read HR review decisions from the database {where} "
            f"({SETTING}): {_reason(exc)}; start the database or fix {SETTING} "
            "(ProgramsConfig(use_decisions=False) trains without HR decisions)"
        ) from None


def _reason(exc: BaseException) -> str:
    """The first line of the driver's message (no SQL, no traceback)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


@dataclass
class DecisionStats:
    """What became of the decisions of a run. Every decision read has one status:
    ``read = applied + not_candidate + outside_split + held_out_test``.

    * ``applied`` — matched a candidate row of a labelled (train or validation) year;
    * ``not_candidate`` — the person and year are in the frame but the programme was not a
      candidate (reported; no feature row is invented);
    * ``outside_split`` — the year is not a split year, or the person is not in the year's
      frame; ``after_split`` is the part dated after the last split year (they take effect when
      the split moves forward);
    * ``held_out_test`` — dated in the test year: not applied, the test metric stays the
      observed outcome.

    ``labels_changed`` counts applied decisions that changed a label; ``kept_by_outcome`` the
    rejections that left a completed outcome (label 2 or 3) as it was. ``by_decision`` has the
    same counts per decision (approve, reject).
    """

    read: int = 0
    applied: int = 0
    not_candidate: int = 0
    outside_split: int = 0
    held_out_test: int = 0
    after_split: int = 0
    labels_changed: int = 0
    kept_by_outcome: int = 0
    by_decision: dict[str, dict[str, int]] = field(default_factory=dict)

    def __add__(self, other: DecisionStats) -> DecisionStats:
        by: dict[str, dict[str, int]] = {}
        for part in (self.by_decision, other.by_decision):
            for decision, counts in part.items():
                into = by.setdefault(decision, {})
                for key, n in counts.items():
                    into[key] = into.get(key, 0) + n
        totals = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in dataclasses.fields(self)
            if f.name != "by_decision"
        }
        return DecisionStats(**totals, by_decision=by)

    def as_dict(self) -> dict[str, Any]:
        """Counts as a JSON-ready dict (the ``decisions`` entry of a run's summary)."""
        return dataclasses.asdict(self)

    def flat(self, prefix: str = "hr_decisions_") -> dict[str, int]:
        """Flat counts for MLflow: ``hr_decisions_read``, ..., ``hr_decisions_approve_applied``."""
        out = {
            f"{prefix}{f.name}": int(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name != "by_decision"
        }
        for decision in sorted(self.by_decision):
            for key, n in sorted(self.by_decision[decision].items()):
                out[f"{prefix}{decision}_{key}"] = int(n)
        return out

    def describe(self, last_year: int | None = None) -> str:
        """One sentence for the run's progress and log."""
        text = (
            f"HR decisions: {self.read} read, {self.applied} applied to train/validation labels "
            f"({self.labels_changed} labels changed, {self.kept_by_outcome} rejections kept "
            f"a completed outcome), {self.not_candidate} not among the candidates, "
            f"{self.held_out_test} in the test year held out, {self.outside_split} outside the "
            "split"
        )
        if self.after_split:
            after = f"after {last_year}" if last_year is not None else "after the split"
            text += (
                f" ({self.after_split} dated {after}: they take effect when the split moves "
                "forward)"
            )
        return text


def _stats(decisions: pd.DataFrame, status: np.ndarray, extra: Mapping[str, int]) -> DecisionStats:
    """Counts by status, in total and per decision."""
    what = decisions["decision"].to_numpy()
    totals = {s: int((status == s).sum()) for s in STATUSES}
    by: dict[str, dict[str, int]] = {}
    for decision in LABEL_DECISIONS:
        mine = status[what == decision]
        by[decision] = {"read": len(mine), **{s: int((mine == s).sum()) for s in STATUSES}}
    return DecisionStats(read=len(decisions), **totals, **extra, by_decision=by)


def _check(decisions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in decisions.columns]
    if missing:
        raise ValueError(f"decisions lack the columns {', '.join(missing)}")
    bad = ~decisions["decision"].isin(LABEL_DECISIONS)
    if bad.any():
        raise ValueError(f"decisions must be {' or '.join(LABEL_DECISIONS)} (replace is expanded)")
    return decisions[list(COLUMNS)].reset_index(drop=True)


def apply_decisions(
    frame: pd.DataFrame, decisions: pd.DataFrame
) -> tuple[pd.DataFrame, DecisionStats]:
    """Apply HR decisions to the candidate rows of a year frame (or several years concatenated).

    ``frame`` has year, employee_id, program_id and label (see
    :func:`training.datasets.build_year`); ``decisions`` the columns of :func:`load_decisions`.
    For each row whose (employee_id, year, program_id) has a decision: approve -> label =
    max(label, 2); reject -> label = 0 unless the observed label is 2 or more (kept). The returned
    frame is a new frame (``frame`` is not changed) with the column ``hr_decision`` ('' |
    'approve' | 'reject', categorical). Every decision is counted once: applied, not_candidate
    (person and year in the frame, programme not a candidate) or outside_split (person/year not
    in the frame); nothing is added as a row.
    """
    keys = ["employee_id", "year", "program_id"]
    d = _check(decisions).astype({"employee_id": "str", "program_id": "str", "year": "int64"})
    rows = frame[keys].astype({"employee_id": "str", "program_id": "str", "year": "int64"})
    rows = rows.assign(_row=np.arange(len(frame)))
    joined = d.merge(rows, on=keys, how="left")
    if len(joined) != len(d):
        raise ValueError("the frame has duplicate (employee_id, year, program_id) rows")
    hit = joined["_row"].to_numpy(dtype="float64")
    matched = ~np.isnan(hit)
    queries = rows[["employee_id", "year"]].drop_duplicates().assign(_q=1)
    in_frame = (
        d[["employee_id", "year"]]
        .merge(queries, on=["employee_id", "year"], how="left")["_q"]
        .notna()
        .to_numpy()
    )
    status = np.where(matched, "applied", np.where(in_frame, "not_candidate", "outside_split"))

    label = frame["label"].to_numpy()
    new = label.copy()
    marks = np.zeros(len(frame), dtype=np.int8)  # 0 '', 1 approve, 2 reject
    idx = hit[matched].astype(np.int64)
    what = d["decision"].to_numpy()[matched]
    approve, reject = idx[what == "approve"], idx[what == "reject"]
    new[approve] = np.maximum(label[approve], APPROVED_LABEL)
    lowered = reject[label[reject] < KEPT_OUTCOME]
    new[lowered] = 0
    marks[approve], marks[reject] = 1, 2
    changed = int((new[idx] != label[idx]).sum())
    kept = int((label[reject] >= KEPT_OUTCOME).sum())

    out = frame.copy(deep=False)  # copy-on-write: the original frame is never changed
    out["label"] = new.astype(label.dtype, copy=False)
    out["hr_decision"] = pd.Categorical.from_codes(marks, pd.Index(["", "approve", "reject"]))
    stats = _stats(d, status, {"labels_changed": changed, "kept_by_outcome": kept})
    return out, stats


def apply_to_splits(
    frames: Mapping[str, Iterable[YearFrame]],
    decisions: pd.DataFrame,
    label_splits: Iterable[str] = LABEL_SPLITS,
) -> tuple[dict[str, list[YearFrame]], DecisionStats]:
    """Apply decisions to the year frames of ``label_splits`` (train and validation), honouring
    the temporal split.

    A decision labels the query of its own year only. Years of other splits (the test year) are
    counted as ``held_out_test`` and change nothing; years outside every split are counted as
    ``outside_split`` (``after_split`` when after the last split year) and are neither moved to
    another year nor added as rows. Returns new frames (others unchanged) and the counts.
    """
    split_frames = {name: list(fs) for name, fs in frames.items()}
    labelled = set(label_splits)
    label_years = {f.year for name, fs in split_frames.items() if name in labelled for f in fs}
    split_years = {f.year for fs in split_frames.values() for f in fs}
    decisions = _check(decisions)
    years = decisions["year"].to_numpy(dtype=np.int64)
    held = np.isin(years, list(split_years - label_years))
    outside = ~np.isin(years, list(split_years))
    after = int((years > max(split_years)).sum()) if split_years else int(outside.sum())
    status = np.where(held, "held_out_test", "outside_split")
    rest = held | outside
    stats = _stats(decisions[rest], status[rest], {"after_split": after})
    out: dict[str, list[YearFrame]] = {}
    for name, fs in split_frames.items():
        if name not in labelled:
            out[name] = fs
            continue
        out[name] = []
        for f in fs:
            new, year_stats = apply_decisions(f.frame, decisions[years == f.year])
            out[name].append(dataclasses.replace(f, frame=new))
            stats = stats + year_stats
    return out, stats
