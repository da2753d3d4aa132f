"""``jenjang serve``: the recommendation service on uvicorn (``--demo``: demo credentials and
example requests first, made by :mod:`recommender.store.demo`)."""

from __future__ import annotations

from typing import Annotated

import typer

from recommender.api.memory import reexec_with_arena_limit
from recommender.cli.common import clean_dir, console, err, settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Print a demo API key and example requests first.")
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Addresses of reverse proxies whose X-Forwarded-For is believed (comma "
            "separated); default: none, the client is the TCP peer.",
        ),
    ] = None,
) -> None:
    """Start the recommendation service (FastAPI on uvicorn); OpenAPI docs at /docs."""
    import uvicorn

    clean_dir(data=None)
    if demo and settings().env == "production":
        err.print(
            "[red]error:[/red] --demo makes accounts and API keys whose secrets are written "
            "in clear into the demo folder: refused with JENJANG_ENV=production",
            highlight=False,
        )
        raise typer.Exit(2)
    # start again with glibc's arenas capped, before any thread allocates (docs/reliability.md)
    reexec_with_arena_limit(settings().malloc_arenas)
    if demo:
        _print_demo(host, port)
    uvicorn.run(
        "recommender.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # paths carry NIPs: no access log
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def _print_demo(host: str, port: int) -> None:
    """Provision the demo (database migrated, keys and accounts made once, secrets in the demo
    folder) and print the sign-in, the keys and example requests (pseudonyms, no NIP)."""
    # the store pulls in SQLAlchemy and Alembic: loaded only when --demo asks for it
    from recommender.store.demo import demo_instructions, provision_demo

    setup = provision_demo(settings=settings())
    for line in demo_instructions(setup=setup, host=host, port=port):
        console.print(line, highlight=False, soft_wrap=True)
