"""Features of (employee, programme) pairs as of a snapshot date, and the candidate generator.

One code path for training and serving: :func:`candidate_frame` takes a :class:`Snapshot`
(state strictly before ``at``), the :class:`Catalog`, the usage statistics of the same date and
the year being planned, and returns one row per candidate with :data:`FEATURES`.

Candidates (design 3 C): eligible programmes — offered in the year, aimed at the person's tier,
not completed, prerequisites completed, not assignment-only (Latsar, PKP, PKA, PKN, JF basic
training are planned through the career path) — drawn from the union of the top programmes by
current-gap coverage, target-position gap coverage, co-enrolment and popularity in the position,
at most ``max_candidates`` per person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender import domain
from recommender.domain import SELF_PACED
from recommender.programs.catalog import ASSIGNMENT_ONLY, Catalog, modality_codes
from recommender.programs.collab import ease_from_gram
from recommender.snapshot import Snapshot

PERSON_FEATURES = (
    "age",
    "education_rank",
    "grade_rank",
    "tier_level",
    "years_in_position",
    "years_of_service",
    "last_rating",
    "talent_box",
    "n_enrolments",
    "completion_rate",
    "self_paced_completion",
    "n_self_paced",
    "jp_last_year",
    "java",
)
PROGRAM_FEATURES = (
    "modality_code",
    "classical",
    "self_paced",
    "jp",
    "log_cost",
    "accredited",
    "duration_days",
    "target_level",
    "n_competencies",
    "years_offered",
    "priority_alignment",
)
PAIR_FEATURES = (
    "gap_coverage",
    "target_gap_coverage",
    "gap_rule",
    "level_delta",
    "assessed_cover",
    "position_overlap",
    "modality_habit",
    "item_knn",
    "ease_score",
    "pop_global",
    "pop_position",
    "pop_unit",
    "pop_unit_recent",
    "pop_tier",
)
FEATURES = PERSON_FEATURES + PROGRAM_FEATURES + PAIR_FEATURES
SOURCES = {"gap_rule": 60, "target_gap_coverage": 30, "item_knn": 40, "pop_position": 40}
KNN_NEIGHBOURS = 20
#: L2 penalty of the EASE item-item weights behind the ``ease_score`` feature (on the
#: co-enrolment Gram matrix of everyone's history before the snapshot date).
EASE_L2 = 100.0


@dataclass
class Usage:
    """What people did before ``at``: popularity (global, per position, per unit) and item
    similarity from co-enrolment. Shapes: ``global_`` (P,), ``by_position`` (positions x P),
    ``by_unit`` (units x P), ``by_tier`` (tiers x P) as shares of people, ``similarity``
    (P x P, top-k per column), ``ease`` (P x P, EASE weights, :data:`EASE_L2`)."""

    global_: np.ndarray
    by_position: pd.DataFrame
    by_unit: pd.DataFrame
    by_tier: pd.DataFrame
    similarity: np.ndarray
    ease: np.ndarray
    by_unit_recent: pd.DataFrame


@dataclass
class UsageCounts:
    """The additive part of :class:`Usage`: counts that sum over any split of the people
    (e.g. the partitions of a batch run). ``pairs[key]``: groups x programmes, people of the
    group who started each programme in the window (int64, groups sorted); ``sizes[key]``:
    people per group; ``co``: (P, P) co-enrolment counts over all history (float64, exact
    integers). ``key`` is one of :data:`USAGE_KEYS`."""

    pairs: dict[str, pd.DataFrame]
    sizes: dict[str, pd.Series]
    co: np.ndarray

    def __add__(self, other: UsageCounts) -> UsageCounts:
        return UsageCounts(
            {k: _add_frames(self.pairs[k], other.pairs[k]) for k in self.pairs},
            {
                k: self.sizes[k].add(other.sizes[k], fill_value=0).astype(np.int64)
                for k in USAGE_KEYS
            },
            self.co + other.co,
        )


USAGE_KEYS = ("position_id", "unit_id", "tier")
#: ``pairs`` key of the unit table over the last :data:`RECENT_DAYS` only (what co-workers
#: took lately: enrolment spreads through units).
RECENT_UNIT = "unit_id_recent"
RECENT_DAYS = 365


def _add_frames(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Sum of two groups x programmes count tables (missing groups count 0), groups sorted."""
    out = a.add(b, fill_value=0).sort_index().astype(np.int64)
    out.index.name = a.index.name
    return out


