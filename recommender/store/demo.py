"""The demo credentials ``jenjang serve --demo`` makes, and their refusal in production.

All demo provisioning is here (:func:`provision_demo`): the database migrated, an ``lms`` and
an ``admin`` API key, an HR admin and a reviewer account, their secrets in the demo folder,
and the lines the command prints (:func:`demo_instructions`).

The demo writes its accounts' passwords and its API keys in clear into the demo folder
(``.demo-users.json``, ``.demo-keys.json``), so a production service must not accept them: it
refuses to start while any of them is active (:func:`active_demo_credentials`). Disable the
accounts (``jenjang users disable demo.admin``) and revoke the keys (``jenjang keys revoke``)
to start.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recommender.config import Settings
from recommender.store import users
from recommender.store.db import make_engine, make_sessionmaker, upgrade
from recommender.store.keys import create_key, verify
from recommender.store.models import ApiKey, User

#: Accounts of the HR pages that the demo makes (names as stored, lower-case).
DEMO_USERNAMES = ("demo.admin", "demo.reviewer")
#: Labels of the API keys that the demo makes.
DEMO_KEY_LABELS = ("demo lms", "demo admin")


def active_demo_credentials(session: Session) -> list[str]:
    """Demo accounts not disabled (``user demo.admin``) and demo keys not revoked
    (``key k_...``), sorted; empty when none is left."""
    names = session.scalars(
        select(User.username).where(User.username.in_(DEMO_USERNAMES), User.disabled_at.is_(None))
    ).all()
    keys = session.scalars(
        select(ApiKey.key_id).where(ApiKey.label.in_(DEMO_KEY_LABELS), ApiKey.revoked_at.is_(None))
    ).all()
    return sorted(f"user {n}" for n in names) + sorted(f"key {k}" for k in keys)


def production_refusal(session: Session) -> str | None:
    """The message a production start-up fails with while demo credentials are active, or
    None."""
    found = active_demo_credentials(session)
    if not found:
        return None
    return (
        "refusing to start with JENJANG_ENV=production: the application database holds the "
        f"demo credentials of `jenjang serve --demo` ({', '.join(found)}), whose secrets are "
        "kept in clear in the demo folder; disable them (`jenjang users disable NAME`) and "
        "revoke them (`jenjang keys revoke KEY_ID`) first"
    )


# ------------------------------------------------------------------------- demo provisioning
#: File names of the demo secrets, in the demo folder (``JENJANG_DATA_DIR``), mode 600.
KEYS_FILE = ".demo-keys.json"
USERS_FILE = ".demo-users.json"


@dataclass(frozen=True)
class DemoSetup:
    """What ``jenjang serve --demo`` made or found: ``keys`` scope -> API key (``lms``,
    ``admin``) and the file keeping them; ``logins`` (``admin``, ``admin_password``,
    ``reviewer``, ``reviewer_password``, ``unit``) and the file keeping them; ``employee`` the
    pseudonym of the example employee."""

    keys: dict[str, str]
    keys_file: Path
    logins: dict[str, str]
    users_file: Path
    employee: str


def provision_demo(*, settings: Settings) -> DemoSetup:
    """Migrate the application database, make (once) an lms and an admin demo key and a demo
    HR admin and reviewer, their secrets kept in the demo folder (mode 600).

    Reads ``employees.parquet`` of the clean folder (the example employee, the reviewer's
    unit). Raises OSError when a file cannot be read or written, SQLAlchemyError on a database
    error."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    keys_file = settings.data_dir / KEYS_FILE
    keys = demo_keys(factory=factory, path=keys_file)
    emp = pd.read_parquet(
        settings.clean_dir / "employees.parquet", columns=["employee_id", "unit_id", "status"]
    )
    users_file = settings.data_dir / USERS_FILE
    logins = demo_users(factory=factory, path=users_file, employees=emp)
    return DemoSetup(keys, keys_file, logins, users_file, str(emp["employee_id"].iloc[0]))


def demo_keys(*, factory: sessionmaker[Session], path: Path) -> dict[str, str]:
    """The demo API keys kept at ``path`` ({"lms": key, "admin": key}), such that the database
    of ``factory`` holds them (active, by hash, with their scope).

    The file's keys are used when the database holds both; otherwise (a new database with an
    old demo folder, a revoked key, a missing or unreadable file) two keys are made and the
    file is rewritten (mode 600): the keys ``serve --demo`` prints always work (issue 22).
    """
    found = _read_keys(path)
    if found is not None:
        with factory() as session:
            if all(_holds(session, scope, found[scope]) for scope in ("lms", "admin")):
                return found
    with factory.begin() as session:
        made = {
            "lms": create_key(session, ["lms"], label="demo lms"),
            "admin": create_key(session, ["admin"], label="demo admin"),
        }
    path.write_text(json.dumps(made))
    path.chmod(0o600)
    return made


