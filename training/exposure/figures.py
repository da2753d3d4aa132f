"""The figures of a fairness report: per group, per attribute and per model version, with
their JSON form, their table and their flat MLflow metrics."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from training.exposure.measures import LEVEL, MIN_GROUP, MIN_RATIO

#: The judged measure (exposure relative to what the person's candidates allow) and the
#: reported one (share of the list); ``Report.measure`` says which one ``attributes`` hold.
ATTAINABLE = "attainable"
RAW = "raw"
#: Version of the judged figures: 2 = issue 18 (served order, horizon, legal exclusions, age
#: band and grade adjusted, gated on the interval); 1 = attainable exposure of 2026-11-29.
GATE_VERSION = 2


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
    excluded_legal: int = 0


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
    adjusted: bool = False
    unadjusted: AttributeFigure | None = None
    unconstrained: AttributeFigure | None = None

    @property
    def passes(self) -> bool | None:
        """The gate's verdict on this attribute against :data:`MIN_RATIO`: True when the upper
        end of the ratio's interval reaches it, False when the whole interval is below it, None
        when the ratio is not judged."""
        if not math.isfinite(self.ratio):
            return None
        return bool(self.ratio_ci[1] >= MIN_RATIO)

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
    excluded_legal: dict[str, int] | None = None,
) -> AttributeFigure:
    """Mean exposure per group with bootstrap 95 % intervals, sizes and the judged ratio.

    ``values`` (n,) exposure per person, ``groups`` (n,) a label per person. Each group is
    resampled within itself, in sorted label order, from ``np.random.default_rng(seed)``; the
    ratio's interval takes min / max of the judged groups' means replicate by replicate. Groups
    with fewer than ``min_group`` people are flagged (``judged`` False) and left out of the
    ratio. ``none_attainable``: group -> people not measured because nothing was attainable for
    them, and ``excluded_legal``: group -> people excluded because no advancement is legally
    possible for them before retirement, both kept on the group's figure (a group with no
    measured person gets n 0, NaN figures and is not judged). Raises ValueError when the arrays
    are empty or differ in length, or n_boot < 1.
    """
    values = np.asarray(values, dtype=float)
    labels = np.asarray(groups, dtype=object).astype(str)
    if len(values) == 0 or len(values) != len(labels) or n_boot < 1:
        raise ValueError("values and groups must be non-empty, of one length; n_boot >= 1")
    none = {str(g): int(c) for g, c in (none_attainable or {}).items() if c}
    legal = {str(g): int(c) for g, c in (excluded_legal or {}).items() if c}
    rng = np.random.default_rng(seed)
    tail = (1 - LEVEL) / 2
    figures: list[GroupFigure] = []
    replicates: dict[str, np.ndarray] = {}
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
                legal.get(str(group), 0),
            )
        )
        if judged:
            replicates[group] = means
    return _with_ratio(name, _with_empty(figures, labels, none, legal), replicates)


def _with_empty(
    figures: list[GroupFigure], labels: np.ndarray, none: dict[str, int], legal: dict[str, int]
) -> list[GroupFigure]:
    """``figures`` plus a not-judged entry for each group with no measured person, sorted."""
    for group in sorted((set(none) | set(legal)) - set(labels)):
        figures.append(
            GroupFigure(
                group,
                0,
                math.nan,
                math.nan,
                math.nan,
                False,
                none.get(group, 0),
                legal.get(group, 0),
            )
        )
    figures.sort(key=lambda f: f.group)
    return figures


def adjusted_means(
    values: np.ndarray, dummies: np.ndarray, covariates: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Group means adjusted for ``covariates`` by a weighted linear model (direct
    standardisation): fit ``values ~ dummies + covariates`` (no intercept: one dummy per group)
    by least squares with ``weights`` (n,) (bootstrap counts), then each group's mean
    prediction over everyone (weighted) had they all been in it. ``dummies`` (n, G),
    ``covariates`` (n, p). Returns (G,); NaN for a group with no weight. Raises
    LinAlgError when the fit does not converge."""
    x = np.hstack([dummies, covariates])
    root = np.sqrt(weights)[:, None]
    beta = np.linalg.lstsq(x * root, values * root[:, 0], rcond=None)[0]
    g = dummies.shape[1]
    centre = float(np.average(covariates @ beta[g:], weights=weights)) if len(beta) > g else 0.0
    present = (dummies * weights[:, None]).sum(axis=0) > 0
    out: np.ndarray = np.where(present, beta[:g] + centre, np.nan)
    return out


