"""``jenjang keys``: API keys of the service (scopes lms, admin); only their hashes are stored."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from recommender.cli.common import JsonOpt, UrlOpt, console, err
from recommender.cli.db import migrated_session

if TYPE_CHECKING:
    from recommender.store.keys import KeyRecord

keys_app = typer.Typer(no_args_is_help=True, help="API keys of the service (scopes lms, admin).")

# recommender.store.keys (SQLAlchemy) is imported inside the commands: `jenjang --help` stays fast


@keys_app.command("create")
def keys_create(
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="lms or admin (repeat for both).", show_default=False),
    ],
    unit: Annotated[
        list[str] | None,
        typer.Option(
            "--unit",
            help="Limit an lms key to this unit (repeatable; default: all). Admin keys are "
            "organisation-wide: refused with --unit.",
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="What the key is for (shown in the list).")] = "",
    url: UrlOpt = None,
) -> None:
    """Make an API key. The key is printed alone on the last line, once: store it now."""
    from recommender.store import keys

    try:
        scopes = keys.check_scopes(scope)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --scope: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    try:
        keys.check_units(scopes, unit)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --unit: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
    with migrated_session(url=url) as session:
        key = keys.create_key(session, scopes, unit, label)
    units = ", ".join(sorted(set(unit or ()))) or "all"
    console.print(
        f"created key {keys.key_id_of(key)}: scopes {', '.join(scopes)}; units {escape(units)}"
        + (f"; label {escape(label)}" if label else ""),
        highlight=False,
    )
    console.print("the key is shown only this once; only its hash is stored:", highlight=False)
    print(key, flush=True)


def _key_row(r: KeyRecord) -> dict[str, Any]:
    return {
        "key_id": r.key_id,
        "prefix": r.prefix,
        "scopes": list(r.scopes),
        "units": None if r.units is None else list(r.units),
        "label": r.label,
        "created_at": r.created_at.isoformat(),
        "revoked_at": None if r.revoked_at is None else r.revoked_at.isoformat(),
    }


@keys_app.command("list")
def keys_list(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """List API keys (id, display prefix, scopes, units, label, dates); never the keys."""
    from recommender.store import keys

    with migrated_session(url=url) as session:
        records = keys.list_keys(session)
    if as_json:
        print(json.dumps({"keys": [_key_row(r) for r in records]}))
        return
    if not records:
        console.print("no API keys yet: `jenjang keys create --scope lms`")
        return
    table = RichTable(title="API keys")
    table.add_column("key id", no_wrap=True, min_width=14)
    table.add_column("prefix", no_wrap=True, min_width=12)
    for col in ("scopes", "units", "label", "created", "revoked"):
        table.add_column(col)
    for r in records:
        table.add_row(
            r.key_id,
            r.prefix + "…",
            ", ".join(r.scopes),
            "all" if r.units is None else ", ".join(r.units),
            escape(r.label),
            f"{r.created_at:%Y-%m-%d}",
            "" if r.revoked_at is None else f"{r.revoked_at:%Y-%m-%d}",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id (k_..., from `jenjang keys list`).")],
    url: UrlOpt = None,
) -> None:
    """Revoke an API key: it stops working at once."""
    from recommender.store import keys

    with migrated_session(url=url) as session:
        known = {r.key_id: r for r in keys.list_keys(session)}
        changed = keys.revoke(session, key_id)
    if key_id not in known:
        err.print(f"[red]error:[/red] no API key {escape(key_id)}", highlight=False)
        raise typer.Exit(2)
    console.print(f"key {escape(key_id)} " + ("revoked" if changed else "was already revoked"))
