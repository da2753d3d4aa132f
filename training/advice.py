"""Next-position advice for one person from the registered champions (CLI ``next-positions``).

Builds the organisation for a date with the service's own code
(:func:`recommender.state.build_world`: snapshot, catalogue, career rules and context, career
patterns), loads the careers champion (none -> standards-only ranking) and the programmes
champion's list for the person (for the path to eligible).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from recommender.careers.recommend import PathOptions, Scorer, as_dict
from recommender.careers.recommend import next_positions as rank_positions
from recommender.config import Settings
from recommender.programs.recommend import recommend
from recommender.state import World, build_world
from training.kinds import Kind
from training.registry import load_booster
from training.tracking import CHAMPION


def _champion(settings: Settings, kind: Kind) -> Scorer | None:
    try:
        ranker, _mv = load_booster(settings, kind.model_name, CHAMPION, kind.train_command)
    except LookupError:
        return None
    scorer: Scorer = ranker
    return scorer


def programme_list(world: World, scorer: Scorer, employee_id: str) -> pd.DataFrame:
    """The programme ranker's whole candidate list for the person, with title, JP and cost."""
    cat, snap = world.cat, world.snap
    ranked = recommend(snap, cat, world.usage, scorer, employee_id, snap.at.year, 150)
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
    world = build_world(settings, at, data)
    if employee_id not in world.snap.people.index:
        raise LookupError(f"no employee with that identifier is active on {at.date()}")
    scorer = _champion(settings, Kind.CAREERS)
    prog_scorer = _champion(settings, Kind.PROGRAMS)
    plist = programme_list(world, prog_scorer, employee_id) if prog_scorer else None
    names = world.tables["competencies"].set_index("competency_id")["name"].to_dict()
    options = PathOptions(plist, jp_limit, budget, names) if plist is not None else None
    found = rank_positions(
        world.careers, scorer, employee_id, k, world.patterns, options, eligible_only
    )
    return {
        "date": str(at.date()),
        "mode": found[0].mode if found else ("learned" if scorer else "standards"),
        "rules_version": world.careers.rules.version,
        "programme_model": prog_scorer is not None,
        "suggestions": [as_dict(s) for s in found],
    }
