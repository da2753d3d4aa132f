"""HR review decisions as labels: reading the reviews table, applying decisions to frames, and
the effect on a real (small) programmes training run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from recommender.config import Settings
from recommender.store import repo
from recommender.store.db import make_engine, make_sessionmaker, upgrade
from training import programs, tracking
from training.datasets import SPLITS, YearFrame, build_year
from training.decisions import (
    DecisionsError,
    DecisionStats,
    apply_decisions,
    apply_to_splits,
    load_decisions,
)

E1, E2, E3 = "e_1111111111111111", "e_2222222222222222", "e_3333333333333333"
REVIEWER = "hr_reviewer_01"


def _at(year: int, month: int = 6, day: int = 1, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _write(url: str, reviews: list[dict[str, Any]]) -> None:
    """Write reviews through the service's own repository function."""
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        for r in reviews:
            repo.add_review(
                session,
                employee_id=r["employee_id"],
                item_kind=r.get("item_kind", "program"),
                item_id=r["item_id"],
                decision=r["decision"],
                replacement_id=r.get("replacement_id"),
                reason=r.get("reason", "judged by HR"),
                reviewer=REVIEWER,
                created_at=r["at"],
            )
    engine.dispose()


def _as_set(decisions: pd.DataFrame) -> set[tuple[str, int, str, str]]:
    return {
        (r.employee_id, int(r.year), r.program_id, r.decision)
        for r in decisions.itertuples(index=False)
    }


# -- load_decisions ---------------------------------------------------------------------------


def test_load_decisions_expands_replace_and_keeps_the_latest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    late_evening_jakarta_time = datetime(2023, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=7)))
    new_year_in_new_york = datetime(2023, 12, 31, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    _write(
        url,
        [
            # approve, then reject later the same year: the reject wins
            {"employee_id": E1, "item_id": "P01", "decision": "approve", "at": _at(2022, 3)},
            {"employee_id": E1, "item_id": "P01", "decision": "reject", "at": _at(2022, 9)},
            # reject, then approve: the approve wins (written out of order)
            {"employee_id": E1, "item_id": "P02", "decision": "approve", "at": _at(2022, 11)},
            {"employee_id": E1, "item_id": "P02", "decision": "reject", "at": _at(2022, 2)},
            # the same programme in another year is another query
            {"employee_id": E1, "item_id": "P01", "decision": "approve", "at": _at(2023, 1)},
            # replace: reject of P03, approve of P04
            {
                "employee_id": E2,
                "item_id": "P03",
                "decision": "replace",
                "replacement_id": "P04",
                "at": _at(2023, 5),
            },
            # replaced earlier, approved later: the later approve of P05 wins; P06 stays approved
            {
                "employee_id": E2,
                "item_id": "P05",
                "decision": "replace",
                "replacement_id": "P06",
                "at": _at(2023, 2),
            },
            {"employee_id": E2, "item_id": "P05", "decision": "approve", "at": _at(2023, 7)},
            # years are UTC years: 2023-12-31 23:30 in Jakarta is 16:30 UTC (2023);
            # 2023-12-31 22:00 in New York is 03:00 UTC on 1 January 2024
            {
                "employee_id": E3,
                "item_id": "P07",
                "decision": "approve",
                "at": late_evening_jakarta_time,
            },
            {"employee_id": E3, "item_id": "P08", "decision": "reject", "at": new_year_in_new_york},
            # positions are not programme labels
            {
                "employee_id": E3,
                "item_kind": "position",
                "item_id": "JF-1",
                "decision": "approve",
                "at": _at(2023),
            },
        ],
    )
    found = load_decisions(url)
    assert list(found.columns) == ["employee_id", "year", "program_id", "decision", "reviewed_at"]
    assert _as_set(found) == {
        (E1, 2022, "P01", "reject"),
        (E1, 2022, "P02", "approve"),
        (E1, 2023, "P01", "approve"),
        (E2, 2023, "P03", "reject"),
        (E2, 2023, "P04", "approve"),
        (E2, 2023, "P05", "approve"),
        (E2, 2023, "P06", "approve"),
        (E3, 2023, "P07", "approve"),
        (E3, 2024, "P08", "reject"),
    }
    assert len(found) == 9  # one row per (employee, year, programme)
    assert found.attrs["reviews"] == 10  # programme reviews read (the position one is not)
    latest = found.set_index(["employee_id", "year", "program_id"])["reviewed_at"]
    assert latest[(E1, 2022, "P01")] == pd.Timestamp(_at(2022, 9))
    assert latest[(E2, 2023, "P05")] == pd.Timestamp(_at(2023, 7))
    assert str(found["reviewed_at"].dt.tz) == "UTC"


def test_no_database_file_or_no_table_means_no_decisions(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "app.db"
    found = load_decisions(f"sqlite:///{missing}")
    assert found.empty
    assert list(found.columns) == ["employee_id", "year", "program_id", "decision", "reviewed_at"]
    assert not missing.parent.exists()  # a training run creates no database

    never_migrated = tmp_path / "empty.db"
    sqlite3.connect(never_migrated).close()
    assert load_decisions(f"sqlite:///{never_migrated}").empty

    migrated = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(migrated)
    assert load_decisions(migrated).empty


def test_unreadable_database_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DecisionsError, match="JENJANG_DATABASE_URL") as refused:
        load_decisions("postgresql://jenjang:s3cret-pw@127.0.0.1:1/jenjang")
    assert "s3cret-pw" not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__

    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"this is not SQLite " * 100)
    with pytest.raises(DecisionsError, match="JENJANG_DATABASE_URL"):
        load_decisions(f"sqlite:///{garbage}")

    with pytest.raises(DecisionsError, match="JENJANG_DATABASE_URL"):
        load_decisions("not a url at all")


