"""The issue's acceptance path, as a user runs it: generate the 5,000-employee demo, validate,
ingest; every row kept, no NIP anywhere in the output or the logs."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from training.cli import app

NIP = re.compile(r"(?<!\d)\d{18}(?!\d)")


@pytest.mark.slow
def test_demo_generate_validate_ingest(tmp_path: Path) -> None:
    runner = CliRunner()
    raw, clean = tmp_path / "demo-check", tmp_path / "demo-check-clean"
    gen = runner.invoke(app, ["generate", "--employees", "5000", "--seed", "7", "--out", str(raw)])
    assert gen.exit_code == 0, gen.output
    val = runner.invoke(app, ["validate", str(raw)])
    assert val.exit_code == 0, val.output[-2000:]
    assert "employees" in val.output and "5,000" in val.output
    assert "0 error(s)" in val.output
    ing = runner.invoke(app, ["-v", "ingest", str(raw), "--out", str(clean)])
    assert ing.exit_code == 0, ing.output
    nips = set(pd.read_parquet(raw / "employees.parquet")["nip"])
    for path in raw.glob("*.parquet"):
        kept = pd.read_parquet(clean / path.name)
        assert len(kept) == len(pd.read_parquet(path)), path.name
        text = kept.astype(str).to_csv(index=False)
        assert not NIP.search(text), f"18-digit number in clean {path.name}"
    assert not (clean / "quarantine").exists() or not any((clean / "quarantine").iterdir())
    logs = gen.output + val.output + ing.output
    assert not NIP.search(logs)
    assert not any(nip in logs for nip in nips)
