"""The state of a batch run (docs/batch.md): the organisation-wide statistics shared by every
partition (:class:`Shared`), read partition by partition from the clean tables, and one
partition's own snapshot (:func:`partition_state`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.careers.features import (
    CareerContext,
    History,
    candidate_frame,
    person_table,
    unit_groups,
)
from recommender.careers.patterns import PatternTable
from recommender.careers.rules import RuleSet
from recommender.data.io import load_clean
from recommender.programs.catalog import Catalog, build_catalog
from recommender.programs.features import Usage
from recommender.snapshot import WINDOW_DATES, Snapshot, build_snapshot, history_windows
from recommender.state import World
from training.batch_data import (
    PERSON_TABLES,
    SPILL_DIR,
    UNUSED_TABLES,
    Part,
    Say,
    Spill,
    active_employees,
    record_batches,
    streamed_careers,
    streamed_usage,
    table_paths,
    table_rows,
)
from training.batch_spec import BatchError, Request

#: Organisation tables a partition's snapshot needs (small: positions, units, programmes).
ORG_TABLES = ("positions", "units", "programs", "competencies")
#: Memo key of the unit x JF shares in ``recommender.careers.features._jf_in_unit``: a
#: partition's snapshot is given the organisation's table under it (checked at start-up).
JF_MEMO = "jf_in_unit"


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
    #: the organisation's history window starts (:func:`recommender.snapshot.history_windows`)
    windows: dict[str, pd.Timestamp] = field(default_factory=dict)


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
                f"{JF_MEMO!r}: update training/batch_state.py"
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
        windows=history_windows(tables=world.tables),
    )


def streamed_windows(paths: dict[str, Path]) -> dict[str, pd.Timestamp]:
    """:func:`recommender.snapshot.history_windows` of the clean tables at ``paths`` (table
    name -> file or folder of parts), reading one date column at a time."""
    out = {}
    for name, col in WINDOW_DATES.items():
        if name not in paths:
            continue
        firsts = [
            pd.to_datetime(b.column(0).to_pandas()).min()
            for b in record_batches(paths[name], [col])
            if b.num_rows
        ]
        firsts = [f for f in firsts if not pd.isna(f)]
        if firsts:
            out[name] = pd.Timestamp(min(firsts))
    return out


def _organisation(
    req: Request, needed: tuple[str, ...], say: Say
) -> tuple[dict[str, Path], dict[str, pd.DataFrame], pd.Index]:
    """The clean tables' paths, the organisation tables (read whole: never a person table) and
    the ids of the people active on the date; BatchError when a ``needed`` table is missing."""
    paths = table_paths(req.clean_dir)
    missing = [n for n in needed if n not in paths]
    if missing:
        raise BatchError(
            f"{req.clean_dir}: no clean table {', '.join(missing)}: run `jenjang ingest` first"
        )
    org_names = [n for n in paths if n not in PERSON_TABLES and n not in UNUSED_TABLES]
    org = load_clean(req.clean_dir, org_names)
    say(0, 0, "finding the active employees")
    return paths, org, active_employees(paths["employees"], req.at)


def streamed_programs(req: Request, out: Path, say: Say) -> tuple[Shared, Spill]:
    """The shared state of a programme batch and its partitions, read from the clean tables
    partition by partition (:mod:`training.batch_data`): the driver never holds the person
    tables. Raises BatchError when the clean folder lacks a needed table."""
    paths, org, eligible = _organisation(req, ("employees", "enrollments", *ORG_TABLES), say)
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
        windows=streamed_windows(paths),
    )
    return shared, spill


def streamed_positions(req: Request, out: Path, say: Say, rules: RuleSet) -> tuple[Shared, Spill]:
    """The shared state of a positions batch and its partitions, read from the clean tables
    partition by partition like :func:`streamed_programs`; the spill also holds the rows of
    the people who are no longer active (in buckets after the scoring partitions: their moves
    and completions count in the history and career patterns). Equal to
    :func:`shared_state` of the whole organisation's world; raises BatchError when the clean
    folder lacks a needed table."""
    needed = ("employees", "enrollments", "career_moves", *ORG_TABLES)
    paths, org, eligible = _organisation(req, needed, say)
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
        windows=streamed_windows(paths),
    )
    return shared, spill


def partition_state(
    shared: Shared, tables: dict[str, pd.DataFrame], careers: bool
) -> tuple[Snapshot, CareerContext | None]:
    """The snapshot of one partition's employees (and its careers context when ``careers``),
    with the organisation-wide statistics of ``shared``."""
    snap = build_snapshot({**shared.org, **tables}, shared.at, shared.windows or None)
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


#: Where a run takes its partitions from: the spilled tables, or (tests) tables in memory.
Partitions = Slicer | Spill
