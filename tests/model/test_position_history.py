"""The snapshot's current post and years in position against the generator's ground truth.

The generator writes the position history (riwayat jabatan) and, for tests only, the truth: the
post, unit and start of the post of everyone active on each 1 January 2020-2026
(``_truth/positions``; ingest never reads it). With the history, the snapshot must give the post
and the years in position exactly (within a day) for every person and date. Without it (older
exports), the start comes from career_moves and is censored at the first recorded move, the same
for people who move later and people who do not. Reintroducing the old fallback (the hire date
when the export's position start is after the snapshot date: a leak of future moves) must fail
both checks: those cases are strict expected failures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recommender.snapshot as snapshot
from recommender.data.io import load_clean
from recommender.pseudonym import pseudonymise_series
from recommender.snapshot import build_snapshot
from tests.conftest import TEST_KEY
from training.ingest import ingest
from training.synthetic.generate import TRUTH_DIR, generate

DATES = [pd.Timestamp(f"{y}-01-01") for y in range(2020, 2027)]
DAY = 1 / 365.25
Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tables, pd.DataFrame]:
    """Clean tables of a 700-employee organisation and its truth (employee_id pseudonymised)."""
    root = tmp_path_factory.mktemp("history")
    generate(700, 11, root / "raw", truth=True, workers=1)
    ingest(root / "raw", root / "clean", TEST_KEY)
    truth = pd.read_parquet(root / "raw" / TRUTH_DIR / "positions.parquet")
    truth["employee_id"] = pseudonymise_series(truth.pop("nip").astype(str), TEST_KEY)
    truth["at"] = pd.to_datetime(truth["at"])
    truth["start_date"] = pd.to_datetime(truth["start_date"])
    return load_clean(root / "clean"), truth


def _leaky_start(emp: pd.DataFrame, at: pd.Timestamp, moves: pd.DataFrame | None) -> pd.Series:
    """The old rule: the last move before ``at``, else the export's position start, else (when
    that is after ``at``: the person moved later) the hire date."""
    last = pd.Series(dtype="datetime64[ns]")
    if moves is not None:
        last = moves[moves["move_date"] < at].groupby("employee_id")["move_date"].max()
    start = last.reindex(emp.index).fillna(emp["position_start_date"])
    out: pd.Series = start.where(start < at, emp["hire_date"])
    return out


def _leak_history(tables: Tables) -> Callable[..., tuple[pd.DataFrame, pd.Series]]:
    real = snapshot.post_from_history

    def leaky(history: pd.DataFrame, people: pd.Index, at: pd.Timestamp):  # type: ignore[no-untyped-def]
        post, _ = real(history, people, at)
        emp = tables["employees"].set_index("employee_id").reindex(people)
        return post, _leaky_start(emp, at, tables.get("career_moves"))

    return leaky


_REAL_START = snapshot.start_from_moves


def _leak_moves(
    moves: pd.DataFrame | None,
    emp: pd.DataFrame,
    at: pd.Timestamp,
    export: str = "position_start_date",
    window: pd.Timestamp | None = None,
) -> pd.Series:
    """The old rule for the post's start; the grade's start (``export="grade_date"``) is the
    real one, so the leak alone makes the test fail (by its assertion, not a TypeError)."""
    if export != "position_start_date":
        return _REAL_START(moves, emp, at, export=export, window=window)
    return _leaky_start(emp, at, moves)


@pytest.mark.parametrize(
    "variant",
    [
        "snapshot",
        pytest.param("hire_fallback", marks=pytest.mark.xfail(strict=True, raises=AssertionError)),
    ],
)
def test_history_matches_truth(
    org: tuple[Tables, pd.DataFrame], variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables, truth = org
    if variant == "hire_fallback":
        monkeypatch.setattr(snapshot, "post_from_history", _leak_history(tables))
    checked = 0
    for at in DATES:
        people = build_snapshot(tables, at).people
        want = truth[truth["at"] == at].set_index("employee_id")
        assert set(people.index) == set(want.index), at
        want = want.reindex(people.index)
        assert (people["position_id"] == want["position_id"]).all(), at
        assert (people["unit_id"] == want["unit_id"]).all(), at
        years = (at - want["start_date"]).dt.days / 365.25
        err = (people["years_in_position"] - years).abs()
        assert (err <= DAY).all(), f"{at}: {int((err > DAY).sum())} people off by more than a day"
        checked += len(people)
    assert checked > 3000


@pytest.mark.parametrize(
    "variant",
    [
        "snapshot",
        pytest.param("hire_fallback", marks=pytest.mark.xfail(strict=True, raises=AssertionError)),
    ],
)
def test_without_history_censored_alike(
    org: tuple[Tables, pd.DataFrame], variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old data: exact after a recorded move; before one, censored at the window start whether
    or not the person moves later (so tenure says nothing about future moves)."""
    tables, truth = org
    old = {k: v for k, v in tables.items() if k != "position_history"}
    if variant == "hire_fallback":
        monkeypatch.setattr(snapshot, "start_from_moves", _leak_moves)
    moves = old["career_moves"]
    window = moves["move_date"].min()
    emp = old["employees"].set_index("employee_id")
    movers_later = 0
    for at in DATES:
        people = build_snapshot(old, at).people
        want = truth[truth["at"] == at].set_index("employee_id").reindex(people.index)
        moved = people.index.isin(moves.loc[moves["move_date"] < at, "employee_id"])
        exact = (at - want["start_date"]).dt.days / 365.25
        hire = emp["hire_date"].reindex(people.index)
        floor = (at - hire.where(hire > window, window)).dt.days / 365.25
        expect = np.where(moved, exact, floor)
        assert np.allclose(people["years_in_position"], expect, atol=DAY), at
        later = people.index.isin(moves.loc[moves["move_date"] >= at, "employee_id"])
        movers_later += int((~moved & later).sum())
    assert movers_later > 100


