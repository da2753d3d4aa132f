"""Behaviour worlds of the synthetic organisation (``jenjang generate --world NAME``).

A world decides the discretionary enrolments of a year (who goes where, and whether the row is
``assigned`` or ``self``) and two outcome interactions (an extra completion logit and a gain
multiplier per enrolment row). Everything else (people, careers, mandatory training, the 20-JP
push, the tables and their schema) is the same in every world. Documented in
``docs/synthetic-behaviour.md`` ("Behaviour worlds").

- ``self_selection`` (default): people choose by perceived gaps, priorities, habits, tastes;
- ``assignment``: the unit's training-needs analysis and the yearly priorities assign people,
  under seat limits (the sessions' seats) and a unit budget, with hidden supervisor taste;
- ``diffusion``: enrolment spreads through co-workers (what the unit and the position took last
  year), and completion and benefit depend on interactions (workload x modality x experience).

The functions take the running simulation (a :class:`training.synthetic.choices.Choices`) as
``sim``; this module does not import it (no cycle).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from training.synthetic.state import WORKPLACE, ymd

DEFAULT_WORLD = "self_selection"
#: Learning at work: workplace modalities and the social ones (coaching, mentoring, communities).
AT_WORK = (*WORKPLACE, "coaching", "mentoring", "komunitas_belajar")
Rows = tuple[np.ndarray, np.ndarray, np.ndarray]


class Behaviour:
    """The default world: self-selection (the rules of :class:`Choices` unchanged)."""

    name = DEFAULT_WORLD

    def rate(self, *, sim: Any, idx: np.ndarray, year: int) -> np.ndarray:
        """Poisson mean of discretionary enrolments per person of ``idx`` (shape (len(idx),))."""
        p = sim.p
        return 2.3 * np.exp(0.3 * p.motivation[idx] + p.support[idx]) * (1.2 if year >= 2021 else 1)

    def discretionary(self, *, sim: Any, idx: np.ndarray, k: np.ndarray, y: int, year: int) -> Rows:
        """(persons, programmes, assigned mask) of the year's discretionary enrolments."""
        persons, progs = sim.choose(idx, k, y, year)
        prio = sim.w.prio[y] @ sim.gm
        share = 0.12 + 0.35 * prio[progs] / max(float(prio.max()), 1e-6)
        return persons, progs, sim.rng.random(len(progs)) < share

    def completion_shift(
        self, sim: Any, persons: np.ndarray, progs: np.ndarray, year: int
    ) -> np.ndarray:
        """Extra completion logit per row (shape (rows,)): none here."""
        return np.zeros(len(progs))

    def benefit_factor(
        self, sim: Any, persons: np.ndarray, progs: np.ndarray, year: int
    ) -> np.ndarray:
        """Gain multiplier per row (shape (rows,)): none here."""
        return np.ones(len(progs))


