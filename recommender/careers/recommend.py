"""Next positions for one person: candidates -> ranker -> eligibility, readiness, reasons, path.

The same candidate and feature code as training (:mod:`recommender.careers.features`). With a
learned ranker and move history the ranker orders the positions; without either (an agency
with positions and standards only) the standards-only score orders them
(:mod:`recommender.careers.standards`: competency-profile similarity and tier step). Each
suggestion carries:

- the career-pattern verdict (eligible, or each failed condition in words, with the rule's
  legal basis);
- readiness for the target (JPM %, MS / MMS / KMS, gaps);
- reasons: history ("12 officers moved from your post to this one"), vacancies, and career
  patterns shown only above minimum counts (:mod:`recommender.careers.patterns`);
- the path to eligible: the few programmes from the programme ranker's list that raise
  readiness for the target most within a JP and budget limit (:mod:`recommender.careers.path`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from recommender.careers import standards
from recommender.careers.eligibility import Verdict, explain
from recommender.careers.features import FEATURES, CareerContext, candidate_frame
from recommender.careers.horizon import HORIZON_MONTHS, PairHorizon, horizons, pair_horizon
from recommender.careers.path import Path, path_to_eligible
from recommender.careers.patterns import PatternTable, reasons_for
from recommender.careers.policy import attainable_advancing, served_scores
from recommender.careers.readiness import MS, Readiness, readiness
from recommender.domain import SCORE_DIGITS

Mode = Literal["learned", "standards"]


class Scorer(Protocol):
    """What the recommender needs from a model."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """One score per candidate row."""
        ...


@dataclass(frozen=True)
class Suggestion:
    """One next position with everything needed to act on it (see the module docstring)."""

    rank: int
    position_id: str
    title: str
    tier: str
    unit_id: str | None
    score: float
    mode: Mode
    verdict: Verdict
    readiness: Readiness
    reasons: tuple[str, ...]
    path: Path | None
    #: ELIGIBLE / NOT_YET_ELIGIBLE, MOVES_FROM_POST, VACANCY, RETIREMENT, OWN_UNIT, CAREER_PATTERN
    reason_codes: tuple[str, ...] = ()
    #: the verdict with a horizon (:mod:`recommender.careers.horizon`); None only when built
    #: by hand
    horizon: PairHorizon | None = None


@dataclass(frozen=True)
class PathOptions:
    """Inputs of the path to eligible: the programme ranker's list for the person
    (``program_id``, ``title``, ``jp``, ``cost_idr``, ``score``), the JP and budget limits, and
    competency names (id -> name) for the reasons."""

    programmes: pd.DataFrame
    jp_limit: int = 80
    budget_limit: float | None = None
    competency_names: Mapping[str, str] | None = None


def standards_only_scores(ctx: CareerContext, current_row: int) -> np.ndarray:
    """Standards-only score of every position for someone in position row ``current_row``."""
    return standards.standards_scores(
        ctx.cat.req, ctx.cat.req_weight, ctx.positions["tier_level"].to_numpy(float), current_row
    )


HISTORY_TEXTS: dict[str, dict[str, str]] = {
    "moved": {
        "en": "{n} officer(s) moved from the same post to this one before",
        "id": "{n} pegawai pernah pindah dari jabatan yang sama ke jabatan ini",
    },
    "vacant": {
        "en": "{n} post(s) vacant in the staffing plan (formasi)",
        "id": "{n} formasi kosong",
    },
    "retiring": {
        "en": "a holder reaches retirement age this year",
        "id": "seorang pemangku jabatan mencapai batas usia pensiun tahun ini",
    },
    "own_unit": {"en": "in your own unit", "id": "di unit kerja Anda sendiri"},
}


def _history_reasons(row: pd.Series, lang: str) -> list[tuple[str, str]]:
    """(code, sentence) pairs: MOVES_FROM_POST, VACANCY, RETIREMENT, OWN_UNIT."""

    def say(key: str, **values: object) -> str:
        return HISTORY_TEXTS[key]["id" if lang == "id" else "en"].format(**values)

    out = []
    if int(row["trans_count"]) >= 1:
        out.append(("MOVES_FROM_POST", say("moved", n=int(row["trans_count"]))))
    if int(row["vacancy"]) > 0:
        out.append(("VACANCY", say("vacant", n=int(row["vacancy"]))))
    elif row["vacancy_expected"] > 0:
        out.append(("RETIREMENT", say("retiring")))
    if row["same_unit"] == 1.0:
        out.append(("OWN_UNIT", say("own_unit")))
    return out


def next_positions(
    ctx: CareerContext,
    scorer: Scorer | None,
    employee_id: str,
    k: int = 5,
    patterns: PatternTable | None = None,
    path: PathOptions | None = None,
    eligible_only: bool = False,
    lang: str = "en",
) -> list[Suggestion]:
    """Top ``k`` next positions for ``employee_id`` on ``ctx.snap.at``.

    The order is the served order of :mod:`recommender.careers.policy`: the score's, except
    that at least ``min(m, 3)`` of the ``m`` advancing posts eligible within the horizon are in
    the top 10 (scaled for ``k`` < 10); each suggestion's ``score`` stays the ranker's.
    ``scorer`` None, or no move history in ``ctx``, switches to the standards-only score.
    Without ``path`` no path to eligible is computed. ``eligible_only`` keeps only positions
    the career pattern allows now. ``lang`` ("en" or "id") words the reasons. Returns fewer
    than ``k`` (possibly none) when fewer qualify. Raises KeyError when the person is not
    active on the snapshot date and ValueError for ``k`` < 1.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    row = ctx.snap.row(employee_id)
    frame = candidate_frame(ctx, np.array([row]), detail=True)
    learned = scorer is not None and ctx.history.trans.sum() > 0
    if learned:
        assert scorer is not None
        score = scorer.predict(frame[list(FEATURES)])
    else:
        score = standards_only_scores(ctx, int(frame["p_row"].to_numpy()[0]))[
            frame["t_row"].to_numpy()
        ]
    frame = frame.assign(score=score)
    if eligible_only:
        frame = frame[frame["eligible"] == 1.0]
    if len(frame) == 0:
        return []
    found = horizons(ctx.rules, frame, ctx.snap.at)  # once for every candidate
    flagged = attainable_advancing(rules=ctx.rules, frame=frame, at=ctx.snap.at, found=found)
    served = served_scores(
        group=np.zeros(len(frame), dtype=int),
        score=frame["score"].to_numpy(float),
        flagged=flagged,
        k=k,
    )
    frame = frame.assign(_served=served, _pair=np.arange(len(frame)))
    frame = frame.sort_values("_served", ascending=False, kind="stable").head(k)
    mode: Mode = "learned" if learned else "standards"
    return [
        _suggest(ctx, r, i + 1, mode, patterns, path, lang, pair_horizon(found, int(r["_pair"])))
        for i, (_, r) in enumerate(frame.iterrows())
    ]


