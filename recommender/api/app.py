"""FastAPI application factory: ``create_app(settings)``; the service is built in ``lifespan``.

The identifier in paths is what the LMS knows, the NIP; it is turned into the keyed pseudonym on
arrival (:func:`employee_key`) and never logged or stored. Responses echo the identifier as sent.
Errors map to HTTP in one place: unknown employee 404, bad parameters 422, model missing 503;
every error answer is ``{"detail", "request_id"}`` (:class:`ErrorBody`) and every status a route
can answer is declared in the OpenAPI document. Size, rate and concurrency limits:
:mod:`recommender.api.limits`.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import (
    APIRouter,
    Body,
    Depends,
    FastAPI,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recommender.api.auth import KeyChecker, require
from recommender.api.events import BatchTooLargeError
from recommender.api.limits import LimitConfig, Limits
from recommender.api.memory import limit_arenas
from recommender.config import Settings, get_settings
from recommender.data.normalize import parse_nip
from recommender.programs.coldstart import Profile, ProfileError
from recommender.programs.reasons import language
from recommender.pseudonym import PREFIX, pseudonymise
from recommender.service import (
    Answer,
    AuditMetrics,
    ModelUnavailableError,
    Service,
    UnknownEmployeeError,
    build_world,
    load_models,
)
from recommender.store.db import StoreUnavailableError, make_engine, make_sessionmaker, upgrade
from recommender.store.keys import KeyInfo

log = logging.getLogger(__name__)
T = TypeVar("T")
NOT_FOUND = "no active employee with this identifier"
#: Paths answered in JSON; everything else is an HTML page of the HR site.
API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/redoc")


def employee_key(identifier: str, settings: Settings) -> str:
    """NIP (any spelling) -> pseudonym; raises UnknownEmployeeError when it is not a valid NIP."""
    if identifier.startswith(PREFIX) and settings.env != "production":
        return identifier  # development convenience: pseudonyms from the clean tables
    try:
        nip = parse_nip(identifier)
    except ValueError:
        raise UnknownEmployeeError("invalid identifier") from None
    return pseudonymise(nip, settings.pseudonym_key.get_secret_value())


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


class Metrics:
    """Prometheus request counters and latency histograms (one registry per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "jenjang_requests_total", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "jenjang_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.audit_queue = Gauge(
            "jenjang_audit_queue",
            "Served lists waiting to be written to the recommendation log",
            registry=self.registry,
        )
        self.refused = Counter(
            "jenjang_refused_total",
            "Requests refused by a limit (url, headers, length, body, rate, busy)",
            ["reason"],
            registry=self.registry,
        )


async def get_service(request: Request) -> Service:
    """The service built in ``lifespan``."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
EmployeeId = Annotated[str, Path(min_length=1, max_length=64, description="NIP of the employee")]


async def _lang(request: Request) -> str:
    """The answer's language from ``Accept-Language`` (Indonesian by default)."""
    accept_language = request.headers.get("accept-language")
    return language(accept_language)


LangDep = Annotated[str, Depends(_lang)]
LmsKey = Annotated[KeyInfo, Depends(require("lms"))]
AdminKey = Annotated[KeyInfo, Depends(require("admin"))]
AnyKey = Annotated[KeyInfo, Depends(require(None))]


def _visible_key(employee: str, key: KeyInfo, service: Service) -> str:
    """Pseudonym of a person the key may see; UnknownEmployeeError (404) otherwise."""
    pid = employee_key(employee, service.settings)
    service.visible(pid, key.units)
    return pid


def _compute_threads(request: Request) -> CapacityLimiter | None:
    """The app's limiter of compute threads (``Settings.compute_threads``), made on first use
    inside the event loop; None when answers are computed on the event loop (0 threads)."""
    state = request.app.state
    if not state.compute_threads:
        return None
    limiter: CapacityLimiter | None = getattr(state, "compute", None)
    if limiter is None:
        limiter = state.compute = CapacityLimiter(state.compute_threads)
    return limiter


