"""Labelled, grouped training frames for the programme ranker (point in time).

A query is (employee, year): at ``t`` = 1 January of the year, which programmes will this person
take that year, and how well will it go? Candidates and features come from
:func:`recommender.programs.features.candidate_frame` on the snapshot of ``t`` — the same code
the service uses. Labels come from the enrolments that start in the year (design 3 C, issue 3):

====  ==================================================================================
 0    not taken
 1    taken, not completed (no-show, withdrawn, failed)
 2    completed
 3    completed and it worked at work: the supervisor's ``behaviour_change_score`` (1-5,
      rated 3-6 months later) at least ``BEHAVIOUR_POINTS``
====  ==================================================================================

Grades reward benefit, not only uptake: a recommender for development should put first what
people will take *and* finish *and* apply at work. The behaviour rating exists after any
modality (coaching, secondment, community of practice ... as well as courses), so every
modality can reach grade 3 by the same evidence; a completed enrolment without a rating (the
form did not come back) is grade 2 whatever its modality — a post-test does not stand in for
the missing rating, so tested modalities get no second chance.

Fallback for data without the rating (the optional column is absent, or empty for every
enrolment of the year, e.g. history from before an agency started the evaluation): grade 3 =
completed with post-test at least ``GAIN_POINTS`` above the pre-test (the rule of issue 3;
it can only be met by programmes with a pre/post test, i.e. classroom and self-paced ones).

Only programmes that can be candidates count (assignment-only programmes are planned through
the career path).

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

#: Grade 3 from the supervisor's behaviour-change rating (1-5): at least "agree" (4).
BEHAVIOUR_POINTS = 4.0
BEHAVIOUR_COLUMN = "behaviour_change_score"
#: Grade 3 in the fallback for data without the rating: post-test minus pre-test.
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
    label = np.where(done & worked(enr), 3, np.where(done, 2, 1))
    out = enr[["employee_id", "program_id"]].assign(label=label)
    return out.groupby(["employee_id", "program_id"], as_index=False)["label"].max()


def worked(enr: pd.DataFrame) -> pd.Series:
    """Bool per enrolment row: the evidence of grade 3 (given completion).

    With any ``behaviour_change_score`` in ``enr``: the score is at least ``BEHAVIOUR_POINTS``
    (a missing score is False). Without one (column absent or all empty): post-test minus
    pre-test at least ``GAIN_POINTS`` (the fallback). Raises ``ValueError`` naming the column
    when a score is not a number.
    """
    if BEHAVIOUR_COLUMN in enr.columns and enr[BEHAVIOUR_COLUMN].notna().any():
        try:
            score = pd.to_numeric(enr[BEHAVIOUR_COLUMN]).astype(float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"enrollments.{BEHAVIOUR_COLUMN}: not a number ({exc})") from exc
        return (score >= BEHAVIOUR_POINTS).fillna(False)
    gain = enr["post_test"].astype(float) - enr["pre_test"].astype(float)
    return (gain >= GAIN_POINTS).fillna(False)


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
