"""Bookable options and each programme's own gap-closure terms (the pieces of the MILP).

An **option** is one way to take a candidate programme in the year: one of its sessions with
seats left, or — for a session-free modality (:data:`SESSION_FREE`) that has no session at all
in the year — "any time" without a session (no dates, no seat, never overlapping). A programme
that runs sessions is taken in a session: when they are all full it cannot be planned, even if
its modality could be self-paced (the provider runs it in cohorts). Programmes of other
modalities without a session in the year cannot be planned.

Gap terms, per assessed competency c with level a (C' = competencies with a gap some option can
close): the gap to the current position g = max(r - a, 0) and to the likely next position
g' = max(r' - a, 0); per programme p its own raise delta = apply_programme(a) - a (the effect
model of :func:`recommender.careers.path.apply_programme`) and its ceilings
tau = max(min(target, r) - a, 0), tau' = max(min(target, r') - a, 0) (the effect model never
takes a level above the target level of some programme taken).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from recommender.careers.path import apply_programme
from recommender.plans.model import Checked

#: Modalities that need no session (self-paced or learning at work): e-learning, self-study,
#: coaching, mentoring, communities of practice and on-the-job guidance. Distance training
#: (pjj), secondments, internships, exchanges, benchmarking and outbound are scheduled.
SESSION_FREE: Final = (
    "e_learning",
    "belajar_mandiri",
    "coaching",
    "mentoring",
    "komunitas_belajar",
    "bimbingan_kerja",
)


@dataclass(frozen=True)
class Options:
    """O options (see module docstring), K gap competencies.

    ``row`` (O,) candidate row of each option; ``session_id`` (O,) None = any time;
    ``start``/``end`` (O,) datetime64[D], NaT for any time; ``jp``, ``cost``, ``classical`` (O,);
    ``comps`` (K,) competency columns; ``delta``, ``tau``, ``tau_t`` (O, K); ``gap``, ``gap_t``,
    ``value``, ``value_t`` (K,) gaps and their objective weights (1 + priority) x weight.
    ``n_without`` candidates with no session and not session-free; ``n_full`` candidates whose
    sessions are all full.
    """

    row: np.ndarray
    session_id: list[str | None]
    start: np.ndarray
    end: np.ndarray
    jp: np.ndarray
    cost: np.ndarray
    classical: np.ndarray
    comps: np.ndarray
    delta: np.ndarray
    tau: np.ndarray
    tau_t: np.ndarray
    gap: np.ndarray
    gap_t: np.ndarray
    value: np.ndarray
    value_t: np.ndarray
    n_without: int
    n_full: int

    def __len__(self) -> int:
        return len(self.row)


def gaps(ck: Checked) -> tuple[np.ndarray, np.ndarray]:
    """Gaps (C,) to the current and to the likely next position; 0 where not assessed."""
    a = ck.levels
    known = ~np.isnan(a)
    cur = np.where(known & (ck.required > 0), np.maximum(ck.required - np.nan_to_num(a), 0), 0)
    tgt = np.where(
        known & (ck.tgt_required > 0), np.maximum(ck.tgt_required - np.nan_to_num(a), 0), 0
    )
    return cur, tgt


def raises(ck: Checked) -> np.ndarray:
    """Own raise of every candidate from the assessed levels (n, C); 0 where not assessed."""
    new = apply_programme(ck.levels[None, :], ck.gain, ck.target)
    out: np.ndarray = np.nan_to_num(new - ck.levels[None, :])
    return out


def _option_rows(ck: Checked) -> tuple[pd.DataFrame, int, int]:
    """One row per option: ``row``, ``session_id``, ``start``, ``end``; and the counts of
    candidates without any session and with full sessions only."""
    s = ck.sessions
    open_ = s[s["seats_left"] > 0]
    has_any = np.zeros(len(ck.jp), dtype=bool)
    has_any[s["row"].to_numpy()] = True
    has_open = np.zeros(len(ck.jp), dtype=bool)
    has_open[open_["row"].to_numpy()] = True
    free = ck.req.programs["modality"].isin(SESSION_FREE).to_numpy()
    anytime = np.flatnonzero(free & ~has_any)
    rows = pd.concat(
        [
            open_[["row", "session_id", "start", "end"]],
            pd.DataFrame(
                {
                    "row": anytime,
                    "session_id": [None] * len(anytime),
                    "start": pd.NaT,
                    "end": pd.NaT,
                }
            ),
        ],
        ignore_index=True,
    )
    rows = rows.sort_values(["start", "row"], kind="stable", na_position="last")
    n_without = int((~has_any & ~free).sum())
    n_full = int((has_any & ~has_open).sum())
    return rows.reset_index(drop=True), n_without, n_full


def build_options(ck: Checked) -> Options:
    """Every bookable option of the request and the gap terms of the competencies they can
    close (see :class:`Options`)."""
    opts, n_without, n_full = _option_rows(ck)
    row = opts["row"].to_numpy(int)
    cur, tgt = gaps(ck)
    own = raises(ck)
    comps = np.flatnonzero(((cur > 0) | (tgt > 0)) & (own[row] > 0).any(axis=0))
    a = np.nan_to_num(ck.levels[comps])
    t = ck.target[np.ix_(row, comps)]
    touches = t > 0
    tau = np.where(touches, np.maximum(np.minimum(t, ck.required[comps]) - a, 0), 0)
    tau_t = np.where(touches, np.maximum(np.minimum(t, ck.tgt_required[comps]) - a, 0), 0)
    lift = 1 + ck.priority[comps]
    sessions: list[str | None] = [None if v is None else str(v) for v in opts["session_id"]]
    return Options(
        row,
        sessions,
        opts["start"].to_numpy("datetime64[D]"),
        opts["end"].to_numpy("datetime64[D]"),
        ck.jp[row],
        ck.cost[row],
        ck.classical[row],
        comps,
        own[np.ix_(row, comps)],
        tau,
        tau_t,
        cur[comps],
        tgt[comps],
        lift * ck.weight[comps],
        lift * ck.tgt_weight[comps],
        n_without,
        n_full,
    )


def overlap_groups(opts: Options) -> list[np.ndarray]:
    """Sets of dated options sharing a day (inclusive dates), each of size >= 2.

    One set per distinct start date t: the options running on t. Two sessions overlap exactly
    when both run on the later one's start date, so "at most one per set" forbids every
    overlapping pair and nothing else.
    """
    dated = np.flatnonzero(~np.isnat(opts.start))
    out = []
    for t in np.unique(opts.start[dated]):
        on = dated[(opts.start[dated] <= t) & (opts.end[dated] >= t)]
        if len(on) >= 2:
            out.append(on)
    return out


def score_bonus(score: np.ndarray) -> np.ndarray:
    """Ranker score scaled to 0-1 over the candidates (1 = best); 1 everywhere without scores,
    0 for unscored candidates when others are scored."""
    if np.isnan(score).all():
        return np.ones(len(score))
    lo, hi = np.nanmin(score), np.nanmax(score)
    scaled = np.ones(len(score)) if hi <= lo else (score - lo) / (hi - lo)
    out: np.ndarray = np.where(np.isnan(score), 0.0, scaled)
    return out
