"""Year-by-year simulation of one chunk of people: assessments, enrolments and their outcomes,
appraisals, talent boxes, grade promotions and career moves (2019-2025).

The behaviour model is documented in ``docs/synthetic-behaviour.md``. In short: *choices*
(who enrols in what) follow perceived gaps, priorities, habits of the position and unit,
modality taste and noise; *outcomes* (completion, competency gain) follow level fit, hidden
ability, motivation and e-learning affinity; careers follow the career-pattern rules and, among
the eligible, readiness, performance and chance. Hidden traits never reach the tables.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from recommender import domain
from recommender.data.grades import GRADES
from recommender.data.modalities import MODALITIES
from training.synthetic import catalog_data as cd
from training.synthetic.population import PRE_2021_MULTIPLIER, People, allowed_jfs
from training.synthetic.sessions import MANDATORY, Schedule, offered
from training.synthetic.world import EDU, FIRST_YEAR, YEARS, G, World

WORKPLACE = ("detasering", "magang", "bimbingan_kerja", "patok_banding", "pertukaran")
BASE_COMPLETION = {
    "e_learning": 0.1,
    "belajar_mandiri": 0.0,
    "pjj": 1.2,
    "coaching": 1.6,
    "mentoring": 1.6,
    "komunitas_belajar": 0.8,
}
RATING_SHARES = np.array([0.15, 0.72, 0.08, 0.04, 0.01])  # Sangat Baik .. Sangat Kurang
RATING_NAMES = ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang")
#: Career ladder: target tier -> (source tiers, minimum years in post, maximum age or None).
LADDER = {
    "pengawas": (("pelaksana", "ahli_pertama", "terampil", "mahir"), 4, None),
    "administrator": (("pengawas", "ahli_muda", "penyelia"), 3, None),
    "jpt_pratama": (("administrator", "ahli_madya"), 2, 56),
    "jpt_madya": (("jpt_pratama", "ahli_utama"), 2, 58),
}
NEXT_JF_TIER = {
    "ahli_pertama": "ahli_muda",
    "ahli_muda": "ahli_madya",
    "ahli_madya": "ahli_utama",
    "terampil": "mahir",
    "mahir": "penyelia",
}
STRUCTURAL = ("pelaksana", "pengawas", "administrator", "jpt_pratama", "jpt_madya", "jpt_utama")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _day(year: int, month: int = 1, day: int = 1) -> np.datetime64:
    return np.datetime64(f"{year}-{month:02d}-{day:02d}")


def _random_dates(
    rng: np.random.Generator, lo: np.datetime64, hi: np.datetime64, n: int
) -> np.ndarray:
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


class Simulation:
    """Runs the yearly steps for one chunk; results in ``records`` and the final ``people``."""

    def __init__(
        self, world: World, schedule: Schedule, people: People, rng: np.random.Generator
    ) -> None:
        self.w, self.s, self.p, self.rng = world, schedule, people, rng
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
        self.formasi = self._jf_formasi()

    # ------------------------------------------------------------------ helpers
    def _unit_groups(self) -> np.ndarray:
        units = self.w.units
        groups = np.where(
            units["level"].isin(["eselon_ii", "upt"]), units["parent_id"], units["unit_id"]
        )
        return np.where(units["level"] == "dinas_provinsi", "PROV", groups)

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

    # ------------------------------------------------------------------ the year
    def run(self) -> None:
        """Simulate every year; initial 2018 assessments seed what HR knows at the start."""
        self.assess(FIRST_YEAR - 1, share=0.25)
        for y, year in enumerate(YEARS):
            self.assess(year, share=None)
            jp = self.enrol(y, year)
            self.push_twenty_jp(y, year, jp)
            self.experience(year)
            self.appraise(y, year)
            if year >= 2020:
                self.talent(y, year)
            self.promote_grades(y, year)
            self.retire(year)
            if year == 2020:
                self.equalise()
            self.jf_tier_moves(y, year)
            self.jf_first_appointments(y, year)
            self.fill_managerial(y, year)
            self.rotate(year)
            self.prepare_jf(y, year)

    # ------------------------------------------------------------------ assessments
    def assess(self, year: int, share: float | None) -> None:
        """Noisy, partial measurements of the true levels on the current position's standard."""
        p, rng = self.p, self.rng
        lo, hi = _day(year), _day(year, 12, 31)
        act = np.flatnonzero(self.active(hi) & (p.hire <= _day(year, 10)))
        if share is None:
            fam = self.pos_tier[p.pos[act]]
            prob = np.where(np.isin(fam, STRUCTURAL[1:]), 0.25, 0.1)
            prob = prob + np.where(np.isin(fam, ("pelaksana",)), -0.05, 0.02)
            prob = prob + 0.15 * (p.pos_start[act] > lo - 365)
        else:
            prob = np.full(len(act), share)
        who = act[rng.random(len(act)) < prob]
        if len(who) == 0:
            return
        req = self.w.req[p.pos[who]]
        rows, cols = np.nonzero(req > 0)
        persons = who[rows]
        obs = np.clip(np.rint(p.level[persons, cols] + rng.normal(0, 0.45, len(rows))), 1, 5)
        dates = np.maximum(_random_dates(rng, lo, hi, len(who)), p.hire[who])[rows]
        fam = self.pos_tier[p.pos[who]]
        method = np.where(
            np.isin(fam, STRUCTURAL[1:]),
            "assessment_center",
            np.where(
                fam == "pelaksana",
                rng.choice(["atasan", "360"], len(who)),
                rng.choice(["uji_kompetensi", "cat"], len(who)),
            ),
        )[rows]
        self.assessed[persons, cols] = obs
        self.rec.add(
            "assessments",
            person=p.gid[persons],
            competency=self.w.competencies["competency_id"].to_numpy()[cols],
            level=obs.astype(int),
            assessed_on=dates,
            method=method,
        )

    # ------------------------------------------------------------------ enrolments
    def perceived_gap(self, idx: np.ndarray) -> np.ndarray:
        """Gaps as HR and the person see them: assessed levels, else a prior below standard."""
        req = self.w.req[self.p.pos[idx]]
        prior = np.where(req > 0, req - 0.6, 1.0)
        seen = np.where(np.isnan(self.assessed[idx]), prior, self.assessed[idx])
        gap = np.clip(req - seen, 0, None) * self.w.req_weight[self.p.pos[idx]]
        target = np.clip(np.minimum(req + 1, 5) - seen, 0, None) * (req > 0) * 0.35
        return (gap + target).astype(np.float32)

    def utilities(self, idx: np.ndarray, y: int, year: int) -> np.ndarray:
        """Utility of each programme for each person (len(idx) x programmes); -inf: ineligible."""
        p, w = self.p, self.w
        pos = p.pos[idx]
        u = 1.1 * (self.perceived_gap(idx) @ self.gm)
        u += 0.9 * (w.prio[y] @ self.gm)[None, :] + 0.5 * self.pop_log[None, :]
        u += 0.4 * ((w.req[pos] > 0).astype(np.float32) @ self.prog_uses)
        u += w.pos_taste[pos] + w.unit_taste[p.unit[idx]]
        trend = 0.5 if year >= 2020 else -0.3
        u += (0.8 * p.e_aff[idx, None] + trend) * self.self_paced[None, :]
        if year == 2020:
            u -= 0.8 * self.classical[None, :]  # COVID: classroom training cut back
        share = self.mod_count[idx] / np.maximum(self.mod_count[idx].sum(1, keepdims=True), 1)
        u += 0.8 * share[:, self.mod_idx]
        uniform = self.rng.random(u.shape, dtype=np.float32)
        u -= np.log(-np.log(np.clip(uniform, 1e-7, 1 - 1e-7)))  # Gumbel noise: a random choice
        return np.where(self.eligible(idx, year), u, -np.inf)

    def eligible(self, idx: np.ndarray, year: int) -> np.ndarray:
        """Offered this year, not mandatory-only, fits the tier, prerequisites done, not done."""
        ok = (offered(self.w, year) & ~self.mandatory)[None, :]
        ok = ok & self.w.prog_tiers[:, self.tier_idx[self.p.pos[idx]]].T
        ok = ok & ~self.completed[idx]
        for prog, pre in enumerate(self.w.prog_prereq):
            if pre:
                ok[:, prog] &= self.completed[np.ix_(idx, pre)].all(axis=1)
        return ok

    def enrol(self, y: int, year: int) -> np.ndarray:
        """Discretionary and mandatory enrolments of the year; returns JP earned per person."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(self.active(_day(year, 12, 31)) & (p.hire <= _day(year, 10)))
        lam = 2.3 * np.exp(0.3 * p.motivation[idx] + p.support[idx]) * (1.2 if year >= 2021 else 1)
        k = np.minimum(rng.poisson(lam), 6)
        persons, progs = self._choose(idx, k, y, year)
        prio = self.w.prio[y] @ self.gm
        assigned = rng.random(len(progs)) < 0.12 + 0.35 * prio[progs] / max(float(prio.max()), 1e-6)
        mp, mprog = self.mandatory_rows(year)
        persons = np.concatenate([persons, mp])
        progs = np.concatenate([progs, mprog])
        source = np.concatenate(
            [np.where(assigned, "assigned", "self"), np.full(len(mp), "assigned")]
        )
        load = np.bincount(persons, minlength=p.n)[persons]
        return self.outcomes(persons, progs, source, y, year, load)

    def _choose(
        self, idx: np.ndarray, k: np.ndarray, y: int, year: int
    ) -> tuple[np.ndarray, np.ndarray]:
        persons, progs = [], []
        for start in range(0, len(idx), 8192):
            part, kk = idx[start : start + 8192], k[start : start + 8192]
            u = self.utilities(part, y, year)
            top = np.argpartition(-u, 6, axis=1)[:, :6]
            order = np.argsort(-np.take_along_axis(u, top, 1), axis=1)
            top = np.take_along_axis(top, order, 1)
            keep = (np.arange(6)[None, :] < kk[:, None]) & np.isfinite(
                np.take_along_axis(u, top, 1)
            )
            rows, cols = np.nonzero(keep)
            persons.append(part[rows])
            progs.append(top[rows, cols])
        return np.concatenate(persons), np.concatenate(progs)

    def mandatory_rows(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Latsar for new CPNS, PKP/PKA/PKN after appointment, JF basic training when prepared."""
        p = self.p
        act = self.active(_day(year, 12, 31))
        persons, progs = [], []
        new = act & (p.hire >= _day(year - 1, 10)) & (p.hire <= _day(year, 9))
        latsar = np.where(p.grade >= G["III/a"], "PL002", "PL001")
        persons.append(np.flatnonzero(new))
        progs.append(np.array([self.prog_by_id[x] for x in latsar[new]], dtype=int))
        tier = self.pos_tier[p.pos]
        for t, code in (
            ("pengawas", "PL003"),
            ("administrator", "PL004"),
            ("jpt_pratama", "PL005"),
            ("jpt_madya", "PL006"),
        ):
            prog = self.prog_by_id[code]
            who = np.flatnonzero(
                act & (tier == t) & ~self.completed[:, prog] & (p.pos_start >= _day(year - 1, 7))
            )
            persons.append(who)
            progs.append(np.full(len(who), prog))
        entry = np.isin(tier, ("ahli_pertama", "terampil")) & (p.pos_start >= _day(year - 1, 7))
        jf_of = {code: j for j, (code, *_rest) in enumerate(cd.JF)}
        for person in np.flatnonzero(act & entry & (self.pending_jf < 0)):
            self.pending_jf[person] = jf_of[self.pos_jf[p.pos[person]]]
        pend = np.flatnonzero(act & (self.pending_jf >= 0))
        basic = np.array(
            [self.prog_by_id[f"PF-{cd.JF[j][0]}-D"] for j in self.pending_jf[pend]], dtype=int
        )
        todo = ~self.completed[pend, basic] if len(pend) else np.zeros(0, bool)
        persons.append(pend[todo])
        progs.append(basic[todo])
        return np.concatenate(persons).astype(int), np.concatenate(progs).astype(int)

    def fit(self, persons: np.ndarray, progs: np.ndarray) -> np.ndarray:
        """Per (row, competency) learning fit: best one level below the programme's target."""
        lv = self.p.level[persons]
        tg = self.w.prog_target[progs]
        below = np.exp(-((lv - (tg - 1)) ** 2) / (2 * 0.7**2))
        above = 0.2 * np.exp(-(lv - tg))
        return np.where(tg > 0, np.where(lv < tg, below, above), 0).astype(np.float32)

    def outcomes(
        self,
        persons: np.ndarray,
        progs: np.ndarray,
        source: np.ndarray,
        y: int,
        year: int,
        load: np.ndarray,
    ) -> np.ndarray:
        """Completion, tests, satisfaction and competency gain of each enrolment row."""
        p, rng, w = self.p, self.rng, self.w
        phi = self.fit(persons, progs)
        gain_w = w.prog_gain[progs]
        fit = (phi * gain_w).sum(1) / np.maximum(gain_w.sum(1), 1e-6)
        habit = (self.n_done[persons] + 4) / (self.n_taken[persons] + 4.6)
        logit = (
            self.base_c[progs]
            + 0.6 * p.motivation[persons]
            + 1.4 * (fit - 0.5)
            + 0.9 * p.e_aff[persons] * self.self_paced[progs]
            + 1.0 * (habit - 0.85)
            - 0.25 * np.maximum(load - 3, 0)
        )
        done = rng.random(len(progs)) < _sigmoid(logit)
        effect = self.modality_effect(persons, progs, year)
        gain = (
            gain_w
            * phi
            * ((1 + 0.4 * p.ability[persons]) * effect * rng.lognormal(0, 0.3, len(progs)) * done)[
                :, None
            ]
        )
        np.add.at(p.level, persons, np.clip(gain, 0, None).astype(np.float32))
        np.minimum(p.level, 5.5, out=p.level)
        self._bookkeep(persons, progs, done)
        return self._record_enrolments(persons, progs, source, done, fit, gain, y, year)

    def modality_effect(self, persons: np.ndarray, progs: np.ndarray, year: int) -> np.ndarray:
        """How much a modality works for a person: self-paced needs affinity, workplace suits
        newcomers to a post, coaching suits the motivated."""
        p = self.p
        mod = self.mod[progs]
        tenure = (_day(year, 7) - p.pos_start[persons]).astype(int) / 365.25
        eff = np.ones(len(progs))
        eff = np.where(
            self.self_paced[progs], np.clip(0.55 + 0.35 * p.e_aff[persons], 0.15, 1.4), eff
        )
        eff = np.where(np.isin(mod, WORKPLACE), np.where(tenure < 3, 1.3, 0.8), eff)
        eff = np.where(
            np.isin(mod, ("coaching", "mentoring")), 1.0 + 0.3 * np.tanh(p.motivation[persons]), eff
        )
        return eff

    def _bookkeep(self, persons: np.ndarray, progs: np.ndarray, done: np.ndarray) -> None:
        self.completed[persons[done], progs[done]] = True
        np.add.at(self.mod_count, (persons, self.mod_idx[progs]), 1.0)
        np.add.at(self.n_done, persons, done.astype(float))
        np.add.at(self.n_taken, persons, 1.0)

    def _record_enrolments(
        self,
        persons: np.ndarray,
        progs: np.ndarray,
        source: np.ndarray,
        done: np.ndarray,
        fit: np.ndarray,
        gain: np.ndarray,
        y: int,
        year: int,
    ) -> np.ndarray:
        p, rng, s = self.p, self.rng, self.s
        n = len(progs)
        batches = np.maximum(s.count[progs, y], 1)
        b = (rng.random(n) * batches).astype(int)
        start, end = s.start[progs, y, b], s.end[progs, y, b]
        late = start < p.hire[persons]
        b = np.where(late, batches - 1, b)
        start, end = s.start[progs, y, b], s.end[progs, y, b]
        start = np.maximum(start, p.hire[persons])
        end = np.maximum(end, start)
        fail_kind = rng.random(n)
        status = np.where(
            done,
            "completed",
            np.where(
                fail_kind < 0.25,
                "no_show",
                np.where((fail_kind < 0.55) & self.classical[progs], "failed", "withdrawn"),
            ),
        )
        tested = self.classical[progs] | self.self_paced[progs]
        lv = (p.level[persons] * (self.w.prog_target[progs] > 0)).sum(1) / np.maximum(
            (self.w.prog_target[progs] > 0).sum(1), 1
        )
        tg = self.w.prog_target[progs].max(1)
        pre = np.clip(45 + 14 * (lv - tg + 1.5) + rng.normal(0, 7, n), 0, 100)
        post = np.clip(pre + 60 * gain.sum(1) + rng.normal(4, 5, n), 0, 100)
        show = status != "no_show"
        sat = np.clip(
            np.rint(3.7 + 1.2 * (fit - 0.5) + 0.3 * p.motivation[persons] + rng.normal(0, 0.7, n)),
            1,
            5,
        )
        jp = np.where(done, self.jp[progs], 0)
        credited = np.where(done & (rng.random(n) > 0.05), self.jp[progs], np.nan)
        self.rec.add(
            "enrollments",
            person=p.gid[persons],
            program=self.w.programs["program_id"].to_numpy()[progs],
            session=s.ids[progs, y, b],
            start_date=start,
            end_date=end,
            status=status,
            jp_credited=credited,
            pre_test=np.where(tested & show, np.round(pre, 1), np.nan),
            post_test=np.where(tested & done, np.round(post, 1), np.nan),
            satisfaction=np.where(show & (rng.random(n) < 0.85), sat, np.nan),
            source=source,
        )
        return np.bincount(persons, weights=jp, minlength=p.n)

    def push_twenty_jp(self, y: int, year: int, jp: np.ndarray) -> None:
        """In the last quarter HR assigns a short e-learning module to many people under 20 JP."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(
            self.active(_day(year, 12, 31))
            & (jp < domain.MIN_JP_PER_YEAR)
            & (p.hire <= _day(year, 9))
        )
        idx = idx[rng.random(len(idx)) < 0.75]
        if len(idx) == 0:
            return
        u = self.utilities(idx, y, year)
        u[:, ~self.self_paced | (self.jp > 24)] = -np.inf
        best = np.argmax(u, axis=1)
        ok = np.isfinite(u[np.arange(len(idx)), best])
        persons, progs = idx[ok], best[ok]
        load = np.ones(len(persons))
        self.outcomes(persons, progs, np.full(len(persons), "assigned"), y, year, load)

    def experience(self, year: int) -> None:
        """On-the-job learning: the position's competencies grow a little every year."""
        p = self.p
        act = self.active(_day(year, 12, 31))
        grow = (self.w.req[p.pos[act]] > 0) * (0.05 * (1 + 0.3 * p.ability[act]))[:, None]
        p.level[act] = np.minimum(p.level[act] + grow.astype(np.float32), 5.5)

    # ------------------------------------------------------------------ appraisal, talent
    def appraise(self, y: int, year: int) -> None:
        """Annual rating from a persistent latent performance (ability, motivation, support)."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(self.active(_day(year, 12, 31)) & (p.hire <= _day(year, 6, 30)))
        drive = 0.5 * p.ability[idx] + 0.5 * p.motivation[idx] + p.support[idx]
        self.z[idx] = 0.7 * self.z[idx] + 0.35 * drive + rng.normal(0, 0.4, len(idx))
        order = np.argsort(-self.z[idx])
        cuts = np.floor(np.cumsum(RATING_SHARES) * len(idx)).astype(int)
        rating = np.searchsorted(cuts, np.arange(len(idx)), side="right")
        self.ratings[idx[order], y] = np.minimum(rating, 4)
        labels = np.array(RATING_NAMES)[self.ratings[idx, y]]
        self.rec.add("appraisals", person=p.gid[idx], year=np.full(len(idx), year), rating=labels)

    def talent(self, y: int, year: int) -> None:
        """9-box from the last rating (performance) and a potential assessment (often missing)."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(
            self.active(_day(year, 12, 31))
            & (self.ratings[:, y] >= 0)
            & (p.hire <= _day(year - 1, 12, 31))
        )
        perf = np.array([92, 80, 62, 45, 25])[self.ratings[idx, y]] + rng.normal(0, 4, len(idx))
        perf = np.clip(perf, 0, 100)
        pot = (
            64
            + 9 * (0.7 * p.ability[idx] + 0.3 * p.motivation[idx])
            + 4 * (p.edu[idx] >= EDU.index("S2"))
            + rng.normal(0, 6, len(idx))
        )
        pot = np.where(rng.random(len(idx)) < 0.3, np.nan, np.clip(pot, 0, 100))
        perf_band = np.where(perf >= 85, 2, np.where(perf >= 70, 1, 0))
        pot_band = np.where(np.isnan(pot), 1, np.where(pot >= 75, 2, np.where(pot >= 60, 1, 0)))
        grid = np.array([[1, 3, 6], [2, 5, 8], [4, 7, 9]])  # [performance][potential]
        box = grid[perf_band, pot_band]
        self.box[idx] = box
        self.rec.add(
            "talent_box",
            person=p.gid[idx],
            year=np.full(len(idx), year),
            performance_score=np.round(perf, 1),
            potential_score=np.round(pot, 1),
            box=box,
        )

    # ------------------------------------------------------------------ grades
    def promote_grades(self, y: int, year: int) -> None:
        """Regular promotion after 4 years in grade (3 with Sangat Baik), rated Baik 2 years."""
        p, rng = self.p, self.rng
        act = self.active(_day(year, 12, 31))
        need = np.where(self.ratings[:, y] == 0, 3, 4) * 365
        when = np.where(
            p.grade_date + need.astype("timedelta64[D]") <= _day(year, 4),
            _day(year, 4),
            _day(year, 10),
        )
        ok = act & self.good_record(y) & (p.grade < self.pos_max_g[p.pos])
        ok &= (when - p.grade_date).astype(int) >= need
        ok &= rng.random(p.n) < 0.85
        idx = np.flatnonzero(ok)
        self._set_grade(idx, p.grade[idx] + 1, when[idx])

    def _set_grade(self, idx: np.ndarray, grade: np.ndarray, when: np.ndarray) -> None:
        p = self.p
        change = grade > p.grade[idx]
        idx, grade, when = idx[change], grade[change], when[change]
        names = np.array(GRADES)
        self.rec.add(
            "rank_history",
            person=p.gid[idx],
            from_grade=names[p.grade[idx]],
            to_grade=names[grade],
            effective_date=when,
        )
        p.grade[idx], p.grade_date[idx] = grade, when

    # ------------------------------------------------------------------ moves
    def _move(
        self, idx: np.ndarray, to_pos: np.ndarray, to_unit: np.ndarray, when: np.ndarray, kind: str
    ) -> None:
        p = self.p
        if len(idx) == 0:
            return
        self.rec.add(
            "career_moves",
            person=p.gid[idx],
            from_position=self.pos_ids[p.pos[idx]],
            to_position=self.pos_ids[to_pos],
            from_unit=self.w.units["unit_id"].to_numpy()[p.unit[idx]],
            to_unit=self.w.units["unit_id"].to_numpy()[to_unit],
            move_date=when,
            move_type=np.full(len(idx), kind),
        )
        p.pos[idx], p.unit[idx], p.pos_start[idx] = to_pos, to_unit, when
        low = p.grade[idx] < self.pos_min_g[to_pos]
        self._set_grade(idx[low], self.pos_min_g[to_pos][low], when[low])

    def _q4(self, year: int, n: int) -> np.ndarray:
        # from 2 October, so a move never shares a date with a regular grade promotion (1 Oct)
        return _random_dates(self.rng, _day(year, 10, 2), _day(year, 12, 20), n)

    def retire(self, year: int) -> None:
        """Retirement at the position's age limit (BUP), and a few resignations."""
        p, rng = self.p, self.rng
        act = self.active(_day(year, 12, 31)) & (p.status == "active")
        bup = self.pos_bup[p.pos]
        at = (p.birth.astype("datetime64[M]") + (bup * 12 + 1).astype("timedelta64[M]")).astype(
            "datetime64[D]"
        )
        out = act & (at <= _day(year, 12, 31))
        p.status[out], p.end[out] = "retired", at[out]
        quit_ = act & ~out & (rng.random(p.n) < 0.003)
        p.status[quit_] = "resigned"
        p.end[quit_] = np.maximum(self._q4(year, int(quit_.sum())), p.hire[quit_] + 30)

    def equalise(self) -> None:
        """30 Dec 2020: most administrator / pengawas officials become functional (penyetaraan)."""
        p, rng = self.p, self.rng
        tier = self.pos_tier[p.pos]
        head = np.char.endswith(self.pos_ids[p.pos].astype(str), "-1")
        act = self.active(_day(2020, 12, 30)) & (p.status == "active")
        idx = np.flatnonzero(act & np.isin(tier, ("administrator", "pengawas")) & ~head)
        idx = idx[rng.random(len(idx)) < 0.92]
        to = np.empty(len(idx), dtype=int)
        for k, person in enumerate(idx):
            options = self.jf_options[int(p.unit[person])]
            code = cd.JF[options[rng.integers(len(options))]][0]
            target = "ahli_madya" if tier[person] == "administrator" else "ahli_muda"
            to[k] = self.pos_index[f"JF-{code}-{target}"]
        self._move(idx, to, p.unit[idx], np.full(len(idx), _day(2020, 12, 30)), "equalisation")

    def _vacancy(self, position: int) -> float:
        holders = int(((self.p.pos == position) & (self.p.status == "active")).sum())
        need = self.formasi.get(position, 1)
        return max(0.0, (need - holders) / need)

    def jf_tier_moves(self, y: int, year: int) -> None:
        """JF tier promotion (kenaikan jenjang): eligible by years, grade and record; who moves
        depends on readiness for the next tier, performance, tier training and vacancies."""
        p, rng = self.p, self.rng
        act = self.active(_day(year, 12, 31)) & (p.status == "active")
        tier = self.pos_tier[p.pos]
        ok = act & np.isin(tier, list(NEXT_JF_TIER)) & self.good_record(y)
        ok &= (p.pos_start <= _day(year - 3, 12, 31)) & (p.grade >= self.pos_max_g[p.pos])
        for pos in np.unique(p.pos[ok]):
            nxt = self.pos_index.get(f"JF-{self.pos_jf[pos]}-{NEXT_JF_TIER[self.pos_tier[pos]]}")
            if nxt is None:
                continue
            idx = np.flatnonzero(ok & (p.pos == pos))
            ready = self.readiness(idx, nxt)
            trained = self.completed[idx].any(axis=1) & self._tier_training(idx, pos)
            logit = -1.6 + 7 * (ready - 0.8) + 0.5 * self.z[idx] + 0.8 * trained
            prob = _sigmoid(logit) * min(1.0, 0.3 + 2 * self._vacancy(nxt))
            go = idx[rng.random(len(idx)) < prob]
            self._move(go, np.full(len(go), nxt), p.unit[go], self._q4(year, len(go)), "jf_tier")

    def _tier_training(self, idx: np.ndarray, pos: int) -> np.ndarray:
        code, tier = self.pos_jf[pos], NEXT_JF_TIER[self.pos_tier[pos]]
        prog = self.prog_by_id.get(f"PF-{code}-{tier[5:8].upper()}")
        return self.completed[idx, prog] if prog is not None else np.zeros(len(idx), bool)

    def jf_first_appointments(self, y: int, year: int) -> None:
        """Pelaksana who completed a JF's basic training are appointed to its entry tier."""
        p, rng = self.p, self.rng
        act = self.active(_day(year, 12, 31)) & (p.status == "active")
        idx = np.flatnonzero(act & (self.pending_jf >= 0) & (self.pos_tier[p.pos] == "pelaksana"))
        if len(idx) == 0:
            return
        codes = [cd.JF[j][0] for j in self.pending_jf[idx]]
        basic = np.array([self.prog_by_id[f"PF-{c}-D"] for c in codes])
        degree = p.edu[idx] >= EDU.index("S1")
        go = self.completed[idx, basic] & (
            rng.random(len(idx)) < 0.75 * (0.6 + 0.4 * self.readiness_any(idx))
        )
        targets = []
        for c, deg in zip(codes, degree, strict=True):
            tier = "ahli_pertama" if deg else "terampil"
            targets.append(
                self.pos_index.get(f"JF-{c}-{tier}", self.pos_index[f"JF-{c}-ahli_pertama"])
            )
        to = np.array(targets)
        allowed = degree | np.array([self.pos_tier[t] == "terampil" for t in to])
        go &= allowed
        sel = idx[go]
        self._move(sel, to[go], p.unit[sel], self._q4(year, len(sel)), "jf_first_appointment")
        self.pending_jf[sel] = -1

    def readiness_any(self, idx: np.ndarray) -> np.ndarray:
        """Readiness for the person's own position (a proxy for being a strong candidate)."""
        out = np.empty(len(idx))
        for pos in np.unique(self.p.pos[idx]):
            mask = self.p.pos[idx] == pos
            out[mask] = self.readiness(idx[mask], pos)
        return out

    def fill_managerial(self, y: int, year: int) -> None:
        """Vacant managerial posts are filled from eligible candidates in the same unit group:
        vertical from the tier below, diagonal from the equivalent JF tier."""
        p, rng = self.p, self.rng
        act = self.active(_day(year, 12, 31)) & (p.status == "active")
        units_here = np.unique(p.unit)
        posts = np.flatnonzero(
            np.isin(self.pos_unit, units_here) & np.isin(self.pos_tier, list(LADDER))
        )
        age = self.age(_day(year, 12, 31))
        record = self.good_record(y)
        for post in posts:
            tier = self.pos_tier[post]
            head = str(self.pos_ids[post]).endswith("-1")
            slots = int(self.w.positions["formasi"].iat[post])
            if year <= 2020 and not head:
                slots *= PRE_2021_MULTIPLIER.get(tier, 1)
            open_ = slots - int((act & (p.pos == post)).sum())
            if open_ <= 0 or rng.random() > 0.75:
                continue
            sources, years_in, max_age = LADDER[tier]
            unit = self.pos_unit[post]
            group = self.unit_group[unit]
            cand = act & record & np.isin(self.pos_tier[p.pos], sources)
            cand &= self.unit_group[p.unit] == group
            cand &= p.pos_start <= _day(year - years_in, 12, 31)
            cand &= p.grade >= self.pos_min_g[post] - 1
            cand &= p.edu >= self.pos_min_edu[post]
            if max_age is not None:
                cand &= age <= max_age
            idx = np.flatnonzero(cand)
            if len(idx) == 0:
                continue
            score = (
                4 * self.readiness(idx, post)
                + 0.5 * self.z[idx]
                + 0.6 * (self.box[idx] >= 7)
                + 0.8 * (p.unit[idx] == unit)
                + rng.gumbel(0, 0.5, len(idx))
            )
            take = idx[np.argsort(-score)[:open_]]
            kind = np.array(
                ["vertical" if self.pos_tier[p.pos[t]] in STRUCTURAL else "diagonal" for t in take]
            )
            when = self._q4(year, len(take))
            for k in ("vertical", "diagonal"):
                sel = kind == k
                self._move(
                    take[sel], np.full(sel.sum(), post), np.full(sel.sum(), unit), when[sel], k
                )

    def rotate(self, year: int) -> None:
        """Horizontal moves: JF staff to another unit that uses the JF, pelaksana to another
        title or unit (about 6 % a year after two years in post)."""
        p, rng = self.p, self.rng
        act = self.active(_day(year, 12, 31)) & (p.status == "active")
        tier = self.pos_tier[p.pos]
        ok = act & (p.pos_start <= _day(year - 2, 12, 31)) & ~np.isin(tier, list(LADDER))
        idx = np.flatnonzero(ok & (rng.random(p.n) < 0.06))
        units_here = np.unique(p.unit)
        hosts = {
            cd.JF[j][0]: [u for u in units_here if j in self.jf_options[int(u)]]
            for j in range(len(cd.JF))
        }
        to_pos, to_unit = p.pos[idx].copy(), p.unit[idx].copy()
        for k, person in enumerate(idx):
            if tier[person] == "pelaksana":
                to_pos[k] = self.pos_index[f"PL-{rng.integers(1, len(cd.PELAKSANA) + 1):02d}"]
                if rng.random() < 0.4:
                    to_unit[k] = units_here[rng.integers(len(units_here))]
            else:
                fits = hosts[self.pos_jf[p.pos[person]]] or [p.unit[person]]
                to_unit[k] = fits[rng.integers(len(fits))]
        moved = (to_pos != p.pos[idx]) | (to_unit != p.unit[idx])
        idx = idx[moved]
        self._move(idx, to_pos[moved], to_unit[moved], self._q4(year, len(idx)), "horizontal")

    def prepare_jf(self, y: int, year: int) -> None:
        """Some pelaksana with a good record are sent to a JF's basic training (next year)."""
        p, rng = self.p, self.rng
        act = self.active(_day(year, 12, 31)) & (p.status == "active")
        ok = act & (self.pos_tier[p.pos] == "pelaksana") & (p.edu >= EDU.index("D3"))
        ok &= (self.pending_jf < 0) & self.good_record(y) & (p.hire <= _day(year - 2))
        prob = 0.08 + 0.08 * (self.z > 0.4)
        idx = np.flatnonzero(ok & (rng.random(p.n) < prob))
        for person in idx:
            options = self.jf_options[int(p.unit[person])]
            self.pending_jf[person] = options[rng.integers(len(options))]


