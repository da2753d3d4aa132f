"""Helpers shared by every ranking pipeline's split frames (programmes and careers alike).

A frame is one row per (query, candidate) with the query key ``year``, ``employee_id``, the
features, an integer ``label`` and the group columns ``group_sex``, ``group_region``,
``group_grade``; a year object (:class:`training.datasets.YearFrame`,
:class:`training.careers_data.CareerYear`) holds one year of it in ``.frame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from training.metrics import bootstrap_ci

#: The query key: one query per person and year.
QUERY = ["year", "employee_id"]
#: The group columns of every frame (parity is reported by sex, region and grade group).
GROUPS = ("group_sex", "group_region", "group_grade")


class HasFrame(Protocol):
    """A year of candidates (``frame``: one row per query and candidate)."""

    @property
    def frame(self) -> pd.DataFrame:
        """The year's candidate rows."""
        ...


def concat_years(*, years: Sequence[HasFrame]) -> pd.DataFrame:
    """One frame for a split, sorted by query (year, employee_id), stable, index 0..n-1, so the
    rows of a query are contiguous (LambdaRank's groups). Raises ValueError when ``years`` is
    empty."""
    df = pd.concat([y.frame for y in years], ignore_index=True)
    return df.sort_values(QUERY, kind="stable").reset_index(drop=True)


def with_positives(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the queries with at least one positive ``label`` (queries without one carry
    no ranking signal), index 0..n-1. Raises KeyError when a column is missing."""
    best = df.groupby(QUERY)["label"].transform("max")
    return df[best > 0].reset_index(drop=True)


def query_groups(df: pd.DataFrame) -> np.ndarray:
    """Sizes of the consecutive query groups of ``df`` in row order, int array (n_queries,).
    ``df`` must be sorted by query (:func:`concat_years`)."""
    out: np.ndarray = df.groupby(QUERY, sort=False).size().to_numpy()
    return out


def group_parity(
    *,
    per_query: pd.DataFrame,
    frame: pd.DataFrame,
    n_boot: int,
    metric: str,
    also: tuple[str, ...] = (),
    min_queries: int,
    min_judged: int,
) -> dict[str, Any]:
    """A ranker's ``metric`` by group: for each group column of :data:`GROUPS` (named without
    ``group_``), ``{"values": {group: {metric: mean, <also>: mean, "ci": [lo, hi], "queries":
    n, "judged": n >= min_queries}}, "parity_ratio": lowest / highest judged mean}`` (NaN with
    fewer than ``min_judged`` judged groups or a highest mean of 0).

    ``per_query``: metrics per query, index (year, employee_id); ``frame``: the split's rows
    with the group columns. Intervals are percentile-bootstrap 95 % (``n_boot`` resamples).
    Raises KeyError when a column is missing.
    """
    attrs = frame.drop_duplicates(QUERY).set_index(QUERY)[list(GROUPS)]
    joined = per_query.join(attrs)
    out: dict[str, Any] = {}
    for group in GROUPS:
        values = {}
        for value, part in joined.groupby(group):
            lo, hi = bootstrap_ci(part[metric].to_numpy(), n_boot)
            values[str(value)] = {
                metric: float(part[metric].mean()),
                **{m: float(part[m].mean()) for m in also},
                "ci": [lo, hi],
                "queries": len(part),
                "judged": bool(len(part) >= min_queries),
            }
        judged = [v[metric] for v in values.values() if v["judged"]]
        enough = len(judged) >= max(min_judged, 1) and max(judged, default=0.0) > 0
        ratio = min(judged) / max(judged) if enough else float("nan")
        out[group.removeprefix("group_")] = {"values": values, "parity_ratio": ratio}
    return out