def usage_window(enr: pd.DataFrame, at: pd.Timestamp, window_days: int = 730) -> pd.DataFrame:
    """Enrolments that started before ``at`` and within ``window_days`` of it."""
    return enr[
        (enr["start_date"] < at) & (enr["start_date"] >= at - pd.Timedelta(days=window_days))
    ]


def usage_counts(window: pd.DataFrame, snap: Snapshot) -> UsageCounts:
    """Counts of the people of ``snap`` from their enrolments in ``window``
    (:func:`usage_window`; rows of other people are ignored)."""
    who = window[window["employee_id"].isin(snap.people.index)]
    pairs = who.drop_duplicates(["employee_id", "program_id"])
    tables, sizes = {}, {}
    for key in USAGE_KEYS:
        group = pairs["employee_id"].map(snap.people[key])
        table = pd.crosstab(group, pairs["program_id"]).reindex(columns=snap.programs, fill_value=0)
        table.index.name = key
        tables[key] = table.astype(np.int64)
        sizes[key] = snap.people[key].value_counts().astype(np.int64)
    recent = who[who["start_date"] >= snap.at - pd.Timedelta(days=RECENT_DAYS)]
    recent = recent.drop_duplicates(["employee_id", "program_id"])
    group = recent["employee_id"].map(snap.people["unit_id"])
    table = pd.crosstab(group, recent["program_id"]).reindex(columns=snap.programs, fill_value=0)
    table.index.name = "unit_id"
    tables[RECENT_UNIT] = table.astype(np.int64)
    return UsageCounts(tables, sizes, co_enrolment(snap.taken))


def co_enrolment(taken: np.ndarray) -> np.ndarray:
    """(P, P) co-enrolment counts (float64, exact integers) of a people x programmes boolean
    matrix (computed in float32, exact below 16.7 million people per pair)."""
    t = taken.astype(np.float32)
    out: np.ndarray = (t.T @ t).astype(np.float64)
    return out


def item_similarity(taken: np.ndarray) -> np.ndarray:
    """Item-item cosine similarity of co-enrolment in ``taken`` (people x items, boolean),
    keeping the top neighbours of each item: (items, items) float32."""
    return _similarity(co_enrolment(taken).astype(np.float32))


def usage_from(enrolled: np.ndarray, counts: UsageCounts, progs: pd.Index) -> Usage:
    """:class:`Usage` from the windowed enrolment count of each programme (everyone's, (P,))
    and the people's :class:`UsageCounts`."""
    position, unit, tier = (_share(counts.pairs[k], counts.sizes[k], progs) for k in USAGE_KEYS)
    return Usage(
        np.log1p(enrolled),
        position,
        unit,
        tier,
        _similarity(counts.co.astype(np.float32)),
        ease_from_gram(gram=counts.co, l2=EASE_L2),
        _share(counts.pairs[RECENT_UNIT], counts.sizes["unit_id"], progs),
    )


def enrolment_counts(window: pd.DataFrame, progs: pd.Index) -> np.ndarray:
    """Windowed enrolments per programme of ``progs`` (every row counts), float (P,)."""
    counts: np.ndarray = (
        window["program_id"].value_counts().reindex(progs, fill_value=0).to_numpy(float)
    )
    return counts


def build_usage(tables: dict[str, pd.DataFrame], snap: Snapshot, window_days: int = 730) -> Usage:
    """Usage statistics from enrolments that started before ``snap.at`` (within the window
    for popularity; all history for co-enrolment)."""
    window = usage_window(tables["enrollments"], snap.at, window_days)
    return usage_from(
        enrolment_counts(window, snap.programs), usage_counts(window, snap), snap.programs
    )


def _share(table: pd.DataFrame, size: pd.Series, progs: pd.Index) -> pd.DataFrame:
    """Share of the people in each group (position, unit or tier) who took each programme."""
    people = size.reindex(table.index).clip(lower=1).to_numpy(float)
    values = (table.to_numpy(float) / people[:, None]).astype(np.float32)
    return pd.DataFrame(values, index=table.index, columns=progs)  # one block: fast row lookups


