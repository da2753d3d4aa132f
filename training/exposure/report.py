"""A model version's fairness report, from exposures to figures, and the report in words."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from recommender.careers.rules import RuleSet, load_rules
from recommender.config import get_settings
from recommender.programs.catalog import build_catalog
from recommender.programs.features import FEATURES as PROGRAM_FEATURES
from training.exposure.figures import (
    ATTAINABLE,
    GATE_VERSION,
    AttributeFigure,
    Report,
    adjusted_figure,
    attribute_figure,
    group_or_none,
)
from training.exposure.measures import (
    ATTRIBUTES,
    MIN_GROUP,
    K,
    both_exposures,
    careers_exposure,
    programmes_scored,
)
from training.kinds import Kind

#: Attributes compared like with like: each group's mean adjusted for tier, years to retirement
#: and eligibility (:func:`covariates`), the unadjusted figures reported beside.
ADJUSTED = ("age_band", "grade")


def covariates(people: pd.DataFrame, values: pd.DataFrame) -> np.ndarray:
    """The like-with-like covariates of the measured people, (n, p) float, no NaN: one dummy
    per tier level but the most common one, years to the retirement age of the current post
    (clipped to 0-40, missing at the median) and its square, ``log1p`` of the number of
    attainable candidates, and (when ``people`` has them) whether a higher post is open within
    the horizon and now. ``people`` and ``values`` share their index. Raises nothing."""
    cols = []
    found = people["tier_level"] if "tier_level" in people else pd.Series(0.0, people.index)
    tier = found.fillna(-1.0).to_numpy(float)
    levels, counts = np.unique(tier, return_counts=True)
    for level in levels[levels != levels[np.argmax(counts)]]:
        cols.append((tier == level).astype(float))
    if "years_to_retirement" in people:
        ytr = people["years_to_retirement"].to_numpy(float)
        fill = float(np.nanmedian(ytr)) if np.isfinite(ytr).any() else 0.0
        ytr = np.clip(np.where(np.isfinite(ytr), ytr, fill), 0.0, 40.0) / 10.0
        cols += [ytr, ytr**2]
    if "n_attainable" in values:
        cols.append(np.log1p(values["n_attainable"].to_numpy(float)))
    for name in ("n_within", "n_now"):
        if name in people:
            cols.append((people[name].to_numpy(float) > 0).astype(float))
    return np.column_stack(cols) if cols else np.zeros((len(people), 0))


def _counts(frame: pd.DataFrame, attribute: str) -> dict[str, int]:
    return {str(g): int(c) for g, c in frame[attribute].astype(str).value_counts().items()}


def _judged(
    a: str,
    column: pd.Series,
    groups: pd.DataFrame,
    cov: np.ndarray,
    opts: dict[str, Any],
) -> AttributeFigure:
    """The judged figure of attribute ``a`` for one exposure column: adjusted for
    :data:`ADJUSTED` attributes (the unadjusted figure inside), else the plain ratio."""
    plain = attribute_figure(a, column.to_numpy(), groups[a].to_numpy(), **opts)
    if a not in ADJUSTED:
        return plain
    fig = adjusted_figure(a, column.to_numpy(), groups[a].to_numpy(), cov, **opts)
    return replace(fig, unadjusted=plain)


def _populations(
    kind: str, values: pd.DataFrame, people: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(scored: values of everyone but the top of the ladder; their people; the people excluded
    by law; measured: values of the people judged; the people with nothing attainable) for
    :func:`measure`. Raises ValueError when no one is left to judge."""
    eligible = people[~people["top"].to_numpy(bool)]
    scored = values.reindex(eligible.index)
    scored = scored[scored["raw"].notna()]
    raw_groups = eligible.loc[scored.index]
    legal = (
        raw_groups["legal"].to_numpy(bool)
        if "legal" in raw_groups
        else np.ones(len(raw_groups), bool)
    )
    kept = scored.loc[legal]
    measured = kept[kept["attainable"].notna()]
    if measured.empty:
        raise ValueError(f"no one with an attainable advancing candidate to measure ({kind})")
    nothing = raw_groups.loc[kept.index[kept["attainable"].isna().to_numpy()]]
    return scored, raw_groups, raw_groups.loc[~legal], measured, nothing


