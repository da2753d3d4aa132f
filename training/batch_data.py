"""The batches' input, read partition by partition so the driver's memory does not grow with
the organisation (docs/batch.md, "State and memory").

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

For positions, :class:`Spill` also keeps the rows of people who are not active, in
``inactive_buckets`` extra buckets after the ``count`` scoring partitions (by a hash of the
employee id: all of a person's rows in one bucket), and :func:`streamed_careers` sums, in one
pass over every bucket, the usage counts and the careers counts: holders and retirements per
position and unit x JF counts from the scoring partitions' snapshots; move-history counts
(:class:`~recommender.careers.features.HistoryCounts`) and career-pattern counts
(:class:`~recommender.careers.patterns.PatternCounts`) from every bucket's moves and
completions, including those of people who have left.

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

from recommender.careers.features import (
    History,
    HistoryCounts,
    history_counts,
    history_from,
    holder_counts,
    jf_counts,
    jf_shares,
    position_frame,
)
from recommender.careers.patterns import PatternCounts, PatternTable, pattern_counts, patterns_from
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
    "position_history",
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


def table_rows(path: Path) -> int:
    """Rows of one clean table (Parquet metadata; a CSV table is counted by reading it)."""
    total = 0
    for f in _files(path):
        if f.name.endswith(".parquet"):
            total += pq.ParquetFile(f).metadata.num_rows
        else:
            total += len(read_file(f))
    return total


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
        inactive_buckets: int = 0,
    ) -> None:
        self.eligible = eligible
        self.size = size
        self.count = -(-len(eligible) // size) if len(eligible) else 0
        self.inactive = inactive_buckets
        self.buckets = self.count + inactive_buckets
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
            keep, part = self._buckets(ids)
            order = np.argsort(part, kind="stable")
            rows = batch.take(pa.array(keep[order]))
            bounds = np.searchsorted(part[order], np.arange(self.buckets + 1))
            target = folder / f"chunk-{j:05d}.arrow"
            self._write(target, rows, bounds)
            self.files[name].append(target)

    def _buckets(self, ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
        """Rows to keep and their bucket: an active person's partition, else (with inactive
        buckets) ``count`` + a hash of the id modulo ``inactive``; one bucket per person."""
        pos = self.eligible.get_indexer(ids)
        if not self.inactive:
            keep = np.flatnonzero(pos >= 0)
            return keep, pos[keep] // self.size
        hashed = pd.util.hash_array(ids.to_numpy(dtype=object)) % np.uint64(self.inactive)
        other = self.count + hashed.astype(np.int64)
        return np.arange(len(ids)), np.where(pos >= 0, pos // self.size, other)

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
            for i in range(self.buckets):
                lo, hi = int(bounds[i]), int(bounds[i + 1])
                w.write_batch(rows.slice(lo, hi - lo) if hi > lo else empty)
        os.replace(tmp, target)

    def employees(self, i: int) -> pd.Index:
        """Employee ids of partition ``i`` in snapshot order."""
        return self.eligible[i * self.size : (i + 1) * self.size]

    def take(self, i: int) -> Part:
        """The person tables restricted to partition ``i``'s employees (table row order); for
        ``count <= i < buckets`` the rows of one inactive bucket."""
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


@dataclass
class Careers:
    """The organisation-wide careers state of a positions batch (what
    :func:`recommender.careers.features.build_context`, ``move_patterns`` and the unit x JF
    memo give on the whole organisation)."""

    positions: pd.DataFrame
    history: History
    patterns: PatternTable
    jf_shares: pd.Series


def _empty_tables(spill: Spill) -> dict[str, pd.DataFrame]:
    """Every spilled table with no rows (its schema's columns and types)."""
    return {n: s.empty_table().to_pandas() for n, s in spill.schemas.items()}


def streamed_careers(
    spill: Spill, org: dict[str, pd.DataFrame], at: pd.Timestamp, say: Say | None = None
) -> tuple[Usage, Careers]:
    """Usage statistics and careers state summed bucket by bucket, one in memory at a time.

    The scoring partitions (``0 .. count - 1``) give the per-person counts of the people active
    on ``at`` (usage, holders and retirements, unit x JF); every bucket, also those of people
    who have left, gives the counts of moves and completions (history, career patterns).
    Equal to the service's state on the whole organisation (tests/training/test_batch_data.py).
    """
    programs = pd.Index(org["programs"]["program_id"])
    pos = position_frame(org)
    holders, retiring = np.zeros(len(pos)), np.zeros(len(pos))
    usage: UsageCounts | None = None
    jf: tuple[pd.Series, pd.Series] | None = None
    history: HistoryCounts | None = None
    patterns: PatternCounts | None = None
    done = 0
    for i in range(spill.buckets):
        tables = spill.take(i).tables
        if i < spill.count:
            snap = build_snapshot({**org, **tables}, at)
            u = usage_counts(usage_window(tables["enrollments"], at), snap)
            usage = u if usage is None else usage + u
            h, r = holder_counts(snap, pos)
            holders, retiring = holders + h, retiring + r
            c, n = jf_counts(snap.people, pos)
            jf = (c, n) if jf is None else (_added(jf[0], c), _added(jf[1], n))
            done += len(snap.people)
        hc = history_counts(tables, at, pos, programs)
        history = hc if history is None else history + hc
        pc = pattern_counts(tables["career_moves"], tables["enrollments"], org["positions"], at)
        patterns = pc if patterns is None else patterns + pc
        if say is not None:
            step = f"organisation statistics, bucket {i + 1}/{spill.buckets}"
            say(done, len(spill.eligible), step)
    empty = _empty_tables(spill)
    if usage is None:  # nobody active: every count is zero
        snap = build_snapshot({**org, **empty}, at)
        usage = usage_counts(usage_window(empty["enrollments"], at), snap)
    if history is None or patterns is None:
        history = history_counts(empty, at, pos, programs)
        patterns = pattern_counts(empty["career_moves"], empty["enrollments"], org["positions"], at)
    pos["holders"], pos["retiring"] = holders, retiring
    shares = jf_shares(*jf) if jf is not None else pd.Series(dtype=float)
    careers = Careers(
        pos, history_from(history, pos), patterns_from(patterns, org["positions"], at), shares
    )
    return usage_from(spill.enrolled, usage, programs), careers


def _added(a: pd.Series, b: pd.Series) -> pd.Series:
    """Two count series summed (missing keys count 0), integer."""
    return a.add(b, fill_value=0).astype(np.int64)
