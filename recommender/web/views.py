"""What the HR pages show, assembled from the service (no HTML here).

Every function takes the :class:`~recommender.service.Service` the API uses, so a page shows
the same recommendations, with the same model versions, as the LMS gets. Lists shown on a page
are written to the recommendation log like the LMS's (endpoint ``review:<kind>``) so that a
decision can name the request id and model version of exactly what the reviewer saw.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from recommender.reports import needs
from recommender.service import Service
from recommender.store import repo
from recommender.store.models import RecommendationLog, Review

#: How many top programmes of a person count as suggestions to review.
REVIEW_TOP = 5
PROGRAMS_SHOWN = 10
POSITIONS_SHOWN = 5


class NotVisibleError(LookupError):
    """The unit or person does not exist or is outside the viewer's units (answered 404)."""


# ----------------------------------------------------------------------------- units
def unit_visible(service: Service, unit_id: str, units: frozenset[str] | None) -> bool:
    """True when ``unit_id`` exists and is one of ``units`` or below one (None = all)."""
    return service.unit_visible(unit_id, units)


def check_unit(service: Service, unit_id: str, units: frozenset[str] | None) -> None:
    """Raise NotVisibleError unless the viewer may open ``unit_id``."""
    if not unit_visible(service, unit_id, units):
        raise NotVisibleError(unit_id)


def text_map(
    frame: pd.DataFrame, key: str, column: str, fallback: str | None = None
) -> dict[str, str]:
    """``key`` -> text of ``column`` (``fallback`` column, then the key, where it is empty)."""
    values = frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index)
    if fallback is not None:
        values = values.where(values.notna(), frame[fallback])
    keys = frame[key].astype(str)
    return {
        k: (k if pd.isna(v) or str(v) == "" else str(v)) for k, v in zip(keys, values, strict=True)
    }


def unit_names(service: Service) -> dict[str, str]:
    """Unit id -> name."""
    snap = service.world.snap
    names: dict[str, str] = snap.memo(
        "web_unit_names", lambda: text_map(service.world.tables["units"], "unit_id", "name")
    )
    return names


def visible_units(service: Service, units: frozenset[str] | None) -> list[dict[str, Any]]:
    """The units a viewer may open, in tree order, each with ``unit_id``, ``name``, ``depth``
    and ``headcount`` (active people directly in the unit)."""
    table = service.world.tables["units"]
    parent = dict(zip(table["unit_id"].astype(str), table["parent_id"], strict=True))
    children: dict[str | None, list[str]] = {}
    for unit, up in parent.items():
        children.setdefault(up if isinstance(up, str) else None, []).append(unit)
    counts = service.world.snap.people["unit_id"].value_counts()
    names = unit_names(service)
    out: list[dict[str, Any]] = []

    def walk(unit: str, depth: int) -> None:
        if unit_visible(service, unit, units):
            out.append(
                {
                    "unit_id": unit,
                    "name": names.get(unit, unit),
                    "depth": depth,
                    "headcount": int(counts.get(unit, 0)),
                }
            )
        for child in sorted(children.get(unit, [])):
            walk(child, depth + 1)

    for root in sorted(children.get(None, [])):
        walk(root, 0)
    return out


def direct_staff(service: Service, unit_id: str) -> list[str]:
    """Active employees whose unit is exactly ``unit_id``, by name then id."""
    people = service.world.snap.people
    ids = people.index[people["unit_id"].to_numpy() == unit_id]
    names = person_names(service)
    return sorted((str(i) for i in ids), key=lambda e: (names.get(e, ""), e))


def person_names(service: Service) -> dict[str, str]:
    """Employee id -> name (empty when the export carries none). Shown on the HR pages only:
    names never go to logs, the API or MLflow."""
    snap = service.world.snap
    emp = service.world.tables["employees"]

    def build() -> dict[str, str]:
        if "name" not in emp.columns:
            return {}
        return {
            str(e): ("" if pd.isna(n) else str(n))
            for e, n in zip(emp["employee_id"], emp["name"], strict=True)
        }

    names: dict[str, str] = snap.memo("web_person_names", build)
    return names


def position_titles(service: Service) -> dict[str, str]:
    """Position id -> title."""
    snap = service.world.snap
    titles: dict[str, str] = snap.memo(
        "web_position_titles",
        lambda: text_map(service.world.tables["positions"], "position_id", "title"),
    )
    return titles