class Assignment(Behaviour):
    """The unit's training-needs analysis assigns people to programmes under seats and budget."""

    name = "assignment"
    #: IDR per employee a year (domain.md 8.2: 1-10 million); per unit lognormal around it.
    budget_per_head = 8_000_000.0
    #: TNA score bonus of non-classical programmes from 2021 (ASN Corpu, LAN's 70:20:10 push)
    non_classical_push = 0.5

    def rate(self, *, sim: Any, idx: np.ndarray, year: int) -> np.ndarray:
        """Seats planned per person: the unit's support, not the person's motivation."""
        return 3.0 * np.exp(sim.p.support[idx]) * (1.15 if year >= 2021 else 1)

    def _hidden(self, sim: Any) -> dict[str, np.ndarray]:
        st = sim.world_state
        if "taste" not in st:  # drawn once per chunk (a unit belongs to one chunk)
            n_units, n_prog = len(sim.w.units), len(sim.w.programs)
            st["taste"] = sim.rng.normal(0, 0.8, (n_units, n_prog)).astype(np.float32)
            st["budget"] = self.budget_per_head * np.clip(
                sim.rng.lognormal(0, 0.4, n_units), 0.25, 2.5
            )
            st["cost"] = sim.w.programs["cost_idr"].to_numpy(float)
        return st

    def scores(self, *, sim: Any, part: np.ndarray, y: int, year: int) -> np.ndarray:
        """TNA score (len(part) x programmes): gap, priority, job fit, supervisor taste."""
        st, w = self._hidden(sim), sim.w
        pos = sim.p.pos[part]
        s = 1.6 * (sim.perceived_gap(part) @ sim.gm) + 1.4 * (w.prio[y] @ sim.gm)[None, :]
        s += 0.4 * ((w.req[pos] > 0).astype(np.float32) @ sim.prog_uses)
        s += st["taste"][sim.p.unit[part]]
        if year >= 2021:  # the plans follow the ASN Corpu push for non-classical learning
            s += self.non_classical_push * ~sim.classical[None, :]
        uniform = sim.rng.random(s.shape, dtype=np.float32)
        s -= 0.5 * np.log(-np.log(np.clip(uniform, 1e-7, 1 - 1e-7)))
        return np.where(sim.eligible(part, year), s, -np.inf)

    def discretionary(self, *, sim: Any, idx: np.ndarray, k: np.ndarray, y: int, year: int) -> Rows:
        """Greedy allocation by TNA score, best pairs first, in three rounds: each person's
        quota, then the programme's seats for this chunk, then the unit's budget."""
        st = self._hidden(sim)
        cand_p, cand_g, cand_s = [], [], []
        for start in range(0, len(idx), 8192):
            part = idx[start : start + 8192]
            s = self.scores(sim=sim, part=part, y=y, year=year)
            top = np.argpartition(-s, 10, axis=1)[:, :10]
            val = np.take_along_axis(s, top, 1)
            rows, cols = np.nonzero(np.isfinite(val))
            cand_p.append(part[rows])
            cand_g.append(top[rows, cols])
            cand_s.append(val[rows, cols])
        persons, progs = np.concatenate(cand_p), np.concatenate(cand_g)
        order = np.lexsort((persons, -np.concatenate(cand_s)))
        persons, progs = persons[order], progs[order]
        quota = np.zeros(sim.p.n, dtype=int)
        quota[idx] = k
        seats = np.floor(sim.seats[:, y] * sim.chunk_share + sim.rng.random(len(sim.seats)))
        budget = st["budget"] * np.bincount(sim.p.unit[idx], minlength=len(st["budget"]))
        taken = np.zeros(len(persons), dtype=bool)
        for _round in range(3):
            open_ = ~taken & (quota[persons] > 0) & (seats[progs] > 0)
            cand = np.flatnonzero(open_)
            ok = _cumcount(persons[cand]) < quota[persons[cand]]
            cand = cand[ok]
            cand = cand[_cumcount(progs[cand]) < seats[progs[cand]]]
            unit = sim.p.unit[persons[cand]]
            spent = _cumsum_by(unit, st["cost"][progs[cand]])
            cand = cand[spent <= budget[unit]]
            taken[cand] = True
            np.subtract.at(quota, persons[cand], 1)
            np.subtract.at(seats, progs[cand], 1)
            np.subtract.at(budget, sim.p.unit[persons[cand]], st["cost"][progs[cand]])
        persons, progs = persons[taken], progs[taken]
        return persons, progs, sim.rng.random(len(progs)) < 0.9

    def completion_shift(
        self, sim: Any, persons: np.ndarray, progs: np.ndarray, year: int
    ) -> np.ndarray:
        """Attendance is expected of the assigned: +0.4 completion logit."""
        return np.full(len(progs), 0.4)


