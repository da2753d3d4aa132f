"""A real browser against the real app: Debian's Chromium driven by Playwright.

The set-up installs the ``chromium`` Debian package when ``/usr/bin/chromium`` is missing
(``apt-get``, as root or through ``sudo -n``). Chromium starts headless with the flags this
closed network needs and a fresh user-data directory per test session. The app runs on uvicorn
on a free loopback port, serving the tiny organisation of the API tests.

Screenshots go to ``test-artifacts/browser/`` (or ``$JENJANG_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import (  # noqa: F401 (shared fixtures)
    api_settings,
    careers_ranker,
    clean_tables_once,
    hr_users,
    service,
    store,
    trained,
)

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("JENJANG_TEST_ARTIFACTS", "test-artifacts")) / "browser"


def _install_chromium() -> None:
    """Install Debian's chromium package (once per machine)."""
    if Path(CHROMIUM).exists():
        return
    prefix: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = Path("/tmp/jenjang-chromium-install.lock")
    with lock.open("w") as handle:
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX)  # two xdist workers: one installs, one waits
        if Path(CHROMIUM).exists():
            return
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            done = subprocess.run(
                prefix + cmd, env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0 and cmd[1] == "install":
                pytest.fail(
                    "Chromium is missing and could not be installed with apt-get "
                    f"(exit {done.returncode}): {done.stderr.strip()[-500:]}"
                )


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium, installed when missing."""
    _install_chromium()
    assert shutil.which(CHROMIUM), "chromium did not install"
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_url(api_settings, service, hr_users) -> Iterator[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    """The app on uvicorn in a background thread; yields its base URL."""
    import uvicorn

    from recommender.api.app import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(api_settings, service), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium context with a fresh user-data directory."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=True,
            args=FLAGS,
            accept_downloads=True,
            viewport={"width": 1366, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab with no cookies (each test signs in itself)."""
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    tab.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are kept."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
