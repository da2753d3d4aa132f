"""Cold-start profiles on a hand-built organisation: validation, the one-person snapshot and its
agreement with ``build_snapshot`` for a person who is in the data.

The organisation (snapshot on 1 January 2025): competencies MK01, MK02, TK01; units U-JKT
(province 31, Java) and U-SUL (73); positions POS-PL (pelaksana), JF-ANL-ahli_pertama and
JF-ANL-ahli_muda (its next tier).

=====  ==========  ==================  ==============  ===========================
prog   modality    tiers               offered         notes
=====  ==========  ==================  ==============  ===========================
P1     e_learning  pelaksana, ahli_p.  2020-           self-paced; MK01 -> 3
P2     teknis      pelaksana, ahli_p.  2020-           TK01 -> 3
P3     workshop    pelaksana, ahli_p.  2020-           needs P1; MK02 -> 3
P4     latsar      pelaksana, ahli_p.  2020-           assignment-only
P5     seminar     pelaksana, ahli_p.  2020-2022       no longer offered
P6     coaching    pelaksana, ahli_p.  2021-           MK02 -> 4, TK01 -> 4
=====  ==========  ==================  ==============  ===========================

``e_known`` (JF-ANL-ahli_pertama in U-SUL, III/b, S1, woman born 1990, hired 1 July 2015, in
position since 1 March 2020) completed P1 and withdrew from P2 in 2022, was assessed MK01 2
then 3 and MK02 2, rated Baik for 2023 and Sangat Baik for 2024, and has no talent box: a
profile can say all of it, so her cold-start twin has exactly her features.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from recommender.programs.catalog import Catalog, build_catalog
from recommender.programs.coldstart import COLDSTART_ID, Profile, ProfileError, profile_snapshot
from recommender.programs.features import FEATURES, Usage, build_usage, candidate_frame
from recommender.programs.recommend import recommend
from recommender.snapshot import Snapshot, build_snapshot

AT = pd.Timestamp("2025-01-01")
YEAR = 2025
T = pd.Timestamp
NAT = pd.NaT


def _tables() -> dict[str, pd.DataFrame]:
    tiers = "pelaksana;ahli_pertama"
    programs = pd.DataFrame(
        {
            "program_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "modality": ["e_learning", "teknis", "workshop", "latsar", "seminar", "coaching"],
            "classical": [False, True, True, True, True, False],
            "jp": [10, 24, 16, 290, 4, 8],
            "cost_idr": [0, 3_000_000, 1_000_000, 12_000_000, 100_000, 500_000],
            "lan_accredited": [True, True, False, True, False, False],
            "duration_days": [10, 3, 2, 51, 1, 30],
            "target_tiers": [tiers] * 6,
            "prerequisites": [None, None, "P1", None, None, None],
            "active_from": [2020, 2020, 2020, 2020, 2020, 2021],
            "active_to": [None, None, None, None, 2022, None],
        }
    )
    pc = pd.DataFrame(
        [
            ("P1", "MK01", 3, 1.0),
            ("P2", "TK01", 3, 1.0),
            ("P3", "MK02", 3, 0.5),
            ("P4", "MK01", 2, 0.5),
            ("P5", "TK01", 2, 0.2),
            ("P6", "MK02", 4, 1.0),
            ("P6", "TK01", 4, 0.5),
        ],
        columns=["program_id", "competency_id", "target_level", "expected_gain"],
    )
    positions = pd.DataFrame(
        {
            "position_id": ["POS-PL", "JF-ANL-ahli_pertama", "JF-ANL-ahli_muda"],
            "family": ["pelaksana", "fungsional", "fungsional"],
            "tier": ["pelaksana", "ahli_pertama", "ahli_muda"],
            "jf_code": [None, "ANL", "ANL"],
            "unit_id": ["U-JKT", None, None],
        }
    )
    reqs = pd.DataFrame(
        [
            ("POS-PL", "MK01", 3, 1.0),
            ("POS-PL", "TK01", 2, 1.5),
            ("JF-ANL-ahli_pertama", "MK01", 3, 1.0),
            ("JF-ANL-ahli_pertama", "MK02", 3, 1.0),
            ("JF-ANL-ahli_muda", "MK01", 4, 1.0),
            ("JF-ANL-ahli_muda", "MK02", 4, 1.0),
            ("JF-ANL-ahli_muda", "TK01", 3, 1.0),
        ],
        columns=["position_id", "competency_id", "required_level", "weight"],
    )
    employees = pd.DataFrame(
        {
            "employee_id": ["e_known", "e_other"],
            "sex": ["P", "L"],
            "birth_year": [1990, 1985],
            "education": ["S1", "SMA"],
            "grade": ["III/b", "II/c"],
            "grade_date": [T("2019-04-01"), T("2014-04-01")],
            "position_id": ["JF-ANL-ahli_pertama", "POS-PL"],
            "unit_id": ["U-SUL", "U-JKT"],
            "hire_date": [T("2015-07-01"), T("2010-01-10")],
            "position_start_date": [T("2020-03-01"), T("2010-01-10")],
            "end_date": [NAT, NAT],
        }
    )
    enrollments = pd.DataFrame(
        [
            ("e_known", "P1", "2022-02-01", "2022-02-10", "completed", 10),
            ("e_known", "P2", "2022-05-01", "2022-05-03", "withdrawn", 0),
            ("e_other", "P1", "2023-03-01", "2023-03-10", "completed", 10),
            ("e_other", "P2", "2024-06-01", "2024-06-03", "completed", 24),
            ("e_other", "P6", "2024-07-01", "2024-07-30", "completed", 8),
            ("e_known", "P6", "2025-02-01", "2025-02-28", "completed", 8),  # after the date
        ],
        columns=["employee_id", "program_id", "start_date", "end_date", "status", "jp_credited"],
    )
    for col in ("start_date", "end_date"):
        enrollments[col] = pd.to_datetime(enrollments[col])
    assessments = pd.DataFrame(
        [
            ("e_known", "MK01", 2, "2021-05-01"),
            ("e_known", "MK01", 3, "2023-05-01"),
            ("e_known", "MK02", 2, "2023-05-01"),
            ("e_other", "TK01", 1, "2022-05-01"),
        ],
        columns=["employee_id", "competency_id", "level", "assessed_on"],
    )
    assessments["assessed_on"] = pd.to_datetime(assessments["assessed_on"])
    return {
        "competencies": pd.DataFrame({"competency_id": ["MK01", "MK02", "TK01"]}),
        "programs": programs,
        "program_competencies": pc,
        "positions": positions,
        "position_requirements": reqs,
        "units": pd.DataFrame(
            {"unit_id": ["U-JKT", "U-SUL"], "province_code": ["31", "73"]},
        ),
        "priorities": pd.DataFrame(
            {"year": [2025], "theme": ["DIGITAL"], "competency_id": ["MK02"], "weight": [0.8]}
        ),
        "employees": employees,
        "enrollments": enrollments,
        "assessments": assessments,
        "appraisals": pd.DataFrame(
            {
                "employee_id": ["e_known", "e_known", "e_other"],
                "year": [2023, 2024, 2024],
                "rating": ["Baik", "Sangat Baik", "Baik"],
            }
        ),
        "talent_box": pd.DataFrame({"employee_id": ["e_other"], "year": [2024], "box": [5]}),
        # nobody moved or was promoted (build_snapshot needs the columns of both tables)
        "career_moves": pd.DataFrame(
            {
                "employee_id": pd.Series(dtype=object),
                "move_date": pd.Series(dtype="datetime64[ns]"),
                **{
                    f"{end}_{col}": pd.Series(dtype=object)
                    for end in ("from", "to")
                    for col in ("position_id", "unit_id")
                },
            }
        ),
        "rank_history": pd.DataFrame(
            {
                "employee_id": pd.Series(dtype=object),
                "effective_date": pd.Series(dtype="datetime64[ns]"),
                "from_grade": pd.Series(dtype=object),
                "to_grade": pd.Series(dtype=object),
            }
        ),
    }


@dataclasses.dataclass
class Org:
    tables: dict[str, pd.DataFrame]
    snap: Snapshot
    cat: Catalog
    usage: Usage

    def cold(self, profile: Profile, at: pd.Timestamp | None = None) -> tuple[Snapshot, str]:
        return profile_snapshot(
            profile, self.snap, self.cat, self.tables["positions"], self.tables["units"], at
        )


@pytest.fixture(scope="module")
def org() -> Org:
    tables = _tables()
    snap = build_snapshot(tables, AT)
    return Org(tables, snap, build_catalog(tables), build_usage(tables, snap))


KNOWN: dict[str, Any] = {
    "position_id": "JF-ANL-ahli_pertama",
    "unit_id": "U-SUL",
    "grade": "3b",
    "education": "Strata 1",
    "sex": "Perempuan",
    "birth_year": 1990,
    "hire_year": 2015,
    "years_in_position": (AT - T("2020-03-01")).days / 365.25,
    "levels": {"MK01": 3, "MK02": 2},
    "completed": ["P1"],
    "taken": ["P2"],
    "last_rating": "sangat baik",
}
MINIMAL: dict[str, Any] = {"position_id": "POS-PL", "grade": "II/a", "education": "SMA"}


def profile(**change: Any) -> Profile:
    """``e_known``'s profile with ``change``."""
    return Profile.model_validate({**KNOWN, **change})


