"""The loaded models, and reloading them (operations)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from recommender.api.answers import as_json
from recommender.api.deps import AdminKey, AnyKey, ServiceDep
from recommender.api.errors import COMMON_ERRORS, SCOPE_ERROR
from recommender.api.schemas import ModelsAnswer

router = APIRouter(prefix="/v1", tags=["operations"], responses=COMMON_ERRORS)


@router.get("/models", response_model=ModelsAnswer)
def models(service: ServiceDep, _key: AnyKey) -> Response:
    """Loaded models: name, registry version, MLflow run id, hash, source, load time."""
    return as_json(service.describe_models())


@router.post("/admin/reload", response_model=ModelsAnswer, responses=SCOPE_ERROR)
def reload(service: ServiceDep, _key: AdminKey) -> Response:
    """Reload the champions and the organisation; a model failing verification is kept at
    its previous version."""
    return as_json(service.reload())
