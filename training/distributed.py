"""Training the programme ranker on a Dask cluster (``lightgbm.dask.DaskLGBMRanker``).

:func:`connect` opens a client: ``"local"`` starts a :class:`~distributed.LocalCluster` of two
worker processes on the loopback interface (no dashboard; nothing reaches the network); any
other value is the address of a running scheduler (``tcp://host:8786`` or ``host:8786``).

:func:`fit_dask` (and :func:`fit_ranker_dask`, which returns only the ranker) fits the same
LambdaRank model as :func:`training.programs.fit_ranker` (same features, hyper-parameters,
seeds and deterministic settings) with LightGBM's data-parallel learner. Query groups
(year, employee) are dealt round-robin to the partitions (:func:`query_partitions`), one
partition per worker; each partition and its group sizes are scattered to one worker, and the
``group`` argument is a Dask array whose chunks are the per-partition group sizes, so every query
lies in one partition and LambdaRank's pairwise gradients never cross machines.

The Dask estimators do not support early stopping. The cluster fits trees in stages of 100
(each stage continues the booster through ``init_model``); after each stage the driver extends
the validation NDCG@10 curve of the model (:class:`ValidationCurve`, the metric LightGBM's early
stopping watches, equal to it to 1e-15) and applies the rule of ``lightgbm.early_stopping``
(:func:`early_stopping`); the model is cut at the best iteration. docs/programs-model.md,
"Training on a Dask cluster", gives the reasons and the measurements.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommender.programs.features import FEATURES
from recommender.programs.ranker import ProgramRanker
from training.configs import ProgramsConfig
from training.frames import QUERY, query_groups, with_positives

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)
LOCAL = "local"
#: One partition per worker: lightgbm.dask concatenates a worker's partitions in an order taken
#: from an unordered set, so with more than one the row order (hence bagging, hence the model)
#: would change from run to run.
PARTITIONS_PER_WORKER = 1
#: Trees per stage of the Dask fit; early stopping is checked after each stage.
STAGE_TREES = 100


class DaskConnectionError(ConnectionError):
    """The Dask scheduler could not be reached or started; the message names the address."""


@contextlib.contextmanager
def connect(dask: str, timeout: float = 20.0) -> Iterator[Client]:
    """A :class:`distributed.Client` for ``dask``, closed (with its local cluster) on exit.

    ``"local"``: a :class:`~distributed.LocalCluster` of 2 worker processes with 1 thread each;
    scheduler, workers and their HTTP endpoints on 127.0.0.1 (random ports), no dashboards, no
    work stealing (partitions stay where they were put). Anything else: the address of a
    running scheduler, e.g. ``tcp://10.0.0.5:8786``; ``timeout`` seconds to connect.

    Raises :class:`DaskConnectionError` naming the address when it cannot connect.
    """
    from distributed import Client, LocalCluster

    address = dask.strip()
    if not address:
        raise DaskConnectionError("no Dask scheduler given: use 'local' or an address")
    if address == LOCAL:
        from dask import config as dask_config

        # the scheduler runs in this process and reads its configuration when it starts
        with (
            dask_config.set({"distributed.scheduler.work-stealing": False}),
            _naming("cannot start a local Dask cluster"),
        ):
            cluster = LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                worker_dashboard_address=None,
                # the scheduler's HTTP routes (health, metrics) on a free loopback port, never
                # the default 8787 on all interfaces
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            )
        try:
            client = Client(cluster)
            # workers register asynchronously: on a busy machine the second can arrive after
            # the partitions are placed, and the model is then trained on one machine only
            client.wait_for_workers(2, timeout=120)
        except Exception:
            cluster.close()
            raise
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    with _naming(f"cannot connect to the Dask scheduler at {address}"):
        client = Client(address, timeout=timeout)
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def _naming(message: str) -> Iterator[None]:
    """Turn a failure to start or reach a cluster into DaskConnectionError(message: reason)."""
    try:
        yield
    except (OSError, TimeoutError, ValueError, RuntimeError) as exc:  # refused, bad address...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DaskConnectionError(f"{message}: {reason}") from exc


def workers(client: Client) -> list[str]:
    """Addresses of the cluster's workers, sorted. Raises DaskConnectionError when there are
    none (a scheduler without workers cannot train)."""
    info = client.scheduler_info(n_workers=-1)
    found = sorted(info["workers"])
    if not found:
        raise DaskConnectionError(
            f"the Dask scheduler at {info.get('address', '?')} has no workers"
        )
    return found


def query_partitions(df: pd.DataFrame, n_partitions: int) -> list[np.ndarray]:
    """Row positions of ``df`` for each of at most ``n_partitions`` partitions: query groups
    (``year``, ``employee_id``) are dealt round-robin in query order, so every query lies in
    exactly one partition, every partition holds every year in about equal shares, and rows stay
    in their order (each query contiguous) inside a partition.

    ``df`` must be sorted by query, as :func:`training.datasets.concat` leaves it; raises
    ValueError when the rows of a query are not contiguous.
    """
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be at least 1, not {n_partitions}")
    if df.empty:
        return []
    keys = df[QUERY]
    changed = (keys.iloc[1:].to_numpy() != keys.iloc[:-1].to_numpy()).any(axis=1)
    query = np.cumsum(np.r_[True, changed]) - 1  # query number of each row
    if query[-1] + 1 != len(keys.drop_duplicates()):
        raise ValueError("rows of a query are not contiguous: sort by (year, employee_id) first")
    part = query % n_partitions
    return [np.flatnonzero(part == i) for i in range(min(n_partitions, int(query[-1]) + 1))]


def group_sizes(df: pd.DataFrame) -> np.ndarray:
    """Sizes of the consecutive query groups of ``df`` (in row order)."""
    return query_groups(df)


@dataclass
class DaskQueries:
    """Training data on the cluster: ``X`` (features, Dask DataFrame), ``y`` (labels, Dask
    Series) and ``group`` (Dask array of query sizes whose i-th chunk belongs to the i-th
    partition); ``frame`` has the query keys too (for checks); ``placement`` the worker that
    holds each partition."""

    frame: Any
    X: Any
    y: Any
    group: Any
    rows: list[np.ndarray]
    placement: list[str]
    futures: list[Any]


def to_dask(
    df: pd.DataFrame, client: Client, partitions_per_worker: int = PARTITIONS_PER_WORKER
) -> DaskQueries:
    """Scatter ``df`` (sorted by query) to the workers as partitions of whole queries
    (:func:`query_partitions`; partition ``i`` to the ``i % n``-th worker by address) and build
    the collections ``DaskLGBMRanker.fit`` takes."""
    import dask.array as da
    import dask.dataframe as dd

    addresses = workers(client)
    rows = query_partitions(df, partitions_per_worker * len(addresses))
    if not rows:
        raise ValueError("no training rows")
    columns = [*QUERY, *FEATURES, "label"]
    parts = [df.iloc[r][columns].reset_index(drop=True) for r in rows]
    placement = [addresses[i % len(addresses)] for i in range(len(parts))]
    # Each partition and its group sizes are scattered to one worker; every task that reads
    # them depends on that worker's data only, so the scheduler cannot place it elsewhere.
    futures = [
        client.scatter(part, workers=[where], hash=False)
        for part, where in zip(parts, placement, strict=True)
    ]
    sizes = [group_sizes(part) for part in parts]
    size_futures = [
        client.scatter(size, workers=[where], hash=False)
        for size, where in zip(sizes, placement, strict=True)
    ]
    frame = dd.from_delayed(futures, meta=parts[0].iloc[:0])
    group = da.concatenate(
        [
            da.from_delayed(f, shape=(len(size),), dtype=size.dtype)
            for f, size in zip(size_futures, sizes, strict=True)
        ]
    )
    return DaskQueries(
        frame,
        frame[list(FEATURES)],
        frame["label"],
        group,
        rows,
        placement,
        [*futures, *size_futures],
    )


class ValidationCurve:
    """Mean NDCG@k of a growing model on a validation set after each tree, computed as
    LightGBM's ``ndcg`` metric does (the metric its early stopping watches): gain
    2^label - 1, discount 1/log2(rank + 1), ranks by descending score with ties in row order,
    a query without a positive counts 1, the mean over queries.

    ``extend(booster)`` adds the trees the booster has beyond those already seen; scores are
    accumulated tree by tree from the leaf each row falls in (one pass over the rows per block of
    trees), so the cost is linear in the number of trees.
    """

    BLOCK = 25  # trees per pass over the rows (rows x BLOCK leaf indices in memory)

    def __init__(self, X: np.ndarray, y: np.ndarray, group: np.ndarray, k: int = 10) -> None:
        y = np.asarray(y, dtype=np.int64)
        group = np.asarray(group, dtype=np.int64)
        if int(group.sum()) != len(y) or len(X) != len(y):
            raise ValueError("group sizes, labels and rows do not agree")
        n_q, width = len(group), int(group.max())
        self._X = np.ascontiguousarray(X, dtype=np.float64)
        self._query = np.repeat(np.arange(n_q), group)
        self._offset = np.arange(len(y)) - np.repeat(np.cumsum(group) - group, group)
        labels = np.zeros((n_q, width), dtype=np.int64)
        labels[self._query, self._offset] = y
        self._gains = 2.0**labels - 1
        self._k = min(k, width)
        self._discount = 1.0 / np.log2(np.arange(2, self._k + 2))
        ideal = (-np.sort(-self._gains, axis=1))[:, : self._k] @ self._discount
        self._empty = ideal <= 0
        self._ideal = np.where(self._empty, 1.0, ideal)
        self._scores = np.full((n_q, width), -np.inf)  # padding ranks last
        self._scores[self._query, self._offset] = 0.0
        self._rows = np.arange(n_q)[:, None]
        self.values: list[float] = []

    def extend(self, booster: Any) -> np.ndarray:
        """Score the booster's trees not seen yet; returns the whole curve."""
        total = int(booster.current_iteration())
        for start in range(len(self.values), total, self.BLOCK):
            count = min(self.BLOCK, total - start)
            leaves = booster.predict(
                self._X, start_iteration=start, num_iteration=count, pred_leaf=True
            ).reshape(len(self._X), count)
            for j in range(count):
                tree = start + j
                outputs = np.array(
                    [
                        booster.get_leaf_output(tree, leaf)
                        for leaf in range(int(leaves[:, j].max()) + 1)
                    ]
                )
                self._scores[self._query, self._offset] += outputs[leaves[:, j]]
                self.values.append(self._ndcg())
        return np.asarray(self.values)

    def _ndcg(self) -> float:
        """NDCG@k of the current scores: the k best per query found with a partition, ties at
        the k-th score taken in row order, then only those k sorted (stable)."""
        k = self._k
        neg = -self._scores
        kth = np.partition(neg, k - 1, axis=1)[:, k - 1 : k]
        above = neg < kth
        tied = neg == kth
        need = k - above.sum(axis=1, keepdims=True)
        chosen = above | (tied & (np.cumsum(tied, axis=1) <= need))
        cols = np.nonzero(chosen)[1].reshape(len(neg), k)  # row order within each query
        order = np.take_along_axis(
            cols, np.argsort(np.take_along_axis(neg, cols, axis=1), axis=1, kind="stable"), 1
        )
        dcg = self._gains[self._rows, order] @ self._discount
        return float(np.where(self._empty, 1.0, dcg / self._ideal).mean())


