"""Outcomes of enrolments in the simulation: completion, pre/post tests, satisfaction,
competency gain, the supervisor's behaviour-change rating months later, and the
``enrollments`` rows that record them. See ``docs/synthetic-behaviour.md`` ("What the training
does" and "Evidence after any programme").
"""

from __future__ import annotations

import numpy as np

from training.synthetic.state import (
    WORKPLACE,
    SimulationState,
    sigmoid,
    ymd,
)

#: The supervisor's post-training evaluation (Kirkpatrick level 3, 3-6 months after the end):
#: the mean of ``BEHAVIOUR_ITEMS`` items rated 1-5, driven by the true competency gain.
BEHAVIOUR_ITEMS = 5
BEHAVIOUR_BASE = 2.4  # latent rating of a completed programme with no true gain
BEHAVIOUR_SLOPE = 4.0  # latent rating points per level of true gain (summed over competencies)
BEHAVIOUR_NOISE = 0.45  # rater noise of the latent rating (per enrolment)
BEHAVIOUR_ITEM_NOISE = 0.6  # noise of each item around the latent rating
LENIENCY_SD = 0.3  # hidden leniency of the unit's supervisors (per unit)
BEHAVIOUR_MISSING = 0.15  # completed enrolments whose evaluation form never comes back
BEHAVIOUR_MISSING_SHORT = 0.35  # the same for short events (at most SHORT_JP)
SHORT_JP = 8


class Outcomes(SimulationState):
    """What happens after an enrolment (mixed into the simulation through
    :class:`~training.synthetic.choices.Choices`)."""

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
            + self.completion_shift(persons, progs, year)
        )
        done = rng.random(len(progs)) < sigmoid(logit)
        effect = self.modality_effect(persons, progs, year) * self.benefit_factor(
            persons, progs, year
        )
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

    def completion_shift(self, persons: np.ndarray, progs: np.ndarray, year: int) -> np.ndarray:
        """Extra completion logit per enrolment row (shape (rows,)); 0 in the default world,
        a behaviour world may override it."""
        return np.zeros(len(progs))

    def benefit_factor(self, persons: np.ndarray, progs: np.ndarray, year: int) -> np.ndarray:
        """Multiplier of the competency gain per enrolment row (shape (rows,)); 1 in the
        default world, a behaviour world may override it."""
        return np.ones(len(progs))

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
        behaviour = self._behaviour(persons, progs, done, gain)
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
            behaviour_change_score=behaviour,
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
        post = np.clip(pre + 40 * gain.sum(1) + rng.normal(2, 6, n), 0, 100)
        sat = np.clip(
            np.rint(3.7 + 1.2 * (fit - 0.5) + 0.3 * p.motivation[persons] + rng.normal(0, 0.7, n)),
            1,
            5,
        )
        return pre, post, sat

    def _observation_rng(self) -> np.random.Generator:
        """A generator for the behaviour ratings, seeded from the simulation's generator state
        without drawing from it (so every other column stays as it was for the same seed);
        the units' hidden supervisor leniency is drawn from it once."""
        rng: np.random.Generator | None = getattr(self, "_obs_rng", None)
        if rng is None:
            state = int(self.rng.bit_generator.state["state"]["state"])
            rng = np.random.default_rng([state % 2**63, 11])
            self._obs_rng = rng
            self._leniency = rng.normal(0, LENIENCY_SD, len(self.w.units))
        return rng

    def _behaviour(
        self, persons: np.ndarray, progs: np.ndarray, done: np.ndarray, gain: np.ndarray
    ) -> np.ndarray:
        """Supervisor-rated behaviour change (1-5, one decimal) of each row; NaN when not
        completed or when the form did not come back (shape (rows,))."""
        rng, n = self._observation_rng(), len(progs)
        true_gain = np.clip(gain, 0, None).sum(1)
        latent = (
            BEHAVIOUR_BASE
            + BEHAVIOUR_SLOPE * true_gain
            + self._leniency[self.p.unit[persons]]
            + rng.normal(0, BEHAVIOUR_NOISE, n)
        )
        items = latent[:, None] + rng.normal(0, BEHAVIOUR_ITEM_NOISE, (n, BEHAVIOUR_ITEMS))
        score = np.clip(np.rint(items), 1, 5).mean(1)
        lost = np.where(self.jp[progs] <= SHORT_JP, BEHAVIOUR_MISSING_SHORT, BEHAVIOUR_MISSING)
        missing = ~done | (rng.random(n) < lost)
        return np.where(missing, np.nan, np.round(score, 1))
