"""The OpenAPI document's extras and its page.

* :func:`declare_keys`: the API keys in the document, the two ways a key travels, required on
  every ``/v1`` operation and on ``/metrics`` (documentation only:
  :func:`recommender.api.auth.require` does the checking).
* :func:`install_docs`: ``/docs``, Swagger UI served from the files of the ``fastapi-offline``
  package under ``/docs/assets/`` (never a CDN: it works on an offline network and runs no
  third-party code on the HR pages' origin), with a policy that allows same-origin scripts
  only. Off in production unless ``api_docs`` turns it on; ReDoc is not served (it loads from
  a CDN).
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from recommender.config import Settings

#: How the API key travels, as declared in the OpenAPI document (either header works).
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "the same key as a bearer token"},
}
#: Routes anyone may call (no key).
OPEN_PATHS = ("/v1/bench/",)
#: Routes outside ``/v1`` that need a key.
KEYED_PATHS = ("/metrics",)

#: Where Swagger UI's packaged files are served.
ASSETS = "/docs/assets"
#: The policy of the ``/docs`` page: its own scripts and styles, nothing from elsewhere.
DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API</title>
<link rel="stylesheet" href="{root}{assets}/swagger-ui.css">
<link rel="icon" href="{root}{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{root}{assets}/swagger-ui-bundle.js"></script>
<script src="{root}/docs/init.js"></script>
</body>
</html>
"""
_INIT = """window.ui = SwaggerUIBundle({{
  url: {openapi},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
"""


def declare_keys(app: FastAPI) -> None:
    """Add the API key schemes to ``app``'s OpenAPI document and require one on every ``/v1``
    operation but :data:`OPEN_PATHS`, and on :data:`KEYED_PATHS`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            doc.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for path, operations in doc.get("paths", {}).items():
                keyed = path.startswith("/v1/") and not path.startswith(OPEN_PATHS)
                if keyed or path in KEYED_PATHS:
                    for operation in operations.values():
                        operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def swagger_files() -> Path:
    """The folder of Swagger UI's packaged files (``swagger-ui-bundle.js``,
    ``swagger-ui.css``, ``favicon.png``)."""
    return Path(str(importlib.resources.files("fastapi_offline") / "static"))


def docs_enabled(settings: Settings) -> bool:
    """``settings.api_docs``, or when unset: on except in production."""
    return settings.api_docs if settings.api_docs is not None else settings.env != "production"


def install_docs(app: FastAPI, settings: Settings) -> None:
    """``GET /docs`` (the page), ``GET /docs/init.js`` (its start-up script) and the packaged
    files under :data:`ASSETS`, when :func:`docs_enabled`; nothing otherwise (404)."""
    if not docs_enabled(settings):
        return
    app.mount(ASSETS, StaticFiles(directory=swagger_files()), name="docs-assets")

    async def docs(request: Request) -> Response:
        root = str(request.scope.get("root_path", ""))
        page = _PAGE.format(title=app.title, root=root, assets=ASSETS)
        return HTMLResponse(page, headers=DOCS_HEADERS)

    async def docs_init(request: Request) -> Response:
        root = str(request.scope.get("root_path", ""))
        script = _INIT.format(openapi=json.dumps(f"{root}{app.openapi_url}"))
        return Response(script, media_type="text/javascript", headers=DOCS_HEADERS)

    # plain routes, like FastAPI's own /docs: not API operations, not HR pages
    app.add_route("/docs", docs, include_in_schema=False)
    app.add_route("/docs/init.js", docs_init, include_in_schema=False)
