"""Every error of the app mapped to HTTP in one place (:func:`install_errors`), and the error
answers the OpenAPI document declares.

API paths (:data:`API_PREFIXES`) answer JSON of one shape, ``{"detail", "request_id"}``
(:class:`ErrorBody`); the HR pages answer an error page in the viewer's language.

============================  ======  =============================================
exception                     status  answer
============================  ======  =============================================
``HTTPException``             its     ``detail`` as raised (headers kept)
``RequestValidationError``    422     the problems (``loc``, ``msg``, ``type``), never
                                      the values sent; a page: the field names
``UnknownEmployeeError``      404     :data:`NOT_FOUND` (the identifier never echoed)
``ProfileError``              422     what does not fit in the cold-start profile
``BatchTooLargeError``        413     the batch's size limit
``ModelUnavailableError``     503     which model is missing
``StoreUnavailableError``     503     with ``Retry-After``; a page: the 503 page
``LoginRequiredError``        303     to the sign-in form (pages)
``CsrfError``                 403     the error page (pages)
``NotVisibleError``           404     the error page (pages)
``UnknownUnitError``          404     the error page (pages)
``BadInputError``             400     the error page naming the problem (pages)
============================  ======  =============================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from recommender.events import BatchTooLargeError
from recommender.programs.coldstart import ProfileError
from recommender.reports.needs import UnknownUnitError
from recommender.service import ModelUnavailableError, UnknownEmployeeError
from recommender.store.db import StoreUnavailableError
from recommender.web import auth
from recommender.web.forms import BadInputError
from recommender.web.render import error_page, invalid_page, unavailable_page
from recommender.web.views import NotVisibleError

NOT_FOUND = "no active employee with this identifier"
#: Paths answered in JSON; everything else is an HTML page of the HR site.
API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/redoc")


class ValidationIssue(BaseModel):
    """One problem of a 422: where (``loc``), what (``msg``) and its kind (``type``); the
    submitted value is never echoed."""

    loc: list[str | int]
    msg: str
    type: str | None = None


class ErrorBody(BaseModel):
    """Every error answer of the API: a message (or, for bad parameters, the list of
    problems) and the request id (also in ``X-Request-ID``)."""

    detail: str | list[ValidationIssue]
    request_id: str | None = None


def _error(description: str) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry for an error answered with :class:`ErrorBody`."""
    return {"model": ErrorBody, "description": description}


def _retry(description: str) -> dict[str, Any]:
    """An error entry whose answer carries ``Retry-After`` (seconds)."""
    header = {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
    return {**_error(description), "headers": {"Retry-After": header}}


#: Answers any route can give (limits, missing key): declared on every route.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("malformed request (e.g. an invalid Content-Length)"),
    401: _error("no API key, or an unknown or revoked one"),
    413: _error("request body over the size limit"),
    414: _error("request target (path and query) too long"),
    422: _error("bad parameters or body: the problems, never the values sent"),
    429: _retry("too many requests for this API key"),
    431: _error("request headers too large or too many"),
    503: _retry("the service is busy, or a model it needs is not loaded"),
}
SCOPE_ERROR: dict[int | str, dict[str, Any]] = {403: _error("the API key lacks the scope")}
EMPLOYEE_ERRORS: dict[int | str, dict[str, Any]] = {
    **SCOPE_ERROR,
    404: _error("unknown or malformed identifier, or an employee outside the key's units"),
}


def is_api(request: Request) -> bool:
    """True for the paths answered in JSON (:data:`API_PREFIXES`)."""
    return request.url.path.startswith(API_PREFIXES)


def error_json(
    *, request: Request, detail: Any, status_code: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The API's error answer ``{"detail", "request_id"}``."""
    body = {"detail": detail, "request_id": request.state.request_id}
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    return error_json(
        request=request, detail=exc.detail, status_code=exc.status_code, headers=exc.headers
    )


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    # the submitted values are not echoed: they may carry personal data
    if not is_api(request):
        return invalid_page(request, exc)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    return error_json(request=request, detail=errors, status_code=422)


async def _store_down(request: Request, exc: StoreUnavailableError) -> Response:
    if not is_api(request):
        return unavailable_page(request, exc.retry_after)
    headers = {"Retry-After": str(exc.retry_after)}
    return error_json(request=request, detail=str(exc), status_code=503, headers=headers)


async def _login_required(request: Request, exc: auth.LoginRequiredError) -> Response:
    return RedirectResponse(auth.login_url(exc.next_path), status_code=303)


def _answer(status_code: int, detail: str | None = None) -> Callable[..., Awaitable[Response]]:
    """A handler answering ``status_code`` with ``detail`` (default: the exception's text)."""

    async def handler(request: Request, exc: Exception) -> Response:
        message = str(exc) if detail is None else detail
        return error_json(request=request, detail=message, status_code=status_code)

    return handler


def _page(key: str, status_code: int) -> Callable[..., Awaitable[Response]]:
    """A handler answering the error page with the words ``key`` (empty: the exception's
    ``code``)."""

    async def handler(request: Request, exc: Exception) -> Response:
        words = key or str(getattr(exc, "code", ""))
        return error_page(request=request, key=words, status_code=status_code)

    return handler


#: Exceptions answered by one status: JSON for the API, error pages for the HR pages.
HANDLERS: dict[type[Exception], Callable[..., Awaitable[Response]]] = {
    StarletteHTTPException: _http_error,
    RequestValidationError: _invalid,
    UnknownEmployeeError: _answer(404, NOT_FOUND),
    ProfileError: _answer(422),
    BatchTooLargeError: _answer(413),
    ModelUnavailableError: _answer(503),
    StoreUnavailableError: _store_down,
    auth.LoginRequiredError: _login_required,
    auth.CsrfError: _page("csrf", 403),
    NotVisibleError: _page("not_found", 404),
    UnknownUnitError: _page("not_found", 404),
    BadInputError: _page("", 400),
}


def install_errors(app: FastAPI) -> None:
    """Install every exception handler of :data:`HANDLERS` on ``app``."""
    for exc_class, handler in HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