def ndcg_curve(
    booster: Any, X: np.ndarray, y: np.ndarray, group: np.ndarray, k: int = 10
) -> np.ndarray:
    """Validation NDCG@k after each tree of ``booster`` (element ``i`` after ``i + 1`` trees);
    see :class:`ValidationCurve`."""
    return ValidationCurve(X, y, group, k).extend(booster)


def early_stopping(curve: np.ndarray, rounds: int) -> tuple[int, bool]:
    """What ``lightgbm.early_stopping(rounds)`` does on this validation curve (higher is
    better): (best iteration, 1-based; whether it stopped before the curve's end). Training
    stops once ``rounds`` iterations in a row did not beat the best score strictly."""
    best, best_i = -np.inf, 0
    for i, score in enumerate(curve):
        if score > best:
            best, best_i = float(score), i
        elif i - best_i >= rounds:
            return best_i + 1, True
    return best_i + 1, False


#: Network parameters LightGBM writes into the model text; the cluster's addresses and random
#: ports change from run to run, so they are reset to LightGBM's defaults (``num_machines``,
#: the same for the same cluster size, stays as a record of how the model was trained).
_NETWORK = {"machines": "", "local_listen_port": "12400"}


def _without_network(text: str) -> str:
    """The model text with the training cluster's network parameters (random ports, addresses)
    reset to LightGBM's defaults, so the same data, settings and cluster size give the same text
    and hash."""
    for name, default in _NETWORK.items():
        text = re.sub(rf"^\[{name}: [^\]\n]*\]$", f"[{name}: {default}]", text, flags=re.M)
    return text


