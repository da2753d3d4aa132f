"""Online metrics: attribution of events to served lists, rates, and their place in MLflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recommender.config import Settings
from recommender.store import repo
from recommender.store.db import make_engine, make_sessionmaker, upgrade
from training import online, tracking

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
E1, E2 = "e_aaaaaaaaaaaaaaaa", "e_bbbbbbbbbbbbbbbb"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'ml.db'}",
        mlflow_artifact_root=str(tmp_path / "art"),
    )
    upgrade(make_engine(s.database_url))
    return s


def _event(eid: str, who: str, typ: str, item: str, at: datetime, req: str | None = None):  # type: ignore[no-untyped-def]
    return repo.NewEvent(
        event_id=eid, employee_id=who, type=typ, occurred_at=at, request_id=req, item_id=item
    )


def _fill(settings: Settings) -> None:
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory.begin() as s:
        for rid, who, version, at in (("r1", E1, "1", T0), ("r2", E2, "2", T0)):
            repo.log_recommendation(
                s,
                request_id=rid,
                employee_id=who,
                model_name="jenjang-programs",
                model_version=version,
                endpoint="programs",
                items=[{"item_id": "P1", "score": 1.0}, {"item_id": "P2", "score": 0.5}],
                created_at=at,
            )
        repo.add_events(
            s,
            [
                _event("a", E1, "impression", "P1", T0, "r1"),
                _event("b", E1, "impression", "P2", T0, "r1"),
                _event("c", E1, "click", "P1", T0 + timedelta(minutes=1), "r1"),
                # xAPI-style completion without a request id: attributed to r1 by person+programme
                _event("d", E1, "complete", "P1", T0 + timedelta(days=20)),
                # before the list was served: not attributed
                _event("e", E2, "complete", "P2", T0 - timedelta(days=1)),
                # voided completion: not counted
                _event("f", E2, "complete", "P1", T0 + timedelta(days=2)),
                repo.NewEvent(
                    event_id="g",
                    employee_id=E2,
                    type="void",
                    occurred_at=T0 + timedelta(days=3),
                    source="xapi",
                    item_kind="statement",
                    item_id="f",
                    voids="f",
                ),
            ],
        )


def test_attribution_and_rates(settings: Settings) -> None:
    _fill(settings)
    served, events = online.load(settings)
    figures = online.summarise(served, online.attribute(served, events))
    v1, v2 = figures["jenjang-programs@1"], figures["jenjang-programs@2"]
    assert (v1["lists"], v1["impressions"], v1["clicks"], v1["completions"]) == (1, 2, 1, 1)
    assert v1["click_rate"] == pytest.approx(0.5) and v1["completion_rate"] == pytest.approx(0.5)
    # no impression events for version 2: served items stand in; nothing attributable
    assert (v2["impressions"], v2["completions"]) == (2, 0)


def test_figures_land_on_the_versions_training_run(settings: Settings) -> None:
    import mlflow

    _fill(settings)
    c = tracking.client(settings)
    c.create_registered_model("jenjang-programs")
    runs = {}
    for version in ("1", "2"):
        with tracking.run(settings, "jenjang-programs", "programs") as active:
            mlflow.log_metric("test.model.ndcg_at_10", 0.2)
            runs[version] = active.info.run_id
        mv = c.create_model_version(
            "jenjang-programs", f"runs:/{runs[version]}/model", run_id=runs[version]
        )
        assert str(mv.version) == version
    result = online.online_metrics(settings)
    assert result["runs"] == {f"jenjang-programs@{v}": r for v, r in runs.items()}
    logged = tracking.run_metrics(settings, runs["1"])
    assert logged["online.click_rate"] == pytest.approx(0.5)
    assert logged["online.completion_rate"] == pytest.approx(0.5)
    assert "test.model.ndcg_at_10" in logged


def test_empty_log(settings: Settings) -> None:
    assert online.online_metrics(settings) == {"versions": {}, "runs": {}}


def test_review_lists_are_not_lms_traffic_and_hr_approvals_are_counted(
    settings: Settings,
) -> None:
    _fill(settings)
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory.begin() as s:
        repo.log_recommendation(
            s,
            request_id="hr1",
            employee_id=E1,
            model_name="jenjang-programs",
            model_version="1",
            endpoint="review:programs",
            items=[{"item_id": "P1", "score": 1.0}],
            created_at=T0,
        )
        for i, decision in enumerate(("approve", "approve", "reject", "replace")):
            repo.add_review(
                s,
                employee_id=E1,
                item_kind="program",
                item_id=f"P{i}",
                decision=decision,
                reason="r",
                reviewer="rina.reviewer",
                request_id="hr1",
                replacement_id="P9" if decision == "replace" else None,
                model_version="1",
            )
    served, _ = online.load(settings)
    assert "hr1" not in set(served["request_id"])
    figures = online.review_figures(online.load_reviews(settings))
    assert figures == {
        "jenjang-programs@1": {"hr_reviews": 4.0, "hr_approvals": 2.0, "hr_approval_rate": 0.5}
    }
