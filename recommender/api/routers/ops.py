"""Probes and metrics: ``/healthz`` (liveness), ``/readyz`` (readiness: ready or not, nothing
else), ``/metrics`` (Prometheus, admin key). Never rate or concurrency limited
(:data:`recommender.api.limits.EXEMPT_PATHS`). The loaded models' details (versions, run ids,
hashes, load times) are on ``GET /v1/models``, behind a key."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from recommender.api.deps import AdminKey, current_service
from recommender.api.errors import KEY_ERRORS
from recommender.api.observe import Metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "not ready: no organisation or no programme model"}},
)
def readyz(request: Request) -> JSONResponse:
    """Readiness: ``{"ready": true}`` (200) once the organisation and the programme model are
    loaded, ``{"ready": false}`` (503) before; which models are loaded: ``GET /v1/models``."""
    service = current_service(request)
    ready = service is not None and service.ready()
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses=KEY_ERRORS,
)
def prometheus(request: Request, _key: AdminKey) -> Response:
    """Prometheus metrics of this process (an ``admin`` key: ``Authorization: Bearer`` or
    ``X-API-Key``)."""
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
