"""A fairness report on an MLflow run: logged as metrics and tables, read back."""

from __future__ import annotations

import io
from typing import Any

from training import tracking
from training.exposure.figures import ATTAINABLE, GATE_VERSION, Report


def artifact_path(kind: str, ext: str = "json") -> str:
    """Where a run keeps its fairness table: ``fairness/<kind>.json`` or ``.csv``."""
    return f"fairness/{kind}.{ext}"


def log(settings: Any, run_id: str, report: Report) -> None:
    """Log ``report`` on the (possibly finished) run: metrics, JSON and CSV tables (group
    aggregates only). Raises MlflowException when the store cannot be written."""
    tracking.log_metrics_batch(settings=settings, run_id=run_id, metrics=report.metrics())
    client = tracking.client(settings)
    client.log_dict(run_id, report.to_dict(), artifact_path(report.kind))
    buffer = io.StringIO()
    report.table().to_csv(buffer, index=False)
    client.log_text(run_id, buffer.getvalue(), artifact_path(report.kind, "csv"))


def load(settings: Any, run_id: str, kind: str) -> Report | None:
    """The exposure report logged on ``run_id``, or None when the run has none the promotion
    rule judges (no table, a raw-exposure table, or one logged before
    :data:`~training.exposure.figures.GATE_VERSION`: recompute it)."""
    try:
        data = tracking.run_artifact_json(settings, run_id, artifact_path(kind))
    except Exception:  # no such artifact: a run trained before the fairness step
        return None
    report = Report.from_dict(data)
    current = report.measure == ATTAINABLE and report.gate_version >= GATE_VERSION
    return report if current else None


#: Run parameters that shape the figures, read back when a version's table is recomputed.
SHAPING = (
    "max_candidates",
    "max_people_per_year",
    "n_boot",
    "seed",
    "fairness_min_group",
    "fairness_max_people",
)
