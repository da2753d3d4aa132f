"""No feature reads data from on or after the snapshot date ``t``.

The proof: build the candidate frame (snapshot -> usage -> candidates with every feature) at
``t``, corrupt everything the organisation recorded on or after ``t`` and rebuild: the frame must
be identical. The corruption is shown to bite by applying the same corruption one year earlier,
which must change the frame (so this test can fail).

What may legitimately be read from a row dated on/after ``t``: the employees table holds the
*current* position, unit and grade, so the state on ``t`` is reconstructed from the first later
career move or rank change (its ``from_*`` value). Those ``from_*`` values are kept; everything
else about later moves (target, type, later moves) is corrupted, and so is the current state in
the employees table when it is a fact from after ``t`` (position, unit and start date of people
who moved later, grade of people promoted later, leaving dates, people hired on or after ``t``).
The position history's rows from on or after ``t`` are scrambled too; without that table (older
exports) the same holds (``test_without_position_history_nothing_after_t_is_read``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.programs.catalog import build_catalog
from recommender.programs.features import FEATURES, build_usage, candidate_frame
from recommender.snapshot import RATING_SCORE, build_snapshot
from training.datasets import GAIN_POINTS, year_labels

T = pd.Timestamp("2023-01-01")
YEAR = 2023
EARLIER = pd.Timestamp("2022-01-01")
EVENT_TABLES = (
    "employees",
    "assessments",
    "enrollments",
    "career_moves",
    "position_history",
    "rank_history",
    "appraisals",
    "talent_box",
)

Tables = dict[str, pd.DataFrame]


def features_at(tables: Tables, at: pd.Timestamp = T, year: int = YEAR) -> pd.DataFrame:
    """Candidate frame of everyone active on ``at`` (catalogue from the static tables)."""
    snap = build_snapshot(tables, at)
    return candidate_frame(snap, build_catalog(tables), build_usage(tables, snap), year)


def _shift(dates: pd.Series, rng: np.random.Generator) -> pd.Series:
    return dates + pd.to_timedelta(rng.integers(0, 200, len(dates)), unit="D")


def _permute(values: pd.Series, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(values.to_numpy())


def _corrupt_enrollments(enr: pd.DataFrame, cut: pd.Timestamp, rng: np.random.Generator) -> None:
    future = enr["start_date"] >= cut
    n = int(future.sum())
    for col in ("program_id", "status", "session_id", "source"):
        enr.loc[future, col] = _permute(enr.loc[future, col], rng)
    enr.loc[future, "jp_credited"] = rng.integers(0, 300, n)
    enr.loc[future, "pre_test"] = rng.uniform(0, 100, n)
    enr.loc[future, "post_test"] = rng.uniform(0, 100, n)
    shift = pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    enr.loc[future, "start_date"] = enr.loc[future, "start_date"] + shift
    enr.loc[future, "end_date"] = enr.loc[future, "end_date"] + shift
    # started before the cut, still running on it: only the start and the programme are known
    running = (enr["start_date"] < cut) & (enr["end_date"] >= cut)
    m = int(running.sum())
    enr.loc[running, "status"] = rng.choice(["completed", "failed", "withdrawn"], m)
    enr.loc[running, "jp_credited"] = rng.integers(0, 300, m)
    enr.loc[running, "post_test"] = rng.uniform(0, 100, m)
    enr.loc[running, "end_date"] = _shift(enr.loc[running, "end_date"], rng)


def _corrupt_changes(
    df: pd.DataFrame,
    cut: pd.Timestamp,
    date: str,
    from_cols: tuple[str, ...],
    other_cols: tuple[str, ...],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Later moves: keep the first one's ``from_*`` per person, corrupt everything else."""
    future = df[date] >= cut
    first = df[future].sort_values(date, kind="stable").groupby("employee_id").head(1).index
    later = df.index[future & ~df.index.isin(first)]
    for col in other_cols:
        df.loc[future, col] = _permute(df.loc[future, col], rng)
    for col in from_cols:
        df.loc[later, col] = _permute(df.loc[later, col], rng)
    # one constant shift keeps each person's order; then drop half of the non-first ones
    df.loc[future, date] = df.loc[future, date] + pd.Timedelta(days=45)
    return df.drop(index=later[rng.random(len(later)) < 0.5])


