"""Issue 22, finding 5: an ``admin`` key is organisation-wide, so a key with the admin scope
and a unit list is refused, by ``jenjang keys create`` (exit 2, like its other refusals) and
by :func:`recommender.store.keys.create_key` itself (so no other path makes one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.store import db, keys
from training.cli import app


@pytest.fixture
def url(tmp_path: Path) -> str:
    made = f"sqlite:///{tmp_path / 'app.db'}"
    db.upgrade(db.make_engine(made))
    return made


def _stored(url: str) -> list[keys.KeyRecord]:
    with db.make_sessionmaker(db.make_engine(url)).begin() as session:
        return keys.list_keys(session)


@pytest.mark.parametrize("scopes", [["admin"], ["admin", "lms"]])
def test_create_key_refuses_an_admin_scope_with_units(url: str, scopes: list[str]) -> None:
    with (
        pytest.raises(ValueError, match="organisation-wide") as caught,
        db.make_sessionmaker(db.make_engine(url)).begin() as session,
    ):
        keys.create_key(session, scopes, ["UPT-06"])
    assert "UPT-06" not in str(caught.value), "the message does not repeat the unit"
    assert _stored(url) == []


def test_cli_refuses_an_admin_key_with_a_unit(url: str) -> None:
    result = CliRunner().invoke(
        app, ["keys", "create", "--scope", "admin", "--unit", "UPT-06", "--url", url]
    )
    assert result.exit_code == 2, result.output
    assert "organisation-wide" in result.output and "--unit" in result.output
    assert "jk_" not in result.output
    assert _stored(url) == []


def test_admin_without_units_and_lms_with_units_are_still_made(url: str) -> None:
    with db.make_sessionmaker(db.make_engine(url)).begin() as session:
        admin = keys.create_key(session, ["admin"], [])
        lms = keys.create_key(session, ["lms"], ["UPT-06"])
        admin_info, lms_info = keys.verify(session, admin), keys.verify(session, lms)
    assert admin_info is not None and admin_info.units is None
    assert lms_info is not None and lms_info.units == {"UPT-06"}
