"""Cold start: programmes for a person not yet in the data, from an inline profile.

``POST /v1/recommendations/programs`` may carry a profile instead of an employee id (a new hire,
someone transferred in, a person whose export has not arrived yet). This module is the pure part:

* :class:`Profile` validates the request body (Pydantic v2, unknown fields refused). Messy
  spellings go through the data-contract normalisers (``"3b"``, ``"III-b"``, ``"Penata Muda Tk.
  I"`` -> ``"III/b"``; ``"Strata 1"`` -> ``"S1"``; ``"Wanita"`` -> ``"P"``; ``"Cukup"`` ->
  ``"Butuh Perbaikan"``), so a profile means what the same values mean in an HR export.
* :func:`profile_snapshot` turns a profile into a :class:`~recommender.snapshot.Snapshot` of one
  person (:data:`COLDSTART_ID`) aligned with the organisation's snapshot and catalogue. It is
  scored by the unchanged :func:`recommender.programs.recommend.recommend` with the
  organisation's :class:`~recommender.programs.catalog.Catalog` and
  :class:`~recommender.programs.features.Usage`: the same candidate and feature code as for
  known people.

Definitions (those of :func:`~recommender.snapshot.build_snapshot`, reusing its code where the
profile carries the same facts):

* ``tier``, ``family``, ``tier_level`` from the position; ``java`` from the unit's province, 0
  without a unit (``pop_unit`` is then 0 too);
* ``grade_rank`` / ``education_rank``: the index in ``GRADES`` / ``EDUCATION_LEVELS``;
  ``age`` = year of ``at`` - ``birth_year`` (NaN without it); ``female`` 1/0 (NaN without
  ``sex``; not a feature, only used to measure parity);
* ``years_in_position`` as given (default 0); ``years_of_service`` from 1 July of ``hire_year``
  (a year carries no month: mid-year is the unbiased guess), never less than
  ``years_in_position``; without ``hire_year`` the person is taken as a new hire and it equals
  ``years_in_position``; ``years_in_grade`` NaN (a profile carries no grade date; it feeds
  only the career horizon, never the programme ranker);
* ``last_rating`` as a score 0-4 (``RATING_SCORE``), NaN without it; ``rating_1..3`` and
  ``talent_box`` NaN (the profile has no dated reviews);
* ``levels`` (1 x C): the given level per competency, NaN elsewhere;
* ``completed`` / ``taken`` (1 x P): the programmes listed (completed ones count as taken);
  ``n_enrolments``, ``completion_rate``, ``self_paced_completion`` and ``n_self_paced`` count one
  enrolment per listed programme (repeated enrolments in one programme are not expressible);
  ``jp_last_year`` is 0 (the lists carry no dates), as for a new hire.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated, Final

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from recommender import domain
from recommender.data.normalize import (
    GRADES,
    Parsed,
    normalize_education,
    normalize_grade,
    normalize_rating,
    normalize_sex,
)
from recommender.programs.catalog import Catalog
from recommender.snapshot import (
    EDUCATION_RANK,
    RATING_SCORE,
    Snapshot,
    _attach_positions,
    _history,
)

__all__ = ["COLDSTART_ID", "MAX_ITEMS", "Profile", "ProfileError", "profile_snapshot"]

#: Employee id of the one person of a cold-start snapshot: pseudonym-like, but never a real one
#: (real pseudonyms are ``e_`` + 16 base-32 characters).
COLDSTART_ID: Final = "e_coldstart"
#: Most entries ``levels``, ``completed`` and ``taken`` may each hold.
MAX_ITEMS: Final = 2000
#: Youngest age of a civil servant (UU ASN: at least 18 when appointed).
MIN_AGE: Final = 18
#: Hire month and day assumed for ``hire_year`` (mid-year: the error is at most half a year).
HIRE_MONTH_DAY: Final = (7, 1)
#: 18 digits with optional single separators: a NIP (personal data), masked in messages.
_NIP_LIKE: Final = re.compile(r"\d(?:[ .\-']?\d){17}")


def _masked(text: str) -> str:
    """``text`` with anything shaped like a NIP replaced (error messages never carry one)."""
    return _NIP_LIKE.sub("<NIP>", text)


class ProfileError(ValueError):
    """A profile that does not fit the organisation (unknown id, level out of range, years that
    contradict the date). ``field`` names the profile field; the message starts with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _normalised(normalise: Callable[[pd.Series], Parsed]) -> Callable[[str], str]:
    """Validator applying a column normaliser to one value (its message on failure)."""

    def check(value: str) -> str:
        parsed = normalise(pd.Series([value], dtype=object))
        error = parsed.errors.iloc[0]
        if error is not None:
            raise ValueError(_masked(str(error)))
        canonical = parsed.values.iloc[0]
        if canonical is None:  # blank text: the normalisers treat it as missing
            raise ValueError("must not be blank")
        return str(canonical)

    return check


Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Grade = Annotated[str, AfterValidator(_normalised(normalize_grade))]
Education = Annotated[str, AfterValidator(_normalised(normalize_education))]
Sex = Annotated[str, AfterValidator(_normalised(normalize_sex))]
Rating = Annotated[str, AfterValidator(_normalised(normalize_rating))]
Level = Annotated[int, Field(ge=1, le=domain.MAX_LEVEL)]
Year = Annotated[int, Field(ge=1940, le=2100)]


