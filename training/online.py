"""Online metrics per model version, from the audit trail and the LMS events, logged to MLflow.

Served items come from ``recommendation_log`` (one row per served list, items with ids and
scores). Events (not voided) are attributed to a served item:

1. by ``request_id`` when the event carries one and names an item of that list;
2. otherwise to the latest list served to the same person, before the event (allowing
   :data:`CLOCK_SKEW` for the LMS clock) and within ``window_days``, that contains the
   programme (an xAPI ``completed`` without a request id still counts for the list that
   recommended the programme).

Lists shown on the HR review pages (endpoint ``review:...``) are not LMS traffic and are left
out of these rates. HR decisions (table ``reviews``) give, per model version of the reviewed
list, ``hr_reviews`` and ``hr_approval_rate`` (approved / reviewed; a replacement counts as not
approved).

Per model name and version: ``lists``, ``served_items``, ``impressions`` (impression events;
the served items when the LMS sends none), and the rates ``click_rate``, ``enrol_rate``,
``completion_rate`` (complete or pass) and ``dismiss_rate`` per impression. Each figure is
logged as ``online.<name>`` on the training run of that registered version.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from recommender.config import Settings
from recommender.store.db import make_engine, make_sessionmaker
from recommender.store.models import Event, RecommendationLog, Review
from training import tracking
from training.kinds import Kind

WINDOW_DAYS = 90
REVIEW_ENDPOINT = "review:"  # lists shown to HR reviewers, not to employees
#: The model whose list an HR decision is about, by the kind of item reviewed.
REVIEWED_MODEL = {"program": Kind.PROGRAMS.model_name, "position": Kind.CAREERS.model_name}
CLOCK_SKEW = pd.Timedelta(minutes=2)  # the LMS clock may run a little behind the service
OUTCOMES = {
    "click": "click",
    "enrol": "enrol",
    "complete": "completion",
    "pass": "completion",
    "dismiss": "dismiss",
}


def load(settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Served items (one row per item of every list) and events that are not voided."""
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        logs = session.execute(
            select(
                RecommendationLog.request_id,
                RecommendationLog.employee_id,
                RecommendationLog.model_name,
                RecommendationLog.model_version,
                RecommendationLog.items,
                RecommendationLog.created_at,
            ).where(~RecommendationLog.endpoint.startswith(REVIEW_ENDPOINT))
        ).all()
        events = session.execute(
            select(
                (Event.sender + ":" + Event.event_id).label("event_id"),  # ids are per sender
                Event.request_id,
                Event.employee_id,
                Event.item_id,
                Event.type,
                Event.occurred_at,
            ).where(Event.voided.is_(False), Event.item_kind == "program")
        ).all()
    served = pd.DataFrame(
        [
            (r.request_id, r.employee_id, r.model_name, r.model_version, i["item_id"], r.created_at)
            for r in logs
            for i in r.items
        ],
        columns=["request_id", "employee_id", "model_name", "model_version", "item_id", "at"],
    )
    ev = pd.DataFrame(
        [tuple(e) for e in events],
        columns=["event_id", "request_id", "employee_id", "item_id", "type", "occurred_at"],
    )
    return served, ev


def attribute(
    served: pd.DataFrame, events: pd.DataFrame, window_days: int = WINDOW_DAYS
) -> pd.DataFrame:
    """Events joined to the served item they follow (see the module docstring); columns of
    ``events`` plus ``model_name``, ``model_version``. Unattributed events are left out."""
    keys = ["request_id", "item_id"]
    by_request = events.dropna(subset=["request_id"]).merge(
        served[[*keys, "model_name", "model_version"]].drop_duplicates(keys), on=keys
    )
    rest = events[~events["event_id"].isin(by_request["event_id"])].dropna(subset=["employee_id"])
    joined = rest.drop(columns="request_id").merge(
        served, on=["employee_id", "item_id"], suffixes=("", "_served")
    )
    when = pd.to_datetime(joined["occurred_at"], utc=True)
    at = pd.to_datetime(joined["at"], utc=True)
    joined = joined[(at - CLOCK_SKEW <= when) & (when - at <= pd.Timedelta(days=window_days))]
    latest = joined.sort_values("at").drop_duplicates("event_id", keep="last")
    cols = [*events.columns, "model_name", "model_version"]
    return pd.concat([by_request[cols], latest[cols]], ignore_index=True)


def summarise(served: pd.DataFrame, attributed: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Figures per ``"<model name>@<version>"`` (see the module docstring)."""
    out: dict[str, dict[str, float]] = {}
    for (name, version), part in served.groupby(["model_name", "model_version"]):
        ev = attributed[
            (attributed["model_name"] == name) & (attributed["model_version"] == version)
        ]
        counts = ev.drop_duplicates(["event_id"]).groupby("type").size()
        impressions = float(counts.get("impression", 0)) or float(len(part))
        figures = {
            "lists": float(part["request_id"].nunique()),
            "served_items": float(len(part)),
            "impressions": impressions,
        }
        for kind in sorted(set(OUTCOMES.values())):
            n = float(sum(counts.get(t, 0) for t, k in OUTCOMES.items() if k == kind))
            figures[f"{kind}s"] = n
            figures[f"{kind}_rate"] = n / impressions if impressions else 0.0
        out[f"{name}@{version}"] = figures
    return out


def log_to_mlflow(settings: Settings, figures: dict[str, dict[str, float]]) -> dict[str, str]:
    """Log ``online.<figure>`` on the training run of each registered version; returns the run
    id per version (versions the registry does not know are skipped)."""
    c = tracking.client(settings)
    runs: dict[str, str] = {}
    for key, values in figures.items():
        name, version = key.rsplit("@", 1)
        try:
            mv = c.get_model_version(name, version)
        except Exception:  # unknown to this registry
            continue
        for metric, value in values.items():
            c.log_metric(mv.run_id, f"online.{metric}", value)
        runs[key] = mv.run_id
    return runs


def load_reviews(settings: Settings) -> pd.DataFrame:
    """HR decisions with the model version of the reviewed list: columns ``model_name``,
    ``model_version``, ``decision`` (decisions without a version are left out)."""
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        rows = session.execute(
            select(Review.item_kind, Review.model_version, Review.decision).where(
                Review.model_version.is_not(None)
            )
        ).all()
    return pd.DataFrame(
        [(REVIEWED_MODEL.get(kind, kind), version, d) for kind, version, d in rows],
        columns=["model_name", "model_version", "decision"],
    )


def review_figures(reviews: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``hr_reviews``, ``hr_approvals`` and ``hr_approval_rate`` per ``"<name>@<version>"``."""
    out: dict[str, dict[str, float]] = {}
    for (name, version), part in reviews.groupby(["model_name", "model_version"]):
        approved = float((part["decision"] == "approve").sum())
        out[f"{name}@{version}"] = {
            "hr_reviews": float(len(part)),
            "hr_approvals": approved,
            "hr_approval_rate": approved / len(part),
        }
    return out


def online_metrics(settings: Settings, window_days: int = WINDOW_DAYS) -> dict[str, Any]:
    """Compute and log; returns ``{"versions": {...figures...}, "runs": {...}}``."""
    served, events = load(settings)
    figures = summarise(served, attribute(served, events, window_days))
    for key, values in review_figures(load_reviews(settings)).items():
        figures.setdefault(key, {}).update(values)
    return {"versions": figures, "runs": log_to_mlflow(settings, figures)}
