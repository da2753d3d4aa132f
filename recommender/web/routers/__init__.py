"""The HR pages' routers, one module per resource (all included by
:func:`recommender.web.routes.install`)."""
