"""Year-by-year simulation of one chunk of people: assessments, enrolments and their outcomes,
appraisals, talent boxes, grade promotions and career moves (2019-2025).

The behaviour model is documented in ``docs/synthetic-behaviour.md``. In short: *choices*
(who enrols in what) follow perceived gaps, priorities, habits of the position and unit,
modality taste and noise; *outcomes* (completion, competency gain) follow level fit, hidden
ability, motivation and e-learning affinity; careers follow the career-pattern rules and, among
the eligible, readiness, performance and chance. Hidden traits never reach the tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.data.grades import GRADES
from training.synthetic.learning import Learning
from training.synthetic.population import People
from training.synthetic.progression import Progression
from training.synthetic.sessions import Schedule
from training.synthetic.world import EDU, FIRST_YEAR, YEARS, World


class Simulation(Learning, Progression):
    """Runs the yearly steps for one chunk; results in ``records`` and the final ``people``.

    The state and helpers are :class:`~training.synthetic.state.SimulationState`; the learning
    steps :class:`~training.synthetic.learning.Learning`; the career steps
    :class:`~training.synthetic.progression.Progression`.
    """

    # ------------------------------------------------------------------ the year
    def run(self) -> None:
        """Simulate every year; initial 2018 assessments seed what HR knows at the start."""
        self.assess(FIRST_YEAR - 1, share=0.25)
        self.record_posts(np.arange(self.p.n))  # the post held when the window begins
        for y, year in enumerate(YEARS):
            if year > FIRST_YEAR:
                self.record_truth(np.datetime64(f"{year}-01-01"))
            self.begin_year(year)
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
        self.record_truth(np.datetime64(f"{YEARS[-1] + 1}-01-01"))


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
    world: World,
    schedule: Schedule,
    people: People,
    rng: np.random.Generator,
    world_name: str = "self_selection",
    chunk_share: float = 1.0,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[int, int]]:
    """Run one chunk in the behaviour world ``world_name`` (``chunk_share``: the chunk's share
    of the organisation, for seat limits). Returns (employees, event tables keyed by table,
    JF formasi counts)."""
    sim = Simulation(world, schedule, people, rng, world_name, chunk_share)
    sim.run()
    export = np.datetime64("2025-12-31")
    return employees_frame(world, people, export), sim.rec.frames(), sim.formasi