def adjusted_figure(
    name: str,
    values: np.ndarray,
    groups: np.ndarray,
    covariates: np.ndarray,
    n_boot: int = 300,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    none_attainable: dict[str, int] | None = None,
    excluded_legal: dict[str, int] | None = None,
) -> AttributeFigure:
    """Like :func:`attribute_figure`, but each group's exposure is its mean **adjusted** for
    ``covariates`` (n, p) (:func:`adjusted_means`: tier, years to retirement, eligibility),
    so groups are compared like with like; the interval resamples people within each group
    (``n_boot`` times, seeded) and refits. The figure has ``adjusted`` True. Raises ValueError
    when the arrays are empty or differ in length, or n_boot < 1."""
    values = np.asarray(values, dtype=float)
    labels = np.asarray(groups, dtype=object).astype(str)
    covariates = np.asarray(covariates, dtype=float).reshape(len(values), -1)
    if len(values) == 0 or len(values) != len(labels) or n_boot < 1:
        raise ValueError("values and groups must be non-empty, of one length; n_boot >= 1")
    names = sorted(set(labels))
    codes = np.searchsorted(np.array(names, dtype=object), labels)
    dummies = (codes[:, None] == np.arange(len(names))[None, :]).astype(float)
    point = adjusted_means(values, dummies, covariates, np.ones(len(values)))
    rng = np.random.default_rng(seed)
    reps = np.empty((n_boot, len(names)))
    members = [np.flatnonzero(codes == i) for i in range(len(names))]
    for b in range(n_boot):
        counts = np.zeros(len(values))
        for idx in members:
            np.add.at(counts, idx[rng.integers(0, len(idx), len(idx))], 1.0)
        reps[b] = adjusted_means(values, dummies, covariates, counts)
    tail = (1 - LEVEL) / 2
    none = {str(g): int(c) for g, c in (none_attainable or {}).items() if c}
    legal = {str(g): int(c) for g, c in (excluded_legal or {}).items() if c}
    figures, replicates = [], {}
    for i, group in enumerate(names):
        n = len(members[i])
        lo, hi = np.quantile(reps[:, i], [tail, 1 - tail])
        judged = n >= min_group
        figures.append(
            GroupFigure(
                group,
                n,
                float(point[i]),
                float(lo),
                float(hi),
                judged,
                none.get(group, 0),
                legal.get(group, 0),
            )
        )
        if judged:
            replicates[group] = reps[:, i]
    figure = _with_ratio(name, _with_empty(figures, labels, none, legal), replicates)
    return replace(figure, adjusted=True)