async def _compute(request: Request, work: Callable[[], T]) -> T:
    """``work()`` on a compute thread, or inline when there are none; its exceptions propagate."""
    limiter = _compute_threads(request)
    if limiter is None:
        return work()
    return await to_thread.run_sync(work, limiter=limiter)


async def _answer(
    request: Request,
    service: Service,
    key: tuple[Hashable, ...],
    build: Callable[[], dict[str, Any]],
    item_key: str,
) -> Answer:
    """The cached answer at once; on a miss, built on one of the compute threads, so the event
    loop keeps reading new requests (and refusing the excess, :mod:`recommender.api.limits`)
    while answers are computed. Exceptions of ``build`` propagate unchanged."""
    hit = service.peek(key)
    if hit is not None:
        return hit
    return await _compute(request, lambda: service.cached(key, build, item_key))


def _respond(request: Request, sent_id: str, answer: Answer, lang: str) -> Response:
    """The answer with its envelope (request id, the identifier as sent, language), spliced
    into the cached JSON without decoding it."""
    head = json.dumps(
        {"request_id": request.state.request_id, "employee": sent_id, "language": lang}
    ).encode()
    return Response(head[:-1] + b"," + answer.body[1:], media_type="application/json")


class ColdStartRequest(BaseModel):
    """``POST /v1/recommendations/programs``: a profile and the usual options."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    k: int = Field(10, ge=1, le=50)
    modality: str | None = Field(None, max_length=40)
    accredited_only: bool = False
    year: int | None = Field(None, ge=2000, le=2100)


def _routes() -> APIRouter:
    r = APIRouter(prefix="/v1", responses=COMMON_ERRORS)

    @r.get(
        "/employees/{employee}/recommendations/programs",
        tags=["recommendations"],
        responses=EMPLOYEE_ERRORS,
    )
    async def programs(
        request: Request,
        service: ServiceDep,
        key: LmsKey,
        lang: LangDep,
        employee: EmployeeId,
        k: Annotated[int, Query(ge=1, le=50)] = 10,
        modality: Annotated[str | None, Query(max_length=40)] = None,
        accredited_only: bool = False,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    ) -> Response:
        """Ranked programmes for one employee, with scores, reason codes and reasons."""
        pid = _visible_key(employee, key, service)
        answer = await _answer(
            request,
            service,
            (pid, "programs", k, modality, accredited_only, year, lang),
            lambda: service.programs(pid, k, modality, accredited_only, year, lang),
            "program_id",
        )
        service.record(request.state.request_id, pid, "programs", answer, lang)
        return _respond(request, employee, answer, lang)

    @r.get(
        "/employees/{employee}/recommendations/positions",
        tags=["recommendations"],
        responses=EMPLOYEE_ERRORS,
    )
    async def positions(
        request: Request,
        service: ServiceDep,
        key: LmsKey,
        lang: LangDep,
        employee: EmployeeId,
        k: Annotated[int, Query(ge=1, le=20)] = 5,
    ) -> Response:
        """Next positions with eligibility in words, readiness (JPM, category, gaps), reasons."""
        pid = _visible_key(employee, key, service)
        answer = await _answer(
            request,
            service,
            (pid, "positions", k, lang),
            lambda: service.positions(pid, k, lang),
            "position_id",
        )
        service.record(request.state.request_id, pid, "positions", answer, lang)
        return _respond(request, employee, answer, lang)

    @r.get(
        "/employees/{employee}/development-plan",
        tags=["recommendations"],
        responses=EMPLOYEE_ERRORS,
    )
    async def development_plan(
        request: Request,
        service: ServiceDep,
        key: LmsKey,
        lang: LangDep,
        employee: EmployeeId,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        budget: Annotated[float | None, Query(ge=0, le=1e12, description="IDR")] = None,
    ) -> Response:
        """A yearly plan of at least 20 JP within the budget; when none fits, why not."""
        pid = _visible_key(employee, key, service)
        answer = await _answer(
            request,
            service,
            (pid, "plan", year, budget, lang),
            lambda: service.plan(pid, year, budget, lang),
            "program_id",
        )
        service.record(request.state.request_id, pid, "plan", answer, lang)
        return _respond(request, employee, answer, lang)

    @r.post("/recommendations/programs", tags=["recommendations"], responses=SCOPE_ERROR)
    async def cold_start(
        request: Request,
        service: ServiceDep,
        _key: LmsKey,
        lang: LangDep,
        body: ColdStartRequest,
    ) -> dict[str, Any]:
        """Programmes for a person not yet in the data, from an inline profile (position,
        grade, education, assessed levels, completed programmes...)."""
        try:
            answer = await _compute(
                request,
                lambda: service.cold_start(
                    body.profile, body.k, body.modality, body.accredited_only, body.year, lang
                ),
            )
        except ProfileError as exc:
            raise HTTPException(422, str(exc)) from exc
        return {"request_id": request.state.request_id, "language": lang, **answer}

    @r.post("/events", tags=["feedback"], responses=SCOPE_ERROR)
    def events(
        service: ServiceDep,
        key: LmsKey,
        batch: Annotated[list[Any] | dict[str, Any], Body()],
    ) -> dict[str, Any]:
        """A batch of simple events or xAPI statements (a JSON array, or ``{"events": [...]}``);
        bad items are reported one by one, the good ones kept; replays change nothing."""
        items = batch.get("events") if isinstance(batch, dict) else batch
        if not isinstance(items, list):
            raise HTTPException(422, 'send a JSON array of events, or {"events": [...]}')
        try:
            return service.ingest_events(items, key.units)
        except BatchTooLargeError as exc:
            raise HTTPException(413, str(exc)) from exc

    @r.get("/models", tags=["operations"])
    def models(service: ServiceDep, _key: AnyKey) -> dict[str, Any]:
        """Loaded models: name, registry version, MLflow run id, hash, source, load time."""
        return service.describe_models()

    @r.post("/admin/reload", tags=["operations"], responses=SCOPE_ERROR)
    def reload(service: ServiceDep, _key: AdminKey) -> dict[str, Any]:
        """Reload the champions and the organisation; a model failing verification is kept at
        its previous version."""
        return service.reload()

    return r


def _bench_routes() -> APIRouter:
    """Benchmarks only (``jenjang bench serve``): ``GET /v1/bench/trivial?k=`` answers a static
    body of the shape and size of a programme answer with ``k`` items (about 4.1 kB for 10),
    through the same middleware and serialisation but with no key check and no service work."""
    r = APIRouter(prefix="/v1/bench", include_in_schema=False)
    item = {
        "program_id": "PT000",
        "title": "Pelatihan Jarak Jauh Penyusunan Program Pelatihan Kompetensi",
        "modality": "pjj",
        "jp": 31,
        "cost_idr": 2420000,
        "lan_accredited": False,
        "score": -0.259381,
        "reason_codes": ["PRIORITY", "PEERS", "SIMILAR"],
        "reasons": [
            "Selaras dengan prioritas organisasi tahun 2026",
            "Banyak diikuti pegawai pada jabatan yang sama",
            "Serupa dengan pelatihan yang pernah Anda ikuti",
        ],
    }
    head = {"employee": "e_benchbenchbenchb", "language": "id"}
    model = {"model": {"name": "jenjang-programs", "version": "1"}, "year": 2026}
    bodies = {
        k: {**head, **model, "items": [{"rank": i, **item} for i in range(1, k + 1)]}
        for k in range(1, 51)
    }

    @r.get("/trivial")
    async def trivial(
        request: Request, k: Annotated[int, Query(ge=1, le=50)] = 10
    ) -> dict[str, Any]:
        return {"request_id": request.state.request_id, **bodies[k]}

    return r


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # the documented error shape, with the request id, for every HTTPException
        return JSONResponse(
            {"detail": exc.detail, "request_id": request.state.request_id},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # the submitted values are not echoed: they may carry personal data
        if not request.url.path.startswith(API_PREFIXES):
            from recommender.web.routes import invalid_page

            return invalid_page(request, exc)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            {"detail": errors, "request_id": request.state.request_id}, status_code=422
        )

    @app.exception_handler(UnknownEmployeeError)
    async def _unknown(request: Request, exc: UnknownEmployeeError) -> JSONResponse:
        return JSONResponse(
            {"detail": NOT_FOUND, "request_id": request.state.request_id}, status_code=404
        )

    @app.exception_handler(ModelUnavailableError)
    async def _unavailable(request: Request, exc: ModelUnavailableError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "request_id": request.state.request_id}, status_code=503
        )

    @app.exception_handler(StoreUnavailableError)
    async def _store_down(request: Request, exc: StoreUnavailableError) -> Response:
        retry = {"Retry-After": str(exc.retry_after)}
        if not request.url.path.startswith(API_PREFIXES):
            from recommender.web.routes import unavailable_page

            return unavailable_page(request, exc.retry_after)
        body = {"detail": str(exc), "request_id": request.state.request_id}
        return JSONResponse(body, status_code=503, headers=retry)


class Observe:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): a request id in
    ``request.state.request_id`` and the ``X-Request-ID`` header, and Prometheus counts and
    latency per route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            name = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(name, str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)


def _install_observability(app: FastAPI, metrics: Metrics) -> None:
    app.add_middleware(Observe, metrics=metrics)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={503: {"description": "not ready: no organisation or no programme model"}},
    )
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the organisation and the programme model are loaded."""
        service: Service | None = getattr(request.app.state, "service", None)
        ready = service is not None and service.ready()
        body = {"ready": ready, **(service.describe_models() if service else {})}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