def competency_names(service: Service, lang: str) -> dict[str, str]:
    """Competency id -> name in ``lang`` (English where there is an English name)."""
    comps = service.world.tables["competencies"]
    if lang == "en":
        return text_map(comps, "competency_id", "name_en", fallback="name")
    return text_map(comps, "competency_id", "name")


# ----------------------------------------------------------------------------- answers
@dataclass
class Shown:
    """An answer as shown on a page: the decoded body, and the request id under which it was
    written to the recommendation log."""

    body: dict[str, Any]
    request_id: str
    model_version: str | None


def shown(service: Service, employee_id: str, kind: str, lang: str, record: bool) -> Shown:
    """The ``kind`` ("programs" or "positions") answer for a person, with the same cache keys
    as the API; written to the log under a new request id when ``record``."""
    if kind == "programs":
        answer = service.cached(
            (employee_id, "programs", PROGRAMS_SHOWN, None, False, None, lang),
            lambda: service.programs(employee_id, PROGRAMS_SHOWN, None, False, None, lang),
            "program_id",
        )
    else:
        answer = service.cached(
            (employee_id, "positions", POSITIONS_SHOWN, lang),
            lambda: service.positions(employee_id, POSITIONS_SHOWN, lang),
            "position_id",
        )
    request_id = uuid.uuid4().hex
    if record:
        service.record(request_id, employee_id, f"review:{kind}", answer, lang)
    version = answer.model_version if answer.model_version != "None" else None
    return Shown(json.loads(answer.body), request_id, version)


def person_plan(*, service: Service, employee_id: str, lang: str) -> dict[str, Any]:
    """The person's yearly plan within the default per-person budget (the plan the employee
    page shows and the needs report counts), cached like the API's, as the decoded body."""
    budget = float(needs.DEFAULT_BUDGET_PER_EMPLOYEE)
    answer = service.cached(
        (employee_id, "plan", None, budget, lang),
        lambda: service.plan(employee_id, None, budget, lang),
        "program_id",
    )
    plan: dict[str, Any] = json.loads(answer.body)
    return plan


# ----------------------------------------------------------------------------- decisions
def decisions_of(
    service: Service, employee_ids: Iterable[str], year: int
) -> dict[tuple[str, str, str], Review]:
    """The latest decision of ``year`` per (employee, item kind, item id)."""
    ids = list(employee_ids)
    if service.store is None or not ids:
        return {}
    start = datetime(year, 1, 1, tzinfo=UTC)
    out: dict[tuple[str, str, str], Review] = {}
    with service.store() as session:
        for chunk in range(0, len(ids), 500):
            rows = session.scalars(
                select(Review)
                .where(Review.employee_id.in_(ids[chunk : chunk + 500]))
                .where(Review.created_at >= start)
                .order_by(Review.created_at, Review.review_id)
            )
            for r in rows:
                out[(r.employee_id, r.item_kind, r.item_id)] = r
        session.expunge_all()
    return out


def history(service: Service, employee_id: str) -> list[Review]:
    """Every decision on one person, newest first."""
    if service.store is None:
        return []
    with service.store() as session:
        rows = repo.reviews_for(session, employee_id)
        session.expunge_all()
    return list(reversed(rows))


def pending_programs(
    service: Service, employee_id: str, lang: str, decided: dict[tuple[str, str, str], Review]
) -> list[str]:
    """Programme ids among the person's top :data:`REVIEW_TOP` with no decision this year."""
    body = shown(service, employee_id, "programs", lang, record=False).body
    top = [str(i["program_id"]) for i in body["items"][:REVIEW_TOP]]
    return [p for p in top if (employee_id, "program", p) not in decided]


@dataclass(frozen=True)
class ServedItem:
    """What the recommendation log says about a reviewed item."""

    request_id: str
    model_version: str | None


class DecisionError(ValueError):
    """A review form that cannot be stored. ``code`` names the problem for the page (a key of
    :data:`recommender.web.i18n.TEXTS` prefixed ``error_``); the message names the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def served_item(
    service: Service, employee_id: str, request_id: str, item_kind: str, item_id: str
) -> ServedItem:
    """Check that ``item_id`` was in the list logged under ``request_id`` for this person and
    return the list's model version; raises DecisionError naming the field otherwise."""
    if service.store is None:
        raise DecisionError("not_shown", "no application database is configured")
    if service.log is not None:
        service.log.flush()
    with service.store() as session:
        row = session.get(RecommendationLog, request_id)
        if row is None or row.employee_id != employee_id:
            raise DecisionError("not_shown", "request_id: not shown for this employee")
        if row.endpoint != f"review:{item_kind}s":
            raise DecisionError("not_shown", "item_kind: does not match the list")
        if item_id not in {str(i.get("item_id")) for i in row.items}:
            raise DecisionError("not_shown", "item_id: not in the list that was shown")
        version = row.model_version if row.model_version not in ("", "None") else None
        return ServedItem(row.request_id, version)


