"""Batch recommendations (training/batch*.py, `jenjang batch`): the rows are the service's
answers, exactly k per eligible employee, resumable to byte-identical output after a kill, the
same on a Dask LocalCluster, and a different run in the folder is refused."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from sqlalchemy import Engine, delete, select
from typer.testing import CliRunner

from recommender import bundles
from recommender.careers import features as career_features
from recommender.careers.rules import load_rules
from recommender.config import PROJECT_DIR, Settings, get_settings
from recommender.programs import features as program_features
from recommender.programs.ranker import ProgramRanker
from recommender.service import Service
from recommender.state import Models, World, build_world
from recommender.store import db
from recommender.store.models import BatchPartition, BatchRecommendation, BatchRun
from tests.api.conftest import AT, bundle_of
from tests.conftest import TEST_KEY, isolated_settings
from tests.store.conftest import BACKENDS, fresh_database
from training import batch
from training.batch import BatchError, Request, read_rows, run_batch
from training.batch_db import load_batch
from training.fingerprint import data_fingerprint

NIP = re.compile(r"(?<!\d)\d{18}(?!\d)")
PROGRAM_COLUMNS = [
    "employee_id",
    "rank",
    "program_id",
    "score",
    "reason_codes",
    "model_name",
    "model_version",
]


@pytest.fixture(scope="module")
def settings(tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The tiny organisation, an empty MLflow store and a models folder of this module."""
    tmp = tmp_path_factory.mktemp("batch")
    return isolated_settings(tmp, clean=tiny_clean, models_dir=tmp / "models")


def _fit(X: pd.DataFrame, groups: np.ndarray, seed: int) -> ProgramRanker:
    """A small real LambdaRank model; labels are random: equality needs a model, not a good
    one (the pipelines' own tests train the real ones)."""
    y = np.random.default_rng(seed).integers(0, 4, len(X))
    ranker = ProgramRanker(n_estimators=25, num_leaves=15, min_child_samples=5, n_jobs=1)
    return ranker.fit(X, y, groups)


@pytest.fixture(scope="module")
def world(settings: Settings) -> World:
    """The organisation as of :data:`AT` (read only)."""
    return build_world(settings, AT)


@pytest.fixture(scope="module")
def rankers(world: World) -> dict[str, ProgramRanker]:
    """A programme ranker and a next-position ranker fitted on the tiny organisation."""
    rows = np.arange(0, len(world.snap.people), 2)
    cands = program_features.candidate_frame(world.snap, world.cat, world.usage, world.year, rows)
    progs = _fit(
        cands[list(program_features.FEATURES)],
        cands.groupby("employee_id", sort=False).size().to_numpy(),
        1,
    )
    pos = career_features.candidate_frame(world.careers, rows[:40])
    careers = _fit(
        pos[list(career_features.FEATURES)],
        pos.groupby("employee_id", sort=False).size().to_numpy(),
        2,
    )
    return {bundles.PROGRAMS: progs, bundles.CAREERS: careers}


def _models(rankers: dict[str, ProgramRanker], programs_version: str = "1") -> Models:
    found = {
        bundles.PROGRAMS: bundle_of(bundles.PROGRAMS, rankers[bundles.PROGRAMS], programs_version),
        bundles.CAREERS: bundle_of(bundles.CAREERS, rankers[bundles.CAREERS]),
    }
    return Models(found, {name: b.ranker() for name, b in found.items()})


@pytest.fixture(scope="module")
def models(rankers: dict[str, ProgramRanker]) -> Models:
    """Both rankers as verified bundles (version 1)."""
    return _models(rankers)


@pytest.fixture(scope="module")
def service(settings: Settings, models: Models) -> Service:
    """The service's state on the same organisation, date and models (no store)."""
    return Service(settings, build_world(settings, AT), models)


def _request(out: Path, settings: Settings, kind: str = "programs", **kw: object) -> Request:
    args: dict[str, object] = {"k": 10, "partition_size": 10, "clean_dir": settings.clean_dir}
    return Request(kind, out, at=AT, **{**args, **kw})  # type: ignore[arg-type]


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name.startswith("part-") or p.name == batch.MANIFEST
    }


