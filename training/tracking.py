"""The only module that talks to MLflow: runs, metrics, artifacts, registry and promotion.

Tracking URI from settings (default: a SQLite store in the project folder); telemetry is off.
Models are registered with aliases (``challenger`` for a new model, ``champion`` for the one
served), never with the deprecated stages.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recommender.bundles import BOOSTER_DIR, BOOSTER_META_FILE, BOOSTER_TEXT_FILE, mlflow_client
from recommender.config import Settings

PYFUNC_CODE = Path(__file__).with_name("pyfunc_programs.py")
CHAMPION, CHALLENGER = "champion", "challenger"


def client(settings: Settings) -> Any:
    """An MlflowClient on the configured tracking store (telemetry disabled first)."""
    return mlflow_client(settings)


def _artifact_uri(settings: Settings, experiment: str) -> str:
    """Where a new experiment keeps its artifacts: a local folder (as a file URI) or a URL."""
    root = settings.mlflow_artifact_root
    if "://" in root:
        return f"{root.rstrip('/')}/{experiment}"
    return (Path(root) / experiment).resolve().as_uri()


def metric_key(*parts: str) -> str:
    """MLflow-safe metric name: ``test.model.ndcg_at_10`` from ("test", "model", "ndcg@10")."""
    return ".".join(p.replace("@", "_at_") for p in parts)


def flat_metrics(results: dict[str, dict[str, Any]], prefix: str) -> dict[str, float]:
    """Numeric headline figures of every ranker, flattened for ``log_metrics`` (a ranker's
    ``policy`` block as ``<prefix>.<ranker>.policy.<figure>``, e.g.
    ``test.model.policy.ndcg_at_10_cost``)."""
    out = {}
    for ranker, figures in results.items():
        for name, value in figures.items():
            if (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
            ):
                out[metric_key(prefix, ranker, name)] = float(value)
            elif name.startswith("vs_"):
                out[metric_key(prefix, ranker, name, "lift")] = float(value["lift"])
                out[metric_key(prefix, ranker, name, "diff_ci_low")] = float(value["diff_ci"][0])
            elif name == "policy" and isinstance(value, dict):
                for key, x in value.items():
                    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
                        out[metric_key(prefix, ranker, name, key)] = float(x)
            elif name.endswith("_by_family") and isinstance(value, dict):
                for family, x in value.items():
                    if isinstance(x, (int, float)) and math.isfinite(x):
                        out[metric_key(prefix, ranker, name, family)] = float(x)
        for group, data in figures.get("groups", {}).items():
            ratio = data["parity_ratio"]
            if math.isfinite(ratio):
                out[metric_key(prefix, ranker, "parity", group)] = float(ratio)
    return out


@dataclass(frozen=True)
class Registered:
    """A logged and registered model version."""

    run_id: str
    version: str
    name: str


@contextmanager
def run(settings: Settings, experiment: str, run_name: str) -> Iterator[Any]:
    """Start an MLflow run in ``experiment`` (created if needed); yields the active run."""
    c = client(settings)
    import mlflow
    from mlflow.exceptions import MlflowException

    if c.get_experiment_by_name(experiment) is None:
        try:
            c.create_experiment(experiment, artifact_location=_artifact_uri(settings, experiment))
        except MlflowException as exc:  # another process made it first (concurrent runs)
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name) as active:
        yield active


def log_params(*, params: dict[str, Any]) -> None:
    """Log the parameters of the active run (values as MLflow stores them: strings)."""
    import mlflow

    mlflow.log_params(params)


def log_metrics(*, metrics: dict[str, float]) -> None:
    """Log metrics (name -> value) on the active run."""
    import mlflow

    mlflow.log_metrics(metrics)


def pyfunc_model_base() -> type:
    """``mlflow.pyfunc.PythonModel``: the base class of a "model from code" file
    (:data:`PYFUNC_CODE`), so that file needs no MLflow import of its own."""
    import mlflow.pyfunc

    base: type = mlflow.pyfunc.PythonModel
    return base


def set_code_model(*, model: Any) -> None:
    """Declare ``model`` as the model of the "model from code" file being loaded."""
    import mlflow.models

    mlflow.models.set_model(model)


def log_json(data: Any, name: str) -> None:
    """Log a JSON artifact."""
    import mlflow

    mlflow.log_dict(data, name)


def log_figure(fig: Any, name: str) -> None:
    """Log a matplotlib figure as a PNG artifact."""
    import mlflow

    mlflow.log_figure(fig, name)


def log_booster_model(
    model_text: str, meta: dict[str, Any], registered_name: str, example: Any
) -> str:
    """Log the booster text, its metadata and the pyfunc wrapper; register; return version."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        booster, meta_path = Path(tmp) / BOOSTER_TEXT_FILE, Path(tmp) / BOOSTER_META_FILE
        booster.write_text(model_text)
        meta_path.write_text(json.dumps(meta, indent=2))
        mlflow.log_artifact(str(booster), BOOSTER_DIR)
        mlflow.log_artifact(str(meta_path), BOOSTER_DIR)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_CODE),
            artifacts={"booster": str(booster), "meta": str(meta_path)},
            registered_model_name=registered_name,
            input_example=example,
            pip_requirements=["lightgbm", "pandas", "numpy", "scikit-learn"],
        )
    return str(info.registered_model_version)