@dataclass
class DaskFit:
    """A ranker fitted on a Dask cluster and how it was made: LightGBM machines that trained
    it, partitions, trees fitted (a multiple of the stage, at most ``n_estimators``), the best
    iteration kept, the validation NDCG@10 after every tree fitted, and the seconds spent on
    the cluster and on the validation curve."""

    ranker: ProgramRanker
    machines: int
    partitions: int
    trees_fitted: int
    best_iteration: int
    valid_ndcg: np.ndarray = field(repr=False)
    fit_seconds: float
    curve_seconds: float


def fit_dask(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    cfg: ProgramsConfig,
    client: Client,
    n_estimators: int | None = None,
    stage_trees: int = STAGE_TREES,
    partitions_per_worker: int = PARTITIONS_PER_WORKER,
) -> DaskFit:
    """Fit LambdaRank on the cluster with early stopping done in the driver.

    Trees are fitted in stages of ``stage_trees`` (each stage continues the previous booster
    through ``init_model``), up to ``n_estimators`` (default ``cfg.n_estimators``). After each
    stage the driver extends the validation NDCG@10 curve and applies the rule of
    ``lightgbm.early_stopping(cfg.early_stopping_rounds)``; once it stops, the model is cut at
    the best iteration. ``train`` and ``valid`` are split frames as
    :func:`training.datasets.concat` returns them (queries without positives are dropped, as in
    :func:`training.programs.fit_ranker`).
    """
    from lightgbm.dask import DaskLGBMRanker

    if stage_trees < 1:
        raise ValueError(f"stage_trees must be at least 1, not {stage_trees}")
    train, valid = with_positives(train), with_positives(valid)
    template, params = _template(cfg, n_estimators)
    curve = ValidationCurve(
        valid[list(FEATURES)].to_numpy(dtype=np.float64),
        valid["label"].to_numpy(),
        group_sizes(valid),
        template.eval_at,
    )
    data = to_dask(train, client, partitions_per_worker)
    partitions = len(data.rows)
    staged = _fit_stages(
        DaskLGBMRanker, client, data, params, curve, template.n_estimators, stage_trees, cfg
    )
    booster, values, best, fit_seconds, curve_seconds = staged
    del data  # releases the scattered partitions on the workers
    text = _without_network(booster.model_to_string(num_iteration=best))
    ranker = ProgramRanker.from_text(text).set_params(**template.get_params())
    machines = trained_machines(text)
    log.info(
        "Dask fit: %d trees on %d machines in %.1f s; best iteration %d (validation NDCG@%d %.4f)",
        *(len(values), machines, fit_seconds, best, template.eval_at, values[best - 1]),
    )
    return DaskFit(
        ranker=ranker,
        machines=machines,
        partitions=partitions,
        trees_fitted=len(values),
        best_iteration=best,
        valid_ndcg=values,
        fit_seconds=fit_seconds,
        curve_seconds=curve_seconds,
    )