def measure(
    kind: str,
    values: pd.DataFrame,
    people: pd.DataFrame,
    n_boot: int = 300,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    k: int = K,
) -> Report:
    """The report of one model version: attainable exposure of the served order judged, raw
    exposure and the unconstrained order beside it.

    ``values``: :func:`exposures` per person (columns ``raw`` and ``attainable``, NaN when
    nothing is attainable, ``n_attainable``; with the ranking policy also ``unconstrained``, the
    attainable exposure of the ranker's own order), index (year, employee_id); ``people``: the
    people considered, same index, with the group columns, ``top`` and optionally ``legal``,
    ``tier_level``, ``years_to_retirement``, ``n_within``, ``n_now``. People at the top of the
    ladder are counted (``excluded_top``), people with ``legal`` False (no advancement legally
    possible before retirement) counted per group (``excluded_legal``), people with no
    attainable advancing candidate counted per group (``none_attainable``); none of them is in
    the judged figures (all but the top are in the raw ones). Age band and grade are judged on
    means adjusted for :func:`covariates`. Raises ValueError when no one is left to measure,
    KeyError when a column is missing.
    """
    scored, raw_groups, barred, measured, nothing = _populations(kind, values, people)
    groups = raw_groups.loc[measured.index]
    cov = covariates(groups, measured)
    opts: dict[str, Any] = {"n_boot": n_boot, "seed": seed, "min_group": min_group}
    free = "unconstrained" in measured
    attrs = []
    for a in ATTRIBUTES:
        raw = attribute_figure(
            a, scored["raw"].to_numpy(), raw_groups[a].to_numpy(), n_boot, seed, min_group
        )
        counts = {"none_attainable": _counts(nothing, a), "excluded_legal": _counts(barred, a)}
        fig = _judged(a, measured["attainable"], groups, cov, {**opts, **counts})
        other = _judged(a, measured["unconstrained"], groups, cov, opts) if free else None
        attrs.append(replace(fig, raw=raw, unconstrained=other))
    years = tuple(sorted({int(y) for y in scored.index.get_level_values("year")}))
    return Report(
        kind,
        k,
        min_group,
        n_boot,
        years,
        len(measured),
        float(measured["attainable"].mean()),
        int(people["top"].to_numpy(bool).sum()),
        tuple(attrs),
        len(nothing),
        len(scored),
        float(scored["raw"].mean()),
        ATTAINABLE,
        len(barred),
        free,
        float(measured["unconstrained"].mean()) if free else math.nan,
        GATE_VERSION,
    )


def programs_report(
    tables: dict[str, pd.DataFrame],
    frame: pd.DataFrame,
    predict: Callable[[pd.DataFrame], np.ndarray],
    n_boot: int = 300,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    rules: RuleSet | None = None,
) -> Report:
    """The programme ranker's report on a test-year candidate frame (``training.datasets``
    year frames concatenated); ``predict`` scores its FEATURES; ``rules`` the career pattern
    that says who can still advance before retirement (default: the settings' career rules,
    ``JENJANG_CAREER_RULES``, else the packaged ones). Raises ValueError when no one is left to
    measure, RulesError for a broken rules file."""
    if rules is None:
        rules = load_rules(get_settings().career_rules)
    score = np.asarray(predict(frame[list(PROGRAM_FEATURES)]), dtype=float)
    scored, people = programmes_scored(tables, build_catalog(tables), frame, score, rules)
    return measure(Kind.PROGRAMS.value, both_exposures(scored), people, n_boot, seed, min_group)


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
    kind = Kind.CAREERS.value
    return measure(kind, pd.concat(values), pd.concat(people), n_boot, seed, min_group)


def rows(report: Report) -> Iterator[tuple[str, str, str, str, str, str]]:
    """Printable rows of a report: attribute, group, n, mean exposure (the report's measure),
    95 % CI, and notes: small flag, people with nothing attainable, the raw mean beside."""
    for a in report.attributes:
        for g in a.groups:
            notes = [] if g.judged else [f"small (n < {report.min_group}): not judged"]
            if g.none_attainable:
                notes.append(f"{g.none_attainable} with nothing attainable")
            raw = group_or_none(a.raw, g.group)
            if raw is not None:
                notes.append(f"raw {raw.exposure:.3f} (n {raw.n})")
            interval = f"[{g.ci_low:.3f}, {g.ci_high:.3f}]"
            yield (a.attribute, g.group, str(g.n), f"{g.exposure:.3f}", interval, "; ".join(notes))


def ratio_line(a: AttributeFigure, min_group: int) -> str:
    """One attribute in words: its ratio (attainable exposure, the judged one, when ``a`` has
    raw figures beside it; adjusted for age band and grade, with the unadjusted ratio), interval
    and extreme groups, the small groups, the people excluded by law and those with nothing
    attainable, the ratio without the ranking policy and the raw ratio (reported, not
    judged)."""
    small = ", ".join(f"{g.group} (n={g.n})" for g in a.small)
    flagged = f"; small, not judged (n < {min_group}): {small}" if small else ""
    barred = ", ".join(f"{g.group} {g.excluded_legal}" for g in a.groups if g.excluded_legal)
    if barred:
        flagged += f"; cannot advance before retirement (excluded): {barred}"
    nothing = ", ".join(f"{g.group} {g.none_attainable}" for g in a.groups if g.none_attainable)
    if nothing:
        flagged += f"; nothing attainable (not measured): {nothing}"
    for label, other in (("unadjusted", a.unadjusted), ("without the policy", a.unconstrained)):
        if other is not None:
            flagged += f"; {label} " + _ratio_words(other, "(reported, not judged)")
    if a.raw is not None:
        flagged += "; raw " + _ratio_words(a.raw, "(reported, not judged)")
    what = "attainable " if a.raw is not None else ""
    if a.adjusted:
        what += "(adjusted) "
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
