"""The configurations of the ranking pipelines (logged to MLflow as-is, one parameter each).

:class:`ProgramsConfig` shapes a programmes run, :class:`CareersConfig` a careers run; a
registered version's own figures are recomputed from its logged parameters through
``model_validate``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ProgramsConfig(BaseModel):
    """Everything that shapes a programmes run (logged to MLflow as-is)."""

    n_estimators: int = Field(600, ge=1)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(63, ge=2)
    min_child_samples: int = Field(50, ge=1)
    early_stopping_rounds: int = Field(30, ge=1)
    max_candidates: int = Field(150, ge=10)
    max_people_per_year: int = Field(
        25_000, ge=100, description="queries sampled per year (bounds time and memory)"
    )
    n_boot: int = Field(300, ge=10)
    seed: int = 7
    promote_margin: float = Field(0.0, ge=0, description="NDCG@10 points over the champion")
    min_parity: float = Field(0.8, ge=0, le=1, description="lowest/highest group NDCG@10")
    use_decisions: bool = Field(
        True, description="HR review decisions correct the train/validation labels"
    )
    fairness_min_group: int = Field(
        100, ge=1, description="people a group needs for its exposure to be judged"
    )
    min_exposure_ratio: float = Field(
        0.8, ge=0, le=1, description="lowest/highest exposure of advancing programmes by group"
    )
    exposure_tolerance: float = Field(
        0.0, ge=0, description="how far the exposure ratio may fall below the champion's"
    )


class CareersConfig(BaseModel):
    """Everything that shapes a careers run (logged to MLflow as-is). Defaults were chosen on
    the validation year only."""

    n_estimators: int = Field(2000, ge=1)
    learning_rate: float = Field(0.02, gt=0)
    num_leaves: int = Field(31, ge=2)
    min_child_samples: int = Field(100, ge=1)
    early_stopping_rounds: int = Field(60, ge=1)
    max_queries_per_year: int = Field(20_000, ge=10, description="moves sampled per year")
    n_boot: int = Field(300, ge=10)
    seed: int = 7
    rules: str | None = Field(None, description="career rules file; None = packaged default")
    promote_margin: float = Field(0.0, ge=0, description="MRR points over the champion")
    min_parity: float = Field(0.8, ge=0, le=1, description="lowest/highest group MRR")
    parity_groups: tuple[str, ...] = ("sex", "region")
    fairness_max_people: int = Field(
        20_000, ge=10, description="people sampled for the exposure figures of the test year"
    )
    fairness_min_group: int = Field(
        100, ge=1, description="people a group needs for its exposure to be judged"
    )
    min_exposure_ratio: float = Field(
        0.8, ge=0, le=1, description="lowest/highest exposure of advancing positions by group"
    )
    exposure_tolerance: float = Field(
        0.0, ge=0, description="how far the exposure ratio may fall below the champion's"
    )
