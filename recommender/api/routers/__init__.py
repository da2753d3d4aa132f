"""The API's routers, one module per resource (all included by
:func:`recommender.api.app.create_app`)."""
