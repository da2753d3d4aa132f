"""Scoring one partition of a batch (runs in-process or on a Dask worker): the rows are built by
:mod:`recommender.answers`, as the service's answers are (same ids, rounding, reason codes)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recommender import answers
from recommender.careers.features import CareerContext
from recommender.careers.recommend import next_positions
from recommender.programs.ranker import ProgramRanker
from recommender.programs.recommend import top_programs
from recommender.snapshot import Snapshot
from training.batch_data import Part
from training.batch_spec import ITEM_COLUMN, MODEL_KIND, BatchError, ModelText
from training.batch_state import Shared, partition_state
from training.kinds import Kind

_RANKERS: dict[str, ProgramRanker] = {}


def parsed_ranker(model: ModelText) -> ProgramRanker | None:
    """The booster of ``model``, parsed once per process after checking its SHA-256 (raises
    ModelIntegrityError on a mismatch); single-threaded prediction, as in the service."""
    if model.text is None or model.sha256 is None:
        return None
    hit = _RANKERS.get(model.sha256)
    if hit is None:
        hit = ProgramRanker.from_text(model.text, expected_sha256=model.sha256)
        hit.predict_threads = 1
        _RANKERS[model.sha256] = hit
    return hit


@dataclass(frozen=True)
class PartitionResult:
    """A written partition: Parquet bytes and its counts."""

    index: int
    data: bytes
    rows: int
    employees: int
    fewer_than_k: int
    without_rows: int


def _schema(kind: Kind) -> pa.Schema:
    fields = [
        pa.field("employee_id", pa.string(), nullable=False),
        pa.field("rank", pa.int16(), nullable=False),
        pa.field(ITEM_COLUMN[kind], pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
    ]
    if kind is Kind.CAREERS:
        fields.append(pa.field("eligible", pa.bool_(), nullable=False))
    fields += [
        pa.field("reason_codes", pa.list_(pa.string()), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string()),
    ]
    return pa.schema(fields)


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=1_000_000)
    return buf.getvalue()


def _program_rows(
    snap: Snapshot, shared: Shared, ranker: ProgramRanker, k: int, tick: Callable[[int], None]
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {n: [] for n in ("employee_id", "rank", "item", "score", "codes")}
    for n, employee in enumerate(snap.people.index):
        ranked = top_programs(snap, shared.cat, shared.usage, ranker, employee, shared.year, k)
        rows = answers.ranked_programs(ranked=ranked)
        out["employee_id"] += [employee] * len(rows)
        out["rank"] += [r.rank for r in rows]
        out["item"] += [r.program_id for r in rows]
        out["score"] += [r.score for r in rows]
        out["codes"] += [r.reason_codes for r in rows]
        if n % 250 == 249:
            tick(250)
    tick(len(snap.people) % 250)
    return out


def _position_rows(
    ctx: CareerContext,
    shared: Shared,
    ranker: ProgramRanker | None,
    k: int,
    tick: Callable[[int], None],
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {
        n: [] for n in ("employee_id", "rank", "item", "score", "eligible", "codes")
    }
    lang = answers.DEFAULT_LANGUAGE  # the wording does not change the codes
    for n, employee in enumerate(ctx.snap.people.index):
        found = next_positions(ctx, ranker, employee, k, shared.patterns, lang=lang)
        rows = answers.position_rows(found=found)
        out["employee_id"] += [employee] * len(rows)
        out["rank"] += [r.rank for r in rows]
        out["item"] += [r.position_id for r in rows]
        out["score"] += [r.score for r in rows]
        out["eligible"] += [r.eligible for r in rows]
        out["codes"] += [r.reason_codes for r in rows]
        if n % 10 == 9:
            tick(10)
    tick(len(ctx.snap.people) % 10)
    return out


def run_partition(
    shared: Shared,
    model: ModelText,
    kind: str,
    k: int,
    part: Part,
    tick: Callable[[int], None] | None = None,
) -> PartitionResult:
    """Recommendations for one partition's employees as Parquet bytes (runs on a worker).
    ``kind``: the batch output (``programs`` or ``positions``, :data:`MODEL_KIND`)."""
    tick = tick or (lambda _n: None)
    ranker = parsed_ranker(model)
    model_kind = MODEL_KIND[kind]
    snap, ctx = partition_state(shared, part.tables, careers=model_kind is Kind.CAREERS)
    if model_kind is Kind.PROGRAMS:
        if ranker is None:
            raise BatchError("no programme model")
        rows = _program_rows(snap, shared, ranker, k, tick)
    else:
        assert ctx is not None
        rows = _position_rows(ctx, shared, ranker, k, tick)
    n = len(rows["employee_id"])
    columns: dict[str, Any] = {
        "employee_id": rows["employee_id"],
        "rank": rows["rank"],
        ITEM_COLUMN[model_kind]: rows["item"],
        "score": rows["score"],
    }
    if model_kind is Kind.CAREERS:
        columns["eligible"] = rows["eligible"]
    columns["reason_codes"] = rows["codes"]
    columns["model_name"] = [model.name] * n
    columns["model_version"] = [model.version] * n
    table = pa.table(columns, schema=_schema(model_kind))
    per = pd.Series(rows["employee_id"], dtype=object).value_counts()
    counts = per.reindex(snap.people.index, fill_value=0).to_numpy()
    return PartitionResult(
        index=part.index,
        data=_parquet(table),
        rows=n,
        employees=len(snap.people),
        fewer_than_k=int((counts < k).sum()),
        without_rows=int((counts == 0).sum()),
    )