def _corrupt_employees(tables: Tables, cut: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """Current state that is a fact from on/after ``cut``: scrambled; later hires: deleted."""
    emp = tables["employees"]
    moved = emp["employee_id"].isin(
        tables["career_moves"].loc[tables["career_moves"]["move_date"] >= cut, "employee_id"]
    )
    n = int(moved.sum())
    positions = tables["positions"]
    pick = positions.sample(n, replace=True, random_state=int(rng.integers(1 << 30)))
    emp.loc[moved, "position_id"] = pick["position_id"].to_numpy()
    emp.loc[moved, "unit_id"] = pick["unit_id"].to_numpy()
    emp.loc[moved, "position_start_date"] = _shift(emp.loc[moved, "position_start_date"], rng)
    promoted = emp["employee_id"].isin(
        tables["rank_history"].loc[tables["rank_history"]["effective_date"] >= cut, "employee_id"]
    )
    emp.loc[promoted, "grade"] = rng.choice(sorted(set(emp["grade"])), int(promoted.sum()))
    emp.loc[promoted, "grade_date"] = _shift(emp.loc[promoted, "grade_date"], rng)
    left = emp["end_date"] >= cut
    emp.loc[left, "end_date"] = _shift(emp.loc[left, "end_date"], rng)
    emp.loc[left, "status"] = _permute(emp.loc[left, "status"], rng)
    leaving = emp["end_date"].isna() & (rng.random(len(emp)) < 0.2)
    emp.loc[leaving, "end_date"] = cut + pd.to_timedelta(rng.integers(0, 900, leaving.sum()), "D")
    emp.loc[leaving, "status"] = "retired"
    return emp[emp["hire_date"] < cut].reset_index(drop=True)


def corrupt(tables: Tables, cut: pd.Timestamp, only: str | None = None, seed: int = 0) -> Tables:
    """A copy of ``tables`` with every event recorded on or after ``cut`` scrambled, shifted
    later or deleted (``only``: just that table). Appraisals and talent boxes of the year of
    ``cut`` and later are scrambled (a year's rating is only known after the year)."""
    rng = np.random.default_rng(seed)
    out = {name: df.copy(deep=True) for name, df in tables.items()}
    todo = EVENT_TABLES if only is None else (only,)
    if "employees" in todo:  # before the moves and rank changes are scrambled
        out["employees"] = _corrupt_employees(out, cut, rng)
    if "assessments" in todo:
        ass = out["assessments"]
        future = ass["assessed_on"] >= cut
        ass.loc[future, "level"] = rng.integers(1, 6, int(future.sum()))
        ass.loc[future, "competency_id"] = _permute(ass.loc[future, "competency_id"], rng)
        ass.loc[future, "assessed_on"] = _shift(ass.loc[future, "assessed_on"], rng)
        gone = future & (rng.random(len(ass)) < 0.3)
        out["assessments"] = ass[~gone].reset_index(drop=True)
    if "enrollments" in todo:
        _corrupt_enrollments(out["enrollments"], cut, rng)
    if "career_moves" in todo:
        out["career_moves"] = _corrupt_changes(
            out["career_moves"],
            cut,
            "move_date",
            ("from_position_id", "from_unit_id"),
            ("to_position_id", "to_unit_id", "move_type"),
            rng,
        )
    if "position_history" in todo and "position_history" in out:
        hist = out["position_history"]
        future = hist["start_date"] >= cut
        for col in ("position_id", "unit_id"):
            hist.loc[future, col] = _permute(hist.loc[future, col], rng)
        hist.loc[future, "start_date"] = _shift(hist.loc[future, "start_date"], rng)
        gone = future & (rng.random(len(hist)) < 0.5)
        out["position_history"] = hist[~gone].reset_index(drop=True)
    if "rank_history" in todo:
        out["rank_history"] = _corrupt_changes(
            out["rank_history"], cut, "effective_date", ("from_grade",), ("to_grade",), rng
        )
    if "appraisals" in todo:
        app = out["appraisals"]
        future = app["year"] >= cut.year
        app.loc[future, "rating"] = rng.choice(list(RATING_SCORE), int(future.sum()))
    if "talent_box" in todo:
        box = out["talent_box"]
        future = box["year"] >= cut.year
        n = int(future.sum())
        box.loc[future, "box"] = rng.integers(1, 10, n)
        box.loc[future, "performance_score"] = rng.uniform(0, 100, n)
        box.loc[future, "potential_score"] = rng.uniform(0, 100, n)
    return out


def _with_running_enrolment(tables: Tables) -> Tables:
    """Add an enrolment that starts before ``T`` and ends after it (none in the tiny data)."""
    enr = tables["enrollments"]
    row = enr[enr["start_date"] < T - pd.Timedelta(days=60)].iloc[[0]].copy()
    row["enrollment_id"] = "EN-RUNNING"
    row["start_date"] = T - pd.Timedelta(days=10)
    row["end_date"] = T + pd.Timedelta(days=10)
    row["status"] = "completed"
    tables["enrollments"] = pd.concat([enr, row], ignore_index=True)
    return tables


@pytest.fixture(scope="module")
def base(clean_tables_once: Tables) -> tuple[Tables, pd.DataFrame]:
    tables = _with_running_enrolment({k: v.copy() for k, v in clean_tables_once.items()})
    return tables, features_at(tables)


def test_the_frame_is_substantial(base: tuple[Tables, pd.DataFrame]) -> None:
    tables, frame = base
    emp = tables["employees"]
    assert (emp["hire_date"] >= T).sum() > 10
    assert (emp["end_date"] >= T).sum() > 10
    assert list(frame.columns) == ["employee_id", "program_id", *FEATURES]
    # all features are floats (the registered model's signature is double throughout)
    assert [f for f in FEATURES if not pd.api.types.is_float_dtype(frame[f])] == []
    assert frame["employee_id"].nunique() > 200
    assert len(frame) > 10_000
    # there is something after T to corrupt in every event table
    assert (tables["assessments"]["assessed_on"] >= T).sum() > 100
    assert (tables["enrollments"]["start_date"] >= T).sum() > 100
    assert (tables["career_moves"]["move_date"] >= T).sum() > 10
    assert (tables["rank_history"]["effective_date"] >= T).sum() > 10
    assert (tables["appraisals"]["year"] >= YEAR).sum() > 100
    assert (tables["talent_box"]["year"] >= YEAR).sum() > 100


@pytest.mark.parametrize("seed", [0, 1])
def test_no_feature_reads_data_from_on_or_after_t(
    base: tuple[Tables, pd.DataFrame], seed: int
) -> None:
    tables, frame = base
    corrupted = corrupt(tables, T, seed=seed)
    assert not corrupted["enrollments"].equals(tables["enrollments"])
    pd.testing.assert_frame_equal(features_at(corrupted), frame)


def test_deleting_everything_after_t_changes_nothing(base: tuple[Tables, pd.DataFrame]) -> None:
    tables, frame = base
    out = {k: v.copy() for k, v in tables.items()}
    out["assessments"] = out["assessments"][out["assessments"]["assessed_on"] < T]
    out["enrollments"] = out["enrollments"][out["enrollments"]["start_date"] < T]
    out["appraisals"] = out["appraisals"][out["appraisals"]["year"] < YEAR]
    out["talent_box"] = out["talent_box"][out["talent_box"]["year"] < YEAR]
    pd.testing.assert_frame_equal(features_at(out), frame)


@pytest.mark.parametrize("seed", [0, 1])
def test_without_position_history_nothing_after_t_is_read(
    base: tuple[Tables, pd.DataFrame], seed: int
) -> None:
    """Older exports (no position history): the post and its start come from career_moves and
    the employees table, and still nothing from on or after ``t`` is read."""
    tables = {k: v for k, v in base[0].items() if k != "position_history"}
    pd.testing.assert_frame_equal(features_at(corrupt(tables, T, seed=seed)), features_at(tables))


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_each_table_alone_is_cut_at_t(base: tuple[Tables, pd.DataFrame], table: str) -> None:
    tables, frame = base
    pd.testing.assert_frame_equal(features_at(corrupt(tables, T, only=table)), frame)


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_the_same_corruption_a_year_earlier_changes_features(
    base: tuple[Tables, pd.DataFrame], table: str
) -> None:
    """Events before ``t`` are read: corrupting from 2022 on must change the frame."""
    tables, frame = base
    if table == "career_moves":  # read for the post only without a position history
        tables = {k: v for k, v in tables.items() if k != "position_history"}
        frame = features_at(tables)
    changed = features_at(corrupt(tables, EARLIER, only=table))
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(changed, frame)


def test_changing_past_assessments_changes_that_persons_features(
    base: tuple[Tables, pd.DataFrame],
) -> None:
    tables, frame = base
    ass = tables["assessments"]
    active = frame["employee_id"].unique()
    past = ass[(ass["assessed_on"] < T) & (ass["level"] <= 2) & ass["employee_id"].isin(active)]
    cover = frame.groupby("employee_id")["gap_coverage"].sum()
    emp = next(e for e in past["employee_id"].unique() if cover.get(e, 0.0) > 0)  # has gaps
    changed = {k: v.copy() for k, v in tables.items()}
    mine = (ass["employee_id"] == emp) & (ass["assessed_on"] < T)
    changed["assessments"].loc[mine, "level"] = 5  # every gap closed
    new = features_at(changed)
    old_p = frame[frame["employee_id"] == emp]
    new_p = new[new["employee_id"] == emp]
    assert new_p["gap_coverage"].sum() < old_p["gap_coverage"].sum()
    # nobody else's features move (usage does not read assessments)
    pd.testing.assert_frame_equal(
        new[new["employee_id"] != emp].reset_index(drop=True),
        frame[frame["employee_id"] != emp].reset_index(drop=True),
    )


def test_snapshot_boundaries_are_strict(clean_tables: Tables) -> None:
    """An enrolment ending exactly on ``t`` is not yet done; one ending the day before is."""
    snap0 = build_snapshot(clean_tables, T)
    enr = clean_tables["enrollments"]
    people = snap0.people.index
    # a completed enrolment of an active person, well in the future
    pick = enr[(enr["start_date"] >= pd.Timestamp("2024-06-01")) & enr["employee_id"].isin(people)]
    pick = pick[pick["status"] == "completed"]
    done_before = snap0.completed[
        people.get_indexer(pick["employee_id"]), snap0.programs.get_indexer(pick["program_id"])
    ]
    row = pick.index[~done_before][0]
    emp, prog = enr.loc[row, "employee_id"], enr.loc[row, "program_id"]
    r, p = snap0.row(emp), snap0.programs.get_loc(prog)
    assert not snap0.completed[r, p]

    enr.loc[row, ["start_date", "end_date"]] = [T - pd.Timedelta(days=5), T]
    assert not build_snapshot(clean_tables, T).completed[r, p]  # ends on T: not yet known
    enr.loc[row, "end_date"] = T - pd.Timedelta(days=1)
    snap = build_snapshot(clean_tables, T)
    assert snap.completed[r, p]
    assert snap.taken[r, p]
    assert snap.people.loc[emp, "n_enrolments"] == snap0.people.loc[emp, "n_enrolments"] + 1

    ass = clean_tables["assessments"]
    comp = snap.competencies[0]
    extra = pd.DataFrame(
        {
            "employee_id": [emp, emp],
            "competency_id": [comp, comp],
            "level": pd.array([1, 5], dtype="Int64"),
            "assessed_on": [T - pd.Timedelta(days=1), T],
            "method": "assessment_center",
        }
    )
    clean_tables["assessments"] = pd.concat([ass, extra], ignore_index=True)
    assert build_snapshot(clean_tables, T).levels[r, 0] == 1.0  # the one on T is not seen


def test_a_years_rating_is_known_only_after_the_year(clean_tables: Tables) -> None:
    app = clean_tables["appraisals"]
    snap = build_snapshot(clean_tables, T)
    emp = snap.people.index[0]
    mine = app[app["employee_id"] == emp].set_index("year")["rating"]
    assert snap.people.loc[emp, "last_rating"] == RATING_SCORE[mine.loc[YEAR - 1]]
    app.loc[(app["employee_id"] == emp) & (app["year"] == YEAR - 1), "rating"] = "Sangat Kurang"
    assert build_snapshot(clean_tables, T).people.loc[emp, "last_rating"] == 0
    app.loc[(app["employee_id"] == emp) & (app["year"] == YEAR), "rating"] = "Sangat Baik"
    assert build_snapshot(clean_tables, T).people.loc[emp, "last_rating"] == 0


def test_people_state_is_reconstructed_as_of_t(clean_tables: Tables) -> None:
    """A career move after ``t`` does not move the person on ``t``; one before it does."""
    moves = clean_tables["career_moves"]
    later = moves[moves["move_date"] >= pd.Timestamp("2024-01-01")]
    later = later[later["from_position_id"] != later["to_position_id"]]
    snap = build_snapshot(clean_tables, T)
    later = later[later["employee_id"].isin(snap.people.index)]
    move = later.sort_values("move_date").drop_duplicates("employee_id").iloc[0]
    emp = move["employee_id"]
    assert snap.people.loc[emp, "position_id"] == move["from_position_id"]
    after = build_snapshot(clean_tables, pd.Timestamp(move["move_date"]) + pd.Timedelta(days=1))
    assert after.people.loc[emp, "position_id"] == move["to_position_id"]


def test_year_labels_use_only_enrolments_starting_in_the_year(clean_tables: Tables) -> None:
    labels = year_labels(clean_tables, YEAR)
    assert len(labels) > 300
    assert set(labels["label"]) == {1, 2, 3}
    enr = clean_tables["enrollments"]
    in_year = enr["start_date"].dt.year == YEAR
    assert set(zip(labels["employee_id"], labels["program_id"], strict=True)) <= set(
        zip(enr.loc[in_year, "employee_id"], enr.loc[in_year, "program_id"], strict=True)
    )
    # corrupting every enrolment outside the year leaves the labels unchanged
    rng = np.random.default_rng(3)
    out = ~in_year
    for col in ("status", "program_id", "employee_id"):
        enr.loc[out, col] = rng.permutation(enr.loc[out, col].to_numpy())
    enr.loc[out, "post_test"] = 100.0
    pd.testing.assert_frame_equal(year_labels(clean_tables, YEAR), labels)
    # moving an enrolment's start to 1 January of the next year takes it out of the year
    pair = enr.loc[in_year].groupby(["employee_id", "program_id"]).size()
    unique = pair[pair == 1].index
    keys = pd.MultiIndex.from_frame(labels[["employee_id", "program_id"]])
    emp, prog = keys[keys.isin(unique)][0]
    row = enr.index[in_year & (enr["employee_id"] == emp) & (enr["program_id"] == prog)]
    enr.loc[row, "start_date"] = pd.Timestamp(f"{YEAR + 1}-01-01")
    moved = year_labels(clean_tables, YEAR)
    assert len(moved) == len(labels) - 1
    assert not ((moved["employee_id"] == emp) & (moved["program_id"] == prog)).any()
    enr.loc[row, "start_date"] = pd.Timestamp(f"{YEAR}-12-31")
    pd.testing.assert_frame_equal(year_labels(clean_tables, YEAR), labels)


def test_year_label_grades() -> None:
    enr = pd.DataFrame(
        {
            "employee_id": ["a", "a", "a", "a", "b", "b", "c"],
            "program_id": ["P1", "P2", "P3", "P3", "P4", "LAT", "P1"],
            "start_date": pd.to_datetime(
                [
                    "2023-01-01",
                    "2023-06-01",
                    "2023-03-01",
                    "2023-09-01",
                    "2023-12-31",
                    "2023-05-01",
                    "2022-12-31",
                ]
            ),
            "status": [
                "completed",
                "completed",
                "withdrawn",
                "completed",
                "no_show",
                "completed",
                "completed",
            ],
            "pre_test": [40.0, 50.0, np.nan, 10.0, np.nan, 10.0, 0.0],
            "post_test": [
                40.0 + GAIN_POINTS,
                50.0 + GAIN_POINTS - 1,
                np.nan,
                np.nan,
                np.nan,
                90,
                99,
            ],
        }
    )
    programs = pd.DataFrame(
        {"program_id": ["P1", "P2", "P3", "P4", "LAT"], "modality": ["teknis"] * 4 + ["latsar"]}
    )
    out = year_labels({"enrollments": enr, "programs": programs}, YEAR)
    got = {(e, p): int(lab) for e, p, lab in out.itertuples(index=False)}
    # P1: gain of exactly GAIN_POINTS -> 3; P2: one point short -> 2; P3: best of withdrawn (1)
    # and completed without a post-test (2); P4: no-show -> 1; Latsar (assignment-only) and
    # c's enrolment of 2022 are left out
    assert got == {("a", "P1"): 3, ("a", "P2"): 2, ("a", "P3"): 2, ("b", "P4"): 1}
