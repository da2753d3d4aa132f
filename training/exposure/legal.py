"""What the law lets a person reach: higher posts open now or within the horizon, and whether
any advancement is legally possible before retirement (issue 18).

Everything comes from the recommender's career-pattern verdict with a horizon
(:func:`recommender.careers.horizon.horizons` on the (person, position) pairs of
:mod:`recommender.careers.features`); nothing is re-implemented here:

* a higher post (``tier_step > 0``) is **attainable** when the person is eligible for it now or
  within :data:`~recommender.careers.horizon.HORIZON_MONTHS` months (``Horizons.within``);
* a higher post is **legally reachable** unless the law bars it: no rule of the career pattern
  covers the move, an age cap bars it now, or the conditions that time meets (years in post,
  ratings, grade, credit points), dated under the horizon's projection, are met only at or
  after the person's retirement age (BUP: 58 / 60 / 65, ``retirement_age`` of their current
  post) or beyond the rule's age cap. A condition the projection cannot date (no rating on
  record, a grade above the current post's range) counts as met now in that lower bound, and
  conditions the person can act on (education, a required course, a vacancy) never make a move
  illegal: the exclusion is for the retirement age and the age caps only;
* a person with no legally reachable higher post is **excluded** from the judged measure and
  counted (``excluded_legal``): no ranking can advance them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.careers import features as career_features
from recommender.careers.horizon import ACCRUING, DAYS_PER_YEAR, HORIZON_MONTHS, horizons
from recommender.careers.rules import RuleSet

#: Person-level columns of :func:`legal_people`.
LEGAL_COLUMNS = ("legal", "n_within", "n_now", "years_to_retirement")


def pair_verdicts(
    *, rules: RuleSet, pairs: pd.DataFrame, at: pd.Timestamp, bup: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (person, position) pair: (attainable, legal, now), three bool arrays (n_pairs,).

    ``pairs``: the pair columns of :mod:`recommender.careers.features` (``p_*``, ``t_*``, as
    ``candidate_frame(..., detail=True)`` or the features' pairs carry them), ``at`` the
    decision date, ``bup`` (n_pairs,) the retirement age of each person's current post (NaN
    when unknown: no retirement bound). ``attainable``: higher tier and eligible within the
    horizon; ``legal``: higher tier and legally reachable before retirement (module
    docstring); ``now``: higher tier and eligible now. Raises KeyError naming a missing column.
    """
    step = pairs["t_tier_level"].to_numpy(float) - pairs["p_tier_level"].to_numpy(float)
    higher = step > 0
    h = horizons(rules, pairs, at)
    attainable = higher & h.within(months=HORIZON_MONTHS)
    now = higher & h.eligible_now
    # a lower bound of the time to eligibility: the latest date among the conditions time can
    # date (a condition it cannot date, e.g. no rating on record, is not a legal bar)
    dated = np.vstack([np.where(np.isfinite(h.met_in[c]), h.met_in[c], 0.0) for c in ACCRUING])
    wait = dated.max(axis=0)
    age = pairs["p_age"].to_numpy(float)
    then = age + wait / DAYS_PER_YEAR
    caps = np.array(
        [np.nan if r.conditions.max_age is None else r.conditions.max_age for r in rules.rules]
        + [np.nan]
    )
    cap = caps[np.where(h.rule >= 0, h.rule, len(rules.rules))]
    with np.errstate(invalid="ignore"):
        before = np.isnan(bup) | (then < bup)
        capped = ~np.isnan(cap) & (np.floor(then) > cap)
    legal = higher & (h.rule >= 0) & (h.met_in["age"] == 0) & before & ~capped
    return attainable, legal | now, now


def legal_people(
    *, ctx: career_features.CareerContext, rows: np.ndarray, batch: int = 256
) -> pd.DataFrame:
    """Per person at snapshot ``rows`` of ``ctx`` (a CareerContext of one 1 January): ``legal``
    (bool: some higher post is legally reachable before retirement), ``n_within`` (higher posts
    eligible now or within the horizon), ``n_now`` (eligible now) and ``years_to_retirement``
    (retirement age of the current post - age; NaN when unknown). Indexed by employee_id, in
    ``rows`` order; ``batch`` people at a time. Raises IndexError for rows outside."""
    parts = []
    bups = retirement_ages(ctx=ctx)
    for i in range(0, len(rows), batch):
        chunk = np.asarray(rows[i : i + batch], dtype=int)
        pairs = career_features._pairs(ctx, chunk)
        parts.append(person_verdicts(ctx=ctx, pairs=pairs, bups=bups))
    if not parts:
        return pd.DataFrame(columns=list(LEGAL_COLUMNS))
    return pd.concat(parts)


def retirement_ages(*, ctx: career_features.CareerContext) -> pd.Series:
    """The retirement age (BUP) of each person's current post, float, indexed by employee_id
    (NaN when the post is unknown)."""
    by_post = ctx.positions.set_index("position_id")["retirement_age"].astype(float)
    out: pd.Series = ctx.snap.people["position_id"].map(by_post).astype(float)
    return out


def person_verdicts(
    *, ctx: career_features.CareerContext, pairs: pd.DataFrame, bups: pd.Series
) -> pd.DataFrame:
    """:func:`legal_people` for the people of ``pairs`` (one block of persons' pairs with
    ``employee_id``); ``bups``: :func:`retirement_ages`. Raises KeyError for a missing
    column."""
    ids = pairs["employee_id"].to_numpy()
    bup = bups.reindex(pd.Index(ids)).to_numpy(float)
    verdicts = pair_verdicts(rules=ctx.rules, pairs=pairs, at=ctx.snap.at, bup=bup)
    return aggregate(ctx=ctx, ids=ids, verdicts=verdicts, bups=bups)


def aggregate(
    *,
    ctx: career_features.CareerContext,
    ids: np.ndarray,
    verdicts: tuple[np.ndarray, np.ndarray, np.ndarray],
    bups: pd.Series,
) -> pd.DataFrame:
    """Per person of ``ids`` (n_pairs,) the :data:`LEGAL_COLUMNS` from the pair verdicts
    (attainable, legal, now) of :func:`pair_verdicts`, indexed by employee_id in first-seen
    order."""
    attainable, legal, now = verdicts
    frame = pd.DataFrame({"employee_id": ids, "legal": legal, "n_within": attainable, "n_now": now})
    out = frame.groupby("employee_id", sort=False).agg(
        legal=("legal", "any"), n_within=("n_within", "sum"), n_now=("n_now", "sum")
    )
    age = ctx.snap.people["age"].reindex(out.index).to_numpy(float)
    out["years_to_retirement"] = bups.reindex(out.index).to_numpy(float) - age
    return out
