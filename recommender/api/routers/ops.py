"""Probes and metrics: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics``
(Prometheus). Never rate or concurrency limited (:data:`recommender.api.limits.EXEMPT_PATHS`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from recommender.api.deps import current_service
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
    """Readiness: the organisation and the programme model are loaded."""
    service = current_service(request)
    ready = service is not None and service.ready()
    body = {"ready": ready, **(service.describe_models() if service else {})}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(request: Request) -> Response:
    """Prometheus metrics of this process."""
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
