"""The application database: recommendation log (audit trail), events, HR reviews, API keys.

SQLAlchemy 2 with Alembic migrations; a SQLite file by default, PostgreSQL by URL
(``JENJANG_DATABASE_URL``). Modules: :mod:`~recommender.store.db` (engines, sessions,
``upgrade``), :mod:`~recommender.store.models` (tables), :mod:`~recommender.store.keys` (API
keys), :mod:`~recommender.store.repo` (reading and writing). See docs/store.md.
"""

from recommender.store.db import make_engine, make_sessionmaker, upgrade
from recommender.store.keys import KeyInfo, create_key, verify
from recommender.store.repo import NewEvent, PersonalDataError, RankedItem

__all__ = [
    "KeyInfo",
    "NewEvent",
    "PersonalDataError",
    "RankedItem",
    "create_key",
    "make_engine",
    "make_sessionmaker",
    "upgrade",
    "verify",
]
