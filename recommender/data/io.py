"""Reading and writing tables: a directory of CSV / Parquet files, or a SQL database by URL.

Raw tables are read as text (CSV) or as stored (Parquet, SQL) and parsed by validation; clean
tables are Parquet with proper types.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from recommender.data.schema import TABLES

log = logging.getLogger(__name__)

SUFFIXES = (".parquet", ".csv", ".csv.gz")
SQL_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+", "mariadb:")


class DataSourceError(ValueError):
    """Raised when a data source does not exist or cannot be read; the message names it."""


def is_sql_url(source: str | Path) -> bool:
    """True when ``source`` is a SQLAlchemy URL rather than a directory."""
    return str(source).startswith(SQL_SCHEMES)


def _table_name(path: Path) -> str | None:
    for suffix in SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return None


def _is_partitioned(path: Path) -> bool:
    """A folder of Parquet parts (``<table>/part-*.parquet``) holding one table."""
    return path.is_dir() and any(path.glob("*.parquet"))


def list_files(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """Map contract table names to files in ``directory``; also return unrecognised file names.

    A table is a file ``<table>.parquet|.csv|.csv.gz`` or a folder ``<table>/`` of Parquet
    parts (large organisations). Files whose name starts with ``_`` or ``.`` (reports, hidden
    files) are skipped.

    Raises DataSourceError if the directory does not exist or holds one table twice.
    """
    if not directory.is_dir():
        raise DataSourceError(f"data directory '{directory}' does not exist")
    found: dict[str, Path] = {}
    unknown: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(("_", ".")):
            continue  # reports and hidden files are never tables
        name = _table_name(path) if path.is_file() else None
        if name is None and path.name in TABLES and _is_partitioned(path):
            name = path.name
        if name is None or name not in TABLES:
            if path.is_file():
                unknown.append(path.name)
            continue
        if name in found:
            raise DataSourceError(f"table '{name}' appears twice: {found[name].name}, {path.name}")
        found[name] = path
    return found, unknown


def read_file(path: Path) -> pd.DataFrame:
    """Read one raw table file (or folder of Parquet parts, in part order). CSV is read as text
    so that validation sees the exact values."""
    try:
        if path.is_dir():
            parts = sorted(path.glob("*.parquet"))
            return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        if path.name.endswith(".parquet"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise DataSourceError(f"cannot read '{path}': {exc}") from exc


def read_sql_tables(url: str, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read the contract's tables present in a SQL database (SQLAlchemy URL)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        present = set(sa.inspect(engine).get_table_names())
        wanted = [n for n in (names or list(TABLES)) if n in present]
        with engine.connect() as conn:
            return {n: pd.read_sql_table(n, conn) for n in wanted}
    except sa.exc.SQLAlchemyError as exc:
        raise DataSourceError(f"cannot read database '{engine.url!r}': {exc}") from exc
    finally:
        engine.dispose()


def read_tables(source: str | Path, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read the contract's tables from a directory or a SQL URL; absent tables are left out.

    Unrecognised files are logged as warnings (never read silently as something else).
    """
    if is_sql_url(source):
        return read_sql_tables(str(source), names)
    files, unknown = list_files(Path(source))
    for name in unknown:
        log.warning("ignoring '%s': not a table of the data contract", name)
    return {n: read_file(p) for n, p in files.items() if names is None or n in names}


def write_table(df: pd.DataFrame, directory: Path, name: str, fmt: str = "parquet") -> Path:
    """Write one table as ``directory/name.parquet`` or ``.csv``; returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.{fmt}"
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt == "csv":
        df.to_csv(path, index=False)
    else:
        raise ValueError(f"unknown format '{fmt}': use parquet or csv")
    return path


def load_clean(directory: str | Path, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load clean tables written by ``jenjang ingest`` (Parquet). Raises DataSourceError if none."""
    tables = read_tables(directory, names)
    if not tables:
        raise DataSourceError(
            f"no clean tables in '{directory}': run `jenjang ingest RAW --out {directory}` first"
        )
    return tables
