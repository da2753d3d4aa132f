"""MLflow "model from code" for the programme ranker (no pickle anywhere).

MLflow stores this file with the model and runs it on ``mlflow.pyfunc.load_model``; the model
itself is the LightGBM text artifact, whose SHA-256 is checked before it is parsed. ``predict``
takes a frame of candidates with the feature columns and returns one score per row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.programs.ranker import ProgramRanker
from training.tracking import pyfunc_model_base, set_code_model


class ProgramsPyfunc(pyfunc_model_base()):  # type: ignore[misc]
    """Scores candidate frames with the verified booster."""

    def load_context(self, context: Any) -> None:
        """Read ``booster`` (model text) and ``meta`` (sha256, features) and verify them."""
        meta = json.loads(Path(context.artifacts["meta"]).read_text())
        text = Path(context.artifacts["booster"]).read_text()
        self.ranker = ProgramRanker.from_text(text, expected_sha256=meta["sha256"])
        self.features = meta["features"]

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> np.ndarray:
        """One score per candidate row (higher first)."""
        return self.ranker.predict(model_input[self.features])


set_code_model(model=ProgramsPyfunc())