class GapScorer:
    """A stand-in model: priority-weighted gap coverage, then popularity."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(X["gap_rule"] + 1e-3 * X["pop_global"], dtype=float)


# ------------------------------------------------------------------------------ the schema


@pytest.mark.parametrize(
    "spelling",
    ["III/b", "3b", "III-b", "3/B", "iii b", "Gol. III/b", "Penata Muda Tk. I", " III/b "],
)
def test_messy_grade_spellings_are_normalised(spelling: str) -> None:
    assert profile(grade=spelling).grade == "III/b"


def test_education_sex_and_rating_spellings_are_normalised() -> None:
    p = profile(education="D-III", sex="wanita", last_rating="Cukup")
    assert (p.education, p.sex, p.last_rating) == ("D3", "P", "Butuh Perbaikan")
    assert profile(sex="L", last_rating="Sangat Kurang").sex == "L"


def test_defaults_of_a_minimal_profile() -> None:
    p = Profile.model_validate(MINIMAL)
    assert p.unit_id is None and p.sex is None and p.birth_year is None
    assert p.hire_year is None and p.last_rating is None
    assert p.years_in_position == 0.0
    assert p.levels == {} and p.completed == [] and p.taken == []


@pytest.mark.parametrize(
    ("change", "loc", "words"),
    [
        ({"grade": "III/f"}, ("grade",), "unknown grade"),
        ({"grade": "golongan lima"}, ("grade",), "unknown grade"),
        ({"education": "S4"}, ("education",), "unknown education level"),
        ({"education": "  "}, ("education",), "blank"),
        ({"sex": "X"}, ("sex",), "unknown sex"),
        ({"last_rating": "Luar Biasa"}, ("last_rating",), "unknown rating"),
        ({"levels": {"MK01": 6}}, ("levels", "MK01"), "less than or equal to 5"),
        ({"levels": {"MK01": 0}}, ("levels", "MK01"), "greater than or equal to 1"),
        ({"levels": {"MK01": 2.5}}, ("levels", "MK01"), "integer"),
        ({"years_in_position": -1}, ("years_in_position",), "greater than or equal to 0"),
        ({"years_in_position": float("nan")}, ("years_in_position",), "finite"),
        ({"birth_year": 1850}, ("birth_year",), "greater than or equal to 1940"),
        ({"position_id": ""}, ("position_id",), "at least 1 character"),
        ({"completed": ["P1", ""]}, ("completed", 1), "at least 1 character"),
        ({"nip": "199001012015072001"}, ("nip",), "Extra inputs are not permitted"),
        ({"grade": 3}, ("grade",), "valid string"),
    ],
)
def test_validation_errors_name_the_field(
    change: dict[str, Any], loc: tuple[str | int, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        profile(**change)
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [loc]
    assert words in errors[0]["msg"]
    assert str(loc[0]) in str(caught.value)
    assert "199001012015072001" not in str(caught.value)  # values are not shown


@pytest.mark.parametrize("field", ["grade", "education", "sex", "last_rating"])
def test_a_nip_sent_in_a_text_field_is_masked_in_the_message(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        profile(**{field: "19900101 201507 2 001"})
    assert "<NIP>" in caught.value.errors()[0]["msg"]
    assert "2015" not in str(caught.value)


def test_a_nip_sent_as_an_id_is_masked_in_the_profile_error(org: Org) -> None:
    with pytest.raises(ProfileError) as caught:
        org.cold(profile(unit_id="199001012015072001"))
    assert str(caught.value) == "unit_id: unknown unit '<NIP>'"


@pytest.mark.parametrize("field", ["position_id", "grade", "education"])
def test_required_fields(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Profile.model_validate({k: v for k, v in MINIMAL.items() if k != field})
    assert caught.value.errors()[0]["loc"] == (field,)
    assert caught.value.errors()[0]["type"] == "missing"


def test_a_profile_is_json_round_trippable() -> None:
    p = profile()
    assert Profile.model_validate_json(p.model_dump_json()) == p


# ------------------------------------------------------------------------------ the snapshot


def test_a_known_persons_profile_gives_her_snapshot_row(org: Org) -> None:
    snap, cid = org.cold(profile())
    assert cid == COLDSTART_ID
    assert snap.people.index.tolist() == [COLDSTART_ID]
    assert snap.at == org.snap.at
    assert list(snap.people.columns) == list(org.snap.people.columns)
    mine, hers = snap.people.iloc[0], org.snap.people.loc["e_known"]
    for col in org.snap.people.columns:
        if col.startswith("rating_") or col == "years_in_grade":
            # dated ratings and the grade date: not in a profile, not programme features
            assert np.isnan(mine[col])
            continue
        assert mine[col] == hers[col] or (pd.isna(mine[col]) and pd.isna(hers[col])), col
    row = org.snap.row("e_known")
    np.testing.assert_array_equal(snap.levels, org.snap.levels[[row]])
    np.testing.assert_array_equal(snap.completed, org.snap.completed[[row]])
    np.testing.assert_array_equal(snap.taken, org.snap.taken[[row]])
    assert snap.competencies.equals(org.snap.competencies)
    assert snap.programs.equals(org.snap.programs)


def test_a_known_persons_profile_gives_her_candidates_and_features(org: Org) -> None:
    snap, _ = org.cold(profile())
    known = candidate_frame(org.snap, org.cat, org.usage, YEAR, np.array([0]))
    cold = candidate_frame(snap, org.cat, org.usage, YEAR)
    assert known["employee_id"].eq("e_known").all() and cold["employee_id"].eq(COLDSTART_ID).all()
    assert cold["program_id"].tolist() == known["program_id"].tolist() == ["P2", "P3", "P6"]
    pd.testing.assert_frame_equal(cold[list(FEATURES)], known[list(FEATURES)])


def test_derived_columns_follow_the_snapshot_definitions(org: Org) -> None:
    at = T("2025-06-30")
    snap, _ = org.cold(profile(hire_year=2020, years_in_position=1.5), at=at)
    p = snap.people.iloc[0]
    assert snap.at == at
    assert (p["tier"], p["family"], p["tier_level"]) == ("ahli_pertama", "fungsional", 2)
    assert (p["java"], p["unit_id"], p["grade"]) == (0, "U-SUL", "III/b")
    assert (p["grade_rank"], p["education_rank"]) == (9, 7)  # III/b in GRADES; S1
    assert (p["age"], p["female"], p["last_rating"]) == (35, 1, 4)
    assert p["years_of_service"] == pytest.approx((at - T("2020-07-01")).days / 365.25)
    assert p["years_in_position"] == 1.5
    # P1 (self-paced) completed, P2 withdrawn: one enrolment each, no dates
    assert (p["n_enrolments"], p["completion_rate"]) == (2, 0.5)
    assert (p["n_self_paced"], p["self_paced_completion"]) == (1, 1.0)
    assert p["jp_last_year"] == 0 and np.isnan(p["talent_box"])
    np.testing.assert_array_equal(snap.levels, [[3, 2, np.nan]])
    assert snap.levels.dtype == np.float32
    np.testing.assert_array_equal(snap.completed, [[True] + [False] * 5])
    np.testing.assert_array_equal(snap.taken, [[True, True] + [False] * 4])


def test_a_minimal_profile_is_a_new_hire(org: Org) -> None:
    snap, _ = org.cold(Profile.model_validate({**MINIMAL, "years_in_position": 0.4}))
    p = snap.people.iloc[0]
    assert p["unit_id"] is None and p["java"] == 0  # no unit: no province
    assert p["years_of_service"] == p["years_in_position"] == 0.4
    assert np.isnan(p["age"]) and np.isnan(p["female"]) and np.isnan(p["last_rating"])
    assert p["n_enrolments"] == 0 and p["n_self_paced"] == 0 and p["jp_last_year"] == 0
    assert np.isnan(p["completion_rate"]) and np.isnan(p["self_paced_completion"])
    assert np.isnan(snap.levels).all()
    assert not snap.completed.any() and not snap.taken.any()
    frame = candidate_frame(snap, org.cat, org.usage, YEAR)
    assert set(frame["program_id"]) == {"P1", "P2", "P6"}  # P3 needs P1; P4 latsar; P5 retired
    assert frame["pop_unit"].eq(0).all() and frame["item_knn"].eq(0).all()
    assert frame["pop_position"].gt(0).any()  # e_other holds POS-PL


def test_hire_year_is_mid_year_and_never_below_the_time_in_position(org: Org) -> None:
    p = org.cold(profile(hire_year=2024, years_in_position=0))[0].people.iloc[0]
    assert p["years_of_service"] == pytest.approx((AT - T("2024-07-01")).days / 365.25)
    p = org.cold(profile(hire_year=2024, years_in_position=0.9))[0].people.iloc[0]
    assert p["years_of_service"] == 0.9  # hired in 2024 and 0.9 years in position: early 2024
    p = org.cold(profile(hire_year=2025, years_in_position=0))[0].people.iloc[0]
    assert p["years_of_service"] == 0  # 1 July 2025 is after the date: clipped


def test_a_completed_or_taken_programme_listed_twice_or_in_both_lists(org: Org) -> None:
    snap, _ = org.cold(profile(completed=["P1", "P1"], taken=["P1", "P2", "P2"]))
    np.testing.assert_array_equal(snap.taken[0], [True, True] + [False] * 4)
    assert snap.people["n_enrolments"].iat[0] == 2


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"position_id": "POS-XX"}, "position_id", "unknown position 'POS-XX'"),
        ({"unit_id": "U-XX"}, "unit_id", "unknown unit 'U-XX'"),
        ({"levels": {"MK01": 3, "ZZ01": 2}}, "levels", "unknown competency id 'ZZ01'"),
        ({"completed": ["P1", "P9", "P8"]}, "completed", "unknown programme id 'P8', 'P9'"),
        ({"taken": ["Q1"]}, "taken", "unknown programme id 'Q1'"),
        ({"birth_year": 2010}, "birth_year", "at least 18"),
        ({"hire_year": 2026}, "hire_year", "after 2025-01-01"),
        ({"birth_year": 2000, "hire_year": 2015}, "hire_year", "less than 18 years"),
        ({"hire_year": 2024, "years_in_position": 2}, "years_in_position", "more than"),
    ],
)
def test_profile_errors_name_the_field(
    org: Org, change: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        org.cold(profile(**change))
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert words in str(caught.value)


def test_a_position_missing_from_the_catalogue_standards_is_unknown(org: Org) -> None:
    positions = pd.concat(
        [org.tables["positions"], pd.DataFrame({"position_id": ["POS-NEW"], "tier": ["pelaksana"]})]
    )
    with pytest.raises(ProfileError, match=r"^position_id: unknown position 'POS-NEW'"):
        profile_snapshot(
            profile(position_id="POS-NEW"), org.snap, org.cat, positions, org.tables["units"]
        )


@pytest.mark.parametrize("level", [0, 6])
def test_a_level_out_of_range_that_skipped_validation_is_refused(org: Org, level: int) -> None:
    unchecked = profile().model_copy(update={"levels": {"MK01": level}})
    with pytest.raises(ProfileError, match=rf"^levels: level {level} of 'MK01' is outside 1-5"):
        org.cold(unchecked)


def test_a_catalogue_of_another_organisation_is_a_programming_error(org: Org) -> None:
    tables = _tables()
    tables["programs"] = tables["programs"].iloc[:4]
    with pytest.raises(ValueError, match="different programmes") as caught:
        profile_snapshot(
            profile(), org.snap, build_catalog(tables), tables["positions"], tables["units"]
        )
    assert not isinstance(caught.value, ProfileError)


# ------------------------------------------------------------------------------ recommending


def test_recommend_scores_the_cold_start_person_like_the_known_one(org: Org) -> None:
    snap, cid = org.cold(profile())
    mine = recommend(snap, org.cat, org.usage, GapScorer(), cid, YEAR, k=10)
    hers = recommend(org.snap, org.cat, org.usage, GapScorer(), "e_known", YEAR, k=10)
    pd.testing.assert_frame_equal(
        mine.drop(columns="employee_id"), hers.drop(columns="employee_id")
    )
    with pytest.raises(KeyError):
        recommend(snap, org.cat, org.usage, GapScorer(), "e_known", YEAR)


def test_completed_programmes_are_never_recommended_and_unlock_prerequisites(org: Org) -> None:
    def ids(p: Profile, **kw: Any) -> list[str]:
        snap, cid = org.cold(p)
        recs = recommend(snap, org.cat, org.usage, GapScorer(), cid, YEAR, k=10, **kw)
        return list(recs["program_id"])

    new = Profile.model_validate(MINIMAL)
    assert sorted(ids(new)) == ["P1", "P2", "P6"]
    after = Profile.model_validate({**MINIMAL, "completed": ["P1", "P6"]})
    assert sorted(ids(after)) == ["P2", "P3"]  # P1 unlocked P3
    assert ids(after, accredited_only=True) == ["P2"]
    assert ids(after, modality="workshop") == ["P3"]
    tried = Profile.model_validate({**MINIMAL, "taken": ["P1"]})
    assert "P1" in ids(tried)  # taken but not completed: may be taken again
