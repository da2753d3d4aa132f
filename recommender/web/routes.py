"""The HR pages: sign-in, units, employees (review), review queue, training-needs report with
CSV/XLSX export, and the model page. Server-rendered with Jinja2, no JavaScript.

Every page needs a session (else a redirect to ``/login``); a reviewer sees only the units
bound to the account and the units below them: anything else answers 404, whether reached by a
link or by editing the URL. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from recommender.config import Settings
from recommender.reports import needs
from recommender.service import Service, UnknownEmployeeError
from recommender.store import repo, users
from recommender.store.db import reachable
from recommender.web import auth, views
from recommender.web.i18n import LANGUAGES, language, text
from recommender.web.models_page import RunFigures

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))

#: Headers of every HTML page: no framing, no sniffing, no inline script, nothing cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
DECISIONS = ("approve", "reject", "replace")
#: Problems a review form can have, each with the page's words ``error_<code>``.
DECISION_ERRORS = ("decision", "text", "reason", "replacement", "not_shown")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Budget = Annotated[str | None, Query(max_length=40, description="IDR")]
#: Most people whose answers a list page computes (unit page columns, review queue).
STAFF_LIMIT = 600
MAX_REASON = 1000


# ----------------------------------------------------------------------------- helpers
def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _lang(request: Request) -> str:
    return language(request.cookies.get(auth.LANG_COOKIE))


def _fmt_number(value: Any, lang: str, digits: int = 0) -> str:
    """1234567.5 -> "1.234.568" (id) or "1,234,568" (en)."""
    if value is None:
        return "—"
    s = f"{float(value):,.{digits}f}"
    if lang == "id":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


def _fmt_pct(value: Any, lang: str) -> str:
    return "—" if value is None else _fmt_number(100 * float(value), lang, 1) + " %"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    viewer: auth.Viewer | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with the words of the viewer's language, the CSRF token and the security
    headers."""
    lang = _lang(request)

    def t(key: str, **values: object) -> str:
        return text(lang, key, **values)

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if status_code >= 400:  # an error page links back home, not to what was refused
        here = "/"
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": lang,
            "other_lang": "en" if lang == "id" else "id",
            "here": quote(here, safe="/"),
            "viewer": viewer,
            "csrf": viewer.csrf if viewer else "",
            "num": lambda v, d=0: _fmt_number(v, lang, d),
            "pct": lambda v: _fmt_pct(v, lang),
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def _viewer(request: Request) -> auth.Viewer:
    """The signed-in viewer; raises LoginRequiredError (back to this page after sign-in for a
    GET, to the home page after a form)."""
    service = _service(request)
    viewer = None
    if service.store is not None:
        viewer = auth.viewer_of(service.store, request.cookies.get(auth.SESSION_COOKIE))
    if viewer is None:
        back = "/"
        if request.method == "GET":
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise auth.LoginRequiredError(back)
    return viewer


def _check_csrf(viewer: auth.Viewer, sent: str) -> None:
    if not auth.same_token(sent, viewer.csrf):
        raise auth.CsrfError()


def _visible_employee(service: Service, viewer: auth.Viewer, employee_id: str) -> None:
    """Raise NotVisibleError unless the viewer may open this person."""
    if not employee_id.startswith("e_") or len(employee_id) > 64:
        raise views.NotVisibleError(employee_id)
    try:
        service.visible(employee_id, viewer.units)
    except UnknownEmployeeError:
        raise views.NotVisibleError(employee_id) from None


def _budget(value: str | None) -> float | None:
    """The report's budget from the form: empty = the default; raises BadInputError."""
    if value is None or not value.strip():
        return None
    try:
        budget = float(value.replace(".", "").replace(",", "").strip())
    except ValueError:
        raise BadInputError("error_budget") from None
    if not 0 <= budget <= 1e13:
        raise BadInputError("error_budget")
    return round(budget)


class BadInputError(ValueError):
    """A page parameter that makes no sense (answered 400 with the page's words for
    ``code``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _per_person_budget() -> float:
    return float(needs.DEFAULT_BUDGET_PER_EMPLOYEE)


def _plan(service: Service, employee_id: str, lang: str) -> dict[str, Any]:
    """The person's yearly plan within the default per-person budget (the plan the employee
    page shows and the needs report counts), cached like the API's."""
    budget = _per_person_budget()
    answer = service.cached(
        (employee_id, "plan", None, budget, lang),
        lambda: service.plan(employee_id, None, budget, lang),
        "program_id",
    )
    plan: dict[str, Any] = json.loads(answer.body)
    return plan


