"""The HR pages: sign-in, units, employees (review), review queue, training-needs report with
CSV/XLSX export, and the model page. Server-rendered with Jinja2, no JavaScript.

Every page needs a session (else a redirect to ``/login``); a reviewer sees only the units
bound to the account and the units below them: anything else answers 404, whether reached by a
link or by editing the URL. Every form carries the session's CSRF token.

One router per resource (:mod:`recommender.web.routers`); the service is reached through
:data:`recommender.web.deps.ServiceDep`, like the API's routes; the pages' errors are mapped
with the API's in :mod:`recommender.api.errors`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from recommender.config import Settings
from recommender.web import auth
from recommender.web.models_page import RunFigures
from recommender.web.render import HERE
from recommender.web.routers import account, employees, models, needs, units

#: The pages' routers, in the order their routes are matched.
ROUTERS = (account.router, units.router, employees.router, needs.router, models.router)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the HR pages, their static files and their sign-in throttles to ``app`` (their
    error pages: :func:`recommender.api.errors.install_errors`)."""
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.login_throttle = auth.Throttle()
    app.state.name_throttle = auth.Throttle(limit=auth.NAME_MAX)
    app.state.run_figures = RunFigures(settings)
