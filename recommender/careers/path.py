"""Path to eligible: the few programmes that raise readiness for a target position the most.

Effect model (a projection, not a promise). After a programme ``p``, an assessed level ``a`` on a
competency ``c`` that the programme touches (``target[p, c] > 0``) becomes::

    max(a, min(target[p, c], a + gain[p, c], 5))

i.e. the programme adds its expected gain but brings nobody beyond its own target level nor
beyond level 5 (:data:`recommender.domain.MAX_LEVEL`), and it never lowers a level. Competencies
the programme does not touch are unchanged. The programmes of a path act one after another in
the order of its steps; since the result can depend on the order (an advanced course taken after
a foundational one may add more than the other way round), every order of a candidate set is
tried and the best one (ranker order among equals) is the order of the steps. Competencies
never assessed stay unknown: the model starts from an assessed level, so they are not
projected and stay out of the JPM (listed in ``after.unknown`` and in ``notes``).

Search. Candidates are the programmes of the ranker's list that would raise at least one gap of
the target position (an assessed competency below the required level), that have a JP count
(and a cost, when a budget is set) and that fit the limits on their own; the ``pool`` best of
them by ranker score are searched exactly: every set of at most ``max_programs`` with total JP
<= ``jp_limit`` and total cost <= ``budget_limit``, in every order. The best set has the highest
JPM after; ties go to fewer programmes, then fewer JP, then the higher summed ranker score, then
the better-ranked programmes.

Words. Messages, notes and step reasons are in English (``language="en"``, the default) or
Indonesian (``"id"``), all from the templates of :data:`TEXTS`; numbers follow the language
(``2.5``, ``85.0 %``, ``Rp 5,000,000`` in English; ``2,5``, ``85,0 %``, ``Rp5.000.000`` in
Indonesian).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations, permutations
from math import comb, perm
from typing import Final

import numpy as np
import pandas as pd

from recommender.careers.readiness import MS, Readiness, readiness
from recommender.domain import MAX_LEVEL

#: Most (set, order) pairs the exact search may evaluate; larger searches are refused.
MAX_ORDERINGS = 1_000_000
PROGRAM_COLUMNS = ("program_id", "title", "jp", "cost_idr", "score")
#: Languages of the words: English and Indonesian.
LANGUAGES: Final = ("en", "id")

#: Every sentence of a path, per language; ``{...}`` are filled by :func:`_say`.
TEXTS: Final[dict[str, dict[str, str]]] = {
    # --- messages (the path is empty) -----------------------------------------------------
    "nothing_assessed": {
        "en": (
            "nothing assessed yet: readiness for this position cannot be measured, "
            "so no path can be projected"
        ),
        "id": (
            "belum pernah dinilai: kesiapan untuk jabatan ini belum dapat diukur, "
            "sehingga jalur belum dapat diproyeksikan"
        ),
    },
    "already_meets": {
        "en": "already meets the standard (JPM {jpm} %, {category}); no path needed",
        "id": "sudah memenuhi standar (JPM {jpm} %, {category}); tidak perlu jalur",
    },
    "none_fits": {
        "en": "no programme that closes these gaps ({gaps}) fits {within}",
        "id": "tidak ada program penutup kesenjangan ini ({gaps}) yang masih {within}",
    },
    "none_closes": {
        "en": "no programme in the ranker's list closes these gaps ({gaps})",
        "id": "tidak ada program dalam daftar pemeringkat yang menutup kesenjangan ini ({gaps})",
    },
    "none_raises": {
        "en": "no programme {within} raises the JPM",
        "id": "tidak ada program {within} yang menaikkan JPM",
    },
    "within": {"en": "within {jp} JP", "id": "dalam batas {jp} JP"},
    "rupiah": {"en": "Rp {amount}", "id": "Rp{amount}"},
    "within_budget": {
        "en": "within {jp} JP and {budget}",
        "id": "dalam batas {jp} JP dan anggaran {budget}",
    },
    # --- notes ----------------------------------------------------------------------------
    "unassessed": {
        "en": (
            "never assessed, so not projected and not in the JPM: {competencies}; "
            "an assessment would show whether they are gaps"
        ),
        "id": (
            "belum pernah dinilai, sehingga tidak diproyeksikan dan tidak masuk JPM: "
            "{competencies}; penilaian akan menunjukkan apakah ada kesenjangan"
        ),
    },
    "still_below": {
        "en": "still below {ms} after this path (JPM {jpm} %, {category})",
        "id": "belum mencapai {ms} setelah jalur ini (JPM {jpm} %, {category})",
    },
    # --- step reasons ---------------------------------------------------------------------
    "raises": {
        "en": "raises {competency} from {frm} to {to} ({needs})",
        "id": "menaikkan {competency} dari {frm} ke {to} ({needs})",
    },
    "needs": {"en": "target needs {level}", "id": "jabatan tujuan memerlukan {level}"},
    "needs_met": {
        "en": "target needs {level}, now met",
        "id": "jabatan tujuan memerlukan {level}, kini terpenuhi",
    },
    "ranked": {
        "en": "ranked {ordinal} by the programme ranker",
        "id": "peringkat ke-{ordinal} dari pemeringkat program",
    },
}


@dataclass(frozen=True)
class Step:
    """One programme of a path: what it raises, ``(competency_id, from_level, to_level)`` in
    the path's order, and why it is there in plain words."""

    program_id: str
    title: str
    jp: int
    cost_idr: float | None
    rank: int
    closes: tuple[tuple[str, float, float], ...]
    reason: str