# ----------------------------------------------------------------------------- pages
def _auth_routes(r: APIRouter) -> None:
    @r.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        token = auth.new_login_token()
        response = render(request, "login.html", {"next": auth.safe_next(next), "token": token})
        response.set_cookie(
            auth.LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=_service(request).settings.env == "production",
            max_age=3600,
        )
        return response

    @r.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        service = _service(request)
        target = auth.safe_next(next)

        secure = service.settings.env == "production"

        def again(message: str, status: int, retry_after: int = 0) -> HTMLResponse:
            token = auth.new_login_token()
            response = render(
                request,
                "login.html",
                {"next": target, "token": token, "error": message, "username": username},
                status_code=status,
            )
            response.set_cookie(
                auth.LOGIN_CSRF_COOKIE,
                token,
                httponly=True,
                samesite="strict",
                secure=secure,
                max_age=3600,
            )
            if retry_after > 0:  # a throttled or locked sign-in: when to try again
                response.headers["Retry-After"] = str(retry_after)
            return response

        lang = _lang(request)
        if not auth.same_token(csrf_token, request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
            return again(text(lang, "csrf"), 403)
        client, name = auth.client_of(request), "user:" + username.strip().lower()[:64]
        by_client: auth.Throttle = request.app.state.login_throttle
        by_name: auth.Throttle = request.app.state.name_throttle
        if by_client.blocked(client):
            return again(text(lang, "throttled"), 429, by_client.retry_after(client))
        if by_name.blocked(name):
            await asyncio.sleep(auth.FAILURE_DELAY)
            seconds = by_name.retry_after(name)
            return again(text(lang, "locked", seconds=seconds), 429, seconds)
        if service.store is None:
            return again(text(lang, "login_failed"), 503)
        store, previous = service.store, request.cookies.get(auth.SESSION_COOKIE)

        def attempt() -> tuple[str, str] | int | None:
            with reachable("sign-in is not possible"), store.begin() as session:
                try:
                    user = users.authenticate(session, username.strip().lower(), password)
                except users.LockedOut as exc:
                    return int(exc.retry_after_seconds)
                except (users.LoginFailed, ValueError):
                    return None
                if previous:  # signing in again replaces the session the browser had
                    users.end_session(session, previous)
                users.purge_expired(session)
                return users.start_session(session, user)

        outcome = await run_in_threadpool(attempt)
        if outcome is None or isinstance(outcome, int):
            by_client.failed(client)
            by_name.failed(name)
            await asyncio.sleep(auth.FAILURE_DELAY)
            if isinstance(outcome, int):
                return again(text(lang, "locked", seconds=outcome), 429, outcome)
            return again(text(lang, "login_failed"), 401)
        by_name.reset(name)
        token, _csrf = outcome
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=secure,
            max_age=8 * 3600,
        )
        response.delete_cookie(auth.LOGIN_CSRF_COOKIE)
        return response

    @r.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
        viewer = _viewer(request)
        _check_csrf(viewer, csrf_token)
        token = request.cookies.get(auth.SESSION_COOKIE)
        service = _service(request)
        if token and service.store is not None:
            with service.store.begin() as session:
                users.end_session(session, token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE)
        return response

    @r.get("/language", include_in_schema=False)
    def switch_language(lang: str = "id", next: str = "/") -> Response:
        response = RedirectResponse(auth.safe_next(next), status_code=303)
        response.set_cookie(
            auth.LANG_COOKIE, lang if lang in LANGUAGES else "id", samesite="lax", max_age=31536000
        )
        return response


def _unit_routes(r: APIRouter) -> None:
    @r.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        viewer = _viewer(request)
        if viewer.units is not None and len(viewer.units) == 1:
            (only,) = viewer.units
            if views.unit_visible(_service(request), only, viewer.units):
                return RedirectResponse(f"/units/{quote(only)}", status_code=303)
        return RedirectResponse("/units", status_code=303)

    @r.get("/units", response_class=HTMLResponse, include_in_schema=False)
    def units_page(request: Request) -> HTMLResponse:
        viewer = _viewer(request)
        service = _service(request)
        return render(
            request, "units.html", {"units": views.visible_units(service, viewer.units)}, viewer
        )

    @r.get("/units/{unit_id}", response_class=HTMLResponse, include_in_schema=False)
    def unit_page(request: Request, unit_id: str) -> HTMLResponse:
        viewer = _viewer(request)
        service = _service(request)
        views.check_unit(service, unit_id, viewer.units)
        lang = _lang(request)
        world = service.world
        year = world.year
        staff = views.direct_staff(service, unit_id)
        detailed = len(staff) <= STAFF_LIMIT  # answers for everyone only in a unit this size
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
                "year": year,
                "detailed": detailed,
                "children": [(c, unit_names.get(c, c)) for c in sorted(children)],
            },
            viewer,
        )

    @r.get("/queue", response_class=HTMLResponse, include_in_schema=False)
    def queue_page(
        request: Request, unit: Annotated[str | None, Query(max_length=64)] = None
    ) -> HTMLResponse:
        viewer = _viewer(request)
        service = _service(request)
        lang = _lang(request)
        if unit:
            views.check_unit(service, unit, viewer.units)
            chosen = [unit]
        else:
            chosen = [u["unit_id"] for u in views.visible_units(service, viewer.units)]
        staff = [e for u in chosen for e in views.direct_staff(service, u)]
        too_many = len(staff) > STAFF_LIMIT
        rows: list[dict[str, Any]] = []
        if not too_many:
            decided = views.decisions_of(service, staff, service.world.year)
            names = views.person_names(service)
            titles = views.position_titles(service)
            people = service.world.snap.people
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


