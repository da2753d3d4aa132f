"""Labelled, grouped training frames for the programme ranker (point in time).

A query is (employee, year): at ``t`` = 1 January of the year, which programmes will this person
take that year, and how well will it go? Candidates and features come from
:func:`recommender.programs.features.candidate_frame` on the snapshot of ``t`` — the same code
the service uses. Labels come from the enrolments that start in the year (design 3 C, issue 3):

====  ==================================================================================
 0    not taken
 1    taken, not completed (no-show, withdrawn, failed)
 2    completed
 3    completed with a measured gain: post-test at least ``GAIN_POINTS`` above pre-test
====  ==================================================================================

Grades reward benefit, not only uptake: a recommender for development should put first what
people will take *and* finish *and* learn from. Only programmes that can be candidates count
(assignment-only programmes are planned through the career path).

The split is global and temporal: train queries in 2020-2023, validation 2024, test 2025.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender.programs.catalog import ASSIGNMENT_ONLY, Catalog, build_catalog
from recommender.programs.features import build_usage, candidate_frame
from recommender.snapshot import build_snapshot
from training.frames import GROUPS as GROUPS
from training.frames import concat_years

GAIN_POINTS = 15.0
SPLITS: dict[str, tuple[int, ...]] = {
    "train": (2020, 2021, 2022, 2023),
    "validation": (2024,),
    "test": (2025,),
}


@dataclass
class YearFrame:
    """Candidates with features and labels for one year, plus the year's relevant set.

    ``relevant`` has every (employee, program, label) taken that year by a person in the
    frame, including programmes the candidate generator missed (so recall is honest).
    """

    year: int
    frame: pd.DataFrame
    relevant: pd.DataFrame


def year_labels(tables: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    """Best label per (employee, programme) among the enrolments starting in ``year``."""
    enr = tables["enrollments"]
    enr = enr[enr["start_date"].dt.year == year]
    mod = enr["program_id"].map(tables["programs"].set_index("program_id")["modality"])
    enr = enr[~mod.isin(ASSIGNMENT_ONLY)]
    done = enr["status"] == "completed"
    gained = done & ((enr["post_test"] - enr["pre_test"]) >= GAIN_POINTS)
    label = np.where(gained, 3, np.where(done, 2, 1))
    out = enr[["employee_id", "program_id"]].assign(label=label)
    return out.groupby(["employee_id", "program_id"], as_index=False)["label"].max()


def build_year(
    tables: dict[str, pd.DataFrame],
    cat: Catalog,
    year: int,
    max_candidates: int = 150,
    max_people: int | None = None,
    seed: int = 0,
) -> YearFrame:
    """Snapshot at 1 January ``year`` -> candidates, features, labels.

    ``max_people`` caps the queries of the year with a seeded random sample of the people
    active on that date (training time and memory stay bounded for large organisations; the
    usage statistics still use everyone).
    """
    snap = build_snapshot(tables, f"{year}-01-01")
    usage = build_usage(tables, snap)
    rows = np.arange(len(snap.people))
    if max_people is not None and len(rows) > max_people:
        rows = np.sort(np.random.default_rng([seed, year]).choice(rows, max_people, False))
    frame = candidate_frame(snap, cat, usage, year, rows=rows, max_candidates=max_candidates)
    labels = year_labels(tables, year)
    labels = labels[labels["employee_id"].isin(snap.people.index[rows])].assign(year=year)
    frame = frame.merge(labels.drop(columns="year"), on=["employee_id", "program_id"], how="left")
    frame["label"] = frame["label"].fillna(0).astype(int)
    frame.insert(0, "year", year)
    people = snap.people.reindex(frame["employee_id"])
    frame["group_sex"] = np.where(people["female"].to_numpy() == 1, "P", "L")
    frame["group_region"] = np.where(people["java"].to_numpy() == 1, "java", "outside_java")
    frame["group_grade"] = people["grade"].str.split("/").str[0].to_numpy()
    return YearFrame(year, frame, labels)


def build_frames(
    tables: dict[str, pd.DataFrame],
    splits: dict[str, tuple[int, ...]] = SPLITS,
    max_candidates: int = 150,
    max_people: int | None = None,
) -> dict[str, list[YearFrame]]:
    """Year frames for every split (the catalogue is built once)."""
    cat = build_catalog(tables)
    return {
        name: [build_year(tables, cat, y, max_candidates, max_people) for y in years]
        for name, years in splits.items()
    }


def concat(frames: list[YearFrame]) -> pd.DataFrame:
    """One frame for a split, sorted by query (year, employee) so groups are contiguous
    (:func:`training.frames.concat_years`)."""
    return concat_years(years=frames)
