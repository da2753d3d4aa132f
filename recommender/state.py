"""The serving state: the organisation as of a date (:class:`World`) and the verified models
(:class:`Models`), and how both are built and loaded.

Everything here is built once (at start-up and on reload) and then only read: the service swaps
whole references, never mutates a model, and marks completions in the snapshot under its lock.
MLflow is touched only when models are (re)loaded (:mod:`recommender.bundles`).
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recommender import bundles
from recommender.careers.features import CareerContext, build_context
from recommender.careers.patterns import PatternTable, move_patterns
from recommender.careers.rules import load_rules
from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.programs.catalog import Catalog, build_catalog
from recommender.programs.features import Usage, build_usage
from recommender.programs.ranker import ModelIntegrityError, ProgramRanker
from recommender.snapshot import Snapshot, build_snapshot

log = logging.getLogger(__name__)


@dataclass
class World:
    """The organisation as of ``snap.at``: tables, snapshot, catalogue, usage, careers context
    and career patterns."""

    tables: dict[str, pd.DataFrame]
    snap: Snapshot
    cat: Catalog
    usage: Usage
    careers: CareerContext
    patterns: PatternTable
    year: int


@dataclass(frozen=True)
class Models:
    """Verified bundles and their parsed rankers (None when a model could not be loaded)."""

    bundles: dict[str, bundles.Bundle]
    rankers: dict[str, ProgramRanker]

    def version(self, name: str) -> str | None:
        """Registry version of ``name`` or None."""
        b = self.bundles.get(name)
        return b.version if b else None


def build_world(
    settings: Settings, at: pd.Timestamp | None = None, clean_dir: Path | None = None
) -> World:
    """Load the clean tables (``clean_dir``, default ``settings.clean_dir``) and build everything
    requests need, as of ``at`` (default: today).

    Raises FileNotFoundError / DataSourceError when the clean tables are missing, RulesError
    for a broken career-rules file.
    """
    at = pd.Timestamp(at) if at is not None else pd.Timestamp.today().normalize()
    tables = load_clean(clean_dir or settings.clean_dir)
    snap = build_snapshot(tables, at)
    cat = build_catalog(tables)
    rules = load_rules(settings.career_rules)
    return World(
        tables=tables,
        snap=snap,
        cat=cat,
        usage=build_usage(tables, snap),
        careers=build_context(tables, snap, cat, rules),
        patterns=move_patterns(
            tables["career_moves"], tables["enrollments"], tables["positions"], at
        ),
        year=at.year,
    )


def load_models(settings: Settings, previous: Models | None = None) -> Models:
    """Champions of every model (registry first, else the verified local copy). A model that
    cannot be loaded or verified keeps its previous version when there is one."""
    found: dict[str, bundles.Bundle] = {}
    rankers: dict[str, ProgramRanker] = {}
    for name in bundles.MODEL_NAMES:
        try:
            bundle = bundles.resolve(settings, name)
            ranker = bundle.ranker()
            ranker.predict_threads = 1  # a request scores a few hundred rows: no thread pool
            rankers[name] = ranker
            found[name] = bundle
        except (bundles.BundleError, ModelIntegrityError) as exc:
            log.warning("model %s not loaded: %s", name, exc)
            if previous is not None and name in previous.bundles:
                found[name] = previous.bundles[name]
                rankers[name] = previous.rankers[name]
    return Models(found, rankers)


def settle_memory() -> None:
    """After building the long-lived state: collect once, then move everything alive into the
    permanent generation so later full collections do not walk it (on the demo, full
    collections over ~350,000 long-lived objects paused the process ~200 ms each)."""
    gc.collect()
    gc.freeze()