def _template(
    cfg: ProgramsConfig, n_estimators: int | None
) -> tuple[ProgramRanker, dict[str, Any]]:
    """The single-machine ranker of ``cfg`` (``n_estimators`` trees at most, default
    ``cfg.n_estimators``) and its LightGBM parameters, exactly, without ``n_jobs`` (each worker
    uses its own threads)."""
    template = ProgramRanker(
        n_estimators=n_estimators or cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        num_leaves=cfg.num_leaves,
        min_child_samples=cfg.min_child_samples,
        early_stopping_rounds=cfg.early_stopping_rounds,
        random_state=cfg.seed,
    )
    params = template._lgbm().get_params()
    params.pop("n_jobs", None)
    return template, params


def _fit_stages(
    estimator: Any,
    client: Client,
    data: DaskQueries,
    params: dict[str, Any],
    curve: ValidationCurve,
    n_estimators: int,
    stage_trees: int,
    cfg: ProgramsConfig,
) -> tuple[Any, np.ndarray, int, float, float]:
    """Fit stages of ``stage_trees`` trees (each continuing the booster) until early stopping
    or ``n_estimators``; returns (booster, validation curve, best iteration, seconds on the
    cluster, seconds on the curve). Raises RuntimeError when a stage does not continue."""
    fit_seconds = curve_seconds = 0.0
    booster: Any = None
    while True:
        done = 0 if booster is None else int(booster.current_iteration())
        step = min(stage_trees, n_estimators - done)
        started = time.perf_counter()
        model = estimator(client=client, **{**params, "n_estimators": step})
        with warnings.catch_warnings():
            # lightgbm.dask warns that n_jobs is ignored even when it is unset
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            model.fit(data.X, data.y, group=data.group, init_model=booster)
        booster = model.booster_
        fit_seconds += time.perf_counter() - started
        if int(booster.current_iteration()) != done + step:
            raise RuntimeError(
                f"lightgbm.dask did not continue the model: {done} + {step} trees expected, "
                f"{booster.current_iteration()} found"
            )
        started = time.perf_counter()
        values = curve.extend(booster)
        curve_seconds += time.perf_counter() - started
        best, stopped = early_stopping(values, cfg.early_stopping_rounds)
        if stopped or done + step >= n_estimators:
            return booster, values, best, fit_seconds, curve_seconds


def trained_machines(text: str) -> int:
    """How many LightGBM machines (Dask workers holding training data) trained the model, from
    its text (``num_machines``; 1 when absent)."""
    found = re.search(r"^\[num_machines: (\d+)\]$", text, flags=re.M)
    return int(found.group(1)) if found else 1


def fit_ranker_dask(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    cfg: ProgramsConfig,
    client: Client,
    n_estimators: int | None = None,
) -> ProgramRanker:
    """:func:`fit_dask` returning only the ranker: the same :class:`ProgramRanker` (LightGBM
    text with SHA-256, truncated at the selected iteration) the registry and the service use."""
    return fit_dask(train, valid, cfg, client, n_estimators).ranker
