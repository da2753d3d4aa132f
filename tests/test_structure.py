"""tools/check_structure.py finds cycles, long files and functions, and upward imports.

Synthetic package trees in a temporary folder: one clean tree passes (exit 0), and each kind
of problem makes the script print it and exit 1. The real tree is checked by `make test`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "check_structure.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_structure", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


check_structure = _load()


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


CLEAN = {
    "recommender/__init__.py": "",
    "recommender/domain.py": "GRADES = ('III/a',)\n",
    "recommender/data/__init__.py": "",
    "recommender/data/schema.py": "from recommender import domain\nfrom . import io\n",
    "recommender/data/io.py": "import pandas as pd\n",
    "recommender/service.py": "from recommender.data import schema\n\n\ndef answer():\n    pass\n",
    "training/__init__.py": "",
    "training/cli.py": "from recommender import service\n\n\ndef main():\n    import mlflow\n",
}


def test_clean_tree_passes(tmp_path: Path) -> None:
    root = _write(tmp_path, CLEAN)
    done = _run(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == (
        "0 cycles, 0 long files, 0 long functions, 0 oversized service, "
        "0 runtime->offline imports, 0 data-contract imports"
    )


def test_cycle_through_an_in_function_import_is_found(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            **CLEAN,
            "training/careers.py": "from training import fairness\n",
            # the import inside a function closes the circle
            "training/fairness.py": "def gate():\n    from training.careers import x\n",
        },
    )
    done = _run(root)
    assert done.returncode == 1
    assert "cycle: training.careers -> training.fairness -> training.careers" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("1 cycles,")


def test_relative_import_cycle_of_three_is_found(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            **CLEAN,
            "recommender/plans/__init__.py": "",
            "recommender/plans/a.py": "from . import b\n",
            "recommender/plans/b.py": "from .c import thing\n",
            "recommender/plans/c.py": "from recommender.plans.a import other\n",
        },
    )
    report = check_structure.check(root=root)
    assert report.cycles == [["recommender.plans.a", "recommender.plans.b", "recommender.plans.c"]]


def test_long_function_and_long_file_are_found(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(60))  # def line + 60 = 61 lines
    filler = "".join(f"Y{i} = {i}\n" for i in range(601))
    root = _write(
        tmp_path,
        {
            **CLEAN,
            "training/long.py": "def fit():\n" + body,
            "training/big.py": filler,
            # migrations are exempt from both rules
            "recommender/store/migrations/versions/v1.py": "def upgrade():\n" + body + filler,
        },
    )
    done = _run(root)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert "function training/long.py:1 fit 61 lines" in lines
    assert "file training/big.py 601 lines" in lines
    assert not any("migrations" in line for line in lines)
    assert lines[-1].startswith("0 cycles, 1 long files, 1 long functions,")


def test_sixty_line_function_and_six_hundred_line_file_pass(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(59))
    filler = "".join(f"Y{i} = {i}\n" for i in range(600 - 60))
    root = _write(tmp_path, {**CLEAN, "training/edge.py": "def fit():\n" + body + filler})
    assert check_structure.check(root=root).lines() == []


def test_service_of_400_lines_is_found(tmp_path: Path) -> None:
    text = CLEAN["recommender/service.py"] + "".join(f"Z{i} = {i}\n" for i in range(395))
    root = _write(tmp_path, {**CLEAN, "recommender/service.py": text})
    assert check_structure.check(root=root).problems == [
        "service recommender/service.py 400 lines (limit: under 400)"
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import training.cli\n", "runtime recommender.config imports training.cli"),
        ("def f():\n    from stack import run\n", "runtime recommender.config imports stack"),
        ("from benchmarks.bench_serve import x\n", "runtime recommender.config imports"),
    ],
)
def test_runtime_importing_offline_is_found(tmp_path: Path, source: str, expected: str) -> None:
    root = _write(tmp_path, {**CLEAN, "recommender/config.py": source})
    done = _run(root)
    assert done.returncode == 1
    assert any(line.startswith(expected) for line in done.stdout.splitlines()), done.stdout


def test_data_contract_importing_upwards_is_found(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {**CLEAN, "recommender/data/io.py": "def f():\n    from recommender import service\n"},
    )
    problems = check_structure.check(root=root).problems
    assert problems == ["data recommender.data.io imports recommender.service"]


def test_the_real_tree_is_read_whole() -> None:
    """The script reads every module of the repository (its verdict is `make test`'s business)."""
    modules = check_structure.load_modules(root=REPO, packages=["recommender", "training"])
    on_disk = {*(REPO / "recommender").rglob("*.py"), *(REPO / "training").rglob("*.py")}
    assert len(modules) == len(on_disk)
    graph = check_structure.import_graph(modules)
    assert "recommender.domain" in graph["recommender.data.schema"]
