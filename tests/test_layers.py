"""The import contracts in .importlinter hold, and break on an injected violation.

Each injection test copies the four packages' Python files and .importlinter to a temporary
folder, appends one forbidden import to a module there and runs `lint-imports` on the copy
(cwd and PYTHONPATH = the copy, so the copy is analysed, not the installed tree): it must exit
non-zero and name the broken contract. The last tests check the real tree, and that the
contract lists still cover every runtime package.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("recommender", "training", "benchmarks", "stack")
# recommender.data may import these (and itself); everything else of the project is above it
DATA_MAY_IMPORT = {"domain", "config", "pseudonym", "memo", "data"}


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / ".importlinter")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _broken_section(output: str) -> str:
    """The part of lint-imports' output after its "Broken contracts" heading."""
    return output.partition("Broken contracts")[2]


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python files of the four packages and .importlinter, copied once per module."""
    root = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        for source in (REPO / package).rglob("*.py"):
            target = root / source.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    shutil.copyfile(CONFIG, root / ".importlinter")
    return root


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("recommender/config.py", "import training", "runtime-alone"),
        ("recommender/domain.py", "def _f():\n    import stack.run", "runtime-alone"),
        ("recommender/store/db.py", "from recommender.api import app", "runtime-top"),
        ("recommender/data/schema.py", "import recommender.store", "data-bottom"),
        ("recommender/domain.py", "import recommender.data.io", "no-cycles"),
    ],
)
def test_an_injected_violation_breaks_the_contract(
    tree_copy: Path, tmp_path: Path, module: str, line: str, contract: str
) -> None:
    root = tmp_path / "tree"
    shutil.copytree(tree_copy, root)
    target = root / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    done = _lint(root)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert f"{contract}:" in _broken_section(output), output


def test_the_real_tree_keeps_every_contract() -> None:
    done = _lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def _contract(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    return parser[f"importlinter:contract:{name}"]


def _modules(value: str) -> set[str]:
    return {line.strip() for line in value.splitlines() if line.strip()}


def _runtime_children() -> set[str]:
    """recommender's direct subpackages and modules, as dotted names."""
    children = {
        f"recommender.{path.stem}"
        for path in (REPO / "recommender").glob("*.py")
        if path.name != "__init__.py"
    }
    children |= {
        f"recommender.{path.parent.name}" for path in (REPO / "recommender").glob("*/__init__.py")
    }
    return children


def test_the_data_contract_forbids_every_runtime_package_above_it() -> None:
    """A new recommender package must be added to data-bottom's forbidden_modules."""
    forbidden = _modules(_contract("data-bottom")["forbidden_modules"])
    allowed = {f"recommender.{name}" for name in DATA_MAY_IMPORT}
    missing = sorted(_runtime_children() - allowed - forbidden)
    assert missing == [], f"add to data-bottom in .importlinter: {missing}"
    assert {"training", "benchmarks", "stack"} <= forbidden


def test_the_runtime_top_lists_the_api_the_pages_and_the_runtime_cli() -> None:
    top = {"recommender.api", "recommender.web", "recommender.cli"} & _runtime_children()
    section = _contract("runtime-top")
    assert top <= _modules(section["protected_modules"])
    assert top <= _modules(section["allowed_importers"])


def test_every_folder_of_modules_is_a_regular_package() -> None:
    """A folder of modules without __init__.py is left out of the import graph (and the wheel)."""
    folders = {
        path.parent.relative_to(REPO).as_posix()
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = sorted(folder for folder in folders if not (REPO / folder / "__init__.py").exists())
    assert missing == [], f"add __init__.py to: {missing}"


def test_grimp_counts_imports_inside_functions(tmp_path: Path) -> None:
    """The documented claim: an import inside a function is part of the checked graph."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from pkg import b\n")
    (tmp_path / "pkg" / "b.py").write_text("import pkg.a\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = pkg\n\n[importlinter:contract:c]\n"
        "name = pkg-acyclic\ntype = acyclic_siblings\nancestors = pkg\n"
    )
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "pkg-acyclic" in _broken_section(done.stdout)
