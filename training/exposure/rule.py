"""The promotion rule on the exposure figures logged on a run (attainable exposure judged,
raw exposure reported beside it)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from training.exposure.measures import ATTRIBUTES, MIN_RATIO


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


Check = Callable[[dict[str, float], dict[str, float] | None], tuple[bool, list[str]]]


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
    missing = _missing(new, kind, logged)
    if missing:
        return False, missing
    raw_new = from_metrics(new, kind, raw=True)
    old, old_raw = _champion_figures(champion, kind)
    ok, reasons = True, []
    for attr, fig in logged.items():
        raw = raw_new.get(attr)
        note = _notes(fig, raw)
        if not math.isfinite(fig.ratio):
            reasons.append(
                f"attainable exposure by {attr} not judged: fewer than two large groups{note}"
            )
            continue
        ok = _floor(attr, fig, min_ratio, note, reasons) and ok
        if old:
            ok = _versus_champion(attr, fig, old.get(attr), tolerance, reasons) and ok
        elif old_raw:
            reasons.append(_raw_versus_champion(attr, raw, old_raw.get(attr)))
    if old_raw:
        reasons.append(
            "the champion has raw exposure figures only (logged before attainable exposure): "
            "attainable ratios not compared with the champion's, only the "
            f"{min_ratio} floor applied"
        )
    elif champion is not None and not old:
        reasons.append("the champion has no exposure figures: not compared")
    return ok, reasons


def exposure_rule(*, kind: str, min_ratio: float = MIN_RATIO, tolerance: float = 0.0) -> Check:
    """:func:`gate` for ``kind`` as a check ``(new, champion) -> (ok, reasons)`` (what
    :func:`training.registry.with_fairness` combines with the quality check). Raises nothing."""

    def check(new: dict[str, float], champion: dict[str, float] | None) -> tuple[bool, list[str]]:
        return gate(new, champion, kind, min_ratio, tolerance)

    return check


def _missing(new: dict[str, float], kind: str, logged: dict[str, Logged]) -> list[str]:
    """The refusal when the candidate has no figures, or raw ones only; [] otherwise."""
    if not logged:
        return [
            f"no exposure figures on this run (trained before the fairness step): "
            f"`jenjang fairness {kind} --version <its version>` computes and logs them"
        ]
    if not has_attainable(new, kind):
        return [
            f"only raw exposure figures on this run (logged before attainable exposure, "
            f"docs/fairness.md), and the rule judges attainable exposure: "
            f"`jenjang fairness {kind} --version <its version>` recomputes and logs them"
        ]
    return []


def _champion_figures(
    champion: dict[str, float] | None, kind: str
) -> tuple[dict[str, Logged], dict[str, Logged]]:
    """(the champion's attainable figures, its raw-only figures); both empty without any."""
    if champion is None or not from_metrics(champion, kind):
        return {}, {}
    if has_attainable(champion, kind):
        return from_metrics(champion, kind), {}
    # the champion's figures predate attainable exposure: its ratios are raw
    return {}, from_metrics(champion, kind)


def _notes(fig: Logged, raw: Logged | None) -> str:
    """Small groups, people with nothing attainable and the raw ratio, as a reason's tail."""
    small = fig.small()
    note = f"; flagged, not judged (small): {', '.join(small)}" if small else ""
    if fig.none_attainable:
        listed = ", ".join(f"{g} {n}" for g, n in fig.none_attainable.items())
        note += f"; nothing attainable, not measured: {listed}"
    if raw is not None and math.isfinite(raw.ratio):
        note += f"; raw exposure ratio {raw.ratio:.3f} (reported, not gated)"
    return note


def _floor(attr: str, fig: Logged, min_ratio: float, note: str, reasons: list[str]) -> bool:
    """The ``min_ratio`` floor on one judged attribute; appends its reason."""
    low, high = fig.extreme(True), fig.extreme(False)
    span = f" ({low[0]} {low[1]:.3f} / {high[0]} {high[1]:.3f})" if low and high else ""
    if fig.ratio < min_ratio:
        reasons.append(
            f"attainable exposure ratio by {attr} is {fig.ratio:.3f} < {min_ratio}{span}{note}"
        )
        return False
    reasons.append(
        f"attainable exposure ratio by {attr} {fig.ratio:.3f} >= {min_ratio}{span}{note}"
    )
    return True


def _versus_champion(
    attr: str, fig: Logged, before: Logged | None, tolerance: float, reasons: list[str]
) -> bool:
    """One attribute against the champion's attainable ratio; appends its reason."""
    if before is None or not math.isfinite(before.ratio):
        reasons.append(
            f"attainable exposure ratio by {attr}: the champion's is not judged, not compared"
        )
        return True
    if fig.ratio < before.ratio - tolerance:
        slack = f" by more than {tolerance}" if tolerance else ""
        reasons.append(
            f"attainable exposure ratio by {attr} {fig.ratio:.3f} is worse than the "
            f"champion's {before.ratio:.3f}{slack}"
        )
        return False
    reasons.append(
        f"attainable exposure ratio by {attr} {fig.ratio:.3f} is not worse than the "
        f"champion's {before.ratio:.3f}"
    )
    return True


def _raw_versus_champion(attr: str, raw: Logged | None, before: Logged | None) -> str:
    """The raw ratios of the candidate and of a raw-only champion (information only)."""
    mine = f"{raw.ratio:.3f}" if raw is not None and math.isfinite(raw.ratio) else "-"
    theirs = f"{before.ratio:.3f}" if before and math.isfinite(before.ratio) else "-"
    return (
        f"raw exposure ratio by {attr} {mine}, the champion's raw {theirs} "
        "(information only, not gated)"
    )
