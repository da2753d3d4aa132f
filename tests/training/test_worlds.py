"""Behaviour worlds of the generator (issue 16, part 2) and the training volume (part 6):
every world is valid against the contract and deterministic, the worlds differ in behaviour
(assigned share, peer adoption, interactions), and the volume stays in the documented ranges
(docs/synthetic-behaviour.md, "Training volume")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.data.io import read_tables
from recommender.data.validate import validate
from tests.training.test_generate_valid import _history_breaks
from training.cli import app
from training.synthetic.generate import generate
from training.synthetic.volume import volume_table
from training.synthetic.worlds import AT_WORK, get_world, world_names

WORLDS = ("self_selection", "assignment", "diffusion")
#: Documented ranges of the mean over 2022-2025 (docs/synthetic-behaviour.md), every world.
VOLUME = {
    "jp_median": (25, 45),
    "jp_p10": (3, 12),
    "jp_p90": (60, 200),
    "reach_20": (0.62, 0.85),
    "non_classical_share": (0.28, 0.60),
    "enrolments_pp": (2.0, 4.2),
}


@pytest.fixture(scope="module")
def orgs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, pd.DataFrame]]:
    """2,000 employees, seed 5, in every world (raw tables)."""
    root = tmp_path_factory.mktemp("worlds")
    out = {}
    for world in WORLDS:
        generate(2000, 5, root / world, world=world, workers=1)
        out[world] = read_tables(root / world)
    return out


def test_list_worlds_prints_one_name_a_line() -> None:
    result = CliRunner().invoke(app, ["generate", "--list-worlds"])
    assert result.exit_code == 0, result.output
    assert result.output.split() == world_names()
    assert set(WORLDS) <= set(world_names()) and world_names()[0] == "self_selection"


def test_unknown_world_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--world", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope" in result.output and all(w in result.output for w in WORLDS)
    assert not any(tmp_path.iterdir()), "nothing written"
    with pytest.raises(ValueError, match=r"unknown world 'nope'.*assignment"):
        generate(10, 1, tmp_path / "x", world="nope")
    with pytest.raises(ValueError, match="self_selection"):
        get_world(name="")


@pytest.mark.parametrize("world", WORLDS)
def test_world_is_valid_against_the_contract(
    orgs: dict[str, dict[str, pd.DataFrame]], world: str
) -> None:
    frames = orgs[world]
    report = validate(frames, "full")
    assert not report.problems, [str(p) for p in report.problems[:10]]
    assert {rule: n for rule, n in _history_breaks(frames).items() if n} == {}
    assert set(frames) == set(orgs["self_selection"]), "same tables in every world"
    for name, df in frames.items():
        assert list(df.columns) == list(orgs["self_selection"][name].columns), name


@pytest.mark.parametrize("world", WORLDS)
def test_world_is_deterministic_per_seed_and_workers(tmp_path: Path, world: str) -> None:
    generate(400, 11, tmp_path / "one", chunk_size=60, workers=1, world=world)
    generate(400, 11, tmp_path / "two", chunk_size=60, workers=2, world=world)
    a, b = read_tables(tmp_path / "one"), read_tables(tmp_path / "two")
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def _assigned_share(frames: dict[str, pd.DataFrame]) -> float:
    return float((frames["enrollments"]["source"] == "assigned").mean())


def test_assignment_world_is_mostly_assigned(orgs: dict[str, dict[str, pd.DataFrame]]) -> None:
    shares = {w: _assigned_share(orgs[w]) for w in WORLDS}
    assert shares["assignment"] >= 0.85, shares
    assert shares["self_selection"] <= 0.55 and shares["diffusion"] <= 0.55, shares


def peer_share(frames: dict[str, pd.DataFrame]) -> float:
    """Share of enrolments (2020-2025) in a programme someone else of the person's unit took
    the year before (units as of the export date)."""
    enr = frames["enrollments"][["nip", "program_id", "start_date"]].copy()
    enr["year"] = pd.to_datetime(enr["start_date"]).dt.year
    enr["unit"] = enr["nip"].map(frames["employees"].set_index("nip")["unit_id"])
    last = enr.assign(year=enr["year"] + 1)[["unit", "program_id", "year", "nip"]]
    counts = last.groupby(["unit", "program_id", "year"])["nip"].nunique().rename("n")
    mine = last.groupby(["unit", "program_id", "year", "nip"]).size().rename("me")
    cur = enr[enr["year"] >= 2020].join(counts, on=["unit", "program_id", "year"])
    cur = cur.join(mine, on=["unit", "program_id", "year", "nip"])
    others = cur["n"].fillna(0) - cur["me"].notna().astype(int)
    return float((others > 0).mean())


def test_diffusion_spreads_through_units(orgs: dict[str, dict[str, pd.DataFrame]]) -> None:
    shares = {w: peer_share(orgs[w]) for w in WORLDS}
    assert shares["diffusion"] >= shares["self_selection"] + 0.04, shares


def at_work_completion_gap(frames: dict[str, pd.DataFrame]) -> float:
    """Completion of learning at work: people hired within two years minus the others."""
    enr = frames["enrollments"].merge(frames["programs"][["program_id", "modality"]])
    enr = enr[enr["modality"].isin(AT_WORK)]
    hire = enr["nip"].map(frames["employees"].set_index("nip")["hire_date"])
    new = (pd.to_datetime(enr["start_date"]) - pd.to_datetime(hire)).dt.days < 2 * 365
    done = enr["status"] == "completed"
    return float(done[new].mean() - done[~new].mean())


def test_diffusion_outcomes_interact_with_experience(
    orgs: dict[str, dict[str, pd.DataFrame]],
) -> None:
    gaps = {w: at_work_completion_gap(orgs[w]) for w in WORLDS}
    assert gaps["diffusion"] >= gaps["self_selection"] + 0.05, gaps


@pytest.mark.parametrize("world", WORLDS)
def test_volume_within_documented_ranges(
    orgs: dict[str, dict[str, pd.DataFrame]], world: str
) -> None:
    table = volume_table(frames=orgs[world])
    recent = table[table["year"] >= 2022].mean()
    out = {k: round(float(recent[k]), 3) for k in VOLUME}
    bad = {k: v for k, v in out.items() if not VOLUME[k][0] <= v <= VOLUME[k][1]}
    assert not bad, (world, out)
    nc = table.set_index("year")["non_classical_share"]
    assert nc.loc[2023:2025].mean() > nc.loc[2019], "non-classical share rises after 2020"
    assert np.isfinite(table.to_numpy(float)).all()


def _head(ndcg: float, best: str) -> dict:
    fig = {"ndcg@10": ndcg, "ndcg@10_ci": [ndcg - 0.01, ndcg + 0.01]}
    model = {**fig, "best_baseline": best, "lift_vs_best": 0.1, "diff_ci_vs_best": [0.01, 0.03]}
    return {"model": model, best: dict(fig, **{"ndcg@10": ndcg / 1.1})}


def test_bench_worlds_tables_carry_every_ranker_and_pair() -> None:
    from benchmarks.bench_worlds import cross_table, inside_table

    inside = {"a": _head(0.3, "popularity"), "b": _head(0.2, "ease")}
    text = inside_table(inside=inside)
    assert "| popularity | 0.273 [0.290, 0.310] | - |" in text
    assert "| ease | - | 0.182 [0.190, 0.210] |" in text
    assert "ease: +10.0% (diff CI [0.010, 0.030])" in text
    cross = {"a": {"a": _head(0.3, "popularity"), "b": _head(0.25, "ease")},
             "b": {"a": _head(0.28, "popularity"), "b": _head(0.2, "ease")}}  # fmt: skip
    table = cross_table(cross=cross)
    assert "| a | 0.300 [0.290, 0.310] | 0.250 [0.240, 0.260] |" in table
    assert "| b | 0.280 [0.270, 0.290] | 0.200 [0.190, 0.210] |" in table
    assert "ease 0.227" in table


def test_bench_worlds_keeps_the_other_cells_when_one_pair_fails() -> None:
    from benchmarks.bench_worlds import cross_table, inside_table

    bad = {"error": "evaluate programs failed"}
    cross = {"a": {"a": _head(0.3, "popularity"), "b": bad},
             "b": {"a": _head(0.28, "popularity"), "b": bad}}  # fmt: skip
    table = cross_table(cross=cross)
    assert "| a | 0.300 [0.290, 0.310] | error |" in table
    assert table.rstrip().endswith("| error |")
    text = inside_table(inside={"a": cross["a"]["a"], "b": bad})
    assert "| model | 0.300 [0.290, 0.310] | error |" in text
