"""Cold start on the tiny organisation: a profile copied from a real person is scored like them.

The profile of a person is copied from the clean tables as of 1 January 2025: position, unit,
grade and time in position as of the date (``build_snapshot``'s as-of logic, tested elsewhere),
education, sex, birth and hire year, last assessed level per competency, programmes completed
and taken, last rating. What a profile cannot say (see :data:`NOT_EXPRESSIBLE`):

* ``years_of_service``: a hire *year* has no month; the cold-start person is hired on 1 July,
  so the value is off by at most half a year (checked);
* ``talent_box``: the profile carries no talent review (NaN, as for a new hire);
* ``jp_last_year``: JP credited in the last 365 days needs enrolment dates (0, as for a new
  hire);
* ``n_enrolments``, ``completion_rate``, ``self_paced_completion``, ``n_self_paced``: exact,
  except for someone who enrolled more than once in one programme (a list of programme ids
  holds each once; :data:`REPEATS`).

Every other feature, and the candidate set itself, must be identical; with the non-expressible
features set to the cold-start values in the organisation's snapshot (the profile then carries
the same history) the top 10 and their scores are identical.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from recommender.programs.catalog import Catalog, build_catalog
from recommender.programs.coldstart import COLDSTART_ID, Profile, ProfileError, profile_snapshot
from recommender.programs.features import FEATURES, Usage, build_usage, candidate_frame, eligible
from recommender.programs.recommend import recommend
from recommender.snapshot import Snapshot, build_snapshot
from tests.model.conftest import Trained, spread_people

YEAR = 2025
AT = pd.Timestamp(f"{YEAR}-01-01")
ALL = 1000  # larger than any candidate list

Tables = dict[str, pd.DataFrame]

#: Features that depend on history a profile cannot express (always allowed to differ).
NOT_EXPRESSIBLE = ("years_of_service", "talent_box", "jp_last_year")
#: Enrolment counts: exact unless the person enrolled more than once in one programme.
REPEATS = ("n_enrolments", "completion_rate", "self_paced_completion", "n_self_paced")


@dataclasses.dataclass
class Org:
    tables: Tables
    snap: Snapshot
    cat: Catalog
    usage: Usage


@pytest.fixture(scope="module")
def org(clean_tables_once: Tables) -> Org:
    snap = build_snapshot(clean_tables_once, AT)
    return Org(
        clean_tables_once,
        snap,
        build_catalog(clean_tables_once),
        build_usage(clean_tables_once, snap),
    )


def _enrolments(tables: Tables, emp: str) -> pd.DataFrame:
    enr = tables["enrollments"]
    return enr[(enr["employee_id"] == emp) & (enr["end_date"] < AT)]


def _repeats(tables: Tables, emp: str) -> bool:
    return bool(_enrolments(tables, emp)["program_id"].duplicated().any())


def profile_of(org: Org, emp: str, **change: object) -> Profile:
    """The profile of ``emp`` as of AT, from the clean tables (``change`` overrides fields)."""
    t = org.tables
    now = org.snap.people.loc[emp]
    me = t["employees"].set_index("employee_id").loc[emp]
    ass = t["assessments"]
    ass = ass[(ass["employee_id"] == emp) & (ass["assessed_on"] < AT)].sort_values("assessed_on")
    last = ass.groupby("competency_id")["level"].last()
    enr = _enrolments(t, emp)
    app = t["appraisals"]
    app = app[(app["employee_id"] == emp) & (app["year"] < YEAR)].sort_values("year")
    fields: dict[str, object] = {
        "position_id": now["position_id"],
        "unit_id": now["unit_id"],
        "grade": now["grade"],
        "education": me["education"],
        "sex": me["sex"],
        "birth_year": int(me["birth_year"]),
        "hire_year": me["hire_date"].year,
        "years_in_position": float(now["years_in_position"]),
        "levels": {str(c): int(v) for c, v in last.items()},
        "completed": sorted(set(enr.loc[enr["status"] == "completed", "program_id"])),
        "taken": sorted(set(enr["program_id"])),
        "last_rating": app["rating"].iloc[-1] if len(app) else None,
    }
    return Profile.model_validate({**fields, **change})


def _cold(org: Org, profile: Profile) -> tuple[Snapshot, str]:
    return profile_snapshot(
        profile, org.snap, org.cat, org.tables["positions"], org.tables["units"]
    )


def _frames(org: Org, emp: str) -> tuple[pd.DataFrame, pd.DataFrame, Snapshot]:
    known = candidate_frame(org.snap, org.cat, org.usage, YEAR, rows=np.array([org.snap.row(emp)]))
    cold, _ = _cold(org, profile_of(org, emp))
    return known, candidate_frame(cold, org.cat, org.usage, YEAR), cold


def test_a_copied_profile_gives_the_same_candidates_and_features(org: Org) -> None:
    differs: dict[str, int] = {}
    without_repeats = 0
    for emp in spread_people(org.snap):
        known, cold, snap = _frames(org, emp)
        assert len(known) > 0
        assert cold["employee_id"].eq(COLDSTART_ID).all()
        assert known["program_id"].tolist() == cold["program_id"].tolist(), emp
        allowed = set(NOT_EXPRESSIBLE)
        if _repeats(org.tables, emp):
            allowed |= set(REPEATS)
        else:
            without_repeats += 1
        for name in FEATURES:
            same = np.array_equal(known[name], cold[name], equal_nan=True)
            if not same:
                differs[name] = differs.get(name, 0) + 1
                assert name in allowed, (emp, name)
        # a hire year places the hire on 1 July: at most half a year off
        gap = known["years_of_service"] - cold["years_of_service"]
        assert gap.abs().max() <= 0.5 + 1 / 12, emp
        assert snap.people["jp_last_year"].iat[0] == 0
        assert np.isnan(snap.people["talent_box"].iat[0])
    assert without_repeats >= 5
    # the list of differences is not vacuous: these really are the history the profile misses
    assert set(differs) <= set(NOT_EXPRESSIBLE) | set(REPEATS)
    assert {"years_of_service", "talent_box", "jp_last_year", "n_enrolments"} <= set(differs)


def test_the_cold_start_row_has_the_snapshot_columns(org: Org) -> None:
    emp = spread_people(org.snap)[0]
    snap, cid = _cold(org, profile_of(org, emp))
    assert cid == COLDSTART_ID
    assert list(snap.people.columns) == list(org.snap.people.columns)
    assert snap.levels.shape == (1, len(org.cat.competencies))
    assert snap.completed.shape == snap.taken.shape == (1, len(org.cat.ids))
    row = org.snap.row(emp)
    np.testing.assert_array_equal(snap.levels[0], org.snap.levels[row])
    np.testing.assert_array_equal(snap.completed[0], org.snap.completed[row])
    np.testing.assert_array_equal(snap.taken[0], org.snap.taken[row])


def _carrying(org: Org, emp: str, cold: Snapshot) -> Snapshot:
    """The organisation's snapshot with ``emp``'s non-expressible history set as in ``cold``."""
    people = org.snap.people.copy()
    for name in (*NOT_EXPRESSIBLE, *REPEATS):
        people[name] = people[name].astype(float)
        people.loc[emp, name] = float(cold.people[name].iat[0])
    return dataclasses.replace(org.snap, people=people)


def test_same_top10_when_the_profile_carries_the_same_history(org: Org, trained: Trained) -> None:
    for emp in spread_people(org.snap, n=12):
        cold, cid = _cold(org, profile_of(org, emp))
        same = _carrying(org, emp, cold)
        known = recommend(same, org.cat, org.usage, trained.ranker, emp, YEAR, k=10)
        mine = recommend(cold, org.cat, org.usage, trained.ranker, cid, YEAR, k=10)
        assert len(mine) == 10
        assert mine["program_id"].tolist() == known["program_id"].tolist(), emp
        np.testing.assert_array_equal(mine["score"], known["score"])
        pd.testing.assert_frame_equal(
            mine.drop(columns="employee_id"), known.drop(columns="employee_id")
        )


def test_completed_programmes_are_never_recommended(org: Org, trained: Trained) -> None:
    checked = 0
    for emp in spread_people(org.snap, n=10):
        profile = profile_of(org, emp)
        cold, cid = _cold(org, profile)
        recs = recommend(cold, org.cat, org.usage, trained.ranker, cid, YEAR, k=ALL)
        assert not set(recs["program_id"]) & set(profile.completed), emp
        checked += len(profile.completed)
    assert checked > 20
    # completing a fresh profile's top 3 removes exactly them from its eligible programmes
    emp = spread_people(org.snap)[0]
    fresh = profile_of(org, emp, completed=[], taken=[])
    cold, cid = _cold(org, fresh)
    top = recommend(cold, org.cat, org.usage, trained.ranker, cid, YEAR, k=3)["program_id"]
    done, cid = _cold(org, profile_of(org, emp, completed=list(top), taken=[]))
    recs = recommend(done, org.cat, org.usage, trained.ranker, cid, YEAR, k=ALL)
    assert len(recs) > 10
    assert not set(recs["program_id"]) & set(top)


def test_a_new_hire_with_only_the_required_fields_gets_ten_eligible_programmes(
    org: Org, trained: Trained
) -> None:
    positions = org.tables["positions"]
    for tier in ("pelaksana", "ahli_pertama", "pengawas"):
        pos = positions.loc[positions["tier"] == tier, "position_id"].iloc[0]
        profile = Profile(
            position_id=pos, grade="2a" if tier == "pelaksana" else "3a", education="S1"
        )
        cold, cid = _cold(org, profile)
        recs = recommend(cold, org.cat, org.usage, trained.ranker, cid, YEAR, k=10)
        assert len(recs) == 10, tier
        assert np.isfinite(recs["score"]).all()
        ok = eligible(cold, org.cat, YEAR, np.array([0]))[0]
        assert ok[org.cat.ids.get_indexer(recs["program_id"])].all()
        assert recs["item_knn"].eq(0).all()  # no co-enrolment signal without history
        assert recs["pop_unit"].eq(0).all()  # no unit given


def test_messy_grade_spellings_give_the_same_answer(org: Org, trained: Trained) -> None:
    emp = next(e for e in spread_people(org.snap) if org.snap.people.loc[e, "grade"] == "III/b")
    answers = []
    for spelling in ("III/b", "3b", "III-b", "3/B", "Gol. III/b", "Penata Muda Tk. I"):
        cold, cid = _cold(org, profile_of(org, emp, grade=spelling))
        assert cold.people["grade"].iat[0] == "III/b"
        answers.append(recommend(cold, org.cat, org.usage, trained.ranker, cid, YEAR, k=10))
    for other in answers[1:]:
        pd.testing.assert_frame_equal(other, answers[0])


@pytest.mark.parametrize(
    ("change", "field", "bad"),
    [
        ({"position_id": "JF-NOPE-ahli_muda"}, "position_id", "JF-NOPE-ahli_muda"),
        ({"unit_id": "NOWHERE"}, "unit_id", "NOWHERE"),
        ({"levels": {"XX99": 3}}, "levels", "XX99"),
        ({"completed": ["PL999"]}, "completed", "PL999"),
        ({"taken": ["PX001"]}, "taken", "PX001"),
    ],
)
def test_unknown_ids_name_the_field(
    org: Org, change: dict[str, object], field: str, bad: str
) -> None:
    emp = spread_people(org.snap)[0]
    with pytest.raises(ProfileError) as caught:
        _cold(org, profile_of(org, emp, **change))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert bad in str(caught.value)
