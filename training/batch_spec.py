"""What a batch run is (docs/batch.md): the request, the model as text, the specification a rerun
must match to resume, and the errors that refuse a run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recommender import bundles
from recommender.careers.rules import RuleSet
from recommender.data.io import list_files
from recommender.state import Models

FORMAT = "jenjang-batch/1"
MANIFEST = "_manifest.json"
LOCK = ".batch.lock"
KINDS = ("programs", "positions")
MODEL_OF = {"programs": bundles.PROGRAMS, "positions": bundles.CAREERS}
DEFAULT_K = {"programs": 50, "positions": 5}
MAX_K = {"programs": 50, "positions": 20}  # the service's limits
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


def data_fingerprint(clean_dir: Path) -> dict[str, Any]:
    """SHA-256 over the names and contents of every table of the clean folder (a file, or a
    folder of Parquet parts for large organisations), and the number of tables."""
    files, _ = list_files(Path(clean_dir))
    digest = hashlib.sha256()
    for name in sorted(files):
        path = files[name]
        parts = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        for part in parts:
            digest.update(f"{part.relative_to(path.parent)}\0".encode())
            digest.update(file_sha256(part).encode())
    return {"fingerprint": digest.hexdigest(), "tables": len(files)}


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def rules_identity(rules: RuleSet) -> dict[str, Any]:
    """Version and SHA-256 of the career-rules file (positions depend on it)."""
    return {"version": rules.version, "sha256": file_sha256(Path(rules.path))}


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
    mode = None
    if req.kind == "positions":
        mode = "learned" if model.text is not None else "standards"
    return {
        "format": FORMAT,
        "kind": req.kind,
        "k": req.k,
        "as_of": str(req.at.date()),
        "year": int(req.at.year),
        "model": {**model.describe(), **({"mode": mode} if mode else {})},
        "data": data,
        "career_rules": rules_identity(rules) if req.kind == "positions" else None,
        "partition_size": req.partition_size,
    }
