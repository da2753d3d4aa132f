"""An employee's page (recommendations, plan, gaps, decisions) and the review form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from recommender.service import Service, UnknownEmployeeError
from recommender.web import auth, views
from recommender.web.deps import ServiceDep, check_csrf, signed_in
from recommender.web.forms import DECISION_ERRORS, MAX_REASON, ReviewForm, store_review
from recommender.web.i18n import text
from recommender.web.render import page_lang, render

router = APIRouter(include_in_schema=False)


def visible_employee(*, service: Service, viewer: auth.Viewer, employee_id: str) -> None:
    """Raise NotVisibleError (404) unless the viewer may open this person."""
    if not employee_id.startswith("e_") or len(employee_id) > 64:
        raise views.NotVisibleError(employee_id)
    try:
        service.visible(employee_id, viewer.units)
    except UnknownEmployeeError:
        raise views.NotVisibleError(employee_id) from None


@router.get("/employees/{employee_id}", response_class=HTMLResponse)
def employee_page(
    request: Request,
    service: ServiceDep,
    employee_id: str,
    saved: Annotated[str | None, Query(max_length=2)] = None,
    error: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """A person: recommendations to review, plan, competency gaps, decisions so far."""
    viewer = signed_in(request=request, service=service)
    visible_employee(service=service, viewer=viewer, employee_id=employee_id)
    lang = page_lang(request)
    year = service.world.year
    programs = views.shown(service, employee_id, "programs", lang, record=True)
    positions = views.shown(service, employee_id, "positions", lang, record=True)
    catalog = views.text_map(service.world.cat.programs, "program_id", "title")
    message = text(lang, f"error_{error}") if error in DECISION_ERRORS else None
    return render(
        request,
        "employee.html",
        {
            "person": views.profile(service, employee_id),
            "chart": views.gap_chart(service, employee_id, lang),
            "programs": programs,
            "positions": positions,
            "plan": views.person_plan(service=service, employee_id=employee_id, lang=lang),
            "decided": views.decisions_of(service, [employee_id], year),
            "history": views.history(service, employee_id),
            "catalog": sorted(catalog.items()),
            "year": year,
            "saved": saved == "1",
            "error": message,
            "review_top": views.REVIEW_TOP,
        },
        viewer,
    )


@router.post("/employees/{employee_id}/reviews")
def review(
    request: Request,
    service: ServiceDep,
    employee_id: str,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    request_id: Annotated[str, Form(max_length=128)] = "",
    item_kind: Annotated[str, Form(max_length=16)] = "",
    item_id: Annotated[str, Form(max_length=128)] = "",
    decision: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
    replacement_id: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Store a decision on a shown item; back to the page, saying what was wrong if any."""
    viewer = signed_in(request=request, service=service)
    check_csrf(viewer=viewer, sent=csrf_token)
    visible_employee(service=service, viewer=viewer, employee_id=employee_id)
    back = f"/employees/{employee_id}"
    form = ReviewForm(request_id, item_kind, item_id, decision, reason, replacement_id)
    try:
        stored = store_review(
            service=service,
            viewer=viewer,
            employee_id=employee_id,
            lang=page_lang(request),
            form=form,
        )
    except views.DecisionError as exc:
        return RedirectResponse(f"{back}?error={exc.code}#decisions", status_code=303)
    except ValueError:  # refused by the store's checks (a NIP-like or control character)
        return RedirectResponse(f"{back}?error=text#decisions", status_code=303)
    return RedirectResponse(f"{back}?saved=1#{item_kind}-{stored}", status_code=303)
