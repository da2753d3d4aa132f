"""Demo provisioning (``jenjang serve --demo``) lives in :mod:`recommender.store.demo`: keys and
accounts made once, their secrets in mode-600 files of the demo folder, the same ones again on
the next start, and printed lines that name employees by pseudonym only."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

from recommender.config import Settings
from recommender.store import keys, users
from recommender.store.db import make_engine, make_sessionmaker
from recommender.store.demo import (
    DEMO_USERNAMES,
    active_demo_credentials,
    demo_instructions,
    provision_demo,
)
from tests.conftest import TEST_KEY

NIP = re.compile(r"(?<!\d)\d{18}(?!\d)")


def _settings(tmp_path: Path, tiny_clean: Path) -> Settings:
    data = tmp_path / "demo"
    data.mkdir()
    (data / "clean").symlink_to(tiny_clean)
    return Settings(
        data_dir=data,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        pseudonym_key=TEST_KEY,
        env="development",
    )


def test_demo_is_made_once_and_kept_in_private_files(tmp_path: Path, tiny_clean: Path) -> None:
    settings = _settings(tmp_path, tiny_clean)
    first = provision_demo(settings=settings)
    again = provision_demo(settings=settings)
    assert again == first
    for path in (first.keys_file, first.users_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        assert len(keys.list_keys(session)) == 2
        for scope, key in first.keys.items():
            info = keys.verify(session, key)
            assert info is not None and scope in info.scopes
        reviewer = users.get_user(session, "demo.reviewer")
        assert reviewer is not None and users.units_of(reviewer) == {first.logins["unit"]}
        assert len(active_demo_credentials(session)) == len(DEMO_USERNAMES) + 2
    assert first.employee.startswith("e_")


def test_instructions_name_the_keys_and_no_nip(tmp_path: Path, tiny_clean: Path) -> None:
    setup = provision_demo(settings=_settings(tmp_path, tiny_clean))
    lines = demo_instructions(setup=setup, host="127.0.0.1", port=8123)
    text = "\n".join(lines)
    assert lines[0] == (
        "Jenjang is starting on http://127.0.0.1:8123 (OpenAPI docs: http://127.0.0.1:8123/docs)"
    )
    assert setup.keys["lms"] in text and setup.keys["admin"] in text
    assert setup.logins["admin_password"] in text and str(setup.users_file) in text
    assert f"/v1/employees/{setup.employee}/recommendations/programs?k=5" in text
    assert not NIP.search(text)


def test_demo_keys_exist_in_a_new_database_with_the_same_demo_folder(
    tmp_path: Path, tiny_clean: Path
) -> None:
    """Issue 22, finding 5: ``serve --demo`` on a new database printed the keys of an old keys
    file, which that database did not hold (both answered 401). Keys are checked by hash and
    made again (the file rewritten) when the served database does not hold them."""
    first_settings = _settings(tmp_path, tiny_clean)
    first = provision_demo(settings=first_settings)
    other = first_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'other.db'}"})
    second = provision_demo(settings=other)
    factory = make_sessionmaker(make_engine(other.database_url))
    with factory() as session:
        for scope, key in second.keys.items():
            info = keys.verify(session, key)
            assert info is not None and scope in info.scopes, scope
        assert len(keys.list_keys(session)) == 2
    assert second.keys != first.keys
    assert json.loads(second.keys_file.read_text()) == second.keys
    assert stat.S_IMODE(second.keys_file.stat().st_mode) == 0o600
    for login in ("admin", "reviewer"):  # the accounts printed sign in there too
        with factory.begin() as session:
            name, password = second.logins[login], second.logins[f"{login}_password"]
            assert users.authenticate(session, name, password).username == name


def test_revoked_or_damaged_demo_keys_are_made_again(tmp_path: Path, tiny_clean: Path) -> None:
    settings = _settings(tmp_path, tiny_clean)
    first = provision_demo(settings=settings)
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory.begin() as session:
        assert keys.revoke(session, keys.key_id_of(first.keys["lms"]))
    again = provision_demo(settings=settings)
    with factory() as session:
        assert all(keys.verify(session, key) is not None for key in again.keys.values())
    first.keys_file.write_text("not json")
    first.users_file.write_text("[1, 2]")
    fixed = provision_demo(settings=settings)
    with factory() as session:
        assert all(keys.verify(session, key) is not None for key in fixed.keys.values())
    with factory.begin() as session:
        name, password = fixed.logins["admin"], fixed.logins["admin_password"]
        assert users.authenticate(session, name, password).username == name


def test_demo_sign_ins_work_in_the_database_served(tmp_path: Path, tiny_clean: Path) -> None:
    """A demo folder whose passwords are not those of the served database's demo accounts (made
    there from another folder) gets the accounts' passwords set again: the printed ones work."""
    settings = _settings(tmp_path, tiny_clean)
    provision_demo(settings=settings)  # folder D, database A
    other_dir = tmp_path / "demo2"
    other_dir.mkdir()
    (other_dir / "clean").symlink_to(tiny_clean)
    other_db = f"sqlite:///{tmp_path / 'other.db'}"
    provision_demo(
        settings=settings.model_copy(update={"data_dir": other_dir, "database_url": other_db})
    )
    served = settings.model_copy(update={"database_url": other_db})  # folder D, database B
    setup = provision_demo(settings=served)
    factory = make_sessionmaker(make_engine(other_db))
    for login in ("admin", "reviewer"):
        with factory.begin() as session:
            name, password = setup.logins[login], setup.logins[f"{login}_password"]
            assert users.authenticate(session, name, password).username == name
