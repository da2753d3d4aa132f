"""`jenjang users`: accounts of the HR pages from the command line (a temporary SQLite file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from recommender.cli import app
from recommender.config import get_settings
from recommender.store import db, users

PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """JENJANG_DATABASE_URL on a new SQLite file (not migrated) and a data folder whose clean
    units table knows UNIT-A and UNIT-B; yields the database URL."""
    url = f"sqlite:///{tmp_path / 'app' / 'jenjang.db'}"
    clean = tmp_path / "data" / "clean"
    clean.mkdir(parents=True)
    pd.DataFrame({"unit_id": ["UNIT-A", "UNIT-B"], "name": ["A", "B"]}).to_parquet(
        clean / "units.parquet", index=False
    )
    monkeypatch.setenv("JENJANG_DATABASE_URL", url)
    monkeypatch.setenv("JENJANG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()


def _create(*args: str, password: str | None = PASSWORD, stdin: str | None = None) -> Result:
    extra = [] if password is None else ["--password", password]
    return CliRunner().invoke(app, ["users", "create", *args, *extra], input=stdin)


def _listed() -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["users", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert "scrypt" not in result.output and "password" not in result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)["users"]
    return rows


def test_create_migrates_and_list_json(env: str) -> None:
    units = ("--unit", "UNIT-B", "--unit", "UNIT-A")
    made = _create("--username", "Rina", "--role", "reviewer", *units)
    assert made.exit_code == 0, made.output
    assert "created reviewer rina" in made.output and "UNIT-A, UNIT-B" in made.output
    assert PASSWORD not in made.output
    assert db.current_revision(env) == db.head_revision()  # migrated on the way
    admin = _create("--username", "boss", "--role", "admin")
    assert admin.exit_code == 0 and "all units" in admin.output

    rows = _listed()
    assert [(r["username"], r["role"], r["units"]) for r in rows] == [
        ("boss", "admin", None),
        ("rina", "reviewer", ["UNIT-A", "UNIT-B"]),
    ]
    assert rows[1]["failed_logins"] == 0 and rows[1]["disabled_at"] is None
    assert set(rows[0]) == {
        "username",
        "user_id",
        "role",
        "units",
        "created_at",
        "last_login_at",
        "disabled_at",
        "locked_until",
        "failed_logins",
    }
    table = CliRunner().invoke(app, ["users", "list"])
    assert table.exit_code == 0 and "rina" in table.output and "scrypt" not in table.output

    factory = db.make_sessionmaker(db.make_engine(env))
    with factory.begin() as s:
        assert users.authenticate(s, "rina", PASSWORD).username == "rina"


def test_password_is_asked_twice_when_not_given(env: str) -> None:
    made = _create(
        "--username", "budi", "--role", "admin", password=None, stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output  # hidden input
    factory = db.make_sessionmaker(db.make_engine(env))
    with factory.begin() as s:
        assert users.authenticate(s, "budi", PASSWORD).role == "admin"


def test_duplicate_and_bad_input_exit_2_in_one_line(env: str) -> None:
    assert _create("--username", "rina", "--role", "admin").exit_code == 0
    for args, password, message in [
        (("--username", "RINA", "--role", "admin"), PASSWORD, "username 'rina' is already taken"),
        (("--username", "x", "--role", "admin"), PASSWORD, "username must have 3 to 64"),
        (("--username", "ana", "--role", "owner"), PASSWORD, "--role must be reviewer or admin"),
        (("--username", "ana", "--role", "reviewer"), PASSWORD, "a reviewer needs at least one"),
        (("--username", "ana", "--role", "admin", "--unit", "UNIT-A"), PASSWORD, "every unit"),
        (("--username", "ana", "--role", "admin"), "short", "8 to 256 characters"),
    ]:
        result = _create(*args, password=password)
        output = result.output
        assert result.exit_code == 2, (args, output)
        assert message in output, output
        assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
        assert password not in output
    assert [r["username"] for r in _listed()] == ["rina"]


def test_unknown_unit_exits_2_naming_it(env: str) -> None:
    result = _create(
        "--username", "ana", "--role", "reviewer", "--unit", "UNIT-A", "--unit", "NOPE"
    )
    output = result.output
    assert result.exit_code == 2, output
    assert "unknown unit NOPE" in output and "UNIT-A" not in output
    assert len(output.strip().splitlines()) == 1
    assert _listed() == []


def test_without_clean_data_units_are_accepted_with_a_warning(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JENJANG_DATA_DIR", str(tmp_path / "nowhere"))
    get_settings.cache_clear()
    result = _create("--username", "ana", "--role", "reviewer", "--unit", "ANY-UNIT")
    output = result.output
    assert result.exit_code == 0, output
    assert "warning" in output and "unit ids not checked" in output
    assert _listed()[0]["units"] == ["ANY-UNIT"]


def test_disable_and_password(env: str) -> None:
    assert _create("--username", "rina", "--role", "admin").exit_code == 0
    runner = CliRunner()
    changed = runner.invoke(app, ["users", "password", "rina"], input="new password 1\n" * 2)
    assert changed.exit_code == 0, changed.output
    assert "new password 1" not in changed.output
    factory = db.make_sessionmaker(db.make_engine(env))
    with factory.begin() as s:
        assert users.authenticate(s, "rina", "new password 1").username == "rina"
    off = runner.invoke(app, ["users", "disable", "RINA"])
    assert off.exit_code == 0 and "user rina disabled" in off.output
    again = runner.invoke(app, ["users", "disable", "rina"])
    assert again.exit_code == 0 and "already disabled" in again.output
    assert _listed()[0]["disabled_at"] is not None
    for command in (["disable", "ghost"], ["password", "ghost", "--password", PASSWORD]):
        missing = runner.invoke(app, ["users", *command])
        assert missing.exit_code == 2 and "no user named 'ghost'" in missing.output
