"""Every notebook runs from top to bottom (on the tiny organisation, few trees)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tiny_clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JENJANG_NOTEBOOK_DATA", str(tiny_clean))
    monkeypatch.setenv("JENJANG_NOTEBOOK_TREES", "30")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.parent)}})
    client.execute(env=dict(os.environ))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert any("ndcg@10" in str(o) for c in nb.cells for o in c.get("outputs", []))
