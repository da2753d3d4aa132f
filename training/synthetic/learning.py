"""Learning steps of the simulation: competency assessments, enrolment choices (perceived
gaps, priorities, habits, modality taste, noise), mandatory training, outcomes (completion,
tests, satisfaction, competency gain), the year-end push to 20 JP and on-the-job learning.
See ``docs/synthetic-behaviour.md``.
"""

from __future__ import annotations

import numpy as np

from training.synthetic.choices import Choices
from training.synthetic.state import (
    STRUCTURAL,
    random_dates,
    ymd,
)


class Learning(Choices):
    """Assessments and on-the-job learning; enrolment choices come from
    :class:`~training.synthetic.choices.Choices` and their outcomes from
    :class:`~training.synthetic.outcomes.Outcomes`."""

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

    def experience(self, year: int) -> None:
        """On-the-job learning: the position's competencies grow a little every year."""
        p = self.p
        act = self.active(ymd(year, 12, 31))
        grow = (self.w.req[p.pos[act]] > 0) * (0.05 * (1 + 0.3 * p.ability[act]))[:, None]
        p.level[act] = np.minimum(p.level[act] + grow.astype(np.float32), 5.5)
