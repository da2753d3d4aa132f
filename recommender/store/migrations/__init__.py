"""Alembic migrations of the application database (run by :func:`recommender.store.db.upgrade`)."""
