"""The next-position pipeline on the tiny organisation: point-in-time features, labelled
frames, ranking metrics by hand, MLflow registration with a verified hash, the promotion gate
and the CLI.

One scenario per module (training is the slow part), in its own SQLite MLflow store under a
temporary folder: train (version 1, challenger); promote it (no champion yet); promote it again
(unchanged); train a deliberately worse model (version 2, one stump) and see its promotion
refused while version 1 stays champion.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.careers.features import FEATURES, build_context, candidate_frame
from recommender.careers.rules import load_rules
from recommender.config import Settings, get_settings
from recommender.programs.catalog import build_catalog
from recommender.programs.ranker import ModelIntegrityError, sha256_text
from recommender.snapshot import build_snapshot
from tests.conftest import isolated_settings
from training import careers, tracking
from training.careers_data import (
    METRICS,
    QUERY,
    CareerYear,
    build_year,
    per_query,
    target_ranks,
    year_queries,
)
from training.datasets import SPLITS

Tables = dict[str, pd.DataFrame]

SMALL = careers.CareersConfig(n_estimators=50, n_boot=20)
WORSE = careers.CareersConfig(n_estimators=1, num_leaves=2, n_boot=20)
RANKERS = ("model", "markov", "similarity", "rules")
#: the top-level keys of the evaluation over everyone active (training/careers_eval.py)
EVERYONE = (
    "move_auc",
    "move_auc_baseline",
    "move_brier",
    "move_brier_baseline",
    "verdict_recall_12m",
    "verdict_recall_now",
    "verdict_precision_now",
)
YEAR = 2024
T = pd.Timestamp(f"{YEAR}-01-01")
HISTORY = (
    "trans_count",
    "trans_share",
    "trans_rank",
    "tier_trans_share",
    "into_recent",
    "training_pattern",
    "markov",
)
ELIGIBILITY = ("eligible", "n_failed", "move_kind", "rule", "p_training_mask")


# ------------------------------------------------------------------------- point in time
def _cut(tables: Tables, at: pd.Timestamp) -> Tables:
    """A copy without any career move dated on/after ``at`` and without any enrolment that
    started or ended on/after it."""
    out = {name: df.copy() for name, df in tables.items()}
    moves = out["career_moves"]
    out["career_moves"] = moves[moves["move_date"] < at].reset_index(drop=True)
    enr = out["enrollments"]
    out["enrollments"] = enr[(enr["start_date"] < at) & (enr["end_date"] < at)].reset_index(
        drop=True
    )
    return out


def _frame(tables: Tables, snap_tables: Tables, at: pd.Timestamp = T) -> pd.DataFrame:
    """Every person's candidates on ``at``: snapshot from ``snap_tables``, history and
    eligibility from ``tables``."""
    snap = build_snapshot(snap_tables, at)
    ctx = build_context(tables, snap, build_catalog(tables), load_rules())
    return candidate_frame(ctx, np.arange(len(snap.people)), detail=True)


@pytest.fixture(scope="module")
def full_frame(clean_tables_once: Tables) -> pd.DataFrame:
    return _frame(clean_tables_once, clean_tables_once)


def test_history_and_eligibility_do_not_read_moves_or_enrolments_from_on_or_after_t(
    clean_tables_once: Tables, full_frame: pd.DataFrame
) -> None:
    full = clean_tables_once
    cut = _cut(full, T)
    # there is something to drop, and something before T to learn from
    assert len(cut["career_moves"]) < len(full["career_moves"])
    assert len(cut["enrollments"]) < len(full["enrollments"])
    assert full_frame["trans_count"].gt(0).sum() > 50
    assert full_frame["training_pattern"].nunique() > 100
    assert set(full_frame["eligible"]) == {0.0, 1.0}
    # The employees table holds today's post; the snapshot reconstructs the post on T from the
    # *from* side of the first later move, so it keeps the moves (tests/model/test_point_in_time
    # covers that). Everything else comes from the cut tables.
    snap_tables = {**cut, "career_moves": full["career_moves"]}
    frame = _frame(cut, snap_tables)
    for col in (*HISTORY, *ELIGIBILITY):
        pd.testing.assert_series_equal(frame[col], full_frame[col], obj=col)
    pd.testing.assert_frame_equal(frame, full_frame)


def test_the_same_cut_a_year_earlier_changes_the_history(
    clean_tables_once: Tables, full_frame: pd.DataFrame
) -> None:
    """Moves and completions before T are read: dropping 2023 on changes the features (so the
    test above can fail)."""
    full = clean_tables_once
    earlier = _cut(full, pd.Timestamp(f"{YEAR - 1}-01-01"))
    frame = _frame(earlier, {**earlier, "career_moves": full["career_moves"]})
    for col in ("trans_count", "into_recent", "training_pattern", "p_training_mask"):
        assert not frame[col].equals(full_frame[col]), col


# -------------------------------------------------------------------- labelled year frames
@pytest.fixture(scope="module")
def years(clean_tables_once: Tables) -> dict[int, CareerYear]:
    tables = clean_tables_once
    cat, rules = build_catalog(tables), load_rules()
    all_years = sorted(y for ys in SPLITS.values() for y in ys)
    return {y: build_year(tables, cat, rules, y) for y in all_years}


def test_every_query_has_exactly_one_right_answer_among_all_other_positions(
    clean_tables_once: Tables, years: dict[int, CareerYear]
) -> None:
    n_positions = len(clean_tables_once["positions"])
    total = 0
    for year, cy in years.items():
        frame = cy.frame
        assert (frame["year"] == year).all()
        per_q = frame.groupby(QUERY)
        assert (per_q["label"].sum() == 1).all(), year
        assert set(frame["label"]) == {0, 1}
        # full ranking: every position except the current one, each once
        assert (per_q.size() == n_positions - 1).all(), year
        assert not (frame["position_id"] == frame["current_position_id"]).any(), year
        assert not frame.duplicated([*QUERY, "position_id"]).any(), year
        # the right answer is the first career move of the year
        truth = year_queries(clean_tables_once, year).set_index("employee_id")["to_position_id"]
        right = frame[frame["label"] == 1].set_index("employee_id")["position_id"]
        assert (right == truth.reindex(right.index)).all(), year
        total += len(right)
    # 300 employees: 48 career queries since the generator moves people under the rules
    # (issue 17: vacancy on 1 January, credit points), was more than 50 before
    assert total > 40


def test_queries_are_first_career_moves_of_the_year(clean_tables_once: Tables) -> None:
    q = year_queries(clean_tables_once, YEAR)
    assert len(q) > 0 and q["employee_id"].is_unique
    moves = clean_tables_once["career_moves"]
    choices = moves[
        (moves["move_date"].dt.year == YEAR)
        & (moves["move_type"] != "equalisation")
        & (moves["from_position_id"] != moves["to_position_id"])
    ]
    first = choices.sort_values("move_date").groupby("employee_id").head(1)
    expected = first.set_index("employee_id")["to_position_id"]
    assert q.set_index("employee_id")["to_position_id"].sort_index().equals(expected.sort_index())


# ------------------------------------------------------------------- ranking metrics by hand
def _hand_frame() -> tuple[pd.DataFrame, np.ndarray]:
    rows: list[tuple[int, str, int, float]] = [
        # (year, employee, label, score)
        # a/2025: the answer has the second-highest score -> rank 2
        (2025, "a", 0, 0.9),
        (2025, "a", 1, 0.8),
        (2025, "a", 0, 0.1),
        (2025, "a", 0, 0.5),
        # b: top score -> rank 1
        (2025, "b", 1, 3.0),
        (2025, "b", 0, 2.0),
        (2025, "b", 0, -1.0),
        # c: sixth of seven -> rank 6, outside the top 5
        *[(2025, "c", int(s == 2), float(s)) for s in (7, 6, 5, 4, 3, 2, 1)],
        # d: the true target is not among the candidates -> a miss
        (2025, "d", 0, 1.0),
        (2025, "d", 0, 0.5),
        (2025, "d", 0, 0.0),
        # a/2024 is another query: the answer scores lowest of two -> rank 2
        (2024, "a", 1, 0.2),
        (2024, "a", 0, 0.3),
    ]
    frame = pd.DataFrame(rows, columns=["year", "employee_id", "label", "score"])
    return frame.drop(columns="score"), frame["score"].to_numpy()


EXPECTED = {
    # (year, employee): rank, hit@1, hit@5, mrr, ndcg@5
    (2024, "a"): (2, 0.0, 1.0, 1 / 2, 1 / math.log2(3)),
    (2025, "a"): (2, 0.0, 1.0, 1 / 2, 1 / math.log2(3)),
    (2025, "b"): (1, 1.0, 1.0, 1.0, 1.0),
    (2025, "c"): (6, 0.0, 0.0, 1 / 6, 0.0),
    (2025, "d"): (math.inf, 0.0, 0.0, 0.0, 0.0),
}


def test_target_ranks_by_hand() -> None:
    frame, score = _hand_frame()
    ranks = target_ranks(frame, score)
    assert list(ranks.columns) == ["year", "employee_id", "rank"]
    got = {(int(y), e): r for y, e, r in ranks.itertuples(index=False)}
    assert got == {k: v[0] for k, v in EXPECTED.items()}


def test_per_query_by_hand() -> None:
    frame, score = _hand_frame()
    pq = per_query(frame, score)
    assert list(pq.columns) == list(METRICS)
    assert pq.index.names == QUERY
    for key, (_rank, *values) in EXPECTED.items():
        got = pq.loc[[key]].to_numpy(float)[0]
        np.testing.assert_allclose(got, np.array(values), err_msg=str(key))
    means = pq.mean()
    assert means["hit@1"] == pytest.approx(1 / 5)
    assert means["hit@5"] == pytest.approx(3 / 5)
    assert means["mrr"] == pytest.approx((0.5 + 0.5 + 1 + 1 / 6 + 0) / 5)
    assert means["ndcg@5"] == pytest.approx((2 / math.log2(3) + 1) / 5)
    assert np.isfinite(pq.to_numpy()).all()  # a miss is 0, not NaN or inf


def test_row_order_does_not_matter() -> None:
    frame, score = _hand_frame()
    order = np.random.default_rng(1).permutation(len(frame))
    shuffled = per_query(frame.iloc[order].reset_index(drop=True), score[order])
    pd.testing.assert_frame_equal(shuffled.sort_index(), per_query(frame, score).sort_index())


def _tied(n_queries: int, n_candidates: int, answer_at: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": 2025,
            "employee_id": np.repeat([f"e{i:04d}" for i in range(n_queries)], n_candidates),
            "label": np.tile(np.arange(n_candidates) == answer_at, n_queries).astype(int),
        }
    )


@pytest.mark.parametrize("answer_at", [0, 9])
def test_ties_do_not_favour_catalogue_order(answer_at: int) -> None:
    """All scores equal: the answer's rank is uniform over 1..10 whether it comes first or
    last in catalogue order, and the same seed gives the same ranks."""
    frame = _tied(400, 10, answer_at)
    score = np.zeros(len(frame))
    ranks = target_ranks(frame, score, seed=3)["rank"]
    assert 0.05 < (ranks == 1).mean() < 0.16
    assert 0.05 < (ranks == 10).mean() < 0.16
    assert 4.5 < ranks.mean() < 6.5
    assert set(ranks) == set(range(1, 11))
    # reproducible: same seed, same ranks; another seed, other ranks
    pd.testing.assert_series_equal(target_ranks(frame, score, seed=3)["rank"], ranks)
    assert not target_ranks(frame, score, seed=4)["rank"].equals(ranks)
    pq = per_query(frame, score)
    pd.testing.assert_frame_equal(pq, per_query(frame, score))
    assert pq["hit@1"].mean() < 0.2


def test_partial_ties_stay_within_the_tied_block() -> None:
    """The answer tied with one other candidate at the top: rank 1 or 2, never lower."""
    frame = _tied(200, 5, 0)
    score = np.tile([1.0, 1.0, 0.5, 0.2, 0.0], 200)
    ranks = target_ranks(frame, score)["rank"]
    assert set(ranks) == {1, 2}
    assert 0.35 < (ranks == 1).mean() < 0.65


# -------------------------------------------------------------------------- the scenario
@dataclass
class Scenario:
    settings: Settings
    data: Path
    root: Path
    before_training: dict[str, str] = field(default_factory=dict)
    first: dict[str, Any] = field(default_factory=dict)
    worse: dict[str, Any] = field(default_factory=dict)
    challenger_after_first: str = ""
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)


def _settings(root: Path) -> Settings:
    return isolated_settings(root)


@pytest.fixture(scope="module")
def scenario(tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    root = tmp_path_factory.mktemp("mlflow_careers")
    s = Scenario(_settings(root), tiny_clean, root)
    quiet = lambda _: None  # noqa: E731
    for name, call in (
        ("promote", lambda: careers.promote(s.settings, SMALL)),
        ("load", lambda: careers.load_registered(s.settings, "champion")),
    ):
        try:
            call()
        except LookupError as exc:
            s.before_training[name] = str(exc)
    s.first = careers.train(s.settings, tiny_clean, SMALL, progress=quiet)
    challenger = tracking.version_for(s.settings, careers.MODEL_NAME, tracking.CHALLENGER)
    assert challenger is not None
    s.challenger_after_first = str(challenger.version)
    s.decisions["first"] = careers.promote(s.settings, SMALL)
    s.decisions["again"] = careers.promote(s.settings, SMALL)
    s.worse = careers.train(s.settings, tiny_clean, WORSE, progress=quiet)
    s.decisions["worse"] = careers.promote(s.settings, SMALL)
    yield s
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    mlflow.set_registry_uri(None)  # type: ignore[arg-type]
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _run(s: Scenario, summary: dict[str, Any]) -> Any:
    return tracking.client(s.settings).get_run(summary["run_id"])


def _artifact_dir(s: Scenario, summary: dict[str, Any]) -> Path:
    uri = _run(s, summary).info.artifact_uri
    path = Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)
    assert path.is_dir() and str(s.root) in str(path), uri  # everything stays in tmp
    return path


def test_nothing_to_promote_or_load_before_training(scenario: Scenario) -> None:
    assert "run `jenjang train careers` first" in scenario.before_training["promote"]
    assert "jenjang-careers@champion" in scenario.before_training["load"]


def test_train_registers_a_challenger_with_its_results(scenario: Scenario) -> None:
    first = scenario.first
    assert first["model"] == "jenjang-careers"
    assert str(first["version"]) == "1" and scenario.challenger_after_first == "1"
    assert first["best_iteration"] >= 1
    assert set(first["test"]) == set(RANKERS)
    for ranker in RANKERS:
        for m in METRICS:
            assert 0 <= first["test"][ranker][m] <= 1, (ranker, m)
        assert first["test"][ranker]["queries"] > 5
    run = _run(scenario, first)
    params = run.data.params
    assert params["n_estimators"] == "50" and params["n_boot"] == "20"
    assert params["rules_version"] == "kemnaker-demo-2026.1"
    assert run.data.metrics["test.model.mrr"] == pytest.approx(first["test"]["model"]["mrr"])
    assert run.data.metrics["test.markov.hit_at_5"] == pytest.approx(
        first["test"]["markov"]["hit@5"]
    )
    # the served order's cost beside the unconstrained figures (issue 18), logged too
    policy = first["test"]["model"]["policy"]
    assert policy["k"] == 10 and policy["guarantee"] == 3
    for m in ("mrr", "hit@5"):
        assert policy[f"{m}_unconstrained"] == pytest.approx(first["test"]["model"][m])
        assert 0 <= policy[m] <= 1
    assert policy["queries"] == first["test"]["model"]["queries"]
    metrics = run.data.metrics
    assert metrics["test.model.policy.mrr_cost"] == pytest.approx(policy["mrr_cost"])
    assert metrics["test.model.policy.hit_at_5"] == pytest.approx(policy["hit@5"])


def test_train_measures_everyone_active_and_logs_it(scenario: Scenario) -> None:
    everyone = scenario.first["everyone"]
    assert everyone["everyone_year"] == 2025 and everyone["move_fit_year"] == 2024
    # everyone active on 1 January, not only the movers
    assert everyone["move_people"] > 4 * scenario.first["test"]["model"]["queries"]
    for key in EVERYONE:
        assert 0 <= everyone[key] <= 1, key
    assert everyone["verdict_recall_now"] <= everyone["verdict_recall_12m"]
    assert everyone["verdict_called_now"] <= everyone["verdict_called_12m"]
    assert everyone["verdict_upward_moves"] > 0
    kinds = everyone["by_move_type"]
    assert kinds and all(set(RANKERS) <= set(row) for row in kinds.values())
    assert all("model_vs_rules" in row for row in kinds.values())
    run = _run(scenario, scenario.first)
    for key in EVERYONE:
        assert run.data.metrics[f"everyone.{key}"] == pytest.approx(everyone[key])
    folder = _artifact_dir(scenario, scenario.first)
    assert (folder / "plots" / "move_calibration.png").stat().st_size > 1000
    logged = json.loads((folder / "evaluation" / "everyone.json").read_text())
    assert logged["verdict_recall_12m"] == pytest.approx(everyone["verdict_recall_12m"])


def test_registered_booster_hash_verifies(scenario: Scenario, years: dict[int, CareerYear]) -> None:
    ranker, mv = careers.load_registered(scenario.settings, "challenger")
    assert str(mv.version) == "2" and mv.run_id == scenario.worse["run_id"]
    ranker, mv = careers.load_registered(scenario.settings, "1")
    assert mv.run_id == scenario.first["run_id"]
    folder = _artifact_dir(scenario, scenario.first) / "booster"
    meta = json.loads((folder / "meta.json").read_text())
    text = (folder / "model.txt").read_text()
    assert meta["sha256"] == sha256_text(text) == sha256_text(ranker.to_text())
    assert meta["features"] == list(FEATURES)
    assert meta["rules_version"] == "kemnaker-demo-2026.1"
    assert meta["best_iteration"] == scenario.first["best_iteration"]
    scores = ranker.predict(years[2025].frame[list(FEATURES)])
    assert scores.shape == (len(years[2025].frame),) and np.isfinite(scores).all()


def test_a_tampered_hash_is_refused(scenario: Scenario) -> None:
    meta_path = _artifact_dir(scenario, scenario.worse) / "booster" / "meta.json"
    original = meta_path.read_text()
    meta = json.loads(original)
    meta["sha256"] = "0" * 64
    try:
        meta_path.write_text(json.dumps(meta))
        with pytest.raises(ModelIntegrityError, match="SHA-256 does not match"):
            careers.load_registered(scenario.settings, "challenger")
    finally:
        meta_path.write_text(original)
    careers.load_registered(scenario.settings, "challenger")  # restored


def test_unknown_version_or_alias_is_a_lookup_error(scenario: Scenario) -> None:
    with pytest.raises(LookupError, match="no model jenjang-careers version 99"):
        careers.load_registered(scenario.settings, "99")
    with pytest.raises(LookupError, match="jenjang-careers@nope"):
        careers.promote(scenario.settings, SMALL, "nope")


def test_first_promotion_then_unchanged(scenario: Scenario) -> None:
    first = scenario.decisions["first"]
    assert first["decision"] == "promoted"
    assert str(first["version"]) == "1" and first["champion_before"] is None
    mrr = scenario.first["test"]["model"]["mrr"]
    assert f"no champion yet; MRR {mrr:.4f}" in first["reasons"]
    again = scenario.decisions["again"]
    assert again["decision"] == "unchanged"
    assert again["reasons"] == ["version 1 is already the champion"]
    assert _run(scenario, scenario.first).data.tags["promotion.decision"] == "promoted"


def test_a_worse_model_is_refused_and_the_champion_kept(scenario: Scenario) -> None:
    old = scenario.first["test"]["model"]["mrr"]
    new = scenario.worse["test"]["model"]["mrr"]
    assert new < old, "premise: one stump ranks worse than the 50-tree model"
    assert str(scenario.worse["version"]) == "2"
    decision = scenario.decisions["worse"]
    assert decision["decision"] == "refused"
    assert str(decision["version"]) == "2" and str(decision["champion_before"]) == "1"
    assert (
        f"MRR {new:.4f} does not beat the champion's {old:.4f} by the margin 0.0"
        in decision["reasons"]
    )
    champion = tracking.version_for(scenario.settings, careers.MODEL_NAME, tracking.CHAMPION)
    challenger = tracking.version_for(scenario.settings, careers.MODEL_NAME, tracking.CHALLENGER)
    assert champion is not None and challenger is not None
    assert str(champion.version) == "1" and str(challenger.version) == "2"
    run = _run(scenario, scenario.worse)
    assert run.data.tags["promotion.decision"] == "refused"
    assert "does not beat the champion" in run.data.tags["promotion.reasons"]


# ------------------------------------------------------------------------------- the gate
def _metrics(mrr: float, **parity: float) -> dict[str, float]:
    out = {"test.model.mrr": mrr, "test.markov.parity.sex": 0.1}  # baselines are ignored
    out.update({f"test.model.parity.{g}": v for g, v in parity.items()})
    return out


def test_gate_reports_grade_parity_without_gating_it() -> None:
    cfg = careers.CareersConfig()
    ok, reasons = careers.gate(_metrics(0.4, sex=0.9, region=0.85, grade=0.2), None, cfg)
    assert ok
    assert reasons == [
        "parity by grade 0.200 (reported, not gated)",
        "parity by region 0.850 >= 0.8",
        "parity by sex 0.900 >= 0.8",
        "no champion yet; MRR 0.4000",
    ]


def test_gate_refuses_sex_parity_below_the_minimum() -> None:
    cfg = careers.CareersConfig()
    ok, reasons = careers.gate(_metrics(0.9, sex=0.79, region=0.95), _metrics(0.1), cfg)
    assert not ok
    assert "parity by sex is 0.790 < 0.8" in reasons
    assert "MRR 0.9000 beats the champion's 0.1000" in reasons  # a better MRR does not help
    ok, reasons = careers.gate(_metrics(0.9, sex=0.95, region=0.5), None, cfg)
    assert not ok and "parity by region is 0.500 < 0.8" in reasons
    assert careers.gate(_metrics(0.9, sex=0.79), None, careers.CareersConfig(min_parity=0.7))[0]


def test_gate_on_mrr_and_margin() -> None:
    cfg = careers.CareersConfig()
    champion = _metrics(0.30)
    assert careers.gate(_metrics(0.31), champion, cfg) == (
        True,
        ["MRR 0.3100 beats the champion's 0.3000"],
    )
    ok, reasons = careers.gate(_metrics(0.30), champion, cfg)  # a tie is not enough
    assert not ok
    assert reasons == ["MRR 0.3000 does not beat the champion's 0.3000 by the margin 0.0"]
    margin = careers.CareersConfig(promote_margin=0.02)
    assert not careers.gate(_metrics(0.31), champion, margin)[0]
    assert careers.gate(_metrics(0.33), champion, margin)[0]


# -------------------------------------------------------------------------------- the CLI
@pytest.fixture
def cli_env(scenario: Scenario) -> Iterator[dict[str, str]]:
    get_settings.cache_clear()
    yield {
        "JENJANG_MLFLOW_TRACKING_URI": scenario.settings.mlflow_tracking_uri,
        "JENJANG_MLFLOW_ARTIFACT_ROOT": scenario.settings.mlflow_artifact_root,
        "JENJANG_DATA_DIR": str(scenario.root / "no-demo-data"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    get_settings.cache_clear()


def _invoke(args: list[str], env: dict[str, str]) -> Any:
    from training.cli import app

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()


def test_cli_evaluate_careers_json(scenario: Scenario, cli_env: dict[str, str]) -> None:
    args = ["evaluate", "careers", "--json", "--data", str(scenario.data), "--model", "champion"]
    result = _invoke(args, cli_env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(RANKERS) | set(EVERYONE) <= set(out)
    for key in EVERYONE:  # the evaluation over everyone, at the top level
        assert out[key] == pytest.approx(scenario.first["everyone"][key], abs=1e-12), key
    assert set(out["by_move_type"]) == set(scenario.first["everyone"]["by_move_type"])
    for ranker in RANKERS:
        assert set(METRICS) <= set(out[ranker]), ranker
        for m in METRICS:
            assert 0 <= out[ranker][m] <= 1, (ranker, m)
            # re-scoring version 1 on the same data gives the training run's test figures
            assert out[ranker][m] == pytest.approx(scenario.first["test"][ranker][m], abs=1e-12)
    for base in ("markov", "similarity", "rules"):
        assert set(out["model"][f"vs_{base}"]) == {"mrr", "hit@5"}
    trained = scenario.first["test"]["model"]["policy"]
    for key in ("mrr", "hit@5", "mrr_unconstrained", "mrr_cost", "queries_reranked"):
        assert out["model"]["policy"][key] == pytest.approx(trained[key], abs=1e-12), key


def test_cli_evaluate_careers_prints_every_ranker_and_the_evaluation_over_everyone(
    scenario: Scenario, cli_env: dict[str, str]
) -> None:
    args = ["evaluate", "careers", "--data", str(scenario.data), "--model", "champion"]
    result = _invoke(args, cli_env)
    assert result.exit_code == 0, result.output
    for base in ("markov", "similarity", "rules"):
        assert f"model vs {base}: MRR" in result.stdout
    assert "Who moves up in" in result.stdout


def test_cli_train_careers_with_a_missing_data_folder_exits_2(
    scenario: Scenario, cli_env: dict[str, str]
) -> None:
    missing = scenario.root / "no-such-clean-folder"
    result = _invoke(["train", "careers", "--data", str(missing)], cli_env)
    assert result.exit_code == 2, result.output
    assert f"clean data folder '{missing}' does not exist" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_cli_broken_rules_file_exits_2_naming_it(
    scenario: Scenario, cli_env: dict[str, str], tmp_path: Path, command: str
) -> None:
    broken = tmp_path / "agency_rules.yaml"
    broken.write_text("version: '1'\nrules:\n  - id: a\n    from_tiers: [pelaksana\n")
    env = {**cli_env, "JENJANG_CAREER_RULES": str(broken)}
    args = [command, "careers", "--data", str(scenario.data)]
    if command == "evaluate":
        args += ["--model", "champion"]
    result = _invoke(args, env)
    assert result.exit_code == 2, result.output
    assert str(broken) in result.output
    assert "is not valid YAML" in result.output
    # nothing new was registered by the failed training
    latest = tracking.version_for(scenario.settings, careers.MODEL_NAME, tracking.CHALLENGER)
    assert latest is not None and str(latest.version) == "2"


def test_cli_rules_file_with_an_unknown_tier_names_rule_and_field(
    scenario: Scenario, cli_env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad_tier.yaml"
    bad.write_text(
        "version: '1'\nrules:\n  - id: naik\n    kind: vertical\n    legal_basis: PP 11/2017\n"
        "    from_tiers: [pelaksana]\n    to_tiers: [kepala]\n"
    )
    result = _invoke(
        ["train", "careers", "--data", str(scenario.data)],
        {**cli_env, "JENJANG_CAREER_RULES": str(bad)},
    )
    assert result.exit_code == 2, result.output
    assert str(bad) in result.output
    assert "rule 'naik', field to_tiers" in result.output
