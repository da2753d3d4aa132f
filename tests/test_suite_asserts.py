"""Every test checks something: no test function of the suite asserts nothing.

An AST scan of tests/: a ``test_*`` function passes when it (or a function of the same module it
calls, transitively) contains an ``assert`` or a ``raise``, calls ``pytest.raises`` / ``warns`` /
``fail``, calls a helper named ``assert*`` / ``check*`` / ``expect*`` / ``require*``, or
dispatches to a table of such helpers (``CASES[route](...)``).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PYTEST_CHECKS = {"raises", "warns", "fail", "deprecated_call"}
HELPER_PREFIXES = ("assert", "check", "expect", "require")
Function = ast.FunctionDef | ast.AsyncFunctionDef


def _called(call: ast.Call) -> str | None:
    """The called name; None for a call through a subscript (a dispatch table)."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None if isinstance(func, ast.Subscript) else ""


def _checks(function: Function, asserting: set[str]) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert | ast.Raise):
            return True
        if isinstance(node, ast.Call):
            name = _called(node)
            if name is None or name in PYTEST_CHECKS or name in asserting:
                return True
            if name.lstrip("_").lower().startswith(HELPER_PREFIXES):
                return True
    return False


def assertless_tests(source: str) -> list[str]:
    """Names of the ``test*`` functions in ``source`` that check nothing."""
    tree = ast.parse(source)
    functions = [node for node in ast.walk(tree) if isinstance(node, Function)]
    asserting: set[str] = set()
    grew = True
    while grew:
        found = {f.name for f in functions if f.name not in asserting and _checks(f, asserting)}
        asserting |= found
        grew = bool(found)
    return [f.name for f in functions if f.name.startswith("test") and f.name not in asserting]


def test_the_scan_tells_an_empty_test_from_a_checking_one() -> None:
    source = (
        "def _helper(x):\n    assert x\n\n"
        "def test_empty():\n    value = 1 + 1\n\n"
        "def test_through_helper():\n    _helper(1)\n\n"
        "def test_raises():\n    with pytest.raises(ValueError):\n        int('x')\n"
    )
    assert assertless_tests(source) == ["test_empty"]


def test_every_test_of_the_suite_checks_something() -> None:
    empty = [
        f"{path.relative_to(TESTS)}::{name}"
        for path in sorted(TESTS.rglob("test_*.py"))
        for name in assertless_tests(path.read_text(encoding="utf-8"))
    ]
    assert empty == [], f"tests that assert nothing (make them assert or remove them): {empty}"
