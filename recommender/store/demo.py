"""The demo credentials ``jenjang serve --demo`` makes, and their refusal in production.

The demo writes its accounts' passwords and its API keys in clear into the demo folder
(``.demo-users.json``, ``.demo-keys.json``), so a production service must not accept them: it
refuses to start while any of them is active (:func:`active_demo_credentials`). Disable the
accounts (``jenjang users disable demo.admin``) and revoke the keys (``jenjang keys revoke``)
to start.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

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
