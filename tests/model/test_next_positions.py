"""Next-position advice for one person on the tiny organisation: the learned and the
standards-only ranking, eligibility in words, readiness, reasons, paths, and the CLI edge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.careers.features import FEATURES, build_context
from recommender.careers.patterns import move_patterns
from recommender.careers.recommend import PathOptions, as_dict, next_positions
from recommender.careers.rules import load_rules
from recommender.programs.catalog import build_catalog
from recommender.snapshot import build_snapshot
from tests.conftest import TEST_KEY

AT = pd.Timestamp("2025-01-01")


class ByFeature:
    """A transparent scorer: prefers eligible positions, then frequent transitions."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        assert list(X.columns) == list(FEATURES)
        return (10 * X["eligible"] + X["trans_count"] + 0.01 * X["similarity"]).to_numpy()


@pytest.fixture(scope="module")
def ctx(clean_tables_once: dict[str, pd.DataFrame]):  # type: ignore[no-untyped-def]
    tables = clean_tables_once
    snap = build_snapshot(tables, AT)
    return build_context(tables, snap, build_catalog(tables), load_rules())


@pytest.fixture(scope="module")
def patterns(clean_tables_once: dict[str, pd.DataFrame]):  # type: ignore[no-untyped-def]
    t = clean_tables_once
    return move_patterns(t["career_moves"], t["enrollments"], t["positions"], AT, min_count=3)


def _someone(ctx, tier: str) -> str:  # type: ignore[no-untyped-def]
    people = ctx.snap.people
    return str(people.index[people["tier"] == tier][0])


def test_learned_ranking_orders_by_the_scorer_and_explains(ctx, patterns) -> None:  # type: ignore[no-untyped-def]
    who = _someone(ctx, "pengawas")
    found = next_positions(ctx, ByFeature(), who, k=5, patterns=patterns)
    assert len(found) == 5
    assert [s.rank for s in found] == [1, 2, 3, 4, 5]
    assert all(s.mode == "learned" for s in found)
    scores = [s.score for s in found]
    assert scores == sorted(scores, reverse=True)
    current = ctx.snap.people.loc[who, "position_id"]
    assert current not in {s.position_id for s in found}
    for s in found:
        if s.verdict.eligible:
            assert s.verdict.failed == () and s.verdict.legal_basis
        else:
            assert s.verdict.failed, "an ineligible position must say why"
        json.dumps(as_dict(s))  # JSON-able for the API and the CLI


def test_standards_only_without_a_model(ctx) -> None:  # type: ignore[no-untyped-def]
    who = _someone(ctx, "ahli_pertama")
    found = next_positions(ctx, None, who, k=3)
    assert [s.mode for s in found] == ["standards"] * 3
    assert all(np.isfinite(s.score) for s in found)


def test_eligible_only_keeps_allowed_moves(ctx) -> None:  # type: ignore[no-untyped-def]
    for who in ctx.snap.people.index[:40]:
        for s in next_positions(ctx, ByFeature(), str(who), k=5, eligible_only=True):
            assert s.verdict.eligible


def test_someone_eligible_for_nothing_gets_reasons_not_errors(ctx) -> None:  # type: ignore[no-untyped-def]
    # a person hired weeks ago: no years in post, no ratings -> nothing is allowed yet
    people = ctx.snap.people
    who = str(people["years_in_position"].idxmin())
    assert next_positions(ctx, ByFeature(), who, k=5, eligible_only=True) == []
    found = next_positions(ctx, ByFeature(), who, k=5)
    assert found and not any(s.verdict.eligible for s in found)
    assert all(s.verdict.failed for s in found)


def test_path_to_eligible_uses_the_programme_list(ctx) -> None:  # type: ignore[no-untyped-def]
    cat = ctx.cat
    programmes = cat.programs[["program_id", "title", "jp", "cost_idr"]].assign(
        score=np.linspace(1, 0, len(cat.programs))
    )
    options = PathOptions(programmes, jp_limit=80)
    seen_path = False
    for who in ctx.snap.people.index[:60]:
        for s in next_positions(ctx, ByFeature(), str(who), k=3, path=options):
            if s.path is None:
                assert s.readiness.category == "Memenuhi Syarat" or s.readiness.jpm is None
                continue
            seen_path = True
            assert s.path.jp_total <= 80
            assert s.path.after.jpm is None or s.path.after.jpm >= (s.path.before.jpm or 0)
    assert seen_path


def test_bad_requests(ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyError):
        next_positions(ctx, ByFeature(), "e_nobody", k=3)
    with pytest.raises(ValueError, match="k must be"):
        next_positions(ctx, ByFeature(), _someone(ctx, "pengawas"), k=0)


# ------------------------------------------------------------------------------- CLI edge
@pytest.fixture
def cli_env(tiny_clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from recommender.config import get_settings

    monkeypatch.setenv("JENJANG_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("JENJANG_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'ml.db'}")
    monkeypatch.setenv("JENJANG_MLFLOW_ARTIFACT_ROOT", str(tmp_path / "art"))
    get_settings.cache_clear()
    yield tiny_clean
    get_settings.cache_clear()


def test_cli_next_positions_by_nip_without_models(cli_env: Path, tiny_raw: Path) -> None:
    from training.cli import app

    raw = pd.read_parquet(tiny_raw / "employees.parquet")
    active = raw[raw["status"] == "active"]
    nip = str(active["nip"].iloc[0])
    spaced = f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"
    res = CliRunner().invoke(
        app,
        ["next-positions", spaced, "--data", str(cli_env), "--date", "2025-06-01", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["mode"] == "standards"  # no careers model registered in this store
    assert len(out["suggestions"]) == 5
    assert nip not in res.output


def test_cli_next_positions_refuses_bad_identifiers(cli_env: Path) -> None:
    from training.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["next-positions", "12345", "--data", str(cli_env)])
    assert res.exit_code == 2
    assert "neither a valid 18-digit NIP nor a pseudonym" in res.output
    res = runner.invoke(
        app, ["next-positions", "198501012010011001", "--data", str(cli_env), "--date", "x"]
    )
    assert res.exit_code == 2
    res = runner.invoke(app, ["next-positions", "e_nobody", "--data", str(cli_env)])
    assert res.exit_code == 2
    assert "no employee with that identifier is active" in res.output
