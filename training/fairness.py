"""Exposure of career-advancing items in the top 10, by group, with bootstrap intervals.

Definitions (docs/fairness.md has the reasoning and the demo figures):

* **Population.** The test year(s) of the global temporal split, on 1 January, with the
  candidates and features the service uses. Programmes: every query of the test-year frame
  (the people the evaluation samples, at most ``max_people_per_year``), whether or not they took
  anything — exposure needs no label. Careers: every person active on that date (a seeded
  sample of at most ``fairness_max_people``), ranked over every other position as
  ``next_positions`` does. People at the top of the ladder (tier level unknown or the highest of
  any position in the catalogue) are counted, not measured: nothing can be advancing for them.
* **Career-advancing programme** for a person: it closes part of a gap to the competency
  standard of the person's likely next position — for some competency c,
  ``next(c) > seen(c)`` and ``target_level(programme, c) > seen(c)``. ``next`` is the standard
  of the catalogue's likely next position (``Catalog.next_position``: the next tier of the same
  JF, else the current post) with the managerial and socio-cultural competencies raised to the
  managerial level of the next tier (``catalog.NEXT_TIER``, ``domain.MANAGERIAL_LEVEL_BY_TIER``)
  when the catalogue has no next post. ``seen`` is the gap convention of the programme
  features: the last assessed level, else the current post's required level minus 0.5 (1.0
  where the post does not require c).
* **Career-advancing position**: a tier level (``recommender.domain.TIER_LEVEL``, one ladder
  for structural and functional tiers) above the person's current one (``tier_step > 0``).
* **Raw exposure** of a person: position-discounted share of advancing items in the top ``k``
  = 10 of the ranker's list (ties keep the candidate order, as served)::

      raw = sum_{r <= min(k, n)} adv_r / log2(r + 1)  /  sum_{r <= min(k, n)} 1 / log2(r + 1)

  0 = nothing advancing in the top 10, 1 = only advancing items; rank 1 weighs 1, rank 10 0.29.
  Logged and shown, not gated: it mixes the ranker with the ladder (a grade-IV person has few
  higher posts and few programmes left that raise them, whatever the ranker does).
* **Attainable exposure** (the judged measure): the DCG of the *attainable* advancing items in
  the top ``k`` divided by the ideal DCG, the DCG had the person's ``m`` attainable candidates
  been ranked first (:func:`ideal_dcg`: the first ``min(k, m)`` weights)::

      attainable = sum_{r <= k} att_r / log2(r + 1)  /  sum_{r <= min(k, m)} 1 / log2(r + 1)

  1 = as many attainable items on top as possible, 0 = none in the top 10 although some exist;
  not defined for ``m`` = 0: such people are counted per group (``none_attainable``), not
  measured. Attainable programme = advancing programme (every candidate can be taken);
  attainable position = ``tier_step > 0`` and eligible now by the career pattern (the
  ``eligible`` column of the candidate frame, the verdict the service serves).
* **Groups**: sex (``P`` women, ``L`` men), region (``java`` / ``outside_java`` by the unit's
  province), age band on 1 January (``under_30``, ``30-39``, ``40-49``, ``50_plus``) and grade
  group (golongan ``I``-``IV``). Per group: mean exposure, size and a percentile-bootstrap
  95 % interval (people resampled with replacement within the group, ``n_boot`` times, seeded).
  A group with fewer than ``min_group`` (100) people is **flagged** and not judged. Per
  attribute: **ratio** = lowest / highest mean exposure over the judged groups (NaN when fewer
  than two are judged), with a bootstrap interval from the same resamples; computed for each
  measure separately.

Logged on the model's MLflow run (:func:`log`) as metrics ``fairness.<kind>.<attribute>.ratio``
(``.ratio_ci_low``, ``.ratio_ci_high``, ``.judged_groups``), per group
``fairness.<kind>.<attribute>.<group>.{exposure,ci_low,ci_high,n,small,none_attainable}``
(attainable exposure; ``fairness.<kind>.none_attainable`` marks such a run), the same raw
figures under ``fairness.<kind>.raw.<attribute>...``, and the tables ``fairness/<kind>.json``
and ``fairness/<kind>.csv`` (aggregates only: no person, no NIP). :func:`gate` is the promotion
rule on the attainable metrics.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from recommender import domain
from recommender.programs.catalog import NEXT_TIER, Catalog
from recommender.snapshot import Snapshot

K = 10
MIN_GROUP = 100
MIN_RATIO = 0.8
ATTRIBUTES = ("sex", "region", "age_band", "grade")
AGE_BANDS = ((30, "under_30"), (40, "30-39"), (50, "40-49"), (math.inf, "50_plus"))
KINDS = ("programs", "careers")
PERSON = ["year", "employee_id"]
LEVEL = 0.95
MANAGERIAL_TYPES = ("manajerial", "sosial_kultural")


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


def exposures(scored: pd.DataFrame, k: int = K) -> pd.DataFrame:
    """Raw and attainable exposure of advancing items in each person's top ``k``.

    ``scored``: one row per candidate with ``year``, ``employee_id``, ``score`` (higher first),
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
    df = scored[[*PERSON, "score", "advancing"]].assign(
        _attainable=att.to_numpy(bool), _order=np.arange(len(scored))
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
    out = person_groups(people).assign(top=top_of_ladder(people, positions).to_numpy())
    out.index = pd.MultiIndex.from_arrays([np.full(len(out), year), out.index], names=PERSON)
    return out


# --------------------------------------------------------------------------- what advances


def next_standard(
    snap: Snapshot, cat: Catalog, competency_types: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """The levels HR sees and the standard of each person's likely next position.

    ``competency_types``: competency_id -> type (``manajerial``, ``sosial_kultural``,
    ``teknis``). Returns (seen, next), both (people, competencies) float32: ``seen`` the last
    assessed level, else the current post's required level - 0.5 (1.0 where not required), as
    the programme features; ``next`` the required levels of ``Catalog.next_position``, the
    managerial and socio-cultural ones at least the next tier's managerial level when the
    catalogue has no next post (0 for a person whose post is not in the catalogue).
    """
    posidx = pd.Index(cat.positions["position_id"])
    pos = posidx.get_indexer(pd.Index(snap.people["position_id"]))
    known = pos >= 0
    here = np.maximum(pos, 0)
    req = np.where(known[:, None], cat.req[here], 0.0)
    nxt = np.where(known[:, None], cat.req[cat.next_position[here]], 0.0)
    tier_next = snap.people["tier"].map(NEXT_TIER)
    floor = tier_next.map(domain.MANAGERIAL_LEVEL_BY_TIER).fillna(0).to_numpy(float)
    floor = np.where(known & (cat.next_position[here] == here), floor, 0.0)
    types = competency_types.reindex(cat.competencies).to_numpy(dtype=object)
    managerial = np.isin(types, MANAGERIAL_TYPES)[None, :]
    nxt = np.where(managerial & (req > 0), np.maximum(nxt, floor[:, None]), nxt)
    seen = np.where(np.isnan(snap.levels), np.where(req > 0, req - 0.5, 1.0), snap.levels)
    return seen.astype(np.float32), nxt.astype(np.float32)


def advancing_programmes(
    seen: np.ndarray, nxt: np.ndarray, target: np.ndarray, person: np.ndarray, programme: np.ndarray
) -> np.ndarray:
    """Whether each (person, programme) pair is career-advancing: on some competency the person
    is below the next standard and the programme's target level is above their level.

    ``seen`` and ``nxt`` (people x C) from :func:`next_standard`, ``target`` (programmes x C,
    0 where the programme does not touch the competency), ``person`` and ``programme`` the
    row indexes of the pairs (n,). Returns bool (n,). Raises IndexError for a row outside.
    """
    out = np.zeros(len(person), dtype=bool)
    step = 20_000
    for i in range(0, len(person), step):
        p, q = person[i : i + step], programme[i : i + step]
        level = seen[p]
        out[i : i + step] = ((nxt[p] > level) & (target[q] > level)).any(axis=1)
    return out


def programmes_scored(
    tables: dict[str, pd.DataFrame], cat: Catalog, frame: pd.DataFrame, score: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Programme candidates with the ranker's scores, marked advancing, and their people.

    ``frame``: candidate rows (``year``, ``employee_id``, ``program_id``) of one or more years
    as :func:`training.datasets.build_year` makes them; ``score`` (len(frame),). Returns
    (scored: year, employee_id, score, advancing and attainable (the same for programmes) in
    frame order; people: index (year, employee_id), group columns and ``top``). Raises
    KeyError for a person or programme that is not in the year's snapshot or the catalogue.
    """
    from recommender.snapshot import build_snapshot

    types = tables["competencies"].set_index("competency_id")["type"]
    scored, people = [], []
    framed = frame[["year", "employee_id", "program_id"]].assign(score=np.asarray(score, float))
    for key, part in framed.groupby("year", sort=True):
        year = int(str(key))
        snap = build_snapshot(tables, f"{year}-01-01")
        seen, nxt = next_standard(snap, cat, types)
        rows = snap.people.index.get_indexer(pd.Index(part["employee_id"]))
        progs = cat.ids.get_indexer(pd.Index(part["program_id"]))
        if (rows < 0).any() or (progs < 0).any():
            raise KeyError(f"a {year} candidate is outside the snapshot or the catalogue")
        adv = advancing_programmes(seen, nxt, cat.target, rows, progs)
        # every advancing programme is a candidate the person can take: attainable = advancing
        scored.append(part[[*PERSON, "score"]].assign(advancing=adv, attainable=adv))
        ids = pd.Index(part["employee_id"].unique())
        people.append(labelled(snap, cat.positions, year, ids))
    return pd.concat(scored), pd.concat(people)


def careers_exposure(
    ctx: Any,
    year: int,
    predict: Callable[[pd.DataFrame], np.ndarray],
    max_people: int | None = None,
    seed: int = 0,
    batch: int = 256,
    k: int = K,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw and attainable exposure of advancing positions for the people active on the
    context's date.

    ``ctx``: a :class:`recommender.careers.features.CareerContext` of 1 January ``year``;
    ``predict`` scores the FEATURES of a candidate frame (the served ranker). People at the top
    of the ladder are not scored; ``max_people`` caps the others with a sample seeded by
    (seed, year); candidates are built ``batch`` people at a time, so memory stays bounded.
    A position is advancing when its tier is higher (``tier_step > 0``) and attainable when it
    is advancing and the career pattern lets the person move there now (the ``eligible`` column
    of :func:`recommender.careers.features.candidate_frame`, the verdict of
    :func:`recommender.careers.eligibility.check_pairs` that ``next_positions`` serves).
    Returns (:func:`exposures` indexed by (year, employee_id), people: the scored and the
    top-of-ladder people with group columns and ``top``). Raises KeyError when the candidate
    frame lacks a column.
    """
    from recommender.careers.features import FEATURES, candidate_frame

    snap: Snapshot = ctx.snap
    people = labelled(snap, ctx.cat.positions, year, snap.people.index)
    rows = np.flatnonzero(~people["top"].to_numpy(bool))
    if max_people is not None and len(rows) > max_people:
        rows = np.sort(np.random.default_rng([seed, year]).choice(rows, max_people, False))
    parts = []
    for i in range(0, len(rows), batch):
        cands = candidate_frame(ctx, rows[i : i + batch])
        advancing = cands["tier_step"].to_numpy(float) > 0
        scored = pd.DataFrame(
            {
                "year": year,
                "employee_id": cands["employee_id"].to_numpy(),
                "score": np.asarray(predict(cands[list(FEATURES)]), float),
                "advancing": advancing,
                "attainable": advancing & (cands["eligible"].to_numpy(float) == 1.0),
            }
        )
        parts.append(exposures(scored, k))
    keep = people["top"].to_numpy(bool).copy()
    keep[rows] = True
    empty = pd.DataFrame({"raw": [], "attainable": [], "n_attainable": []})
    values = pd.concat(parts) if parts else empty
    return values, people[keep]


# ---------------------------------------------------------------------------- the figures

#: The judged measure (exposure relative to what the person's candidates allow) and the
#: reported one (share of the list); ``Report.measure`` says which one ``attributes`` hold.
ATTAINABLE = "attainable"
RAW = "raw"


@dataclass(frozen=True)
class GroupFigure:
    """One group of one attribute: size, mean exposure with its 95 % interval, judged, and
    (attainable figures) how many of its people had no attainable advancing candidate (not
    measured; a group made only of them has n 0 and NaN figures)."""

    group: str
    n: int
    exposure: float
    ci_low: float
    ci_high: float
    judged: bool
    none_attainable: int = 0


@dataclass(frozen=True)
class AttributeFigure:
    """One attribute: its groups, the lowest-to-highest ratio over the judged groups (NaN when
    fewer than two are judged, or when none is exposed at all) with its bootstrap interval, and
    the lowest and highest judged groups; ``raw`` the same attribute's raw-exposure figures
    beside attainable ones (reported, not judged)."""

    attribute: str
    groups: tuple[GroupFigure, ...]
    ratio: float
    ratio_ci: tuple[float, float]
    lowest: str | None
    highest: str | None
    raw: AttributeFigure | None = None

    @property
    def small(self) -> list[GroupFigure]:
        """The groups flagged as too small to judge."""
        return [g for g in self.groups if not g.judged]

    @property
    def none_attainable(self) -> int:
        """People of this attribute's groups with no attainable advancing candidate."""
        return sum(g.none_attainable for g in self.groups)

    def attribute_group(self, name: str | None) -> GroupFigure:
        """The figure of group ``name``; raises KeyError when there is none."""
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(name)


def bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement, same size) of ``values``, shape
    (n_boot,); draws ``rng.integers(0, n, (n_boot, n))`` in blocks of rows (same stream)."""
    n = len(values)
    out = np.empty(n_boot)
    block = max(1, 4_000_000 // max(n, 1))
    for i in range(0, n_boot, block):
        m = min(block, n_boot - i)
        out[i : i + m] = values[rng.integers(0, n, (m, n))].mean(axis=1)
    return out


def attribute_figure(
    name: str,
    values: np.ndarray,
    groups: np.ndarray,
    n_boot: int = 300,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    none_attainable: dict[str, int] | None = None,
) -> AttributeFigure:
    """Mean exposure per group with bootstrap 95 % intervals, sizes and the judged ratio.

    ``values`` (n,) exposure per person, ``groups`` (n,) a label per person. Each group is
    resampled within itself, in sorted label order, from ``np.random.default_rng(seed)``; the
    ratio's interval takes min / max of the judged groups' means replicate by replicate. Groups
    with fewer than ``min_group`` people are flagged (``judged`` False) and left out of the
    ratio. ``none_attainable``: group -> people not measured because nothing was attainable for
    them, kept on the group's figure (a group with no measured person gets n 0, NaN figures and
    is not judged). Raises ValueError when the arrays are empty or differ in length, or
    n_boot < 1.
    """
    values = np.asarray(values, dtype=float)
    labels = np.asarray(groups, dtype=object).astype(str)
    if len(values) == 0 or len(values) != len(labels) or n_boot < 1:
        raise ValueError("values and groups must be non-empty, of one length; n_boot >= 1")
    none = {str(g): int(c) for g, c in (none_attainable or {}).items() if c}
    rng = np.random.default_rng(seed)
    tail = (1 - LEVEL) / 2
    figures, replicates = [], {}
    for group in sorted(set(labels)):
        part = values[labels == group]
        means = bootstrap_means(part, n_boot, rng)
        lo, hi = np.quantile(means, [tail, 1 - tail])
        judged = len(part) >= min_group
        figures.append(
            GroupFigure(
                str(group),
                len(part),
                float(part.mean()),
                float(lo),
                float(hi),
                judged,
                none.get(str(group), 0),
            )
        )
        if judged:
            replicates[group] = means
    for group in sorted(set(none) - set(labels)):
        figures.append(GroupFigure(group, 0, math.nan, math.nan, math.nan, False, none[group]))
    figures.sort(key=lambda f: f.group)
    ratio, ratio_ci, lowest, highest = math.nan, (math.nan, math.nan), None, None
    judged_figures = [f for f in figures if f.judged]
    if len(judged_figures) >= 2:
        low = min(judged_figures, key=lambda f: f.exposure)
        high = max(judged_figures, key=lambda f: f.exposure)
        lowest, highest = low.group, high.group
        if high.exposure > 0:
            ratio = low.exposure / high.exposure
            table = np.vstack(list(replicates.values()))
            top = table.max(axis=0)
            ratios = np.divide(table.min(axis=0), top, out=np.ones_like(top), where=top > 0)
            r_lo, r_hi = np.quantile(ratios, [tail, 1 - tail])
            ratio_ci = (float(r_lo), float(r_hi))
    return AttributeFigure(name, tuple(figures), ratio, ratio_ci, lowest, highest)


@dataclass(frozen=True)
class Report:
    """Exposure figures of one model version (see the module docstring).

    ``measure`` says what ``attributes``, ``people`` and ``mean_exposure`` hold: ``attainable``
    (the judged measure; each attribute carries its raw figures in ``raw``) or ``raw`` (a
    report logged before attainable exposure, read back by :meth:`from_dict`). ``people`` are
    the people measured, ``none_attainable`` the people (not at the top of the ladder) with no
    attainable advancing candidate, not measured; ``raw_people`` / ``raw_mean_exposure`` the
    raw measure's population (both groups) and mean.
    """

    kind: str
    k: int
    min_group: int
    n_boot: int
    years: tuple[int, ...]
    people: int
    mean_exposure: float
    excluded_top: int
    attributes: tuple[AttributeFigure, ...]
    none_attainable: int = 0
    raw_people: int = 0
    raw_mean_exposure: float = math.nan
    measure: str = ATTAINABLE

    def attribute(self, name: str) -> AttributeFigure:
        """The figures of attribute ``name``; raises KeyError when it was not measured."""
        for a in self.attributes:
            if a.attribute == name:
                return a
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN as None); :meth:`from_dict` reads it back."""
        out: dict[str, Any] = _json_safe(asdict(self))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """The report :meth:`to_dict` wrote, or one logged before attainable exposure (no
        ``measure``: read as ``raw``, without raw sub-figures or counts). Raises KeyError or
        TypeError on another shape."""
        return cls(
            str(data["kind"]),
            int(data["k"]),
            int(data["min_group"]),
            int(data["n_boot"]),
            tuple(int(y) for y in data["years"]),
            int(data["people"]),
            _num(data["mean_exposure"]),
            int(data["excluded_top"]),
            tuple(_attribute_from_dict(a) for a in data["attributes"]),
            int(data.get("none_attainable", 0)),
            int(data.get("raw_people", 0)),
            _num(data.get("raw_mean_exposure")),
            str(data.get("measure", RAW)),
        )

    def table(self) -> pd.DataFrame:
        """One row per (attribute, group): n, exposure, ci_low, ci_high, judged, small, the
        attribute's ratio, lowest and highest group (the judged measure), then
        ``none_attainable`` and the raw figures ``raw_n``, ``raw_exposure``, ``raw_ci_low``,
        ``raw_ci_high``, ``raw_ratio`` (NaN where the report has no raw figures)."""
        rows = []
        for a in self.attributes:
            for g in a.groups:
                raw = _group_or_none(a.raw, g.group)
                rows.append(
                    {
                        "attribute": a.attribute,
                        "group": g.group,
                        "n": g.n,
                        "exposure": g.exposure,
                        "ci_low": g.ci_low,
                        "ci_high": g.ci_high,
                        "judged": g.judged,
                        "small": not g.judged,
                        "ratio": a.ratio,
                        "lowest": a.lowest,
                        "highest": a.highest,
                        "none_attainable": g.none_attainable,
                        "raw_n": raw.n if raw else math.nan,
                        "raw_exposure": raw.exposure if raw else math.nan,
                        "raw_ci_low": raw.ci_low if raw else math.nan,
                        "raw_ci_high": raw.ci_high if raw else math.nan,
                        "raw_ratio": a.raw.ratio if a.raw else math.nan,
                    }
                )
        return pd.DataFrame(rows)

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metrics ``fairness.<kind>....`` (finite values only; a NaN ratio is not
        logged, ``judged_groups`` says why). The judged measure under
        ``fairness.<kind>.<attribute>...`` (with ``<group>.none_attainable`` and the marker
        ``fairness.<kind>.none_attainable`` for attainable figures), the raw one under
        ``fairness.<kind>.raw.<attribute>...`` (reported, not gated)."""
        base = f"fairness.{self.kind}"
        out: dict[str, float] = {
            f"{base}.people": float(self.people),
            f"{base}.mean_exposure": self.mean_exposure,
            f"{base}.excluded_top": float(self.excluded_top),
        }
        if self.measure == ATTAINABLE:
            out[f"{base}.none_attainable"] = float(self.none_attainable)
            out[f"{base}.raw.people"] = float(self.raw_people)
            out[f"{base}.raw.mean_exposure"] = self.raw_mean_exposure
        for a in self.attributes:
            out.update(_attribute_metrics(f"{base}.{a.attribute}", a, self.measure == ATTAINABLE))
            if a.raw is not None:
                out.update(_attribute_metrics(f"{base}.raw.{a.attribute}", a.raw, False))
        return {k: float(v) for k, v in out.items() if math.isfinite(v)}


def _attribute_metrics(key: str, a: AttributeFigure, with_none: bool) -> dict[str, float]:
    out = {f"{key}.judged_groups": float(sum(g.judged for g in a.groups)), f"{key}.ratio": a.ratio}
    out[f"{key}.ratio_ci_low"], out[f"{key}.ratio_ci_high"] = a.ratio_ci
    for g in a.groups:
        out[f"{key}.{g.group}.exposure"] = g.exposure
        out[f"{key}.{g.group}.ci_low"] = g.ci_low
        out[f"{key}.{g.group}.ci_high"] = g.ci_high
        out[f"{key}.{g.group}.n"] = float(g.n)
        out[f"{key}.{g.group}.small"] = 0.0 if g.judged else 1.0
        if with_none:
            out[f"{key}.{g.group}.none_attainable"] = float(g.none_attainable)
    return out


def _group_or_none(a: AttributeFigure | None, group: str) -> GroupFigure | None:
    if a is None:
        return None
    try:
        return a.attribute_group(group)
    except KeyError:
        return None


def _attribute_from_dict(a: dict[str, Any]) -> AttributeFigure:
    return AttributeFigure(
        a["attribute"],
        tuple(
            GroupFigure(
                str(g["group"]),
                int(g["n"]),
                _num(g["exposure"]),
                _num(g["ci_low"]),
                _num(g["ci_high"]),
                bool(g["judged"]),
                int(g.get("none_attainable", 0)),
            )
            for g in a["groups"]
        ),
        _num(a["ratio"]),
        (_num(a["ratio_ci"][0]), _num(a["ratio_ci"][1])),
        a["lowest"],
        a["highest"],
        _attribute_from_dict(a["raw"]) if a.get("raw") else None,
    )


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def measure(
    kind: str,
    values: pd.DataFrame,
    people: pd.DataFrame,
    n_boot: int = 300,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    k: int = K,
) -> Report:
    """The report of one model version: attainable exposure judged, raw exposure beside it.

    ``values``: :func:`exposures` per person (columns ``raw`` and ``attainable``, NaN when
    nothing is attainable), index (year, employee_id); ``people``: the people considered, same
    index, with the group columns and ``top``. People at the top of the ladder are counted
    (``excluded_top``), not measured; people with no attainable advancing candidate are counted
    per group (``none_attainable``) and left out of the attainable figures, not of the raw ones.
    Raises ValueError when no one is left to measure, KeyError when a column is missing.
    """
    eligible = people[~people["top"].to_numpy(bool)]
    scored = values[["raw", "attainable"]].reindex(eligible.index)
    scored = scored[scored["raw"].notna()]
    measured = scored["attainable"].dropna()
    if measured.empty:
        raise ValueError(f"no one with an attainable advancing candidate to measure ({kind})")
    raw_groups = eligible.loc[scored.index]
    groups = eligible.loc[measured.index]
    nothing = raw_groups.loc[scored["attainable"].isna().to_numpy()]
    attrs = []
    for a in ATTRIBUTES:
        raw = attribute_figure(
            a, scored["raw"].to_numpy(), raw_groups[a].to_numpy(), n_boot, seed, min_group
        )
        none = {str(g): int(c) for g, c in nothing[a].astype(str).value_counts().items()}
        fig = attribute_figure(
            a, measured.to_numpy(), groups[a].to_numpy(), n_boot, seed, min_group, none
        )
        attrs.append(replace(fig, raw=raw))
    years = tuple(sorted({int(y) for y in scored.index.get_level_values("year")}))
    top = int(people["top"].to_numpy(bool).sum())
    return Report(
        kind,
        k,
        min_group,
        n_boot,
        years,
        len(measured),
        float(measured.mean()),
        top,
        tuple(attrs),
        len(nothing),
        len(scored),
        float(scored["raw"].mean()),
        ATTAINABLE,
    )


def programs_report(
    tables: dict[str, pd.DataFrame],
    frame: pd.DataFrame,
    predict: Callable[[pd.DataFrame], np.ndarray],
    n_boot: int = 300,
    seed: int = 0,
    min_group: int = MIN_GROUP,
) -> Report:
    """The programme ranker's report on a test-year candidate frame (``training.datasets``
    year frames concatenated); ``predict`` scores its FEATURES. Raises ValueError when no one
    is left to measure."""
    from recommender.programs.catalog import build_catalog
    from recommender.programs.features import FEATURES

    score = np.asarray(predict(frame[list(FEATURES)]), dtype=float)
    scored, people = programmes_scored(tables, build_catalog(tables), frame, score)
    return measure("programs", exposures(scored), people, n_boot, seed, min_group)


def careers_report(
    contexts: dict[int, Any],
    predict: Callable[[pd.DataFrame], np.ndarray],
    n_boot: int = 300,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    max_people: int | None = None,
) -> Report:
    """The careers ranker's report over the people active on 1 January of each test year;
    ``contexts`` maps the year to its ``CareerContext`` (training has them in its year frames).
    Raises ValueError when no one is left to measure."""
    values, people = [], []
    for year, ctx in sorted(contexts.items()):
        v, p = careers_exposure(ctx, year, predict, max_people, seed)
        values.append(v)
        people.append(p)
    return measure("careers", pd.concat(values), pd.concat(people), n_boot, seed, min_group)


# ----------------------------------------------------------------------- MLflow and the gate


def artifact_path(kind: str, ext: str = "json") -> str:
    """Where a run keeps its fairness table: ``fairness/<kind>.json`` or ``.csv``."""
    return f"fairness/{kind}.{ext}"


def log(settings: Any, run_id: str, report: Report) -> None:
    """Log ``report`` on the (possibly finished) run: metrics, JSON and CSV tables (group
    aggregates only). Raises MlflowException when the store cannot be written."""
    from mlflow.entities import Metric

    from training import tracking

    client = tracking.client(settings)
    now = int(pd.Timestamp.now("UTC").timestamp() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in sorted(report.metrics().items())]
    for i in range(0, len(metrics), 500):
        client.log_batch(run_id, metrics=metrics[i : i + 500])
    client.log_dict(run_id, report.to_dict(), artifact_path(report.kind))
    buffer = io.StringIO()
    report.table().to_csv(buffer, index=False)
    client.log_text(run_id, buffer.getvalue(), artifact_path(report.kind, "csv"))


def load(settings: Any, run_id: str, kind: str) -> Report | None:
    """The attainable-exposure report logged on ``run_id``, or None when the run has none (no
    table, or only a raw-exposure table logged before attainable exposure: recompute it)."""
    from training import tracking

    try:
        data = tracking.run_artifact_json(settings, run_id, artifact_path(kind))
    except Exception:  # no such artifact: a run trained before the fairness step
        return None
    report = Report.from_dict(data)
    return report if report.measure == ATTAINABLE else None


@dataclass(frozen=True)
class Logged:
    """One attribute's figures as read back from a run's metrics: the ratio (NaN when not
    judged), group -> (exposure, n, small) and group -> people with nothing attainable."""

    attribute: str
    ratio: float
    groups: dict[str, tuple[float, int, bool]]
    none_attainable: dict[str, int] = field(default_factory=dict)

    def extreme(self, lowest: bool) -> tuple[str, float] | None:
        """The judged group with the lowest (or highest) exposure and its value, if any."""
        judged = [(g, v[0]) for g, v in self.groups.items() if not v[2]]
        if not judged:
            return None
        return (min if lowest else max)(judged, key=lambda gv: gv[1])

    def small(self) -> list[str]:
        """``group (n=N)`` for each flagged group."""
        return [f"{g} (n={v[1]})" for g, v in self.groups.items() if v[2]]


def has_attainable(metrics: dict[str, float] | None, kind: str) -> bool:
    """Whether a run's metrics hold attainable-exposure figures of ``kind`` (the marker
    ``fairness.<kind>.none_attainable``); a run logged before them has raw figures only."""
    return metrics is not None and f"fairness.{kind}.none_attainable" in metrics


def from_metrics(metrics: dict[str, float], kind: str, raw: bool = False) -> dict[str, Logged]:
    """Per attribute, the logged ratio and groups of ``kind`` from a run's metrics (empty when
    the run has no fairness figures): the judged figures ``fairness.<kind>.<attribute>...``
    (attainable, or raw on a run logged before attainable exposure, :func:`has_attainable`),
    or with ``raw`` the raw figures ``fairness.<kind>.raw.<attribute>...``."""
    prefix = f"fairness.{kind}.raw." if raw else f"fairness.{kind}."
    skip = f"fairness.{kind}.raw."
    ratios: dict[str, float] = {}
    groups: dict[str, dict[str, dict[str, float]]] = {}
    for key, value in metrics.items():
        if not key.startswith(prefix) or (not raw and key.startswith(skip)):
            continue
        parts = key[len(prefix) :].split(".")
        if len(parts) == 2 and parts[1] == "judged_groups":
            ratios.setdefault(parts[0], math.nan)
        elif len(parts) == 2 and parts[1] == "ratio":
            ratios[parts[0]] = float(value)
        elif len(parts) == 3:
            groups.setdefault(parts[0], {}).setdefault(parts[1], {})[parts[2]] = float(value)
    out = {}
    order = {a: i for i, a in enumerate(ATTRIBUTES)}
    for attr in sorted(set(ratios) | set(groups), key=lambda a: (order.get(a, len(order)), a)):
        found = sorted(groups.get(attr, {}).items())
        figures = {
            g: (v.get("exposure", math.nan), int(v.get("n", 0)), v.get("small", 1.0) >= 0.5)
            for g, v in found
        }
        none = {g: int(v["none_attainable"]) for g, v in found if v.get("none_attainable")}
        out[attr] = Logged(attr, ratios.get(attr, math.nan), figures, none)
    return out


def gate(
    new: dict[str, float],
    champion: dict[str, float] | None,
    kind: str,
    min_ratio: float = MIN_RATIO,
    tolerance: float = 0.0,
) -> tuple[bool, list[str]]:
    """The promotion rule on the logged **attainable** exposure figures of a candidate run (and
    the champion's).

    Refuses when the candidate has no figures or only raw ones (logged before attainable
    exposure), when an attribute's judged attainable ratio is below ``min_ratio``, or below the
    champion's attainable ratio for the same attribute by more than ``tolerance``. Attributes
    with fewer than two judged groups are reported, not judged; small groups and people with
    nothing attainable are named; the raw ratio is reported beside, never gated. A champion
    without figures is not compared; a champion with raw figures only is not compared either
    (attainable and raw are different measures): the reasons say so and show the raw ratios of
    both for information. Returns (ok, reasons in words naming the measure, the attribute, the
    lowest and highest groups and the values). Raises nothing.
    """
    logged = from_metrics(new, kind)
    if not logged:
        return False, [
            f"no exposure figures on this run (trained before the fairness step): "
            f"`jenjang fairness {kind} --version <its version>` computes and logs them"
        ]
    if not has_attainable(new, kind):
        return False, [
            f"only raw exposure figures on this run (logged before attainable exposure, "
            f"docs/fairness.md), and the rule judges attainable exposure: "
            f"`jenjang fairness {kind} --version <its version>` recomputes and logs them"
        ]
    raw_new = from_metrics(new, kind, raw=True)
    if champion is None or not from_metrics(champion, kind):
        old: dict[str, Logged] = {}
        old_raw: dict[str, Logged] = {}
    elif has_attainable(champion, kind):
        old, old_raw = from_metrics(champion, kind), {}
    else:  # the champion's figures predate attainable exposure: its ratios are raw
        old, old_raw = {}, from_metrics(champion, kind)
    ok, reasons = True, []
    for attr, fig in logged.items():
        small = fig.small()
        note = f"; flagged, not judged (small): {', '.join(small)}" if small else ""
        if fig.none_attainable:
            listed = ", ".join(f"{g} {n}" for g, n in fig.none_attainable.items())
            note += f"; nothing attainable, not measured: {listed}"
        raw = raw_new.get(attr)
        if raw is not None and math.isfinite(raw.ratio):
            note += f"; raw exposure ratio {raw.ratio:.3f} (reported, not gated)"
        if not math.isfinite(fig.ratio):
            reasons.append(
                f"attainable exposure by {attr} not judged: fewer than two large groups{note}"
            )
            continue
        low, high = fig.extreme(True), fig.extreme(False)
        span = f" ({low[0]} {low[1]:.3f} / {high[0]} {high[1]:.3f})" if low and high else ""
        if fig.ratio < min_ratio:
            ok = False
            reasons.append(
                f"attainable exposure ratio by {attr} is {fig.ratio:.3f} < {min_ratio}{span}{note}"
            )
        else:
            reasons.append(
                f"attainable exposure ratio by {attr} {fig.ratio:.3f} >= {min_ratio}{span}{note}"
            )
        if old:
            before = old.get(attr)
            if before is None or not math.isfinite(before.ratio):
                reasons.append(
                    f"attainable exposure ratio by {attr}: the champion's is not judged, "
                    "not compared"
                )
            elif fig.ratio < before.ratio - tolerance:
                ok = False
                slack = f" by more than {tolerance}" if tolerance else ""
                reasons.append(
                    f"attainable exposure ratio by {attr} {fig.ratio:.3f} is worse than the "
                    f"champion's {before.ratio:.3f}{slack}"
                )
            else:
                reasons.append(
                    f"attainable exposure ratio by {attr} {fig.ratio:.3f} is not worse than the "
                    f"champion's {before.ratio:.3f}"
                )
        elif old_raw:
            before = old_raw.get(attr)
            mine = f"{raw.ratio:.3f}" if raw is not None and math.isfinite(raw.ratio) else "-"
            theirs = f"{before.ratio:.3f}" if before and math.isfinite(before.ratio) else "-"
            reasons.append(
                f"raw exposure ratio by {attr} {mine}, the champion's raw {theirs} "
                "(information only, not gated)"
            )
    if old_raw:
        reasons.append(
            "the champion has raw exposure figures only (logged before attainable exposure): "
            "attainable ratios not compared with the champion's, only the "
            f"{min_ratio} floor applied"
        )
    elif champion is not None and not old:
        reasons.append("the champion has no exposure figures: not compared")
    return ok, reasons


def rows(report: Report) -> Iterator[tuple[str, str, str, str, str, str]]:
    """Printable rows of a report: attribute, group, n, mean exposure (the report's measure),
    95 % CI, and notes: small flag, people with nothing attainable, the raw mean beside."""
    for a in report.attributes:
        for g in a.groups:
            notes = [] if g.judged else [f"small (n < {report.min_group}): not judged"]
            if g.none_attainable:
                notes.append(f"{g.none_attainable} with nothing attainable")
            raw = _group_or_none(a.raw, g.group)
            if raw is not None:
                notes.append(f"raw {raw.exposure:.3f} (n {raw.n})")
            interval = f"[{g.ci_low:.3f}, {g.ci_high:.3f}]"
            yield (a.attribute, g.group, str(g.n), f"{g.exposure:.3f}", interval, "; ".join(notes))


# ------------------------------------------------------------------- a registered version


#: Run parameters that shape the figures, read back when a version's table is recomputed.
SHAPING = (
    "max_candidates",
    "max_people_per_year",
    "n_boot",
    "seed",
    "fairness_min_group",
    "fairness_max_people",
)


def recompute(
    settings: Any,
    kind: str,
    run_id: str,
    data: Any,
    progress: Callable[[str], None],
    rules: str | None = None,
) -> tuple[Report, bool]:
    """Recompute a registered version's report from the clean tables in ``data`` with the
    run's own settings (its logged parameters, else the defaults) and its booster (hash
    verified). Returns (report, whether ``data`` has the run's data fingerprint). Raises
    FileNotFoundError for missing tables, ModelIntegrityError for a tampered booster, ValueError
    for an unknown ``kind``."""
    from recommender.data.io import load_clean
    from recommender.programs.ranker import ProgramRanker
    from training import careers, programs, tracking
    from training.datasets import SPLITS, build_year

    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}: programs or careers")
    import mlflow

    run = tracking.client(settings).get_run(run_id)
    params = {k: v for k, v in run.data.params.items() if k in SHAPING}
    meta = mlflow.artifacts.load_dict(f"runs:/{run_id}/booster/meta.json")
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/booster/model.txt")
    ranker = ProgramRanker.from_text(text, expected_sha256=meta["sha256"])
    same_data = run.data.params.get("data_fingerprint") == programs.fingerprint(data)
    tables = load_clean(data)
    if kind == "programs":
        pcfg = programs.ProgramsConfig.model_validate(params)
        from recommender.programs.catalog import build_catalog

        cat = build_catalog(tables)
        frames = []
        for year in SPLITS["test"]:
            progress(f"features test {year}")
            frames.append(
                build_year(
                    tables, cat, year, pcfg.max_candidates, pcfg.max_people_per_year, pcfg.seed
                )
            )
        progress("exposure of career-advancing programmes by group")
        return programs.fairness_report(tables, frames, ranker, pcfg), same_data
    ccfg = careers.CareersConfig.model_validate({**params, "rules": rules})
    progress("career contexts of the test year")
    contexts = careers.year_contexts(tables, ccfg)
    progress("exposure of career-advancing positions by group")
    return careers.fairness_report(contexts, ranker, ccfg), same_data


def ratio_line(a: AttributeFigure, min_group: int) -> str:
    """One attribute in words: its ratio (attainable exposure, the judged one, when ``a`` has
    raw figures beside it), interval and extreme groups, the small groups, the people with
    nothing attainable, and the raw ratio with its extreme groups (reported, not judged)."""
    small = ", ".join(f"{g.group} (n={g.n})" for g in a.small)
    flagged = f"; small, not judged (n < {min_group}): {small}" if small else ""
    nothing = ", ".join(f"{g.group} {g.none_attainable}" for g in a.groups if g.none_attainable)
    if nothing:
        flagged += f"; nothing attainable (not measured): {nothing}"
    if a.raw is not None:
        flagged += "; raw " + _ratio_words(a.raw, "(reported, not judged)")
    what = "attainable " if a.raw is not None else ""
    if not math.isfinite(a.ratio):
        return f"{a.attribute}: {what}not judged (fewer than two groups of {min_group}+){flagged}"
    return f"{a.attribute}: {what}{_ratio_words(a, '')}{flagged}"


def _ratio_words(a: AttributeFigure, tail: str) -> str:
    if not math.isfinite(a.ratio):
        return f"ratio not judged {tail}".strip()
    low, high = a.attribute_group(a.lowest), a.attribute_group(a.highest)
    return (
        f"ratio {a.ratio:.3f} [{a.ratio_ci[0]:.3f}, {a.ratio_ci[1]:.3f}] "
        f"(lowest {low.group} {low.exposure:.3f}, highest {high.group} {high.exposure:.3f})"
        f"{' ' + tail if tail else ''}"
    )
