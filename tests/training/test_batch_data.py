"""The batches' streamed input (training/batch_data.py): the driver reads the person tables in
record batches, spills them by partition (and, for positions, the rows of people who have left
in extra buckets), and sums usage and careers counts bucket by bucket; everything equals what
the service builds from the whole organisation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender import state as state_module
from recommender.careers.features import History
from recommender.careers.patterns import PatternTable
from recommender.careers.rules import load_rules
from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.programs.features import Usage, build_usage
from recommender.state import World, build_world
from tests.api.conftest import AT
from tests.conftest import isolated_settings
from training import batch, batch_data, batch_state
from training.batch_data import (
    PERSON_TABLES,
    Careers,
    Spill,
    active_employees,
    streamed_careers,
    streamed_usage,
)


@pytest.fixture(scope="module")
def settings(tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("batch-data")
    return isolated_settings(tmp, clean=tiny_clean, models_dir=tmp / "models")


@pytest.fixture(scope="module")
def world(settings: Settings) -> World:
    return build_world(settings, AT)


@pytest.fixture(scope="module")
def org(settings: Settings) -> dict[str, pd.DataFrame]:
    tables = load_clean(settings.clean_dir)
    return {n: t for n, t in tables.items() if n not in PERSON_TABLES}


@pytest.fixture()
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record batches of 97 rows: every table is read in many batches."""
    monkeypatch.setattr(batch_data, "CHUNK_ROWS", 97)


def _assert_usage_equal(got: Usage, want: Usage) -> None:
    assert np.array_equal(got.global_, want.global_)
    for name in ("by_position", "by_unit", "by_tier"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True)
    assert np.array_equal(got.similarity, want.similarity)


def test_active_employees_are_the_snapshot_people(
    settings: Settings, world: World, small_chunks: None
) -> None:
    ids = active_employees(settings.clean_dir / "employees.parquet", AT)
    assert list(ids) == list(world.snap.people.index)