class Profile(BaseModel):
    """A person not (yet) in the data, as sent inline with a recommendation request.

    Text values are normalised like an HR export (see the module docstring); ``grade``,
    ``education``, ``sex`` and ``last_rating`` hold the canonical values after validation.
    Ids are checked against the organisation by :func:`profile_snapshot`, not here.
    Raises ``pydantic.ValidationError`` (a ValueError) whose errors name the field (``loc``);
    its text never shows the values sent (a profile is personal data; ``errors()`` still
    carries them as ``input``) and messages mask anything shaped like a NIP.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    position_id: Id = Field(description="Current position (positions.position_id).")
    unit_id: Id | None = Field(None, description="Unit of work (units.unit_id); none: not known.")
    grade: Grade = Field(description="Golongan/ruang in any usual spelling: III/b, 3b, III-b.")
    education: Education = Field(description="Highest education: SMA, D3, S1, Strata 2, ...")
    sex: Sex | None = Field(None, description="L/P, Laki-laki/Perempuan, ...; parity only.")
    birth_year: Year | None = None
    hire_year: Year | None = Field(None, description="Year of appointment (CPNS/PPPK).")
    years_in_position: float = Field(0.0, ge=0, le=60, allow_inf_nan=False)
    levels: dict[Id, Level] = Field(
        default_factory=dict,
        max_length=MAX_ITEMS,
        description="Last assessed level (1-5) per competency id; others are not assessed.",
    )
    completed: list[Id] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Programme ids completed."
    )
    taken: list[Id] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="Programme ids enrolled in without completing (completed ones are implied).",
    )
    last_rating: Rating | None = Field(
        None,
        description="Last yearly performance rating: Sangat Baik, Baik, Butuh Perbaikan, "
        "Kurang, Sangat Kurang (legacy labels accepted).",
    )


def _unknown(field: str, what: str, values: Iterable[str]) -> ProfileError:
    shown = sorted(set(values))
    listed = ", ".join(repr(v) for v in shown[:5]) + (", ..." if len(shown) > 5 else "")
    return ProfileError(field, _masked(f"unknown {what} {listed}"))


def _ids(field: str, what: str, values: list[str], index: pd.Index) -> np.ndarray:
    """Positions of ``values`` in ``index``; raises ProfileError naming the unknown ones."""
    cols = index.get_indexer(pd.Index(values, dtype=object))
    if (cols < 0).any():
        raise _unknown(field, what, [v for v, c in zip(values, cols, strict=True) if c < 0])
    return np.asarray(cols, dtype=np.intp)


def _check_years(profile: Profile, at: pd.Timestamp) -> None:
    """Years that contradict each other or the date: raises ProfileError."""
    if profile.birth_year is not None and at.year - profile.birth_year < MIN_AGE:
        raise ProfileError(
            "birth_year",
            f"{profile.birth_year} gives age {at.year - profile.birth_year} in {at.year}; "
            f"a civil servant is at least {MIN_AGE}",
        )
    if profile.hire_year is None:
        return
    if profile.hire_year > at.year:
        raise ProfileError("hire_year", f"{profile.hire_year} is after {at.date()}")
    if profile.birth_year is not None and profile.hire_year < profile.birth_year + MIN_AGE:
        raise ProfileError(
            "hire_year", f"{profile.hire_year} is less than {MIN_AGE} years after birth_year"
        )
    since = (at - pd.Timestamp(profile.hire_year, 1, 1)).days / 365.25
    if profile.years_in_position > since:
        raise ProfileError(
            "years_in_position",
            f"{profile.years_in_position:g} is more than the {since:.1f} years since the start "
            f"of hire_year {profile.hire_year}",
        )


def _years_of_service(profile: Profile, at: pd.Timestamp) -> float:
    """Years since 1 July of ``hire_year`` (at least ``years_in_position``); a new hire's
    service equals their time in position."""
    if profile.hire_year is None:
        return profile.years_in_position
    hired = pd.Timestamp(profile.hire_year, *HIRE_MONTH_DAY)
    return max((at - hired).days / 365.25, profile.years_in_position)


def _levels(profile: Profile, comps: pd.Index) -> np.ndarray:
    """(1, C) float32: given levels, NaN elsewhere; raises ProfileError for unknown ids or
    levels outside 1..MAX_LEVEL (possible when the profile skipped validation)."""
    out = np.full((1, len(comps)), np.nan, dtype=np.float32)
    if not profile.levels:
        return out
    ids = list(profile.levels)
    cols = _ids("levels", "competency id", ids, comps)
    for cid in ids:
        level = profile.levels[cid]
        if not 1 <= level <= domain.MAX_LEVEL:
            raise ProfileError(
                "levels", f"level {level} of {cid!r} is outside 1-{domain.MAX_LEVEL}"
            )
    out[0, cols] = [profile.levels[c] for c in ids]
    return out


def _people(
    profile: Profile,
    at: pd.Timestamp,
    positions: pd.DataFrame,
    units: pd.DataFrame,
    cat: Catalog,
    done: list[str],
    tried: list[str],
) -> pd.DataFrame:
    """One row (index :data:`COLDSTART_ID`) with the columns of ``build_snapshot``'s people."""
    age = np.nan if profile.birth_year is None else float(at.year - profile.birth_year)
    female = np.nan if profile.sex is None else float(profile.sex == "P")
    people = pd.DataFrame(
        {
            "position_id": [profile.position_id],
            "unit_id": pd.Series([profile.unit_id], dtype=object).to_numpy(),
            "grade": [profile.grade],
            "years_in_position": [float(profile.years_in_position)],
            "years_in_grade": [np.nan],  # a profile carries no grade date
            "years_of_service": [_years_of_service(profile, at)],
            "age": [age],
            "female": [female],
            "education_rank": [EDUCATION_RANK[profile.education]],
            "grade_rank": [GRADES.index(profile.grade)],
        },
        index=pd.Index([COLDSTART_ID], name="employee_id"),
    )
    people = _attach_positions(people, {"positions": positions, "units": units})
    rating = np.nan if profile.last_rating is None else float(RATING_SCORE[profile.last_rating])
    people["last_rating"] = rating
    for k in (1, 2, 3):
        people[f"rating_{k}"] = np.nan  # no dated ratings in a profile
    people["talent_box"] = np.nan
    # one undated enrolment per listed programme: the snapshot's own history definitions
    enr = pd.DataFrame(
        {
            "employee_id": COLDSTART_ID,
            "program_id": pd.Series(done + tried, dtype=object),
            "status": ["completed"] * len(done) + ["not_completed"] * len(tried),
            "end_date": pd.Series(pd.NaT, index=range(len(done) + len(tried))),
            "jp_credited": 0.0,
        }
    )
    return _history(people, enr, cat.programs, at)


