"""XuetangX files as clean interactions: reading, the data contract, pseudonyms, order.

Two files in the XuetangX format (``username``, ``course_id``, ``interaction_strength``,
``ts_ms``; optional ``user_idx``, ``item_idx``) are mapped onto the interactions-only data
contract (``employee_id``, ``program_id``, ``ts``, ``strength``), checked with it, and the learner
ids are pseudonymised at once: no learner id reaches the features, the model or the output.

Timestamps: the publisher garbled their absolute values but kept their order within a learner, so
only that order is used. The contract normalises ``ts`` to a calendar date between 1900 and 2100;
its problems are counted and reported but do not drop a row (a row whose time cannot be read sorts
first in its learner's history, so it is never a pseudo-target). Rows whose learner, course or
strength fail the contract, or that repeat a (learner, course, ts) key, are dropped and counted.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.data.schema import TABLES
from recommender.data.validate import Problem, check_table
from recommender.pseudonym import pseudonymise_series

REQUIRED = ("username", "course_id", "interaction_strength", "ts_ms")
OPTIONAL = ("user_idx", "item_idx")
TO_CONTRACT = {
    "username": "employee_id",
    "course_id": "program_id",
    "ts_ms": "ts",
    "interaction_strength": "strength",
}


class ExternalDataError(ValueError):
    """A file cannot be read or lacks required columns (the message names the file)."""


@dataclass(frozen=True)
class Interactions:
    """One file as clean interactions: ``frame`` has ``employee_id`` (pseudonym), ``program_id``,
    ``strength`` and ``seq`` (0-based order within the learner). ``problems`` counts contract
    problems as ``"rule:column"``; ``dropped`` rows were left out."""

    path: str
    frame: pd.DataFrame
    rows: int
    dropped: int
    problems: dict[str, int]


def read_file(path: str | Path) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) as text; raise ExternalDataError naming the file when it
    is missing, unreadable or lacks a required column."""
    path = Path(path)
    if not path.is_file():
        raise ExternalDataError(f"{path}: file not found")
    try:
        raw = pd.read_csv(path, dtype=str, compression="infer")
    except (
        OSError,
        EOFError,
        UnicodeDecodeError,
        zlib.error,
        gzip.BadGzipFile,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
    ) as exc:
        raise ExternalDataError(f"{path}: cannot be read as CSV: {exc}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ExternalDataError(
            f"{path}: missing required column(s): {', '.join(missing)} "
            f"(needs {', '.join(REQUIRED)}; {', '.join(OPTIONAL)} are optional)"
        )
    return raw


def _order_key(ts: pd.Series) -> np.ndarray:
    """Sortable float per timestamp (epoch milliseconds or date-time text); unreadable -> -inf."""
    text = ts.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() >= text.notna().sum():
        key = numbers.to_numpy(dtype=float)
    else:
        when = pd.to_datetime(text, errors="coerce", format="ISO8601")
        key = np.where(when.isna(), np.nan, when.to_numpy(dtype="datetime64[ns]").astype(float))
    return np.where(np.isnan(key), -np.inf, key)


def _problem_counts(problems: list[Problem]) -> dict[str, int]:
    counts = Counter(f"{p.rule}:{p.column}" for p in problems)
    return dict(sorted(counts.items()))


def load_interactions(path: str | Path, key: str) -> Interactions:
    """Read one file, map it onto the interactions contract, validate it, pseudonymise the
    learner and order each learner's courses in time (first occurrence of a course kept).
    Raises ExternalDataError for a missing or malformed file."""
    raw = read_file(path)
    mapped = raw[list(REQUIRED)].rename(columns=TO_CONTRACT)
    problems: list[Problem] = []
    result = check_table(TABLES["interactions"], mapped, problems)
    assert result.parsed is not None  # the required columns are present
    bad = np.zeros(len(mapped), dtype=bool)
    rows = [p.row - 1 for p in problems if p.row is not None and p.column != "ts"]
    bad[np.array(rows, dtype=int)] = True
    parsed = result.parsed
    frame = pd.DataFrame(
        {
            "employee_id": pseudonymise_series(parsed["employee_id"], key),
            "program_id": parsed["program_id"].astype(object),
            "strength": parsed["strength"].astype(float),
            "_when": _order_key(mapped["ts"]),
            "_pos": np.arange(len(mapped)),
        }
    )[~bad]
    frame["_learner"] = frame.groupby("employee_id")["_pos"].transform("min")
    order = ["_learner", "_when", "_pos"]  # learners in file order, each in time order
    frame = frame.sort_values(order, kind="stable")
    frame = frame.groupby(["employee_id", "program_id"], sort=False, as_index=False).agg(
        strength=("strength", "max"), **{c: (c, "first") for c in order}
    )
    frame = frame.sort_values(order, kind="stable")
    frame["seq"] = frame.groupby("employee_id").cumcount()
    frame = frame.drop(columns=order).reset_index(drop=True)
    return Interactions(
        str(path), frame, len(raw), len(raw) - len(frame), _problem_counts(problems)
    )


