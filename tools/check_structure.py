"""Structure check of the Jenjang packages: import cycles, sizes and runtime layering.

Usage: ``python tools/check_structure.py [ROOT] [--packages recommender training]``.
ROOT defaults to the repository holding this file. The script reads every ``.py`` file of the
packages with :mod:`ast` (nothing is imported or executed), builds the import graph of their
modules counting *every* import statement, including imports inside functions and under
``if TYPE_CHECKING:``, and prints one line per problem:

- ``cycle: a -> b -> a`` for every strongly connected group of modules (one cycle through it);
- ``file PATH N lines`` for a file over 600 lines;
- ``function PATH:LINE NAME N lines`` for a function or method over 60 lines (``def`` line to
  its last line; files under a ``migrations`` folder are exempt from both size rules);
- ``service PATH N lines`` when ``recommender/service.py`` is not under 400 lines;
- ``runtime MODULE imports NAME`` when a ``recommender`` module imports ``training``,
  ``benchmarks`` or ``stack``;
- ``data MODULE imports NAME`` when ``recommender.data`` imports a project module other than
  itself, ``recommender.domain``, ``recommender.config``, ``recommender.pseudonym`` or
  ``recommender.memo``.

It ends with a summary line and exits 1 when there is any problem, 0 otherwise.
``make test`` runs it after ``lint-imports`` (the import contracts in ``.importlinter``).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 60
MAX_SERVICE_LINES = 400  # recommender/service.py must stay under this
SERVICE_FILE = Path("recommender") / "service.py"
RUNTIME = "recommender"
OFFLINE = ("training", "benchmarks", "stack")
DATA = "recommender.data"
DATA_MAY_IMPORT = ("recommender.domain", "recommender.config", "recommender.pseudonym",
                   "recommender.memo")  # fmt: skip
DEFAULT_PACKAGES = ("recommender", "training")


@dataclass(frozen=True)
class Module:
    """One module of the scanned packages: its dotted name, file and parsed tree."""

    name: str
    path: Path
    tree: ast.Module
    lines: int

    @property
    def is_package(self) -> bool:
        """True for a package's ``__init__.py``."""
        return self.path.name == "__init__.py"


@dataclass
class Report:
    """The findings of one check, one printable line each (empty: the tree passes)."""

    cycles: list[list[str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Every problem line, cycles first."""
        return [format_cycle(cycle) for cycle in self.cycles] + self.problems

    def summary(self) -> str:
        """One line counting the problems by kind."""
        kinds = ("file", "function", "service", "runtime", "data")
        counts = {kind: sum(p.startswith(kind + " ") for p in self.problems) for kind in kinds}
        return (
            f"{len(self.cycles)} cycles, {counts['file']} long files, "
            f"{counts['function']} long functions, {counts['service']} oversized service, "
            f"{counts['runtime']} runtime->offline imports, {counts['data']} data-contract imports"
        )


def format_cycle(cycle: Sequence[str]) -> str:
    """``cycle: a -> b -> a`` for the cycle ``[a, b]``."""
    return "cycle: " + " -> ".join([*cycle, cycle[0]])


def module_name(root: Path, path: Path) -> str:
    """Dotted module name of ``path`` (a ``.py`` file under ``root``)."""
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def load_modules(*, root: Path, packages: Iterable[str]) -> dict[str, Module]:
    """Parse every ``.py`` file of ``packages`` under ``root``: {dotted name: Module}.

    Raises SyntaxError for a file that does not parse.
    """
    modules: dict[str, Module] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=str(path))
            name = module_name(root, path)
            modules[name] = Module(name, path, tree, len(text.splitlines()))
    return modules


def imported_names(module: Module) -> Iterator[str]:
    """Every dotted name one import statement of ``module`` may bind, anywhere in the file.

    ``import a.b`` gives ``a.b``; ``from a import b, c`` gives ``a``, ``a.b`` and ``a.c``
    (``b`` may be a submodule or a name in ``a``); relative imports are made absolute.
    """
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.name.split(".")
                keep = len(parts) - node.level + (1 if module.is_package else 0)
                base = ".".join(parts[:keep] + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def resolve(name: str, modules: Mapping[str, Module]) -> str | None:
    """The module of the scanned packages that ``name`` lives in (longest prefix), or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules: Mapping[str, Module]) -> dict[str, set[str]]:
    """{module: the scanned modules it imports}, self-imports dropped."""
    graph: dict[str, set[str]] = {}
    for name, module in modules.items():
        targets = {resolve(imported, modules) for imported in imported_names(module)}
        graph[name] = {target for target in targets if target and target != name}
    return graph


def strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Groups of two or more modules that import each other (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def cycle_through(group: Sequence[str], graph: Mapping[str, set[str]]) -> list[str]:
    """A shortest cycle from the first module of ``group`` back to it (breadth-first)."""
    start, members = group[0], set(group)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return path[::-1]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return list(group)  # not reached for a strongly connected group


def size_problems(*, root: Path, modules: Mapping[str, Module]) -> list[str]:
    """Files over 600 lines, functions over 60 lines (migrations exempt), service not < 400."""
    problems: list[str] = []
    for module in modules.values():
        relative = module.path.relative_to(root)
        if relative == SERVICE_FILE and module.lines >= MAX_SERVICE_LINES:
            problems.append(f"service {relative} {module.lines} lines (limit: under 400)")
        if "migrations" in relative.parts:
            continue
        if module.lines > MAX_FILE_LINES:
            problems.append(f"file {relative} {module.lines} lines")
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    problems.append(f"function {relative}:{node.lineno} {node.name} {size} lines")
    return problems


def layer_problems(modules: Mapping[str, Module]) -> list[str]:
    """Runtime modules importing the offline packages; the data contract importing upwards."""
    problems: list[str] = []
    for name, module in modules.items():
        if not (name == RUNTIME or name.startswith(RUNTIME + ".")):
            continue
        for imported in sorted(set(imported_names(module))):
            top = imported.partition(".")[0]
            if top in OFFLINE:
                problems.append(f"runtime {name} imports {imported}")
            elif _in_package(name, DATA) and top == RUNTIME and not _data_may_import(imported):
                problems.append(f"data {name} imports {imported}")
    return problems


def _in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _data_may_import(imported: str) -> bool:
    if imported == RUNTIME:  # `from recommender import domain` binds recommender.domain too
        return True
    return any(_in_package(imported, allowed) for allowed in (DATA, *DATA_MAY_IMPORT))


def check(*, root: Path, packages: Sequence[str] = DEFAULT_PACKAGES) -> Report:
    """Check the packages under ``root``: a Report of cycles and problem lines.

    Packages that are not folders under ``root`` are skipped. Raises SyntaxError for a file
    that does not parse.
    """
    present = [package for package in packages if (root / package).is_dir()]
    modules = load_modules(root=root, packages=present)
    graph = import_graph(modules)
    cycles = [cycle_through(group, graph) for group in strongly_connected(graph)]
    problems = size_problems(root=root, modules=modules) + layer_problems(modules)
    return Report(cycles=cycles, problems=problems)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print every problem and the summary; 1 when there is any, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES))
    args = parser.parse_args(argv)
    report = check(root=args.root.resolve(), packages=args.packages)
    for line in report.lines():
        print(line)
    print(report.summary())
    return 1 if report.lines() else 0


if __name__ == "__main__":
    sys.exit(main())
