"""``make_plan``: a :class:`PlanRequest` in, a :class:`Plan` out (items with reasons, or the
problems in words). The optimisation is in :mod:`recommender.plans.solve`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from recommender.careers.path import apply_programme
from recommender.domain import MIN_JP_PER_YEAR
from recommender.plans.model import Checked, Plan, PlanItem, PlanRequest, Raise, check
from recommender.plans.options import Options, build_options, gaps, score_bonus
from recommender.plans.solve import Result, cheapest, most_jp, solve_plan
from recommender.plans.texts import level, modality_label, money, ordinal, sentence, text

MAX_RAISES_IN_REASON = 3


def make_plan(req: PlanRequest) -> Plan:
    """The best yearly plan for ``req`` (objective and constraints: :mod:`recommender.plans.solve`).

    Never raises for a person's situation: when no plan fits, the plan has no items and
    ``problems`` say why (nothing eligible, no session with seats, the budget cannot reach
    ``min_jp`` — with the cheapest way and its cost —, the calendar cannot reach ``min_jp``).
    Raises ValueError on inconsistent inputs (see :func:`recommender.plans.model.check`).
    """
    ck = check(req)
    lang, year = req.language, _in_year(req)
    if len(req.programs) == 0:
        return _empty(ck, (text("nothing_eligible", lang, year=year),), "infeasible", 0.0)
    opts = build_options(ck)
    if len(opts) == 0:
        problem = text(
            "no_sessions",
            lang,
            n=len(req.programs),
            year=year,
            without=opts.n_without,
            full=opts.n_full,
        )
        return _empty(ck, (problem,), "infeasible", 0.0)
    bonus = score_bonus(ck.score)[opts.row]
    nc_ok = ~opts.classical & (opts.cost <= (np.inf if req.budget is None else req.budget))
    res = solve_plan(ck, opts, bonus, require_nc=bool(nc_ok.any()))
    seconds = res.seconds
    notes: list[str] = []
    if res.chosen is None and nc_ok.any() and res.status == "infeasible":
        res = solve_plan(ck, opts, bonus, require_nc=False)
        seconds += res.seconds
        notes.append(text("nc_dropped", lang, min_jp=req.min_jp))
    if res.chosen is None:
        problems, more = _diagnose(ck, opts, res)
        return _empty(ck, problems, res.status, seconds + more)
    if not nc_ok.any():
        notes.append(text("nc_none", lang))
    return _plan(ck, opts, res, notes, seconds)


# --- empty plans and their reasons ------------------------------------------------------------


def _in_year(req: PlanRequest) -> str:
    """' pada tahun 2025' / ' in 2025', or '' without a year."""
    return "" if req.year is None else text("in_year", req.language, year=req.year)


def _empty(ck: Checked, problems: tuple[str, ...], status: str, seconds: float) -> Plan:
    """A plan with no items and the reasons."""
    req = ck.req
    return Plan(
        (),
        0,
        0.0,
        0.0,
        False,
        False,
        problems,
        req.language,
        status=status,
        min_jp=req.min_jp,
        budget=req.budget,
        solve_seconds=seconds,
    )


def _diagnose(ck: Checked, opts: Options, res: Result) -> tuple[tuple[str, ...], float]:
    """Why the plan model has no solution, and the seconds spent finding out."""
    req, lang = ck.req, ck.req.language
    if res.status != "infeasible":
        detail = res.message
        return (text("solver_failed", lang, seconds=f"{req.time_limit:g}", detail=detail),), 0.0
    cheap = cheapest(ck, opts)
    if cheap.chosen is None:
        most = most_jp(ck, opts)
        max_jp = round(most.objective) if most.chosen is not None else 0
        problem = text(
            "jp_unreachable", lang, max_jp=max_jp, max_items=req.max_items, min_jp=req.min_jp
        )
        return (problem,), cheap.seconds + most.seconds
    rows = opts.row[cheap.chosen]
    cost = float(opts.cost[cheap.chosen].sum())
    if req.budget is not None and cost > req.budget:
        titles = req.programs["title"].astype(str).to_numpy()[rows]
        problem = text(
            "budget_short",
            lang,
            budget=money(req.budget, lang),
            min_jp=req.min_jp,
            items=", ".join(titles),
            jp=int(opts.jp[cheap.chosen].sum()),
            cost=money(cost, lang),
        )
        return (problem,), cheap.seconds
    detail = res.message
    return (
        text("solver_failed", lang, seconds=f"{req.time_limit:g}", detail=detail),
    ), cheap.seconds


# --- a plan with items ------------------------------------------------------------------------


def _order(opts: Options, chosen: np.ndarray, own_value: np.ndarray) -> list[int]:
    """Chosen options in the order to take them: dated by start then end, then session-free
    ones by their own value (largest first)."""
    dated = [int(o) for o in chosen if not np.isnat(opts.start[o])]
    free = [int(o) for o in chosen if np.isnat(opts.start[o])]
    dated.sort(key=lambda o: (opts.start[o], opts.end[o], int(opts.row[o])))
    free.sort(key=lambda o: (-own_value[opts.row[o]], int(opts.row[o])))
    return dated + free


def own_values(ck: Checked) -> np.ndarray:
    """Each candidate's own priority-weighted gap closure from the assessed levels (n,)."""
    cur, tgt = gaps(ck)
    new = np.nan_to_num(apply_programme(ck.levels[None, :], ck.gain, ck.target) - ck.levels)
    lift = 1 + ck.priority
    value: np.ndarray = (
        lift * (ck.weight * np.minimum(new, cur) + ck.tgt_weight * np.minimum(new, tgt))
    ).sum(axis=1)
    return value


