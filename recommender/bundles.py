"""Model bundles for serving: the registered champion from MLflow, kept as a verified local copy.

A bundle is a LightGBM booster in its text format plus ``meta.json`` (SHA-256 of the text,
feature names). The service asks MLflow for ``<name>@champion``, checks the hash, and writes a
copy under ``models/<name>/<version>/`` with ``models/<name>/current.json`` pointing at it
(written atomically). When MLflow is unreachable it starts from the local copy, verified again;
a tracking server that refuses connections is noticed at once (:func:`probe`), not after the
minutes MLflow's client spends retrying.
Nothing is unpickled; MLflow is imported lazily and only here on the serving side.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from recommender.config import Settings, disable_telemetry
from recommender.programs.ranker import ModelIntegrityError, ProgramRanker, sha256_text

log = logging.getLogger(__name__)
PROGRAMS, CAREERS = "jenjang-programs", "jenjang-careers"
MODEL_NAMES = (PROGRAMS, CAREERS)
CHAMPION = "champion"
#: Where a training run keeps the booster: the LightGBM text and its metadata (SHA-256 of the
#: text, feature names, best iteration, format) under one artifact folder.
BOOSTER_DIR = "booster"
BOOSTER_TEXT_FILE = "model.txt"
BOOSTER_META_FILE = "meta.json"
BOOSTER_TEXT = f"{BOOSTER_DIR}/{BOOSTER_TEXT_FILE}"
BOOSTER_META = f"{BOOSTER_DIR}/{BOOSTER_META_FILE}"
#: Seconds to wait for a tracking server's port to accept a connection.
PROBE_TIMEOUT = 3.0


class BundleError(RuntimeError):
    """A model could be neither fetched from the registry nor loaded from the local copy."""


@dataclass(frozen=True)
class Bundle:
    """One verified model: registry name and version, MLflow run id, hash, features, text."""

    name: str
    version: str
    run_id: str
    sha256: str
    features: tuple[str, ...]
    text: str = field(repr=False)
    source: Literal["mlflow", "local"]
    loaded_at: datetime

    def ranker(self) -> ProgramRanker:
        """The booster, parsed after checking its hash (raises ModelIntegrityError)."""
        return ProgramRanker.from_text(self.text, expected_sha256=self.sha256)

    def describe(self) -> dict[str, Any]:
        """Name, version, run id, hash, source and load time (for ``GET /v1/models``)."""
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "sha256": self.sha256,
            "source": self.source,
            "loaded_at": self.loaded_at.isoformat(),
        }


def mlflow_client(settings: Settings) -> Any:
    """An MlflowClient on the configured tracking store and registry (telemetry off)."""
    disable_telemetry()
    import mlflow

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return mlflow.MlflowClient()


def run_booster(*, settings: Settings, run_id: str) -> tuple[str, dict[str, Any]]:
    """The booster text and its metadata dict as logged on MLflow run ``run_id`` (artifacts
    :data:`BOOSTER_TEXT` and :data:`BOOSTER_META`), not yet verified.

    Raises MlflowException or OSError when the run or its artifacts cannot be read.
    """
    mlflow_client(settings)
    import mlflow

    meta: dict[str, Any] = mlflow.artifacts.load_dict(f"runs:/{run_id}/{BOOSTER_META}")
    text: str = mlflow.artifacts.load_text(f"runs:/{run_id}/{BOOSTER_TEXT}")
    return text, meta


def load_run_ranker(*, settings: Settings, run_id: str) -> ProgramRanker:
    """The booster logged on run ``run_id``, parsed after checking the SHA-256 of its text
    against its metadata (nothing is unpickled).

    Raises ModelIntegrityError on a hash mismatch; MlflowException or OSError when the run or
    its artifacts cannot be read.
    """
    text, meta = run_booster(settings=settings, run_id=run_id)
    return ProgramRanker.from_text(text, expected_sha256=meta["sha256"])


def run_metrics(*, tracking_uri: str, run_id: str) -> dict[str, float]:
    """The metrics logged on run ``run_id`` of the tracking store at ``tracking_uri`` (a client
    of its own; the process-wide tracking URI is left alone).

    Raises MlflowException (no such run) or a connection error (store unreachable; MLflow's
    client retries for minutes first, so call it from a thread with a timeout).
    """
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    return dict(client.get_run(run_id).data.metrics)


def probe(tracking_uri: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Raise BundleError at once when an ``http(s)`` tracking server does not accept a TCP
    connection within ``timeout`` seconds (MLflow's client would retry each call for about
    four minutes before giving up). Other stores (``sqlite:``, files) are not probed."""
    parts = urlsplit(tracking_uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        where = f"{parts.hostname}:{port}"  # never the credentials a URI may carry
        raise BundleError(f"MLflow at {where} is unreachable ({type(exc).__name__})") from None


def _verified(
    name: str, version: str, run_id: str, text: str, meta: dict[str, Any], source: Any
) -> Bundle:
    digest = sha256_text(text)
    if digest != meta.get("sha256"):
        raise ModelIntegrityError(
            f"{name} version {version}: model text SHA-256 does not match its metadata"
        )
    return Bundle(
        name,
        str(version),
        run_id,
        digest,
        tuple(meta.get("features", ())),
        text,
        source,
        datetime.now(UTC),
    )


def fetch(settings: Settings, name: str, alias: str = CHAMPION) -> Bundle:
    """``name@alias`` from the MLflow registry, verified. Raises BundleError (registry
    unreachable, no such alias, artifacts missing) or ModelIntegrityError (hash mismatch)."""
    try:
        probe(settings.mlflow_tracking_uri)
        c = mlflow_client(settings)
        mv = c.get_model_version_by_alias(name, alias)
        text, meta = run_booster(settings=settings, run_id=str(mv.run_id))
    except ModelIntegrityError:
        raise
    except Exception as exc:  # MlflowException, OSError, connection errors
        raise BundleError(f"cannot fetch {name}@{alias} from MLflow: {exc}") from exc
    return _verified(name, str(mv.version), str(mv.run_id), text, meta, "mlflow")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def save_local(models_dir: Path, bundle: Bundle) -> Path:
    """Write the bundle under ``models_dir/<name>/<version>/`` and point ``current.json`` at
    it (atomic replace). Returns the bundle folder."""
    folder = Path(models_dir) / bundle.name / bundle.version
    meta = {
        "name": bundle.name,
        "version": bundle.version,
        "run_id": bundle.run_id,
        "sha256": bundle.sha256,
        "features": list(bundle.features),
        "format": "lightgbm-text",
    }
    _write_atomic(folder / "model.txt", bundle.text)
    _write_atomic(folder / "meta.json", json.dumps(meta, indent=2))
    _write_atomic(Path(models_dir) / bundle.name / "current.json", json.dumps(meta, indent=2))
    return folder


def load_local(models_dir: Path, name: str) -> Bundle:
    """The local copy ``current.json`` points at, verified. Raises BundleError when there is
    none and ModelIntegrityError when its text does not match its hash."""
    pointer = Path(models_dir) / name / "current.json"
    try:
        meta = json.loads(pointer.read_text(encoding="utf-8"))
        text = (pointer.parent / str(meta["version"]) / "model.txt").read_text(encoding="utf-8")
    except (OSError, KeyError, ValueError) as exc:
        raise BundleError(f"no usable local copy of {name} under {pointer.parent}") from exc
    return _verified(name, str(meta["version"]), str(meta.get("run_id", "")), text, meta, "local")


def resolve(settings: Settings, name: str, alias: str = CHAMPION) -> Bundle:
    """The registry's ``name@alias`` (saved locally), else the verified local copy.

    Raises BundleError when neither is available; a registry model failing verification is
    never used (the local copy is tried instead).
    """
    try:
        bundle = fetch(settings, name, alias)
    except (BundleError, ModelIntegrityError) as first:
        try:
            local = load_local(settings.models_dir, name)
        except (BundleError, ModelIntegrityError) as second:
            raise BundleError(f"{first}; and {second}") from second
        log.warning(
            "%s: serving the verified local copy, version %s (%s)", name, local.version, first
        )
        return local
    save_local(settings.models_dir, bundle)
    return bundle
