"""Fixtures of the data-contract tests: the tiny organisation with its leaf tables cut short."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.test_validate_faults import make_small


@pytest.fixture(scope="module")
def small_csv(tiny_raw_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny organisation as CSV, leaf tables cut short. Do not modify: copy."""
    return make_small(tiny_raw_csv, tmp_path_factory.mktemp("small_csv") / "raw")


@pytest.fixture(scope="module")
def small_parquet(tiny_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny organisation as Parquet, leaf tables cut short. Do not modify: copy."""
    return make_small(tiny_raw, tmp_path_factory.mktemp("small_parquet") / "raw")