def _closed(ck: Checked, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Priority-weighted levels closed per competency from ``before`` to ``after`` (C,)."""
    known = ~np.isnan(before)
    b, a = np.nan_to_num(before), np.nan_to_num(after)
    cur = np.minimum(a, ck.required) - np.minimum(b, ck.required)
    tgt = np.minimum(a, ck.tgt_required) - np.minimum(b, ck.tgt_required)
    out: np.ndarray = np.where(
        known, (1 + ck.priority) * (ck.weight * cur + ck.tgt_weight * tgt), 0.0
    )
    return out


def _ranks(score: np.ndarray) -> np.ndarray:
    """1 + position by score among the scored candidates (best = 1); 0 where unscored."""
    order = np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")
    ranks = np.empty(len(score), dtype=int)
    ranks[order] = np.arange(1, len(score) + 1)
    out: np.ndarray = np.where(np.isnan(score), 0, ranks)
    return out


def _plan(ck: Checked, opts: Options, res: Result, notes: list[str], seconds: float) -> Plan:
    """Items in order, projected with the effect model, with reasons and totals."""
    req, lang = ck.req, ck.req.language
    assert res.chosen is not None
    ranks = _ranks(ck.score)
    levels = ck.levels.copy()
    items, total_closed = [], 0.0
    for o in _order(opts, res.chosen, own_values(ck)):
        r = int(opts.row[o])
        new = apply_programme(levels, ck.gain[r], ck.target[r])
        closed = _closed(ck, levels, new)
        total_closed += float(closed.sum())
        raised = _raises(ck, levels, new, closed)
        items.append(_item(ck, opts, o, raised, int(ranks[r])))
        levels = new
    if res.status == "time_limit":
        notes.append(text("time_limit", lang))
    if len(opts.comps) == 0:
        built = text("built_for_jp", lang, min_jp=req.min_jp) if req.min_jp > 0 else ""
        notes.append(text("no_gap_closed", lang) + built)
    notes.extend(_unassessed(ck))
    total_jp = int(sum(i.jp for i in items))
    return Plan(
        tuple(items),
        total_jp,
        float(sum(i.cost_idr for i in items)),
        round(total_closed, 4),
        total_jp >= MIN_JP_PER_YEAR,
        any(not i.classical for i in items),
        (),
        lang,
        notes=tuple(notes),
        status=res.status,
        objective=round(res.objective, 6),
        min_jp=req.min_jp,
        budget=req.budget,
        solve_seconds=seconds,
        extra={"options": len(opts), "gap_competencies": len(opts.comps)},
    )


def _raises(
    ck: Checked, before: np.ndarray, after: np.ndarray, closed: np.ndarray
) -> tuple[Raise, ...]:
    """Competencies whose gap the step closes, largest weighted closure first."""
    ids = list(ck.req.competency_ids)
    names = ck.req.competency_names or {}
    out = []
    for c in np.flatnonzero(closed > 0):
        cid = ids[c]
        out.append(
            (
                -float(closed[c]),
                Raise(
                    cid,
                    names.get(cid, cid),
                    float(before[c]),
                    float(after[c]),
                    float(ck.required[c]) if ck.required[c] > 0 else None,
                    float(ck.tgt_required[c]) if ck.tgt_required[c] > 0 else None,
                ),
            )
        )
    out.sort(key=lambda t: (t[0], t[1].competency_id))
    return tuple(r for _, r in out)


def _date(x: np.datetime64) -> dt.date | None:
    """A numpy day as a date (None for NaT)."""
    if np.isnat(x):
        return None
    stamp: dt.date = pd.Timestamp(x).date()
    return stamp


def _item(ck: Checked, opts: Options, o: int, raised: tuple[Raise, ...], rank: int) -> PlanItem:
    """One plan item and its reason."""
    r = int(opts.row[o])
    p = ck.req.programs.iloc[r]
    score = None if np.isnan(ck.score[r]) else float(ck.score[r])
    return PlanItem(
        str(p["program_id"]),
        str(p["title"]),
        str(p["modality"]),
        bool(ck.classical[r]),
        int(ck.jp[r]),
        float(ck.cost[r]),
        opts.session_id[o],
        _date(opts.start[o]),
        _date(opts.end[o]),
        raised,
        reason(ck, r, raised, opts.session_id[o] is None, rank),
        score,
    )


def _needs(rs: Raise, lang: str) -> str:
    """'current position needs 4, now met; likely next position needs 4' (the parts that
    apply: a standard above the level before the step)."""
    parts = []
    for key, need in (("needs_current", rs.required), ("needs_target", rs.target_required)):
        if need is not None and rs.from_level < need:
            part = text(key, lang, level=level(need, lang))
            if rs.to_level >= need:
                part += ", " + text("met", lang)
            parts.append(part)
    return "; ".join(parts)


def reason(ck: Checked, r: int, raised: tuple[Raise, ...], anytime: bool, rank: int) -> str:
    """Why candidate ``r`` is in the plan, in the request's language: the gaps it closes (at
    most three), the year's priority, the JP it adds when it closes no gap, the non-classical
    route, self-paced timing and the ranker's rank."""
    req, lang = ck.req, ck.req.language
    parts = [
        text(
            "raise",
            lang,
            competency=rs.name,
            frm=level(rs.from_level, lang),
            to=level(rs.to_level, lang),
            needs=_needs(rs, lang),
        )
        for rs in raised[:MAX_RAISES_IN_REASON]
    ]
    ids = list(req.competency_ids)
    if any(ck.priority[ids.index(rs.competency_id)] > 0 for rs in raised):
        year = "" if req.year is None else text("priority_year", lang, year=req.year)
        parts.append(text("priority", lang, year=year))
    if not raised and req.min_jp > 0:
        parts.append(text("adds_jp", lang, jp=int(ck.jp[r]), min_jp=req.min_jp))
    if not ck.classical[r]:
        modality = modality_label(str(req.programs["modality"].iloc[r]), lang)
        parts.append(text("non_classical", lang, modality=modality))
    if anytime:
        parts.append(text("anytime", lang))
    if rank > 0:
        parts.append(text("ranked", lang, rank=ordinal(rank, lang)))
    return sentence(parts)


def _unassessed(ck: Checked) -> list[str]:
    """A note naming the competencies of either standard never assessed (none: no note)."""
    need = (ck.required > 0) | (ck.tgt_required > 0)
    missing = np.flatnonzero(need & np.isnan(ck.levels))
    if len(missing) == 0:
        return []
    ids = list(ck.req.competency_ids)
    names = ck.req.competency_names or {}
    listed = ", ".join(names.get(ids[c], ids[c]) for c in missing)
    return [text("unassessed", ck.req.language, competencies=listed)]