def _with_ratio(
    name: str, figures: list[GroupFigure], replicates: dict[str, np.ndarray]
) -> AttributeFigure:
    """The attribute's figure: lowest / highest mean over the judged groups (two or more,
    highest above 0) and its interval, replicate by replicate; NaN otherwise."""
    tail = (1 - LEVEL) / 2
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
    raw measure's population (both groups) and mean. Since :data:`GATE_VERSION` 2 (issue 18):
    ``excluded_legal`` the people for whom no advancement is legally possible before retirement
    (not measured), ``policy`` whether the figures judge the ranking policy's served order
    (``unconstrained_mean_exposure`` and each attribute's ``unconstrained`` the ranker's own
    order), age band and grade ``adjusted`` (their ``unadjusted`` figures beside).
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
    excluded_legal: int = 0
    policy: bool = False
    unconstrained_mean_exposure: float = math.nan
    gate_version: int = 1

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
            int(data.get("excluded_legal", 0)),
            bool(data.get("policy", False)),
            _num(data.get("unconstrained_mean_exposure")),
            int(data.get("gate_version", 1)),
        )

    def table(self) -> pd.DataFrame:
        """One row per (attribute, group): n, exposure, ci_low, ci_high, judged, small, the
        attribute's ratio, lowest and highest group (the judged measure), then
        ``none_attainable`` and the raw figures ``raw_n``, ``raw_exposure``, ``raw_ci_low``,
        ``raw_ci_high``, ``raw_ratio`` (NaN where the report has no raw figures)."""
        rows = []
        for a in self.attributes:
            for g in a.groups:
                raw = group_or_none(a.raw, g.group)
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
                        "excluded_legal": g.excluded_legal,
                        "adjusted": a.adjusted,
                        "ratio_ci_low": a.ratio_ci[0],
                        "ratio_ci_high": a.ratio_ci[1],
                        "unconstrained_exposure": _exposure_of(a.unconstrained, g.group),
                        "unadjusted_exposure": _exposure_of(a.unadjusted, g.group),
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
        if self.gate_version >= GATE_VERSION:
            out[f"{base}.gate_version"] = float(self.gate_version)
            out[f"{base}.excluded_legal"] = float(self.excluded_legal)
            out[f"{base}.policy"] = 1.0 if self.policy else 0.0
            out[f"{base}.unconstrained.mean_exposure"] = self.unconstrained_mean_exposure
        for a in self.attributes:
            out.update(_attribute_metrics(f"{base}.{a.attribute}", a, self.measure == ATTAINABLE))
            for sub, fig in (
                ("raw", a.raw),
                ("unadjusted", a.unadjusted),
                ("unconstrained", a.unconstrained),
            ):
                if fig is not None:
                    out.update(_attribute_metrics(f"{base}.{sub}.{a.attribute}", fig, False))
        return {k: float(v) for k, v in out.items() if math.isfinite(v)}


def _attribute_metrics(key: str, a: AttributeFigure, with_none: bool) -> dict[str, float]:
    out = {f"{key}.judged_groups": float(sum(g.judged for g in a.groups)), f"{key}.ratio": a.ratio}
    out[f"{key}.ratio_ci_low"], out[f"{key}.ratio_ci_high"] = a.ratio_ci
    if with_none:
        out[f"{key}.adjusted"] = 1.0 if a.adjusted else 0.0
    for g in a.groups:
        out[f"{key}.{g.group}.exposure"] = g.exposure
        out[f"{key}.{g.group}.ci_low"] = g.ci_low
        out[f"{key}.{g.group}.ci_high"] = g.ci_high
        out[f"{key}.{g.group}.n"] = float(g.n)
        out[f"{key}.{g.group}.small"] = 0.0 if g.judged else 1.0
        if with_none:
            out[f"{key}.{g.group}.none_attainable"] = float(g.none_attainable)
            out[f"{key}.{g.group}.excluded_legal"] = float(g.excluded_legal)
    return out


def _exposure_of(a: AttributeFigure | None, group: str) -> float:
    found = group_or_none(a, group)
    return found.exposure if found is not None else math.nan


def group_or_none(a: AttributeFigure | None, group: str) -> GroupFigure | None:
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
                int(g.get("excluded_legal", 0)),
            )
            for g in a["groups"]
        ),
        _num(a["ratio"]),
        (_num(a["ratio_ci"][0]), _num(a["ratio_ci"][1])),
        a["lowest"],
        a["highest"],
        _attribute_from_dict(a["raw"]) if a.get("raw") else None,
        bool(a.get("adjusted", False)),
        _attribute_from_dict(a["unadjusted"]) if a.get("unadjusted") else None,
        _attribute_from_dict(a["unconstrained"]) if a.get("unconstrained") else None,
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
