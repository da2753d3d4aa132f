"""Shared fixtures: a tiny synthetic organisation (raw and clean), built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

# Before anything loads LightGBM: OpenMP threads wait passively (see recommender.config).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

import pytest

from training.synthetic.generate import generate

TEST_KEY = "test-pseudonym-key-0123456789abcdef"
TINY_EMPLOYEES = 300
TINY_SEED = 3


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