def _path(ctx: CareerContext, t: int, person: int, options: PathOptions, lang: str) -> Path:
    cat = ctx.cat
    rows = cat.ids.get_indexer(pd.Index(options.programmes["program_id"]))
    known = options.programmes[rows >= 0].reset_index(drop=True)
    rows = rows[rows >= 0]
    return path_to_eligible(
        cat.req[t],
        cat.req_weight[t],
        ctx.snap.levels[person],
        list(cat.competencies),
        known,
        cat.gain[rows],
        cat.target[rows],
        jp_limit=options.jp_limit,
        budget_limit=options.budget_limit,
        competency_names=options.competency_names,
        language="id" if lang == "id" else "en",
    )


def _suggest(
    ctx: CareerContext,
    r: pd.Series,
    rank: int,
    mode: Mode,
    patterns: PatternTable | None,
    options: PathOptions | None,
    lang: str,
    horizon: PairHorizon | None = None,
) -> Suggestion:
    cat, snap = ctx.cat, ctx.snap
    t = int(r["t_row"])
    person = snap.row(str(r["employee_id"]))
    ids = list(cat.competencies)
    ready = readiness(cat.req[t], cat.req_weight[t], snap.levels[person], ids)
    verdict = explain(ctx.rules, r, snap.at.year, lang, rule_index=int(r["rule"]))
    if horizon is None:
        horizon = pair_horizon(horizons(ctx.rules, pd.DataFrame([r]), snap.at), 0)
    coded = [("ELIGIBLE" if verdict.eligible else "NOT_YET_ELIGIBLE", "")]
    coded += _history_reasons(r, lang)
    if patterns is not None:
        titles = dict(zip(cat.programs["program_id"], cat.programs["title"], strict=True))
        coded += [
            ("CAREER_PATTERN", text)
            for text in reasons_for(
                patterns,
                str(r["current_position_id"]),
                str(r["position_id"]),
                titles,
                language="id" if lang == "id" else "en",
            )
        ]
    path = None
    if options is not None and ready.category != MS and ready.jpm is not None:
        path = _path(ctx, t, person, options, lang)
    pos = ctx.positions.iloc[t]
    return Suggestion(
        rank=rank,
        position_id=str(pos["position_id"]),
        title=str(pos["title"]),
        tier=str(pos["tier"]),
        unit_id=None if pd.isna(pos["unit_id"]) else str(pos["unit_id"]),
        score=float(r["score"]),
        mode=mode,
        verdict=verdict,
        readiness=ready,
        reasons=tuple(text for _, text in coded if text),
        reason_codes=tuple(dict.fromkeys(code for code, _ in coded)),
        path=path,
        horizon=horizon,
    )


