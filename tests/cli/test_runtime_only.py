"""The runtime command line works where ``training/`` cannot be imported (a service host):
``recommender.cli`` builds its application with the runtime commands only, and
``jenjang serve`` starts and answers ``/healthz``.

Each check runs Python in a subprocess whose first act is to put a finder at the head of
``sys.meta_path`` that refuses ``training`` and its submodules (ModuleNotFoundError, as when
the package is not installed), while the ``jenjang.commands`` entry point of this checkout
still names ``training.cli:register``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import typer
from typer.core import TyperGroup

from recommender.cli import ENTRY_POINT_GROUP, build_app, runtime_app
from tests.api.servers import free_port, tiny_env, wait_until
from training.cli import ORDER

REPO = Path(__file__).resolve().parents[2]
RUNTIME = {"serve", "db", "keys", "users"}
BLOCK = """
import importlib.abc, sys

class NoTraining(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "training" or name.startswith("training."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTraining())
"""
COMMANDS = """
import json, typer
from recommender.cli import build_app, load_plugins, runtime_app
app = build_app()
names = sorted(typer.main.get_command(app).commands)
print(json.dumps({"commands": names, "plugins": load_plugins(app=runtime_app()),
                  "training": [m for m in sys.modules if m.split(".")[0] == "training"]}))
"""
SERVE = """
from recommender.cli import main
main()
"""


def _names(app: typer.Typer) -> set[str]:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return set(group.commands)


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "runtime_only.py"
    path.write_text(BLOCK + body)
    return path


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JENJANG_")}
    return {**env, **extra, "PYTHONPATH": str(REPO)}


def test_without_training_the_app_has_the_runtime_commands(tmp_path: Path) -> None:
    script = _script(tmp_path, COMMANDS)
    out = subprocess.run(
        [sys.executable, str(script)],
        env=_env({}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(out.stdout)
    assert set(found["commands"]) == RUNTIME
    assert found["plugins"] == []  # the offline plug-in is skipped, not an error
    assert found["training"] == []


def test_with_training_the_plugin_adds_the_offline_commands() -> None:
    assert _names(runtime_app()) == RUNTIME
    full = _names(build_app())
    assert full > RUNTIME
    assert {"generate", "train", "promote", "batch", "next-positions", "bench"} <= full
    assert ENTRY_POINT_GROUP == "jenjang.commands"


def test_serve_starts_without_training(tmp_path: Path, tiny_clean: Path) -> None:
    port = free_port()
    env = tiny_env(
        tiny_clean.parent,
        tmp_path,
        mlflow_uri=f"http://127.0.0.1:{free_port()}",  # MLflow down: no model, still serving
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
    )
    script = _script(tmp_path, SERVE)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script), "serve", "--port", str(port)],
            env=_env(env),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def answers() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, 120, lambda: log.read_text()[-3000:])
    finally:
        proc.terminate()
        proc.wait(30)


def test_full_help_lists_the_commands_in_the_documented_order() -> None:
    """``jenjang --help`` keeps one order whatever registers first (runtime or plug-in)."""
    group = typer.main.get_command(build_app())
    assert isinstance(group, TyperGroup)
    assert list(group.commands) == list(ORDER)
