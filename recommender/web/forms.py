"""Form and query input of the HR pages: the needs report's budget and the review form.

Problems are raised as :class:`BadInputError` (a 400 page with the page's words for ``code``)
or :class:`~recommender.web.views.DecisionError` (back to the employee page naming the
problem); nothing sent is echoed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recommender.service import Service
from recommender.store import repo
from recommender.web import auth, views
from recommender.web.i18n import text

DECISIONS = ("approve", "reject", "replace")
#: Problems a review form can have, each with the page's words ``error_<code>``.
DECISION_ERRORS = ("decision", "text", "reason", "replacement", "not_shown")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_REASON = 1000


class BadInputError(ValueError):
    """A page parameter that makes no sense (answered 400 with the page's words for
    ``code``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_budget(value: str | None) -> float | None:
    """The report's budget from the form ("1.500.000", "1,500,000" or "1500000"; empty = the
    default, None); raises BadInputError("error_budget") for anything else or outside
    0..1e13."""
    if value is None or not value.strip():
        return None
    try:
        budget = float(value.replace(".", "").replace(",", "").strip())
    except ValueError:
        raise BadInputError("error_budget") from None
    if not 0 <= budget <= 1e13:
        raise BadInputError("error_budget")
    return round(budget)


@dataclass(frozen=True)
class ReviewForm:
    """A reviewer's decision on one shown item, as sent by the employee page."""

    request_id: str
    item_kind: str
    item_id: str
    decision: str
    reason: str
    replacement_id: str


def _replacement(service: Service, form: ReviewForm) -> str | None:
    """The replacing programme of a ``replace`` decision (None for the others); raises
    DecisionError."""
    replacement = form.replacement_id.strip() or None
    if form.decision != "replace":
        return None
    if form.item_kind != "program":
        raise views.DecisionError("decision", "decision: only a program can be replaced")
    if replacement is None or replacement not in service.world.cat.ids:
        raise views.DecisionError("replacement", "replacement_id: not in the catalogue")
    if replacement == form.item_id:
        raise views.DecisionError("replacement", "replacement_id: the same program")
    return replacement


def store_review(
    *, service: Service, viewer: auth.Viewer, employee_id: str, lang: str, form: ReviewForm
) -> str:
    """Validate a review form and store it; returns the item id. Raises DecisionError (its
    ``code`` one of :data:`DECISION_ERRORS`) or ValueError from the store's checks."""
    if form.decision not in DECISIONS or form.item_kind not in ("program", "position"):
        raise views.DecisionError("decision", "decision / item_kind: not a known choice")
    reason = form.reason.strip()
    sent = form.request_id + form.item_id + form.replacement_id
    if CONTROL.search(reason) or CONTROL.search(sent):
        raise views.DecisionError("text", "control characters in the form")
    if form.decision in ("reject", "replace") and not reason:
        raise views.DecisionError("reason", "reason: required to reject or replace")
    replacement = _replacement(service, form)
    served = views.served_item(service, employee_id, form.request_id, form.item_kind, form.item_id)
    assert service.store is not None  # served_item checked it
    with service.store.begin() as session:
        repo.add_review(
            session,
            employee_id=employee_id,
            item_kind=form.item_kind,
            item_id=form.item_id,
            decision=form.decision,
            reason=reason or text(lang, "decision_approve"),
            reviewer=viewer.username,
            request_id=served.request_id,
            replacement_id=replacement,
            model_version=served.model_version,
        )
    return form.item_id