#: How the API key travels, as declared in the OpenAPI document (either header works).
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "the same key as a bearer token"},
}
#: Routes anyone may call (no key).
OPEN_PATHS = ("/v1/bench/",)


def _declare_keys(app: FastAPI) -> None:
    """Add the API key schemes to the OpenAPI document and require one on every ``/v1``
    operation (documentation only: :func:`recommender.api.auth.require` does the checking)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            doc.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for path, operations in doc.get("paths", {}).items():
                if path.startswith("/v1/") and not path.startswith(OPEN_PATHS):
                    for operation in operations.values():
                        operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None, service: Service | None = None, bench: bool | None = None
) -> FastAPI:
    """The FastAPI app. Without ``service`` one is built at start-up from ``settings``
    (organisation as of today, champions from MLflow or the verified local copies). ``bench``
    (default: env ``JENJANG_BENCH=1``) adds the benchmark-only ``GET /v1/bench/trivial``."""
    settings = settings or get_settings()
    if settings.malloc_arenas:
        limit_arenas(settings.malloc_arenas)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = service
        if current is None:
            engine = make_engine(settings.database_url)
            upgrade(engine)
            current = Service(
                settings, build_world(settings), load_models(settings), make_sessionmaker(engine)
            )
        if current.store is None:
            raise RuntimeError("the service needs an application database (JENJANG_DATABASE_URL)")
        app.state.service = current
        app.state.keys = KeyChecker(current.store)
        log_writer = current.log
        metrics.audit_queue.set_function(lambda: log_writer.pending() if log_writer else 0)
        if log_writer is not None:
            metrics.registry.register(AuditMetrics(log_writer))
        yield
        if current.log is not None:
            current.log.flush()

    app = FastAPI(
        title="Jenjang",
        version="1",
        summary="Training and career-path recommendations for civil servants (ASN)",
        lifespan=lifespan,
    )
    app.state.compute_threads = settings.compute_threads
    metrics = Metrics()
    app.add_middleware(
        Limits,
        config=LimitConfig.from_settings(settings),
        on_refuse=lambda reason: metrics.refused.labels(reason).inc(),
    )
    _install_observability(app, metrics)  # outermost: refusals get a request id and counts
    _install_errors(app)
    app.include_router(_routes())
    from recommender.web.routes import install as install_pages

    install_pages(app, settings)
    _declare_keys(app)
    if bench if bench is not None else os.environ.get("JENJANG_BENCH") == "1":
        app.include_router(_bench_routes())
    return app
