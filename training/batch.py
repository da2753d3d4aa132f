"""Batch recommendations for every active employee: partitioned Parquet, resumable, in-process
or on a Dask cluster (docs/batch.md).

The rows are what the service answers: programmes come from
:func:`recommender.programs.recommend.top_programs` (the function behind ``Service.programs``)
and positions from :func:`recommender.careers.recommend.next_positions` (behind
``Service.positions``), with the service's rounding of scores and its reason codes, for the same
model version and as-of date.

State. The organisation is split in two:

- organisation-wide statistics (:class:`Shared`): the catalogue, usage statistics (popularity
  by position, unit and tier, item similarity) and, for positions, the careers position table
  (holders and retirements on the date), move history, unit groups, the unit x JF shares and
  the career patterns. Their size depends on the number of positions, programmes and units,
  not on employees. They are summed partition by partition from the person tables read in
  record batches (:func:`streamed_programs`, :func:`streamed_positions`,
  :mod:`training.batch_data`), with the library's own counting functions, and equal what
  :func:`recommender.service.build_world` gives on the whole organisation
  (:func:`shared_state`, kept for tests). They are shipped to every worker once;
- per-person state: each partition builds its own snapshot (levels, completions, ratings, ...)
  from the rows of its own employees only (:func:`recommender.snapshot.build_snapshot` on the
  partition's tables; every person's row is computed from that person's records alone), and
  for positions its own careers person table.

Workers therefore hold the shared statistics plus one partition, never the organisation. The
driver of either kind holds the organisation tables, the ids of the active people and one
partition: the person tables are spilled to ``DIR/.spill`` by partition (for positions also the
rows of people who are no longer active, in buckets after the scoring partitions: their moves
and completions count in the move history and career patterns). The one exception is the
median years per pair of the career patterns, which keeps one float per first move.

Output: ``DIR/part-00000.parquet`` ... (one per partition, rows ordered by the snapshot's
employee order, then rank) and ``DIR/_manifest.json`` (the run's specification, and per
partition its employees, rows and SHA-256). A partition is written to a temporary file and
renamed, then recorded in the manifest (itself replaced atomically); a rerun skips partitions
whose file matches the recorded hash and redoes the rest. Nothing in the files depends on time
or on the order partitions finish, so an interrupted and resumed run ends byte-identical to an
uninterrupted one, in-process or on Dask.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recommender import bundles
from recommender.careers.features import (
    CareerContext,
    History,
    candidate_frame,
    person_table,
    unit_groups,
)
from recommender.careers.patterns import PatternTable
from recommender.careers.recommend import next_positions
from recommender.careers.rules import RuleSet, load_rules
from recommender.config import Settings
from recommender.data.io import list_files, load_clean
from recommender.programs import reasons
from recommender.programs.catalog import Catalog, build_catalog
from recommender.programs.features import FEATURES, Usage
from recommender.programs.ranker import ProgramRanker
from recommender.programs.recommend import top_programs
from recommender.service import Models, World, load_models
from recommender.snapshot import Snapshot, build_snapshot
from training.batch_data import (
    PERSON_TABLES,
    SPILL_DIR,
    UNUSED_TABLES,
    Part,
    Spill,
    active_employees,
    streamed_careers,
    streamed_usage,
    table_paths,
    table_rows,
)

log = logging.getLogger(__name__)

FORMAT = "jenjang-batch/1"
MANIFEST = "_manifest.json"
LOCK = ".batch.lock"
KINDS = ("programs", "positions")
MODEL_OF = {"programs": bundles.PROGRAMS, "positions": bundles.CAREERS}
DEFAULT_K = {"programs": 50, "positions": 5}
MAX_K = {"programs": 50, "positions": 20}  # the service's limits
DEFAULT_PARTITION = 10_000
#: Organisation tables a partition's snapshot needs (small: positions, units, programmes).
ORG_TABLES = ("positions", "units", "programs", "competencies")
#: Memo key of the unit x JF shares in ``recommender.careers.features._jf_in_unit``: a
#: partition's snapshot is given the organisation's table under it (checked at start-up).
JF_MEMO = "jf_in_unit"
#: the service's answers in positions use Indonesian wording (codes do not depend on it)
LANG = "id"
SCORE_DIGITS = 6  # the service rounds scores to 6 decimals


class BatchError(RuntimeError):
    """The run is refused or cannot go on; the message says why and what to do."""


# --------------------------------------------------------------------------- specification
@dataclass(frozen=True)
class ModelText:
    """A verified model as text (never a pickled booster): the workers parse it after checking
    the SHA-256. ``text`` None = no model (positions in standards-only mode)."""

    name: str
    version: str | None
    sha256: str | None
    run_id: str | None
    text: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, name: str, models: Models) -> ModelText:
        """The loaded bundle of ``name`` (or an empty one when the model is not loaded)."""
        b = models.bundles.get(name)
        if b is None:
            return cls(name, None, None, None, None)
        return cls(b.name, b.version, b.sha256, b.run_id, b.text)

    def describe(self) -> dict[str, Any]:
        """Name, version, SHA-256 and run id (for the manifest)."""
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "run_id": self.run_id,
        }


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


def data_fingerprint(clean_dir: Path) -> dict[str, Any]:
    """SHA-256 over the names and contents of every table of the clean folder (a file, or a
    folder of Parquet parts for large organisations), and the number of tables."""
    files, _ = list_files(Path(clean_dir))
    digest = hashlib.sha256()
    for name in sorted(files):
        path = files[name]
        parts = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        for part in parts:
            digest.update(f"{part.relative_to(path.parent)}\0".encode())
            digest.update(_file_sha256(part).encode())
    return {"fingerprint": digest.hexdigest(), "tables": len(files)}


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def rules_identity(rules: RuleSet) -> dict[str, Any]:
    """Version and SHA-256 of the career-rules file (positions depend on it)."""
    return {"version": rules.version, "sha256": _file_sha256(Path(rules.path))}


@dataclass(frozen=True)
class Request:
    """What to compute and where: ``kind`` programs or positions, top ``k``, as of ``at``."""

    kind: str
    out: Path
    k: int
    at: pd.Timestamp
    clean_dir: Path
    partition_size: int = DEFAULT_PARTITION
    dask: str | None = None  # None in-process, "local" or a scheduler address
    overwrite: bool = False

    def check(self) -> None:
        """Raise BatchError for a bad kind, k or partition size."""
        if self.kind not in KINDS:
            raise BatchError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not 1 <= self.k <= MAX_K[self.kind]:
            raise BatchError(f"k must be between 1 and {MAX_K[self.kind]} for {self.kind}")
        if self.partition_size < 1:
            raise BatchError("the partition size must be at least 1")


def spec_of(req: Request, model: ModelText, data: dict[str, Any], rules: RuleSet) -> dict[str, Any]:
    """The part of the manifest a rerun must match to resume (no times, no paths)."""
    mode = None
    if req.kind == "positions":
        mode = "learned" if model.text is not None else "standards"
    return {
        "format": FORMAT,
        "kind": req.kind,
        "k": req.k,
        "as_of": str(req.at.date()),
        "year": int(req.at.year),
        "model": {**model.describe(), **({"mode": mode} if mode else {})},
        "data": data,
        "career_rules": rules_identity(rules) if req.kind == "positions" else None,
        "partition_size": req.partition_size,
    }


# --------------------------------------------------------------------------- shared state
@dataclass
class Shared:
    """Organisation-wide state (sized by positions, programmes and units, not by employees):
    see the module docstring. The careers part (``positions`` .. ``jf_shares``) is None for a
    programme batch."""

    at: pd.Timestamp
    year: int
    cat: Catalog
    usage: Usage
    org: dict[str, pd.DataFrame]
    positions: pd.DataFrame | None = None
    history: History | None = None
    groups: pd.Series | None = None
    rules: RuleSet | None = None
    patterns: PatternTable | None = None
    jf_shares: pd.Series | None = None


def shared_state(world: World) -> Shared:
    """The organisation-wide part of ``world`` (built by the service's own code)."""
    ctx = world.careers
    if len(world.snap.people):
        # the unit x JF shares are computed over everyone on the date and memoised on the
        # snapshot by the candidate features: run them once for one person and keep the table
        candidate_frame(ctx, np.array([0]))
        hit = world.snap.cache.get(JF_MEMO)
        if hit is None or hit[0] is not ctx.positions:
            raise BatchError(
                "recommender.careers.features no longer memoises the unit x JF shares under "
                f"{JF_MEMO!r}: update training/batch.py"
            )
        jf = hit[1]
    else:
        jf = pd.Series(dtype=float)
    return Shared(
        at=world.snap.at,
        year=world.year,
        cat=world.cat,
        usage=world.usage,
        org={n: world.tables[n] for n in ORG_TABLES if n in world.tables},
        positions=ctx.positions,
        history=ctx.history,
        groups=unit_groups(world.tables["units"]),
        rules=ctx.rules,
        patterns=world.patterns,
        jf_shares=jf,
    )


def streamed_programs(
    req: Request, out: Path, say: Callable[[int, int, str], None]
) -> tuple[Shared, Spill]:
    """The shared state of a programme batch and its partitions, read from the clean tables
    partition by partition (:mod:`training.batch_data`): the driver never holds the person
    tables. Raises BatchError when the clean folder lacks a needed table."""
    paths = table_paths(req.clean_dir)
    missing = [n for n in ("employees", "enrollments", *ORG_TABLES) if n not in paths]
    if missing:
        raise BatchError(
            f"{req.clean_dir}: no clean table {', '.join(missing)}: run `jenjang ingest` first"
        )
    org_names = [n for n in paths if n not in PERSON_TABLES and n not in UNUSED_TABLES]
    org = load_clean(req.clean_dir, org_names)
    say(0, 0, "finding the active employees")
    eligible = active_employees(paths["employees"], req.at)
    programs = pd.Index(org["programs"]["program_id"])
    spill = Spill(
        req.clean_dir, out / SPILL_DIR, eligible, req.partition_size, req.at, programs, say
    )
    try:
        usage = streamed_usage(spill, org, req.at, say)
    except BaseException:
        spill.close()
        raise
    shared = Shared(
        at=req.at,
        year=req.at.year,
        cat=build_catalog(org),
        usage=usage,
        org={n: org[n] for n in ORG_TABLES if n in org},
    )
    return shared, spill


def streamed_positions(
    req: Request, out: Path, say: Callable[[int, int, str], None], rules: RuleSet
) -> tuple[Shared, Spill]:
    """The shared state of a positions batch and its partitions, read from the clean tables
    partition by partition like :func:`streamed_programs`; the spill also holds the rows of
    the people who are no longer active (in buckets after the scoring partitions: their moves
    and completions count in the history and career patterns). Equal to
    :func:`shared_state` of the whole organisation's world; raises BatchError when the clean
    folder lacks a needed table."""
    paths = table_paths(req.clean_dir)
    needed = ("employees", "enrollments", "career_moves", *ORG_TABLES)
    missing = [n for n in needed if n not in paths]
    if missing:
        raise BatchError(
            f"{req.clean_dir}: no clean table {', '.join(missing)}: run `jenjang ingest` first"
        )
    org_names = [n for n in paths if n not in PERSON_TABLES and n not in UNUSED_TABLES]
    org = load_clean(req.clean_dir, org_names)
    say(0, 0, "finding the active employees")
    eligible = active_employees(paths["employees"], req.at)
    total = table_rows(paths["employees"])
    inactive = max(1, -(-(total - len(eligible)) // req.partition_size))
    programs = pd.Index(org["programs"]["program_id"])
    spill = Spill(
        req.clean_dir,
        out / SPILL_DIR,
        eligible,
        req.partition_size,
        req.at,
        programs,
        say,
        inactive_buckets=inactive,
    )
    try:
        usage, careers = streamed_careers(spill, org, req.at, say)
    except BaseException:
        spill.close()
        raise
    shared = Shared(
        at=req.at,
        year=req.at.year,
        cat=build_catalog(org),
        usage=usage,
        org={n: org[n] for n in ORG_TABLES if n in org},
        positions=careers.positions,
        history=careers.history,
        groups=unit_groups(org["units"]),
        rules=rules,
        patterns=careers.patterns,
        jf_shares=careers.jf_shares,
    )
    return shared, spill


def partition_state(
    shared: Shared, tables: dict[str, pd.DataFrame], careers: bool
) -> tuple[Snapshot, CareerContext | None]:
    """The snapshot of one partition's employees (and its careers context when ``careers``),
    with the organisation-wide statistics of ``shared``."""
    snap = build_snapshot({**shared.org, **tables}, shared.at)
    if not careers:
        return snap, None
    if (
        shared.positions is None
        or shared.history is None
        or shared.groups is None
        or shared.rules is None
    ):
        raise BatchError("this shared state has no careers part (built for programmes)")
    persons = person_table(snap, shared.positions, shared.org["programs"], shared.groups)
    ctx = CareerContext(snap, shared.cat, shared.positions, shared.history, persons, shared.rules)
    snap.memo_for(JF_MEMO, shared.positions, lambda: shared.jf_shares)
    return snap, ctx


class Slicer:
    """Row positions of each person table grouped by partition (one stable sort per table), so
    a partition's tables are taken without scanning the organisation again."""

    def __init__(self, tables: dict[str, pd.DataFrame], eligible: pd.Index, size: int) -> None:
        self.count = -(-len(eligible) // size) if len(eligible) else 0
        self.eligible = eligible
        self.size = size
        self.tables = {n: tables[n] for n in PERSON_TABLES if n in tables}
        self._order: dict[str, np.ndarray] = {}
        self._bounds: dict[str, np.ndarray] = {}
        for name, df in self.tables.items():
            pos = eligible.get_indexer(pd.Index(df["employee_id"]))
            part = np.where(pos >= 0, pos // size, -1).astype(np.int64)
            order = np.argsort(part, kind="stable")
            self._order[name] = order.astype(np.int64)
            self._bounds[name] = np.searchsorted(part[order], np.arange(self.count + 1))

    def employees(self, i: int) -> pd.Index:
        """Employee ids of partition ``i`` in snapshot order."""
        return self.eligible[i * self.size : (i + 1) * self.size]

    def take(self, i: int) -> Part:
        """The person tables restricted to partition ``i``'s employees (original row order)."""
        out = {}
        for name, df in self.tables.items():
            lo, hi = self._bounds[name][i], self._bounds[name][i + 1]
            out[name] = df.iloc[self._order[name][lo:hi]].reset_index(drop=True)
        return Part(i, out)


# --------------------------------------------------------------------------- one partition
@dataclass(frozen=True)
class PartitionResult:
    """A written partition: Parquet bytes and its counts."""

    index: int
    data: bytes
    rows: int
    employees: int
    fewer_than_k: int
    without_rows: int


def _schema(kind: str) -> pa.Schema:
    item = "program_id" if kind == "programs" else "position_id"
    fields = [
        pa.field("employee_id", pa.string(), nullable=False),
        pa.field("rank", pa.int16(), nullable=False),
        pa.field(item, pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
    ]
    if kind == "positions":
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
    cols = [FEATURES.index(f) for f in reasons.REASON_FEATURES]
    out: dict[str, list[Any]] = {n: [] for n in ("employee_id", "rank", "item", "score", "codes")}
    for n, employee in enumerate(snap.people.index):
        ranked = top_programs(snap, shared.cat, shared.usage, ranker, employee, shared.year, k)
        values = ranked.candidates.X[:, cols]
        m = len(ranked.score)
        out["employee_id"] += [employee] * m
        out["rank"] += range(1, m + 1)
        out["item"] += [str(p) for p in ranked.candidates.program_ids]
        out["score"] += [round(float(s), SCORE_DIGITS) for s in ranked.score]
        out["codes"] += [
            reasons.codes_for(dict(zip(reasons.REASON_FEATURES, v, strict=True)))[:3]
            for v in values
        ]
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
    for n, employee in enumerate(ctx.snap.people.index):
        found = next_positions(ctx, ranker, employee, k, shared.patterns, lang=LANG)
        out["employee_id"] += [employee] * len(found)
        out["rank"] += [s.rank for s in found]
        out["item"] += [s.position_id for s in found]
        out["score"] += [round(s.score, SCORE_DIGITS) for s in found]
        out["eligible"] += [bool(s.verdict.eligible) for s in found]
        out["codes"] += [list(s.reason_codes) for s in found]
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
    """Recommendations for one partition's employees as Parquet bytes (runs on a worker)."""
    tick = tick or (lambda _n: None)
    ranker = parsed_ranker(model)
    snap, ctx = partition_state(shared, part.tables, careers=kind == "positions")
    if kind == "programs":
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
        "program_id" if kind == "programs" else "position_id": rows["item"],
        "score": rows["score"],
    }
    if kind == "positions":
        columns["eligible"] = rows["eligible"]
    columns["reason_codes"] = rows["codes"]
    columns["model_name"] = [model.name] * n
    columns["model_version"] = [model.version] * n
    table = pa.table(columns, schema=_schema(kind))
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


# --------------------------------------------------------------------------- the folder
def part_name(i: int) -> str:
    """File name of partition ``i``."""
    return f"part-{i:05d}.parquet"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _dump(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def _ours(name: str) -> bool:
    return (
        name in (MANIFEST, LOCK, SPILL_DIR)
        or (name.startswith("part-") and name.endswith(".parquet"))
        or (name.startswith(".") and name.endswith(".tmp"))
    )


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    labels = {
        "kind": "kind",
        "k": "k",
        "as_of": "as-of date",
        "partition_size": "partition size",
        "format": "format",
    }
    for key, label in labels.items():
        if old.get(key) != new.get(key):
            out.append(f"{label} {old.get(key)} -> {new.get(key)}")
    om, nm = old.get("model") or {}, new.get("model") or {}
    if (om.get("name"), om.get("version"), om.get("sha256")) != (
        nm.get("name"),
        nm.get("version"),
        nm.get("sha256"),
    ):
        out.append(f"model {om.get('name')} version {om.get('version')} -> {nm.get('version')}")
    if (old.get("data") or {}).get("fingerprint") != (new.get("data") or {}).get("fingerprint"):
        out.append("clean data changed (fingerprint)")
    if old.get("career_rules") != new.get("career_rules"):
        out.append("career rules changed")
    return out


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One writer per folder (the lock goes with the process, also when it is killed)."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK).open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"another batch run is writing {out}") from None
        yield


def _prepare_folder(out: Path, spec: dict[str, Any], overwrite: bool) -> dict[str, Any] | None:
    """The existing manifest to resume from, or None for a fresh start; refuses a folder with a
    different run (unless ``overwrite``) or with files that are not batch output."""
    path = out / MANIFEST
    names = [p.name for p in out.iterdir() if p.name != LOCK]
    old: dict[str, Any] | None = None
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
    foreign = sorted(n for n in names if not _ours(n))
    if overwrite:
        for n in names:
            if n == SPILL_DIR:
                shutil.rmtree(out / n, ignore_errors=True)
            elif _ours(n):
                (out / n).unlink()
        return None
    if foreign and old is None:
        more = ", ..." if len(foreign) > 3 else ""
        raise BatchError(
            f"{out} is not empty and holds no batch manifest ({', '.join(foreign[:3])}{more}): "
            "choose an empty or new folder, or pass --overwrite"
        )
    for n in names:
        if n.startswith(".") and n.endswith(".tmp"):
            (out / n).unlink()  # half-written by an interrupted run
    if old is None:
        if any(n.startswith("part-") for n in names):
            raise BatchError(f"{out} holds partitions but no manifest: pass --overwrite")
        return None
    diff = _differences(old, spec)
    if diff:
        raise BatchError(
            f"{out} holds a different batch run ({'; '.join(diff)}): choose another folder, "
            "or pass --overwrite to replace it"
        )
    return old


Partitions = Slicer | Spill


def _plan(slicer: Partitions) -> list[dict[str, Any]]:
    plan = []
    for i in range(slicer.count):
        ids = slicer.employees(i)
        plan.append(
            {
                "index": i,
                "file": part_name(i),
                "employees": len(ids),
                "first_employee": str(ids[0]),
                "last_employee": str(ids[-1]),
                "rows": None,
                "fewer_than_k": None,
                "without_rows": None,
                "sha256": None,
            }
        )
    return plan


def _done(out: Path, entry: dict[str, Any]) -> bool:
    path = out / entry["file"]
    return bool(entry.get("sha256")) and path.is_file() and _file_sha256(path) == entry["sha256"]


# --------------------------------------------------------------------------- running
Progress = Callable[[int, int, str], None]  # (employees done, employees total, message)


@dataclass
class Outcome:
    """The final manifest, what this run did, and how long its phases took (seconds)."""

    manifest: dict[str, Any]
    written: int
    skipped: int
    timings: dict[str, float]


def _models(settings: Settings, local_only: bool) -> Models:
    if not local_only:
        return load_models(settings)
    found, rankers = {}, {}
    for name in bundles.MODEL_NAMES:
        try:
            b = bundles.load_local(settings.models_dir, name)
        except bundles.BundleError:
            continue
        found[name], rankers[name] = b, b.ranker()
    return Models(found, rankers)


def run_batch(
    req: Request,
    settings: Settings,
    models: Models | None = None,
    *,
    local_models: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """Compute and write the batch of ``req`` (resuming a matching run in ``req.out``).

    ``models`` default: the champions (registry, else the verified local copies; with
    ``local_models`` the local copies only). Raises BatchError when refused or when a needed
    model is missing, ModelIntegrityError for a model whose text fails its hash.
    """
    req.check()
    say = progress or (lambda _d, _t, _m: None)
    t0 = time.perf_counter()
    models = models if models is not None else _models(settings, local_models)
    model = ModelText.of(MODEL_OF[req.kind], models)
    if req.kind == "programs" and model.text is None:
        raise BatchError(
            f"no {bundles.PROGRAMS} model is loaded: train and promote one first "
            "(`jenjang train programs`, `jenjang promote programs`)"
        )
    rules = load_rules(settings.career_rules)
    spec = spec_of(req, model, data_fingerprint(req.clean_dir), rules)
    out = Path(req.out)
    with _locked(out), contextlib.ExitStack() as cleanup:
        old = _prepare_folder(out, spec, req.overwrite)
        if (
            old is not None
            and old.get("complete")
            and all(_done(out, e) for e in old["partitions"])
        ):
            n = len(old["partitions"])
            spent = time.perf_counter() - t0
            return Outcome(
                old,
                0,
                n,
                {"prepare_s": spent, "score_s": 0.0, "total_s": spent, "scored_employees": 0.0},
            )
        slicer: Partitions
        if req.kind == "programs":
            shared, slicer = streamed_programs(req, out, say)
            cleanup.callback(slicer.close)  # the spilled tables go when the run ends
        else:
            shared, slicer = streamed_positions(req, out, say, rules)
            cleanup.callback(slicer.close)
        eligible = slicer.eligible
        plan = _plan(slicer)
        manifest = {
            **spec,
            "source": str(Path(req.clean_dir).resolve()),
            "eligible_employees": len(eligible),
            "partitions": plan,
            "complete": False,
        }
        if old is not None:
            keep = [{k: e.get(k) for k in ("file", "employees", "first_employee")} for e in plan]
            was = [
                {k: e.get(k) for k in ("file", "employees", "first_employee")}
                for e in old.get("partitions", [])
            ]
            if keep != was:
                raise BatchError(f"{out}: the partitions differ from the recorded run")
            for entry, before in zip(plan, old["partitions"], strict=True):
                if _done(out, before):
                    entry.update(before)
        _write_atomic(out / MANIFEST, _dump(manifest))
        todo = [e["index"] for e in plan if not e["sha256"]]
        done_emp = sum(e["employees"] for e in plan if e["sha256"])
        t_world = time.perf_counter() - t0
        say(done_emp, len(eligible), "scoring")

        def record(res: PartitionResult) -> None:
            nonlocal done_emp
            entry = plan[res.index]
            _write_atomic(out / entry["file"], res.data)
            entry.update(
                rows=res.rows,
                fewer_than_k=res.fewer_than_k,
                without_rows=res.without_rows,
                sha256=hashlib.sha256(res.data).hexdigest(),
            )
            _write_atomic(out / MANIFEST, _dump(manifest))

        t1 = time.perf_counter()
        cluster_time: dict[str, float] = {}
        if req.dask is None:
            label = ""

            def tick(n: int) -> None:
                nonlocal done_emp
                done_emp += n
                say(done_emp, len(eligible), label)

            for i in todo:
                label = f"partition {i + 1}/{slicer.count}"
                record(run_partition(shared, model, req.kind, req.k, slicer.take(i), tick))
        else:
            for res in _on_dask(req, shared, model, slicer, todo, cluster_time):
                record(res)
                done_emp += res.employees
                say(done_emp, len(eligible), f"partition {res.index + 1}/{slicer.count}")
        t_score = time.perf_counter() - t1 - cluster_time.get("cluster_s", 0.0)
        manifest["complete"] = True
        manifest["totals"] = {
            "employees": len(eligible),
            "rows": sum(int(e["rows"]) for e in plan),
            "fewer_than_k": sum(int(e["fewer_than_k"]) for e in plan),
            "without_rows": sum(int(e["without_rows"]) for e in plan),
        }
        _write_atomic(out / MANIFEST, _dump(manifest))
    return Outcome(
        manifest,
        written=len(todo),
        skipped=slicer.count - len(todo),
        timings={
            "prepare_s": t_world,
            "score_s": t_score,
            **cluster_time,
            "total_s": time.perf_counter() - t0,
            "scored_employees": float(sum(plan[i]["employees"] for i in todo)),
        },
    )


def _on_dask(
    req: Request,
    shared: Shared,
    model: ModelText,
    slicer: Partitions,
    todo: list[int],
    timings: dict[str, float],
) -> Iterator[PartitionResult]:
    """Run the partitions ``todo`` as Dask tasks (one per partition, a few in flight) and yield
    their results as they finish; ``timings["cluster_s"]``: starting or connecting to the
    cluster and sending it the shared state."""
    start = time.perf_counter()
    # distributed logs every start and stop at INFO, in the workers too: errors only
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    from distributed import Client, LocalCluster, as_completed

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = None
    assert req.dask is not None
    if req.dask == "local":
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # no fixed port to collide with
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        client = Client(req.dask, timeout="30s")
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        shared_f = client.scatter(shared, broadcast=True, hash=False)
        model_f = client.scatter(model, broadcast=True, hash=False)
        timings["cluster_s"] = time.perf_counter() - start
        queue = iter(todo)
        running = as_completed()

        def submit() -> bool:
            i = next(queue, None)
            if i is None:
                return False
            tables = client.scatter(slicer.take(i), hash=False)
            running.add(
                client.submit(
                    run_partition,
                    shared_f,
                    model_f,
                    req.kind,
                    req.k,
                    tables,
                    key=f"jenjang-batch-{req.kind}-{i:05d}-{os.getpid()}",
                    pure=False,
                    retries=1,
                )
            )
            return True

        for _ in range(2 * workers):
            if not submit():
                break
        for fut in running:
            res: PartitionResult = fut.result()
            fut.release()
            submit()
            yield res
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def read_rows(out: Path) -> pd.DataFrame:
    """Every row of a batch folder, in partition order (for checks and small exports)."""
    manifest = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    parts = [pd.read_parquet(Path(out) / e["file"]) for e in manifest["partitions"]]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
