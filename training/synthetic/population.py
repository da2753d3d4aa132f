"""The initial population of one chunk of the synthetic organisation (state on 1 January 2019,
or at hire for people hired later), with the hidden traits the tables never show.

Arrays are indexed by person within the chunk; dates are ``datetime64[D]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recommender import domain
from training.synthetic import catalog_data as cd
from training.synthetic.world import EDU, FIRST_YEAR, LAST_YEAR, TIER_GRADES, G, World

START = np.datetime64(f"{FIRST_YEAR}-01-01")
#: Education mix of the staff (central ministry, domain.md 8 [A]); SD and SMP are the few older
#: staff hired at golongan I (drivers, guards, messengers), about 2 % together [A].
EDU_P = {
    "SD": 0.005,
    "SMA": 0.15,
    "SMP": 0.015,
    "D1": 0.005,
    "D3": 0.10,
    "D4": 0.03,
    "S1": 0.47,
    "S2": 0.22,
    "S3": 0.015,
}
ENTRY_GRADE = {
    "SD": "I/a",
    "SMP": "I/c",
    "SMA": "II/a",
    "D1": "II/a",
    "D2": "II/b",
    "D3": "II/c",
    "D4": "III/a",
    "S1": "III/a",
    "S2": "III/b",
    "S3": "III/c",
}
ENTRY_AGE = {
    "SD": 19,
    "SMP": 19,
    "SMA": 20,
    "D1": 21,
    "D2": 22,
    "D3": 23,
    "D4": 24,
    "S1": 24,
    "S2": 27,
    "S3": 31,
}
#: Before the 2020 equalisation, each administrator / pengawas post (other than the unit head)
#: was held by several officials (many echelon III/IV posts per unit) [A].
PRE_2021_MULTIPLIER = {"administrator": 1.5, "pengawas": 2.0}


@dataclass
class People:
    """State of the people of one chunk. Hidden traits: ``ability``, ``motivation``, ``e_aff``."""

    gid: np.ndarray  # global person index (n,)
    unit: np.ndarray  # unit row index
    sex: np.ndarray  # 'L' / 'P'
    birth: np.ndarray
    edu: np.ndarray  # index in EDU
    hire: np.ndarray
    pos: np.ndarray  # position row index
    pos_start: np.ndarray
    grade: np.ndarray  # index in GRADES
    grade_date: np.ndarray
    ability: np.ndarray
    motivation: np.ndarray
    e_aff: np.ndarray
    support: np.ndarray  # the unit's support for development (per person, from its unit)
    level: np.ndarray  # true competency levels (n x C), float32
    end: np.ndarray = field(default_factory=lambda: np.array([], dtype="datetime64[D]"))
    status: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))

    @property
    def n(self) -> int:
        """Number of people."""
        return len(self.gid)


def allowed_jfs(world: World) -> dict[int, list[int]]:
    """Unit row -> JF indices (into catalog_data.JF) that may be held there."""
    out = {}
    for u, kind in enumerate(world.unit_kind):
        level = world.units["level"].iloc[u]
        kinds = {kind} | (
            {"central"} if level in ("eselon_i", "eselon_ii", "kementerian") else set()
        )
        out[u] = [j for j, jf in enumerate(cd.JF) if kinds & set(jf[3])] or [5]
    return out


#: Age on 1 January 2019 of the staff already in post: (low, high, share) bins. domain.md 2.5 gives
#: 1.30 of 3.80 million PNS aged 51-60 (34 %, mid-2023); the younger bins are assumed [A] so
#: that the share stays near a third while the oldest retire and younger staff are hired.
AGE_BINS = ((22.0, 31.0, 0.10), (31.0, 41.0, 0.22), (41.0, 51.0, 0.40), (51.0, 57.5, 0.28))
#: Share of staff without a D4/S1 degree who passed the adjustment exam (ujian penyesuaian
#: ijazah) that opens golongan III; the others stay at II/d at most [A].
EXAM_PASSED = 0.4
#: Share of staff hired at golongan I (SD/SMP) who passed the service exam (ujian dinas tingkat I)
#: that opens golongan II; the others stay at I/d at most [A]. With 2 % of staff hired at
#: golongan I, this keeps about 1 % of active staff in golongan I (domain.md 2.2).
DINAS_I_PASSED = 0.3


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    lo, hi, share = (np.array(c) for c in zip(*AGE_BINS, strict=True))
    k = rng.choice(len(share), n, p=share / share.sum())
    out: np.ndarray = lo[k] + rng.random(n) * (hi[k] - lo[k])
    return out


def _dates_from_years(base: np.ndarray, years: np.ndarray) -> np.ndarray:
    return base + np.round(years * 365.25).astype("timedelta64[D]")


def _tier_for(service: np.ndarray, rng: np.random.Generator, skilled: np.ndarray) -> np.ndarray:
    s = service + rng.normal(0, 3, len(service))
    expert = np.select(
        [s < 8, s < 17, s < 28], ["ahli_pertama", "ahli_muda", "ahli_madya"], "ahli_utama"
    )
    skill = np.select([s < 10, s < 20], ["terampil", "mahir"], "penyelia")
    return np.where(skilled, skill, expert)


def _position_index(world: World) -> dict[str, int]:
    return {pid: i for i, pid in enumerate(world.positions["position_id"])}


def initial_positions(
    world: World,
    rng: np.random.Generator,
    unit: np.ndarray,
    edu: np.ndarray,
    service: np.ndarray,
    new: np.ndarray,
) -> np.ndarray:
    """Assign a position to each person: managerial posts to senior staff, then JF / pelaksana."""
    pidx = _position_index(world)
    jfs = allowed_jfs(world)
    degree = edu >= EDU.index("S1")
    pos = np.full(len(unit), -1)
    _fill_managerial(world, rng, unit, service, degree & ~new, pos)
    rest = np.flatnonzero(pos < 0)
    jf_share = np.where(degree[rest], 0.62, np.where(edu[rest] >= EDU.index("D3"), 0.3, 0.0))
    to_jf = rng.random(len(rest)) < jf_share
    skilled = ~degree[rest]
    tiers = _tier_for(service[rest], rng, skilled)
    for k, person in enumerate(rest):
        if to_jf[k]:
            options = jfs[int(unit[person])]
            if skilled[k]:
                options = [j for j in options if cd.JF[j][4]] or options
            code = cd.JF[options[rng.integers(len(options))]][0]
            tier = tiers[k] if f"JF-{code}-{tiers[k]}" in pidx else "ahli_pertama"
            pos[person] = pidx[f"JF-{code}-{tier}"]
        else:
            pos[person] = pidx[f"PL-{rng.integers(1, len(cd.PELAKSANA) + 1):02d}"]
    return pos


def _fill_managerial(
    world: World,
    rng: np.random.Generator,
    unit: np.ndarray,
    service: np.ndarray,
    eligible: np.ndarray,
    pos: np.ndarray,
) -> None:
    positions = world.positions
    managerial = positions.index[positions["category"] == "manajerial"]
    unit_row = {u: i for i, u in enumerate(world.units["unit_id"])}
    for p in managerial:
        u = unit_row[positions.at[p, "unit_id"]]
        tier = str(positions.at[p, "tier"])
        head = str(positions.at[p, "position_id"]).endswith("-1")
        mult = 1.0 if head else PRE_2021_MULTIPLIER.get(tier, 1.0)
        slots = round(int(positions.at[p, "formasi"]) * mult)
        pool = np.flatnonzero((unit == u) & eligible & (pos < 0))
        if len(pool) == 0:
            continue
        need = domain.TIER_LEVEL[tier] * 5.0
        score = -np.abs(service[pool] - need) + rng.normal(0, 4, len(pool))
        take = pool[np.argsort(-score)[:slots]]
        pos[take] = p


def initial_grades(
    world: World, rng: np.random.Generator, pos: np.ndarray, edu: np.ndarray, service: np.ndarray
) -> np.ndarray:
    """Grade index consistent with education, service years and the position's grade range."""
    entry = np.array([G[ENTRY_GRADE[EDU[e]]] for e in edu])
    raw = entry + np.floor(np.maximum(service, 0) / rng.uniform(3.5, 5.0, len(pos))).astype(int)
    tiers = world.positions["tier"].to_numpy()[pos]
    lo = np.array([G[TIER_GRADES[t][0]] for t in tiers])
    hi = np.array([G[TIER_GRADES[t][1]] for t in tiers])
    capped = (edu < EDU.index("D4")) & (rng.random(len(pos)) >= EXAM_PASSED)
    hi = np.where(capped, np.maximum(lo, G["II/d"]), hi)
    stuck_in_i = (entry < G["II/a"]) & (rng.random(len(pos)) >= DINAS_I_PASSED)
    hi = np.where(stuck_in_i, np.maximum(lo, np.minimum(hi, G["I/d"])), hi)
    out: np.ndarray = np.clip(raw, lo, hi)
    return out