def profile_snapshot(
    profile: Profile,
    reference: Snapshot,
    cat: Catalog,
    positions: pd.DataFrame,
    units: pd.DataFrame,
    at: pd.Timestamp | None = None,
) -> tuple[Snapshot, str]:
    """A one-person snapshot of ``profile`` to score against the organisation.

    ``reference`` is the organisation's snapshot (its competencies, programmes and column order;
    ``at`` defaults to its date); ``cat`` the catalogue built from the same tables;
    ``positions`` and ``units`` the clean tables. Returns ``(snap, employee_id)``: ``snap.people``
    has one row (index ``employee_id`` = :data:`COLDSTART_ID`) with every column of
    ``reference.people``; ``snap.levels`` is (1, C) float32, NaN where not assessed;
    ``snap.completed`` / ``snap.taken`` are (1, P) bool. Pass them on to
    ``recommend(snap, cat, usage, scorer, employee_id, year, ...)`` with the organisation's
    ``usage``.

    Raises :class:`ProfileError` naming the field for an unknown ``position_id`` (in the
    positions table or the catalogue's standards), ``unit_id``, competency id (``levels``) or
    programme id (``completed``/``taken``), a level outside 1-5, or years that contradict ``at``
    or each other; ValueError when ``cat`` and ``reference`` disagree on programmes or
    competencies (a programming error).
    """
    at = reference.at if at is None else pd.Timestamp(at)
    if not (cat.ids.equals(reference.programs) and cat.competencies.equals(reference.competencies)):
        raise ValueError("catalogue and reference snapshot have different programmes/competencies")
    known = pd.Index(positions["position_id"])
    if profile.position_id not in known or profile.position_id not in set(
        cat.positions["position_id"]
    ):
        raise _unknown("position_id", "position", [profile.position_id])
    if profile.unit_id is not None and profile.unit_id not in set(units["unit_id"]):
        raise _unknown("unit_id", "unit", [profile.unit_id])
    _check_years(profile, at)
    levels = _levels(profile, reference.competencies)
    progs = reference.programs
    done_cols = _ids("completed", "programme id", profile.completed, progs)
    taken_cols = _ids("taken", "programme id", profile.taken, progs)
    completed = np.zeros((1, len(progs)), dtype=bool)
    completed[0, done_cols] = True
    taken = completed.copy()
    taken[0, taken_cols] = True
    done = [str(p) for p in progs[completed[0]]]
    tried = [str(p) for p in progs[taken[0] & ~completed[0]]]
    people = _people(profile, at, positions, units, cat, done, tried)
    order = [c for c in reference.people.columns if c in people.columns]
    people = people[order + [c for c in people.columns if c not in order]]
    snap = Snapshot(at, people, levels, completed, taken, reference.competencies, progs)
    return snap, COLDSTART_ID