class Diffusion(Behaviour):
    """Colleagues' enrolments spread; outcomes hinge on workload x modality x experience."""

    name = "diffusion"
    peer_unit = 1.2
    peer_position = 0.8

    def rate(self, *, sim: Any, idx: np.ndarray, year: int) -> np.ndarray:
        """20 % more than self-selection: colleagues' enrolments draw people in."""
        return 1.2 * super().rate(sim=sim, idx=idx, year=year)

    def discretionary(self, *, sim: Any, idx: np.ndarray, k: np.ndarray, y: int, year: int) -> Rows:
        """Today's choice with weaker gap and priority terms plus last year's adoption by the
        person's unit and position (shares of their staff), then remember this year's."""
        st = sim.world_state
        coef = {
            "gap": 0.7,
            "priority": 0.6,
            "log_popularity": 0.2,
            "modality_habit": 0.5,
            "self_paced_after_2020": 0.2,  # peers, not the LMS, carry most of the trend here
        }

        def extra(part: np.ndarray) -> np.ndarray:
            if "unit_peer" not in st:
                return np.zeros((len(part), len(sim.w.programs)), np.float32)
            return st["unit_peer"][sim.p.unit[part]] + st["pos_peer"][sim.p.pos[part]]

        persons, progs = sim.choose(idx, k, y, year, coef=coef, extra=extra)
        self._remember(sim, idx, persons, progs)
        prio = sim.w.prio[y] @ sim.gm
        share = 0.1 + 0.25 * prio[progs] / max(float(prio.max()), 1e-6)
        return persons, progs, sim.rng.random(len(progs)) < share

    def _remember(self, sim: Any, idx: np.ndarray, persons: np.ndarray, progs: np.ndarray) -> None:
        """Next year's peer terms (units x programmes, positions x programmes): weight x
        log(1 + 25 x the share of the group's staff who enrolled this year)."""
        n_prog = len(sim.w.programs)
        for key, group, size, weight in (
            ("unit_peer", sim.p.unit, len(sim.w.units), self.peer_unit),
            ("pos_peer", sim.p.pos, len(sim.w.positions), self.peer_position),
        ):
            heads = np.maximum(np.bincount(group[idx], minlength=size), 1)
            flat = np.bincount(group[persons] * n_prog + progs, minlength=size * n_prog)
            share = flat.reshape(size, n_prog) / heads[:, None]
            sim.world_state[key] = (weight * np.log1p(25 * share)).astype(np.float32)

    @staticmethod
    def _context(sim: Any, persons: np.ndarray, progs: np.ndarray, year: int) -> dict:
        p = sim.p
        mid = ymd(year, 7)
        return {
            "new": (mid - p.pos_start[persons]).astype(int) / 365.25 < 2,
            "senior": (mid - p.hire[persons]).astype(int) / 365.25 >= 15,
            "busy": np.bincount(persons, minlength=p.n)[persons] >= 3,
            "at_work": np.isin(sim.mod[progs], AT_WORK),
            "self_paced": sim.self_paced[progs],
            "classical": sim.classical[progs],
        }

    def completion_shift(
        self, sim: Any, persons: np.ndarray, progs: np.ndarray, year: int
    ) -> np.ndarray:
        """Busy, settled staff drop self-paced and at-work learning; newcomers finish learning
        at work; busy seniors miss classroom days."""
        c = self._context(sim, persons, progs, year)
        shift = np.where(c["self_paced"] & c["busy"] & ~c["new"], -1.2, 0.0)
        shift += np.where(c["at_work"], np.where(c["new"], 1.2, np.where(c["busy"], -0.8, 0)), 0)
        shift += np.where(c["classical"] & c["busy"] & c["senior"], -1.0, 0.0)
        return shift

    def benefit_factor(
        self, sim: Any, persons: np.ndarray, progs: np.ndarray, year: int
    ) -> np.ndarray:
        """Learning at work pays for people new in post (x2.2) and little later (x0.5);
        classroom pays for juniors more than for settled seniors; self-paced fails the busy."""
        c = self._context(sim, persons, progs, year)
        f = np.where(c["at_work"], np.where(c["new"], 2.2, 0.5), 1.0)
        f = np.where(c["classical"], np.where(c["senior"] & ~c["new"], 0.6, 1.3), f)
        return np.where(c["self_paced"] & c["busy"], 0.4 * f, f)


WORLDS: dict[str, Behaviour] = {b.name: b for b in (Behaviour(), Assignment(), Diffusion())}


def world_names() -> list[str]:
    """The names of the worlds, default first."""
    return list(WORLDS)


def get_world(*, name: str) -> Behaviour:
    """The world called ``name``. Raises ValueError naming the valid worlds."""
    if name not in WORLDS:
        raise ValueError(f"unknown world '{name}': use one of {', '.join(WORLDS)}")
    return WORLDS[name]


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each key, in the order of ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    first = np.r_[True, sk[1:] != sk[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(sk)), 0))
    out = np.empty(len(keys), dtype=int)
    out[order] = np.arange(len(sk)) - start
    return out


def _cumsum_by(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` within each key (inclusive), in the order of ``keys``."""
    if len(keys) == 0:
        return np.zeros(0)
    order = np.argsort(keys, kind="stable")
    sv = values[order].astype(float)
    total = np.cumsum(sv)
    sk = keys[order]
    first = np.r_[True, sk[1:] != sk[:-1]]
    base = np.maximum.accumulate(np.where(first, np.arange(len(sk)), 0))
    before = np.where(base > 0, total[base - 1], 0.0)
    out = np.empty(len(keys))
    out[order] = total - before
    return out
