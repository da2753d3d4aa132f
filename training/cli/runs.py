"""Registry and online commands: ``models`` (registered versions) and ``online-metrics``.

The tracking modules (MLflow: about a second) are imported inside the commands, so that
``jenjang --help`` does not pay for them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from recommender.cli.common import JsonOpt, console, settings

ONLINE_COLUMNS = (
    "lists",
    "impressions",
    "click_rate",
    "enrol_rate",
    "completion_rate",
    "hr_reviews",
    "hr_approval_rate",
)


def online_metrics_cmd(
    window_days: Annotated[
        int, typer.Option(min=1, max=3650, help="Attribution window without a request id.")
    ] = 90,
    as_json: JsonOpt = False,
) -> None:
    """Click, enrol and completion rates per model version from the served lists and the LMS
    events; logged as online.* metrics on each version's training run in MLflow."""
    from training.online import online_metrics

    result = online_metrics(settings(), window_days)
    if as_json:
        print(json.dumps(result))
        return
    if not result["versions"]:
        console.print("nothing served yet: the recommendation log is empty")
        return
    table = RichTable(title="Online metrics per model version")
    table.add_column("model@version")
    for col in (*ONLINE_COLUMNS, "logged to run"):
        table.add_column(col, justify="right")
    for key, fig in result["versions"].items():
        values = [_online_cell(fig, c) for c in ONLINE_COLUMNS]
        table.add_row(key, *values, result["runs"].get(key, "(not registered)"))
    console.print(table)


def _online_cell(fig: dict[str, Any], column: str) -> str:
    if column not in fig:
        return "—"
    return f"{fig[column]:.3f}" if column.endswith("_rate") else f"{fig[column]:.0f}"


def models_cmd(as_json: JsonOpt = False) -> None:
    """List registered models: versions, aliases, run ids and headline test metrics."""
    from training import tracking

    models = tracking.registered_models(settings())
    if as_json:
        print(json.dumps({"models": models}))
        return
    if not models:
        console.print("no registered models yet: run `jenjang train programs`")
    for m in models:
        table = RichTable(title=m["name"])
        keys = (
            ("mrr", "hit_at_5") if m["name"].endswith("careers") else ("ndcg_at_10", "recall_at_10")
        )
        for col in ("version", "aliases", "run id", *(k.replace("_at_", "@") for k in keys)):
            table.add_column(col)
        for v in m["versions"]:
            met = v["metrics"]
            table.add_row(
                str(v["version"]),
                ", ".join(v["aliases"]),
                v["run_id"],
                *(f"{met.get(k, float('nan')):.4f}" for k in keys),
            )
        console.print(table)
