"""The ranking-pipeline contract and the one registry of pipelines, keyed by :class:`Kind`.

Every model Jenjang trains (programmes, next positions) is a :class:`RankingPipeline`: a
config, split frames, a fit, scores of the model and its baselines, a fairness report, a
headline, a gate and the run operations built on them (train, evaluate, promote). The CLI, the
fairness command and the stack reach a pipeline through :func:`get_pipeline`; the pipelines
depend on the shared modules (:mod:`training.frames`, :mod:`training.fingerprint`,
:mod:`training.fairness`, :mod:`training.registry`), never on each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from recommender.bundles import load_run_ranker
from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.programs.ranker import ProgramRanker
from training import tracking
from training.careers import CareersPipeline
from training.exposure.figures import Report
from training.exposure.store import SHAPING
from training.fingerprint import data_fingerprint
from training.kinds import Kind, parse_kind
from training.programs import ProgramsPipeline

Progress = Callable[[str], None]


class RankingPipeline(Protocol):
    """One kind of ranking model, end to end. ``cfg`` is the kind's pydantic config
    (:mod:`training.configs`); frames are the kind's year objects (each with ``.frame``)."""

    @property
    def kind(self) -> Kind:
        """The kind's one name (CLI, fairness metrics, MLflow names)."""
        ...

    @property
    def model_name(self) -> str:
        """The registered MLflow model name."""
        ...

    @property
    def headline_metric(self) -> str:
        """The metric the gate compares with the champion (``ndcg@10``, ``mrr``)."""
        ...

    def config(self, **overrides: Any) -> Any:
        """The default config with ``overrides``; raises pydantic.ValidationError."""
        ...

    def config_from_run(self, *, params: dict[str, Any], rules: str | None) -> Any:
        """The config from a run's logged parameters (defaults for the rest)."""
        ...

    def build_frames(
        self, *, tables: dict[str, pd.DataFrame], cfg: Any, progress: Progress
    ) -> dict[str, list[Any]]:
        """Split name (train, validation, test) -> year frames."""
        ...

    def fit(self, *, train: pd.DataFrame, valid: pd.DataFrame, cfg: Any) -> ProgramRanker:
        """The ranker fitted on ``train`` with early stopping on ``valid``."""
        ...

    def baselines(self) -> tuple[str, ...]:
        """Names of the baselines scored beside the model."""
        ...

    def fairness_from_data(
        self,
        *,
        tables: dict[str, pd.DataFrame],
        ranker: ProgramRanker,
        cfg: Any,
        progress: Progress,
    ) -> Report:
        """The exposure report of ``ranker`` on the test year of ``tables``."""
        ...

    def headline(self, *, results: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The JSON ``evaluate <kind> --json`` prints."""
        ...

    def gate(
        self, *, new: dict[str, float], champion: dict[str, float] | None, cfg: Any
    ) -> tuple[bool, list[str]]:
        """Quality and parity gate on logged test metrics: (ok, reasons)."""
        ...

    def train(
        self, *, settings: Settings, data: Path, cfg: Any, progress: Progress, **options: Any
    ) -> dict[str, Any]:
        """Train, evaluate, log and register ``<model>@challenger``; the run's summary."""
        ...

    def evaluate(
        self, *, settings: Settings, data: Path, model: str, cfg: Any, progress: Progress
    ) -> dict[str, Any]:
        """Re-score a registered version (alias or number) on the test year of ``data``."""
        ...

    def promote(
        self,
        *,
        settings: Settings,
        cfg: Any,
        candidate: str = tracking.CHALLENGER,
        fairness_override: str | None = None,
    ) -> dict[str, Any]:
        """Move ``champion`` to the candidate if it passes the gate and the exposure rule."""
        ...


#: The one registry of pipelines.
PIPELINES: dict[Kind, RankingPipeline] = {
    Kind.PROGRAMS: ProgramsPipeline(),
    Kind.CAREERS: CareersPipeline(),
}


def get_pipeline(kind: str) -> RankingPipeline:
    """The pipeline of ``kind`` (``"programs"`` or ``"careers"``, or a :class:`Kind`).

    Raises ValueError naming the known kinds when ``kind`` is none of them.
    """
    return PIPELINES[parse_kind(name=str(kind))]


def recompute_fairness(
    *,
    settings: Settings,
    kind: str,
    run_id: str,
    data: Path,
    progress: Progress,
    rules: str | None = None,
) -> tuple[Report, bool]:
    """Recompute a registered version's exposure report from the clean tables in ``data`` with
    the run's own settings (its logged parameters that shape the figures, else the defaults)
    and its booster (hash verified). Returns (report, whether ``data`` has the run's data
    fingerprint).

    Raises ValueError for an unknown ``kind``, FileNotFoundError for missing tables,
    ModelIntegrityError for a tampered booster, RulesError for a broken rules file.
    """
    pipeline = get_pipeline(kind)
    run = tracking.client(settings).get_run(run_id)
    params = {k: v for k, v in run.data.params.items() if k in SHAPING}
    ranker = load_run_ranker(settings=settings, run_id=run_id)
    same_data = run.data.params.get("data_fingerprint") == data_fingerprint(directory=data)
    tables = load_clean(data)
    cfg = pipeline.config_from_run(params=params, rules=rules)
    report = pipeline.fairness_from_data(tables=tables, ranker=ranker, cfg=cfg, progress=progress)
    return report, same_data
