"""The home redirect, the unit list, a unit's page and the review queue."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from recommender.reports import needs
from recommender.service import Service
from recommender.web import views
from recommender.web.deps import ServiceDep, signed_in
from recommender.web.render import page_lang, render

#: Most people whose answers a list page computes (unit page columns, review queue).
STAFF_LIMIT = 600

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, service: ServiceDep) -> Response:
    """To the viewer's only unit, or to the list of units."""
    viewer = signed_in(request=request, service=service)
    if viewer.units is not None and len(viewer.units) == 1:
        (only,) = viewer.units
        if views.unit_visible(service, only, viewer.units):
            return RedirectResponse(f"/units/{quote(only)}", status_code=303)
    return RedirectResponse("/units", status_code=303)


@router.get("/units", response_class=HTMLResponse)
def units_page(request: Request, service: ServiceDep) -> HTMLResponse:
    """The units the viewer may open, in tree order."""
    viewer = signed_in(request=request, service=service)
    units = views.visible_units(service, viewer.units)
    return render(request, "units.html", {"units": units}, viewer)


def _unit_rows(
    service: Service, staff: list[str], lang: str, detailed: bool
) -> list[dict[str, Any]]:
    """One row per person of the unit: name, position, grade, JP this year and last, and (when
    ``detailed``) the top next position and the number of programmes awaiting review."""
    world = service.world
    year = world.year
    decided = views.decisions_of(service, staff, year) if detailed else {}
    jp = needs.jp_realised(world, staff, year, views.completions_in(service, year, staff))
    jp_before = needs.jp_realised(
        world, staff, year - 1, views.completions_in(service, year - 1, staff)
    )
    names = views.person_names(service)
    titles = views.position_titles(service)
    people = world.snap.people
    rows = []
    for employee_id in staff:
        first, pending = None, None
        if detailed:
            top = views.shown(service, employee_id, "positions", lang, record=False).body
            first = top["items"][0] if top["items"] else None
            pending = len(views.pending_programs(service, employee_id, lang, decided))
        rows.append(
            {
                "employee_id": employee_id,
                "name": names.get(employee_id, ""),
                "position": titles.get(str(people.at[employee_id, "position_id"]), ""),
                "grade": str(people.at[employee_id, "grade"]),
                "jp": float(jp.get(employee_id, 0.0)),
                "jp_before": float(jp_before.get(employee_id, 0.0)),
                "next": first,
                "pending": pending,
            }
        )
    return rows


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_page(request: Request, service: ServiceDep, unit_id: str) -> HTMLResponse:
    """A unit: its people with JP, top next position and pending reviews; its sub-units."""
    viewer = signed_in(request=request, service=service)
    views.check_unit(service, unit_id, viewer.units)
    world = service.world
    staff = views.direct_staff(service, unit_id)
    detailed = len(staff) <= STAFF_LIMIT  # answers for everyone only in a unit this size
    rows = _unit_rows(service, staff, page_lang(request), detailed)
    table = world.tables["units"]
    children = table.loc[table["parent_id"] == unit_id, "unit_id"].astype(str).tolist()
    unit_names = views.unit_names(service)
    return render(
        request,
        "unit.html",
        {
            "unit_id": unit_id,
            "unit_name": unit_names.get(unit_id, unit_id),
            "rows": rows,
            "year": world.year,
            "detailed": detailed,
            "children": [(c, unit_names.get(c, c)) for c in sorted(children)],
        },
        viewer,
    )


def _queue_rows(service: Service, staff: list[str], lang: str) -> list[dict[str, Any]]:
    """The people with programmes awaiting review, and how many."""
    decided = views.decisions_of(service, staff, service.world.year)
    names = views.person_names(service)
    titles = views.position_titles(service)
    people = service.world.snap.people
    rows: list[dict[str, Any]] = []
    for employee_id in staff:
        pending = views.pending_programs(service, employee_id, lang, decided)
        if pending:
            rows.append(
                {
                    "employee_id": employee_id,
                    "name": names.get(employee_id, ""),
                    "unit_id": str(people.at[employee_id, "unit_id"]),
                    "position": titles.get(str(people.at[employee_id, "position_id"])),
                    "pending": len(pending),
                }
            )
    return rows


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    service: ServiceDep,
    unit: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The people with programmes awaiting review, in one unit or all the viewer's."""
    viewer = signed_in(request=request, service=service)
    lang = page_lang(request)
    if unit:
        views.check_unit(service, unit, viewer.units)
        chosen = [unit]
    else:
        chosen = [u["unit_id"] for u in views.visible_units(service, viewer.units)]
    staff = [e for u in chosen for e in views.direct_staff(service, u)]
    too_many = len(staff) > STAFF_LIMIT
    rows = [] if too_many else _queue_rows(service, staff, lang)
    return render(
        request,
        "queue.html",
        {
            "rows": rows,
            "too_many": too_many,
            "unit": unit,
            "units": views.visible_units(service, viewer.units),
        },
        viewer,
    )
