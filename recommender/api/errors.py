"""Every error of the app mapped to HTTP in one place (:func:`install_errors`), and the error
answers the OpenAPI document declares.

API paths (:data:`API_PREFIXES`) answer JSON of one shape, ``{"detail", "request_id"}``
(:class:`ErrorBody`); the HR pages answer an error page in the viewer's language.

============================  ======  =============================================
exception                     status  answer
============================  ======  =============================================
``HTTPException``             its     ``detail`` as raised (headers kept)
``RequestValidationError``    422     the problems (``loc``, ``msg``, ``type``), never
                                      the values or keys sent (:func:`issues`); a page:
                                      the field names
``UnknownEmployeeError``      404     :data:`NOT_FOUND` (the identifier never echoed)
``ProfileError``              422     the profile field and the rule it breaks
                                      (:data:`PROFILE_RULES`), never the value
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

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from recommender.domain import MAX_LEVEL
from recommender.events import BatchTooLargeError
from recommender.programs.coldstart import MIN_AGE, ProfileError
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
#: The first element of a ``loc``: where in the request the problem is.
LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
#: Stands in a ``loc`` for an element that is not a declared name (a key of the JSON sent).
KEY_PLACEHOLDER = "<key>"
#: Stands in a message for a value quoted from the request.
VALUE_PLACEHOLDER = "<value>"
#: Error types whose message is a validator's own text (it may quote what was sent).
_OWN_TEXT = frozenset({"value_error", "assertion_error"})
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
#: Runs of 16 or more digits, with optional single separators (a NIK is 16, a NIP 18): masked;
#: no limit a message states is that long.
_DIGITS = re.compile(r"\d(?:[ .\-']?\d){15,}")
#: What each field of a cold-start profile must satisfy (the answer to a ProfileError).
PROFILE_RULES = {
    "position_id": "unknown position id",
    "unit_id": "unknown unit id",
    "levels": f"unknown competency id, or a level outside 1-{MAX_LEVEL}",
    "completed": "unknown programme id",
    "taken": "unknown programme id",
    "birth_year": f"gives an age under {MIN_AGE} at the date of the request",
    "hire_year": f"after the date of the request, or less than {MIN_AGE} years after birth_year",
    "years_in_position": "more than the years since the start of hire_year",
}


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
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
#: Answers of a route outside ``/v1`` that needs a key, declared as JSON whatever the route's
#: own media type (``/metrics`` answers text).
KEY_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": COMMON_ERRORS[status]["description"], "content": _ERROR_JSON}
    for status in (401, 503)
}
KEY_ERRORS[403] = {"description": SCOPE_ERROR[403]["description"], "content": _ERROR_JSON}
KEY_ERRORS[503]["headers"] = COMMON_ERRORS[503]["headers"]
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


def declared_names(app: FastAPI) -> frozenset[str]:
    """Every name the OpenAPI document declares (properties of its schemas, parameters) and
    :data:`LOCATIONS`; computed once per app."""
    names: frozenset[str] | None = getattr(app.state, "declared_names", None)
    if names is None:
        found: set[str] = set(LOCATIONS)
        _collect_names(app.openapi(), found)
        names = app.state.declared_names = frozenset(found)
    return names


def _collect_names(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            found.update(name for name in properties if isinstance(name, str))
        if node.get("in") in LOCATIONS and isinstance(node.get("name"), str):
            found.add(node["name"])
        for child in node.values():
            _collect_names(child, found)
    elif isinstance(node, list):
        for child in node:
            _collect_names(child, found)


def _message(error: Mapping[str, Any]) -> str:
    """The rule of one problem: a validator's own text without the quoted values (or the
    input) it may carry; long digit runs (a NIP) masked in any message."""
    msg = str(error.get("msg", ""))
    if error.get("type") in _OWN_TEXT:
        msg = _QUOTED.sub(VALUE_PLACEHOLDER, msg)
        sent = error.get("input")
        if isinstance(sent, str) and len(sent) >= 3 and sent in msg:
            msg = msg.replace(sent, VALUE_PLACEHOLDER)
    return _DIGITS.sub("<NIP>", msg)


def issues(errors: Any, declared: frozenset[str]) -> list[dict[str, Any]]:
    """Pydantic's errors as :class:`ValidationIssue` dicts that name the field and the rule,
    never a value or key sent: ``input`` and ``ctx`` dropped, a ``loc`` element that is not
    in ``declared`` (a key of the JSON body) replaced by :data:`KEY_PLACEHOLDER`, messages
    through :func:`_message`."""
    out = []
    for error in errors:
        loc = [
            part if isinstance(part, int) or part in declared else KEY_PLACEHOLDER
            for part in error.get("loc", ())
        ]
        out.append({"loc": loc, "msg": _message(error), "type": error.get("type")})
    return out


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    # the submitted values and keys are not echoed: they may carry personal data
    if not is_api(request):
        return invalid_page(request, exc)
    detail = issues(exc.errors(), declared_names(request.app))
    return error_json(request=request, detail=detail, status_code=422)


async def _profile(request: Request, exc: ProfileError) -> Response:
    rule = PROFILE_RULES.get(exc.field, "does not fit the organisation")
    return error_json(request=request, detail=f"{exc.field}: {rule}", status_code=422)


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
    ProfileError: _profile,
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
