"""FastAPI application factory: ``create_app(settings)``; the service is built in ``lifespan``.

The identifier in paths is what the LMS knows, the NIP; it is turned into the keyed pseudonym on
arrival (:func:`recommender.api.deps.employee_key`) and never logged or stored. Responses echo
the identifier as sent.

The app is composed here from parts that each do one job:

* routers, one module per resource (:mod:`recommender.api.routers`: programmes, positions,
  plans, feedback, models, probes; :mod:`recommender.web.routers`: the HR pages), all reaching
  the service through one dependency (:data:`recommender.web.deps.ServiceDep`);
* every error mapped to HTTP in one place (:mod:`recommender.api.errors`): unknown employee
  404, bad parameters 422, model missing 503; every error answer is ``{"detail",
  "request_id"}`` and every status a route can answer is declared in the OpenAPI document,
  with the answer models of :mod:`recommender.api.schemas`;
* size, rate and concurrency limits (:mod:`recommender.api.limits`), the request id and
  metrics (:mod:`recommender.api.observe`), API keys (:mod:`recommender.api.auth`);
* the OpenAPI document's keys and its ``/docs`` page from packaged files
  (:mod:`recommender.api.openapi`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from recommender.api.auth import KeyChecker
from recommender.api.errors import install_errors
from recommender.api.limits import LimitConfig, Limits
from recommender.api.memory import limit_arenas
from recommender.api.observe import Metrics, Observe
from recommender.api.openapi import declare_keys, install_docs
from recommender.api.routers import bench as bench_routes
from recommender.api.routers import feedback, models, ops, plans, positions, programs
from recommender.config import Settings, get_settings
from recommender.service import Service
from recommender.state import build_world, load_models
from recommender.store.audit import AuditMetrics
from recommender.store.db import make_engine, make_sessionmaker, upgrade
from recommender.web.routes import install as install_pages

__all__ = ["create_app"]

#: The ``/v1`` routers, in the order their operations appear in the OpenAPI document.
V1_ROUTERS = (programs.router, positions.router, plans.router, feedback.router, models.router)


def _start(settings: Settings) -> Service:
    """The service from ``settings``: organisation as of today, champions from MLflow or the
    verified local copies, the application database migrated."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return Service(
        settings, build_world(settings), load_models(settings), make_sessionmaker(engine)
    )


def _lifespan(
    settings: Settings, service: Service | None, metrics: Metrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the service (``service``, or one built from ``settings``), the key
    checker and the audit metrics at start-up; the audit log flushed at shut-down."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = service if service is not None else _start(settings)
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

    return lifespan


def create_app(
    settings: Settings | None = None, service: Service | None = None, bench: bool | None = None
) -> FastAPI:
    """The FastAPI app. Without ``service`` one is built at start-up from ``settings``
    (organisation as of today, champions from MLflow or the verified local copies). ``bench``
    (default: env ``JENJANG_BENCH=1``) adds the benchmark-only ``GET /v1/bench/trivial``."""
    settings = settings or get_settings()
    if settings.malloc_arenas:
        limit_arenas(settings.malloc_arenas)
    metrics = Metrics()
    app = FastAPI(
        title="Jenjang",
        version="1",
        summary="Training and career-path recommendations for civil servants (ASN)",
        lifespan=_lifespan(settings, service, metrics),
        docs_url=None,  # served from packaged files by install_docs (the default uses a CDN)
        redoc_url=None,
    )
    app.state.compute_threads = settings.compute_threads
    app.state.metrics = metrics
    app.add_middleware(
        Limits,
        config=LimitConfig.from_settings(settings),
        on_refuse=lambda reason: metrics.refused.labels(reason).inc(),
    )
    app.add_middleware(Observe, metrics=metrics)  # outermost: refusals get a request id and counts
    app.include_router(ops.router)
    install_errors(app)
    for router in V1_ROUTERS:
        app.include_router(router)
    install_pages(app, settings)
    declare_keys(app)
    install_docs(app, settings)
    if bench if bench is not None else os.environ.get("JENJANG_BENCH") == "1":
        app.include_router(bench_routes.router)
    return app