# ----------------------------------------------------------------------------- JP this year
def completions_in(service: Service, year: int, employee_ids: Iterable[str]) -> dict[str, set[str]]:
    """Programmes ``employee_ids`` completed in ``year`` according to the LMS events (not
    voided)."""
    if service.store is None:
        return {}
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    out: dict[str, set[str]] = {}
    with service.store() as session:
        rows = repo.program_completions(session, start, end, list(employee_ids))
    for employee_id, program_id in rows:
        out.setdefault(str(employee_id), set()).add(str(program_id))
    return out


# ----------------------------------------------------------------------------- gap chart
@dataclass(frozen=True)
class GapBar:
    """One competency of the gap chart (levels 0-5; ``level`` None = not assessed)."""

    competency_id: str
    name: str
    level: float | None
    required: float
    target: float | None

    @property
    def gap(self) -> float:
        """Required minus assessed level, 0 when met or not assessed."""
        return 0.0 if self.level is None else max(self.required - self.level, 0.0)


@dataclass
class GapChart:
    """The competencies of the current position's standard, largest weighted gap first."""

    bars: list[GapBar] = field(default_factory=list)

    @property
    def any_gap(self) -> bool:
        """True when at least one assessed competency is below its requirement."""
        return any(b.gap > 0 for b in self.bars)


def gap_chart(service: Service, employee_id: str, lang: str, limit: int = 16) -> GapChart:
    """Levels against the current position's standard (and the likely next one's, when known)
    for one person; raises KeyError for someone not active."""
    w = service.world
    row = w.snap.row(employee_id)
    cat = w.cat
    pos_index = pd.Index(cat.positions["position_id"])
    p = int(pos_index.get_indexer(pd.Index([w.snap.people["position_id"].iat[row]]))[0])
    if p < 0:
        return GapChart()
    nxt = int(cat.next_position[p])
    names = competency_names(service, lang)
    levels = w.snap.levels[row]
    req, weight = cat.req[p], cat.req_weight[p]
    need = np.flatnonzero(req > 0)
    gap = np.where(np.isnan(levels[need]), 0.0, np.maximum(req[need] - levels[need], 0.0))
    order = need[np.lexsort((need, -gap * weight[need]))][:limit]
    bars = []
    for c in order.tolist():
        cid = str(cat.competencies[c])
        lvl = levels[c]
        tgt = float(cat.req[nxt, c]) if nxt >= 0 and nxt != p and cat.req[nxt, c] > 0 else None
        bars.append(
            GapBar(
                cid,
                names.get(cid, cid),
                None if np.isnan(lvl) else round(float(lvl), 2),
                float(req[c]),
                tgt,
            )
        )
    return GapChart(bars)


# ----------------------------------------------------------------------------- profile
def profile(service: Service, employee_id: str) -> dict[str, Any]:
    """What the employee page shows about the person (no NIP)."""
    w = service.world
    person: dict[Any, Any] = w.snap.people.loc[employee_id].to_dict()
    emp = w.tables["employees"]
    education = emp.loc[emp["employee_id"] == employee_id, "education"]
    box, rating = person.get("talent_box"), person.get("last_rating")
    return {
        "employee_id": employee_id,
        "name": person_names(service).get(employee_id, ""),
        "unit_id": str(person["unit_id"]),
        "unit": unit_names(service).get(str(person["unit_id"]), str(person["unit_id"])),
        "position_id": str(person["position_id"]),
        "position": position_titles(service).get(str(person["position_id"]), ""),
        "grade": str(person["grade"]),
        "education": str(education.iloc[0]) if len(education) else "",
        "years_in_post": round(float(person["years_in_position"]), 1),
        "age": int(person["age"]),
        "talent_box": None if pd.isna(box) else int(box),
        "last_rating": None if pd.isna(rating) else RATING_WORDS.get(int(rating), ""),
    }


#: Appraisal scores of the snapshot back to the official ratings.
RATING_WORDS = {4: "Sangat Baik", 3: "Baik", 2: "Butuh Perbaikan", 1: "Kurang", 0: "Sangat Kurang"}
