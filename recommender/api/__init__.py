"""The HTTP edge: FastAPI app factory, routes, auth and event parsing."""
