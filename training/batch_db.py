"""Load a finished batch folder into the application database (``jenjang batch ... --to-db``).

Tables (migration 0003, ``recommender/store/models.py``): ``batch_runs`` (one per batch),
``batch_partitions`` (the partitions loaded, with their file's SHA-256) and
``batch_recommendations`` (one row per ranked item, employees by pseudonym).

Each partition is loaded in its own transaction: its earlier rows of the same batch are
deleted, its rows inserted and its ``batch_partitions`` row written, so an interrupted load
leaves whole partitions only, and a rerun skips the partitions whose file is unchanged. On
PostgreSQL the rows go through ``COPY`` (fast); elsewhere through batched INSERTs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from recommender.store import db
from recommender.store.models import (
    BatchPartition,
    BatchRecommendation,
    BatchRun,
    utcnow,
)
from training.batch_spec import ITEM_COLUMN, MANIFEST, MODEL_KIND, BatchError

Say = Callable[[int, int, str], None]
COLUMNS = ("batch_id", "employee_id", "rank", "partition", "item_id", "score", "eligible")
INSERT_ROWS = 5_000  # rows per INSERT batch on databases without COPY


@dataclass(frozen=True)
class Loaded:
    """What a load did: the batch id, partitions loaded now and skipped, rows loaded now."""

    batch_id: str
    loaded: int
    skipped: int
    rows: int


def batch_id(manifest: dict[str, Any]) -> str:
    """The id of a batch: SHA-256 (hex, 32 characters) of what determines its rows."""
    model = manifest.get("model") or {}
    key = {
        "kind": manifest["kind"],
        "k": manifest["k"],
        "as_of": manifest["as_of"],
        "model": [model.get("name"), model.get("version"), model.get("sha256")],
        "data": (manifest.get("data") or {}).get("fingerprint"),
        "partition_size": manifest.get("partition_size"),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def _manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BatchError(f"{out}: no readable batch manifest ({exc})") from exc
    if not manifest.get("complete"):
        raise BatchError(f"{out}: the batch is not complete: run `jenjang batch` to finish it")
    return manifest


def check_database(url: str) -> Engine:
    """An engine on ``url`` after checking it is migrated to the newest revision.
    Raises BatchError naming the database (password hidden) otherwise."""
    path = db.sqlite_file(url)
    if path is not None and not path.exists():
        raise BatchError(f"no database at {path}: run `jenjang db upgrade` first")
    try:
        current = db.current_revision(url)
    except SQLAlchemyError as exc:
        raise BatchError(f"database {db.display_url(url)}: {_reason(exc)}") from exc
    if current != db.head_revision():
        raise BatchError(
            f"database {db.display_url(url)} is at revision {current or 'none'}, not "
            f"{db.head_revision()}: run `jenjang db upgrade` first"
        )
    return db.make_engine(url)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _rows(frame: pd.DataFrame, bid: str, partition: int, kind: str) -> Iterator[dict[str, Any]]:
    item = ITEM_COLUMN[MODEL_KIND[kind]]
    eligible = frame.get("eligible")
    flags = [None] * len(frame) if eligible is None else [bool(e) for e in eligible]
    for employee, rank, item_id, score, codes, flag in zip(
        frame["employee_id"],
        frame["rank"],
        frame[item],
        frame["score"],
        frame["reason_codes"],
        flags,
        strict=True,
    ):
        yield {
            "batch_id": bid,
            "employee_id": str(employee),
            "rank": int(rank),
            "partition": partition,
            "item_id": str(item_id),
            "score": float(score),
            "eligible": flag,
            "reason_codes": [str(c) for c in codes],
        }


def _copy(conn: Connection, rows: Iterator[dict[str, Any]]) -> None:
    """PostgreSQL COPY of ``rows`` into batch_recommendations (psycopg 3)."""
    raw: Any = conn.connection.driver_connection
    columns = (*COLUMNS, "reason_codes")
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY batch_recommendations ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for r in rows:
            copy.write_row([*(r[c] for c in COLUMNS), json.dumps(r["reason_codes"])])


def _insert(conn: Connection, rows: Iterator[dict[str, Any]]) -> None:
    chunk: list[dict[str, Any]] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= INSERT_ROWS:
            conn.execute(insert(BatchRecommendation), chunk)
            chunk = []
    if chunk:
        conn.execute(insert(BatchRecommendation), chunk)


def _run_row(manifest: dict[str, Any], bid: str) -> dict[str, Any]:
    model = manifest.get("model") or {}
    totals = manifest.get("totals") or {}
    return {
        "batch_id": bid,
        "kind": manifest["kind"],
        "k": int(manifest["k"]),
        "as_of": str(manifest["as_of"]),
        "model_name": str(model.get("name") or ""),
        "model_version": model.get("version"),
        "model_sha256": model.get("sha256"),
        "partitions": len(manifest["partitions"]),
        "employees": int(totals.get("employees", manifest.get("eligible_employees", 0))),
        "rows": int(totals.get("rows", 0)),
    }


def load_batch(out: Path, url: str, say: Say | None = None) -> Loaded:
    """Load the complete batch in ``out`` into the database at ``url`` (resuming a partial
    load). Raises BatchError when the folder is not a complete batch, a partition file does
    not match its recorded SHA-256, or the database is missing, unmigrated or fails."""
    manifest = _manifest(out)
    bid = batch_id(manifest)
    engine = check_database(url)
    entries = manifest["partitions"]
    try:
        with engine.begin() as conn:
            have = conn.execute(select(BatchRun.batch_id).where(BatchRun.batch_id == bid)).first()
            if have is None:
                conn.execute(insert(BatchRun), [_run_row(manifest, bid)])
            done = {
                p: sha
                for p, sha in conn.execute(
                    select(BatchPartition.partition, BatchPartition.sha256).where(
                        BatchPartition.batch_id == bid
                    )
                )
            }
        loaded = rows = 0
        for n, entry in enumerate(entries):
            if done.get(entry["index"]) == entry["sha256"]:
                continue
            rows += _load_partition(engine, Path(out), manifest["kind"], bid, entry)
            loaded += 1
            if say is not None:
                say(n + 1, len(entries), "loading into the database")
        with engine.begin() as conn:
            conn.execute(
                update(BatchRun).where(BatchRun.batch_id == bid).values(completed_at=utcnow())
            )
    except SQLAlchemyError as exc:
        raise BatchError(f"database {db.display_url(url)}: {_reason(exc)}") from exc
    finally:
        engine.dispose()
    return Loaded(bid, loaded, len(entries) - loaded, rows)


def _load_partition(engine: Engine, out: Path, kind: str, bid: str, entry: dict[str, Any]) -> int:
    path = out / entry["file"]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise BatchError(f"{path}: the file does not match its SHA-256 in the manifest")
    frame = pd.read_parquet(path)
    index = int(entry["index"])
    with engine.begin() as conn:
        conn.execute(
            delete(BatchRecommendation).where(
                BatchRecommendation.batch_id == bid, BatchRecommendation.partition == index
            )
        )
        conn.execute(
            delete(BatchPartition).where(
                BatchPartition.batch_id == bid, BatchPartition.partition == index
            )
        )
        rows = _rows(frame, bid, index, kind)
        if engine.dialect.name == "postgresql":
            _copy(conn, rows)
        else:
            _insert(conn, rows)
        conn.execute(
            insert(BatchPartition),
            [{"batch_id": bid, "partition": index, "sha256": entry["sha256"], "rows": len(frame)}],
        )
    return len(frame)
