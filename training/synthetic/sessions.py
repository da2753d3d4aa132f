"""Scheduled batches (sessions) of each programme per year, planned as an agency plans them.

The plan never sees the generator's hidden popularity of a programme: the participants planned
for a discretionary programme in a year are the typical yearly demand of a programme of its
modality (``PLAN_PER_1000``, per 1,000 employees) times a budget/provider factor
(lognormal, ``PLAN_NOISE``, drawn per programme and year) times ``PLAN_SLACK`` spare seats;
mandatory leadership and JF basic training plan 2 % of the staff. Batches = planned /
capacity, rounded up, 1 to ``MAX_BATCHES``. See ``docs/synthetic-behaviour.md`` ("Sessions").
"""

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


#: Typical participants of one programme in a year per 1,000 employees, by modality (the
#: agency's past demand per programme type; measured on the default world, 2,000 employees,
#: seed 3, 2019-2025, rounded). Other modalities: ``PLAN_DEFAULT``.
PLAN_PER_1000 = {
    "e_learning": 22.0,
    "manajerial": 19.0,
    "coaching": 18.0,
    "mentoring": 16.0,
    "belajar_mandiri": 16.0,
    "pjj": 12.0,
    "komunitas_belajar": 7.0,
    "seminar": 6.0,
    "workshop": 6.0,
    "bimtek": 5.0,
    "patok_banding": 5.0,
    "magang": 4.0,
    "bimbingan_kerja": 4.0,
    "detasering": 3.0,
    "teknis": 3.0,
}
PLAN_DEFAULT = 5.0
PLAN_NOISE = 0.3  # sd of the log budget/provider factor per programme and year
PLAN_SLACK = 2.0  # spare seats: planned seats / typical demand


def _batches(world: World, n_employees: int, rng: np.random.Generator, n_years: int) -> np.ndarray:
    """Batches per (programme, year) from the plan (shape (programs, n_years)); never reads
    the hidden popularity."""
    prog = world.programs
    typical = prog["modality"].map(PLAN_PER_1000).fillna(PLAN_DEFAULT).to_numpy(float)
    factor = rng.lognormal(0.0, PLAN_NOISE, (len(prog), n_years))
    demand = PLAN_SLACK * n_employees / 1000 * typical[:, None] * factor
    mandatory = prog["modality"].isin(MANDATORY).to_numpy()
    demand = np.where(mandatory[:, None], n_employees * 0.02, demand)
    capacity = prog["capacity_per_batch"].to_numpy(float)[:, None]
    return np.clip(np.ceil(demand / capacity), 1, MAX_BATCHES).astype(int)


def build_schedule(world: World, n_employees: int, seed: int) -> Schedule:
    """Sessions for every programme and year from 2019 to the plan year (2026)."""
    rng = np.random.default_rng([seed, 3])
    years = range(FIRST_YEAR, PLAN_YEAR + 1)
    n_prog = len(world.programs)
    shape = (n_prog, len(years), MAX_BATCHES)
    start = np.full(shape, np.datetime64("NaT"), dtype="datetime64[D]")
    end, ids = start.copy(), np.full(shape, None, dtype=object)
    count = np.zeros((n_prog, len(years)), dtype=int)
    batches = _batches(world, n_employees, np.random.default_rng([seed, 5]), len(years))
    days = world.programs["duration_days"].to_numpy()
    pids = world.programs["program_id"].to_numpy()
    rows = []
    for y, year in enumerate(years):
        active = offered(world, year)
        jan = np.datetime64(f"{year}-01-06")
        for p in np.flatnonzero(active):
            b = batches[p, y]
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


def popularity_spearman(*, world: World, schedule: Schedule) -> dict[str, float]:
    """How much the planned seats reveal the hidden popularity: Spearman correlation between
    seats (batches x capacity) and ``world.prog_popularity`` over the offered programme-years
    2019-2026, ``all`` pooled and ``within_modality`` (both ranked within each modality, so
    the capacity of a modality does not hide the link). Returns ``{"all": rho,
    "within_modality": rho}``; NaN when fewer than 3 programme-years are offered."""
    cap = world.programs["capacity_per_batch"].to_numpy(float)
    mod = world.programs["modality"].to_numpy()
    years = range(FIRST_YEAR, PLAN_YEAR + 1)
    prog = np.concatenate([np.flatnonzero(offered(world, yr)) for yr in years])
    year = np.concatenate([np.full(offered(world, yr).sum(), y) for y, yr in enumerate(years)])
    df = pd.DataFrame(
        {
            "seats": schedule.count[prog, year] * cap[prog],
            "pop": world.prog_popularity[prog].astype(float),
            "modality": mod[prog],
        }
    )
    if len(df) < 3:
        return {"all": float("nan"), "within_modality": float("nan")}
    within = df.groupby("modality")[["seats", "pop"]].rank(pct=True)
    return {
        "all": float(df["seats"].rank().corr(df["pop"].rank())),
        "within_modality": float(within["seats"].corr(within["pop"])),
    }
