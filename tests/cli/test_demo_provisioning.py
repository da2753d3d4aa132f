"""Demo provisioning (``jenjang serve --demo``) lives in :mod:`recommender.store.demo`: keys and
accounts made once, their secrets in mode-600 files of the demo folder, the same ones again on
the next start, and printed lines that name employees by pseudonym only."""

from __future__ import annotations

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
