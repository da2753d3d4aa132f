"""The application database: recommendation log (audit trail), events, HR reviews, API keys,
and the accounts and sessions of the HR web pages.

SQLAlchemy 2 with Alembic migrations; a SQLite file by default, PostgreSQL by URL
(``JENJANG_DATABASE_URL``). Modules: :mod:`~recommender.store.db` (engines, sessions,
``upgrade``), :mod:`~recommender.store.models` (tables), :mod:`~recommender.store.keys` (API
keys), :mod:`~recommender.store.users` (accounts, passwords, sign-in sessions),
:mod:`~recommender.store.repo` (reading and writing). See docs/store.md.
"""

from recommender.store.db import make_engine, make_sessionmaker, upgrade
from recommender.store.keys import KeyInfo, create_key, verify
from recommender.store.repo import NewEvent, PersonalDataError, RankedItem
from recommender.store.users import (
    LockedOut,
    LoginFailed,
    authenticate,
    create_user,
    end_session,
    hash_password,
    session_user,
    start_session,
    units_of,
    verify_password,
)

__all__ = [
    "KeyInfo",
    "LockedOut",
    "LoginFailed",
    "NewEvent",
    "PersonalDataError",
    "RankedItem",
    "authenticate",
    "create_key",
    "create_user",
    "end_session",
    "hash_password",
    "make_engine",
    "make_sessionmaker",
    "session_user",
    "start_session",
    "units_of",
    "upgrade",
    "verify",
    "verify_password",
]
