"""``jenjang users``: accounts of the HR web pages (roles reviewer, admin)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table as RichTable

from recommender.cli.common import DataOpt, JsonOpt, UrlOpt, console, err, fail, settings
from recommender.cli.db import upgraded_session

if TYPE_CHECKING:
    from recommender.store.models import User

users_app = typer.Typer(
    no_args_is_help=True, help="Accounts of the HR web pages (roles reviewer, admin)."
)
PasswordOpt = Annotated[
    str,
    typer.Option(
        "--password",
        prompt="Password",
        hide_input=True,
        confirmation_prompt=True,
        help="8 to 256 characters (default: asked twice, hidden).",
        show_default=False,
    ),
]

# recommender.store.users (SQLAlchemy) is imported inside the commands: `jenjang --help` stays
# fast


def check_unit_ids(*, units: list[str], data: Path | None) -> None:
    """Refuse unit ids missing from the clean ``units`` table (exit 2); warn without one."""
    folder = data or settings().clean_dir
    path = Path(folder) / "units.parquet"
    if not path.is_file():
        err.print(
            f"[yellow]warning:[/yellow] no clean units table at {escape(str(path))}: "
            "unit ids not checked",
            highlight=False,
        )
        return
    try:
        known = set(pd.read_parquet(path, columns=["unit_id"])["unit_id"].astype(str))
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(
            f"[red]error:[/red] cannot read {escape(str(path))}: {escape(reason)}",
            highlight=False,
        )
        raise typer.Exit(2) from exc
    unknown = sorted({u.strip() for u in units if u.strip()} - known)
    if unknown:
        err.print(
            f"[red]error:[/red] --unit: unknown unit {escape(', '.join(unknown))} "
            f"(not in {escape(str(path))})",
            highlight=False,
        )
        raise typer.Exit(2)


@users_app.command("create")
def users_create(
    username: Annotated[
        str, typer.Option("--username", help="3 to 64 of a-z 0-9 . _ - (stored lower-cased).")
    ],
    role: Annotated[str, typer.Option("--role", help="reviewer or admin.")],
    password: PasswordOpt,
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="A unit a reviewer sees (repeatable; required for reviewer)."),
    ] = None,
    data: DataOpt = None,
    url: UrlOpt = None,
) -> None:
    """Make an account of the HR pages: a reviewer (some units) or an admin (every unit).

    Unit ids are checked against the clean units table when there is one.
    """
    from recommender.store import users

    units = [u for u in unit or () if u.strip()]
    try:
        users.normalise_username(username)
        if role not in users.ROLES:
            raise ValueError(f"--role must be {' or '.join(users.ROLES)}")
        users.check_password(password)
    except ValueError as exc:
        fail(exc=exc)
    if units and role == "reviewer":
        check_unit_ids(units=units, data=data)
    try:
        with upgraded_session(url=url) as session:
            user = users.create_user(
                session, username=username, password=password, role=role, units=units or None
            )
            name, scope = user.username, users.units_of(user)
    except (ValueError, LookupError) as exc:
        fail(exc=exc)
    seen = "all units" if scope is None else "units " + ", ".join(sorted(scope))
    console.print(f"created {role} {escape(name)}: {escape(seen)}", highlight=False)


def _user_row(u: User) -> dict[str, Any]:
    return {
        "username": u.username,
        "user_id": u.user_id,
        "role": u.role,
        "units": None if u.units is None else list(u.units),
        "created_at": u.created_at.isoformat(),
        "last_login_at": None if u.last_login_at is None else u.last_login_at.isoformat(),
        "disabled_at": None if u.disabled_at is None else u.disabled_at.isoformat(),
        "locked_until": None if u.locked_until is None else u.locked_until.isoformat(),
        "failed_logins": u.failed_logins,
    }


@users_app.command("list")
def users_list(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """List accounts (name, role, units, dates, lock); never the password hashes."""
    from recommender.store import users

    with upgraded_session(url=url) as session:
        rows = [_user_row(u) for u in users.list_users(session)]
    if as_json:
        print(json.dumps({"users": rows}))
        return
    if not rows:
        console.print(
            "no users yet: `jenjang users create --username NAME --role admin`", highlight=False
        )
        return
    table = RichTable(title="Users of the HR pages")
    table.add_column("username", no_wrap=True)
    for col in ("role", "units", "created", "last sign-in", "disabled", "locked until"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            escape(str(r["username"])),
            str(r["role"]),
            "all" if r["units"] is None else escape(", ".join(r["units"])),
            str(r["created_at"])[:10],
            str(r["last_login_at"] or "")[:16].replace("T", " "),
            str(r["disabled_at"] or "")[:10],
            str(r["locked_until"] or "")[:19].replace("T", " "),
        )
    console.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The account to disable.")],
    url: UrlOpt = None,
) -> None:
    """Disable an account: it can no longer sign in and its sessions end at once."""
    from recommender.store import users

    try:
        with upgraded_session(url=url) as session:
            changed = users.disable_user(session, username)
    except LookupError as exc:
        fail(exc=exc)
    name = escape(username.strip().lower())
    console.print(f"user {name} " + ("disabled" if changed else "was already disabled"))


@users_app.command("password")
def users_password(
    username: Annotated[str, typer.Argument(help="The account whose password to set.")],
    password: PasswordOpt,
    url: UrlOpt = None,
) -> None:
    """Set a new password (asked twice, hidden); also unlocks the account and ends its
    sessions."""
    from recommender.store import users

    try:
        users.check_password(password)
        with upgraded_session(url=url) as session:
            users.set_password(session, username, password)
    except (ValueError, LookupError) as exc:
        fail(exc=exc)
    console.print(f"password of {escape(username.strip().lower())} changed; sessions ended")
