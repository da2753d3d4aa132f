"""Model bundles: verified local copies, tamper detection, fallback when MLflow is away."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recommender import bundles
from recommender.bundles import Bundle, BundleError
from recommender.config import Settings
from recommender.programs.ranker import ModelIntegrityError, sha256_text

TEXT = "tree\nversion=v4\n"  # content is not parsed by the bundle layer


def _bundle(version: str = "3") -> Bundle:
    return Bundle(
        "jenjang-programs",
        version,
        "r1",
        sha256_text(TEXT),
        ("a",),
        TEXT,
        "mlflow",
        datetime.now(UTC),
    )


def test_save_and_load_local_round_trip(tmp_path: Path) -> None:
    folder = bundles.save_local(tmp_path, _bundle())
    assert (folder / "model.txt").read_text() == TEXT
    loaded = bundles.load_local(tmp_path, "jenjang-programs")
    assert (loaded.version, loaded.sha256, loaded.source) == ("3", sha256_text(TEXT), "local")
    bundles.save_local(tmp_path, _bundle("4"))
    assert bundles.load_local(tmp_path, "jenjang-programs").version == "4"


def test_tampered_local_copy_is_refused(tmp_path: Path) -> None:
    folder = bundles.save_local(tmp_path, _bundle())
    (folder / "model.txt").write_text(TEXT + "x")
    with pytest.raises(ModelIntegrityError):
        bundles.load_local(tmp_path, "jenjang-programs")


def test_missing_local_copy(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no usable local copy"):
        bundles.load_local(tmp_path, "jenjang-careers")


def test_resolve_falls_back_to_local_when_registry_is_empty(tmp_path: Path) -> None:
    settings = Settings(
        models_dir=tmp_path / "models",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'empty.db'}",
    )
    with pytest.raises(BundleError):
        bundles.resolve(settings, "jenjang-programs")
    bundles.save_local(settings.models_dir, _bundle())
    got = bundles.resolve(settings, "jenjang-programs")
    assert got.source == "local" and got.version == "3"
    meta = json.loads((settings.models_dir / "jenjang-programs" / "current.json").read_text())
    assert meta["sha256"] == sha256_text(TEXT)