def employees_frame(world: World, p: People, export: np.datetime64) -> pd.DataFrame:
    """Master data as of the export date (the raw contract's columns, NIP added later)."""
    status = np.where((p.status != "active") & (p.end > export), "active", p.status)
    return pd.DataFrame(
        {
            "person": p.gid,
            "sex": p.sex,
            "birth_date": p.birth,
            "education": np.array(EDU)[p.edu],
            "grade": np.array(GRADES)[p.grade],
            "grade_date": p.grade_date,
            "asn_status": np.where(p.hire > export - 365, "CPNS", "PNS"),
            "position_id": world.positions["position_id"].to_numpy()[p.pos],
            "unit_id": world.units["unit_id"].to_numpy()[p.unit],
            "hire_date": p.hire,
            "position_start_date": p.pos_start,
            "status": status,
            "end_date": np.where(status == "active", np.datetime64("NaT"), p.end),
        }
    )


def simulate_chunk(
    world: World, schedule: Schedule, people: People, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[int, int]]:
    """Run one chunk. Returns (employees, event tables keyed by table, JF formasi counts)."""
    sim = Simulation(world, schedule, people, rng)
    sim.run()
    export = np.datetime64("2025-12-31")
    return employees_frame(world, people, export), sim.rec.frames(), sim.formasi
