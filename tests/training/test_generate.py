"""The synthetic organisation: deterministic, referentially sound, free of hidden variables,
and within the documented ranges (docs/synthetic-behaviour.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender import domain
from recommender.data.io import read_tables
from recommender.data.nip import nip_parts
from recommender.data.validate import validate
from training.synthetic.generate import generate, plan_chunks

HIDDEN = ("ability", "motivation", "e_aff", "support", "true", "latent", "person", "gid")


def _frames(path: Path) -> dict[str, pd.DataFrame]:
    return read_tables(path)


def _assert_same(a: Path, b: Path) -> None:
    first, second = _frames(a), _frames(b)
    assert first.keys() == second.keys()
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)


def test_same_seed_same_files(tiny_raw: Path, tmp_path: Path) -> None:
    generate(300, 3, tmp_path / "again")
    _assert_same(tiny_raw, tmp_path / "again")


def test_same_files_whatever_the_number_of_workers(tmp_path: Path) -> None:
    generate(400, 11, tmp_path / "one", chunk_size=60, workers=1)
    generate(400, 11, tmp_path / "two", chunk_size=60, workers=2)
    _assert_same(tmp_path / "one", tmp_path / "two")


def test_other_seed_other_people(tiny_raw: Path, tmp_path: Path) -> None:
    generate(300, 4, tmp_path / "other")
    a = pd.read_parquet(tiny_raw / "employees.parquet")
    b = pd.read_parquet(tmp_path / "other" / "employees.parquet")
    assert set(a["nip"]).isdisjoint(set(b["nip"])) or not a["nip"].equals(b["nip"])


def test_valid_against_the_contract(tiny_raw: Path) -> None:
    report = validate(_frames(tiny_raw), "full")
    assert report.ok, [str(p) for p in report.errors[:10]]
    assert not report.problems  # not even a warning


def test_csv_output_is_valid_too(tiny_raw_csv: Path) -> None:
    report = validate(_frames(tiny_raw_csv), "full")
    assert report.ok, [str(p) for p in report.errors[:10]]


def test_no_hidden_variable_in_any_table(tiny_raw: Path) -> None:
    for name, df in _frames(tiny_raw).items():
        for col in df.columns:
            assert not any(h in col.lower() for h in HIDDEN), f"{name}.{col}"


def test_nips_are_well_formed_and_unique(tiny_raw: Path) -> None:
    emp = pd.read_parquet(tiny_raw / "employees.parquet")
    assert emp["nip"].is_unique
    for row in emp.itertuples():
        parts = nip_parts(row.nip)
        assert parts.birth_date == row.birth_date.date()
        assert parts.sex == row.sex
        assert parts.appointed == row.hire_date.date().replace(day=1)


def test_chunks_are_whole_units() -> None:
    counts = np.array([10, 40, 5, 30, 30, 1])
    chunks = plan_chunks(counts, 50)
    assert [list(c) for c in chunks] == [[0, 1], [2, 3], [4, 5]]
    assert sum(counts[c].sum() for c in chunks) == counts.sum()


def test_small_chunks_keep_integrity(tmp_path: Path) -> None:
    generate(400, 11, tmp_path / "chunked", chunk_size=60, workers=1)
    frames = _frames(tmp_path / "chunked")
    assert len(frames["employees"]) == 400
    assert validate(frames, "full").ok


def test_large_organisations_write_partitioned_tables(tmp_path: Path) -> None:
    counts = generate(400, 11, tmp_path / "parts", chunk_size=60, workers=1, partitioned=True)
    parts = sorted((tmp_path / "parts" / "enrollments").glob("part-*.parquet"))
    assert len(parts) > 1, "one file per chunk"
    assert not (tmp_path / "parts" / "enrollments.parquet").exists()
    assert (tmp_path / "parts" / "units.parquet").is_file(), "reference tables stay files"
    frames = _frames(tmp_path / "parts")
    assert len(frames["enrollments"]) == counts["enrollments"]
    generate(400, 11, tmp_path / "single", chunk_size=60, workers=1, partitioned=False)
    _assert_same(tmp_path / "parts", tmp_path / "single")
    # a rerun into the same folder with the other layout leaves one spelling of each table
    generate(400, 11, tmp_path / "parts", chunk_size=60, workers=1, partitioned=False)
    assert not (tmp_path / "parts" / "enrollments").exists()
    _assert_same(tmp_path / "parts", tmp_path / "single")


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate(0, 1, tmp_path)
    with pytest.raises(ValueError, match="unknown format"):
        generate(10, 1, tmp_path, fmt="xlsx")


@pytest.fixture(scope="module")
def demo_stats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    """Statistics of a 3,000-employee organisation (big enough for stable shares)."""
    from tests.conftest import TEST_KEY
    from training.ingest import ingest
    from training.summary import stats

    root = tmp_path_factory.mktemp("mid")
    generate(3000, 7, root / "raw")
    ingest(root / "raw", root / "clean", TEST_KEY)
    return stats(root / "clean")


#: Documented ranges (docs/synthetic-behaviour.md, from domain.md 8.1): (statistic, low, high).
RANGES = [
    ("female", 0.35, 0.55),
    ("age_median", 36, 48),
    ("degree", 0.65, 0.90),
    ("s2_s3", 0.15, 0.35),
    ("grade_III", 0.55, 0.78),
    ("grade_IV", 0.12, 0.30),
    ("functional", 0.40, 0.65),
    ("managerial", 0.04, 0.22),  # posts under unit heads scale with the unit (issue 17)
    ("completion_classical", 0.88, 0.99),
    ("completion_self_paced", 0.40, 0.78),
    ("jp_median", 20, 50),
    ("reach_20_jp", 0.55, 0.85),
    ("non_classical_jp_share", 0.20, 0.60),
    ("rating_Baik", 0.65, 0.80),
    ("rating_Sangat Baik", 0.10, 0.20),
    ("rating_persistence", 0.60, 0.85),
    ("assessed_share", 0.40, 0.80),
]


@pytest.mark.parametrize(("stat", "low", "high"), RANGES, ids=[r[0] for r in RANGES])
def test_distributions_within_documented_ranges(
    demo_stats: dict[str, float], stat: str, low: float, high: float
) -> None:
    assert low <= demo_stats[stat] <= high, f"{stat} = {demo_stats[stat]:.3f}"


def test_every_move_type_happens(demo_stats: dict[str, float]) -> None:
    for kind in domain.MOVE_TYPES:
        assert demo_stats.get(f"moves_{kind}", 0) > 0, kind