def initial_levels(
    world: World, rng: np.random.Generator, pos: np.ndarray, ability: np.ndarray, new: np.ndarray
) -> np.ndarray:
    """True competency levels (n x C): around the position's requirement, shifted by ability."""
    req = world.req[pos]
    n, c = req.shape
    base = np.where(req > 0, req - 0.35 - 0.5 * new[:, None], 1.1)
    noise = rng.normal(0, 0.6, (n, c)) + 0.35 * ability[:, None]
    return np.clip(base + noise, 0.5, 5.5).astype(np.float32)


def make_people(
    world: World, rng: np.random.Generator, unit: np.ndarray, gid: np.ndarray
) -> People:
    """Draw the chunk's people (state at 2019-01-01, or at hire for later hires)."""
    n = len(unit)
    kinds = world.unit_kind[unit]
    female_p = np.where(np.isin(kinds, ["wasnaker", "k3", "prov"]), 0.36, 0.52)
    sex = np.where(rng.random(n) < female_p, "P", "L")
    edu_names = list(EDU_P)
    edu_p = np.array(list(EDU_P.values()))
    edu = np.array([EDU.index(e) for e in rng.choice(edu_names, n, p=edu_p / edu_p.sum())])
    new = rng.random(n) < 0.16
    hire_year_frac = rng.uniform(0, LAST_YEAR - FIRST_YEAR + 1, n)
    entry_age = np.array([ENTRY_AGE[EDU[e]] for e in edu]) + rng.exponential(2.0, n)
    age = np.where(new, np.clip(rng.normal(26, 3, n), entry_age - 1, 38), _ages(rng, n))
    age = np.maximum(age, entry_age + np.where(new, 0, 0.5))
    birth = np.where(
        new, _dates_from_years(START, hire_year_frac - age), _dates_from_years(START, -age)
    )
    service = np.where(new, 0.0, np.maximum(age - entry_age, 0.3))
    hire = np.where(
        new, _dates_from_years(START, hire_year_frac), _dates_from_years(START, -service)
    )
    hire = hire.astype("datetime64[M]").astype("datetime64[D]")  # appointments start a month
    pos = initial_positions(world, rng, unit, edu, service, new)
    ability = rng.normal(0, 1, n)
    tenure = np.minimum(service, rng.exponential(4, n))
    return People(
        gid=gid,
        unit=unit,
        sex=sex,
        birth=birth.astype("datetime64[D]"),
        edu=edu,
        hire=hire,
        pos=pos,
        pos_start=np.where(new, hire, _dates_from_years(START, -tenure)).astype("datetime64[D]"),
        grade=initial_grades(world, rng, pos, edu, service),
        grade_date=np.where(
            new, hire, _dates_from_years(START, -rng.uniform(0, 4, n) * (service > 1))
        ).astype("datetime64[D]"),
        ability=ability,
        motivation=rng.normal(0, 1, n),
        e_aff=_elearning_affinity(rng, world, unit, age),
        support=_unit_support(rng, world)[unit],
        level=initial_levels(world, rng, pos, ability, new),
        end=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        status=np.full(n, "active", dtype=object),
    )


def _elearning_affinity(
    rng: np.random.Generator, world: World, unit: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Hidden taste and aptitude for self-paced learning: younger and remote staff higher."""
    remote = ~world.units["province_code"].isin(domain.JAVA_PROVINCE_CODES).to_numpy()[unit]
    return -0.04 * (age - 40) + 0.5 * remote + rng.normal(0, 0.8, len(unit))


def _unit_support(rng: np.random.Generator, world: World) -> np.ndarray:
    """Hidden managerial support for development, per unit (drawn from the chunk's generator;
    a unit belongs to exactly one chunk)."""
    return np.random.default_rng([int(rng.integers(1 << 30)), 0]).normal(0, 0.35, len(world.units))
