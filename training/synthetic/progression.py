"""Career steps of the simulation: appraisals, talent boxes, grade promotions, retirement, the
2020 equalisation, JF tier moves and first appointments, managerial vacancies, rotation and JF
preparation. See ``docs/synthetic-behaviour.md``.
"""

from __future__ import annotations

import numpy as np

from recommender.careers.eligibility import AK_RATING_SHARE
from recommender.data.grades import GRADES
from training.synthetic import catalog_data as cd
from training.synthetic.population import PRE_2021_MULTIPLIER
from training.synthetic.state import STRUCTURAL, SimulationState, random_dates, sigmoid, ymd
from training.synthetic.world import EDU, G

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


class Progression(SimulationState):
    """Appraisal, talent, grades and career moves (mixed into the simulation)."""

    # ------------------------------------------------------------------ appraisal, talent
    def appraise(self, y: int, year: int) -> None:
        """Annual rating from a persistent latent performance (ability, motivation, support)."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(self.active(ymd(year, 12, 31)) & (p.hire <= ymd(year, 6, 30)))
        drive = 0.5 * p.ability[idx] + 0.5 * p.motivation[idx] + p.support[idx]
        self.z[idx] = 0.7 * self.z[idx] + 0.35 * drive + rng.normal(0, 0.4, len(idx))
        order = np.argsort(-self.z[idx])
        cuts = np.floor(np.cumsum(RATING_SHARES) * len(idx)).astype(int)
        rating = np.searchsorted(cuts, np.arange(len(idx)), side="right")
        self.ratings[idx[order], y] = np.minimum(rating, 4)
        self._accrue_credit(idx, y, year)
        labels = np.array(RATING_NAMES)[self.ratings[idx, y]]
        self.rec.add("appraisals", person=p.gid[idx], year=np.full(len(idx), year), rating=labels)

    def _accrue_credit(self, idx: np.ndarray, y: int, year: int) -> None:
        """JF credit points (angka kredit, domain.md 2.4) of the year: the tier's coefficient x
        the rating's share, pro rata for a post started during the year."""
        per = self.ak_per_year[self.p.pos[idx]]
        share = np.array(AK_RATING_SHARE)[4 - self.ratings[idx, y]]
        days = (ymd(year, 12, 31) - self.p.pos_start[idx]).astype(int)
        self.ak[idx] += per * share * np.clip(days / 365.25, 0.0, 1.0)

    # ------------------------------------------------------------------ the verdict's view
    def begin_year(self, year: int) -> None:
        """Keep the state on 1 January of ``year``: what the career-pattern verdict of that day
        sees (post, its start, grade, completed training, credit points, holders per post)."""
        p = self.p
        self.jan_date = ymd(year)
        self.jan_pos, self.jan_grade = p.pos.copy(), p.grade.copy()
        self.jan_start, self.jan_ak = p.pos_start.copy(), self.ak.copy()
        self.jan_done = self.completed.copy()
        here = (p.hire < self.jan_date) & ((p.status == "active") | (p.end >= self.jan_date))
        self.jan_holders = np.bincount(p.pos[here], minlength=len(self.pos_ids))

    def rule_record(self, y: int) -> np.ndarray:
        """The rules' rating condition on 1 January: rated Baik or better in each of the two
        previous years (a missing rating fails). Before two simulated years exist (2019, 2020)
        the older convention applies (:meth:`good_record`)."""
        if y < 2:
            return self.good_record(y)
        last = self.ratings[:, y - 2 : y]
        out: np.ndarray = ((last >= 0) & (last <= 1)).all(axis=1)
        return out

    def tenure_ok(self, years: float) -> np.ndarray:
        """At least ``years`` in the post on 1 January, counted as the snapshot does."""
        out: np.ndarray = (self.jan_date - self.jan_start).astype(int) / 365.25 >= years
        return out

    def open_posts(self, position: int, slots: int) -> int:
        """Posts that may be filled now: vacant on 1 January (``slots`` minus holders then) and
        still vacant (minus holders now); 0 when either is not positive."""
        holders = int(((self.p.pos == position) & (self.p.status == "active")).sum())
        return max(0, min(slots - int(self.jan_holders[position]), slots - holders))

    def talent(self, y: int, year: int) -> None:
        """9-box from the last rating (performance) and a potential assessment (often missing)."""
        p, rng = self.p, self.rng
        idx = np.flatnonzero(
            self.active(ymd(year, 12, 31))
            & (self.ratings[:, y] >= 0)
            & (p.hire <= ymd(year - 1, 12, 31))
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
        act = self.active(ymd(year, 12, 31))
        need = np.where(self.ratings[:, y] == 0, 3, 4) * 365
        when = np.where(
            p.grade_date + need.astype("timedelta64[D]") <= ymd(year, 4),
            ymd(year, 4),
            ymd(year, 10),
        )
        ok = act & self.good_record(y) & (p.grade < self.pos_max_g[p.pos])
        # golongan III needs a D4/S1 degree or the adjustment exam (population.EXAM_PASSED)
        ok &= ~((p.grade == G["II/d"]) & (p.edu < EDU.index("D4")) & ~self.exam_passed)
        # golongan II needs the service exam of golongan I (population.DINAS_I_PASSED)
        ok &= ~((p.grade == G["I/d"]) & ~self.dinas_i_passed)
        ok &= (when - p.grade_date).astype(int) >= need
        ok &= when < self._retirement_date()  # never promoted after retiring this year
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
        new_tier = self.pos_tier[to_pos] != self.pos_tier[p.pos[idx]]
        self.ak[idx[new_tier]] = 0.0
        p.pos[idx], p.unit[idx], p.pos_start[idx] = to_pos, to_unit, when
        self.record_posts(idx)
        low = p.grade[idx] < self.pos_min_g[to_pos]
        self._set_grade(idx[low], self.pos_min_g[to_pos][low], when[low])

    def record_posts(self, idx: np.ndarray) -> None:
        """Position history rows (riwayat jabatan): the current post of ``idx`` and its start."""
        p = self.p
        self.rec.add(
            "position_history",
            person=p.gid[idx],
            position=self.pos_ids[p.pos[idx]],
            unit=self.w.units["unit_id"].to_numpy()[p.unit[idx]],
            start_date=p.pos_start[idx],
        )

    def record_truth(self, at: np.datetime64) -> None:
        """Ground truth for tests: post, unit and its start of everyone active on ``at`` as the
        snapshot counts it (hired before ``at``, not left before it)."""
        p = self.p
        idx = np.flatnonzero((p.hire < at) & ((p.status == "active") | (p.end >= at)))
        self.rec.add(
            "truth_positions",
            person=p.gid[idx],
            at=np.full(len(idx), at),
            position=self.pos_ids[p.pos[idx]],
            unit=self.w.units["unit_id"].to_numpy()[p.unit[idx]],
            start_date=p.pos_start[idx],
        )

    def _q4(self, year: int, n: int) -> np.ndarray:
        # from 2 October, so a move never shares a date with a regular grade promotion (1 Oct)
        return random_dates(self.rng, ymd(year, 10, 2), ymd(year, 12, 20), n)

    def _retirement_date(self) -> np.ndarray:
        """Per person: the first of the month after reaching the position's BUP."""
        p = self.p
        months = (self.pos_bup[p.pos] * 12 + 1).astype("timedelta64[M]")
        at: np.ndarray = (p.birth.astype("datetime64[M]") + months).astype("datetime64[D]")
        return at

    def retire(self, year: int) -> None:
        """Retirement at the position's age limit (BUP), and a few resignations."""
        p, rng = self.p, self.rng
        act = self.active(ymd(year, 12, 31)) & (p.status == "active")
        at = self._retirement_date()
        out = act & (at <= ymd(year, 12, 31))
        p.status[out], p.end[out] = "retired", at[out]
        quit_ = act & ~out & (rng.random(p.n) < 0.003)
        p.status[quit_] = "resigned"
        p.end[quit_] = np.maximum(self._q4(year, int(quit_.sum())), p.hire[quit_] + 30)

    def equalise(self) -> None:
        """30 Dec 2020: most administrator / pengawas officials become functional (penyetaraan)."""
        p, rng = self.p, self.rng
        tier = self.pos_tier[p.pos]
        head = np.char.endswith(self.pos_ids[p.pos].astype(str), "-1")
        act = self.active(ymd(2020, 12, 30)) & (p.status == "active")
        idx = np.flatnonzero(act & np.isin(tier, ("administrator", "pengawas")) & ~head)
        idx = idx[rng.random(len(idx)) < 0.92]
        to = np.empty(len(idx), dtype=int)
        for k, person in enumerate(idx):
            options = self.jf_options[int(p.unit[person])]
            code = cd.JF[options[rng.integers(len(options))]][0]
            target = "ahli_madya" if tier[person] == "administrator" else "ahli_muda"
            to[k] = self.pos_index[f"JF-{code}-{target}"]
        for pos, count in zip(*np.unique(to, return_counts=True), strict=True):
            self.formasi[int(pos)] = self.formasi.get(int(pos), 0) + int(count)
        self._move(idx, to, p.unit[idx], np.full(len(idx), ymd(2020, 12, 30)), "equalisation")

    def jf_tier_moves(self, y: int, year: int) -> None:
        """JF tier promotion (kenaikan jenjang) under the rules file's conditions on 1 January:
        three years in the tier, the top grade of the tier, rated Baik twice, the credit points
        to the next tier (domain.md 2.4) and a vacancy (formasi) in the next tier; who moves
        depends on readiness, performance and tier training; never beyond the formasi."""
        p, rng = self.p, self.rng
        act = self.active(ymd(year, 12, 31)) & (p.status == "active") & (p.pos == self.jan_pos)
        tier = self.pos_tier[p.pos]
        ok = act & np.isin(tier, list(NEXT_JF_TIER)) & self.rule_record(y) & self.tenure_ok(3)
        ok &= self.jan_grade >= self.pos_max_g[p.pos]
        ok &= self.jan_ak >= self.ak_needed[p.pos]
        # Someone promoted from one tier is never a candidate again in the next tier the same
        # year (they still take their random draw).
        start = p.pos.copy()
        for pos in np.unique(start[ok]):
            nxt = self.pos_index.get(f"JF-{self.pos_jf[pos]}-{NEXT_JF_TIER[self.pos_tier[pos]]}")
            if nxt is None:
                continue
            idx = np.flatnonzero(ok & (p.pos == pos))
            ready = self.readiness(idx, nxt)
            trained = self.completed[idx].any(axis=1) & self._tier_training(idx, pos)
            logit = -1.0 + 7 * (ready - 0.8) + 0.5 * self.z[idx] + 0.8 * trained
            draw = (rng.random(len(idx)) < sigmoid(logit)) & (start[idx] == pos)
            go = idx[draw][np.argsort(-logit[draw], kind="stable")]
            go = go[: self.open_posts(nxt, self.formasi.get(nxt, 0))]
            self._move(go, np.full(len(go), nxt), p.unit[go], self._q4(year, len(go)), "jf_tier")

    def _tier_training(self, idx: np.ndarray, pos: int) -> np.ndarray:
        code, tier = self.pos_jf[pos], NEXT_JF_TIER[self.pos_tier[pos]]
        prog = self.prog_by_id.get(f"PF-{code}-{tier[5:8].upper()}")
        return self.completed[idx, prog] if prog is not None else np.zeros(len(idx), bool)

    def jf_first_appointments(self, y: int, year: int) -> None:
        """Pelaksana who completed a JF's basic training before the year are appointed to its
        entry tier under the rules' conditions on 1 January (education, two years in post,
        rating, grade, a vacancy in the entry tier), never beyond the formasi."""
        p, rng = self.p, self.rng
        act = self.active(ymd(year, 12, 31)) & (p.status == "active") & (p.pos == self.jan_pos)
        ok = act & (self.pending_jf >= 0) & (self.pos_tier[p.pos] == "pelaksana")
        idx = np.flatnonzero(ok & self.rule_record(y) & self.tenure_ok(2))
        if len(idx) == 0:
            return
        codes = [cd.JF[j][0] for j in self.pending_jf[idx]]
        basic = np.array([self.prog_by_id[f"PF-{c}-D"] for c in codes])
        degree = p.edu[idx] >= EDU.index("S1")
        go = self.jan_done[idx, basic] & (
            rng.random(len(idx)) < 0.75 * (0.6 + 0.4 * self.readiness_any(idx))
        )
        targets = []
        for c, deg in zip(codes, degree, strict=True):
            tier = "ahli_pertama" if deg else "terampil"
            targets.append(
                self.pos_index.get(f"JF-{c}-{tier}", self.pos_index[f"JF-{c}-ahli_pertama"])
            )
        to = np.array(targets)
        go &= p.edu[idx] >= self.pos_min_edu[to]
        go &= self.jan_grade[idx] >= self.pos_min_g[to] - 1
        for target in np.unique(to[go]):
            here = np.flatnonzero(go & (to == target))
            go[here[self.open_posts(int(target), self.formasi.get(int(target), 0)) :]] = False
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
        act = self.active(ymd(year, 12, 31)) & (p.status == "active")
        units_here = np.unique(p.unit)
        posts = np.flatnonzero(
            np.isin(self.pos_unit, units_here) & np.isin(self.pos_tier, list(LADDER))
        )
        age = year - p.birth.astype("datetime64[Y]").astype(int) - 1970  # as the snapshot
        base = act & self.rule_record(y)
        for post in posts:
            tier = self.pos_tier[post]
            head = str(self.pos_ids[post]).endswith("-1")
            slots = int(self.w.positions["formasi"].iat[post])
            if year <= 2020 and not head:
                slots = round(slots * PRE_2021_MULTIPLIER.get(tier, 1.0))
            open_ = self.open_posts(post, slots)
            if open_ <= 0 or rng.random() > 0.75:
                continue
            sources, years_in, max_age = LADDER[tier]
            unit = self.pos_unit[post]
            group = self.unit_group[unit]
            cand = base & (p.pos == self.jan_pos) & np.isin(self.pos_tier[p.pos], sources)
            cand &= self.unit_group[p.unit] == group
            cand &= self.tenure_ok(years_in)
            cand &= self.jan_grade >= self.pos_min_g[post] - 1
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
        act = self.active(ymd(year, 12, 31)) & (p.status == "active")
        tier = self.pos_tier[p.pos]
        ok = act & (p.pos_start <= ymd(year - 2, 12, 31)) & ~np.isin(tier, list(LADDER))
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
        act = self.active(ymd(year, 12, 31)) & (p.status == "active")
        ok = act & (self.pos_tier[p.pos] == "pelaksana") & (p.edu >= EDU.index("D3"))
        ok &= (self.pending_jf < 0) & self.good_record(y) & (p.hire <= ymd(year - 2))
        prob = 0.08 + 0.08 * (self.z > 0.4)
        idx = np.flatnonzero(ok & (rng.random(p.n) < prob))
        for person in idx:
            options = self.jf_options[int(p.unit[person])]
            self.pending_jf[person] = options[rng.integers(len(options))]
