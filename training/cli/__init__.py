"""The offline commands of ``jenjang`` (data, models, batch, benchmarks, external data), a
plug-in of the runtime command line (:mod:`recommender.cli`).

:func:`register` is the entry point ``training.cli:register`` of the group
``jenjang.commands``: ``jenjang`` calls it to add these commands next to ``serve``, ``db``,
``keys`` and ``users``. ``app`` is the full application (runtime and offline commands), for
tests and ``python -m training.cli``.
"""

from __future__ import annotations

import typer

from recommender.cli.root import run, runtime_app
from training.cli import batch, bench, careers, data, external, models, runs

#: Top-level commands and groups of ``jenjang --help``, in this order (others after them).
ORDER = (
    "generate",
    "validate",
    "ingest",
    "summary",
    "next-positions",
    "serve",
    "online-metrics",
    "models",
    "train",
    "evaluate",
    "promote",
    "fairness",
    "batch",
    "db",
    "keys",
    "users",
    "bench",
    "external",
)


def _rank(name: str | None) -> int:
    return ORDER.index(name) if name in ORDER else len(ORDER)


def register(app: typer.Typer) -> None:
    """Add the offline commands to ``app`` (a ``jenjang`` application) and put its commands
    in the order of :data:`ORDER`."""
    app.command("generate")(data.generate)
    app.command("validate")(data.validate_cmd)
    app.command("ingest")(data.ingest)
    app.command("summary")(data.summary)
    app.command("next-positions")(careers.next_positions_cmd)
    app.command("online-metrics")(runs.online_metrics_cmd)
    app.command("models")(runs.models_cmd)
    app.add_typer(models.train_app, name="train")
    app.add_typer(models.evaluate_app, name="evaluate")
    app.add_typer(models.promote_app, name="promote")
    app.add_typer(models.fairness_app, name="fairness")
    app.add_typer(batch.batch_app, name="batch")
    app.add_typer(bench.bench_app, name="bench")
    app.add_typer(external.external_app, name="external")
    app.registered_commands.sort(key=lambda info: _rank(info.name))
    app.registered_groups.sort(key=lambda info: _rank(info.name))


def full_app() -> typer.Typer:
    """A new ``jenjang`` application with the runtime and the offline commands."""
    app = runtime_app()
    register(app)
    return app


app = full_app()


def main() -> None:
    """``python -m training.cli``: the same as the ``jenjang`` script."""
    run(app=app)


__all__ = ["ORDER", "app", "full_app", "main", "register"]