@dataclass(frozen=True)
class Path:
    """Readiness before and after the steps (in the order to take them), their JP and cost.

    ``message`` says why the path is empty (None when it has steps); ``notes`` add what the
    projection cannot say (unassessed competencies, a path that stays below MS).
    """

    before: Readiness
    after: Readiness
    steps: tuple[Step, ...]
    jp_total: int
    cost_total: float
    message: str | None
    notes: tuple[str, ...] = ()


def apply_programme(levels: np.ndarray, gain: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Levels after one programme (the effect model); NaN (never assessed) stays NaN.

    ``levels`` (..., C); ``gain`` and ``target`` broadcast against it.
    """
    raised = np.minimum(np.minimum(target, levels + gain), float(MAX_LEVEL))
    return np.where(target > 0, np.maximum(levels, raised), levels)


@dataclass(frozen=True)
class _Case:
    """One person, one position and the ranker's list, as aligned arrays (C competencies,
    P programmes): the inputs of :func:`path_to_eligible` once checked."""

    required: np.ndarray  # (C,)
    weight: np.ndarray  # (C,)
    assessed: np.ndarray  # (C,) NaN = never assessed
    ids: list[str]  # (C,)
    gain: np.ndarray  # (P, C)
    target: np.ndarray  # (P, C)
    jp: np.ndarray  # (P,) NaN = unknown
    cost: np.ndarray  # (P,) NaN = unknown
    score: np.ndarray  # (P,)
    rank: np.ndarray  # (P,)


def _make_case(
    required: np.ndarray,
    weight: np.ndarray,
    assessed: np.ndarray,
    competency_ids: list[str],
    programs: pd.DataFrame,
    gain: np.ndarray,
    target: np.ndarray,
) -> _Case:
    """The checked inputs of :func:`path_to_eligible` as one :class:`_Case` of float arrays
    (``jp``/``cost_idr`` that are not numbers become NaN)."""
    return _Case(
        np.asarray(required, dtype=float),
        np.asarray(weight, dtype=float),
        np.asarray(assessed, dtype=float),
        list(competency_ids),
        np.asarray(gain, dtype=float),
        np.asarray(target, dtype=float),
        pd.to_numeric(programs["jp"], errors="coerce").to_numpy(float, na_value=np.nan),
        pd.to_numeric(programs["cost_idr"], errors="coerce").to_numpy(float, na_value=np.nan),
        programs["score"].to_numpy(float),
        _ranks(programs),
    )


def path_to_eligible(
    required: np.ndarray,
    weight: np.ndarray,
    assessed: np.ndarray,
    competency_ids: list[str],
    programs: pd.DataFrame,
    gain: np.ndarray,
    target: np.ndarray,
    jp_limit: int = 80,
    budget_limit: float | None = None,
    max_programs: int = 3,
    pool: int = 15,
    competency_names: Mapping[str, str] | None = None,
    *,
    language: str = "en",
) -> Path:
    """The set of at most ``max_programs`` programmes that raises JPM for a position the most.

    ``required``, ``weight``, ``assessed`` (C,) and ``competency_ids`` as in
    :func:`~recommender.careers.readiness.readiness` (``assessed`` NaN = never assessed);
    ``programs`` the ranker's list, one row per programme: ``program_id``, ``title``, ``jp``,
    ``cost_idr``, ``score`` (higher = better) and optionally ``rank`` (1 = best; else ranked by
    score); ``gain``/``target`` (len(programs), C) aligned with its rows.
    ``competency_names`` (id -> name) is used in the reasons when given. ``language`` ("en"
    or "id") is the language of the messages, notes and reasons.

    Returns an empty path with a ``message`` when nothing was assessed, the person already
    meets the standard or no programme helps within the limits. Raises ValueError on
    inconsistent shapes, missing columns, negative limits, a search too large to be exact or
    an unknown ``language``.
    """
    _check_language(language)
    _check(programs, gain, target, len(competency_ids), jp_limit, budget_limit, max_programs, pool)
    before = readiness(required, weight, assessed, competency_ids)
    case = _make_case(required, weight, assessed, competency_ids, programs, gain, target)
    lang = language
    empty = _empty_reason(before, lang)
    if empty is not None:
        return Path(before, before, (), 0, 0.0, empty, _unknown_notes(before, lang))
    helps = _helps(case)
    fits = _fits(case, jp_limit, budget_limit)
    cands = np.flatnonzero(helps & fits)
    cands = cands[np.argsort(-case.score[cands], kind="stable")][:pool]
    if len(cands) == 0:
        msg = _no_candidate_message(helps, before, jp_limit, budget_limit, competency_names, lang)
        return Path(before, before, (), 0, 0.0, msg, _unknown_notes(before, lang))
    rows = _best_sequence(case, cands, jp_limit, budget_limit, max_programs)
    if not rows:
        msg = _say("none_raises", lang, within=_within(jp_limit, budget_limit, lang))
        return Path(before, before, (), 0, 0.0, msg, _unknown_notes(before, lang))
    return _build_path(case, before, programs, rows, competency_names, lang)


# --- checks and empty paths ------------------------------------------------------------------


def _check_language(language: str) -> None:
    """Raise ValueError unless ``language`` is one of :data:`LANGUAGES`."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")


