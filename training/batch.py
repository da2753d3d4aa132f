"""Batch recommendations for every active employee: partitioned Parquet, resumable, in-process
or on a Dask cluster (docs/batch.md).

The rows are what the service answers: programmes come from
:func:`recommender.programs.recommend.top_programs` (the function behind ``Service.programs``)
and positions from :func:`recommender.careers.recommend.next_positions` (behind
``Service.positions``), with the service's rounding of scores and its reason codes, for the same
model version and as-of date: both build their rows with :mod:`recommender.answers`.

State. The organisation is split in two:

- organisation-wide statistics (:class:`Shared`): the catalogue, usage statistics (popularity
  by position, unit and tier, item similarity) and, for positions, the careers position table
  (holders and retirements on the date), move history, unit groups, the unit x JF shares and
  the career patterns. Their size depends on the number of positions, programmes and units,
  not on employees. They are summed partition by partition from the person tables read in
  record batches (:func:`streamed_programs`, :func:`streamed_positions`,
  :mod:`training.batch_data`), with the library's own counting functions, and equal what
  :func:`recommender.state.build_world` gives on the whole organisation
  (:func:`shared_state`, kept for tests). They are shipped to every worker once;
- per-person state: each partition builds its own snapshot (levels, completions, ratings, ...)
  from the rows of its own employees only (:func:`recommender.snapshot.build_snapshot` on the
  partition's tables; every person's row is computed from that person's records alone), and
  for positions its own careers person table.

Workers therefore hold the shared statistics plus one partition, never the organisation. The
driver of either kind holds the organisation tables, the ids of the active people and one
partition: the person tables are spilled to ``DIR/.spill`` by partition (for positions also the
rows of people who are no longer active, in buckets after the scoring partitions: their moves
and completions count in the move history and career patterns). The one exception is the
median years per pair of the career patterns, which keeps one float per first move.

Output: ``DIR/part-00000.parquet`` ... (one per partition, rows ordered by the snapshot's
employee order, then rank) and ``DIR/_manifest.json`` (the run's specification, and per
partition its employees, rows and SHA-256). A partition is written to a temporary file and
renamed, then recorded in the manifest (itself replaced atomically); a rerun skips partitions
whose file matches the recorded hash and redoes the rest. Nothing in the files depends on time
or on the order partitions finish, so an interrupted and resumed run ends byte-identical to an
uninterrupted one, in-process or on Dask.

Modules: :mod:`training.batch_spec` (request, model text, specification),
:mod:`training.batch_state` (shared and per-partition state), :mod:`training.batch_data`
(streaming the clean tables), :mod:`training.batch_score` (one partition's rows),
:mod:`training.batch_folder` (files, manifest, resuming) and this module (running a batch).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recommender import bundles
from recommender.careers.rules import RuleSet, load_rules
from recommender.config import Settings
from recommender.state import Models, load_models
from training import batch_folder as folder
from training.batch_data import Spill
from training.batch_folder import part_name
from training.batch_score import PartitionResult, parsed_ranker, run_partition
from training.batch_spec import (
    DEFAULT_K,
    DEFAULT_PARTITION,
    FORMAT,
    KINDS,
    LOCK,
    MANIFEST,
    MAX_K,
    MODEL_OF,
    BatchError,
    ModelText,
    Request,
    data_identity,
    rules_identity,
    spec_of,
)
from training.batch_state import (
    JF_MEMO,
    ORG_TABLES,
    Partitions,
    Shared,
    Slicer,
    partition_state,
    shared_state,
    streamed_positions,
    streamed_programs,
)
from training.kinds import Kind

__all__ = [
    "DEFAULT_K",
    "DEFAULT_PARTITION",
    "FORMAT",
    "JF_MEMO",
    "KINDS",
    "LOCK",
    "MANIFEST",
    "MAX_K",
    "MODEL_OF",
    "ORG_TABLES",
    "BatchError",
    "ModelText",
    "Outcome",
    "PartitionResult",
    "Partitions",
    "Progress",
    "Request",
    "Shared",
    "Slicer",
    "Spill",
    "data_identity",
    "parsed_ranker",
    "part_name",
    "partition_state",
    "read_rows",
    "rules_identity",
    "run_batch",
    "run_partition",
    "shared_state",
    "spec_of",
    "streamed_positions",
    "streamed_programs",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (employees done, employees total, message)


@dataclass
class Outcome:
    """The final manifest, what this run did, and how long its phases took (seconds)."""

    manifest: dict[str, Any]
    written: int
    skipped: int
    timings: dict[str, float]


def _models(settings: Settings, local_only: bool) -> Models:
    if not local_only:
        return load_models(settings)
    found, rankers = {}, {}
    for name in bundles.MODEL_NAMES:
        try:
            b = bundles.load_local(settings.models_dir, name)
        except bundles.BundleError:
            continue
        found[name], rankers[name] = b, b.ranker()
    return Models(found, rankers)


def _model(req: Request, models: Models) -> ModelText:
    """The model of ``req.kind`` as text; BatchError when a programme batch has none."""
    kind = req.model_kind
    model = ModelText.of(kind.model_name, models)
    if kind is Kind.PROGRAMS and model.text is None:
        raise BatchError(
            f"no {kind.model_name} model is loaded: train and promote one first "
            f"(`{kind.train_command}`, `jenjang promote {kind.value}`)"
        )
    return model


@dataclass
class _Run:
    """A run's manifest as it is being written: ``plan`` its partitions, ``todo`` those left to
    score, ``done`` the employees of the partitions finished, ``eligible`` of all of them."""

    out: Path
    manifest: dict[str, Any]
    plan: list[dict[str, Any]]
    todo: list[int]
    done: int
    eligible: int
    say: Progress

    @classmethod
    def start(
        cls,
        req: Request,
        spec: dict[str, Any],
        slicer: Partitions,
        old: dict[str, Any] | None,
        say: Progress,
    ) -> _Run:
        """The manifest of a new run (or of ``old`` resumed: its finished partitions kept),
        written; BatchError when ``old`` has other partitions."""
        out = Path(req.out)
        plan = folder.partition_plan(slicer=slicer)
        manifest = {
            **spec,
            "source": str(Path(req.clean_dir).resolve()),
            "eligible_employees": len(slicer.eligible),
            "partitions": plan,
            "complete": False,
        }
        if old is not None:
            _resume(out, plan, old)
        folder.write_manifest(out=out, manifest=manifest)
        todo = [e["index"] for e in plan if not e["sha256"]]
        done = sum(e["employees"] for e in plan if e["sha256"])
        return cls(out, manifest, plan, todo, done, len(slicer.eligible), say)

    def record(self, res: PartitionResult) -> None:
        """Write a scored partition and record it in the manifest."""
        entry = self.plan[res.index]
        folder.write_atomic(path=self.out / entry["file"], data=res.data)
        entry.update(
            rows=res.rows,
            fewer_than_k=res.fewer_than_k,
            without_rows=res.without_rows,
            sha256=hashlib.sha256(res.data).hexdigest(),
        )
        folder.write_manifest(out=self.out, manifest=self.manifest)

    def advance(self, n: int, label: str) -> None:
        """``n`` more employees scored: report the progress under ``label``."""
        self.done += n
        self.say(self.done, self.eligible, label)

    def finish(self) -> None:
        """Mark the manifest complete with its totals and write it."""
        plan = self.plan
        self.manifest["complete"] = True
        self.manifest["totals"] = {
            "employees": self.eligible,
            "rows": sum(int(e["rows"]) for e in plan),
            "fewer_than_k": sum(int(e["fewer_than_k"]) for e in plan),
            "without_rows": sum(int(e["without_rows"]) for e in plan),
        }
        folder.write_manifest(out=self.out, manifest=self.manifest)


def _resume(out: Path, plan: list[dict[str, Any]], old: dict[str, Any]) -> None:
    """Keep the finished partitions of ``old`` in ``plan``; BatchError when they differ."""
    keep = [{k: e.get(k) for k in ("file", "employees", "first_employee")} for e in plan]
    was = [
        {k: e.get(k) for k in ("file", "employees", "first_employee")}
        for e in old.get("partitions", [])
    ]
    if keep != was:
        raise BatchError(f"{out}: the partitions differ from the recorded run")
    for entry, before in zip(plan, old["partitions"], strict=True):
        if folder.partition_done(out=out, entry=before):
            entry.update(before)


def _finished(out: Path, old: dict[str, Any]) -> bool:
    """True when the recorded run is complete and every partition file matches its hash."""
    return bool(old.get("complete")) and all(
        folder.partition_done(out=out, entry=e) for e in old["partitions"]
    )


def _stream(
    req: Request, out: Path, say: Progress, rules: RuleSet
) -> tuple[Shared, Slicer | Spill]:
    if req.model_kind is Kind.PROGRAMS:
        return streamed_programs(req, out, say)
    return streamed_positions(req, out, say, rules)


def run_batch(
    req: Request,
    settings: Settings,
    models: Models | None = None,
    *,
    local_models: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """Compute and write the batch of ``req`` (resuming a matching run in ``req.out``).

    ``models`` default: the champions (registry, else the verified local copies; with
    ``local_models`` the local copies only). Raises BatchError when refused or when a needed
    model is missing, ModelIntegrityError for a model whose text fails its hash.
    """
    req.check()
    say = progress or (lambda _d, _t, _m: None)
    t0 = time.perf_counter()
    model = _model(req, models if models is not None else _models(settings, local_models))
    rules = load_rules(settings.career_rules)
    spec = spec_of(req, model, data_identity(directory=req.clean_dir), rules)
    out = Path(req.out)
    with folder.locked(out=out), contextlib.ExitStack() as cleanup:
        old = folder.prepare_folder(out=out, spec=spec, overwrite=req.overwrite)
        if old is not None and _finished(out, old):
            spent = time.perf_counter() - t0
            timings = {"prepare_s": spent, "score_s": 0.0, "total_s": spent}
            return Outcome(old, 0, len(old["partitions"]), {**timings, "scored_employees": 0.0})
        shared, slicer = _stream(req, out, say, rules)
        cleanup.callback(slicer.close)  # the spilled tables go when the run ends
        run = _Run.start(req, spec, slicer, old, say)
        t_world = time.perf_counter() - t0
        say(run.done, run.eligible, "scoring")
        t1 = time.perf_counter()
        cluster_time: dict[str, float] = {}
        if req.dask is None:
            for i in run.todo:
                tick = functools.partial(run.advance, label=f"partition {i + 1}/{slicer.count}")
                run.record(run_partition(shared, model, req.kind, req.k, slicer.take(i), tick))
        else:
            for res in _on_dask(req, shared, model, slicer, run.todo, cluster_time):
                run.record(res)
                run.advance(res.employees, f"partition {res.index + 1}/{slicer.count}")
        t_score = time.perf_counter() - t1 - cluster_time.get("cluster_s", 0.0)
        run.finish()
    return Outcome(
        run.manifest,
        written=len(run.todo),
        skipped=slicer.count - len(run.todo),
        timings={
            "prepare_s": t_world,
            "score_s": t_score,
            **cluster_time,
            "total_s": time.perf_counter() - t0,
            "scored_employees": float(sum(run.plan[i]["employees"] for i in run.todo)),
        },
    )


def _dask_client(address: str) -> tuple[Any, Any]:
    """A Dask client and the local cluster it runs (None for a scheduler ``address``)."""
    # distributed logs every start and stop at INFO, in the workers too: errors only
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if address != "local":
        return Client(address, timeout="30s"), None
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address="127.0.0.1:0",  # no fixed port to collide with
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _on_dask(
    req: Request,
    shared: Shared,
    model: ModelText,
    slicer: Partitions,
    todo: list[int],
    timings: dict[str, float],
) -> Iterator[PartitionResult]:
    """Run the partitions ``todo`` as Dask tasks (one per partition, a few in flight) and yield
    their results as they finish; ``timings["cluster_s"]``: starting or connecting to the
    cluster and sending it the shared state."""
    start = time.perf_counter()
    assert req.dask is not None
    client, cluster = _dask_client(req.dask)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        shared_f = client.scatter(shared, broadcast=True, hash=False)
        model_f = client.scatter(model, broadcast=True, hash=False)
        timings["cluster_s"] = time.perf_counter() - start
        yield from _dask_results(client, req, slicer, todo, (shared_f, model_f), workers)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_results(
    client: Any,
    req: Request,
    slicer: Partitions,
    todo: list[int],
    scattered: tuple[Any, Any],
    workers: int,
) -> Iterator[PartitionResult]:
    """Submit the partitions ``todo`` (two per worker in flight) and yield their results as
    they finish; ``scattered``: the shared state and the model on the cluster."""
    from distributed import as_completed

    queue = iter(todo)
    running = as_completed()

    def submit() -> bool:
        i = next(queue, None)
        if i is None:
            return False
        tables = client.scatter(slicer.take(i), hash=False)
        running.add(
            client.submit(
                run_partition,
                *scattered,
                req.kind,
                req.k,
                tables,
                key=f"jenjang-batch-{req.kind}-{i:05d}-{os.getpid()}",
                pure=False,
                retries=1,
            )
        )
        return True

    for _ in range(2 * workers):
        if not submit():
            break
    for fut in running:
        res: PartitionResult = fut.result()
        fut.release()
        submit()
        yield res


def read_rows(out: Path) -> pd.DataFrame:
    """Every row of a batch folder, in partition order (for checks and small exports)."""
    manifest = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    parts = [pd.read_parquet(Path(out) / e["file"]) for e in manifest["partitions"]]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
