"""Shared fixtures: a tiny synthetic organisation (raw and clean), built once per test session.

Also the rule that tests cannot pass by skipping in CI: a test that needs ``../shared/`` (the
``shared`` marker or :func:`require_shared`) or the PostgreSQL server (:func:`postgres_required`)
is skipped with the reason on a developer's machine, and fails with the reason when ``CI=true``
(PostgreSQL also when ``JENJANG_REQUIRE_POSTGRES=1``, which ``.ci/run`` sets).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

# Before anything loads LightGBM: OpenMP threads wait passively (see recommender.config).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

import pytest

from recommender.config import Settings
from training.synthetic.generate import generate

TEST_KEY = "test-pseudonym-key-0123456789abcdef"
TINY_EMPLOYEES = 300
TINY_SEED = 3


def isolated_settings(root: Path, *, clean: Path | None = None, **overrides: Any) -> Settings:
    """Settings that never touch the project's own stores: everything under ``root``.

    MLflow in ``root/mlruns.db`` with artifacts in ``root/artifacts``, the application database
    in ``root/app.db``; the data folder is ``clean``'s parent (with :data:`TEST_KEY`) when
    ``clean`` is given, else the empty ``root/no-demo-data``. ``overrides`` are further
    ``Settings`` fields (e.g. ``models_dir``). Raises pydantic's ValidationError for a bad field.
    """
    fields: dict[str, Any] = {
        "mlflow_tracking_uri": f"sqlite:///{root}/mlruns.db",
        "mlflow_artifact_root": str(root / "artifacts"),
        "data_dir": root / "no-demo-data",
        "database_url": f"sqlite:///{root}/app.db",
    }
    if clean is not None:
        fields |= {"data_dir": clean.parent, "pseudonym_key": TEST_KEY}
    return Settings(**(fields | overrides))


def in_ci() -> bool:
    """True when ``CI`` is ``true`` (or ``1``/``yes``), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def postgres_required() -> bool:
    """True when a missing PostgreSQL server fails the tests: CI, or JENJANG_REQUIRE_POSTGRES=1."""
    return in_ci() or os.environ.get("JENJANG_REQUIRE_POSTGRES") == "1"


def skip_or_fail(message: str, *, required: bool) -> NoReturn:
    """Skip the test with ``message``; fail it instead (same message) when ``required``.

    Raises pytest's Failed when ``required``, its Skipped otherwise.
    """
    if required:
        pytest.fail(f"{message} (required here, so this fails instead of skipping)", pytrace=False)
    pytest.skip(message)


def require_shared(path: Path) -> Path:
    """``path`` (a file or folder under ``../shared/``) when it exists.

    Raises pytest's Skipped when it is missing, or Failed when it is missing in CI (``CI=true``).
    """
    if not path.exists():
        skip_or_fail(
            f"{path} is missing: this test reads ../shared/ (a copy of shared/ beside the "
            "repository)",
            required=in_ci(),
        )
    return path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "shared(path): the test reads this file or folder under ../shared/ "
        "(skipped when missing; fails when missing in CI)",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("shared"):
        require_shared(Path(mark.args[0]))


@pytest.fixture(scope="session")
def tiny_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw tables (Parquet, with NIPs) of a 300-employee organisation. Do not modify: copy."""
    out = tmp_path_factory.mktemp("tiny") / "raw"
    generate(TINY_EMPLOYEES, TINY_SEED, out)
    return out


@pytest.fixture(scope="session")
def tiny_raw_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same organisation as CSV files (as an HR export would deliver it). Do not modify."""
    out = tmp_path_factory.mktemp("tiny_csv") / "raw"
    generate(TINY_EMPLOYEES, TINY_SEED, out, fmt="csv")
    return out


@pytest.fixture(scope="session")
def tiny_clean(tiny_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clean tables ingested from ``tiny_raw`` with the test key. Do not modify."""
    from training.ingest import ingest

    out = tmp_path_factory.mktemp("tiny_clean") / "clean"
    ingest(tiny_raw, out, TEST_KEY)
    return out
