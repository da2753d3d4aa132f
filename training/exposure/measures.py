"""Exposure of career-advancing items per person: the position weights, raw and attainable
exposure, the people's groups and what advances (the definitions are in
:mod:`training.fairness`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from recommender import domain
from recommender.careers import features as career_features
from recommender.careers.policy import served_scores
from recommender.careers.rules import RuleSet, load_rules
from recommender.programs.advancing import advancing_programmes, next_standard
from recommender.programs.catalog import Catalog
from recommender.ranking_policy import policy_cut, policy_scores
from recommender.snapshot import Snapshot, build_snapshot
from training.exposure.legal import (
    LEGAL_COLUMNS,
    aggregate,
    legal_people,
    pair_verdicts,
    retirement_ages,
)

K = 10
MIN_GROUP = 100
MIN_RATIO = 0.8
ATTRIBUTES = ("sex", "region", "age_band", "grade")
AGE_BANDS = ((30, "under_30"), (40, "30-39"), (50, "40-49"), (math.inf, "50_plus"))
PERSON = ["year", "employee_id"]
LEVEL = 0.95


def discount(k: int = K) -> np.ndarray:
    """Position weights 1 / log2(r + 1) for ranks r = 1..k, shape (k,)."""
    out: np.ndarray = 1.0 / np.log2(np.arange(1, k + 1) + 1.0)
    return out


def ideal_dcg(n_attainable: np.ndarray, k: int = K) -> np.ndarray:
    """The best discounted gain a list can give: the sum of the first ``min(k, n)`` weights of
    :func:`discount` for each count ``n`` of attainable advancing candidates, shape like
    ``n_attainable`` (0.0 where n is 0). Raises ValueError for a negative count."""
    n = np.asarray(n_attainable, dtype=int)
    if (n < 0).any():
        raise ValueError("counts of attainable candidates must be >= 0")
    cumulative = np.concatenate([[0.0], np.cumsum(discount(k))])
    out: np.ndarray = cumulative[np.minimum(n, k)]
    return out


def exposures(scored: pd.DataFrame, k: int = K, score: str = "score") -> pd.DataFrame:
    """Raw and attainable exposure of advancing items in each person's top ``k``.

    ``scored``: one row per candidate with ``year``, ``employee_id``, ``score`` (higher first;
    ``score`` names another column to rank by, e.g. ``unconstrained``),
    ``advancing`` (bool) and optionally ``attainable`` (bool: advancing *and* open to the
    person now; ``advancing`` when absent), a person's rows in candidate order (equal scores
    keep it, as the service's stable sort does). Returns a DataFrame indexed by (year,
    employee_id), one row per person with at least one candidate, columns:

    * ``raw`` in [0, 1]: discounted share of advancing items among the top ``k`` shown;
    * ``attainable`` in [0, 1]: DCG of attainable items in the top ``k`` / the ideal DCG
      (:func:`ideal_dcg` of the person's number of attainable candidates); NaN when the person
      has no attainable candidate (counted, not measured);
    * ``n_attainable``: the person's number of attainable candidates (int).

    Raises KeyError when a column is missing.
    """
    att = scored["attainable"] if "attainable" in scored else scored["advancing"]
    df = scored[[*PERSON, "advancing"]].assign(
        score=scored[score].to_numpy(float),
        _attainable=att.to_numpy(bool),
        _order=np.arange(len(scored)),
    )
    df = df.sort_values(
        [*PERSON, "score", "_order"], ascending=[True, True, False, True], kind="stable"
    )
    rank = df.groupby(PERSON, sort=False).cumcount().to_numpy() + 1
    weight = np.where(rank <= k, 1.0 / np.log2(rank + 1.0), 0.0)
    keys = [df[c] for c in PERSON]
    adv = df["advancing"].to_numpy(bool)
    reach = df["_attainable"].to_numpy(bool)
    shown = pd.Series(weight, index=df.index).groupby(keys).sum()
    hits = pd.Series(weight * adv, index=df.index).groupby(keys).sum()
    gained = pd.Series(weight * reach, index=df.index).groupby(keys).sum()
    count = pd.Series(reach.astype(int), index=df.index).groupby(keys).sum()
    ideal = ideal_dcg(count.to_numpy(), k)
    attainable = np.divide(
        gained.to_numpy(), ideal, out=np.full(len(ideal), np.nan), where=ideal > 0
    )
    return pd.DataFrame(
        {
            "raw": (hits / shown).to_numpy(),
            "attainable": attainable,
            "n_attainable": count.to_numpy(),
        },
        index=shown.index,
    )


def exposure(scored: pd.DataFrame, k: int = K) -> pd.Series:
    """Raw exposure of advancing items in each person's top ``k`` (module docstring).

    ``scored`` as :func:`exposures`. Returns a float Series in [0, 1] named ``exposure``,
    indexed by (year, employee_id), one entry per person with at least one candidate. Raises
    KeyError when a column is missing.
    """
    out: pd.Series = exposures(scored, k)["raw"].rename("exposure")
    return out


def age_band(age: pd.Series) -> pd.Series:
    """Age in years -> ``under_30``, ``30-39``, ``40-49``, ``50_plus`` (``unknown`` if NaN)."""
    values = pd.to_numeric(age, errors="coerce").to_numpy(float)
    out = np.full(len(values), "unknown", dtype=object)
    lower = -math.inf
    for upper, name in AGE_BANDS:
        out[(values >= lower) & (values < upper)] = name
        lower = upper
    return pd.Series(out, index=age.index, name="age_band")


def person_groups(people: pd.DataFrame) -> pd.DataFrame:
    """Group labels of snapshot people (same index): ``sex``, ``region``, ``age_band`` and
    ``grade``. ``people`` needs ``female``, ``java``, ``age`` and ``grade`` (e.g. ``III/a``)."""
    grade = people["grade"].astype("string").str.split("/").str[0].fillna("unknown")
    return pd.DataFrame(
        {
            "sex": np.where(people["female"].to_numpy() == 1, "P", "L"),
            "region": np.where(people["java"].to_numpy() == 1, "java", "outside_java"),
            "age_band": age_band(people["age"]).to_numpy(),
            "grade": grade.to_numpy(dtype=object),
        },
        index=people.index,
    )


def top_of_ladder(people: pd.DataFrame, positions: pd.DataFrame) -> pd.Series:
    """True for people whose ``tier_level`` is unknown or the highest of any position's tier
    in ``positions`` (nothing can be advancing for them); index of ``people``."""
    levels = positions["tier"].map(domain.TIER_LEVEL).dropna()
    top = float(levels.max()) if len(levels) else math.inf
    level = pd.to_numeric(people["tier_level"], errors="coerce")
    out: pd.Series = level.isna() | (level >= top)
    return out


def labelled(snap: Snapshot, positions: pd.DataFrame, year: int, ids: pd.Index) -> pd.DataFrame:
    """Group columns and ``top`` (:func:`top_of_ladder`) of the people ``ids`` of the snapshot,
    index (year, employee_id). Raises KeyError for an id not in the snapshot."""
    people = snap.people.loc[ids]
    out = person_groups(people).assign(
        top=top_of_ladder(people, positions).to_numpy(),
        tier_level=pd.to_numeric(people["tier_level"], errors="coerce").to_numpy(float),
    )
    out.index = pd.MultiIndex.from_arrays([np.full(len(out), year), out.index], names=PERSON)
    return out


# --------------------------------------------------------------------------- what advances
# Which programmes advance a person (close a gap of the likely next post) is the recommender's
# definition, shared with the served ranking policy: recommender.programs.advancing.


def served(scored: pd.DataFrame, k: int = K, *, positions: bool = False) -> pd.DataFrame:
    """``scored`` with the ranking policy applied: ``score`` becomes the served order's score
    (:func:`recommender.ranking_policy.policy_scores` per person, flagged = ``attainable``,
    with :func:`~recommender.ranking_policy.policy_cut` of an answer of ``k`` items, as
    ``top_programs`` serves; with ``positions``, the positions policy
    :func:`recommender.careers.policy.served_scores` that ``next_positions`` serves) and
    ``unconstrained`` keeps the ranker's own score. ``scored`` as
    :func:`exposures`; same rows and order. Raises KeyError when a column is missing."""
    person = pd.MultiIndex.from_frame(scored[PERSON])
    group = pd.factorize(person)[0]
    raw = scored["score"].to_numpy(float)
    flagged = scored["attainable"].to_numpy(bool)
    if positions:
        policy = served_scores(group=group, score=raw, flagged=flagged, k=k)
    else:
        top, guarantee = policy_cut(k=k)
        policy = policy_scores(group=group, score=raw, flagged=flagged, k=top, guarantee=guarantee)
    return scored.assign(score=policy, unconstrained=raw)


def both_exposures(scored: pd.DataFrame, k: int = K) -> pd.DataFrame:
    """:func:`exposures` of the served order (``raw``, ``attainable``, ``n_attainable``) and
    the attainable exposure of the unconstrained order (``unconstrained``) of ``served``
    rows (:func:`served`). Raises KeyError when a column is missing."""
    out = exposures(scored, k)
    free = exposures(scored, k, score="unconstrained")
    return out.assign(
        unconstrained=free["attainable"].reindex(out.index).to_numpy(),
        raw_unconstrained=free["raw"].reindex(out.index).to_numpy(),
    )


def programmes_scored(
    tables: dict[str, pd.DataFrame],
    cat: Catalog,
    frame: pd.DataFrame,
    score: np.ndarray,
    rules: RuleSet | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Programme candidates with the served scores, marked advancing, and their people.

    ``frame``: candidate rows (``year``, ``employee_id``, ``program_id``) of one or more years
    as :func:`training.datasets.build_year` makes them; ``score`` (len(frame),) the ranker's;
    ``rules`` the career pattern (default: the packaged rules) that says who can still advance
    before retirement. Returns (scored: year, employee_id, score (the policy's served order,
    :func:`served`), unconstrained (the ranker's), advancing and attainable (the same for
    programmes) in frame order; people: index (year, employee_id), group columns, ``top`` and
    the :data:`~training.exposure.legal.LEGAL_COLUMNS` and ``tier_level``). Raises KeyError for
    a person or programme that is not in the year's snapshot or the catalogue.
    """
    types = tables["competencies"].set_index("competency_id")["type"]
    rules = rules if rules is not None else load_rules(None)
    scored, people = [], []
    framed = frame[["year", "employee_id", "program_id"]].assign(score=np.asarray(score, float))
    for key, part in framed.groupby("year", sort=True):
        year = int(str(key))
        snap = build_snapshot(tables, f"{year}-01-01")
        seen, nxt = next_standard(snap=snap, cat=cat, competency_types=types)
        rows = snap.people.index.get_indexer(pd.Index(part["employee_id"]))
        progs = cat.ids.get_indexer(pd.Index(part["program_id"]))
        if (rows < 0).any() or (progs < 0).any():
            raise KeyError(f"a {year} candidate is outside the snapshot or the catalogue")
        adv = advancing_programmes(
            seen=seen, nxt=nxt, target=cat.target, person=rows, programme=progs
        )
        # every advancing programme is a candidate the person can take: attainable = advancing
        scored.append(served(part[[*PERSON, "score"]].assign(advancing=adv, attainable=adv)))
        ids = pd.Index(part["employee_id"].unique())
        ctx = career_features.build_context(tables, snap, cat, rules)
        verdicts = legal_people(ctx=ctx, rows=snap.people.index.get_indexer(ids))
        people.append(with_covariates(labelled(snap, cat.positions, year, ids), verdicts))
    return pd.concat(scored), pd.concat(people)


def with_covariates(people: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """``people`` (index (year, employee_id), from :func:`labelled`) with the columns of
    :func:`~training.exposure.legal.legal_people` (``verdicts``, indexed by employee_id; people
    without a verdict: not legal, 0 counts, NaN years) and ``tier_level``."""
    ids = pd.Index(people.index.get_level_values("employee_id"))
    v = verdicts.reindex(ids)
    return people.assign(
        legal=v["legal"].fillna(False).to_numpy(bool),
        n_within=v["n_within"].fillna(0).to_numpy(float),
        n_now=v["n_now"].fillna(0).to_numpy(float),
        years_to_retirement=v["years_to_retirement"].to_numpy(float),
    )


def careers_exposure(
    ctx: Any,
    year: int,
    predict: Callable[[pd.DataFrame], np.ndarray],
    max_people: int | None = None,
    seed: int = 0,
    batch: int = 256,
    k: int = K,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exposure of advancing positions in the served (and the unconstrained) top ``k`` for the
    people active on the context's date.

    ``ctx``: a :class:`recommender.careers.features.CareerContext` of 1 January ``year``;
    ``predict`` scores the FEATURES of a candidate frame (the served ranker). People at the top
    of the ladder are not scored; ``max_people`` caps the others with a sample seeded by
    (seed, year); candidates are built ``batch`` people at a time, so memory stays bounded.
    A position is advancing when its tier is higher (``tier_step > 0``) and attainable when it
    is advancing and the person is eligible for it now or within the horizon
    (:func:`~training.exposure.legal.pair_verdicts`); the served order is the ranking policy's
    on the attainable posts (:func:`served`). Returns (:func:`both_exposures` indexed by (year,
    employee_id); people: the scored and the top-of-ladder people with group columns, ``top``,
    ``tier_level`` and the :data:`~training.exposure.legal.LEGAL_COLUMNS`). Raises KeyError when
    the candidate frame lacks a column.
    """
    snap: Snapshot = ctx.snap
    people = labelled(snap, ctx.cat.positions, year, snap.people.index)
    rows = np.flatnonzero(~people["top"].to_numpy(bool))
    if max_people is not None and len(rows) > max_people:
        rows = np.sort(np.random.default_rng([seed, year]).choice(rows, max_people, False))
    parts, verdicts = [], []
    bups = retirement_ages(ctx=ctx)
    for i in range(0, len(rows), batch):
        cands = career_features.candidate_frame(ctx, rows[i : i + batch], detail=True)
        ids = cands["employee_id"].to_numpy()
        bup = bups.reindex(pd.Index(ids)).to_numpy(float)
        pair = pair_verdicts(rules=ctx.rules, pairs=cands, at=snap.at, bup=bup)
        verdicts.append(aggregate(ctx=ctx, ids=ids, verdicts=pair, bups=bups))
        attainable = pair[0]
        scored = pd.DataFrame(
            {
                "year": year,
                "employee_id": cands["employee_id"].to_numpy(),
                "score": np.asarray(predict(cands[list(career_features.FEATURES)]), float),
                "advancing": cands["tier_step"].to_numpy(float) > 0,
                "attainable": attainable,
            }
        )
        parts.append(both_exposures(served(scored, k, positions=True), k))
    keep = people["top"].to_numpy(bool).copy()
    keep[rows] = True
    columns = ["raw", "attainable", "n_attainable", "unconstrained", "raw_unconstrained"]
    values = pd.concat(parts) if parts else pd.DataFrame({c: [] for c in columns})
    found = pd.concat(verdicts) if verdicts else pd.DataFrame(columns=list(LEGAL_COLUMNS))
    return values, with_covariates(people[keep], found)
