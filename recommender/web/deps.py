"""What a route reads from the app: the service, the signed-in viewer, the CSRF check.

The one way for every route, of the API (:mod:`recommender.api.routers`) and of the HR pages
(:mod:`recommender.web.routers`) alike, to reach the :class:`~recommender.service.Service` built
at start-up is the :data:`ServiceDep` dependency (``app.state.service``). It lives here, below
the API, because the API composes the pages (:func:`recommender.api.app.create_app`) and
nothing in :mod:`recommender.web` imports :mod:`recommender.api`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from recommender.service import Service
from recommender.web import auth


async def get_service(request: Request) -> Service:
    """The service built in the app's ``lifespan`` (``app.state.service``); async, so that
    FastAPI calls it on the event loop (a plain function would cost a thread hop)."""
    service: Service = request.app.state.service
    return service


def current_service(request: Request) -> Service | None:
    """The service, or None before ``lifespan`` built one (the readiness probe asks)."""
    service: Service | None = getattr(request.app.state, "service", None)
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def signed_in(*, request: Request, service: Service) -> auth.Viewer:
    """The signed-in viewer of a page. Raises LoginRequiredError (back to this page after
    sign-in for a GET, to the home page after a form), StoreUnavailableError (503) when the
    session cannot be checked."""
    viewer = None
    if service.store is not None:
        viewer = auth.viewer_of(service.store, request.cookies.get(auth.SESSION_COOKIE))
    if viewer is None:
        back = "/"
        if request.method == "GET":
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise auth.LoginRequiredError(back)
    return viewer


def check_csrf(*, viewer: auth.Viewer, sent: str) -> None:
    """Raise CsrfError (403) unless ``sent`` is the session's CSRF token."""
    if not auth.same_token(sent, viewer.csrf):
        raise auth.CsrfError()
