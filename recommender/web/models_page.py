"""The model page: versions in use and their offline figures from the MLflow runs.

MLflow is asked only when the page is opened (never on the LMS request path); figures of a
run are kept per run id for ``ttl`` seconds. Besides the test-year metrics (``test.*``) and the
online ones (``online.*``), the page shows the exposure of career-advancing items by group
(``fairness.<kind>.<attribute>...``, logged by ``training.fairness``; docs/fairness.md): per
attribute the lowest-to-highest ratio of **attainable** exposure over the judged groups (the one
the promotion rule judges), the **raw** ratio beside it (``fairness.<kind>.raw.<attribute>...``,
reported, not judged), the groups flagged as small and the people with nothing attainable. A run
logged before attainable exposure (no ``fairness.<kind>.none_attainable``) has raw figures only:
they are shown as raw, and the judged ratio as not measured. Since issue 18
(``fairness.<kind>.gate_version`` 2) the judged ratio is that of the served order (the ranking
policy's) with its 95 % interval, which the rule gates on (age band and grade adjusted for tier,
years to retirement and eligibility, their unadjusted ratio beside); the page also shows the
unconstrained ranker's ratio (``fairness.<kind>.unconstrained...``), the people excluded because
no advancement is legally possible before retirement, and the policy's cost when the run logged
one (metrics whose name holds ``policy``, e.g. ``test.policy...``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from recommender import bundles
from recommender.config import Settings

log = logging.getLogger(__name__)

#: Column order of the figures (others follow alphabetically); counts and lifts are left out.
PREFERRED = (
    "ndcg_at_10",
    "recall_at_10",
    "hit_at_5",
    "mrr",
    "map_at_10",
    "ndcg_at_5",
    "hit_at_1",
    "coverage",
    "non_classical_jp_share",
    "priority_alignment",
    "parity.sex",
    "parity.region",
    "parity.grade",
)


#: Attributes of the exposure figures in display order (others follow alphabetically).
FAIRNESS_ORDER = ("sex", "region", "age_band", "grade")
#: The promotion rule's floor for the exposure ratio (training.fairness.MIN_RATIO).
MIN_EXPOSURE_RATIO = 0.8


@dataclass(frozen=True)
class FairnessRow:
    """One attribute of a run's exposure figures: ``ratio`` lowest/highest mean attainable
    exposure over the judged groups (None when fewer than two are judged, or when the run has
    raw figures only: ``attainable`` False), the judged groups with their mean exposure, the
    groups flagged as small as (group, people), ``raw_ratio`` the raw-exposure ratio (reported,
    not judged; None when not logged or not judged) and ``none_attainable`` (group, people with
    no attainable advancing candidate) for the groups that have any."""

    kind: str
    attribute: str
    ratio: float | None
    groups: list[tuple[str, float]]
    small: list[tuple[str, int]]
    raw_ratio: float | None = None
    none_attainable: list[tuple[str, int]] = field(default_factory=list)
    attainable: bool = True
    ci: tuple[float, float] | None = None
    adjusted: bool = False
    unadjusted_ratio: float | None = None
    unconstrained_ratio: float | None = None
    excluded_legal: list[tuple[str, int]] = field(default_factory=list)

    @property
    def below(self) -> bool:
        """Whether the rule fails this attribute: the upper end of the ratio's interval (the
        ratio itself without one) is under the promotion floor (0.8)."""
        if self.ratio is None:
            return False
        top = self.ci[1] if self.ci is not None else self.ratio
        return top < MIN_EXPOSURE_RATIO


@dataclass
class Figures:
    """Offline figures of one run: ``columns`` metric names, ``rows`` (scorer, values) with the
    model first and then the baselines; ``online`` the online.* metrics logged on the run;
    ``fairness`` the exposure figures per attribute (empty for a run trained before them)."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[float | None]]] = field(default_factory=list)
    online: dict[str, float] = field(default_factory=dict)
    fairness: list[FairnessRow] = field(default_factory=list)
    policy: dict[str, float] = field(default_factory=dict)
    excluded: dict[str, dict[str, float]] = field(default_factory=dict)


#: Figures logged beside the judged ones: ``fairness.<kind>.<sub>.<attribute>.ratio``.
SUBMEASURES = ("raw", "unadjusted", "unconstrained")