@pytest.mark.parametrize("size", [3, 40, 100_000])
def test_a_spilled_partition_is_the_slicers_partition(
    settings: Settings, world: World, tmp_path: Path, size: int, small_chunks: None
) -> None:
    eligible = pd.Index(world.snap.people.index)
    spill = Spill(settings.clean_dir, tmp_path / "spill", eligible, size, AT, world.snap.programs)
    slicer = batch.Slicer(world.tables, eligible, size)
    assert spill.count == slicer.count
    for i in sorted({0, spill.count // 2, spill.count - 1}):
        got, want = spill.take(i), slicer.take(i)
        assert list(spill.employees(i)) == list(slicer.employees(i))
        assert set(got.tables) == set(want.tables)
        for name, frame in want.tables.items():
            pd.testing.assert_frame_equal(got.tables[name], frame, check_exact=True)
    spill.close()
    assert not (tmp_path / "spill").exists()


@pytest.mark.parametrize("size", [29, 100_000])
def test_streamed_usage_equals_the_services_usage(
    settings: Settings,
    world: World,
    org: dict[str, pd.DataFrame],
    tmp_path: Path,
    size: int,
    small_chunks: None,
) -> None:
    eligible = active_employees(settings.clean_dir / "employees.parquet", AT)
    spill = Spill(settings.clean_dir, tmp_path / "s", eligible, size, AT, world.snap.programs)
    _assert_usage_equal(streamed_usage(spill, org, AT), world.usage)
    # the global popularity counts everyone's enrolments, also of people who have left
    left = set(world.tables["employees"]["employee_id"]) - set(eligible)
    assert left and world.tables["enrollments"]["employee_id"].isin(left).any()


def test_usage_of_an_organisation_with_nobody_active(
    settings: Settings, world: World, org: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    early = pd.Timestamp("1950-01-01")
    eligible = active_employees(settings.clean_dir / "employees.parquet", early)
    assert len(eligible) == 0
    spill = Spill(settings.clean_dir, tmp_path / "s", eligible, 10, early, world.snap.programs)
    got = streamed_usage(spill, org, early)
    empty = build_world(settings, early)
    _assert_usage_equal(got, build_usage(empty.tables, empty.snap))


def test_the_programme_batch_never_loads_the_person_tables(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The driver reads only organisation tables whole; build_world is not called."""
    real = batch_state.load_clean

    def org_only(directory: str | Path, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
        assert names is not None and not set(names) & set(PERSON_TABLES), names
        return real(directory, names)

    def no_world(*_a: object, **_k: object) -> World:
        raise AssertionError("build_world called by a programme batch")

    monkeypatch.setattr(batch_state, "load_clean", org_only)
    monkeypatch.setattr(state_module, "build_world", no_world)
    assert not hasattr(batch, "build_world") and not hasattr(batch_state, "build_world")
    req = batch.Request("programs", tmp_path / "out", 5, AT, settings.clean_dir, 25)
    paths = batch_data.table_paths(settings.clean_dir)
    shared, spill = batch.streamed_programs(req, req.out, lambda _d, _t, _m: None)
    try:
        assert spill.count == -(-len(spill.eligible) // 25)
        assert (req.out / batch_data.SPILL_DIR).is_dir()
        assert set(spill.files) == {n for n in PERSON_TABLES if n in paths}
        # the riwayat jabatan is a person table: split by partition, never read whole
        assert "position_history" in paths and "position_history" in spill.files
        assert "position_history" not in shared.org
        assert shared.positions is None and shared.history is None
    finally:
        spill.close()
    assert not (req.out / batch_data.SPILL_DIR).exists()


def test_a_table_without_employee_id_is_named(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    for path in settings.clean_dir.glob("*.parquet"):
        frame = pd.read_parquet(path)
        if path.stem == "appraisals":
            frame = frame.rename(columns={"employee_id": "pegawai"})
        frame.to_parquet(clean / path.name, index=False)
    with pytest.raises(batch_data.StreamError, match="'appraisals' has no employee_id"):
        Spill(clean, tmp_path / "s", pd.Index(world.snap.people.index), 10, AT, world.snap.programs)


def test_the_spill_is_no_larger_than_the_rows_it_holds(
    settings: Settings, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large tables come ordered by employee, so most partitions of a chunk are empty: an
    empty partition must cost a few hundred bytes, not the chunk's buffers again (Arrow writes
    an empty slice's parent string buffers: the 1,000,000-employee spill was 33 GB before)."""
    clean = tmp_path / "clean"
    shutil.copytree(settings.clean_dir, clean)
    enrolments = pd.read_parquet(clean / "enrollments.parquet").sort_values("employee_id")
    enrolments.to_parquet(clean / "enrollments.parquet", index=False)
    monkeypatch.setattr(batch_data, "CHUNK_ROWS", 2_000)
    eligible = pd.Index(world.snap.people.index)
    spill = Spill(clean, tmp_path / "s", eligible, 3, AT, world.snap.programs)
    files = spill.files["enrollments"]
    on_disk = sum(f.stat().st_size for f in files)
    held = enrolments[enrolments["employee_id"].isin(eligible)].memory_usage(deep=True).sum()
    assert on_disk < held + 1_000 * len(files) * spill.count, (on_disk, held)
    spill.close()


def _assert_history_equal(got: History, want: History) -> None:
    for name in ("trans", "out_total", "tier_share", "into_recent", "training_share"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name


def _assert_patterns_equal(got: PatternTable, want: PatternTable) -> None:
    pd.testing.assert_frame_equal(got.pairs, want.pairs, check_exact=True)
    pd.testing.assert_frame_equal(got.programs, want.programs, check_exact=True)
    pd.testing.assert_frame_equal(got.positions, want.positions, check_exact=True)
    assert (got.at, got.min_count, got.min_cell) == (want.at, want.min_count, want.min_cell)


def _careers(
    settings: Settings,
    world: World,
    org: dict[str, pd.DataFrame],
    work: Path,
    size: int,
    at: pd.Timestamp = AT,
) -> tuple[Spill, Usage, Careers]:
    eligible = active_employees(settings.clean_dir / "employees.parquet", at)
    left = len(world.tables["employees"]) - len(eligible)
    inactive = max(1, -(-left // size))
    spill = Spill(
        settings.clean_dir, work, eligible, size, at, world.snap.programs, inactive_buckets=inactive
    )
    usage, careers = streamed_careers(spill, org, at)
    return spill, usage, careers


@pytest.mark.parametrize("size", [7, 29, 100_000])
def test_inactive_buckets_hold_the_rows_of_everyone_else(
    settings: Settings, world: World, tmp_path: Path, size: int, small_chunks: None
) -> None:
    """Scoring partitions are unchanged; every row of every person table is in exactly one
    bucket, and all of one employee's rows are in the same bucket."""
    eligible = pd.Index(world.snap.people.index)
    spill = Spill(
        settings.clean_dir,
        tmp_path / "s",
        eligible,
        size,
        AT,
        world.snap.programs,
        inactive_buckets=3,
    )
    slicer = batch.Slicer(world.tables, eligible, size)
    assert spill.count == slicer.count and spill.buckets == spill.count + 3
    for i in sorted({0, spill.count - 1}):
        for name, frame in slicer.take(i).tables.items():
            pd.testing.assert_frame_equal(spill.take(i).tables[name], frame, check_exact=True)
    seen: dict[str, int] = {}
    for i in range(spill.buckets):
        part = spill.take(i)
        for name, frame in part.tables.items():
            seen[name] = seen.get(name, 0) + len(frame)
            if i >= spill.count:
                assert not frame["employee_id"].isin(eligible).any()
    assert seen == {n: len(t) for n, t in world.tables.items() if n in spill.files}
    owner: dict[str, int] = {}
    for i in range(spill.buckets):
        for frame in spill.take(i).tables.values():
            for e in frame["employee_id"].unique():
                assert owner.setdefault(str(e), i) == i, e
    spill.close()


@pytest.mark.parametrize("size", [29, 100_000])
def test_streamed_careers_equal_the_services_state(
    settings: Settings,
    world: World,
    org: dict[str, pd.DataFrame],
    tmp_path: Path,
    size: int,
    small_chunks: None,
) -> None:
    """Positions table (holders, retiring), History, career patterns, unit x JF shares and
    usage: bit-identical to the service's world on the whole organisation."""
    spill, usage, careers = _careers(settings, world, org, tmp_path / "s", size)
    try:
        _assert_usage_equal(usage, world.usage)
        pd.testing.assert_frame_equal(careers.positions, world.careers.positions, check_exact=True)
        _assert_history_equal(careers.history, world.careers.history)
        _assert_patterns_equal(careers.patterns, world.patterns)
        want = batch.shared_state(world).jf_shares
        assert want is not None
        pd.testing.assert_series_equal(careers.jf_shares, want, check_exact=True)
    finally:
        spill.close()
    # history and patterns need the moves of people who have left: there are some
    left = set(world.tables["employees"]["employee_id"]) - set(world.snap.people.index)
    assert world.tables["career_moves"]["employee_id"].isin(left).any()


def test_the_unit_jf_shares_are_the_crosstab(world: World) -> None:
    """The counts-based shares equal the former crosstab formula."""
    people, pos = world.snap.people, world.careers.positions
    jf = people["position_id"].map(pos.set_index("position_id")["jf_code"])
    counts = pd.crosstab(people["unit_id"], jf)
    old = counts.div(people["unit_id"].value_counts().reindex(counts.index), axis=0).stack()
    got = batch.shared_state(world).jf_shares
    assert got is not None
    pd.testing.assert_series_equal(got, old, check_exact=True)


def test_careers_of_an_organisation_with_nobody_active(
    settings: Settings, world: World, org: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    early = pd.Timestamp("1950-01-01")
    spill, usage, careers = _careers(settings, world, org, tmp_path / "s", 10, early)
    spill.close()
    empty = build_world(settings, early)
    assert spill.count == 0
    _assert_usage_equal(usage, build_usage(empty.tables, empty.snap))
    pd.testing.assert_frame_equal(careers.positions, empty.careers.positions, check_exact=True)
    _assert_history_equal(careers.history, empty.careers.history)
    _assert_patterns_equal(careers.patterns, empty.patterns)
    assert careers.jf_shares.empty


def test_the_positions_batch_never_loads_the_person_tables(
    settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The driver of a positions batch reads only organisation tables whole and never builds
    the world; its state is the world's."""
    real = batch_state.load_clean

    def org_only(directory: str | Path, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
        assert names is not None and not set(names) & set(PERSON_TABLES), names
        return real(directory, names)

    def no_world(*_a: object, **_k: object) -> World:
        raise AssertionError("build_world called by a positions batch")

    monkeypatch.setattr(batch_state, "load_clean", org_only)
    monkeypatch.setattr(state_module, "build_world", no_world)
    req = batch.Request("positions", tmp_path / "out", 5, AT, settings.clean_dir, 25)
    rules = load_rules(settings.career_rules)
    shared, spill = batch.streamed_positions(req, req.out, lambda _d, _t, _m: None, rules)
    try:
        assert spill.count == -(-len(spill.eligible) // 25) and spill.buckets > spill.count
        assert shared.history is not None and shared.patterns is not None
        _assert_history_equal(shared.history, world.careers.history)
        assert shared.positions is not None
        pd.testing.assert_frame_equal(shared.positions, world.careers.positions)
    finally:
        spill.close()
    assert not (req.out / batch_data.SPILL_DIR).exists()


def test_streamed_windows_are_the_organisations(
    settings: Settings, org: dict[str, pd.DataFrame], world: World
) -> None:
    """The censoring floors a partition's snapshot uses are the whole organisation's first
    dates (read one column at a time), not the partition's own first dates."""
    from recommender.snapshot import build_snapshot, history_windows

    got = batch_state.streamed_windows(batch_data.table_paths(settings.clean_dir))
    tables = load_clean(settings.clean_dir)
    assert got == history_windows(tables=tables)
    assert set(got) == {"career_moves", "rank_history"}
    # a late-starting subset of the people has later first dates of its own: with the
    # organisation's windows its snapshot rows equal the organisation's, without them not
    ranks = tables["rank_history"]
    late = set(ranks["employee_id"]) - set(
        ranks.loc[
            ranks["effective_date"] <= got["rank_history"] + pd.Timedelta(days=200), "employee_id"
        ]
    )
    people = world.snap.people.index
    subset = [e for e in people if e in late][:30] + [
        e for e in people if e not in set(ranks["employee_id"])
    ][:30]
    person_tables = {
        n: t[t["employee_id"].isin(subset)] for n, t in tables.items() if "employee_id" in t
    }
    part = {**tables, **person_tables}
    full = world.snap.people.loc[subset, "years_in_grade"]
    with_windows = build_snapshot(part, AT, got).people.loc[subset, "years_in_grade"]
    without = build_snapshot(part, AT).people.loc[subset, "years_in_grade"]
    pd.testing.assert_series_equal(with_windows, full, check_exact=True)
    assert not without.equals(full)