def _check(
    programs: pd.DataFrame,
    gain: np.ndarray,
    target: np.ndarray,
    n_comp: int,
    jp_limit: int,
    budget_limit: float | None,
    max_programs: int,
    pool: int,
) -> None:
    """Raise ValueError on inconsistent inputs or limits."""
    missing = [c for c in PROGRAM_COLUMNS if c not in programs.columns]
    if missing:
        raise ValueError(f"programs is missing columns {missing}")
    shape = (len(programs), n_comp)
    if gain.shape != shape or target.shape != shape:
        raise ValueError(
            f"gain and target must be programmes x competencies {shape}, "
            f"got {gain.shape} and {target.shape}"
        )
    if jp_limit < 0 or (budget_limit is not None and budget_limit < 0):
        raise ValueError("jp_limit and budget_limit must not be negative")
    if max_programs < 0 or pool < 0:
        raise ValueError("max_programs and pool must not be negative")
    k = min(max_programs, pool)
    orderings = sum(comb(pool, i) * perm(i) for i in range(k + 1))
    if orderings > MAX_ORDERINGS:
        raise ValueError(
            f"pool={pool} with max_programs={max_programs} means {orderings} orderings to try "
            f"(at most {MAX_ORDERINGS}); lower pool or max_programs"
        )


def _empty_reason(before: Readiness, lang: str) -> str | None:
    """Why no path is needed or possible before any search, else None."""
    if before.jpm is None:
        return _say("nothing_assessed", lang)
    if before.category == MS:
        return _say("already_meets", lang, jpm=_jpm(before.jpm, lang), category=MS)
    return None


def _unknown_notes(r: Readiness, lang: str) -> tuple[str, ...]:
    """A note on the competencies that cannot be projected, if any."""
    if not r.unknown:
        return ()
    return (_say("unassessed", lang, competencies=", ".join(r.unknown)),)


def _no_candidate_message(
    helps: np.ndarray,
    before: Readiness,
    jp_limit: int,
    budget_limit: float | None,
    names: Mapping[str, str] | None,
    lang: str,
) -> str:
    """Message for a person no candidate programme helps."""
    gaps = ", ".join(_name(g.competency_id, names) for g in before.gaps)
    if helps.any():
        return _say("none_fits", lang, gaps=gaps, within=_within(jp_limit, budget_limit, lang))
    return _say("none_closes", lang, gaps=gaps)


