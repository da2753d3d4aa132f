"""Scheduled batches (sessions) of each programme per year, sized to the organisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.synthetic.world import FIRST_YEAR, PLAN_YEAR, World

MAX_BATCHES = 12
MANDATORY = ("latsar", "pkp", "pka", "pkn_ii", "pkn_i", "fungsional_dasar")


@dataclass(frozen=True)
class Schedule:
    """Sessions table plus lookup arrays: ``start``/``end`` (programs x years x MAX_BATCHES)."""

    table: pd.DataFrame
    start: np.ndarray
    end: np.ndarray
    count: np.ndarray  # (programs x years) number of batches, 0 when not offered
    ids: np.ndarray  # (programs x years x MAX_BATCHES) session ids


def offered(world: World, year: int) -> np.ndarray:
    """Boolean mask of programmes in the catalogue in ``year``."""
    prog = world.programs
    to = prog["active_to"].fillna(9999).to_numpy()
    return (prog["active_from"].to_numpy() <= year) & (year <= to)


def _batches(world: World, n_employees: int) -> np.ndarray:
    prog = world.programs
    pop = world.prog_popularity / world.prog_popularity.sum()
    demand = 1.2 * n_employees * 2.5 * pop
    mandatory = prog["modality"].isin(MANDATORY).to_numpy()
    demand = np.where(mandatory, n_employees * 0.02, demand)
    return np.clip(np.ceil(demand / prog["capacity_per_batch"].to_numpy()), 1, MAX_BATCHES)


def build_schedule(world: World, n_employees: int, seed: int) -> Schedule:
    """Sessions for every programme and year from 2019 to the plan year (2026)."""
    rng = np.random.default_rng([seed, 3])
    years = range(FIRST_YEAR, PLAN_YEAR + 1)
    n_prog = len(world.programs)
    shape = (n_prog, len(years), MAX_BATCHES)
    start = np.full(shape, np.datetime64("NaT"), dtype="datetime64[D]")
    end, ids = start.copy(), np.full(shape, None, dtype=object)
    count = np.zeros((n_prog, len(years)), dtype=int)
    batches = _batches(world, n_employees).astype(int)
    days = world.programs["duration_days"].to_numpy()
    pids = world.programs["program_id"].to_numpy()
    rows = []
    for y, year in enumerate(years):
        active = offered(world, year)
        jan = np.datetime64(f"{year}-01-06")
        for p in np.flatnonzero(active):
            b = batches[p]
            latest = max(1, 355 - int(min(days[p], 340)))
            offsets = np.sort(rng.integers(0, latest, b))
            count[p, y] = b
            for k, off in enumerate(offsets):
                s = jan + off
                e = min(s + int(days[p]) - 1, np.datetime64(f"{year}-12-31"))
                sid = f"S-{pids[p]}-{year}-{k + 1:02d}"
                start[p, y, k], end[p, y, k], ids[p, y, k] = s, e, sid
                rows.append((sid, pids[p], s, e, int(world.programs["capacity_per_batch"].iat[p])))
    table = pd.DataFrame(
        rows, columns=["session_id", "program_id", "start_date", "end_date", "seats"]
    )
    return Schedule(table, start, end, count, ids)
