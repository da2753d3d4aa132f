"""Feature-group ablation: groups cover every feature once; ``jenjang evaluate programs
--ablation`` retrains, prints and logs on the model's run (a 300-employee organisation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.config import get_settings
from recommender.programs.features import FEATURES
from tests.conftest import isolated_settings
from training import ablation, programs, tracking


def test_groups_cover_every_feature_exactly_once() -> None:
    ablation.check_groups()
    names = [f for group in ablation.FEATURE_GROUPS.values() for f in group]
    assert sorted(names) == sorted(FEATURES)
    assert {"gaps", "priorities", "popularity", "history", "modality"} <= set(
        ablation.FEATURE_GROUPS
    )
    assert {"cost_accreditation", "collaborative"} <= set(ablation.FEATURE_GROUPS)


def test_check_groups_names_what_is_wrong() -> None:
    groups = dict(ablation.FEATURE_GROUPS)
    groups["extra"] = ("age", "nonsense")
    groups["gaps"] = groups["gaps"][1:]
    with pytest.raises(ValueError) as exc:
        ablation.check_groups(groups=groups)
    text = str(exc.value)
    assert "in no group: gap_coverage" in text
    assert "age (person, extra)" in text
    assert "not a feature: nonsense" in text


@pytest.mark.slow
def test_cli_ablation_logs_on_the_run(tiny_clean: Path, tmp_path: Path) -> None:
    from training.cli import app

    settings = isolated_settings(tmp_path)
    cfg = programs.ProgramsConfig(n_estimators=30, n_boot=20, use_decisions=False)
    trained = programs.train(settings, tiny_clean, cfg, progress=lambda _: None)
    env = {
        "JENJANG_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "JENJANG_MLFLOW_ARTIFACT_ROOT": settings.mlflow_artifact_root,
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    get_settings.cache_clear()
    try:
        args = ["evaluate", "programs", "--ablation", "--json", "--data", str(tiny_clean)]
        result = CliRunner().invoke(app, args, env=env)
        table = CliRunner().invoke(app, args[:3] + args[4:] + ["--model", "1"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["run_id"] == trained["run_id"]
    assert set(out["groups"]) == set(ablation.FEATURE_GROUPS)
    full = out["full"]["ndcg@10"]
    for row in out["groups"].values():
        assert row["change"] == pytest.approx(row["ndcg@10"] - full, abs=1e-9)
        assert row["change_ci"][0] <= row["change"] <= row["change_ci"][1]
    logged = tracking.run_metrics(settings, trained["run_id"])
    assert logged["ablation.gaps.change"] == pytest.approx(out["groups"]["gaps"]["change"])
    assert "ablation.collaborative.change_ci_low" in logged
    assert table.exit_code == 0, table.output
    assert "Ablation" in table.stdout and "priorities" in table.stdout
    assert f"logged on run {trained['run_id']}" in table.stdout
    # the test-year evaluation of the run carries every issue-16 baseline
    for name in ("behaviour_formula", "ease", "rp3beta", "popularity", "popularity_pool"):
        assert 0 <= trained["test"][name]["ndcg@10"] <= 1
    assert set(trained["test"]["ease"]["params"]) == {"l2"}
    assert set(trained["test"]["model"]["ndcg@10_by_family"]) == {
        "classical",
        "self_paced",
        "workplace",
    }


def test_ablation_refused_for_careers(tmp_path: Path) -> None:
    from training.cli import app

    result = CliRunner().invoke(
        app,
        ["evaluate", "careers", "--ablation", "--data", str(tmp_path)],
        env={"MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    assert result.exit_code == 2
    assert "programs only" in result.output
