"""Learning steps of the simulation: competency assessments, enrolment choices (perceived
gaps, priorities, habits, modality taste, noise), mandatory training, outcomes (completion,
tests, satisfaction, competency gain), the year-end push to 20 JP and on-the-job learning.
See ``docs/synthetic-behaviour.md``.
"""

from __future__ import annotations

import numpy as np

from recommender import domain
from training.synthetic import catalog_data as cd
from training.synthetic.sessions import offered
from training.synthetic.state import (
    STRUCTURAL,
    WORKPLACE,
    SimulationState,
    random_dates,
    sigmoid,
    ymd,
)
from training.synthetic.world import G


class Learning(SimulationState):
    """Assessments, enrolments and their outcomes (mixed into the simulation)."""

    # ------------------------------------------------------------------ assessments
    def assess(self, year: int, share: float | None) -> None:
        """Noisy, partial measurements of the true levels on the current position's standard."""
        p, rng = self.p, self.rng
        lo, hi = ymd(year), ymd(year, 12, 31)
        act = np.flatnonzero(self.active(hi) & (p.hire <= ymd(year, 10)))
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
        dates = np.maximum(random_dates(rng, lo, hi, len(who)), p.hire[who])[rows]
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
        idx = np.flatnonzero(self.active(ymd(year, 12, 31)) & (p.hire <= ymd(year, 10)))
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
        done = rng.random(len(progs)) < sigmoid(logit)
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
        tenure = (ymd(year, 7) - p.pos_start[persons]).astype(int) / 365.25
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
        """Record one ``enrollments`` row per (person, programme); returns JP earned per person."""
        p, rng = self.p, self.rng
        n = len(progs)
        session, start, end = self._sessions(persons, progs, y)
        status = self._status(progs, done)
        tested = self.classical[progs] | self.self_paced[progs]
        pre, post, sat = self._scores(persons, progs, fit, gain)
        show = status != "no_show"
        jp = np.where(done, self.jp[progs], 0)
        credited = np.where(done & (rng.random(n) > 0.05), self.jp[progs], np.nan)
        self.rec.add(
            "enrollments",
            person=p.gid[persons],
            program=self.w.programs["program_id"].to_numpy()[progs],
            session=session,
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

    def _sessions(
        self, persons: np.ndarray, progs: np.ndarray, y: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A random batch of each programme in year ``y`` (the last one for people hired after
        the drawn batch started): session ids, start and end dates (never before the hire)."""
        p, s = self.p, self.s
        batches = np.maximum(s.count[progs, y], 1)
        b = (self.rng.random(len(progs)) * batches).astype(int)
        start, end = s.start[progs, y, b], s.end[progs, y, b]
        late = start < p.hire[persons]
        b = np.where(late, batches - 1, b)
        start, end = s.start[progs, y, b], s.end[progs, y, b]
        start = np.maximum(start, p.hire[persons])
        end = np.maximum(end, start)
        return s.ids[progs, y, b], start, end

    def _status(self, progs: np.ndarray, done: np.ndarray) -> np.ndarray:
        """``completed`` when done, else no-show, failed (classical only) or withdrawn."""
        fail_kind = self.rng.random(len(progs))
        return np.where(
            done,
            "completed",
            np.where(
                fail_kind < 0.25,
                "no_show",
                np.where((fail_kind < 0.55) & self.classical[progs], "failed", "withdrawn"),
            ),
        )

    def _scores(
        self, persons: np.ndarray, progs: np.ndarray, fit: np.ndarray, gain: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pre-test and post-test scores (0-100) and satisfaction (1-5) of each row."""
        p, rng, n = self.p, self.rng, len(progs)
        lv = (p.level[persons] * (self.w.prog_target[progs] > 0)).sum(1) / np.maximum(
            (self.w.prog_target[progs] > 0).sum(1), 1
        )
        tg = self.w.prog_target[progs].max(1)
        pre = np.clip(45 + 14 * (lv - tg + 1.5) + rng.normal(0, 7, n), 0, 100)
        post = np.clip(pre + 60 * gain.sum(1) + rng.normal(4, 5, n), 0, 100)
        sat = np.clip(
            np.rint(3.7 + 1.2 * (fit - 0.5) + 0.3 * p.motivation[persons] + rng.normal(0, 0.7, n)),
            1,
            5,
        )
        return pre, post, sat

    def push_twenty_jp(self, y: int, year: int, jp: np.ndarray) -> None:
        """In the last quarter HR assigns a short e-learning module to many people under 20 JP."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(
            self.active(ymd(year, 12, 31))
            & (jp < domain.MIN_JP_PER_YEAR)
            & (p.hire <= ymd(year, 9))
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
        act = self.active(ymd(year, 12, 31))
        grow = (self.w.req[p.pos[act]] > 0) * (0.05 * (1 + 0.3 * p.ability[act]))[:, None]
        p.level[act] = np.minimum(p.level[act] + grow.astype(np.float32), 5.5)
