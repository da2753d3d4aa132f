"""Fixtures of the API tests: the tiny organisation served by a real app with real models
(small LightGBM rankers trained once per session, wrapped as verified bundles)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from recommender import bundles
from recommender.bundles import Bundle
from recommender.config import Settings
from recommender.programs.ranker import ProgramRanker, sha256_text
from recommender.service import Models, Service, build_world
from tests.conftest import TEST_KEY
from tests.model.conftest import clean_tables_once, trained  # noqa: F401 (shared fixtures)

AT = pd.Timestamp("2026-03-01")


def bundle_of(name: str, ranker: ProgramRanker, version: str = "1") -> Bundle:
    """A verified bundle around a fitted ranker."""
    text = ranker.to_text()
    return Bundle(
        name,
        version,
        f"run-{version}",
        sha256_text(text),
        tuple(ranker.feature_names_),
        text,
        "local",
        datetime.now(UTC),
    )


@pytest.fixture(scope="session")
def api_settings(tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings on the tiny organisation with an isolated (empty) MLflow store and models dir."""
    tmp = tmp_path_factory.mktemp("api")
    return Settings(
        pseudonym_key=TEST_KEY,  # type: ignore[arg-type]
        data_dir=tiny_clean.parent,
        models_dir=tmp / "models",
        mlflow_tracking_uri=f"sqlite:///{tmp / 'mlruns.db'}",
        mlflow_artifact_root=str(tmp / "art"),
        database_url=f"sqlite:///{tmp / 'app.db'}",
    )


@pytest.fixture(scope="session")
def careers_ranker(clean_tables_once: dict[str, pd.DataFrame]) -> ProgramRanker:  # noqa: F811
    """A small next-position ranker fitted on the tiny organisation."""
    from training.careers import CareersConfig, build_split_frames, fit_ranker
    from training.careers_data import concat

    cfg = CareersConfig(n_estimators=40, n_boot=10)
    frames = build_split_frames(clean_tables_once, cfg, lambda _: None)
    return fit_ranker(concat(frames["train"]), concat(frames["validation"]), cfg)


@pytest.fixture(scope="session")
def store(api_settings: Settings):  # type: ignore[no-untyped-def]
    """The application database (SQLite file, migrated)."""
    from recommender.store.db import make_engine, make_sessionmaker, upgrade

    engine = make_engine(api_settings.database_url)
    upgrade(engine)
    return make_sessionmaker(engine)


@pytest.fixture(scope="session")
def keys(store, service: Service) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """API keys: ``lms`` (all units), ``admin``, ``unit`` (lms limited to one unit) and the
    ``unit_id`` that key covers."""
    from recommender.store.keys import create_key

    unit = str(service.world.snap.people["unit_id"].value_counts().index[0])
    with store.begin() as session:
        return {
            "lms": create_key(session, ["lms"]),
            "admin": create_key(session, ["admin"]),
            "unit": create_key(session, ["lms"], units=[unit]),
            "unit_id": unit,
        }


@pytest.fixture(scope="session")
def service(api_settings: Settings, trained, careers_ranker: ProgramRanker, store) -> Service:  # type: ignore[no-untyped-def]  # noqa: F811
    """The serving state on the tiny organisation as of :data:`AT`."""
    programs = bundle_of(bundles.PROGRAMS, trained.ranker)
    careers = bundle_of(bundles.CAREERS, careers_ranker)
    models = Models(
        {programs.name: programs, careers.name: careers},
        {programs.name: programs.ranker(), careers.name: careers.ranker()},
    )
    return Service(api_settings, build_world(api_settings, AT), models, store)


@pytest.fixture
def client(api_settings: Settings, service: Service, keys: dict[str, str]) -> Iterator[TestClient]:
    """A test client of the app serving :func:`service`, sending the ``lms`` key."""
    from recommender.api.app import create_app

    service.cache.clear()
    with TestClient(create_app(api_settings, service), headers={"X-API-Key": keys["lms"]}) as c:
        yield c


@pytest.fixture(scope="session")
def nips(tiny_raw: Path, service: Service) -> list[str]:
    """NIPs (as the LMS knows them) of people active in the served snapshot."""
    from recommender.pseudonym import pseudonymise

    raw = pd.read_parquet(tiny_raw / "employees.parquet")
    active = set(service.world.snap.people.index)
    return [n for n in raw["nip"].astype(str) if pseudonymise(n, TEST_KEY) in active]


REVIEWER_PASSWORD = "reviewer-pass-123"
ADMIN_PASSWORD = "admin-pass-12345"


@pytest.fixture(scope="session")
def hr_users(store, service: Service) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """HR accounts: ``reviewer`` bound to the largest unit (``unit_id``), ``admin`` for every
    unit, and ``other_unit`` (a unit with people the reviewer may not see)."""
    from recommender.store import users

    counts = service.world.snap.people["unit_id"].value_counts()
    unit = str(counts.index[0])
    ancestors = service._ancestors
    other = next(str(u) for u in counts.index if unit not in ancestors[str(u)] and str(u) != unit)
    with store.begin() as session:
        if users.get_user(session, "rina.reviewer") is None:
            users.create_user(
                session,
                username="rina.reviewer",
                password=REVIEWER_PASSWORD,
                role="reviewer",
                units=[unit],
            )
            users.create_user(
                session, username="hr.admin", password=ADMIN_PASSWORD, role="admin", units=None
            )
    return {"reviewer": "rina.reviewer", "admin": "hr.admin", "unit_id": unit, "other_unit": other}