def test_history_optional_in_contract() -> None:
    from recommender.data.schema import PROFILES, TABLES

    assert "position_history" in TABLES
    assert "position_history" not in PROFILES["full"]
    assert tuple(TABLES["position_history"].key) == ("nip", "start_date", "position_id")


def test_truth_never_ingested(org: tuple[Tables, pd.DataFrame]) -> None:
    tables, _ = org
    assert "positions" in tables and "_truth" not in tables
    assert len(tables["position_history"]) >= len(tables["employees"])


def test_raw_truth_folder_is_written_only_on_request(tmp_path: Path) -> None:
    generate(60, 2, tmp_path / "a", workers=1)
    assert not (tmp_path / "a" / TRUTH_DIR).exists()
    assert (tmp_path / "a" / "position_history.parquet").is_file()


def test_years_in_grade_censored_alike(org: tuple[Tables, pd.DataFrame]) -> None:
    """Years in grade: exact after a recorded rank change; before one, censored at the first
    recorded change whether or not the person is promoted later (never the export's grade_date,
    a fact of the export)."""
    tables, _ = org
    ranks = tables["rank_history"]
    window = ranks["effective_date"].min()
    emp = tables["employees"].set_index("employee_id")
    later_total = 0
    for at in DATES[1::2]:
        people = build_snapshot(tables, at).people
        past = ranks[ranks["effective_date"] < at].groupby("employee_id")["effective_date"].max()
        hire = emp["hire_date"].reindex(people.index)
        start = past.reindex(people.index).fillna(hire.where(hire > window, window))
        want = (at - start).dt.days / 365.25
        assert np.allclose(people["years_in_grade"], want, atol=DAY, equal_nan=True), at
        later = people.index.isin(ranks.loc[ranks["effective_date"] >= at, "employee_id"])
        later_total += int((later & ~people.index.isin(past.index)).sum())
    assert later_total > 50