def set_alias(settings: Settings, name: str, alias: str, version: str) -> None:
    """Point ``name@alias`` at ``version``."""
    client(settings).set_registered_model_alias(name, alias, version)


def version_for(settings: Settings, name: str, alias: str) -> Any | None:
    """The model version behind ``name@alias``, or None if the alias is not set."""
    import mlflow

    try:
        return client(settings).get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None


def run_metrics(settings: Settings, run_id: str) -> dict[str, float]:
    """Logged metrics of a run."""
    return dict(client(settings).get_run(run_id).data.metrics)


def run_artifact_json(settings: Settings, run_id: str, path: str) -> Any:
    """Load a JSON artifact of a run."""
    import mlflow

    client(settings)
    return mlflow.artifacts.load_dict(f"runs:/{run_id}/{path}")


def log_metrics_batch(*, settings: Settings, run_id: str, metrics: dict[str, float]) -> None:
    """Log ``metrics`` (name -> value) on a (possibly finished) run, step 0, stamped now, in
    batches of 500 in name order. Raises MlflowException when the store cannot be written."""
    from mlflow.entities import Metric

    c = client(settings)
    now = int(pd.Timestamp.now("UTC").timestamp() * 1000)
    entries = [Metric(k, v, now, 0) for k, v in sorted(metrics.items())]
    for i in range(0, len(entries), 500):
        c.log_batch(run_id, metrics=entries[i : i + 500])


def log_decision(settings: Settings, run_id: str, decision: dict[str, Any]) -> None:
    """Attach a promotion decision (JSON and tags) to the run it concerns."""
    c = client(settings)
    c.log_dict(run_id, decision, "promotion_decision.json")
    c.set_tag(run_id, "promotion.decision", decision["decision"])
    c.set_tag(run_id, "promotion.reasons", "; ".join(decision["reasons"])[:4000])


def registered_models(settings: Settings) -> list[dict[str, Any]]:
    """Every registered model with versions, aliases, run ids and headline test metrics."""
    c = client(settings)
    out = []
    for model in c.search_registered_models():
        aliases: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        versions = []
        for v in c.search_model_versions(f"name='{model.name}'"):
            metrics = c.get_run(v.run_id).data.metrics
            headline = {
                k.split(".", 2)[2]: val
                for k, val in metrics.items()
                if k.startswith("test.model.") and k.count(".") == 2
            }
            versions.append(
                {
                    "version": v.version,
                    "run_id": v.run_id,
                    "aliases": aliases.get(str(v.version), []),
                    "created": v.creation_timestamp,
                    "metrics": headline,
                }
            )
        versions.sort(key=lambda v: int(v["version"]))
        out.append({"name": model.name, "versions": versions})
    return out