def _employee_routes(r: APIRouter) -> None:
    @r.get("/employees/{employee_id}", response_class=HTMLResponse, include_in_schema=False)
    def employee_page(
        request: Request,
        employee_id: str,
        saved: Annotated[str | None, Query(max_length=2)] = None,
        error: Annotated[str | None, Query(max_length=40)] = None,
    ) -> HTMLResponse:
        viewer = _viewer(request)
        service = _service(request)
        _visible_employee(service, viewer, employee_id)
        lang = _lang(request)
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
                "plan": _plan(service, employee_id, lang),
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

    @r.post("/employees/{employee_id}/reviews", include_in_schema=False)
    def review(
        request: Request,
        employee_id: str,
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        request_id: Annotated[str, Form(max_length=128)] = "",
        item_kind: Annotated[str, Form(max_length=16)] = "",
        item_id: Annotated[str, Form(max_length=128)] = "",
        decision: Annotated[str, Form(max_length=16)] = "",
        reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
        replacement_id: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        viewer = _viewer(request)
        _check_csrf(viewer, csrf_token)
        service = _service(request)
        _visible_employee(service, viewer, employee_id)
        lang = _lang(request)
        back = f"/employees/{employee_id}"
        try:
            stored = _store_review(
                service,
                viewer,
                employee_id,
                lang,
                request_id=request_id,
                item_kind=item_kind,
                item_id=item_id,
                decision=decision,
                reason=reason,
                replacement_id=replacement_id,
            )
        except views.DecisionError as exc:
            return RedirectResponse(f"{back}?error={exc.code}#decisions", status_code=303)
        except ValueError:  # refused by the store's checks (a NIP-like or control character)
            return RedirectResponse(f"{back}?error=text#decisions", status_code=303)
        return RedirectResponse(f"{back}?saved=1#{item_kind}-{stored}", status_code=303)


def _store_review(
    service: Service,
    viewer: auth.Viewer,
    employee_id: str,
    lang: str,
    *,
    request_id: str,
    item_kind: str,
    item_id: str,
    decision: str,
    reason: str,
    replacement_id: str,
) -> str:
    """Validate a review form and store it; returns the item id. Raises DecisionError (its
    ``code`` one of :data:`DECISION_ERRORS`) or ValueError from the store's checks."""
    if decision not in DECISIONS or item_kind not in ("program", "position"):
        raise views.DecisionError("decision", "decision / item_kind: not a known choice")
    reason = reason.strip()
    if CONTROL.search(reason) or CONTROL.search(request_id + item_id + replacement_id):
        raise views.DecisionError("text", "control characters in the form")
    if decision in ("reject", "replace") and not reason:
        raise views.DecisionError("reason", "reason: required to reject or replace")
    replacement = replacement_id.strip() or None
    if decision == "replace":
        if item_kind != "program":
            raise views.DecisionError("decision", "decision: only a program can be replaced")
        if replacement is None or replacement not in service.world.cat.ids:
            raise views.DecisionError("replacement", "replacement_id: not in the catalogue")
        if replacement == item_id:
            raise views.DecisionError("replacement", "replacement_id: the same program")
    else:
        replacement = None
    served = views.served_item(service, employee_id, request_id, item_kind, item_id)
    assert service.store is not None  # served_item checked it
    with service.store.begin() as session:
        repo.add_review(
            session,
            employee_id=employee_id,
            item_kind=item_kind,
            item_id=item_id,
            decision=decision,
            reason=reason or text(lang, "decision_approve"),
            reviewer=viewer.username,
            request_id=served.request_id,
            replacement_id=replacement,
            model_version=served.model_version,
        )
    return item_id


def _report_routes(r: APIRouter) -> None:
    def report(
        request: Request, unit_id: str, budget_text: str | None
    ) -> tuple[auth.Viewer, needs.NeedsReport]:
        viewer = _viewer(request)
        service = _service(request)
        views.check_unit(service, unit_id, viewer.units)
        budget = _budget(budget_text)
        lang = _lang(request)
        world = service.world
        staff = needs.unit_employees(world, unit_id)
        if len(staff) > STAFF_LIMIT:
            raise BadInputError("error_too_many")
        plans = {e: _plan(service, e, lang) for e in staff}
        found = needs.build_needs(
            world,
            unit_id,
            plans,
            budget=budget if budget is not None else needs.default_budget(len(staff)),
            extra_completions=views.completions_in(service, world.year, staff),
            previous_completions=views.completions_in(service, world.year - 1, staff),
        )
        return viewer, found

    @r.get("/units/{unit_id}/needs", response_class=HTMLResponse, include_in_schema=False)
    def needs_page(request: Request, unit_id: str, budget: Budget = None) -> HTMLResponse:
        viewer, found = report(request, unit_id, budget)
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

    @r.get("/units/{unit_id}/needs.csv", include_in_schema=False)
    def needs_csv(request: Request, unit_id: str, budget: Budget = None) -> Response:
        _, found = report(request, unit_id, budget)
        body = needs.to_csv(found, _lang(request))
        return Response(
            body.encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers=_download(f"kebutuhan-pelatihan-{unit_id}-{found.year}.csv"),
        )

    @r.get("/units/{unit_id}/needs.xlsx", include_in_schema=False)
    def needs_xlsx(request: Request, unit_id: str, budget: Budget = None) -> Response:
        _, found = report(request, unit_id, budget)
        return Response(
            needs.to_xlsx(found, _lang(request)),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=_download(f"kebutuhan-pelatihan-{unit_id}-{found.year}.xlsx"),
        )


def invalid_page(request: Request, exc: RequestValidationError) -> HTMLResponse:
    """A page's query or form failed validation: 422 with the field names (never the values)."""
    fields = sorted({str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()})
    message = text(_lang(request), "error_input", fields=", ".join(fields))
    return render(request, "error.html", {"message": message}, status_code=422)


def unavailable_page(request: Request, retry_after: int) -> HTMLResponse:
    """The application database cannot be reached: 503 with ``Retry-After``."""
    response = render(
        request, "error.html", {"message": text(_lang(request), "unavailable")}, status_code=503
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _download(filename: str) -> dict[str, str]:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)
    return {
        "Content-Disposition": f'attachment; filename="{safe}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


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


def _model_routes(r: APIRouter) -> None:
    @r.get("/models", response_class=HTMLResponse, include_in_schema=False)
    def models_page(request: Request) -> HTMLResponse:
        viewer = _viewer(request)
        service = _service(request)
        figures: RunFigures = request.app.state.run_figures
        models = []
        for bundle in service.models.bundles.values():
            described = bundle.describe()
            models.append({**described, "figures": figures.get(str(described.get("run_id")))})
        return render(request, "models.html", {"models": models}, viewer)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the HR pages, their static files and their error pages to ``app``."""
    router = APIRouter()
    _auth_routes(router)
    _unit_routes(router)
    _employee_routes(router)
    _report_routes(router)
    _model_routes(router)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.login_throttle = auth.Throttle()
    app.state.name_throttle = auth.Throttle(limit=auth.NAME_MAX)
    app.state.run_figures = RunFigures(settings)

    @app.exception_handler(auth.LoginRequiredError)
    async def _login_required(request: Request, exc: auth.LoginRequiredError) -> Response:
        return RedirectResponse(auth.login_url(exc.next_path), status_code=303)

    @app.exception_handler(auth.CsrfError)
    async def _csrf(request: Request, exc: auth.CsrfError) -> Response:
        return render(
            request, "error.html", {"message": text(_lang(request), "csrf")}, status_code=403
        )

    @app.exception_handler(views.NotVisibleError)
    async def _not_visible(request: Request, exc: views.NotVisibleError) -> Response:
        return render(
            request, "error.html", {"message": text(_lang(request), "not_found")}, status_code=404
        )

    @app.exception_handler(BadInputError)
    async def _bad_input(request: Request, exc: BadInputError) -> Response:
        return render(
            request, "error.html", {"message": text(_lang(request), exc.code)}, status_code=400
        )

    @app.exception_handler(needs.UnknownUnitError)
    async def _unknown_unit(request: Request, exc: needs.UnknownUnitError) -> Response:
        return render(
            request, "error.html", {"message": text(_lang(request), "not_found")}, status_code=404
        )
