"""``jenjang generate``: write a synthetic Kemnaker-like organisation as raw contract tables.

The organisation is simulated in chunks of whole units (so vacancies and moves stay consistent
inside a chunk) and streamed to disk table by table; memory depends on the chunk size, not on
the number of employees. The same seed gives the same files whatever the chunk order of work.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from training.synthetic import names_data
from training.synthetic.population import make_people
from training.synthetic.sessions import Schedule, build_schedule
from training.synthetic.simulate import simulate_chunk
from training.synthetic.world import World, build_world, scale_managerial
from training.synthetic.worlds import DEFAULT_WORLD, get_world

CHUNK_SIZE = 50_000
#: Above this many employees Parquet output is partitioned: ``DIR/<table>/part-NNNNN.parquet``,
#: one file per simulated chunk (readers take the folder as one table).
PARTITION_ABOVE = 200_000
EVENT_COLUMNS = {
    "assessments": {
        "person": "nip",
        "competency": "competency_id",
        "level": "level",
        "assessed_on": "assessed_on",
        "method": "method",
    },
    "appraisals": {"person": "nip", "year": "year", "rating": "rating"},
    "talent_box": {
        "person": "nip",
        "year": "year",
        "performance_score": "performance_score",
        "potential_score": "potential_score",
        "box": "box",
    },
    "enrollments": {
        "enrollment_id": "enrollment_id",
        "person": "nip",
        "program": "program_id",
        "session": "session_id",
        "start_date": "start_date",
        "end_date": "end_date",
        "status": "status",
        "jp_credited": "jp_credited",
        "pre_test": "pre_test",
        "post_test": "post_test",
        "satisfaction": "satisfaction",
        "source": "source",
        "behaviour_change_score": "behaviour_change_score",
    },
    "career_moves": {
        "person": "nip",
        "from_position": "from_position_id",
        "to_position": "to_position_id",
        "from_unit": "from_unit_id",
        "to_unit": "to_unit_id",
        "move_date": "move_date",
        "move_type": "move_type",
    },
    "position_history": {
        "person": "nip",
        "position": "position_id",
        "unit": "unit_id",
        "start_date": "start_date",
    },
    "rank_history": {
        "person": "nip",
        "from_grade": "from_grade",
        "to_grade": "to_grade",
        "effective_date": "effective_date",
    },
}
INT_COLUMNS = ("jp_credited", "satisfaction")
#: Ground truth for tests (``generate(..., truth=True)``): ``DIR/_truth/positions.<fmt>``, the
#: post, unit and its start of everyone active on each 1 January 2020-2026. Ingest never reads
#: it (a folder whose name is no table).
TRUTH_DIR = "_truth"
TRUTH_COLUMNS = {
    "person": "nip",
    "at": "at",
    "position": "position_id",
    "unit": "unit_id",
    "start_date": "start_date",
}


class TableWriter:
    """Appends chunks of one table to ``DIR/name.parquet`` (one schema) or ``DIR/name.csv``;
    with ``partitioned`` (Parquet only) each chunk is its own file
    ``DIR/name/part-NNNNN.parquet`` with the same schema."""

    def __init__(self, directory: Path, name: str, fmt: str, partitioned: bool = False) -> None:
        self.partitioned = partitioned and fmt == "parquet"
        self.path = directory / (name if self.partitioned else f"{name}.{fmt}")
        self.fmt = fmt
        self._pq: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0
        self.parts = 0
        if self.path.is_dir():
            for old in self.path.glob("part-*.parquet"):
                old.unlink()
        else:
            self.path.unlink(missing_ok=True)
        # a table is either one file or one folder: remove the other spelling of a rerun
        other = directory / (f"{name}.{fmt}" if self.partitioned else name)
        if other.is_file():
            other.unlink()
        elif other.is_dir():
            for old in other.glob("part-*.parquet"):
                old.unlink()
            with contextlib.suppress(OSError):
                other.rmdir()

    def write(self, df: pd.DataFrame) -> None:
        """Append ``df`` (same columns every time)."""
        self.rows += len(df)
        if self.partitioned:
            table = pa.Table.from_pandas(df, schema=self._schema, preserve_index=False)
            self._schema = self._schema or table.schema
            self.path.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, self.path / f"part-{self.parts:05d}.parquet")
            self.parts += 1
            return
        if self.fmt == "csv":
            df.to_csv(
                self.path,
                mode="a",
                header=not self.path.exists(),
                index=False,
                date_format="%Y-%m-%d",
            )
            return
        table = pa.Table.from_pandas(df, schema=self._schema, preserve_index=False)
        if self._pq is None:
            self._schema = table.schema
            self._pq = pq.ParquetWriter(self.path, self._schema)
        self._pq.write_table(table)

    def close(self) -> None:
        """Finish the file."""
        if self._pq is not None:
            self._pq.close()


@dataclass
class Progress:
    """What a progress callback is told after each chunk."""

    employees_done: int
    employees_total: int
    chunk: int
    chunks: int


def plan_chunks(unit_counts: np.ndarray, chunk_size: int) -> list[np.ndarray]:
    """Group consecutive units into chunks of about ``chunk_size`` employees (whole units)."""
    chunks, current, size = [], [], 0
    for u, count in enumerate(unit_counts):
        if current and size + count > chunk_size:
            chunks.append(np.array(current))
            current, size = [], 0
        current.append(u)
        size += int(count)
    if current:
        chunks.append(np.array(current))
    return chunks


def _nips(emp: pd.DataFrame, taken: set[str]) -> np.ndarray:
    """Well-formed synthetic NIPs (birth date, appointment month, sex digit, sequence), unique."""
    birth = pd.to_datetime(emp["birth_date"]).dt.strftime("%Y%m%d").to_numpy()
    hire = pd.to_datetime(emp["hire_date"]).dt.strftime("%Y%m").to_numpy()
    sex = np.where(emp["sex"].to_numpy() == "L", "1", "2")
    out = np.empty(len(emp), dtype=object)
    for i, (b, h, s, gid) in enumerate(zip(birth, hire, sex, emp["person"], strict=True)):
        seq = int(gid) % 999 + 1
        nip = f"{b}{h}{s}{seq:03d}"
        while nip in taken:
            seq = seq % 999 + 1
            nip = f"{b}{h}{s}{seq:03d}"
        taken.add(nip)
        out[i] = nip
    return out


def _names(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    first = np.where(
        sex == "L",
        rng.choice(names_data.FIRST_NAMES_M, len(sex)),
        rng.choice(names_data.FIRST_NAMES_F, len(sex)),
    )
    last = rng.choice(names_data.LAST_NAMES, len(sex))
    return np.char.add(np.char.add(first.astype(str), " "), last.astype(str))


_SHARED: dict[str, object] = {}


def _init_worker(world: World, schedule: Schedule) -> None:
    _SHARED["world"], _SHARED["schedule"] = world, schedule


def _run_chunk(
    job: tuple[int, int, np.ndarray, np.ndarray, int, str],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[int, int]]:
    """Simulate chunk ``k`` in behaviour world ``name`` (in a worker process or in-process)."""
    seed, k, units, counts, offset, name = job
    world, schedule = _SHARED["world"], _SHARED["schedule"]
    assert isinstance(world, World) and isinstance(schedule, Schedule)
    unit_of = np.repeat(units, counts[units])
    rng = np.random.default_rng([seed, 2, k])
    people = make_people(world, rng, unit_of, offset + np.arange(len(unit_of)))
    share = len(unit_of) / max(int(counts.sum()), 1)
    return simulate_chunk(world, schedule, people, rng, name, share)


def iter_chunks(
    world: World,
    n: int,
    seed: int,
    chunk_size: int,
    workers: int = 1,
    behaviour: str = DEFAULT_WORLD,
) -> Iterator[tuple[int, int, pd.DataFrame, dict[str, pd.DataFrame], dict]]:
    """Simulate the organisation chunk by chunk: (index, count, employees, events, formasi).

    Chunks run in ``workers`` processes but come back in order; each chunk has its own seed,
    so the output does not depend on ``workers``. The last item (index -1) carries sessions.
    ``behaviour``: the behaviour world (:mod:`training.synthetic.worlds`).
    """
    counts = np.random.default_rng([seed, 4]).multinomial(n, world.unit_weight)
    scale_managerial(world, counts)
    schedule = build_schedule(world, n, seed)
    chunks = plan_chunks(counts, chunk_size)
    offsets = np.concatenate([[0], np.cumsum([counts[c].sum() for c in chunks])])
    jobs = [(seed, k, c, counts, int(offsets[k]), behaviour) for k, c in enumerate(chunks)]
    if workers <= 1 or len(jobs) == 1:
        _init_worker(world, schedule)
        results: Iterator = map(_run_chunk, jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(world, schedule))
        results = pool.map(_run_chunk, jobs)
    try:
        for k, (emp, events, formasi) in enumerate(results):
            yield k, len(chunks), emp, events, formasi
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    yield -1, len(chunks), pd.DataFrame(), {"sessions": schedule.table}, {}


def generate(
    n: int,
    seed: int,
    out: Path,
    fmt: str = "parquet",
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[Progress], None] | None = None,
    workers: int | None = None,
    partitioned: bool | None = None,
    world: str = DEFAULT_WORLD,
    truth: bool = False,
) -> dict[str, int]:
    """Write the organisation to ``out`` (one file per table); returns rows per table.

    ``world`` names the behaviour world (:mod:`training.synthetic.worlds`; default
    ``self_selection``): it changes who enrols in what and the outcome interactions, never
    the tables' schema. ``truth``: also the positions' ground truth (:data:`TRUTH_DIR`).
    ``workers`` processes simulate chunks in parallel (default: one per CPU); the files are the
    same for any number of workers. ``partitioned`` (default: above :data:`PARTITION_ABOVE`
    employees, Parquet only) writes the tables that grow with the organisation as folders of
    one Parquet file per chunk, so that no single file holds millions of rows.

    Raises ValueError for ``n < 1``, an unknown format or an unknown world.
    """
    if n < 1:
        raise ValueError(f"--employees must be at least 1, got {n}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown format '{fmt}': use parquet or csv")
    get_world(name=world)  # fail before writing anything
    out.mkdir(parents=True, exist_ok=True)
    ref = build_world(seed)
    writers, truths = dict[str, TableWriter](), dict[str, TableWriter]()
    taken: set[str] = set()
    formasi_total: dict[int, int] = {}
    done, enrol_seq = 0, 0
    workers = workers or os.cpu_count() or 1
    parts = (n > PARTITION_ABOVE) if partitioned is None else partitioned
    if parts:  # the tables that grow with the organisation, as folders of parts
        writers.update({t: TableWriter(out, t, fmt, True) for t in ("employees", *EVENT_COLUMNS)})
    chunks = iter_chunks(ref, n, seed, chunk_size, workers, behaviour=world)
    for k, total, emp, events, formasi in chunks:
        if k < 0:
            _writer(writers, out, "sessions", fmt).write(events["sessions"])
            break
        rng = np.random.default_rng([seed, 5, k])
        nip_of = dict(zip(emp["person"], _nips(emp, taken), strict=True))
        emp.insert(1, "name", _names(rng, emp["sex"].to_numpy()))
        emp.insert(0, "nip", emp.pop("person").map(nip_of))
        _writer(writers, out, "employees", fmt).write(emp)
        enrol_seq = _write_events(writers, out, fmt, events, nip_of, enrol_seq)
        if truth:
            _write_truth(truths, out, fmt, events, nip_of)
        for pos, count in formasi.items():
            formasi_total[pos] = formasi_total.get(pos, 0) + count
        done += len(emp)
        if on_progress:
            on_progress(Progress(done, n, k + 1, total))
    _write_reference(writers, out, fmt, ref, formasi_total)
    _ = [w.close() for w in [*writers.values(), *truths.values()]]
    return {name: w.rows for name, w in writers.items()}


def _write_truth(
    truths: dict[str, TableWriter],
    out: Path,
    fmt: str,
    events: dict[str, pd.DataFrame],
    nip_of: dict[int, str],
) -> None:
    """Append a chunk's ground truth of positions to ``out/_truth/positions.<fmt>``."""
    if "truth_positions" not in events:
        return
    df = events["truth_positions"].rename(columns=TRUTH_COLUMNS)
    df["nip"] = df["nip"].map(nip_of)
    (out / TRUTH_DIR).mkdir(exist_ok=True)
    _writer(truths, out / TRUTH_DIR, "positions", fmt).write(df)