def _within(jp_limit: int, budget_limit: float | None, lang: str) -> str:
    """'within 80 JP' or 'within 80 JP and Rp 5,000,000' (en); 'dalam batas 80 JP' or
    'dalam batas 80 JP dan anggaran Rp5.000.000' (id)."""
    if budget_limit is None:
        return _say("within", lang, jp=jp_limit)
    return _say("within_budget", lang, jp=jp_limit, budget=_money(budget_limit, lang))


# --- candidates and the exact search ----------------------------------------------------------


def _gaps(case: _Case) -> np.ndarray:
    """Indices of the assessed competencies below the required level."""
    a = case.assessed
    return np.flatnonzero((case.required > 0) & ~np.isnan(a) & (np.nan_to_num(a) < case.required))


def _helps(case: _Case) -> np.ndarray:
    """Per programme: would it raise at least one gap competency on its own? (bool, (P,))"""
    gaps = _gaps(case)
    a = case.assessed[gaps]
    after = apply_programme(a[None, :], case.gain[:, gaps], case.target[:, gaps])
    out: np.ndarray = (after > a[None, :]).any(axis=1)
    return out


def _fits(case: _Case, jp_limit: int, budget_limit: float | None) -> np.ndarray:
    """Per programme: known JP within the limit and, with a budget, known cost within it."""
    ok: np.ndarray = ~np.isnan(case.jp) & (np.nan_to_num(case.jp) <= jp_limit)
    if budget_limit is not None:
        ok &= ~np.isnan(case.cost) & (np.nan_to_num(case.cost) <= budget_limit)
    return ok


def _best_sequence(
    case: _Case, cands: np.ndarray, jp_limit: int, budget_limit: float | None, max_programs: int
) -> list[int]:
    """Programme rows of the best path, in the order to take them (exact search).

    ``cands`` are candidate rows, best ranker score first. All sets of one size are scored
    together as (sets, C) arrays, one pass per order of their programmes.
    """
    cols = np.flatnonzero((case.required > 0) & ~np.isnan(case.assessed))
    req, w, a0 = case.required[cols], case.weight[cols], case.assessed[cols]
    den = float((w * req).sum())
    if den <= 0:
        return []
    g, t = case.gain[np.ix_(cands, cols)], case.target[np.ix_(cands, cols)]
    jp, cost, score = case.jp[cands], np.nan_to_num(case.cost[cands]), case.score[cands]
    best: tuple[tuple[float, int, float, float], list[int], tuple[int, ...]] | None = None
    for k in range(min(max_programs, len(cands)) + 1):
        combos = list(combinations(range(len(cands)), k))
        sets = np.array(combos, dtype=int).reshape(len(combos), k)
        ok = jp[sets].sum(axis=1) <= jp_limit
        if budget_limit is not None:
            ok &= cost[sets].sum(axis=1) <= budget_limit
        sets = sets[ok]
        if len(sets) == 0:
            continue
        jpm, order = _best_orders(sets, a0, req, w, den, g, t)
        for s, jpm_s, order_s in zip(sets, jpm, order, strict=True):
            key = (-round(float(jpm_s), 6), k, float(jp[s].sum()), -float(score[s].sum()))
            if best is None or (key, sorted(s)) < best[:2]:
                best = (key, sorted(s), tuple(int(j) for j in s[order_s]))
    return [] if best is None else [int(cands[j]) for j in best[2]]