def _read_json(path: Path) -> dict[str, object] | None:
    """The JSON object of a demo file; None when it is missing, damaged or not an object (the
    caller makes the secrets again)."""
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _read_keys(path: Path) -> dict[str, str] | None:
    """The keys of a demo keys file; None when it is missing or not {"lms": .., "admin": ..}."""
    found = _read_json(path)
    if found is None or not all(isinstance(found.get(s), str) for s in ("lms", "admin")):
        return None
    return {scope: str(found[scope]) for scope in ("lms", "admin")}


def _holds(session: Session, scope: str, key: str) -> bool:
    """True if the database holds ``key`` (by hash), active and with ``scope``."""
    info = verify(session, key)
    return info is not None and info.has_scope(scope)


def demo_users(
    *, factory: sessionmaker[Session], path: Path, employees: pd.DataFrame
) -> dict[str, str]:
    """Make (once) a demo HR admin and a demo reviewer bound to the unit with most active
    staff (``employees``: employee_id, unit_id, status); passwords are random and kept at
    ``path`` (mode 600). Returns the logins (see :class:`DemoSetup`).

    The file's logins are used when both accounts exist in the database of ``factory`` with
    those passwords; otherwise (a new database, or demo accounts made there from another demo
    folder) the accounts are made or given new passwords and the file is rewritten."""
    found = _read_json(path)
    if found is not None:
        with factory() as session:
            if _signs_in(session, found):
                return {k: str(v) for k, v in found.items()}
    active = employees[employees["status"] == "active"]
    unit = str(active["unit_id"].value_counts().index[0])
    logins = {
        "admin": "demo.admin",
        "admin_password": secrets.token_urlsafe(9),
        "reviewer": "demo.reviewer",
        "reviewer_password": secrets.token_urlsafe(9),
        "unit": unit,
    }
    with factory.begin() as session:
        _save_demo_users(session, logins)
    path.write_text(json.dumps(logins))
    path.chmod(0o600)
    return logins


def _signs_in(session: Session, logins: dict[str, object]) -> bool:
    """True if both demo accounts exist with the passwords of ``logins`` (checked without
    signing in: no failure is counted) and the file names the reviewer's unit."""
    if not isinstance(logins.get("unit"), str):
        return False
    for role in ("admin", "reviewer"):
        name, password = logins.get(role), logins.get(f"{role}_password")
        if not isinstance(name, str) or not isinstance(password, str):
            return False
        user = users.get_user(session, name)
        if user is None or not users.verify_password(password, user.password_hash):
            return False
    return True


def _save_demo_users(session: Session, logins: dict[str, str]) -> None:
    for name in DEMO_USERNAMES:
        if users.get_user(session, name) is not None:
            users.set_password(session, name, logins[f"{name[5:]}_password"])
    if users.get_user(session, "demo.admin") is None:
        users.create_user(
            session,
            username="demo.admin",
            password=logins["admin_password"],
            role="admin",
            units=None,
        )
    if users.get_user(session, "demo.reviewer") is None:
        users.create_user(
            session,
            username="demo.reviewer",
            password=logins["reviewer_password"],
            role="reviewer",
            units=[logins["unit"]],
        )


def demo_instructions(*, setup: DemoSetup, host: str, port: int) -> list[str]:
    """The lines ``jenjang serve --demo`` prints: where the service starts, the demo sign-in
    and API keys, and example requests for the demo employee (by pseudonym: no NIP)."""
    base, logins, keys = f"http://{host}:{port}", setup.logins, setup.keys
    who = setup.employee
    h = f"-H 'X-API-Key: {keys['lms']}'"
    examples = (
        f"curl {h} {base}/v1/employees/{who}/recommendations/programs?k=5",
        f"curl {h} -H 'Accept-Language: en' {base}/v1/employees/{who}/recommendations/positions",
        f"curl {h} '{base}/v1/employees/{who}/development-plan?budget=15000000'",
        f"curl -H 'X-API-Key: {keys['admin']}' -X POST {base}/v1/admin/reload",
    )
    return [
        f"Jenjang is starting on {base} (OpenAPI docs: {base}/docs)",
        f"HR pages: {base}/  demo sign-in (also in {setup.users_file}):",
        f"  reviewer  {logins['reviewer']} / {logins['reviewer_password']}"
        f"  (unit {logins['unit']})\n  HR admin  {logins['admin']} / {logins['admin_password']}",
        f"demo API keys (also in {setup.keys_file}):",
        f"  lms   {keys['lms']}\n  admin {keys['admin']}",
        "try (the demo accepts pseudonyms as ids; the LMS sends NIPs):",
        *(f"  {line}" for line in examples),
    ]