def split_last(
    frame: pd.DataFrame, holdout: int, *, share: float = 0.0, min_past: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(past, targets): each learner's last ``max(holdout, floor(share * (n + 1)))`` courses
    (``n`` = the learner's courses) become targets, always leaving at least ``min_past``
    courses in the past; a learner with ``min_past`` courses or fewer keeps them all in the
    past. Raises ValueError for ``holdout < 0``, ``share`` outside [0, 1) or ``min_past < 1``."""
    if holdout < 0 or not 0.0 <= share < 1.0 or min_past < 1:
        raise ValueError(
            f"split_last: holdout >= 0, 0 <= share < 1, min_past >= 1 needed, got "
            f"{holdout}, {share}, {min_past}"
        )
    size = frame.groupby("employee_id")["seq"].transform("size").to_numpy()
    n_target = np.maximum(holdout, np.floor(share * (size + 1)).astype(int))
    keep = np.maximum(size - n_target, min_past)
    target = frame["seq"].to_numpy() >= keep
    return frame[~target].reset_index(drop=True), frame[target].reset_index(drop=True)


def split_random(
    frame: pd.DataFrame, *, seed: int, min_past: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(past, targets): one course drawn at random per learner with more than ``min_past``
    courses becomes the target (any of them, not only the latest); the rest is the past.
    Deterministic per ``seed`` and row order. Raises ValueError for ``min_past < 1``."""
    if min_past < 1:
        raise ValueError(f"split_random: min_past >= 1 needed, got {min_past}")
    size = frame.groupby("employee_id")["seq"].transform("size").to_numpy()
    draw = np.random.default_rng(seed).random(len(frame))
    rank = pd.Series(draw).groupby(frame["employee_id"].to_numpy()).rank(method="first")
    target = (rank.to_numpy() == 1) & (size > min_past)
    return frame[~target].reset_index(drop=True), frame[target].reset_index(drop=True)


def codes(
    frame: pd.DataFrame, learners: pd.Index, courses: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """Learner and course codes of ``frame`` (-1 when outside ``learners`` / ``courses``)."""
    return (
        learners.get_indexer(pd.Index(frame["employee_id"])),
        courses.get_indexer(pd.Index(frame["program_id"])),
    )


def target_matrix(targets: pd.DataFrame, learners: pd.Index, courses: pd.Index) -> np.ndarray:
    """Boolean learners x courses matrix, True where ``targets`` holds the pair (rows with a
    learner or course outside the indexes are ignored)."""
    u, c = codes(targets, learners, courses)
    ok = (u >= 0) & (c >= 0)
    out = np.zeros((len(learners), len(courses)), dtype=bool)
    out[u[ok], c[ok]] = True
    return out


def split_back(
    frame: pd.DataFrame, *, back: int, min_past: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(past, targets) of an earlier point of each learner's sequence: for a learner with ``n``
    courses, the course at position ``p = n - 1 - back`` (0-based, time order) is the target
    when ``p >= min_past``; that learner's later courses are dropped (they are neither past
    nor target), the earlier ones are the past. Learners too short for a target keep all
    their courses in the past. ``back = 0`` is :func:`split_last` with one target. Raises
    ValueError for ``back < 0`` or ``min_past < 1``."""
    if back < 0 or min_past < 1:
        raise ValueError(f"split_back: back >= 0 and min_past >= 1 needed, got {back}, {min_past}")
    size = frame.groupby("employee_id")["seq"].transform("size").to_numpy()
    seq = frame["seq"].to_numpy()
    point = size - 1 - back
    has = point >= min_past
    target = has & (seq == point)
    past = ~has | (seq < point)
    return frame[past].reset_index(drop=True), frame[target].reset_index(drop=True)
