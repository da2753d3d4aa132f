"""MLflow tracking, registry, promotion gate and the CLI, on a real local SQLite store.

One scenario per module (training is the slow part): train a model (version 1, challenger);
promotion refused on parity, then promoted with ``min_parity=0``; train a deliberately worse
model (version 2, the new challenger) and see its promotion refused on NDCG@10 while version 1
stays champion. The tests below check each step's records.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.config import Settings, get_settings
from recommender.programs.features import FEATURES
from recommender.programs.ranker import ProgramRanker, sha256_text
from tests.conftest import isolated_settings
from tests.model.conftest import Trained
from training import programs, tracking
from training.baselines import ALL_BASELINES
from training.datasets import SPLITS, concat
from training.fingerprint import data_fingerprint

CFG = programs.ProgramsConfig(n_estimators=40, n_boot=20)
WORSE = programs.ProgramsConfig(n_estimators=1, num_leaves=2, n_boot=20)
NO_PARITY = programs.ProgramsConfig(min_parity=0.0)
BASELINES = ALL_BASELINES
HEADLINE = ("ndcg@10", "recall@10", "map@10", "mrr", "coverage")


@dataclass
class Scenario:
    settings: Settings
    data: Path
    root: Path
    before_training: dict[str, str] = field(default_factory=dict)
    first: dict[str, Any] = field(default_factory=dict)
    worse: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    challenger_after_first: str = ""
    pyfunc_scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)


def _settings(root: Path) -> Settings:
    return isolated_settings(root)  # never the project's own database or MLflow store


@pytest.fixture(scope="module")
def scenario(
    tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory, trained: Trained
) -> Iterator[Scenario]:
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    root = tmp_path_factory.mktemp("mlflow")
    s = Scenario(_settings(root), tiny_clean, root)
    quiet = lambda _: None  # noqa: E731
    for name, call in (
        ("promote", lambda: programs.promote(s.settings, NO_PARITY)),
        ("load", lambda: programs.load_registered(s.settings, "champion")),
    ):
        try:
            call()
        except LookupError as exc:
            s.before_training[name] = str(exc)
    s.first = programs.train(s.settings, tiny_clean, CFG, progress=quiet)
    s.challenger_after_first = tracking.version_for(
        s.settings, programs.MODEL_NAME, tracking.CHALLENGER
    ).version
    s.candidates = concat(trained.frames["test"]).head(400)
    tracking.client(s.settings)
    model = mlflow.pyfunc.load_model(f"models:/{programs.MODEL_NAME}@challenger")
    s.pyfunc_scores = np.asarray(model.predict(s.candidates[list(FEATURES)]))
    strict = programs.ProgramsConfig(min_parity=0.99)
    s.decisions["strict_parity"] = programs.promote(s.settings, strict)
    s.decisions["first"] = programs.promote(s.settings, NO_PARITY)
    s.decisions["again"] = programs.promote(s.settings, NO_PARITY)
    s.worse = programs.train(s.settings, tiny_clean, WORSE, progress=quiet)
    s.decisions["worse"] = programs.promote(s.settings, NO_PARITY)
    yield s
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _run(s: Scenario, summary: dict[str, Any]) -> Any:
    return tracking.client(s.settings).get_run(summary["run_id"])


def _artifact_text(s: Scenario, summary: dict[str, Any], path: str) -> str:
    import mlflow

    tracking.client(s.settings)
    text: str = mlflow.artifacts.load_text(f"runs:/{summary['run_id']}/{path}")
    return text


def test_nothing_to_promote_or_load_before_training(scenario: Scenario) -> None:
    assert "run `jenjang train programs`" in scenario.before_training["promote"]
    assert "jenjang-programs@champion" in scenario.before_training["load"]


def test_run_logs_config_and_data_fingerprint(scenario: Scenario) -> None:
    params = _run(scenario, scenario.first).data.params
    for key, value in CFG.model_dump().items():
        assert params[key] == str(value), key
    assert params["n_estimators"] == "40"
    expected = hashlib.sha256()
    for path in sorted(scenario.data.glob("*.parquet")):
        expected.update(f"{path.name}\0".encode())
        expected.update(hashlib.sha256(path.read_bytes()).hexdigest().encode())
    assert params["data_fingerprint"] == expected.hexdigest()
    assert params["data_fingerprint"] == data_fingerprint(directory=scenario.data)
    assert json.loads(params["splits"]) == {k: list(v) for k, v in SPLITS.items()}
    assert int(params["rows_train"]) > int(params["rows_test"]) > 1000
    assert _run(scenario, scenario.first).data.tags["mlflow.runName"] == "programs"


def test_run_logs_test_metrics_of_the_model_and_every_baseline(scenario: Scenario) -> None:
    metrics = _run(scenario, scenario.first).data.metrics
    results = scenario.first["test"]
    for ranker in ("model", *BASELINES):
        for name in ("ndcg@10", "ndcg@5", "recall@10", "map@10", "mrr", "coverage"):
            key = tracking.metric_key("test", ranker, name)
            assert metrics[key] == pytest.approx(results[ranker][name], abs=1e-12), key
        assert 0 < metrics[f"test.{ranker}.ndcg_at_10"] < 1
        assert metrics[f"test.{ranker}.queries"] > 100
    for base in BASELINES:
        assert f"test.model.vs_{base}.lift" in metrics
    # the served order's cost beside the unconstrained figures (issue 18), logged too
    policy = results["model"]["policy"]
    assert policy["k"] == 10 and policy["guarantee"] == 3
    assert policy["ndcg@10_unconstrained"] == pytest.approx(results["model"]["ndcg@10"])
    assert 0 < policy["ndcg@10"] < 1 and policy["queries"] == results["model"]["queries"]
    assert metrics["test.model.policy.ndcg_at_10"] == pytest.approx(policy["ndcg@10"])
    assert metrics["test.model.policy.ndcg_at_10_cost"] == pytest.approx(policy["ndcg@10_cost"])
    logged = json.loads(_artifact_text(scenario, scenario.first, "evaluation/test.json"))
    assert logged["model"]["ndcg@10"] == pytest.approx(results["model"]["ndcg@10"])
    assert set(logged) == {"model", *BASELINES}


def test_run_logs_plots_and_the_booster_with_its_hash(scenario: Scenario) -> None:
    c = tracking.client(scenario.settings)
    run_id = scenario.first["run_id"]
    plots = [a.path for a in c.list_artifacts(run_id, "plots")]
    assert len(plots) >= 2
    assert all(p.startswith("plots/") and p.endswith(".png") for p in plots)
    assert {a.path for a in c.list_artifacts(run_id, "booster")} == {
        "booster/model.txt",
        "booster/meta.json",
    }
    text = _artifact_text(scenario, scenario.first, "booster/model.txt")
    meta = json.loads(_artifact_text(scenario, scenario.first, "booster/meta.json"))
    assert meta["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert meta["features"] == list(FEATURES)
    assert meta["best_iteration"] == scenario.first["best_iteration"]
    assert meta["format"] == "lightgbm-text"
    # everything stays in the temporary folder
    assert (scenario.root / "artifacts").is_dir()
    assert str(scenario.root) in c.get_run(run_id).info.artifact_uri


def test_registered_model_is_the_trained_ranker_and_pyfunc_scores_like_it(
    scenario: Scenario, trained: Trained
) -> None:
    ranker, mv = programs.load_registered(scenario.settings, scenario.first["version"])
    assert str(mv.run_id) == scenario.first["run_id"]
    # the same frames and seed give the same booster: the registry holds what was trained
    refit = programs.fit_ranker(
        concat(trained.frames["train"]), concat(trained.frames["validation"]), CFG
    )
    assert ranker.to_text() == refit.to_text()
    text = _artifact_text(scenario, scenario.first, "booster/model.txt")
    assert sha256_text(text) == sha256_text(refit.to_text())
    X = scenario.candidates[list(FEATURES)]
    expected = refit.predict(X)
    assert np.unique(expected).size > 50
    np.testing.assert_allclose(scenario.pyfunc_scores, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ProgramRanker.from_text(text).predict(X), expected)


def test_challenger_alias_points_at_each_new_version(scenario: Scenario) -> None:
    assert str(scenario.first["version"]) == "1"
    assert str(scenario.challenger_after_first) == "1"
    assert str(scenario.worse["version"]) == "2"
    now = tracking.version_for(scenario.settings, programs.MODEL_NAME, tracking.CHALLENGER)
    assert str(now.version) == "2"
    assert now.run_id == scenario.worse["run_id"]


def test_parity_below_min_parity_is_refused_with_that_reason(scenario: Scenario) -> None:
    decision = scenario.decisions["strict_parity"]
    assert decision["decision"] == "refused"
    assert decision["champion_before"] is None
    parity = {
        k.rsplit(".", 1)[1]: v
        for k, v in _run(scenario, scenario.first).data.metrics.items()
        if k.startswith("test.model.parity.")
    }
    assert parity and min(parity.values()) < 0.99
    for group, value in parity.items():
        if value < 0.99:
            assert f"parity by {group} is {value:.3f} < 0.99" in decision["reasons"]


def test_first_promotion_without_champion_passes_the_gate(scenario: Scenario) -> None:
    first = scenario.decisions["first"]
    assert first["decision"] == "promoted"
    assert str(first["version"]) == "1"
    assert first["champion_before"] is None
    assert any(r.startswith("no champion yet; NDCG@10") for r in first["reasons"])
    again = scenario.decisions["again"]
    assert again["decision"] == "unchanged"
    assert again["reasons"] == ["version 1 is already the champion"]


def test_a_worse_model_is_refused_and_the_champion_kept(scenario: Scenario) -> None:
    old = scenario.first["test"]["model"]["ndcg@10"]
    new = scenario.worse["test"]["model"]["ndcg@10"]
    assert new < old  # the premise: one stump ranks worse than 40 trees
    decision = scenario.decisions["worse"]
    assert decision["decision"] == "refused"
    assert str(decision["version"]) == "2"
    assert str(decision["champion_before"]) == "1"
    assert any("NDCG@10" in r and "does not beat the champion" in r for r in decision["reasons"])
    champion = tracking.version_for(scenario.settings, programs.MODEL_NAME, tracking.CHAMPION)
    assert str(champion.version) == "1"
    # the decision is logged on the refused model's run
    run = _run(scenario, scenario.worse)
    assert run.data.tags["promotion.decision"] == "refused"
    assert "NDCG@10" in run.data.tags["promotion.reasons"]
    logged = json.loads(_artifact_text(scenario, scenario.worse, "promotion_decision.json"))
    assert logged["decision"] == "refused"
    assert logged["reasons"] == decision["reasons"]
    assert _run(scenario, scenario.first).data.tags["promotion.decision"] == "promoted"


def test_registered_models_lists_versions_aliases_and_runs(scenario: Scenario) -> None:
    models = tracking.registered_models(scenario.settings)
    assert [m["name"] for m in models] == [programs.MODEL_NAME]
    versions = models[0]["versions"]
    assert [str(v["version"]) for v in versions] == ["1", "2"]
    assert versions[0]["aliases"] == ["champion"]
    assert versions[1]["aliases"] == ["challenger"]
    assert versions[0]["run_id"] == scenario.first["run_id"]
    assert versions[1]["run_id"] == scenario.worse["run_id"]
    assert versions[0]["metrics"]["ndcg_at_10"] == pytest.approx(
        scenario.first["test"]["model"]["ndcg@10"]
    )


def _gate_metrics(ndcg: float, **parity: float) -> dict[str, float]:
    out = {"test.model.ndcg_at_10": ndcg, "test.gap_rule.parity.sex": 0.1}  # baselines ignored
    out.update({f"test.model.parity.{g}": v for g, v in parity.items()})
    return out


def test_gate_unit_cases() -> None:
    cfg = programs.ProgramsConfig()
    ok, reasons = programs.gate(_gate_metrics(0.2, sex=0.9, region=0.85), None, cfg)
    assert ok
    assert reasons == [
        "parity by region 0.850 >= 0.8",
        "parity by sex 0.900 >= 0.8",
        "no champion yet; NDCG@10 0.2000",
    ]
    ok, reasons = programs.gate(_gate_metrics(0.2, sex=0.79, region=0.85), None, cfg)
    assert not ok
    assert "parity by sex is 0.790 < 0.8" in reasons
    champion = _gate_metrics(0.30, sex=0.9)
    assert programs.gate(_gate_metrics(0.31, sex=0.9), champion, cfg)[0]
    ok, reasons = programs.gate(_gate_metrics(0.30, sex=0.9), champion, cfg)  # a tie is not enough
    assert not ok
    assert reasons[-1] == ("NDCG@10 0.3000 does not beat the champion's 0.3000 by the margin 0.0")
    margin = programs.ProgramsConfig(promote_margin=0.02)
    assert not programs.gate(_gate_metrics(0.31, sex=0.9), champion, margin)[0]
    assert programs.gate(_gate_metrics(0.33, sex=0.9), champion, margin)[0]
    # better NDCG does not buy a parity failure; min_parity 0 turns the parity check off
    assert not programs.gate(_gate_metrics(0.5, grade=0.5), champion, cfg)[0]
    assert programs.gate(_gate_metrics(0.5, grade=0.5), champion, NO_PARITY)[0]
    # no parity logged (too few queries per group): only NDCG decides
    ok, reasons = programs.gate(_gate_metrics(0.5), champion, cfg)
    assert ok and reasons == ["NDCG@10 0.5000 beats the champion's 0.3000"]


@pytest.fixture
def cli_env(scenario: Scenario) -> Iterator[dict[str, str]]:
    get_settings.cache_clear()
    yield {
        "JENJANG_MLFLOW_TRACKING_URI": scenario.settings.mlflow_tracking_uri,
        "JENJANG_MLFLOW_ARTIFACT_ROOT": scenario.settings.mlflow_artifact_root,
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    get_settings.cache_clear()


def _invoke(args: list[str], env: dict[str, str]) -> Any:
    from training.cli import app

    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_cli_models_json(scenario: Scenario, cli_env: dict[str, str]) -> None:
    out = _invoke(["models", "--json"], cli_env)
    assert out == {"models": json.loads(json.dumps(tracking.registered_models(scenario.settings)))}
    (model,) = out["models"]
    assert {str(v["version"]): v["aliases"] for v in model["versions"]} == {
        "1": ["champion"],
        "2": ["challenger"],
    }


def test_cli_evaluate_programs_json(scenario: Scenario, cli_env: dict[str, str]) -> None:
    args = ["evaluate", "programs", "--json", "--data", str(scenario.data), "--model", "champion"]
    out = _invoke(args, cli_env)
    assert set(out) == {"model", *BASELINES}
    for ranker, figures in out.items():
        for key in HEADLINE:
            assert 0 <= figures[key] <= 1, (ranker, key)
            # re-scoring version 1 on the same data gives the training run's test figures
            expected = scenario.first["test"][ranker][key]
            assert figures[key] == pytest.approx(expected, abs=1e-12), (ranker, key)
    assert out["model"]["best_baseline"] in BASELINES
    assert out["model"]["lift_vs_best"] == pytest.approx(
        scenario.first["test"]["model"][f"vs_{out['model']['best_baseline']}"]["lift"]
    )
    trained = scenario.first["test"]["model"]["policy"]
    for key in ("ndcg@10", "ndcg@10_unconstrained", "ndcg@10_cost", "queries_reranked"):
        assert out["model"]["policy"][key] == pytest.approx(trained[key], abs=1e-12), key


def test_cli_evaluate_without_such_model_exits_2(
    scenario: Scenario, cli_env: dict[str, str]
) -> None:
    from training.cli import app

    args = ["evaluate", "programs", "--json", "--data", str(scenario.data), "--model", "nope"]
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 2
    assert "no model jenjang-programs@nope" in result.output