def horizon_dict(h: PairHorizon | None, eligible: bool) -> dict[str, object]:
    """The horizon keys of an answer item: ``eligible_now``, ``eligible_by`` (ISO date or None),
    ``horizon_months``, ``eligible_within_horizon``, ``pending`` [{condition, met_on}] and
    ``blocked`` [condition]. Without a horizon: eligible now or nothing known."""
    if h is None:
        return {
            "eligible_now": eligible,
            "eligible_by": None,
            "horizon_months": HORIZON_MONTHS,
            "eligible_within_horizon": eligible,
            "pending": [],
            "blocked": [],
        }
    by = h.eligible_by
    return {
        "eligible_now": h.eligible_now,
        "eligible_by": None if by is None else by.date().isoformat(),
        "horizon_months": h.months,
        "eligible_within_horizon": h.within,
        "pending": [{"condition": c, "met_on": d.date().isoformat()} for c, d in h.pending],
        "blocked": list(h.blocked),
    }


def as_dict(s: Suggestion) -> dict[str, object]:
    """A suggestion as plain JSON-able data (for the CLI and the API)."""
    r = s.readiness
    out: dict[str, object] = {
        "rank": s.rank,
        "position_id": s.position_id,
        "title": s.title,
        "tier": s.tier,
        "unit_id": s.unit_id,
        "score": round(s.score, SCORE_DIGITS),
        "mode": s.mode,
        "eligible": s.verdict.eligible,
        **horizon_dict(s.horizon, s.verdict.eligible),
        "rule": s.verdict.rule_id,
        "move_kind": s.verdict.kind,
        "legal_basis": s.verdict.legal_basis,
        "not_yet": list(s.verdict.failed),
        "after_appointment": list(s.verdict.after_appointment),
        "readiness": {
            "jpm": r.jpm,
            "category": r.category,
            "coverage": round(r.coverage, 3),
            "gaps": [
                {"competency_id": g.competency_id, "required": g.required, "assessed": g.assessed}
                for g in r.gaps
            ],
            "not_assessed": list(r.unknown),
        },
        "reason_codes": list(s.reason_codes),
        "reasons": list(s.reasons),
        "path": None,
    }
    if s.path is not None:
        p = s.path
        out["path"] = {
            "jpm_before": p.before.jpm,
            "jpm_after": p.after.jpm,
            "category_after": p.after.category,
            "jp_total": p.jp_total,
            "cost_total": p.cost_total,
            "message": p.message,
            "notes": list(p.notes),
            "programs": [
                {"program_id": st.program_id, "title": st.title, "jp": st.jp, "why": st.reason}
                for st in p.steps
            ],
        }
    return out
