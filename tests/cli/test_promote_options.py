"""``jenjang promote programs|careers`` hand their options to the promotion: the alias, the
fairness override and the parity floor (``--min-parity``, which the stack sets for
organisations too small for stable group figures)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from training import careers, programs
from training.cli import app


@pytest.mark.parametrize(("kind", "module"), [("programs", programs), ("careers", careers)])
def test_promote_passes_min_parity_and_override(
    kind: str, module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def promote(settings: Any, cfg: Any, candidate: str, override: str | None) -> dict[str, Any]:
        seen.update(cfg=cfg, candidate=candidate, override=override)
        return {"decision": "promoted", "version": "3", "reasons": ["beats the champion"]}

    monkeypatch.setattr(module, "promote", promote)
    runner = CliRunner()
    result = runner.invoke(app, ["promote", kind, "--min-parity", "0.25", "--model", "2"])
    assert result.exit_code == 0, result.output
    assert seen["cfg"].min_parity == 0.25
    assert (seen["candidate"], seen["override"]) == ("2", None)
    assert "promoted: version 3" in result.output
    assert "  - beats the champion" in result.output

    result = runner.invoke(app, ["promote", kind, "--accept-fairness-risk", "small org"])
    assert result.exit_code == 0, result.output
    assert seen["cfg"].min_parity == 0.8  # the model's own floor
    assert (seen["candidate"], seen["override"]) == ("challenger", "small org")


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_promote_refuses_a_parity_floor_outside_0_1(value: str) -> None:
    result = CliRunner().invoke(app, ["promote", "programs", "--min-parity", value])
    assert result.exit_code == 2


@pytest.mark.parametrize(("kind", "module"), [("programs", programs), ("careers", careers)])
def test_a_refusal_exits_3_and_prints_the_failed_checks(
    kind: str, module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's mapping of a refused decision (the gate itself is exercised on a real
    failing model in tests/training/test_fairness_gate.py)."""
    from training.cli.models import REFUSED_EXIT

    def promote(settings: Any, cfg: Any, candidate: str, override: str | None) -> dict[str, Any]:
        reasons = ["passed: sex ok", "failed: attainable exposure ratio by grade 0.5 [0.4, 0.6]"]
        return {"decision": "refused", "version": "4", "reasons": reasons, "failed": reasons[1:]}

    monkeypatch.setattr(module, "promote", promote)
    result = CliRunner().invoke(app, ["promote", kind])
    assert REFUSED_EXIT == 3 and result.exit_code == REFUSED_EXIT, result.output
    assert "refused: version 4; failed checks:" in result.output
    assert "  - failed: attainable exposure ratio by grade 0.5 [0.4, 0.6]" in result.output