# -- apply_decisions ---------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    rows = [
        (2022, E1, "P01", 0),
        (2022, E1, "P02", 3),
        (2022, E1, "P03", 1),
        (2022, E1, "P04", 2),
        (2022, E1, "P05", 0),
        (2022, E2, "P01", 0),
    ]
    frame = pd.DataFrame(rows, columns=["year", "employee_id", "program_id", "label"])
    return frame.assign(gap_rule=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6])


def _decisions(rows: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["employee_id", "year", "program_id", "decision"])
    return out.assign(reviewed_at=pd.Timestamp("2022-06-01", tz="UTC"))


def test_apply_decisions_labels_and_counts() -> None:
    frame = _frame()
    before = frame.copy(deep=True)
    decisions = _decisions(
        [
            (E1, 2022, "P01", "approve"),  # 0 -> 2
            (E1, 2022, "P02", "approve"),  # 3 stays 3
            (E1, 2022, "P03", "reject"),  # 1 -> 0
            (E1, 2022, "P04", "reject"),  # completed: stays 2
            (E1, 2022, "P99", "approve"),  # not a candidate of E1 in 2022
            (E3, 2022, "P01", "approve"),  # E3 is not in the frame
            (E1, 2019, "P01", "reject"),  # 2019 is not a year of the frame
        ]
    )
    out, stats = apply_decisions(frame, decisions)

    assert out["label"].tolist() == [2, 3, 0, 2, 0, 0]
    assert out["hr_decision"].astype(str).tolist() == [
        "approve",
        "approve",
        "reject",
        "reject",
        "",
        "",
    ]
    assert len(out) == len(frame)  # no rows invented
    assert out["gap_rule"].tolist() == frame["gap_rule"].tolist()
    pd.testing.assert_frame_equal(frame, before)  # the input is not changed

    assert (stats.read, stats.applied, stats.not_candidate, stats.outside_split) == (7, 4, 1, 2)
    assert stats.held_out_test == 0
    assert stats.labels_changed == 2  # P01 raised, P03 lowered
    assert stats.kept_by_outcome == 1  # P04: the completion wins over the rejection
    assert stats.by_decision["approve"] == {
        "read": 4,
        "applied": 2,
        "not_candidate": 1,
        "outside_split": 1,
        "held_out_test": 0,
    }
    assert stats.by_decision["reject"]["applied"] == 2
    assert stats.by_decision["reject"]["outside_split"] == 1
    flat = stats.flat()
    assert flat["hr_decisions_applied"] == 4
    assert flat["hr_decisions_approve_not_candidate"] == 1


