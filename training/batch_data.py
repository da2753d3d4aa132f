"""The programme batch's input, read partition by partition so the driver's memory does not grow
with the organisation (docs/batch.md, "State and memory").

Three streaming passes over the clean person tables, never holding them whole:

1. :func:`active_employees` reads the ``employee_id``, ``hire_date`` and ``end_date`` columns of
   ``employees`` in record batches and keeps the ids of the people active on the date, in table
   order (the order of :func:`recommender.snapshot.build_snapshot`);
2. :class:`Spill` reads every person table in record batches, drops the rows of people who are
   not active, orders each batch's rows by partition (stable: the table order within a
   partition is kept) and writes it as one Arrow IPC file per batch with one record batch per
   partition. Partition ``i``'s rows of a table are then the ``i``-th record batch of each of
   that table's files, in file order: exactly the rows :class:`training.batch.Slicer` takes
   from the whole table in memory. The same pass counts everyone's windowed enrolments per
   programme (the global popularity also counts people who have left);
3. :func:`streamed_usage` builds each partition's snapshot and sums its
   :class:`~recommender.programs.features.UsageCounts`; the sums give the organisation's
   :class:`~recommender.programs.features.Usage` exactly (integer counts; tested equal to
   :func:`recommender.programs.features.build_usage` on the whole organisation).

Memory of the driver: the organisation tables (positions, programmes, units, ...), the ids of
the active people (~100 bytes each), one record batch (:data:`CHUNK_ROWS` rows) and one
partition at a time. The spilled files take about the size of the clean person tables on disk.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from recommender.data.io import list_files, read_file
from recommender.programs.features import (
    Usage,
    UsageCounts,
    enrolment_counts,
    usage_counts,
    usage_from,
    usage_window,
)
from recommender.snapshot import build_snapshot

#: Tables with one or more rows per employee: read in batches and split by partition.
PERSON_TABLES = (
    "employees",
    "career_moves",
    "rank_history",
    "appraisals",
    "talent_box",
    "assessments",
    "enrollments",
)
#: Tables the batch never reads (LMS interactions are not features of the rankers).
UNUSED_TABLES = ("interactions",)
#: Rows per record batch read from the clean tables (bounds the driver's transient memory).
CHUNK_ROWS = 500_000
SPILL_DIR = ".spill"
Say = Callable[[int, int, str], None]  # (done, total, message)


class StreamError(RuntimeError):
    """A clean table cannot be read in batches (the message names the table)."""


@dataclass(frozen=True)
class Part:
    """One partition's input: its index and its employees' rows of the person tables."""

    index: int
    tables: dict[str, pd.DataFrame]


def table_paths(clean_dir: Path) -> dict[str, Path]:
    """Contract table name -> file or folder of parts in ``clean_dir``."""
    found, _unknown = list_files(Path(clean_dir))
    return found


def _files(path: Path) -> list[Path]:
    return sorted(path.glob("*.parquet")) if path.is_dir() else [path]


def record_batches(path: Path, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of one clean table (a Parquet file or a folder of parts, in part order) as
    record batches of at most :data:`CHUNK_ROWS` rows. A CSV table is read whole (the clean
    tables written by ``jenjang ingest`` are Parquet). Raises StreamError when unreadable."""
    try:
        for f in _files(path):
            if not f.name.endswith(".parquet"):
                yield from pa.Table.from_pandas(read_file(f), preserve_index=False).to_batches(
                    CHUNK_ROWS
                )
                continue
            yield from pq.ParquetFile(f).iter_batches(batch_size=CHUNK_ROWS, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise StreamError(f"cannot read table '{path.name}' in batches: {exc}") from exc


def active_employees(path: Path, at: pd.Timestamp) -> pd.Index:
    """Ids of the employees active on ``at`` (hired before it, not left before it), in the
    table's order: the rows of ``build_snapshot(...).people``."""
    ids: list[np.ndarray] = []
    for batch in record_batches(path, ["employee_id", "hire_date", "end_date"]):
        df = batch.to_pandas()
        active = (df["hire_date"] < at) & (df["end_date"].isna() | (df["end_date"] >= at))
        ids.append(df.loc[active, "employee_id"].to_numpy(dtype=object))
    values = np.concatenate(ids) if ids else np.array([], dtype=object)
    return pd.Index(values, name="employee_id", dtype=object)


class Spill:
    """The person tables of the active employees on disk, split by partition (see the module
    docstring). ``count`` partitions of ``size`` people of ``eligible``; ``enrolled``: windowed
    enrolments per programme of ``programs`` by everyone (float, (P,)).

    Raises StreamError when a person table cannot be read or lacks ``employee_id``."""

    def __init__(
        self,
        clean_dir: Path,
        work: Path,
        eligible: pd.Index,
        size: int,
        at: pd.Timestamp,
        programs: pd.Index,
        say: Say | None = None,
    ) -> None:
        self.eligible = eligible
        self.size = size
        self.count = -(-len(eligible) // size) if len(eligible) else 0
        self.work = work
        self.files: dict[str, list[Path]] = {}
        self.schemas: dict[str, pa.Schema] = {}
        self._enrolled = pd.Series(0, index=programs, dtype=np.int64)
        self._at = at
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        paths = table_paths(clean_dir)
        names = [n for n in PERSON_TABLES if n in paths]
        for t, name in enumerate(names):
            if say is not None:
                say(0, 0, f"splitting {name} by partition (table {t + 1}/{len(names)})")
            self._spill(name, paths[name])
        self.enrolled = self._enrolled.reindex(programs, fill_value=0).to_numpy(float)

    def _spill(self, name: str, path: Path) -> None:
        folder = self.work / name
        folder.mkdir()
        self.files[name] = []
        first = _files(path)[0] if _files(path) else None
        if first is not None and first.name.endswith(".parquet"):
            self.schemas[name] = pq.read_schema(first)
        for j, batch in enumerate(record_batches(path)):
            if "employee_id" not in batch.schema.names:
                raise StreamError(f"table '{name}' has no employee_id column")
            self.schemas[name] = batch.schema
            if name == "enrollments":
                self._count_enrolments(batch)
            ids = pd.Index(batch.column("employee_id").to_numpy(zero_copy_only=False))
            pos = self.eligible.get_indexer(ids)
            keep = np.flatnonzero(pos >= 0)
            part = pos[keep] // self.size
            order = np.argsort(part, kind="stable")
            rows = batch.take(pa.array(keep[order]))
            bounds = np.searchsorted(part[order], np.arange(self.count + 1))
            target = folder / f"chunk-{j:05d}.arrow"
            self._write(target, rows, bounds)
            self.files[name].append(target)

    def _count_enrolments(self, batch: pa.RecordBatch) -> None:
        df = batch.select(["program_id", "start_date"]).to_pandas()
        window = usage_window(df, self._at)
        counts = enrolment_counts(window, self._enrolled.index).astype(np.int64)
        self._enrolled = self._enrolled + counts

    def _write(self, target: Path, rows: pa.RecordBatch, bounds: np.ndarray) -> None:
        tmp = target.with_name(f".{target.name}.tmp")
        options = ipc.IpcWriteOptions(compression="lz4")
        # an empty slice carries its parent's whole string buffers into the file (Arrow writes
        # them untruncated: 10 MB per empty partition measured), so write a true empty batch
        empty = pa.RecordBatch.from_pylist([], schema=rows.schema)
        with (
            pa.OSFile(str(tmp), "wb") as sink,
            ipc.new_file(sink, rows.schema, options=options) as w,
        ):
            for i in range(self.count):
                lo, hi = int(bounds[i]), int(bounds[i + 1])
                w.write_batch(rows.slice(lo, hi - lo) if hi > lo else empty)
        os.replace(tmp, target)

    def employees(self, i: int) -> pd.Index:
        """Employee ids of partition ``i`` in snapshot order."""
        return self.eligible[i * self.size : (i + 1) * self.size]

    def take(self, i: int) -> Part:
        """The person tables restricted to partition ``i``'s employees (table row order)."""
        out = {}
        for name, files in self.files.items():
            batches = []
            for f in files:
                with pa.memory_map(str(f)) as source:
                    batches.append(ipc.open_file(source).get_batch(i))
            out[name] = pa.Table.from_batches(batches, self.schemas[name]).to_pandas()
        return Part(i, out)

    def close(self) -> None:
        """Delete the spilled files."""
        shutil.rmtree(self.work, ignore_errors=True)


def streamed_usage(
    spill: Spill, org: dict[str, pd.DataFrame], at: pd.Timestamp, say: Say | None = None
) -> Usage:
    """The organisation's usage statistics summed over the partitions of ``spill`` (equal to
    ``build_usage`` on the whole organisation), one partition in memory at a time."""
    programs = pd.Index(org["programs"]["program_id"])
    total: UsageCounts | None = None
    done = 0
    for i in range(spill.count):
        part = spill.take(i)
        snap = build_snapshot({**org, **part.tables}, at)
        counts = usage_counts(usage_window(part.tables["enrollments"], at), snap)
        total = counts if total is None else total + counts
        done += len(snap.people)
        if say is not None:
            say(done, len(spill.eligible), f"usage statistics, partition {i + 1}/{spill.count}")
    if total is None:  # nobody active: every count is zero
        empty = {n: s.empty_table().to_pandas() for n, s in spill.schemas.items()}
        snap = build_snapshot({**org, **empty}, at)
        total = usage_counts(usage_window(empty["enrollments"], at), snap)
    return usage_from(spill.enrolled, total, programs)
