"""Tests cannot pass by skipping in CI (tests/conftest.py, tests/store/conftest.py).

On a developer's machine a test missing ``../shared/`` or the PostgreSQL server is skipped with
the reason; with ``CI=true`` it fails with the same reason (PostgreSQL also with
``JENJANG_REQUIRE_POSTGRES=1``, which ``.ci/run`` sets). The last test keeps every skip of the
suite going through that one rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import conftest as root
from tests.store import conftest as store

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("JENJANG_REQUIRE_POSTGRES", raising=False)


@pytest.fixture
def developer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("JENJANG_REQUIRE_POSTGRES", raising=False)


def test_missing_shared_file_skips_on_a_developer_machine(developer: None, tmp_path: Path) -> None:
    missing = tmp_path / "shared" / "data.csv.gz"
    with pytest.raises(pytest.skip.Exception, match=re.escape("reads ../shared/")):
        root.require_shared(missing)


def test_missing_shared_file_fails_in_ci(ci: None, tmp_path: Path) -> None:
    missing = tmp_path / "shared" / "data.csv.gz"
    with pytest.raises(pytest.fail.Exception, match="fails instead of skipping") as failed:
        root.require_shared(missing)
    assert str(missing) in str(failed.value)


def test_present_shared_file_is_returned(ci: None, tmp_path: Path) -> None:
    present = tmp_path / "data.csv.gz"
    present.write_bytes(b"")
    assert root.require_shared(present) == present


@dataclass
class _Mark:
    args: tuple[object, ...]


@dataclass
class _Item:
    """The part of a pytest item that the ``shared`` marker hook reads."""

    marks: list[_Mark] = field(default_factory=list)

    def iter_markers(self, name: str) -> Iterator[_Mark]:
        assert name == "shared"
        return iter(self.marks)


def test_the_shared_marker_fails_in_ci(ci: None, tmp_path: Path) -> None:
    item = _Item([_Mark((tmp_path / "missing",))])
    with pytest.raises(pytest.fail.Exception, match="missing"):
        root.pytest_runtest_setup(item)  # type: ignore[arg-type]
    root.pytest_runtest_setup(_Item([_Mark((tmp_path,))]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({}, False),
        ({"CI": "true"}, True),
        ({"CI": "false"}, False),
        ({"JENJANG_REQUIRE_POSTGRES": "1"}, True),
    ],
)
def test_postgres_is_required_in_ci_or_when_asked(
    developer: None, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], required: bool
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert root.postgres_required() is required


def test_unreachable_postgres_fails_in_ci(ci: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "PG_ADMIN_URL", "postgresql+psycopg://nobody@127.0.0.1:1/postgres")
    unreachable = re.escape("PostgreSQL not reachable at 127.0.0.1:1")
    with pytest.raises(pytest.fail.Exception, match=unreachable):
        store._pg_admin()


def test_unreachable_postgres_skips_on_a_developer_machine(
    developer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "PG_ADMIN_URL", "postgresql+psycopg://nobody@127.0.0.1:1/postgres")
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL not reachable"):
        store._pg_admin()


#: The only skips the suite may take: the CI-aware rule itself, one platform condition and one
#: fixed choice of parameters (the same on every machine, so no environment can hide a test).
ALLOWED_SKIPS = {
    ("conftest.py", "pytest.skip(message)"),
    ("test_memory.py", "pytest.mark.skipif("),
    ("test_event_fuzz.py", 'pytest.skip("10,000 bodies run on SQLite only")'),
}


def test_every_skip_goes_through_the_ci_rule() -> None:
    """A new skip (skipif, pytest.skip, importorskip) must use require_shared / skip_or_fail."""
    pattern = re.compile(r"pytest\.(?:mark\.skipif\(|skip\(|importorskip\()[^\n]*")
    found = {
        (path.name, match.group(0))
        for path in TESTS.rglob("*.py")
        if path.name != Path(__file__).name
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    }
    assert found <= ALLOWED_SKIPS, sorted(found - ALLOWED_SKIPS)
