"""Enrolment choices of the simulation: who enrols in what (perceived gaps, priorities,
habits, modality taste, noise), mandatory training and the year-end push to 20 JP. See
``docs/synthetic-behaviour.md`` ("Who enrols in what").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from recommender import domain
from training.synthetic import catalog_data as cd
from training.synthetic.outcomes import Outcomes
from training.synthetic.sessions import offered
from training.synthetic.state import (
    ymd,
)
from training.synthetic.world import G
from training.synthetic.worlds import Behaviour, get_world


@dataclass(frozen=True)
class Utility:
    """Coefficients of the default world's enrolment utility (docs/synthetic-behaviour.md, "Who
    enrols in what"). Observable counterparts: ``gap`` -> perceived gap coverage, ``priority``
    -> priority alignment, ``log_popularity`` -> log popularity, ``position_overlap`` ->
    position overlap, ``modality_habit`` -> modality habit; hidden: ``self_paced_affinity``
    (times the person's e-learning affinity), the position and unit tastes and the noise."""

    gap: float = 1.1
    priority: float = 0.9
    log_popularity: float = 0.5
    position_overlap: float = 0.4
    self_paced_affinity: float = 0.8
    self_paced_after_2020: float = 0.5
    self_paced_before_2020: float = -0.3
    covid_classical: float = -0.8
    modality_habit: float = 0.8


#: The default world's coefficients (the ``behaviour_formula`` baseline reads them from here).
UTILITY = Utility()
#: The year-end push to 20 JP (every world): share of the people under 20 JP who get modules,
#: below how many JP they get two, and the completion logit of these tracked modules.
PUSH_SHARE = 0.85
PUSH_TWO_BELOW = 8
PUSH_COMPLETION = 1.2


class Choices(Outcomes):
    """Discretionary and mandatory enrolments; their outcomes come from :class:`Outcomes`.
    The behaviour world (``self.world_name``, :mod:`training.synthetic.worlds`) decides the
    discretionary enrolments and the two outcome hooks."""

    @property
    def behaviour(self) -> Behaviour:
        """The active behaviour world. Raises ValueError for an unknown name."""
        return get_world(name=self.world_name)

    def completion_shift(self, persons: np.ndarray, progs: np.ndarray, year: int) -> np.ndarray:
        """Extra completion logit per row (shape (rows,)), from the behaviour world (plus
        :data:`PUSH_COMPLETION` for the modules of the year-end push)."""
        shift = np.asarray(
            self.behaviour.completion_shift(sim=self, persons=persons, progs=progs, year=year),
            float,
        )
        return shift + self.push_shift

    def benefit_factor(self, persons: np.ndarray, progs: np.ndarray, year: int) -> np.ndarray:
        """Gain multiplier per row (shape (rows,)), from the behaviour world."""
        return np.asarray(
            self.behaviour.benefit_factor(sim=self, persons=persons, progs=progs, year=year), float
        )

    def perceived_gap(self, idx: np.ndarray) -> np.ndarray:
        """Gaps as HR and the person see them: assessed levels, else a prior below standard."""
        req = self.w.req[self.p.pos[idx]]
        prior = np.where(req > 0, req - 0.6, 1.0)
        seen = np.where(np.isnan(self.assessed[idx]), prior, self.assessed[idx])
        gap = np.clip(req - seen, 0, None) * self.w.req_weight[self.p.pos[idx]]
        target = np.clip(np.minimum(req + 1, 5) - seen, 0, None) * (req > 0) * 0.35
        return (gap + target).astype(np.float32)

    def utilities(self, idx: np.ndarray, y: int, year: int, coef: Utility = UTILITY) -> np.ndarray:
        """Utility of each programme for each person (len(idx) x programmes); -inf: ineligible.
        ``coef``: the coefficients (the default world's unless a world passes others)."""
        p, w = self.p, self.w
        pos = p.pos[idx]
        c = coef
        u = c.gap * (self.perceived_gap(idx) @ self.gm)
        u += c.priority * (w.prio[y] @ self.gm)[None, :] + c.log_popularity * self.pop_log[None, :]
        u += c.position_overlap * ((w.req[pos] > 0).astype(np.float32) @ self.prog_uses)
        u += w.pos_taste[pos] + w.unit_taste[p.unit[idx]]
        trend = c.self_paced_after_2020 if year >= 2020 else c.self_paced_before_2020
        u += (c.self_paced_affinity * p.e_aff[idx, None] + trend) * self.self_paced[None, :]
        if year == 2020:
            u += c.covid_classical * self.classical[None, :]  # COVID: classroom cut back
        share = self.mod_count[idx] / np.maximum(self.mod_count[idx].sum(1, keepdims=True), 1)
        u += c.modality_habit * share[:, self.mod_idx]
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
        idx = np.flatnonzero(self.active(ymd(year, 12, 31)) & (p.hire <= ymd(year, 10)))
        k = np.minimum(rng.poisson(self.behaviour.rate(sim=self, idx=idx, year=year)), 6)
        persons, progs, assigned = self.behaviour.discretionary(
            sim=self, idx=idx, k=k, y=y, year=year
        )
        mp, mprog = self.mandatory_rows(year)
        persons = np.concatenate([persons, mp])
        progs = np.concatenate([progs, mprog])
        source = np.concatenate(
            [np.where(assigned, "assigned", "self"), np.full(len(mp), "assigned")]
        )
        load = np.bincount(persons, minlength=p.n)[persons]
        return self.outcomes(persons, progs, source, y, year, load)

    def choose(
        self,
        idx: np.ndarray,
        k: np.ndarray,
        y: int,
        year: int,
        coef: dict[str, float] | None = None,
        extra: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each person of ``idx`` takes their ``k`` best eligible programmes by utility
        (``coef`` overrides some :data:`UTILITY` coefficients; ``extra(part)`` adds a
        (len(part) x programmes) term). Returns (persons, programmes), one entry per row."""
        c = replace(UTILITY, **coef) if coef else UTILITY
        persons, progs = [], []
        for start in range(0, len(idx), 8192):
            part, kk = idx[start : start + 8192], k[start : start + 8192]
            u = self.utilities(part, y, year, c)
            if extra is not None:
                u = u + extra(part)
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
        act = self.active(ymd(year, 12, 31))
        persons, progs = [], []
        new = act & (p.hire >= ymd(year - 1, 10)) & (p.hire <= ymd(year, 9))
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
                act & (tier == t) & ~self.completed[:, prog] & (p.pos_start >= ymd(year - 1, 7))
            )
            persons.append(who)
            progs.append(np.full(len(who), prog))
        entry = np.isin(tier, ("ahli_pertama", "terampil")) & (p.pos_start >= ymd(year - 1, 7))
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

    def push_twenty_jp(self, y: int, year: int, jp: np.ndarray) -> None:
        """In the last quarter HR assigns short self-paced modules to most people under 20 JP
        (:data:`PUSH_SHARE` of them; two modules below :data:`PUSH_TWO_BELOW` JP); the
        modules are tracked, so they complete more often (:data:`PUSH_COMPLETION` logit)."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(
            self.active(ymd(year, 12, 31))
            & (jp < domain.MIN_JP_PER_YEAR)
            & (p.hire <= ymd(year, 9))
        )
        idx = idx[rng.random(len(idx)) < PUSH_SHARE]
        if len(idx) == 0:
            return
        u = self.utilities(idx, y, year)
        u[:, ~self.self_paced | (self.jp > 24)] = -np.inf
        top = np.argpartition(-u, 1, axis=1)[:, :2]  # the two best, best first
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(u, top, 1), axis=1), 1)
        want = np.where(jp[idx] < PUSH_TWO_BELOW, 2, 1)
        keep = (np.arange(2)[None, :] < want[:, None]) & np.isfinite(np.take_along_axis(u, top, 1))
        rows, cols = np.nonzero(keep)
        persons, progs = idx[rows], top[rows, cols]
        load = np.ones(len(persons))
        self.push_shift = PUSH_COMPLETION
        try:
            self.outcomes(persons, progs, np.full(len(persons), "assigned"), y, year, load)
        finally:
            self.push_shift = 0.0
