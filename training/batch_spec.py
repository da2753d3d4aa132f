"""What a batch run is (docs/batch.md): the request, the model as text, the specification a rerun
must match to resume, and the errors that refuse a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recommender import answers
from recommender.careers.rules import RuleSet
from recommender.state import Models
from training.fingerprint import data_fingerprint, file_sha256, table_count
from training.kinds import Kind

FORMAT = "jenjang-batch/1"
MANIFEST = "_manifest.json"
LOCK = ".batch.lock"
#: The batch's outputs (``jenjang batch programs|positions``, the manifest's ``kind``) and the
#: model kind that makes each: next positions come from the ``careers`` model.
MODEL_KIND: dict[str, Kind] = {"programs": Kind.PROGRAMS, "positions": Kind.CAREERS}
KINDS = tuple(MODEL_KIND)
#: Registered model of each output (``jenjang-programs``, ``jenjang-careers``).
MODEL_OF = {name: kind.model_name for name, kind in MODEL_KIND.items()}
#: The column naming a row's item, per model kind.
ITEM_COLUMN: dict[Kind, str] = {Kind.PROGRAMS: "program_id", Kind.CAREERS: "position_id"}
DEFAULT_K = {"programs": 50, "positions": 5}
MAX_K = {"programs": answers.MAX_PROGRAMS, "positions": answers.MAX_POSITIONS}
DEFAULT_PARTITION = 10_000


class BatchError(RuntimeError):
    """The run is refused or cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class ModelText:
    """A verified model as text (never a pickled booster): the workers parse it after checking
    the SHA-256. ``text`` None = no model (positions in standards-only mode)."""

    name: str
    version: str | None
    sha256: str | None
    run_id: str | None
    text: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, name: str, models: Models) -> ModelText:
        """The loaded bundle of ``name`` (or an empty one when the model is not loaded)."""
        b = models.bundles.get(name)
        if b is None:
            return cls(name, None, None, None, None)
        return cls(b.name, b.version, b.sha256, b.run_id, b.text)

    def describe(self) -> dict[str, Any]:
        """Name, version, SHA-256 and run id (for the manifest)."""
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "run_id": self.run_id,
        }


def data_identity(*, directory: Path) -> dict[str, Any]:
    """The manifest's ``data``: ``{"fingerprint": <64 hex>, "tables": <int>}``, the one data
    fingerprint of :func:`training.fingerprint.data_fingerprint` (a training run logs the same
    value for the same folder) and the number of tables. Raises DataSourceError when the folder
    is missing, OSError when a file cannot be read."""
    return {
        "fingerprint": data_fingerprint(directory=directory),
        "tables": table_count(directory=directory),
    }


def rules_identity(rules: RuleSet) -> dict[str, Any]:
    """Version and SHA-256 of the career-rules file (positions depend on it)."""
    return {"version": rules.version, "sha256": file_sha256(path=Path(rules.path))}


@dataclass(frozen=True)
class Request:
    """What to compute and where: ``kind`` programs or positions, top ``k``, as of ``at``."""

    kind: str
    out: Path
    k: int
    at: pd.Timestamp
    clean_dir: Path
    partition_size: int = DEFAULT_PARTITION
    dask: str | None = None  # None in-process, "local" or a scheduler address
    overwrite: bool = False

    @property
    def model_kind(self) -> Kind:
        """The kind of model that makes this output (KeyError for an unknown ``kind``)."""
        return MODEL_KIND[self.kind]

    def check(self) -> None:
        """Raise BatchError for a bad kind, k or partition size."""
        if self.kind not in KINDS:
            raise BatchError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not 1 <= self.k <= MAX_K[self.kind]:
            raise BatchError(f"k must be between 1 and {MAX_K[self.kind]} for {self.kind}")
        if self.partition_size < 1:
            raise BatchError("the partition size must be at least 1")


def spec_of(req: Request, model: ModelText, data: dict[str, Any], rules: RuleSet) -> dict[str, Any]:
    """The part of the manifest a rerun must match to resume (no times, no paths)."""
    careers = req.model_kind is Kind.CAREERS
    mode = None
    if careers:
        mode = "learned" if model.text is not None else "standards"
    return {
        "format": FORMAT,
        "kind": req.kind,
        "k": req.k,
        "as_of": str(req.at.date()),
        "year": int(req.at.year),
        "model": {**model.describe(), **({"mode": mode} if mode else {})},
        "data": data,
        "career_rules": rules_identity(rules) if careers else None,
        "partition_size": req.partition_size,
    }
