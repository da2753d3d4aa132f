"""The state of a simulated chunk of people (:class:`SimulationState`): the person arrays
(:class:`~training.synthetic.population.People`), the world's lookups, what HR has recorded so
far (assessed levels, completed programmes, ratings, talent boxes) and the helpers every yearly
step uses (who is active, ages, hidden readiness). The steps are in
:mod:`training.synthetic.learning` and :mod:`training.synthetic.progression`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from recommender import domain
from recommender.careers.eligibility import AK_PER_YEAR, AK_TO_NEXT_TIER
from recommender.data.modalities import MODALITIES
from training.synthetic.population import DINAS_I_PASSED, EXAM_PASSED, People, allowed_jfs
from training.synthetic.sessions import MANDATORY, Schedule
from training.synthetic.world import EDU, YEARS, G, World

WORKPLACE = ("detasering", "magang", "bimbingan_kerja", "patok_banding", "pertukaran")
BASE_COMPLETION = {
    "e_learning": 0.1,
    "belajar_mandiri": 0.0,
    "pjj": 1.2,
    "coaching": 1.6,
    "mentoring": 1.6,
    "komunitas_belajar": 0.8,
}
STRUCTURAL = ("pelaksana", "pengawas", "administrator", "jpt_pratama", "jpt_madya", "jpt_utama")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def ymd(year: int, month: int = 1, day: int = 1) -> np.datetime64:
    """The date ``year-month-day`` as a ``datetime64[D]``."""
    return np.datetime64(f"{year}-{month:02d}-{day:02d}")


def random_dates(
    rng: np.random.Generator, lo: np.datetime64, hi: np.datetime64, n: int
) -> np.ndarray:
    """``n`` uniform random days between ``lo`` and ``hi`` (both included)."""
    span = int((hi - lo).astype(int))
    return lo + rng.integers(0, span + 1, n).astype("timedelta64[D]")


class Records:
    """Collects event rows as column arrays; ``frames()`` concatenates them per table."""

    def __init__(self) -> None:
        self._parts: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)

    def add(self, table: str, **cols: np.ndarray) -> None:
        """Append rows to ``table`` (all arrays the same length; empty batches are skipped)."""
        if len(next(iter(cols.values()))):
            self._parts[table].append(cols)

    def frames(self) -> dict[str, pd.DataFrame]:
        """One DataFrame per table."""
        return {
            t: pd.concat([pd.DataFrame(c) for c in parts], ignore_index=True)
            for t, parts in self._parts.items()
        }


class SimulationState:
    """Arrays and lookups of one chunk's simulation; results in ``rec`` and the final ``p``."""

    def __init__(
        self,
        world: World,
        schedule: Schedule,
        people: People,
        rng: np.random.Generator,
        world_name: str = "self_selection",
        chunk_share: float = 1.0,
    ) -> None:
        self.w, self.s, self.p, self.rng = world, schedule, people, rng
        #: the behaviour world (training.synthetic.worlds) and its per-chunk state
        self.world_name = world_name
        self.world_state: dict[str, np.ndarray] = {}
        #: this chunk's share of the organisation (its share of the sessions' seats)
        self.chunk_share = chunk_share
        #: extra completion logit of the rows being recorded (the year-end push sets it)
        self.push_shift = 0.0
        self.rec = Records()
        n, n_prog = people.n, len(world.programs)
        pos = world.positions
        self.pos_tier = pos["tier"].to_numpy()
        self.pos_jf = pos["jf_code"].to_numpy()
        self.pos_ids = pos["position_id"].to_numpy()
        self.pos_index = {pid: i for i, pid in enumerate(self.pos_ids)}
        self.tier_idx = pd.Index(domain.TIERS).get_indexer(self.pos_tier)
        self.pos_min_g = np.array([G[g] for g in pos["min_grade"]])
        self.pos_max_g = np.array([G[g] for g in pos["max_grade"]])
        self.pos_min_edu = np.array([EDU.index(e) for e in pos["min_education"]])
        self.pos_bup = pos["retirement_age"].to_numpy()
        self.pos_unit = pd.Index(world.units["unit_id"]).get_indexer(pos["unit_id"].fillna(""))
        prog = world.programs
        self.mod = prog["modality"].to_numpy()
        self.jp = prog["jp"].to_numpy()
        self.self_paced = np.isin(self.mod, domain.SELF_PACED)
        self.mandatory = np.isin(self.mod, MANDATORY)
        self.classical = prog["classical"].to_numpy(bool)
        self.mods = sorted(MODALITIES)
        self.mod_idx = np.array([self.mods.index(m) for m in self.mod])
        self.base_c = np.array(
            [BASE_COMPLETION.get(m, 2.0 if m in WORKPLACE else 3.0) for m in self.mod]
        )
        gain = world.prog_gain
        self.gm = (gain / np.maximum(gain.sum(axis=1, keepdims=True), 1e-6)).T  # C x P
        self.prog_uses = (gain > 0).T.astype(np.float32)  # C x P
        self.pop_log = np.log(world.prog_popularity)
        self.prog_by_id = {pid: i for i, pid in enumerate(prog["program_id"])}
        #: seats per programme and year 2019-2026 in the whole organisation (programs x years)
        self.seats = schedule.count * prog["capacity_per_batch"].to_numpy()[:, None]
        self.assessed = np.full((n, world.n_comp), np.nan, dtype=np.float32)
        self.completed = np.zeros((n, n_prog), dtype=bool)
        self.mod_count = np.zeros((n, len(self.mods)), dtype=np.float32)
        self.n_done = np.zeros(n)
        self.n_taken = np.zeros(n)
        self.z = rng.normal(0, 1, n) * 0.5
        self.ratings = np.full((n, len(YEARS)), -1, dtype=int)
        self.box = np.zeros(n, dtype=int)
        self.pending_jf = np.full(n, -1)
        self.jf_options = allowed_jfs(world)
        self.unit_group = self._unit_groups()
        self.formasi, _ = self._jf_formasi(), self._credit_points(people)

    # ------------------------------------------------------------------ helpers
    def _unit_groups(self) -> np.ndarray:
        units = self.w.units
        groups = np.where(
            units["level"].isin(["eselon_ii", "upt"]), units["parent_id"], units["unit_id"]
        )
        return np.where(units["level"] == "dinas_provinsi", "PROV", groups)

    def _credit_points(self, people: People) -> None:
        """JF credit points: yearly coefficient and points to the next tier per position
        (:mod:`recommender.careers.eligibility`, domain.md 2.4); a JF official in post before
        the window starts with the points of a Baik rating for every year in the tier."""
        tiers = pd.Series(self.pos_tier)
        self.ak_per_year = tiers.map(AK_PER_YEAR).fillna(0.0).to_numpy(float)
        self.ak_needed = tiers.map(AK_TO_NEXT_TIER).fillna(np.inf).to_numpy(float)
        years = (np.datetime64(f"{YEARS[0]}-01-01") - people.pos_start).astype(int) / 365.25
        self.ak = self.ak_per_year[people.pos] * np.maximum(years, 0.0)
        #: golongan III is open (a D4/S1 degree, or the adjustment exam passed)
        self.exam_passed = (people.grade >= G["III/a"]) | (self.rng.random(people.n) < EXAM_PASSED)
        #: golongan II is open (hired at II/a or above, or the service exam of golongan I passed)
        self.dinas_i_passed = (people.grade >= G["II/a"]) | (
            self.rng.random(people.n) < DINAS_I_PASSED
        )

    def _jf_formasi(self) -> dict[int, int]:
        """Posts needed per non-managerial position in this chunk: holders x 1.3-1.7 (vacancies)."""
        counts = np.bincount(self.p.pos, minlength=len(self.pos_ids))
        out = {}
        for j in np.flatnonzero(self.w.positions["category"].to_numpy() == "nonmanajerial"):
            out[int(j)] = int(np.ceil(max(counts[j], 2) * self.rng.uniform(1.3, 1.7)))
        return out

    def active(self, when: np.datetime64) -> np.ndarray:
        """People employed on ``when``."""
        p = self.p
        return (p.hire <= when) & ((p.status == "active") | (p.end > when))

    def age(self, when: np.datetime64) -> np.ndarray:
        """Age in years on ``when``."""
        return (when - self.p.birth).astype(int) / 365.25

    def readiness(self, people: np.ndarray, position: int) -> np.ndarray:
        """True (hidden) job-person match of ``people`` for ``position``, in [0, 1]."""
        req = self.w.req[position]
        cols = np.flatnonzero(req > 0)
        wts = self.w.req_weight[position, cols]
        have = np.minimum(self.p.level[np.ix_(people, cols)], req[cols])
        return (have * wts).sum(axis=1) / (req[cols] * wts).sum()

    def good_record(self, y: int) -> np.ndarray:
        """Rated at least Baik in the last two years (missing years count as Baik)."""
        last = self.ratings[:, max(0, y - 1) : y + 1]
        return ((last <= 1) | (last < 0)).all(axis=1)
