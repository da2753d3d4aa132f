"""The one data fingerprint (training runs and batch manifests): single files and tables kept
as folders of Parquet parts both count."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from recommender.data.io import DataSourceError
from training.fingerprint import data_fingerprint, file_sha256, table_count


def _write(directory: Path) -> None:
    directory.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_parquet(directory / "employees.parquet")
    parts = directory / "enrollments"
    parts.mkdir()
    pd.DataFrame({"b": [1]}).to_parquet(parts / "part-00000.parquet")
    pd.DataFrame({"b": [2]}).to_parquet(parts / "part-00001.parquet")
    (directory / "_report.json").write_text("{}")
    (directory / "notes.txt").write_text("not a table")


def test_fingerprint_covers_files_and_folders_of_parts(tmp_path: Path) -> None:
    data = tmp_path / "clean"
    _write(data)
    expected = hashlib.sha256()
    for rel in (
        "employees.parquet",
        "enrollments/part-00000.parquet",
        "enrollments/part-00001.parquet",
    ):
        expected.update(f"{rel}\0".encode())
        expected.update(hashlib.sha256((data / rel).read_bytes()).hexdigest().encode())
    first = data_fingerprint(directory=data)
    assert first == expected.hexdigest()
    assert len(first) == 64
    assert table_count(directory=data) == 2
    assert (
        file_sha256(path=data / "employees.parquet")
        == hashlib.sha256((data / "employees.parquet").read_bytes()).hexdigest()
    )

    # a changed part changes the fingerprint; reports and unknown files do not
    (data / "_report.json").write_text('{"changed": true}')
    (data / "notes.txt").write_text("still not a table")
    assert data_fingerprint(directory=data) == first
    pd.DataFrame({"b": [3]}).to_parquet(data / "enrollments" / "part-00001.parquet")
    assert data_fingerprint(directory=data) != first


def test_fingerprint_of_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        data_fingerprint(directory=tmp_path / "nowhere")
