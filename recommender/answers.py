"""The rows of an answer, built once for the service (``GET /v1/.../programs``, ``.../positions``)
and the batch (``jenjang batch programs|positions``): the same ids, rounded scores and reason
codes, from the same expressions.

- :func:`ranked_programs`: per ranked programme its rank, id, score (rounded to
  :data:`SCORE_DIGITS` decimals) and reason codes (at most :data:`REASON_CODES_SHOWN`);
- :func:`program_items`: the service's programme items (those fields, the catalogue's fields
  and the reasons as sentences);
- :func:`position_items`: the service's position items
  (:func:`recommender.careers.recommend.as_dict`);
- :func:`position_rows`: the batch's position rows, taken from those items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypedDict

import numpy as np
import pandas as pd

from recommender.careers.recommend import Suggestion, as_dict
from recommender.domain import SCORE_DIGITS
from recommender.programs import reasons
from recommender.programs.catalog import Catalog
from recommender.programs.features import FEATURES
from recommender.programs.recommend import Ranked
from recommender.snapshot import Snapshot
from recommender.state import World

#: Decimals of a served score.
#: Reason codes shown per programme.
REASON_CODES_SHOWN: Final = 3
#: Language of the answers when none is asked for (reason codes do not depend on it).
DEFAULT_LANGUAGE: Final = "id"
#: Most programmes and next positions one answer (or one batch row set) may hold.
MAX_PROGRAMS: Final = 50
MAX_POSITIONS: Final = 20


class ModelRef(TypedDict):
    """The model an answer comes from: registered name and version (None: not loaded)."""

    name: str
    version: str | None


class ProgramItem(TypedDict):
    """One programme of an answer, in this key order (the JSON body keeps it)."""

    rank: int
    program_id: str
    title: str
    modality: str
    jp: int
    cost_idr: int
    lan_accredited: bool
    score: float
    reason_codes: list[str]
    reasons: list[str]


class ProgramsAnswer(TypedDict):
    """``GET /v1/employees/{nip}/programs`` and the cold start: model, year and items."""

    model: ModelRef
    year: int
    items: list[ProgramItem]


class PositionsAnswer(TypedDict):
    """``GET /v1/employees/{nip}/positions``: model and items (see :func:`position_items`)."""

    model: ModelRef
    items: list[dict[str, object]]


@dataclass(frozen=True)
class RankedProgram:
    """One ranked programme: ``rank`` (1 = best), id, rounded score and reason codes."""

    rank: int
    program_id: str
    score: float
    reason_codes: list[str]


@dataclass(frozen=True)
class PositionRow:
    """One next position of a batch row: rank, id, rounded score, eligibility, reason codes."""

    rank: int
    position_id: str
    score: float
    eligible: bool
    reason_codes: list[str]


def rounded_score(*, score: float) -> float:
    """``score`` as served: a float rounded to :data:`SCORE_DIGITS` decimals."""
    return round(float(score), SCORE_DIGITS)


def ranked_programs(*, ranked: Ranked) -> list[RankedProgram]:
    """The ranked candidates of ``ranked`` in rank order (``len(ranked.score)`` of them), each
    with its rounded score and reason codes (from the reason features of its feature row)."""
    cols = [FEATURES.index(f) for f in reasons.REASON_FEATURES]
    values = ranked.candidates.X[:, cols]
    return [
        RankedProgram(
            rank=i + 1,
            program_id=str(pid),
            score=rounded_score(score=s),
            reason_codes=reasons.codes_for(dict(zip(reasons.REASON_FEATURES, v, strict=True)))[
                :REASON_CODES_SHOWN
            ],
        )
        for i, (pid, s, v) in enumerate(
            zip(ranked.candidates.program_ids, ranked.score, values, strict=True)
        )
    ]


def program_items(
    *, world: World, ranked: Ranked, snap: Snapshot, row: int, year: int, lang: str
) -> list[ProgramItem]:
    """The programme items of an answer for the person at ``row`` of ``snap`` (a person of the
    world's snapshot, or a cold-start profile's one-row snapshot): :func:`ranked_programs`, the
    catalogue fields and the reasons in ``lang`` ("id" or "en") naming the competency with the
    largest gap of the current and the next position that each programme addresses. Raises
    KeyError when a ranked programme is not in the world's catalogue."""
    cat = world.cat
    info = cat.memo("program_info", lambda: _program_info(cat))
    names = cat.memo("competency_labels", lambda: _competency_labels(world))
    posidx = cat.memo("position_index", lambda: pd.Index(cat.positions["position_id"]))
    p = int(posidx.get_indexer(pd.Index([snap.people["position_id"].iat[row]]))[0])
    nxt = int(cat.next_position[p]) if p >= 0 else -1
    where = cat.memo("program_rows", lambda: {str(x): i for i, x in enumerate(cat.ids)})
    prows = np.array([where[str(x)] for x in ranked.candidates.program_ids], dtype=int)
    levels = snap.levels[row]
    cur = _top_gaps(cat, prows, p, levels, names)
    tgt = _top_gaps(cat, prows, nxt, levels, names) if nxt != p else [""] * len(prows)
    items: list[ProgramItem] = []
    for i, (prow, r) in enumerate(zip(prows.tolist(), ranked_programs(ranked=ranked), strict=True)):
        fields = info[prow]
        items.append(
            {
                "rank": r.rank,
                "program_id": fields["program_id"],
                "title": fields["title"],
                "modality": fields["modality"],
                "jp": fields["jp"],
                "cost_idr": fields["cost_idr"],
                "lan_accredited": fields["lan_accredited"],
                "score": r.score,
                "reason_codes": r.reason_codes,
                "reasons": reasons.render(r.reason_codes, lang, cur[i], tgt[i], year),
            }
        )
    return items


