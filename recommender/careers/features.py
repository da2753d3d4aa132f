"""Next-position candidates and features, point in time; the same code for training and serving.

A query is one person on a date ``at`` (their snapshot). Candidates are *all* positions other
than the current one (full ranking; 374 in the demo). Everything comes from the snapshot of
``at`` and from moves and completions strictly before ``at``:

- history: moves current position -> target (count, share of moves out of the current
  position), current tier -> target tier share, recent moves into the target (3 years);
- readiness for the target (job-person match over assessed competencies, coverage, weighted gap)
  and competency-profile similarity;
- structure: tier step, family change, same JF, same unit / unit group, managerial target;
- the person: tenure, grade and education margins, age and years to the post's retirement age,
  ratings, talent box;
- vacancies: posts planned (formasi) minus holders on ``at``, plus holders reaching the
  retirement age during the year (expected vacancy);
- career pattern: eligible, failed conditions, move kind (:mod:`recommender.careers.eligibility`);
- the unit's functional occupations: share of the person's unit in the target's JF;
- training pattern: how common the person's completed programmes were among past movers into
  the target (a data-driven version of the "of 40 officers ... 65 % had completed C" reason).

Equalisation moves (the one-off 2020 conversion) and moves that keep the position (unit
rotations) are not career choices and are left out of the history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender import domain
from recommender.careers.eligibility import MODALITY_BIT, check_pairs, modality_mask
from recommender.careers.rules import RuleSet
from recommender.data.grades import GRADES
from recommender.data.labels import EDUCATION_LEVELS
from recommender.programs.catalog import Catalog
from recommender.snapshot import Snapshot

EXCLUDED_MOVES = ("equalisation",)
RECENT_YEARS = 3
SMOOTHING = 5.0  # pseudo-moves pulling a position's training shares toward its tier's

FEATURES: tuple[str, ...] = (
    "trans_count",
    "trans_share",
    "trans_rank",
    "tier_trans_share",
    "into_recent",
    "jpm",
    "coverage",
    "gap_weighted",
    "similarity",
    "tier_step",
    "same_family",
    "same_jf",
    "same_unit",
    "same_unit_group",
    "shared_post",
    "managerial_target",
    "target_tier_level",
    "current_tier_level",
    "years_in_position",
    "grade_margin",
    "grade_over_max",
    "education_margin",
    "age",
    "years_to_retirement",
    "last_rating",
    "rating_min2",
    "talent_box",
    "vacancy",
    "vacancy_share",
    "vacancy_expected",
    "eligible",
    "n_failed",
    "move_kind",
    "training_pattern",
    "jf_in_unit",
)


def _ranks(values: pd.Series, order: tuple[str, ...]) -> np.ndarray:
    return values.map({v: i for i, v in enumerate(order)}).to_numpy(float)


def unit_groups(units: pd.DataFrame) -> pd.Series:
    """Unit -> its group: the echelon-I ancestor (or the unit itself at the top); provincial
    offices form one group. Index unit_id."""
    parent = units.set_index("unit_id")["parent_id"]
    level = units.set_index("unit_id")["level"]
    out = {}
    for unit in parent.index:
        u = unit
        while level.get(u) in ("eselon_ii", "upt") and isinstance(parent.get(u), str):
            u = parent[u]
        out[unit] = "PROV" if level.get(unit) == "dinas_provinsi" else u
    return pd.Series(out, name="unit_group")


def position_frame(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Positions in catalogue order with ranks, training mask and group; ``holders`` and
    ``retiring`` are zero (filled by :func:`holder_counts`)."""
    pos = tables["positions"].reset_index(drop=True).copy()
    groups = unit_groups(tables["units"])
    pos["tier_level"] = pos["tier"].map(domain.TIER_LEVEL)
    pos["min_grade_rank"] = _ranks(pos["min_grade"], GRADES)
    pos["max_grade_rank"] = _ranks(pos["max_grade"], GRADES)
    pos["min_education_rank"] = _ranks(pos["min_education"], EDUCATION_LEVELS)
    pos["required_mask"] = [
        modality_mask(str(r).split(";")) if isinstance(r, str) else 0
        for r in pos["required_training"]
    ]
    pos["unit_group"] = pos["unit_id"].map(groups)
    pos["holders"] = 0.0
    pos["retiring"] = 0.0
    pos["managerial"] = (pos["category"] == "manajerial").astype(float)
    return pos


