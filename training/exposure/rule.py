"""The promotion rule on the exposure figures logged on a run (issue 18).

Judged: the attainable exposure of the served order (the ranking policy's); sex and region by
the plain ratio of group means, age band and grade by the ratio of means adjusted for tier,
years to retirement and eligibility; people for whom no advancement is legally possible before
retirement excluded and counted. An attribute **fails** when the upper end of the ratio's 95 %
bootstrap interval is below the floor (the data show, beyond sampling noise, that the lowest
judged group gets less than ``min_ratio`` of the highest's exposure); groups under 100 people
are flagged, not judged. Every reason starts with its verdict: ``passed:``, ``failed:``,
``not judged:`` or ``note:``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from training.exposure.figures import GATE_VERSION
from training.exposure.measures import ATTRIBUTES, MIN_RATIO

#: Figures logged beside the judged ones, under ``fairness.<kind>.<sub>.<attribute>...``.
SUBMEASURES = ("raw", "unadjusted", "unconstrained")
PASSED, FAILED, NOT_JUDGED, NOTE = "passed: ", "failed: ", "not judged: ", "note: "


@dataclass(frozen=True)
class Logged:
    """One attribute's figures as read back from a run's metrics: the ratio (NaN when not
    judged), group -> (exposure, n, small) and group -> people with nothing attainable."""

    attribute: str
    ratio: float
    groups: dict[str, tuple[float, int, bool]]
    none_attainable: dict[str, int] = field(default_factory=dict)
    ci: tuple[float, float] = (math.nan, math.nan)
    adjusted: bool = False
    excluded_legal: dict[str, int] = field(default_factory=dict)

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
    skip = tuple(f"fairness.{kind}.{sub}." for sub in SUBMEASURES)
    ratios: dict[str, float] = {}
    extra: dict[str, dict[str, float]] = {}
    groups: dict[str, dict[str, dict[str, float]]] = {}
    for key, value in metrics.items():
        if not key.startswith(prefix) or (not raw and key.startswith(skip)):
            continue
        parts = key[len(prefix) :].split(".")
        if len(parts) == 2 and parts[1] == "judged_groups":
            ratios.setdefault(parts[0], math.nan)
        elif len(parts) == 2 and parts[1] == "ratio":
            ratios[parts[0]] = float(value)
        elif len(parts) == 2 and parts[1] in ("ratio_ci_low", "ratio_ci_high", "adjusted"):
            extra.setdefault(parts[0], {})[parts[1]] = float(value)
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
        legal = {g: int(v["excluded_legal"]) for g, v in found if v.get("excluded_legal")}
        more = extra.get(attr, {})
        ci = (more.get("ratio_ci_low", math.nan), more.get("ratio_ci_high", math.nan))
        adjusted = more.get("adjusted", 0.0) >= 0.5
        out[attr] = Logged(attr, ratios.get(attr, math.nan), figures, none, ci, adjusted, legal)
    return out


def has_gate_figures(metrics: dict[str, float] | None, kind: str) -> bool:
    """Whether a run's metrics hold the figures this rule judges (``fairness.<kind>.gate_version``
    at least :data:`~training.exposure.figures.GATE_VERSION`)."""
    return metrics is not None and metrics.get(f"fairness.{kind}.gate_version", 0) >= GATE_VERSION


def is_failure(reason: str) -> bool:
    """Whether a reason of :func:`gate` is a failed check (it starts with ``failed:``)."""
    return reason.startswith(FAILED)


Check = Callable[[dict[str, float], dict[str, float] | None], tuple[bool, list[str]]]


def gate(
    new: dict[str, float],
    champion: dict[str, float] | None,
    kind: str,
    min_ratio: float = MIN_RATIO,
    tolerance: float = 0.0,
) -> tuple[bool, list[str]]:
    """The promotion rule on the logged exposure figures of a candidate run (and the
    champion's); the module docstring says what is judged.

    Refuses when the candidate has no figures of this rule (none, raw only, or logged before
    :data:`~training.exposure.figures.GATE_VERSION`: recompute them), when an attribute's
    ratio interval lies wholly below ``min_ratio``, or wholly below the champion's ratio minus
    ``tolerance`` (a champion with figures of this version only). Attributes with fewer than
    two judged groups are reported, not judged; small groups, people with nothing attainable
    and people excluded by law are named; the raw ratio is reported beside, never gated.
    Returns (ok, reasons, each starting with its verdict). Raises nothing.
    """
    logged = from_metrics(new, kind)
    missing = _missing(new, kind, logged)
    if missing:
        return False, missing
    raw_new = from_metrics(new, kind, raw=True)
    old = from_metrics(champion, kind) if champion and has_gate_figures(champion, kind) else {}
    ok, reasons = True, []
    for attr, fig in logged.items():
        note = _notes(fig, raw_new.get(attr))
        if not math.isfinite(fig.ratio):
            reasons.append(
                f"{NOT_JUDGED}{_what(fig)} by {attr}: fewer than two groups of 100+{note}"
            )
            continue
        ok = _floor(attr, fig, min_ratio, note, reasons) and ok
        if old:
            ok = _versus_champion(attr, fig, old.get(attr), tolerance, reasons) and ok
    if champion is not None and not old:
        reasons.append(
            f"{NOTE}the champion has no exposure figures of this rule (version {GATE_VERSION}): "
            "not compared with it, only the floor applied"
        )
    return ok, reasons


def exposure_rule(*, kind: str, min_ratio: float = MIN_RATIO, tolerance: float = 0.0) -> Check:
    """:func:`gate` for ``kind`` as a check ``(new, champion) -> (ok, reasons)`` (what
    :func:`training.registry.with_fairness` combines with the quality check). Raises nothing."""

    def check(new: dict[str, float], champion: dict[str, float] | None) -> tuple[bool, list[str]]:
        return gate(new, champion, kind, min_ratio, tolerance)

    return check


def _missing(new: dict[str, float], kind: str, logged: dict[str, Logged]) -> list[str]:
    """The refusal when the candidate has no figures of this rule; [] otherwise."""
    again = f"`jenjang fairness {kind} --version <its version>` recomputes and logs them"
    if not logged:
        return [
            f"{FAILED}no exposure figures on this run (trained before the fairness step): {again}"
        ]
    if not has_gate_figures(new, kind):
        return [
            f"{FAILED}the exposure figures on this run predate the rule of issue 18 (served "
            f"order, horizon, legal exclusions, like-with-like age band and grade): {again}"
        ]
    return []


def _what(fig: Logged) -> str:
    if fig.adjusted:
        return "attainable exposure (adjusted for tier, years to retirement and eligibility)"
    return "attainable exposure"


def _notes(fig: Logged, raw: Logged | None) -> str:
    """Small groups, people with nothing attainable or excluded by law and the raw ratio, as a
    reason's tail."""
    small = fig.small()
    note = f"; flagged, not judged (small): {', '.join(small)}" if small else ""
    if fig.excluded_legal:
        listed = ", ".join(f"{g} {n}" for g, n in fig.excluded_legal.items())
        note += f"; no advancement legally possible before retirement, excluded: {listed}"
    if fig.none_attainable:
        listed = ", ".join(f"{g} {n}" for g, n in fig.none_attainable.items())
        note += f"; nothing attainable, not measured: {listed}"
    if raw is not None and math.isfinite(raw.ratio):
        note += f"; raw exposure ratio {raw.ratio:.3f} (reported, not gated)"
    return note


def _floor(attr: str, fig: Logged, min_ratio: float, note: str, reasons: list[str]) -> bool:
    """The ``min_ratio`` floor on one judged attribute's interval; appends its reason."""
    low, high = fig.extreme(True), fig.extreme(False)
    span = f" ({low[0]} {low[1]:.3f} / {high[0]} {high[1]:.3f})" if low and high else ""
    lo, hi = fig.ci
    shown = f"{fig.ratio:.3f} [{lo:.3f}, {hi:.3f}]"
    if not math.isfinite(hi):
        hi = fig.ratio  # figures without an interval: the point estimate
    if hi < min_ratio:
        reasons.append(
            f"{FAILED}{_what(fig)} ratio by {attr} {shown}: the whole 95 % interval is below "
            f"{min_ratio}{span}{note}"
        )
        return False
    reasons.append(
        f"{PASSED}{_what(fig)} ratio by {attr} {shown}: the 95 % interval reaches "
        f"{min_ratio}{span}{note}"
    )
    return True


def _versus_champion(
    attr: str, fig: Logged, before: Logged | None, tolerance: float, reasons: list[str]
) -> bool:
    """One attribute against the champion's ratio (the interval's upper end must reach the
    champion's ratio minus ``tolerance``); appends its reason."""
    if before is None or not math.isfinite(before.ratio):
        reasons.append(
            f"{NOTE}exposure ratio by {attr}: the champion's is not judged, not compared"
        )
        return True
    hi = fig.ci[1] if math.isfinite(fig.ci[1]) else fig.ratio
    if hi < before.ratio - tolerance:
        slack = f" minus {tolerance}" if tolerance else ""
        reasons.append(
            f"{FAILED}exposure ratio by {attr} {fig.ratio:.3f} (interval up to {hi:.3f}) is "
            f"below the champion's {before.ratio:.3f}{slack}"
        )
        return False
    reasons.append(
        f"{PASSED}exposure ratio by {attr} {fig.ratio:.3f} (interval up to {hi:.3f}) is not "
        f"below the champion's {before.ratio:.3f}"
    )
    return True