@pytest.fixture(scope="module")
def programs_run(
    settings: Settings, models: Models, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """An uninterrupted in-process run: programmes top-10, partitions of 10 employees."""
    out = tmp_path_factory.mktemp("programs") / "out"
    run_batch(_request(out, settings), settings, models)
    return out


def test_programme_rows_are_the_service_answers(programs_run: Path, service: Service) -> None:
    rows = read_rows(programs_run)
    manifest = json.loads((programs_run / batch.MANIFEST).read_text())
    assert list(rows.columns) == PROGRAM_COLUMNS
    people = list(service.world.snap.people.index)
    assert list(dict.fromkeys(rows["employee_id"])) == people  # every eligible one, in order
    short = 0
    for employee, got in rows.groupby("employee_id", sort=False):
        answer = service.programs(str(employee), k=10)
        want = [
            (i["rank"], i["program_id"], i["score"], i["reason_codes"]) for i in answer["items"]
        ]
        have = [
            (int(r), str(p), float(s), list(c))
            for r, p, s, c in zip(
                got["rank"], got["program_id"], got["score"], got["reason_codes"], strict=True
            )
        ]
        assert have == want, employee
        assert set(got["model_version"]) == {answer["model"]["version"]}
        short += len(want) < 10
    totals = manifest["totals"]
    assert totals["employees"] == len(people) == manifest["eligible_employees"]
    assert totals["rows"] == len(rows) == 10 * len(people) - _missing(rows, people, 10)
    assert totals["fewer_than_k"] == short
    text = rows.astype(str).to_csv(index=False)
    assert not NIP.search(text)


def _missing(rows: pd.DataFrame, people: list[str], k: int) -> int:
    counts = rows.groupby("employee_id").size().reindex(people, fill_value=0)
    return int((k - counts).clip(lower=0).sum())


def test_exactly_k_rows_per_employee_and_a_manifest_without_times(programs_run: Path) -> None:
    rows = read_rows(programs_run)
    counts = rows.groupby("employee_id").size()
    assert (counts == 10).all()  # every person of the tiny organisation has >= 10 candidates
    ranks = rows.groupby("employee_id")["rank"].apply(list)
    assert all(r == list(range(1, 11)) for r in ranks)
    manifest = json.loads((programs_run / batch.MANIFEST).read_text())
    assert manifest["complete"] and manifest["k"] == 10 and manifest["as_of"] == "2026-03-01"
    assert manifest["model"]["version"] == "1" and manifest["model"]["name"] == bundles.PROGRAMS
    assert len(manifest["partitions"]) == -(-manifest["eligible_employees"] // 10)
    for entry in manifest["partitions"]:
        data = (programs_run / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry["rows"] == len(pd.read_parquet(programs_run / entry["file"]))
    assert not re.search(r"20\d\d-\d\d-\d\dT", json.dumps(manifest))  # no timestamps


def _position_items(rows: pd.DataFrame) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, list[tuple[object, ...]]] = {}
    for employee, got in rows.groupby("employee_id", sort=False):
        out[str(employee)] = [
            (int(r), str(p), float(s), bool(e), list(c))
            for r, p, s, e, c in zip(
                got["rank"],
                got["position_id"],
                got["score"],
                got["eligible"],
                got["reason_codes"],
                strict=True,
            )
        ]
    return out


def _service_positions(service: Service, employee: str, k: int) -> list[tuple[object, ...]]:
    answer = service.positions(employee, k=k)
    return [
        (i["rank"], i["position_id"], i["score"], i["eligible"], i["reason_codes"])
        for i in answer["items"]
    ]


@pytest.mark.parametrize("streamed", [False, True])
def test_position_rows_of_partitions_are_the_service_answers(
    world: World,
    models: Models,
    service: Service,
    settings: Settings,
    tmp_path: Path,
    streamed: bool,
) -> None:
    """Two partitions (first and last) scored as the batch does, from the world's state and
    from the streamed state (:func:`batch.streamed_positions`); the full run is the slow test
    below."""
    import io

    import pyarrow.parquet as pq

    slicer: batch.Partitions
    if streamed:
        req = _request(tmp_path / "out", settings, "positions", k=3, partition_size=12)
        rules = load_rules(settings.career_rules)
        shared, slicer = batch.streamed_positions(req, req.out, lambda _d, _t, _m: None, rules)
    else:
        shared = batch.shared_state(world)
        slicer = batch.Slicer(world.tables, pd.Index(world.snap.people.index), 12)
    model = batch.ModelText.of(bundles.CAREERS, models)
    for i in (0, slicer.count - 1):
        result = batch.run_partition(shared, model, "positions", 3, slicer.take(i))
        rows = pq.read_table(io.BytesIO(result.data)).to_pandas()
        got = _position_items(rows)
        assert list(got) == list(slicer.employees(i))
        for employee, items in got.items():
            assert items == _service_positions(service, employee, 3), employee
            assert len(items) == 3
        assert set(rows["model_version"]) == {"1"}
    if isinstance(slicer, batch.Spill):
        slicer.close()


@pytest.mark.slow
def test_position_rows_are_the_service_answers(
    settings: Settings, models: Models, service: Service, tmp_path: Path
) -> None:
    out = tmp_path / "positions"
    request = _request(out, settings, "positions", k=3, partition_size=25)
    outcome = run_batch(request, settings, models)
    assert outcome.manifest["model"]["mode"] == "learned"
    got = _position_items(read_rows(out))
    assert list(got) == list(service.world.snap.people.index)
    for employee, items in got.items():
        assert items == _service_positions(service, employee, 3), employee
    assert outcome.manifest["totals"]["fewer_than_k"] == 0


def test_a_partition_snapshot_equals_the_organisation_rows(
    settings: Settings, service: Service
) -> None:
    world = build_world(settings, AT)
    shared = batch.shared_state(world)
    slicer = batch.Slicer(world.tables, pd.Index(world.snap.people.index), 40)
    part = slicer.take(2)
    snap, ctx = batch.partition_state(shared, part.tables, careers=True)
    full = service.world.snap
    rows = [full.row(e) for e in snap.people.index]
    assert list(snap.people.index) == list(slicer.employees(2))
    pd.testing.assert_frame_equal(
        snap.people, full.people.iloc[rows], check_dtype=False, check_exact=True
    )
    assert np.array_equal(snap.levels, full.levels[rows], equal_nan=True)
    assert np.array_equal(snap.completed, full.completed[rows])
    assert np.array_equal(snap.taken, full.taken[rows])
    assert ctx is not None
    pd.testing.assert_frame_equal(
        ctx.persons, service.world.careers.persons.iloc[rows], check_dtype=False
    )
    # only the partition's own rows of the person tables were used
    assert set(part.tables["enrollments"]["employee_id"]) <= set(snap.people.index)


def test_resume_after_a_crash_is_byte_identical(
    programs_run: Path, settings: Settings, models: Models, tmp_path: Path
) -> None:
    out = tmp_path / "resumed"
    shutil.copytree(programs_run, out)
    manifest = json.loads((out / batch.MANIFEST).read_text())
    (out / "part-00001.parquet").unlink()  # never written
    data = (out / "part-00002.parquet").read_bytes()
    (out / "part-00002.parquet").write_bytes(data[: len(data) // 2])  # damaged
    (out / ".part-00003.parquet.tmp").write_bytes(b"half a file")  # killed while writing
    manifest["partitions"][4]["sha256"] = None  # killed between rename and manifest
    manifest["complete"] = False
    (out / batch.MANIFEST).write_text(json.dumps(manifest))
    outcome = run_batch(_request(out, settings), settings, models)
    assert outcome.written == 3 and outcome.skipped == len(manifest["partitions"]) - 3
    assert _hashes(out) == _hashes(programs_run)
    assert not list(out.glob(".*.tmp"))


def _cli(args: list[str], models_dir: Path) -> Result:
    """``jenjang ARGS`` in-process with the local model copies of ``models_dir``."""
    from training.cli import app

    get_settings.cache_clear()
    try:
        env = {"JENJANG_MODELS_DIR": str(models_dir), "JENJANG_PSEUDONYM_KEY": TEST_KEY}
        return CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()


def test_killed_cli_run_resumes_to_identical_output(
    programs_run: Path, settings: Settings, models: Models, tmp_path: Path
) -> None:
    """SIGKILL `jenjang batch programs` once its first partition is on disk, run it again."""
    models_dir = tmp_path / "models"
    for b in models.bundles.values():
        bundles.save_local(models_dir, b)
    env = {
        **os.environ,
        "JENJANG_PSEUDONYM_KEY": TEST_KEY,
        "JENJANG_MODELS_DIR": str(models_dir),
        "JENJANG_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlruns.db'}",
    }
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "training.cli",
        "batch",
        "programs",
        "--out",
        str(out),
        "--k",
        "10",
        "--partition-size",
        "10",
        "--data",
        str(settings.clean_dir),
        "--date",
        "2026-03-01",
        "--local-models",
    ]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            cmd, cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        deadline = time.monotonic() + 60
        while not (out / "part-00000.parquet").exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "no partition after 60 s"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, log.read_text()[-2000:]
    killed = json.loads((out / batch.MANIFEST).read_text())
    assert not killed["complete"]
    assert any(e["sha256"] is None for e in killed["partitions"])
    done = _cli(cmd[3:], models_dir)  # the same command again, in-process this time
    assert done.exit_code == 0, done.output
    assert "already complete" in done.output
    assert _hashes(out) == _hashes(programs_run)  # as if never interrupted
    assert not list(out.glob(".*.tmp"))
    assert not (out / ".spill").exists()  # the spilled person tables are gone


def test_dask_local_cluster_output_is_identical(
    programs_run: Path, settings: Settings, models: Models, tmp_path: Path
) -> None:
    out = tmp_path / "dask"
    outcome = run_batch(_request(out, settings, dask="local"), settings, models)
    assert outcome.written == len(outcome.manifest["partitions"]) > 2
    assert _hashes(out) == _hashes(programs_run)


def test_a_different_run_into_the_folder_is_refused(
    programs_run: Path,
    settings: Settings,
    models: Models,
    rankers: dict[str, ProgramRanker],
    tmp_path: Path,
) -> None:
    out = tmp_path / "again"
    shutil.copytree(programs_run, out)
    before = _hashes(out)
    with pytest.raises(BatchError, match=r"k 10 -> 5.*--overwrite"):
        run_batch(_request(out, settings, k=5), settings, models)
    newer = _models(rankers, programs_version="2")
    with pytest.raises(BatchError, match="model jenjang-programs version 1 -> 2"):
        run_batch(_request(out, settings), settings, newer)
    with pytest.raises(BatchError, match="as-of date"):
        run_batch(
            Request("programs", out, 10, pd.Timestamp("2026-04-01"), settings.clean_dir, 40),
            settings,
            models,
        )
    assert _hashes(out) == before  # nothing touched
    outcome = run_batch(_request(out, settings, k=5, overwrite=True), settings, newer)
    assert outcome.manifest["k"] == 5 and outcome.manifest["model"]["version"] == "2"
    assert (read_rows(out).groupby("employee_id").size() == 5).all()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(BatchError, match="no batch manifest"):
        run_batch(_request(foreign, settings), settings, models)


def test_cli_refuses_a_mismatched_rerun(
    programs_run: Path, settings: Settings, models: Models, tmp_path: Path
) -> None:
    models_dir = tmp_path / "models"
    for b in models.bundles.values():
        bundles.save_local(models_dir, b)
    args = ["batch", "programs", "--out", str(programs_run), "--data", str(settings.clean_dir)]
    args += ["--date", "2026-03-01", "--partition-size", "10", "--local-models", "--k", "7"]
    result = _cli(args, models_dir)
    assert result.exit_code == 2, result.output
    assert "different batch run (k 10 -> 7)" in result.output
    assert "--overwrite" in result.output


def test_tables_as_folders_of_parts_give_the_same_rows(
    programs_run: Path, settings: Settings, models: Models, tmp_path: Path
) -> None:
    """Large organisations keep a table as a folder of Parquet parts: fingerprinted part by
    part, read as one table, same rows."""
    clean = tmp_path / "clean"
    shutil.copytree(settings.clean_dir, clean)
    enrolments = pd.read_parquet(clean / "enrollments.parquet")
    (clean / "enrollments.parquet").unlink()
    (clean / "enrollments").mkdir()
    half = len(enrolments) // 2
    enrolments.iloc[:half].to_parquet(clean / "enrollments" / "part-00000.parquet")
    enrolments.iloc[half:].to_parquet(clean / "enrollments" / "part-00001.parquet")
    fingerprint = batch.data_identity(directory=clean)
    assert fingerprint["tables"] == batch.data_identity(directory=settings.clean_dir)["tables"]
    assert fingerprint != batch.data_identity(directory=settings.clean_dir)
    out = tmp_path / "out"
    run_batch(_request(out, settings, clean_dir=clean), settings, models)
    # one fingerprint: the manifest holds what a training run logs for the same folder
    manifest = json.loads((out / batch.MANIFEST).read_text())
    assert manifest["data"]["fingerprint"] == data_fingerprint(directory=clean)
    files = {n: h for n, h in _hashes(out).items() if n != batch.MANIFEST}
    assert files == {n: h for n, h in _hashes(programs_run).items() if n != batch.MANIFEST}


@pytest.mark.parametrize("backend", BACKENDS)
def test_to_db_loads_every_row_and_resumes(
    programs_run: Path, backend: str, tmp_path: Path
) -> None:
    """`--to-db`: the Parquet rows in batch_recommendations (COPY on PostgreSQL), one run row,
    a rerun loads nothing, a partition lost mid-way is loaded again alone."""
    rows = read_rows(programs_run)
    with fresh_database(backend, tmp_path) as url:
        with pytest.raises(BatchError, match="jenjang db upgrade"):
            load_batch(programs_run, url)
        db.upgrade(url)
        first = load_batch(programs_run, url)
        parts = len(json.loads((programs_run / batch.MANIFEST).read_text())["partitions"])
        assert (first.loaded, first.skipped, first.rows) == (parts, 0, len(rows))
        engine = db.make_engine(url)
        try:
            got = _db_rows(engine)
            want = rows.rename(columns={"program_id": "item_id"})
            want = want.sort_values(["employee_id", "rank"], ignore_index=True)
            for col in ("employee_id", "rank", "item_id", "score"):
                assert got[col].tolist() == want[col].tolist(), col
            assert got["reason_codes"].tolist() == [list(c) for c in want["reason_codes"]]
            assert got["eligible"].isna().all()
            again = load_batch(programs_run, url)
            assert (again.loaded, again.skipped, again.rows) == (0, parts, 0)
            with engine.begin() as conn:  # as if killed after partition 2's transaction
                conn.execute(delete(BatchPartition).where(BatchPartition.partition >= 2))
                conn.execute(delete(BatchRecommendation).where(BatchRecommendation.partition >= 3))
            resumed = load_batch(programs_run, url)
            assert resumed.loaded == parts - 2
            assert _db_rows(engine).equals(got)
            with engine.connect() as conn:
                run = conn.execute(select(BatchRun)).one()
            assert run.batch_id == first.batch_id and run.completed_at is not None
            assert (run.kind, run.k, run.rows, run.model_version) == (
                "programs",
                10,
                len(rows),
                "1",
            )
        finally:
            engine.dispose()


def _db_rows(engine: Engine) -> pd.DataFrame:
    table = BatchRecommendation.__table__
    with engine.connect() as conn:
        result = conn.execute(select(table).order_by(table.c.employee_id, table.c.rank))
        return pd.DataFrame([dict(r._mapping) for r in result])


def test_to_db_refuses_an_unfinished_or_altered_batch(programs_run: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db.upgrade(url)
    out = tmp_path / "copy"
    shutil.copytree(programs_run, out)
    (out / "part-00001.parquet").write_bytes(b"changed")
    with pytest.raises(BatchError, match="does not match its SHA-256"):
        load_batch(out, url)
    manifest = json.loads((out / batch.MANIFEST).read_text())
    manifest["complete"] = False
    (out / batch.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BatchError, match="not complete"):
        load_batch(out, url)


def test_cli_to_db(programs_run: Path, settings: Settings, models: Models, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    for b in models.bundles.values():
        bundles.save_local(models_dir, b)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db.upgrade(url)
    out = tmp_path / "out"
    args = ["batch", "programs", "--out", str(out), "--data", str(settings.clean_dir), "--k"]
    args += ["10", "--date", "2026-03-01", "--partition-size", "10", "--local-models", "--to-db"]
    from training.cli import app

    get_settings.cache_clear()
    try:
        env = {
            "JENJANG_MODELS_DIR": str(models_dir),
            "JENJANG_PSEUDONYM_KEY": TEST_KEY,
            "JENJANG_DATABASE_URL": url,
        }
        result = CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f"({len(read_rows(programs_run)):,} rows), 0 already there" in result.output
    assert _hashes(out) == _hashes(programs_run)
    assert not (out / ".spill").exists()