def holder_counts(snap: Snapshot, pos: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Holders on ``at`` per position of ``pos`` and those of them who reach the post's
    retirement age (BUP) during the year of ``at`` (float counts, additive over people)."""
    holders = snap.people["position_id"].value_counts()
    bup = snap.people["position_id"].map(pos.set_index("position_id")["retirement_age"])
    leaving = snap.people.loc[snap.people["age"] >= bup, "position_id"].value_counts()
    ids = pos["position_id"]
    return (
        ids.map(holders).fillna(0).astype(float).to_numpy(),
        ids.map(leaving).fillna(0).astype(float).to_numpy(),
    )


def position_table(tables: dict[str, pd.DataFrame], snap: Snapshot) -> pd.DataFrame:
    """Positions in catalogue order with ranks, training mask, group and holders on ``at``."""
    pos = position_frame(tables)
    pos["holders"], pos["retiring"] = holder_counts(snap, pos)
    return pos


@dataclass
class History:
    """Move statistics from before ``at`` (see the module docstring); matrices are positions x
    positions (``trans``), tiers x tiers (``tier_share``) and positions x programmes
    (``training_share``: share of movers into a position who had completed a programme)."""

    trans: np.ndarray
    out_total: np.ndarray
    tier_share: np.ndarray
    into_recent: np.ndarray
    training_share: np.ndarray


def career_moves(tables: dict[str, pd.DataFrame], before: pd.Timestamp) -> pd.DataFrame:
    """Moves that are career choices (not equalisation, position changed) dated before
    ``before``."""
    moves = tables.get("career_moves")
    if moves is None:
        return pd.DataFrame(columns=["employee_id", "from_position_id", "to_position_id"])
    keep = (
        (moves["move_date"] < before)
        & ~moves["move_type"].isin(EXCLUDED_MOVES)
        & (moves["from_position_id"] != moves["to_position_id"])
    )
    return moves[keep]


@dataclass
class HistoryCounts:
    """The additive part of :class:`History` (sums over any split of the employees, since every
    count is of one employee's moves and completions): ``trans`` (P, P), ``tier`` (T, T),
    ``into`` recent moves (P,), ``training`` movers who had completed a programme (P, Prog)
    and ``n_into`` moves into each position (P,)."""

    trans: np.ndarray
    tier: np.ndarray
    into: np.ndarray
    training: np.ndarray
    n_into: np.ndarray

    def __add__(self, other: HistoryCounts) -> HistoryCounts:
        return HistoryCounts(
            self.trans + other.trans,
            self.tier + other.tier,
            self.into + other.into,
            self.training + other.training,
            self.n_into + other.n_into,
        )


def _training_counts(
    tables: dict[str, pd.DataFrame], moves: pd.DataFrame, pos: pd.DataFrame, progs: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """Movers into each position who had completed each programme before the move (P, Prog),
    and moves into each position (P,)."""
    posidx = pd.Index(pos["position_id"])
    enr = tables["enrollments"]
    enr = enr[(enr["status"] == "completed") & enr["employee_id"].isin(moves["employee_id"])]
    done = moves[["employee_id", "to_position_id", "move_date"]].merge(
        enr[["employee_id", "program_id", "end_date"]], on="employee_id"
    )
    done = done[done["end_date"] < done["move_date"]].drop_duplicates(
        ["employee_id", "to_position_id", "move_date", "program_id"]
    )
    counts = np.zeros((len(pos), len(progs)))
    r = posidx.get_indexer(pd.Index(done["to_position_id"]))
    c = progs.get_indexer(pd.Index(done["program_id"]))
    ok = (r >= 0) & (c >= 0)
    np.add.at(counts, (r[ok], c[ok]), 1.0)
    n_into = np.bincount(
        posidx.get_indexer(pd.Index(moves["to_position_id"])).clip(0), minlength=len(pos)
    ).astype(float)
    return counts, n_into


def _training_share(counts: np.ndarray, n_into: np.ndarray, pos: pd.DataFrame) -> np.ndarray:
    """Share of movers into a position who had completed a programme, smoothed toward the
    position's tier with :data:`SMOOTHING` pseudo-moves."""
    tiers = pos["tier"].to_numpy()
    share = np.zeros_like(counts)
    for tier in np.unique(tiers):
        rows = tiers == tier
        tier_rate = counts[rows].sum(0) / max(n_into[rows].sum(), 1.0)
        share[rows] = (counts[rows] + SMOOTHING * tier_rate) / (n_into[rows, None] + SMOOTHING)
    return share


def history_counts(
    tables: dict[str, pd.DataFrame], at: pd.Timestamp, pos: pd.DataFrame, progs: pd.Index
) -> HistoryCounts:
    """The counts of :class:`HistoryCounts` from the ``career_moves`` and ``enrollments`` rows
    in ``tables`` (all of them or one group of employees), moves strictly before ``at``."""
    moves = career_moves(tables, at)
    posidx = pd.Index(pos["position_id"])
    f = posidx.get_indexer(pd.Index(moves["from_position_id"]))
    t = posidx.get_indexer(pd.Index(moves["to_position_id"]))
    ok = (f >= 0) & (t >= 0)
    trans = np.zeros((len(pos), len(pos)))
    np.add.at(trans, (f[ok], t[ok]), 1.0)
    tiers = pd.Index(domain.TIERS)
    tier_of = tiers.get_indexer(pd.Index(pos["tier"]))
    tier_counts = np.zeros((len(tiers), len(tiers)))
    np.add.at(tier_counts, (tier_of[f[ok]], tier_of[t[ok]]), 1.0)
    recent = ok & (moves["move_date"] >= at - pd.DateOffset(years=RECENT_YEARS)).to_numpy()
    into = np.bincount(t[recent], minlength=len(pos)).astype(float)
    training, n_into = _training_counts(tables, moves, pos, progs)
    return HistoryCounts(trans, tier_counts, into, training, n_into)


def history_from(counts: HistoryCounts, pos: pd.DataFrame) -> History:
    """The :class:`History` of summed ``counts`` (shares and smoothing)."""
    tier_share = counts.tier / np.maximum(counts.tier.sum(1, keepdims=True), 1.0)
    return History(
        counts.trans,
        counts.trans.sum(1),
        tier_share,
        counts.into,
        _training_share(counts.training, counts.n_into, pos),
    )


def build_history(tables: dict[str, pd.DataFrame], snap: Snapshot, pos: pd.DataFrame) -> History:
    """Transition counts and training patterns from moves strictly before ``snap.at``."""
    return history_from(history_counts(tables, snap.at, pos, snap.programs), pos)


def person_table(
    snap: Snapshot, pos: pd.DataFrame, programs: pd.DataFrame, groups: pd.Series
) -> pd.DataFrame:
    """People on ``at`` with the ``p_*`` columns of :mod:`recommender.careers.eligibility`."""
    people = snap.people
    by_id = pos.set_index("position_id")
    cur = by_id.reindex(people["position_id"])
    mask = np.zeros(len(people), dtype=np.int64)
    modality = programs.set_index("program_id")["modality"].reindex(snap.programs).to_numpy()
    for code, bit in MODALITY_BIT.items():
        cols = modality == code
        if cols.any():
            mask |= snap.completed[:, cols].any(axis=1).astype(np.int64) << bit
    out = pd.DataFrame(
        {
            "p_position": people["position_id"].to_numpy(),
            "p_row": by_id.index.get_indexer(cur.index),
            "p_tier": people["tier"].to_numpy(),
            "p_family": people["family"].to_numpy(),
            "p_jf": cur["jf_code"].to_numpy(),
            "p_unit": people["unit_id"].to_numpy(),
            "p_unit_group": people["unit_id"].map(groups).to_numpy(),
            "p_grade_rank": people["grade_rank"].to_numpy(float),
            "p_education_rank": people["education_rank"].to_numpy(float),
            "p_years_in_position": people["years_in_position"].to_numpy(float),
            "p_years_in_grade": people.get(
                "years_in_grade", pd.Series(np.nan, people.index)
            ).to_numpy(float),
            "p_age": people["age"].to_numpy(float),
            "p_training_mask": mask,
            "p_max_grade_rank": cur["max_grade_rank"].to_numpy(float),
            "p_tier_level": people["tier_level"].to_numpy(float),
            "p_last_rating": people.get("last_rating", pd.Series(np.nan, people.index)).to_numpy(),
            "p_talent_box": people.get("talent_box", pd.Series(np.nan, people.index)).to_numpy(),
        },
        index=people.index,
    )
    for k in (1, 2, 3):
        out[f"p_rating_{k}"] = people.get(f"rating_{k}", pd.Series(np.nan, people.index))
    return out


def readiness_matrix(
    levels: np.ndarray, req: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """JPM % (NaN when nothing of the standard was assessed), coverage (0-1) and weighted gap
    (levels missing x weight) for people (Q, C) x positions (P, C) -> three (Q, P) arrays.

    Same definition as :func:`recommender.careers.readiness.readiness`: min(assessed, required)
    over assessed competencies; integer levels 1-5 let min() be a sum of five products.
    """
    known = ~np.isnan(levels)
    a = np.where(known, np.rint(levels), 0.0)
    w = np.where(req > 0, weight, 0.0)
    have = np.zeros((levels.shape[0], req.shape[0]))
    for k in range(1, domain.MAX_LEVEL + 1):
        have += (a >= k).astype(float) @ (w * (req >= k)).T
    need_known = known.astype(float) @ (w * req).T
    total = (w * req).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        jpm = np.where(need_known > 0, 100.0 * have / need_known, np.nan)
        coverage = np.where(total > 0, need_known / total, 0.0)
    return jpm, coverage, need_known - have


def profile_similarity(levels: np.ndarray, current_req: np.ndarray, req: np.ndarray) -> np.ndarray:
    """Cosine similarity (Q, P) between each person's profile (assessed level, else the level
    their current post requires) and each position's required levels."""
    prof = np.where(np.isnan(levels), current_req, levels)
    num = prof @ req.T
    den = np.linalg.norm(prof, axis=1)[:, None] * np.linalg.norm(req, axis=1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


@dataclass
class CareerContext:
    """Everything candidate features need for one date: snapshot, catalogue, positions,
    history, person table, unit groups and the career pattern."""

    snap: Snapshot
    cat: Catalog
    positions: pd.DataFrame
    history: History
    persons: pd.DataFrame
    rules: RuleSet


def build_context(
    tables: dict[str, pd.DataFrame], snap: Snapshot, cat: Catalog, rules: RuleSet
) -> CareerContext:
    """Positions, history and people for ``snap.at`` (history strictly before it)."""
    groups = unit_groups(tables["units"])
    pos = position_table(tables, snap)
    return CareerContext(
        snap,
        cat,
        pos,
        build_history(tables, snap, pos),
        person_table(snap, pos, tables["programs"], groups),
        rules,
    )


def _pairs(ctx: CareerContext, rows: np.ndarray) -> pd.DataFrame:
    """One row per (person row, position other than the current one)."""
    n_pos = len(ctx.positions)
    people = ctx.persons.iloc[rows]
    q = np.repeat(np.arange(len(rows)), n_pos)
    t = np.tile(np.arange(n_pos), len(rows))
    keep = t != people["p_row"].to_numpy()[q]
    q, t = q[keep], t[keep]
    left = people.iloc[q].reset_index()
    pos = ctx.positions.iloc[t].reset_index(drop=True)
    right = pd.DataFrame(
        {
            "position_id": pos["position_id"],
            "t_row": t,
            "t_tier": pos["tier"],
            "t_family": pos["family"],
            "t_jf": pos["jf_code"],
            "t_unit": pos["unit_id"],
            "t_unit_group": pos["unit_group"],
            "t_min_grade_rank": pos["min_grade_rank"],
            "t_max_grade_rank": pos["max_grade_rank"],
            "t_min_education_rank": pos["min_education_rank"],
            "t_required_mask": pos["required_mask"],
            "t_formasi": pos["formasi"].astype(float),
            "t_holders": pos["holders"],
            "t_retiring": pos["retiring"],
            "t_tier_level": pos["tier_level"].astype(float),
            "t_managerial": pos["managerial"],
            "t_retirement_age": pos["retirement_age"].astype(float),
        }
    )
    out: pd.DataFrame = pd.concat([left, right], axis=1)
    out["q"] = q
    return out


def jf_counts(people: pd.DataFrame, positions: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """People per (unit, JF of their post) (index ``unit_id``, ``position_id``: the JF code) and
    people per unit: the additive counts behind :func:`jf_shares`."""
    jf = people["position_id"].map(positions.set_index("position_id")["jf_code"])
    counts = people.groupby([people["unit_id"], jf], sort=True).size()
    sizes = people["unit_id"].value_counts()
    return counts.astype(np.int64), sizes.astype(np.int64)


def jf_shares(counts: pd.Series, sizes: pd.Series) -> pd.Series:
    """Share of each unit's people per JF, long (unit_id, JF): a unit x JF crosstab of
    ``counts`` (zeros filled) divided by the unit's size."""
    wide = counts.unstack(fill_value=0).sort_index().sort_index(axis=1)
    share = wide.div(sizes.reindex(wide.index), axis=0)
    long = share.stack()
    assert isinstance(long, pd.Series)
    return long


def _jf_in_unit(ctx: CareerContext, pairs: pd.DataFrame) -> np.ndarray:
    """Share of the person's unit who hold any tier of the target's JF on ``at`` (0 for posts
    outside a JF): units use some functional occupations and not others."""

    def build() -> pd.Series:
        return jf_shares(*jf_counts(ctx.snap.people, ctx.positions))

    long = ctx.snap.memo_for("jf_in_unit", ctx.positions, build)
    key = pd.MultiIndex.from_arrays([pairs["p_unit"], pairs["t_jf"]])
    return long.reindex(key).fillna(0.0).to_numpy(float)


def candidate_frame(ctx: CareerContext, rows: np.ndarray, detail: bool = False) -> pd.DataFrame:
    """Candidates with :data:`FEATURES` for the people at snapshot ``rows``.

    Returns one row per (employee_id, position_id) with ``current_position_id``, the ``p_*`` and
    ``t_*`` columns (for explanations), ``markov`` and ``similarity`` baseline scores and the
    features; with ``detail`` also the ``p_*`` / ``t_*`` columns that
    :func:`recommender.careers.eligibility.explain` reads. Raises IndexError for rows outside
    the snapshot.
    """
    pairs = _pairs(ctx, rows)
    q, t = pairs["q"].to_numpy(), pairs["t_row"].to_numpy()
    checks = check_pairs(ctx.rules, pairs)
    f = pd.DataFrame(index=pairs.index)
    _add_movement(f, ctx, pairs)
    _add_readiness(f, ctx, rows, q, t)
    _add_pair_attributes(f, pairs)
    f["eligible"] = checks.eligible.astype(float)
    f["n_failed"] = checks.n_failed.astype(float)
    f["move_kind"] = checks.kind.astype(float)
    pattern = ctx.snap.completed[rows].astype(float) @ ctx.history.training_share.T  # (Q, P)
    f["training_pattern"] = pattern[q, t]
    f["jf_in_unit"] = _jf_in_unit(ctx, pairs)
    ids = pairs[["employee_id", "position_id", "p_position"]].rename(
        columns={"p_position": "current_position_id"}
    )
    base = pd.DataFrame(
        {
            # most frequent transition from the current post; popularity breaks ties
            "markov": f["trans_count"] + 1e-3 * f["into_recent"],
            "similarity_score": f["similarity"],
        }
    )
    out = pd.concat([ids, f.astype(np.float32), base], axis=1)
    out["rule"] = checks.rule
    if detail:
        extra = [c for c in pairs.columns if c.startswith(("p_", "t_")) and c not in out]
        out = pd.concat([out, pairs[extra]], axis=1)
    return out


def _add_movement(f: pd.DataFrame, ctx: CareerContext, pairs: pd.DataFrame) -> None:
    """Add the movement-history columns of :func:`candidate_frame` to ``f`` (one row per
    pair of ``pairs``): ``trans_count``, ``trans_share``, ``trans_rank``, ``tier_trans_share``,
    ``into_recent``."""
    h = ctx.history
    q, t, cur = pairs["q"].to_numpy(), pairs["t_row"].to_numpy(), pairs["p_row"].to_numpy()
    tiers = pd.Index(domain.TIERS)
    ft = tiers.get_indexer(pd.Index(pairs["p_tier"]))
    tt = tiers.get_indexer(pd.Index(pairs["t_tier"]))
    f["trans_count"] = h.trans[cur, t]
    f["trans_share"] = h.trans[cur, t] / np.maximum(h.out_total[cur], 1.0)
    # 1 = the most frequent destination from the current post (ties share the best rank)
    f["trans_rank"] = f.groupby(q)["trans_count"].rank(ascending=False, method="min")
    f["tier_trans_share"] = h.tier_share[ft, tt]
    f["into_recent"] = h.into_recent[t]


def _add_readiness(
    f: pd.DataFrame, ctx: CareerContext, rows: np.ndarray, q: np.ndarray, t: np.ndarray
) -> None:
    """Add the competency columns of :func:`candidate_frame` to ``f``: ``jpm``, ``coverage``,
    ``gap_weighted`` and ``similarity`` of the people at snapshot ``rows`` (pair ``q``) for
    the positions ``t`` (rows of ``ctx.cat.positions``)."""
    cat = ctx.cat
    levels = ctx.snap.levels[rows]
    jpm, cov, gap = readiness_matrix(levels, cat.req, cat.req_weight)
    sim = profile_similarity(levels, cat.req[ctx.persons["p_row"].to_numpy()[rows]], cat.req)
    f["jpm"] = jpm[q, t]
    f["coverage"] = cov[q, t]
    f["gap_weighted"] = gap[q, t]
    f["similarity"] = sim[q, t]


def _add_pair_attributes(f: pd.DataFrame, pairs: pd.DataFrame) -> None:
    """Add the columns of :func:`candidate_frame` that compare the person's ``p_*`` and the
    target's ``t_*`` attributes of ``pairs`` (tier, family, unit, grade, education, age,
    rating, vacancy)."""
    f["tier_step"] = pairs["t_tier_level"] - pairs["p_tier_level"]
    f["same_family"] = (pairs["t_family"] == pairs["p_family"]).astype(float)
    f["same_jf"] = ((pairs["t_jf"] == pairs["p_jf"]) & pairs["t_jf"].notna()).astype(float)
    f["same_unit"] = (pairs["t_unit"] == pairs["p_unit"]).astype(float)
    f["same_unit_group"] = (pairs["t_unit_group"] == pairs["p_unit_group"]).astype(float)
    f["shared_post"] = pairs["t_unit"].isna().astype(float)
    f["managerial_target"] = pairs["t_managerial"]
    f["target_tier_level"] = pairs["t_tier_level"]
    f["current_tier_level"] = pairs["p_tier_level"]
    f["years_in_position"] = pairs["p_years_in_position"]
    f["grade_margin"] = pairs["p_grade_rank"] - pairs["t_min_grade_rank"]
    f["grade_over_max"] = pairs["p_grade_rank"] - pairs["t_max_grade_rank"]
    f["education_margin"] = pairs["p_education_rank"] - pairs["t_min_education_rank"]
    f["age"] = pairs["p_age"]
    f["years_to_retirement"] = pairs["t_retirement_age"] - pairs["p_age"]
    f["last_rating"] = pairs["p_last_rating"]
    f["rating_min2"] = pairs[["p_rating_1", "p_rating_2"]].min(axis=1, skipna=False)
    f["talent_box"] = pairs["p_talent_box"]
    f["vacancy"] = pairs["t_formasi"] - pairs["t_holders"]
    f["vacancy_share"] = f["vacancy"] / np.maximum(pairs["t_formasi"], 1.0)
    f["vacancy_expected"] = f["vacancy"] + pairs["t_retiring"]
