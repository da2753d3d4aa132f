"""Next-position advice for one person from the registered champions (CLI ``next-positions``).

Assembles what :func:`recommender.careers.recommend.next_positions` needs for a date: the
snapshot, catalogue, career rules and context, the careers champion (none -> standards-only
ranking), the programmes champion's list for the person (for the path to eligible), and the
career patterns known before the date.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from recommender.careers.features import build_context
from recommender.careers.patterns import move_patterns
from recommender.careers.recommend import PathOptions, Scorer, as_dict
from recommender.careers.recommend import next_positions as rank_positions
from recommender.careers.rules import load_rules
from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.programs.catalog import build_catalog
from recommender.programs.features import build_usage
from recommender.programs.recommend import recommend
from recommender.snapshot import Snapshot, build_snapshot


def _champion(settings: Settings, module: Any) -> Scorer | None:
    try:
        ranker, _mv = module.load_registered(settings, "champion")
    except LookupError:
        return None
    scorer: Scorer = ranker
    return scorer


def programme_list(
    tables: dict[str, pd.DataFrame], snap: Snapshot, scorer: Scorer, employee_id: str
) -> pd.DataFrame:
    """The programme ranker's whole candidate list for the person, with title, JP and cost."""
    cat = build_catalog(tables)
    ranked = recommend(snap, cat, build_usage(tables, snap), scorer, employee_id, snap.at.year, 150)
    info = cat.programs[["program_id", "title", "jp", "cost_idr"]]
    return ranked[["program_id", "score", "rank"]].merge(info, on="program_id")


def next_positions(
    settings: Settings,
    data: Path,
    employee_id: str,
    at: pd.Timestamp,
    k: int = 5,
    eligible_only: bool = False,
    jp_limit: int = 80,
    budget: float | None = None,
) -> dict[str, Any]:
    """JSON-able advice: date, mode, rules version and the suggestions.

    Raises LookupError (in words, without the identifier) when the person is not active on
    ``at``, and RulesError for a broken rules file.
    """
    from training import careers, programs

    tables = load_clean(data)
    snap = build_snapshot(tables, at)
    if employee_id not in snap.people.index:
        raise LookupError(f"no employee with that identifier is active on {at.date()}")
    cat = build_catalog(tables)
    rules = load_rules(settings.career_rules)
    ctx = build_context(tables, snap, cat, rules)
    scorer = _champion(settings, careers)
    prog_scorer = _champion(settings, programs)
    plist = programme_list(tables, snap, prog_scorer, employee_id) if prog_scorer else None
    patterns = move_patterns(
        tables["career_moves"], tables["enrollments"], tables["positions"], snap.at
    )
    names = tables["competencies"].set_index("competency_id")["name"].to_dict()
    options = PathOptions(plist, jp_limit, budget, names) if plist is not None else None
    found = rank_positions(ctx, scorer, employee_id, k, patterns, options, eligible_only)
    return {
        "date": str(at.date()),
        "mode": found[0].mode if found else ("learned" if scorer else "standards"),
        "rules_version": rules.version,
        "programme_model": prog_scorer is not None,
        "suggestions": [as_dict(s) for s in found],
    }
