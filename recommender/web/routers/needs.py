"""The training-needs report of a unit: the page and its CSV and XLSX exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from recommender.reports import needs
from recommender.service import Service
from recommender.web import auth, views
from recommender.web.deps import ServiceDep, signed_in
from recommender.web.forms import BadInputError, parse_budget
from recommender.web.render import download_headers, page_lang, render
from recommender.web.routers.units import STAFF_LIMIT

Budget = Annotated[str | None, Query(max_length=40, description="IDR")]
router = APIRouter(include_in_schema=False)


def _report(
    request: Request, service: Service, unit_id: str, budget_text: str | None
) -> tuple[auth.Viewer, needs.NeedsReport]:
    """The viewer and the unit's report. Raises LoginRequiredError, NotVisibleError,
    BadInputError (a bad budget, or a unit over :data:`STAFF_LIMIT` people)."""
    viewer = signed_in(request=request, service=service)
    views.check_unit(service, unit_id, viewer.units)
    budget = parse_budget(budget_text)
    lang = page_lang(request)
    world = service.world
    staff = needs.unit_employees(world, unit_id)
    if len(staff) > STAFF_LIMIT:
        raise BadInputError("error_too_many")
    plans = {e: views.person_plan(service=service, employee_id=e, lang=lang) for e in staff}
    found = needs.build_needs(
        world,
        unit_id,
        plans,
        budget=budget if budget is not None else needs.default_budget(len(staff)),
        extra_completions=views.completions_in(service, world.year, staff),
        previous_completions=views.completions_in(service, world.year - 1, staff),
    )
    return viewer, found


def needs_heat(found: needs.NeedsReport, shades: int = 6) -> list[list[int]]:
    """Shade 0..shades-1 of every heatmap cell (0 = no gap), by weighted gap relative to the
    largest cell."""
    top = float(found.weighted_gap.max()) if found.weighted_gap.size else 0.0
    if top <= 0:
        return [[0] * len(found.competencies) for _ in found.rows]
    return [
        [0 if v <= 0 else 1 + min(int((shades - 1) * v / top), shades - 2) for v in row]
        for row in found.weighted_gap.tolist()
    ]


@router.get("/units/{unit_id}/needs", response_class=HTMLResponse)
def needs_page(
    request: Request, service: ServiceDep, unit_id: str, budget: Budget = None
) -> HTMLResponse:
    """The unit's training-needs report (heatmap, programmes, budget)."""
    viewer, found = _report(request, service, unit_id, budget)
    return render(
        request,
        "needs.html",
        {
            "r": found,
            "heat": needs_heat(found),
            "budget_query": "" if budget is None else f"?budget={round(found.budget)}",
        },
        viewer,
    )


@router.get("/units/{unit_id}/needs.csv")
def needs_csv(
    request: Request, service: ServiceDep, unit_id: str, budget: Budget = None
) -> Response:
    """The report as CSV (UTF-8 with BOM, for spreadsheets)."""
    _, found = _report(request, service, unit_id, budget)
    body = needs.to_csv(found, page_lang(request))
    return Response(
        body.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers=download_headers(f"kebutuhan-pelatihan-{unit_id}-{found.year}.csv"),
    )


@router.get("/units/{unit_id}/needs.xlsx")
def needs_xlsx(
    request: Request, service: ServiceDep, unit_id: str, budget: Budget = None
) -> Response:
    """The report as an XLSX workbook."""
    _, found = _report(request, service, unit_id, budget)
    return Response(
        needs.to_xlsx(found, page_lang(request)),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=download_headers(f"kebutuhan-pelatihan-{unit_id}-{found.year}.xlsx"),
    )
