"""The one registry of ranking pipelines: every kind has one, an unknown kind is refused with
the known ones named, and each pipeline answers the contract with its own names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from recommender import bundles
from training import careers, programs
from training.kinds import Kind, parse_kind
from training.pipeline import PIPELINES, RankingPipeline, get_pipeline


def test_every_kind_has_one_pipeline() -> None:
    assert set(PIPELINES) == set(Kind)
    for kind, pipeline in PIPELINES.items():
        assert pipeline.kind is kind
        assert get_pipeline(kind.value) is pipeline
        assert get_pipeline(kind) is pipeline
        assert pipeline.model_name == f"jenjang-{kind.value}"


def test_pipelines_carry_their_module_names_and_configs() -> None:
    progs: RankingPipeline = get_pipeline("programs")
    cars: RankingPipeline = get_pipeline("careers")
    assert progs.model_name == programs.MODEL_NAME == "jenjang-programs"
    assert cars.model_name == careers.MODEL_NAME == "jenjang-careers"
    assert progs.headline_metric == "ndcg@10" and cars.headline_metric == "mrr"
    assert isinstance(progs.config(use_decisions=False), programs.ProgramsConfig)
    assert cars.config_from_run(params={"n_boot": "20"}, rules=None).n_boot == 20
    assert "popularity" in progs.baselines() and "markov" in cars.baselines()


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown model kind 'positions' \(known: programs, careers\)"
    ):
        get_pipeline("positions")
    with pytest.raises(ValueError, match="known: programs, careers"):
        parse_kind(name="")


def test_kind_names_mlflow() -> None:
    assert Kind.PROGRAMS == "programs" and f"fairness.{Kind.CAREERS}.sex" == "fairness.careers.sex"
    assert Kind.CAREERS.experiment == "jenjang-careers"
    assert Kind.PROGRAMS.train_command == "jenjang train programs"
    # the names training registers are the names the service serves
    assert tuple(k.model_name for k in Kind) == bundles.MODEL_NAMES


def test_mlflow_is_imported_only_by_the_tracking_and_bundle_modules() -> None:
    """One MLflow boundary: training talks to MLflow through training.tracking, the runtime
    (and the booster download with its SHA-256 check) through recommender.bundles."""
    root = Path(__file__).resolve().parents[2]
    found = set()
    for package in ("recommender", "training"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                if any(n == "mlflow" or n.startswith("mlflow.") for n in names):
                    found.add(path.relative_to(root).as_posix())
    assert found == {"recommender/bundles.py", "training/tracking.py"}