def test_apply_decisions_without_decisions_changes_nothing() -> None:
    frame = _frame()
    out, stats = apply_decisions(frame, _decisions([]))
    assert out["label"].tolist() == frame["label"].tolist()
    assert set(out["hr_decision"].astype(str)) == {""}
    assert stats == DecisionStats(
        by_decision={
            d: dict.fromkeys(
                ("read", "applied", "not_candidate", "outside_split", "held_out_test"), 0
            )
            for d in ("approve", "reject")
        }
    )


def test_apply_decisions_refuses_unexpanded_replace() -> None:
    with pytest.raises(ValueError, match="replace"):
        apply_decisions(_frame(), _decisions([(E1, 2022, "P01", "replace")]))


def _year(year: int) -> YearFrame:
    frame = _frame().assign(year=year)
    return YearFrame(year, frame, frame[frame["label"] > 0][["employee_id", "program_id", "label"]])


def test_split_rules_test_year_held_out_and_future_not_moved() -> None:
    frames = {"train": [_year(2022)], "validation": [_year(2024)], "test": [_year(2025)]}
    decisions = _decisions(
        [
            (E1, 2022, "P01", "approve"),  # train: applied
            (E1, 2024, "P03", "reject"),  # validation: applied
            (E1, 2025, "P01", "approve"),  # test year: held out
            (E1, 2026, "P01", "approve"),  # after the split: not moved to 2025 or earlier
            (E1, 2026, "P03", "reject"),
            (E1, 2023, "P01", "approve"),  # a year of no split (gap): outside
        ]
    )
    out, stats = apply_to_splits(frames, decisions)

    assert out["train"][0].frame["label"].tolist() == [2, 3, 1, 2, 0, 0]
    assert out["validation"][0].frame["label"].tolist() == [0, 3, 0, 2, 0, 0]
    assert out["test"][0] is frames["test"][0]  # the test labels stay the observed outcome
    assert "hr_decision" not in out["test"][0].frame.columns
    assert len(out["train"]) == 1 and len(out["train"][0].frame) == 6  # nothing added
    assert stats.read == 6
    assert (stats.applied, stats.held_out_test, stats.outside_split, stats.after_split) == (
        2,
        1,
        3,
        2,
    )
    assert stats.read == (
        stats.applied + stats.not_candidate + stats.outside_split + stats.held_out_test
    )
    assert "2 dated after 2025" in stats.describe(2025)


# -- a real training run on the tiny organisation ----------------------------------------------

SMALL = programs.ProgramsConfig(n_estimators=15, n_boot=10, early_stopping_rounds=5)
TRAIN_YEAR = SPLITS["train"][1]
VALID_YEAR = SPLITS["validation"][0]
TEST_YEAR = SPLITS["test"][0]


@dataclass
class Run:
    summary: dict[str, Any]
    settings: Settings
    picks: dict[str, tuple[str, str]]
    fitted: list[pd.DataFrame]
    scored: list[pd.DataFrame]
    messages: list[str]


