"""The yearly development plan: at least 20 JP within the budget, closing the largest
priority-weighted competency gaps, solved as a small MILP, every item with its reason.

Public API::

    PlanRequest, Plan, PlanItem, Raise          # inputs and outputs (plans.model)
    make_plan(request) -> Plan                  # solve one request (plans.plan)
    plan_for(snap, cat, sessions, employee_id, year, budget, ...) -> Plan   # from the org state
    seats_left(sessions, enrollments)           # seats minus live bookings
    SESSION_FREE                                # modalities that need no session

The objective and constraints are documented in :mod:`recommender.plans.solve`; which
programmes can be booked how (sessions, seats, session-free modalities) in
:mod:`recommender.plans.options`; the words in both languages in :mod:`recommender.plans.texts`.
"""

from recommender.plans.build import TARGET_SHARE, plan_for, seats_left, sessions_in_year
from recommender.plans.model import Plan, PlanItem, PlanRequest, Raise
from recommender.plans.options import SESSION_FREE
from recommender.plans.plan import make_plan
from recommender.plans.solve import COST_TIE, RANK_WEIGHT

__all__ = [
    "COST_TIE",
    "RANK_WEIGHT",
    "SESSION_FREE",
    "TARGET_SHARE",
    "Plan",
    "PlanItem",
    "PlanRequest",
    "Raise",
    "make_plan",
    "plan_for",
    "seats_left",
    "sessions_in_year",
]