def position_items(*, found: Sequence[Suggestion]) -> list[dict[str, object]]:
    """The position items of an answer: each suggestion as
    :func:`recommender.careers.recommend.as_dict` gives it (score rounded there)."""
    return [as_dict(s) for s in found]


def position_rows(*, found: Sequence[Suggestion]) -> list[PositionRow]:
    """The batch rows of ``found``: rank, id, score, eligibility and reason codes exactly as in
    :func:`position_items` (the served answer)."""
    rows = []
    for s, item in zip(found, position_items(found=found), strict=True):
        score = item["score"]
        assert isinstance(score, float | int)
        rows.append(
            PositionRow(
                rank=s.rank,
                position_id=s.position_id,
                score=float(score),
                eligible=bool(item["eligible"]),
                reason_codes=list(s.reason_codes),
            )
        )
    return rows


class _ProgramInfo(TypedDict):
    program_id: str
    title: str
    modality: str
    jp: int
    cost_idr: int
    lan_accredited: bool


def _program_info(cat: Catalog) -> list[_ProgramInfo]:
    """Per programme row: the fields an answer shows."""
    p = cat.programs
    return [
        {
            "program_id": str(pid),
            "title": str(title),
            "modality": str(mod),
            "jp": int(jp),
            "cost_idr": int(cost),
            "lan_accredited": bool(acc),
        }
        for pid, title, mod, jp, cost, acc in zip(
            p["program_id"],
            p["title"],
            p["modality"],
            p["jp"],
            p["cost_idr"],
            p["lan_accredited"],
            strict=True,
        )
    ]


def competency_names(*, world: World) -> dict[str, str]:
    """Competency id -> name, from the world's ``competencies`` table."""
    comps = world.tables["competencies"]
    return dict(zip(comps["competency_id"].astype(str), comps["name"].astype(str), strict=True))


def _competency_labels(w: World) -> np.ndarray:
    """Competency names in catalogue column order (object array)."""
    names = competency_names(world=w)
    return np.array([names.get(str(c), str(c)) for c in w.cat.competencies], dtype=object)


def _top_gaps(
    cat: Catalog, prows: np.ndarray, pos: int, levels: np.ndarray, labels: np.ndarray
) -> list[str]:
    """Per programme row: the name of the competency with the largest weighted gap of
    position ``pos`` that the programme addresses ("" when none; NaN levels count as no gap)."""
    if pos < 0:
        return [""] * len(prows)
    gap = np.where(np.isnan(levels), 0.0, np.maximum(cat.req[pos] - levels, 0.0))
    score = np.where(cat.gain[prows] > 0, gap * cat.req_weight[pos], 0.0)
    best = score.argmax(axis=1)
    has = score.max(axis=1, initial=0.0) > 0
    return [str(labels[b]) if h else "" for b, h in zip(best, has, strict=True)]