def _pick(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Real (employee, programme) candidate pairs of a year for each kind of decision."""
    best = frame.groupby("employee_id")["label"].max()
    nobody = best[best == 0].index[0]  # took nothing: their query carries no signal without HR
    taker = frame[frame["employee_id"] == best[best >= 2].index[0]]
    zero = frame[(frame["employee_id"] == nobody)]["program_id"].tolist()
    person_best = frame["employee_id"].map(best)
    # a non-completion of someone who also completed something: the query stays in training
    not_done = frame[(frame["label"] == 1) & (person_best >= 2)].iloc[0]
    done = frame[frame["label"] >= 2].iloc[0]
    outside = sorted(set(frame["program_id"]) - set(taker["program_id"]))[0]
    return {
        "approve": (nobody, zero[0]),
        "replace_from": (nobody, zero[1]),
        "replace_to": (nobody, zero[2]),
        "reject_not_completed": (not_done["employee_id"], not_done["program_id"]),
        "reject_completed": (done["employee_id"], done["program_id"]),
        "not_candidate": (taker["employee_id"].iloc[0], outside),
    }


@pytest.fixture(scope="module")
def run(tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    import mlflow

    from recommender.data.io import load_clean
    from recommender.programs.catalog import build_catalog

    root = tmp_path_factory.mktemp("decisions")
    settings = Settings(
        database_url=f"sqlite:///{root / 'app.db'}",
        mlflow_tracking_uri=f"sqlite:///{root / 'mlruns.db'}",
        mlflow_artifact_root=str(root / "artifacts"),
        data_dir=root / "no-demo-data",
    )
    tables = load_clean(tiny_clean)
    cat = build_catalog(tables)
    year = build_year(
        tables, cat, TRAIN_YEAR, SMALL.max_candidates, SMALL.max_people_per_year, SMALL.seed
    )
    valid = build_year(
        tables, cat, VALID_YEAR, SMALL.max_candidates, SMALL.max_people_per_year, SMALL.seed
    )
    test = build_year(
        tables, cat, TEST_YEAR, SMALL.max_candidates, SMALL.max_people_per_year, SMALL.seed
    )
    picks = _pick(year.frame)
    vzero = valid.frame[valid.frame["label"] == 0].iloc[0]
    picks["valid_approve"] = (vzero["employee_id"], vzero["program_id"])
    tzero = test.frame[test.frame["label"] == 0].iloc[0]
    picks["test_approve"] = (tzero["employee_id"], tzero["program_id"])
    at = _at(TRAIN_YEAR, 4)
    reviews = [
        {"employee_id": picks["approve"][0], "item_id": picks["approve"][1], "decision": "approve"},
        {
            "employee_id": picks["replace_from"][0],
            "item_id": picks["replace_from"][1],
            "decision": "replace",
            "replacement_id": picks["replace_to"][1],
        },
        {
            "employee_id": picks["reject_not_completed"][0],
            "item_id": picks["reject_not_completed"][1],
            "decision": "reject",
        },
        {
            "employee_id": picks["reject_completed"][0],
            "item_id": picks["reject_completed"][1],
            "decision": "reject",
        },
        {
            "employee_id": picks["not_candidate"][0],
            "item_id": picks["not_candidate"][1],
            "decision": "approve",
        },
    ]
    rows = [{**r, "at": at} for r in reviews]
    rows.append(
        {
            "employee_id": vzero["employee_id"],
            "item_id": vzero["program_id"],
            "decision": "approve",
            "at": _at(VALID_YEAR, 3),
        }
    )
    rows.append(
        {
            "employee_id": tzero["employee_id"],
            "item_id": tzero["program_id"],
            "decision": "approve",
            "at": _at(TEST_YEAR, 3),
        }
    )
    # made in 2026, after the test year: must not reach any label of this run
    rows.append(
        {
            "employee_id": picks["approve"][0],
            "item_id": picks["approve"][1],
            "decision": "reject",
            "at": _at(TEST_YEAR + 1, 2),
        }
    )
    _write(settings.database_url, rows)

    fitted: list[pd.DataFrame] = []
    scored: list[pd.DataFrame] = []
    keep = programs.with_positives
    score = programs.score_split

    def spy_positives(df: pd.DataFrame) -> pd.DataFrame:
        out = keep(df)
        fitted.append(out)  # exactly the rows LightGBM is fitted (then validated) on
        return out

    def spy_score(frames: list[YearFrame], ranker: Any, n_boot: int, context: Any) -> Any:
        scored.extend(f.frame for f in frames)
        return score(frames, ranker, n_boot, context)

    messages: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(programs, "with_positives", spy_positives)
        mp.setattr(programs, "score_split", spy_score)
        summary = programs.train(settings, tiny_clean, SMALL, messages.append)
    yield Run(summary, settings, picks, fitted, scored, messages)
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def _row(df: pd.DataFrame, year: int, pair: tuple[str, str]) -> pd.Series:
    hit = df[(df["year"] == year) & (df["employee_id"] == pair[0]) & (df["program_id"] == pair[1])]
    assert len(hit) == 1, pair
    return hit.iloc[0]


def test_train_year_decisions_change_the_labels_the_ranker_is_fitted_on(run: Run) -> None:
    train, valid = run.fitted[0], run.fitted[1]
    p = run.picks
    # the approved person took nothing that year: without HR the query would not be trained on
    approved = _row(train, TRAIN_YEAR, p["approve"])
    assert (approved["label"], approved["hr_decision"]) == (2, "approve")
    assert _row(train, TRAIN_YEAR, p["replace_to"])["label"] == 2
    assert _row(train, TRAIN_YEAR, p["replace_from"])["hr_decision"] == "reject"
    assert _row(train, TRAIN_YEAR, p["reject_not_completed"])["label"] == 0
    kept = _row(train, TRAIN_YEAR, p["reject_completed"])
    assert kept["label"] >= 2 and kept["hr_decision"] == "reject"
    assert (train["hr_decision"] != "").sum() == 5
    assert _row(valid, VALID_YEAR, p["valid_approve"])["label"] == 2
    # the 2026 review was not moved into any earlier year
    assert (train["year"] <= SPLITS["train"][-1]).all()
    assert set(train["year"]) <= set(SPLITS["train"])


def test_test_year_keeps_the_observed_outcome(run: Run) -> None:
    test = pd.concat(run.scored, ignore_index=True)
    assert _row(test, TEST_YEAR, run.picks["test_approve"])["label"] == 0
    assert "hr_decision" not in test.columns


def test_summary_and_mlflow_report_the_counts(run: Run) -> None:
    counts = run.summary["decisions"]
    assert counts["enabled"] is True
    assert counts["reviews"] == 8
    # 8 reviews -> 9 decisions (the replace is two)
    assert counts["read"] == 9
    assert counts["applied"] == 6  # 5 train (approve, replace x2, two rejects) + 1 validation
    assert counts["labels_changed"] == 4  # approve, replacement approve, reject of a 1, valid
    assert counts["kept_by_outcome"] == 1
    assert counts["not_candidate"] == 1
    assert counts["held_out_test"] == 1
    assert counts["outside_split"] == 1 and counts["after_split"] == 1  # the 2026 review
    assert counts["by_decision"]["approve"]["applied"] == 3
    assert counts["by_decision"]["reject"]["applied"] == 3

    params = tracking.client(run.settings).get_run(run.summary["run_id"]).data.params
    assert params["use_decisions"] == "True"
    assert params["hr_reviews_read"] == "8"
    for key in ("read", "applied", "not_candidate", "outside_split", "held_out_test"):
        assert params[f"hr_decisions_{key}"] == str(counts[key]), key
    assert params["hr_decisions_after_split"] == "1"

    said = " ".join(run.messages)
    assert "6 applied" in said and f"1 dated after {TEST_YEAR}" in said


def test_decisions_can_be_switched_off_and_an_unreachable_database_fails_first() -> None:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/never-read")
    off = programs.ProgramsConfig(use_decisions=False)
    assert programs.load_hr_decisions(settings, off, lambda _: None) is None
    frames = {"train": [_year(2022)]}
    out, counts = programs.apply_hr_decisions(frames, None, lambda _: None)
    assert out is frames and counts == {"enabled": False}
    with pytest.raises(DecisionsError, match="JENJANG_DATABASE_URL"):
        programs.load_hr_decisions(settings, programs.ProgramsConfig(), lambda _: None)


def test_an_unreachable_database_stops_training_before_the_features(tiny_clean: Path) -> None:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/never-read")
    steps: list[str] = []
    with pytest.raises(DecisionsError, match="JENJANG_DATABASE_URL"):
        programs.train(settings, tiny_clean, SMALL, steps.append)
    assert steps == ["reading HR decisions"]
