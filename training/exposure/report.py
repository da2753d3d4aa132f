"""A model version's fairness report, from exposures to figures, and the report in words."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from recommender.programs.catalog import build_catalog
from recommender.programs.features import FEATURES as PROGRAM_FEATURES
from training.exposure.figures import (
    ATTAINABLE,
    AttributeFigure,
    Report,
    attribute_figure,
    group_or_none,
)
from training.exposure.measures import (
    ATTRIBUTES,
    MIN_GROUP,
    K,
    careers_exposure,
    exposures,
    programmes_scored,
)
from training.kinds import Kind


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
    score = np.asarray(predict(frame[list(PROGRAM_FEATURES)]), dtype=float)
    scored, people = programmes_scored(tables, build_catalog(tables), frame, score)
    return measure(Kind.PROGRAMS.value, exposures(scored), people, n_boot, seed, min_group)


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
