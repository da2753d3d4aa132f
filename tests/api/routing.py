"""The app's routes as (method, full path, parameter names), read from ``app.routes`` through
included routers, for the tests that must cover every route of a kind."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


def _walk(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # an included router (newer FastAPI)
            inner = route.original_router.routes
            yield from _walk(inner, prefix + route.include_context.prefix)


def _params(dependant: Any) -> Iterator[str]:
    for param in (*dependant.path_params, *dependant.query_params):
        yield str(param.name)
    for sub in dependant.dependencies:
        yield from _params(sub)


def app_routes(app: FastAPI) -> list[tuple[str, str, frozenset[str], APIRoute]]:
    """Every API route: (method, full path, path and query parameter names, route)."""
    return [
        (method, path, frozenset(_params(route.dependant)), route)
        for path, route in _walk(app.routes)
        for method in sorted(route.methods)
    ]
