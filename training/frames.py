"""Helpers shared by every ranking pipeline's split frames (programmes and careers alike).

A frame is one row per (query, candidate) with the query key ``year``, ``employee_id``, the
features, an integer ``label`` and the group columns ``group_sex``, ``group_region``,
``group_grade``; a year object (:class:`training.datasets.YearFrame`,
:class:`training.careers_data.CareerYear`) holds one year of it in ``.frame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd

#: The query key: one query per person and year.
QUERY = ["year", "employee_id"]


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