def _usage_rows(snap: Snapshot, usage: Usage, key: str) -> np.ndarray:
    """Row of each person's ``key`` (position, unit, tier) in the usage table (-1: none)."""
    table = {
        "position_id": usage.by_position,
        "unit_id": usage.by_unit,
        "tier": usage.by_tier,
        RECENT_UNIT: usage.by_unit_recent,
    }
    shares = table[key]
    column = "unit_id" if key == RECENT_UNIT else key
    return snap.memo_for(
        ("usage_rows", key),
        usage,
        lambda: shares.index.get_indexer(pd.Index(snap.people[column])),
    )


def _lookup(shares: pd.DataFrame, index: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows of ``shares`` for the people at ``rows`` (zeros where a person's key has none),
    shape (len(rows), P); ``index`` from :func:`_usage_rows`."""
    idx = index[rows]
    values = shares.to_numpy()
    out = np.zeros((len(idx), values.shape[1]), dtype=values.dtype)
    found = idx >= 0
    out[found] = values[idx[found]]
    return out


def _similarity(co: np.ndarray) -> np.ndarray:
    """Item-item cosine similarity from the (P, P) float32 co-enrolment counts, keeping the
    top neighbours of each item."""
    norm = np.sqrt(np.diag(co))
    sim = co / np.maximum(np.outer(norm, norm), 1e-9)
    np.fill_diagonal(sim, 0.0)
    if sim.shape[0] > KNN_NEIGHBOURS:
        cut = -np.partition(-sim, KNN_NEIGHBOURS - 1, axis=0)[KNN_NEIGHBOURS - 1]
        sim = np.where(sim >= cut[None, :], sim, 0.0)
    out: np.ndarray = sim.astype(np.float32)
    return out


def _tier_rows(snap: Snapshot) -> np.ndarray:
    """Index of each person's tier in ``domain.TIERS`` (-1 unknown), computed once."""
    return snap.memo(
        "tier_rows", lambda: pd.Index(domain.TIERS).get_indexer(pd.Index(snap.people["tier"]))
    )


def _prereq_matrix(cat: Catalog) -> np.ndarray:
    """(P, P) float: [p, q] = 1 when q is a prerequisite of p."""

    def build() -> np.ndarray:
        out = np.zeros((len(cat.programs), len(cat.programs)), dtype=np.float32)
        for p, pre in enumerate(cat.prereq):
            out[p, pre[pre >= 0]] = 1.0
        return out

    return cat.memo("prereq_matrix", build)


def eligible(snap: Snapshot, cat: Catalog, year: int, rows: np.ndarray) -> np.ndarray:
    """Eligibility (len(rows) x programmes): offered, tier, not completed, prerequisites."""
    tiers = _tier_rows(snap)[rows]
    open_ = cat.memo(
        ("open", year),
        lambda: cat.offered(year) & ~cat.programs["modality"].isin(ASSIGNMENT_ONLY).to_numpy(),
    )
    ok: np.ndarray = open_[None, :]
    done = snap.completed[rows]
    missing_prereq = (~done).astype(np.float32) @ _prereq_matrix(cat).T > 0
    out: np.ndarray = ok & cat.tiers_ok[:, tiers].T & ~done & ~missing_prereq
    return out


def _position_rows(snap: Snapshot, cat: Catalog) -> np.ndarray:
    """Row of each person's position in ``cat.positions``, computed once per catalogue."""
    posidx = cat.memo("position_index", lambda: pd.Index(cat.positions["position_id"]))
    return snap.memo_for(
        "position_rows", cat, lambda: posidx.get_indexer(pd.Index(snap.people["position_id"]))
    )


def _gaps(snap: Snapshot, cat: Catalog, rows: np.ndarray, year: int) -> dict[str, np.ndarray]:
    """Pair matrices (len(rows) x programmes) built from competency gaps and levels."""
    pos = _position_rows(snap, cat)[rows]
    req, wts = cat.req[pos], cat.req_weight[pos]
    treq = cat.req[cat.next_position[pos]]
    lvl = snap.levels[rows]
    seen = np.where(np.isnan(lvl), np.where(req > 0, req - 0.5, 1.0), lvl)
    gap = np.clip(req - seen, 0, None) * wts
    tgap = np.clip(treq - seen, 0, None) * (treq > 0)
    prio = 1 + 2 * cat.priority_for(year)[None, :]
    gain_t = cat.gain.T
    known = (~np.isnan(lvl)).astype(np.float32)
    cover = known @ gain_t
    delta = known @ (cat.gain * cat.target).T - (np.nan_to_num(lvl) * known) @ gain_t
    total = np.maximum(cat.gain.sum(axis=1), 1e-6)[None, :]
    return {
        "gap_coverage": gap @ gain_t,
        "target_gap_coverage": tgap @ gain_t,
        "gap_rule": ((gap + 0.5 * tgap) * prio) @ gain_t,
        "level_delta": np.where(cover > 0, delta / np.maximum(cover, 1e-6), np.nan),
        "assessed_cover": cover / total,
        "position_overlap": (req > 0).astype(np.float32) @ (cat.gain > 0).T.astype(np.float32),
    }


def _usage_pairs(
    snap: Snapshot, cat: Catalog, usage: Usage, rows: np.ndarray
) -> dict[str, np.ndarray]:
    taken = snap.taken[rows].astype(np.float32)
    codes = cat.memo("modality_codes", lambda: modality_codes(cat.programs))
    onehot = np.eye(codes.max() + 1, dtype=np.float32)[codes]
    mix = taken @ onehot
    habit = (mix / np.maximum(mix.sum(axis=1, keepdims=True), 1))[:, codes]
    n = len(rows)
    return {
        "modality_habit": habit,
        "item_knn": taken @ usage.similarity,
        "ease_score": taken @ usage.ease,
        "pop_global": np.broadcast_to(usage.global_, (n, len(cat.programs))),
        "pop_position": _lookup(usage.by_position, _usage_rows(snap, usage, "position_id"), rows),
        "pop_unit": _lookup(usage.by_unit, _usage_rows(snap, usage, "unit_id"), rows),
        "pop_unit_recent": _lookup(
            usage.by_unit_recent, _usage_rows(snap, usage, RECENT_UNIT), rows
        ),
        "pop_tier": _lookup(usage.by_tier, _usage_rows(snap, usage, "tier"), rows),
    }


def program_features(cat: Catalog, year: int) -> pd.DataFrame:
    """Per-programme features for ``year`` (one row per programme, catalogue order); computed
    once per catalogue and year."""
    return cat.memo(("program_features", year), lambda: _program_features(cat, year))


def _program_features(cat: Catalog, year: int) -> pd.DataFrame:
    p = cat.programs
    gain = cat.gain
    return pd.DataFrame(
        {
            "modality_code": modality_codes(p).astype(float),
            "classical": p["classical"].astype(float).to_numpy(),
            "self_paced": p["modality"].isin(SELF_PACED).astype(float).to_numpy(),
            "jp": p["jp"].astype(float).to_numpy(),
            "log_cost": np.log1p(p["cost_idr"].astype(float).to_numpy()),
            "accredited": p["lan_accredited"].astype(float).to_numpy(),
            "duration_days": p["duration_days"].astype(float).to_numpy(),
            "target_level": cat.target.max(axis=1),
            "n_competencies": (gain > 0).sum(axis=1).astype(float),
            "years_offered": year - p["active_from"].astype(float).to_numpy(),
            "priority_alignment": gain
            @ cat.priority_for(year)
            / np.maximum(gain.sum(axis=1), 1e-6),
        }
    )


def select_candidates(
    pairs: dict[str, np.ndarray], ok: np.ndarray, max_candidates: int
) -> np.ndarray:
    """Boolean mask (people x programmes): union of the top programmes of each source among
    the eligible ones, at most ``max_candidates`` per person (sources in SOURCES order)."""
    chosen = np.zeros_like(ok)
    for source, k in SOURCES.items():
        score = np.where(ok, np.nan_to_num(pairs[source], nan=-1e9), -np.inf)
        k = min(k, score.shape[1])
        top = np.argpartition(-score, k - 1, axis=1)[:, :k]
        keep = np.isfinite(np.take_along_axis(score, top, axis=1))
        rows = np.repeat(np.arange(len(ok)), k).reshape(len(ok), k)
        chosen[rows[keep], top[keep]] = True
    over = chosen.sum(axis=1) > max_candidates
    if over.any():
        score = np.where(
            chosen, np.nan_to_num(pairs["gap_rule"]) + 1e-3 * pairs["pop_global"], -np.inf
        )
        order = np.argsort(-score, axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :], axis=1)
        chosen &= ~(over[:, None] & (rank >= max_candidates))
    return chosen


def candidate_frame(
    snap: Snapshot,
    cat: Catalog,
    usage: Usage,
    year: int,
    rows: np.ndarray | None = None,
    max_candidates: int = 150,
    batch: int = 2048,
) -> pd.DataFrame:
    """Candidates with features: columns ``employee_id``, ``program_id`` and FEATURES.

    ``rows`` selects people of the snapshot (default: everyone); work is done in batches.
    """
    rows = np.arange(len(snap.people)) if rows is None else np.asarray(rows)
    progf = program_features(cat, year)
    parts = [
        _batch(snap, cat, usage, year, rows[i : i + batch], progf, max_candidates)
        for i in range(0, len(rows), batch)
    ]
    if not parts:
        return pd.DataFrame(columns=["employee_id", "program_id", *FEATURES])
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Candidates:
    """Candidates as arrays: ``employee_ids`` and ``program_ids`` (n,), ``X`` (n, len(FEATURES))
    in :data:`FEATURES` order (float64; NaN where unknown; pair features hold float32 values)."""

    employee_ids: np.ndarray
    program_ids: np.ndarray
    X: np.ndarray

    def frame(self) -> pd.DataFrame:
        """``employee_id``, ``program_id`` and one column per feature (pair features as float32,
        the rest float64: the values are the same, training frames stay small)."""
        pair = set(PAIR_FEATURES)
        columns: dict[str, np.ndarray] = {
            "employee_id": self.employee_ids,
            "program_id": self.program_ids,
        }
        for j, name in enumerate(FEATURES):
            values = self.X[:, j]
            columns[name] = values.astype(np.float32) if name in pair else values
        return pd.DataFrame(columns)


def candidate_arrays(
    snap: Snapshot,
    cat: Catalog,
    usage: Usage,
    year: int,
    rows: np.ndarray,
    max_candidates: int = 150,
) -> Candidates:
    """The candidates of the people at ``rows`` and their features, as arrays (the serving
    path builds a frame only for what it returns; :func:`candidate_frame` wraps this)."""
    progf = program_features(cat, year)
    pairs = {**_gaps(snap, cat, rows, year), **_usage_pairs(snap, cat, usage, rows)}
    mask = select_candidates(pairs, eligible(snap, cat, year, rows), max_candidates)
    r, p = np.nonzero(mask)
    ids = snap.memo("employee_ids", lambda: snap.people.index.to_numpy(dtype=object))
    pids = cat.memo("program_ids", lambda: cat.ids.to_numpy(dtype=object))
    person = snap.memo(
        "person_matrix",
        lambda: snap.people[list(PERSON_FEATURES)].to_numpy(dtype=float, na_value=np.nan),
    )[rows]
    programme = cat.memo(
        ("program_matrix", year), lambda: progf[list(PROGRAM_FEATURES)].to_numpy(dtype=float)
    )
    X = np.empty((len(r), len(FEATURES)), dtype=np.float64)
    n_person, n_prog = len(PERSON_FEATURES), len(PROGRAM_FEATURES)
    X[:, :n_person] = person[r]
    X[:, n_person : n_person + n_prog] = programme[p]
    for j, name in enumerate(PAIR_FEATURES):
        X[:, n_person + n_prog + j] = np.asarray(pairs[name], dtype=np.float32)[r, p]
    return Candidates(ids[rows][r], pids[p], X)


def _batch(
    snap: Snapshot,
    cat: Catalog,
    usage: Usage,
    year: int,
    rows: np.ndarray,
    progf: pd.DataFrame,
    max_candidates: int,
) -> pd.DataFrame:
    return candidate_arrays(snap, cat, usage, year, rows, max_candidates).frame()
