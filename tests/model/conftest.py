"""Fixtures of the model tests: the tiny organisation's clean tables and one trained ranker,
built once per session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# LightGBM's OpenMP threads spin while waiting by default; on a busy 2-core machine that makes a
# 2-thread fit 20-30x slower. Passive waiting keeps the suite fast (read when libgomp loads, so
# this must run before LightGBM is imported; it changes no result).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pandas as pd
import pytest

from recommender.data.io import load_clean
from recommender.programs.ranker import ProgramRanker
from recommender.snapshot import Snapshot
from training.datasets import YearFrame
from training.programs import ProgramsConfig

#: Small and fast; the behaviour tests do not need a good model, only a real one.
SMALL = ProgramsConfig(n_estimators=60, n_boot=20)


@pytest.fixture(scope="session")
def clean_tables_once(tiny_clean: Path) -> dict[str, pd.DataFrame]:
    """The tiny organisation's clean tables. Shared: never modify, use ``clean_tables``."""
    return load_clean(tiny_clean)


@pytest.fixture
def clean_tables(clean_tables_once: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A private deep copy of the clean tables (safe to modify in a test)."""
    return {name: df.copy(deep=True) for name, df in clean_tables_once.items()}


def spread_people(snap: Snapshot, n: int = 30) -> list[str]:
    """``n`` employee ids of ``snap``: one of every tier first, then evenly spread."""
    people = snap.people
    first = people.groupby("tier").head(1).index.tolist()
    rest = [e for e in people.index[:: max(1, len(people) // n)] if e not in first]
    return (first + rest)[:n]


@dataclass
class Trained:
    """A ranker fitted on the tiny organisation with :data:`SMALL`, and its year frames."""

    cfg: ProgramsConfig
    frames: dict[str, list[YearFrame]]
    ranker: ProgramRanker


@pytest.fixture(scope="session")
def trained(clean_tables_once: dict[str, pd.DataFrame]) -> Trained:
    """Frames of every split and a LambdaRank model fitted on them (once per session)."""
    from training.datasets import concat
    from training.programs import build_split_frames, fit_ranker

    frames = build_split_frames(clean_tables_once, SMALL, lambda _: None)
    ranker = fit_ranker(concat(frames["train"]), concat(frames["validation"]), SMALL)
    return Trained(SMALL, frames, ranker)
