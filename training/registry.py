"""Registry operations shared by every model: load a verified booster, gate, promote.

A model is registered under a name (``jenjang-programs``, ``jenjang-careers``); ``challenger`` is
set by training, ``champion`` only by :func:`promote` after the gate (quality over the champion by
a margin, parity by group, and with :func:`with_fairness` the attainable exposure of
career-advancing items by group, raw exposure reported beside it, docs/fairness.md). Decisions and
their reasons are logged on the candidate's run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recommender.bundles import load_run_ranker
from recommender.config import Settings
from recommender.programs.ranker import ProgramRanker, sha256_text
from training import tracking

Gate = Callable[[dict[str, float], dict[str, float] | None], tuple[bool, list[str]]]


def model_version(settings: Settings, name: str, alias_or_version: str, train_cmd: str) -> Any:
    """The registered version at an alias or number; raises LookupError naming the command
    that creates it."""
    if alias_or_version.isdigit():
        try:
            return tracking.client(settings).get_model_version(name, alias_or_version)
        except Exception as exc:  # MlflowException: no such version
            raise LookupError(f"no model {name} version {alias_or_version}") from exc
    mv = tracking.version_for(settings, name, alias_or_version)
    if mv is None:
        raise LookupError(f"no model {name}@{alias_or_version}: run `{train_cmd}` first")
    return mv


def load_booster(
    settings: Settings, name: str, alias_or_version: str, train_cmd: str
) -> tuple[ProgramRanker, Any]:
    """Load a registered booster from its text artifact after checking its SHA-256.

    Raises LookupError (no such model) or ModelIntegrityError (hash mismatch).
    """
    mv = model_version(settings, name, alias_or_version, train_cmd)
    return load_run_ranker(settings=settings, run_id=str(mv.run_id)), mv


def gate(
    new: dict[str, float],
    champion: dict[str, float] | None,
    key: str,
    label: str,
    margin: float,
    min_parity: float,
    parity_groups: tuple[str, ...] | None = None,
) -> tuple[bool, list[str]]:
    """Beat the champion's ``key`` metric by ``margin`` and keep each gated group's parity
    ratio (``test.model.parity.<group>``) at or above ``min_parity`` (all groups when
    ``parity_groups`` is None). Returns (ok, reasons in words)."""
    reasons: list[str] = []
    ok = True
    for name, value in sorted(new.items()):
        if not name.startswith("test.model.parity."):
            continue
        group = name.rsplit(".", 1)[1]
        if parity_groups is not None and group not in parity_groups:
            reasons.append(f"parity by {group} {value:.3f} (reported, not gated)")
        elif value < min_parity:
            ok = False
            reasons.append(f"parity by {group} is {value:.3f} < {min_parity}")
        else:
            reasons.append(f"parity by {group} {value:.3f} >= {min_parity}")
    if champion is None:
        reasons.append(f"no champion yet; {label} {new[key]:.4f}")
    elif new[key] <= champion[key] + margin:
        ok = False
        reasons.append(
            f"{label} {new[key]:.4f} does not beat the champion's "
            f"{champion[key]:.4f} by the margin {margin}"
        )
    else:
        reasons.append(f"{label} {new[key]:.4f} beats the champion's {champion[key]:.4f}")
    return ok, reasons


def with_fairness(*, check: Gate, fairness_check: Gate, override: str | None = None) -> Gate:
    """``check`` followed by ``fairness_check`` (the exposure rule,
    :func:`training.fairness.exposure_rule`): both must pass; the reasons of both are kept, in
    order. Raises nothing.

    ``override``: a person's written reason to accept a model that fails only the exposure
    rule; the failure and the reason stay in the reasons (logged on the run)."""

    def both(new: dict[str, float], champion: dict[str, float] | None) -> tuple[bool, list[str]]:
        ok, reasons = check(new, champion)
        fair_ok, fair_reasons = fairness_check(new, champion)
        if not fair_ok and override:
            fair_ok = True
            fair_reasons = [*fair_reasons, f"exposure rule overridden: {override}"]
        return ok and fair_ok, reasons + fair_reasons

    return both


def promote(
    settings: Settings, name: str, candidate: str, check: Gate, train_cmd: str
) -> dict[str, Any]:
    """Move ``champion`` to the candidate version if ``check`` passes; log the decision.

    Returns {"decision": promoted | refused | unchanged, "version", "champion_before",
    "reasons"}. Raises LookupError when the candidate does not exist.
    """
    mv = model_version(settings, name, candidate, train_cmd)
    champ = tracking.version_for(settings, name, tracking.CHAMPION)
    if champ is not None and champ.version == mv.version:
        return {
            "decision": "unchanged",
            "version": mv.version,
            "reasons": [f"version {mv.version} is already the champion"],
        }
    new = tracking.run_metrics(settings, mv.run_id)
    old = tracking.run_metrics(settings, champ.run_id) if champ is not None else None
    ok, reasons = check(new, old)
    decision = {
        "decision": "promoted" if ok else "refused",
        "version": mv.version,
        "champion_before": champ.version if champ is not None else None,
        "reasons": reasons,
    }
    if ok:
        tracking.set_alias(settings, name, tracking.CHAMPION, mv.version)
    tracking.log_decision(settings, mv.run_id, decision)
    return decision


def log_and_register(
    settings: Settings,
    experiment: str,
    model_name: str,
    ranker: ProgramRanker,
    params: dict[str, Any],
    results: dict[str, Any],
    figures: dict[str, Any],
    example: Any,
    extra_meta: dict[str, Any] | None = None,
) -> tracking.Registered:
    """One MLflow run: params, test metrics of every ranker (flattened), the evaluation JSON,
    figures (``plots/<name>.png``), the booster text with its SHA-256 and a models-from-code
    pyfunc; registered under ``model_name`` and aliased ``challenger``."""
    text = ranker.to_text()
    meta = {
        "sha256": sha256_text(text),
        "features": ranker.feature_names_,
        "best_iteration": ranker.best_iteration_,
        "format": "lightgbm-text",
        **(extra_meta or {}),
    }
    with tracking.run(settings, experiment, experiment.removeprefix("jenjang-")) as active:
        tracking.log_params(params=params)
        tracking.log_metrics(metrics=tracking.flat_metrics(results, "test"))
        tracking.log_json(results, "evaluation/test.json")
        for name, fig in figures.items():
            tracking.log_figure(fig, f"plots/{name}.png")
        version = tracking.log_booster_model(text, meta, model_name, example)
        run_id = active.info.run_id
    tracking.set_alias(settings, model_name, tracking.CHALLENGER, version)
    return tracking.Registered(run_id, version, model_name)