def _writer(writers: dict[str, TableWriter], out: Path, name: str, fmt: str) -> TableWriter:
    if name not in writers:
        writers[name] = TableWriter(out, name, fmt)
    return writers[name]


def _write_events(
    writers: dict[str, TableWriter],
    out: Path,
    fmt: str,
    events: dict[str, pd.DataFrame],
    nip_of: dict[int, str],
    enrol_seq: int,
) -> int:
    for table, columns in EVENT_COLUMNS.items():
        df = events.get(table)
        if df is None:
            continue
        if table == "enrollments":
            df.insert(
                0, "enrollment_id", [f"EN{i:09d}" for i in range(enrol_seq, enrol_seq + len(df))]
            )
            enrol_seq += len(df)
        df = df.rename(columns=columns)[list(columns.values())]
        df["nip"] = df["nip"].map(nip_of)
        for col in INT_COLUMNS:
            if col in df:
                df[col] = df[col].astype("Int64")
        _writer(writers, out, table, fmt).write(df)
    return enrol_seq


def _write_reference(
    writers: dict[str, TableWriter], out: Path, fmt: str, world: World, formasi: dict[int, int]
) -> None:
    positions = world.positions.copy()
    for pos, count in formasi.items():
        positions.iat[pos, positions.columns.get_loc("formasi")] = count
    tables = {
        "units": world.units,
        "competencies": world.competencies,
        "positions": positions,
        "position_requirements": world.requirements,
        "programs": world.programs,
        "program_competencies": world.program_competencies,
        "priorities": world.priorities,
    }
    for name, df in tables.items():
        w = _writer(writers, out, name, fmt)
        w.write(df)
