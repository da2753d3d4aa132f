"""The model page: versions in use and their offline figures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from recommender.web.deps import ServiceDep, signed_in
from recommender.web.models_page import RunFigures
from recommender.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, service: ServiceDep) -> HTMLResponse:
    """The models in use with their offline figures from the MLflow runs."""
    viewer = signed_in(request=request, service=service)
    figures: RunFigures = request.app.state.run_figures
    models = []
    for bundle in service.models.bundles.values():
        described = bundle.describe()
        models.append({**described, "figures": figures.get(str(described.get("run_id")))})
    return render(request, "models.html", {"models": models}, viewer)