def _extras(metrics: dict[str, float]) -> dict[tuple[str, str], dict[str, float]]:
    """Per (kind, attribute): the ratios beside the judged one (``raw``, ``unadjusted``,
    ``unconstrained``), the judged ratio's interval and whether it is adjusted."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for key, value in metrics.items():
        parts = key.split(".")
        if parts[0] != "fairness" or len(parts) < 4:
            continue
        if parts[2] in SUBMEASURES and len(parts) == 5 and parts[4] == "ratio":
            out.setdefault((parts[1], parts[3]), {})[parts[2]] = float(value)
        elif len(parts) == 4 and parts[3] in ("ratio_ci_low", "ratio_ci_high", "adjusted"):
            out.setdefault((parts[1], parts[2]), {})[parts[3]] = float(value)
    return out


def _counted(found: dict[str, dict[str, float]], name: str) -> list[tuple[str, int]]:
    return [(g, int(v[name])) for g, v in sorted(found.items()) if v.get(name, 0) > 0]


def fairness_from_metrics(metrics: dict[str, float]) -> list[FairnessRow]:
    """``fairness.<kind>.<attribute>.ratio``, ``...<group>.{exposure,n,small,none_attainable}``
    and ``fairness.<kind>.raw.<attribute>.ratio`` metrics -> one row per (kind, attribute) in
    display order; a kind without the marker ``fairness.<kind>.none_attainable`` was logged
    before attainable exposure: its ratio is shown as raw. Raises nothing (other keys
    ignored)."""
    ratios: dict[tuple[str, str], float | None] = {}
    extras = _extras(metrics)
    groups: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for key, value in metrics.items():
        parts = key.split(".")
        if parts[0] != "fairness" or len(parts) < 4 or parts[2] in SUBMEASURES:
            continue
        where = (parts[1], parts[2])
        if len(parts) == 4 and parts[3] == "judged_groups":
            ratios.setdefault(where, None)
        elif len(parts) == 4 and parts[3] == "ratio":
            ratios[where] = float(value)
        elif len(parts) == 5:
            groups.setdefault(where, {}).setdefault(parts[3], {})[parts[4]] = float(value)
    rows = []
    for where in set(ratios) | set(groups):
        found = groups.get(where, {})
        judged = [
            (g, v["exposure"])
            for g, v in sorted(found.items())
            if v.get("small", 1.0) < 0.5 and "exposure" in v
        ]
        small = [
            (g, int(v.get("n", 0))) for g, v in sorted(found.items()) if v.get("small", 0) >= 0.5
        ]
        more = extras.get(where, {})
        if f"fairness.{where[0]}.none_attainable" in metrics:
            ci = (more["ratio_ci_low"], more["ratio_ci_high"]) if "ratio_ci_high" in more else None
            row = FairnessRow(
                where[0],
                where[1],
                ratios.get(where),
                judged,
                small,
                more.get("raw"),
                _counted(found, "none_attainable"),
                ci=ci if f"fairness.{where[0]}.gate_version" in metrics else None,
                adjusted=more.get("adjusted", 0.0) >= 0.5,
                unadjusted_ratio=more.get("unadjusted"),
                unconstrained_ratio=more.get("unconstrained"),
                excluded_legal=_counted(found, "excluded_legal"),
            )
        else:  # logged before attainable exposure: the figures are raw, nothing is judged
            row = FairnessRow(
                where[0], where[1], None, judged, small, ratios.get(where), [], attainable=False
            )
        rows.append(row)
    rank = {a: i for i, a in enumerate(FAIRNESS_ORDER)}
    rows.sort(key=lambda r: (r.kind, rank.get(r.attribute, len(rank)), r.attribute))
    return rows


def figures_from_metrics(metrics: dict[str, float]) -> Figures:
    """``test.<scorer>.<metric>`` metrics -> a table; raises nothing (unknown keys ignored)."""
    by_scorer: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        parts = key.split(".", 2)
        if len(parts) == 3 and parts[0] == "test":
            scorer, name = parts[1], parts[2]
            if name == "queries" or name.startswith(("vs_", "policy.")):
                continue  # the policy's cost has its own table
            by_scorer.setdefault(scorer, {})[name] = float(value)
    names = {n for values in by_scorer.values() for n in values}
    columns = [c for c in PREFERRED if c in names] + sorted(names - set(PREFERRED))
    order = sorted(by_scorer, key=lambda s: (s != "model", s))
    rows = [(s, [by_scorer[s].get(c) for c in columns]) for s in order]
    online = {k: float(v) for k, v in metrics.items() if k.startswith("online.")}
    policy = {
        k: float(v)
        for k, v in sorted(metrics.items())
        if "policy" in k and not k.startswith("fairness.")
    }
    excluded: dict[str, dict[str, float]] = {}
    for k, v in metrics.items():
        parts = k.split(".")
        if len(parts) == 3 and parts[0] == "fairness" and parts[2] in EXCLUSIONS:
            excluded.setdefault(parts[1], {})[parts[2]] = float(v)
    return Figures(columns, rows, online, fairness_from_metrics(metrics), policy, excluded)


#: Per kind, the people not in the judged figures and why (``fairness.<kind>.<name>``).
EXCLUSIONS = ("people", "excluded_top", "excluded_legal", "none_attainable")


class RunFigures:
    """Figures per MLflow run id, kept for ``ttl`` seconds (online metrics are added to a run
    later); None when MLflow cannot be reached."""

    def __init__(self, settings: Settings, ttl: float = 60.0, timeout: float = 3.0) -> None:
        self.settings = settings
        self.ttl = ttl
        self.timeout = timeout
        self._seen: dict[str, tuple[float, Figures | None]] = {}

    def get(self, run_id: str | None) -> Figures | None:
        """Figures of ``run_id``; None when there is no run or MLflow does not answer."""
        if not run_id:
            return None
        hit = self._seen.get(run_id)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        box: dict[str, Any] = {}

        def fetch() -> None:
            try:
                box["metrics"] = bundles.run_metrics(
                    tracking_uri=self.settings.mlflow_tracking_uri, run_id=run_id
                )
            except Exception as exc:  # MLflow down or the run gone: the page says so
                box["error"] = type(exc).__name__

        # MLflow's client retries for minutes when the server is down: wait ``timeout`` in a
        # daemon thread (it never holds the process open at exit)
        worker = threading.Thread(target=fetch, name="jenjang-mlflow-figures", daemon=True)
        worker.start()
        worker.join(self.timeout)
        found = figures_from_metrics(box["metrics"]) if "metrics" in box else None
        if found is None:
            log.warning("offline figures unavailable: %s", box.get("error", "timeout"))
        self._seen[run_id] = (time.monotonic(), found)
        return found