def _best_orders(
    sets: np.ndarray,
    a0: np.ndarray,
    req: np.ndarray,
    w: np.ndarray,
    den: float,
    g: np.ndarray,
    t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Best JPM of each set (S, k) over the orders of its programmes, and that order (S, k).

    ``a0``, ``req``, ``w`` (C',) over the assessed competencies of the standard; ``g``, ``t``
    (candidates, C'); ``den`` = sum(w x req).
    """
    k = sets.shape[1]
    best = np.full(len(sets), -np.inf)
    order = np.tile(np.arange(k), (len(sets), 1))
    for p in permutations(range(k)):
        lv = np.broadcast_to(a0, (len(sets), len(a0)))
        for j in p:
            lv = apply_programme(lv, g[sets[:, j]], t[sets[:, j]])
        jpm = 100.0 * (w * np.minimum(lv, req)).sum(axis=1) / den
        better = np.round(jpm, 6) > np.round(best, 6)
        best = np.where(better, jpm, best)
        order[better] = p
    return best, order


# --- the path and its reasons -----------------------------------------------------------------


def _ranks(programs: pd.DataFrame) -> np.ndarray:
    """Ranker rank of every row: the ``rank`` column, else 1 + position by score (best = 1)."""
    if "rank" in programs.columns:
        given: np.ndarray = programs["rank"].to_numpy(int)
        return given
    order = np.argsort(-programs["score"].to_numpy(float), kind="stable")
    ranks = np.empty(len(programs), dtype=int)
    ranks[order] = np.arange(1, len(programs) + 1)
    return ranks


def _build_path(
    case: _Case,
    before: Readiness,
    programs: pd.DataFrame,
    rows: list[int],
    names: Mapping[str, str] | None,
    lang: str,
) -> Path:
    """Apply the chosen programmes in order and describe each step."""
    levels = case.assessed
    steps = []
    for r in rows:
        new = apply_programme(levels, case.gain[r], case.target[r])
        raised = np.flatnonzero(
            (case.required > 0) & (np.nan_to_num(levels) < case.required) & (new > levels)
        )
        closes = tuple((case.ids[c], float(levels[c]), float(new[c])) for c in raised)
        cost = None if np.isnan(case.cost[r]) else float(case.cost[r])
        why = _reason(closes, case, int(case.rank[r]), names, lang)
        row = programs.iloc[r]
        steps.append(
            Step(
                str(row["program_id"]),
                str(row["title"]),
                int(case.jp[r]),
                cost,
                int(case.rank[r]),
                closes,
                why,
            )
        )
        levels = new
    after = readiness(case.required, case.weight, levels, case.ids)
    notes = _unknown_notes(after, lang)
    if after.category != MS:
        jpm = _jpm(float(after.jpm or 0.0), lang)
        notes += (_say("still_below", lang, ms=MS, jpm=jpm, category=after.category),)
    cost_total = float(sum(s.cost_idr or 0.0 for s in steps))
    return Path(before, after, tuple(steps), sum(s.jp for s in steps), cost_total, None, notes)


def _reason(
    closes: tuple[tuple[str, float, float], ...],
    case: _Case,
    rank: int,
    names: Mapping[str, str] | None,
    lang: str,
) -> str:
    """E.g. 'raises Integritas from 2 to 3 (target needs 4); ranked 3rd by the programme
    ranker' (en) or 'menaikkan Integritas dari 2 ke 3 (jabatan tujuan memerlukan 4); peringkat
    ke-3 dari pemeringkat program' (id)."""
    parts = []
    for cid, lo, hi in closes:
        need = float(case.required[case.ids.index(cid)])
        needs = _say("needs_met" if hi >= need else "needs", lang, level=_lvl(need, lang))
        frm, to = _lvl(lo, lang), _lvl(hi, lang)
        parts.append(
            _say("raises", lang, competency=_name(cid, names), frm=frm, to=to, needs=needs)
        )
    parts.append(_say("ranked", lang, ordinal=_ordinal(rank, lang)))
    return "; ".join(parts)


def _name(cid: str, names: Mapping[str, str] | None) -> str:
    """Competency name when known, else its id."""
    return names.get(cid, cid) if names else cid


# --- words and numbers ------------------------------------------------------------------------


def _say(key: str, lang: str, **values: object) -> str:
    """The sentence ``key`` of :data:`TEXTS` in ``lang`` with ``values`` filled in."""
    return TEXTS[key][lang].format(**values)


_ID_DIGITS: Final = str.maketrans(",.", ".,")


def _decimal(text: str, lang: str) -> str:
    """English number text in the language: Indonesian swaps ',' (thousands) and '.'."""
    if lang != "id":
        return text
    return text.translate(_ID_DIGITS)


def _lvl(x: float, lang: str) -> str:
    """A level as people read it: 3, 2.5, 2.75 (en); 3, 2,5, 2,75 (id)."""
    return _decimal(f"{round(x, 2):g}", lang)


def _jpm(jpm: float, lang: str) -> str:
    """A JPM with one decimal: 85.0 (en), 85,0 (id)."""
    return _decimal(f"{jpm:.1f}", lang)


def _money(amount: float, lang: str) -> str:
    """Whole rupiah: 'Rp 5,000,000' (en), 'Rp5.000.000' (id)."""
    return _say("rupiah", lang, amount=_decimal(f"{amount:,.0f}", lang))


def _ordinal(n: int, lang: str) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st... (en); the bare number for 'ke-3' (id)."""
    if lang == "id":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
