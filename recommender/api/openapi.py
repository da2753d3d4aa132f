"""The API keys in the OpenAPI document: the two ways a key travels, required on every
``/v1`` operation (documentation only: :func:`recommender.api.auth.require` does the
checking)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

#: How the API key travels, as declared in the OpenAPI document (either header works).
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "the same key as a bearer token"},
}
#: Routes anyone may call (no key).
OPEN_PATHS = ("/v1/bench/",)


def declare_keys(app: FastAPI) -> None:
    """Add the API key schemes to ``app``'s OpenAPI document and require one on every ``/v1``
    operation but :data:`OPEN_PATHS`."""
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
