"""One fingerprint of a clean-data folder, shared by training runs and batch manifests.

A run logs it as the MLflow parameter ``data_fingerprint``; a batch manifest records it under
``data.fingerprint``. Both come from :func:`data_fingerprint`, so a run and a manifest made from
the same folder carry the same value and can be compared.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from recommender.data.io import list_files

_BLOCK = 1 << 20


def file_sha256(*, path: Path) -> str:
    """SHA-256 hex digest (64 characters) of one file, read in 1 MiB blocks.

    Raises OSError when the file cannot be read.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def data_fingerprint(*, directory: Path) -> str:
    """SHA-256 hex digest (64 characters) over every contract table of ``directory``.

    A table is a single file (``<table>.parquet``, ``.csv``, ``.csv.gz``) or a folder
    ``<table>/`` of Parquet parts (large organisations); each file or part contributes its path
    relative to the folder (``enrollments.parquet``, ``enrollments/part-00000.parquet``) and the
    SHA-256 of its bytes, in table-name then part order. Reports and hidden files (``_*``,
    ``.*``) and files that are not contract tables do not count.

    Raises :class:`recommender.data.io.DataSourceError` when the folder does not exist or holds
    a table twice; OSError when a file cannot be read.
    """
    files, _unknown = list_files(Path(directory))
    digest = hashlib.sha256()
    for name in sorted(files):
        path = files[name]
        parts = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        for part in parts:
            digest.update(f"{part.relative_to(path.parent)}\0".encode())
            digest.update(file_sha256(path=part).encode())
    return digest.hexdigest()


def table_count(*, directory: Path) -> int:
    """Number of contract tables in ``directory`` (files or folders of parts).

    Raises :class:`recommender.data.io.DataSourceError` as :func:`data_fingerprint` does.
    """
    files, _unknown = list_files(Path(directory))
    return len(files)
