"""The answer bodies of the ``/v1`` routes, as pydantic models for the OpenAPI document.

The routes serve pre-serialised JSON (cached answers are spliced into their envelope without
decoding them, :func:`recommender.api.answers.respond`), so these models are never used to
validate or serialise an answer on the request path: they are declared as each route's
``response_model`` so that ``/openapi.json`` describes every answer with named properties (an
LMS team can generate a client from it). ``tests/api/test_openapi.py`` validates the real answers
of the tiny organisation against them, so the document cannot drift from the bodies.

Every model forbids unknown properties (``additionalProperties: false``): a field added to an
answer must be added here too.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Schema(BaseModel):
    """Base of the answer models: unknown properties are an error (the schema is complete)."""

    model_config = ConfigDict(extra="forbid")


class ModelRef(_Schema):
    """The model that ranked the answer: registry name and version (None when the model is not
    loaded and the answer falls back on the standards)."""

    name: str
    version: str | None


# ----------------------------------------------------------------------------- programmes
class ProgramItem(_Schema):
    """One recommended programme: catalogue facts, score, reason codes and their texts."""

    rank: int = Field(description="1 = best")
    program_id: str
    title: str
    modality: str
    jp: int = Field(description="learning hours (jam pelajaran)")
    cost_idr: int
    lan_accredited: bool
    score: float = Field(
        description="ranker score, rounded to 6 decimals; the order (rank) is the ranking "
        "policy's (programmes that close a gap of the likely next post guaranteed a share of "
        "the top 10)"
    )
    reason_codes: list[str] = Field(description="at most 3, e.g. GAP_CURRENT, PRIORITY, PEERS")
    reasons: list[str] = Field(description="the reason codes in words, in the answer's language")


class ColdStartAnswer(_Schema):
    """``POST /v1/recommendations/programs``: programmes for an inline profile."""

    request_id: str
    language: str
    model: ModelRef
    year: int
    items: list[ProgramItem]


class ProgramsAnswer(ColdStartAnswer):
    """``GET /v1/employees/{employee}/recommendations/programs``: ranked programmes."""

    employee: str = Field(description="the identifier as sent")


# ----------------------------------------------------------------------------- positions
class Gap(_Schema):
    """One competency below the position's standard."""

    competency_id: str
    required: int
    assessed: float


class Readiness(_Schema):
    """Job-person match for the position: JPM % (None when nothing was assessed), category,
    gaps (largest weighted first), competencies never assessed, assessed share (0-1)."""

    jpm: float | None
    category: str | None
    coverage: float
    gaps: list[Gap]
    not_assessed: list[str]


class PathProgram(_Schema):
    """One programme of the path to eligibility, and why it is there."""

    program_id: str
    title: str
    jp: int
    why: str


class PathToEligible(_Schema):
    """Readiness before and after the path's programmes, their JP and cost; ``message`` says
    why the path is empty (None when it has programmes)."""

    jpm_before: float | None
    jpm_after: float | None
    category_after: str | None
    jp_total: int
    cost_total: float
    message: str | None
    notes: list[str]
    programs: list[PathProgram]


class PendingCondition(_Schema):
    """A condition of the career pattern that time will meet, and when (the projection of
    docs/careers-model.md: tenure accrues daily, a yearly rating arrives on 1 January, a grade
    by regular promotion, JF credit points at the last rating)."""

    condition: Literal["years_in_post", "rating", "grade", "credit_points"]
    met_on: date


class PositionItem(_Schema):
    """One next position: eligibility in words, readiness, reasons, and the path to it."""

    rank: int
    position_id: str
    title: str
    tier: str
    unit_id: str | None
    score: float = Field(
        description="ranker score, rounded to 6 decimals; the order (rank) is the ranking "
        "policy's (posts open within the horizon spread into the top 10), so a post moved up "
        "can show a lower score than the next"
    )
    mode: Literal["learned", "standards"] = Field(description="learned ranker or standards only")
    eligible: bool
    eligible_now: bool = Field(description="every condition of some career rule is met today")
    eligible_by: date | None = Field(
        description="first day of eligibility when time alone meets the missing conditions "
        "(today when eligible now); null when a condition that does not accrue fails"
    )
    horizon_months: int = Field(description="the horizon of eligible_within_horizon, months")
    eligible_within_horizon: bool = Field(description="eligible_by is at most horizon_months away")
    pending: list[PendingCondition] = Field(
        description="failed conditions that time meets, with the date, earliest first"
    )
    blocked: list[str] = Field(
        description="failed conditions time does not meet (education, training, vacancy, age, "
        "a rating or grade that cannot be projected; no_rule when no rule covers the move)"
    )
    rule: str | None = Field(description="the career rule that decided eligibility")
    move_kind: str | None
    legal_basis: str | None
    not_yet: list[str] = Field(description="conditions not met yet, as sentences")
    after_appointment: list[str] = Field(description="training due after appointment")
    readiness: Readiness
    reason_codes: list[str]
    reasons: list[str]
    path: PathToEligible | None


class PositionsAnswer(_Schema):
    """``GET /v1/employees/{employee}/recommendations/positions``: next positions."""

    request_id: str
    employee: str = Field(description="the identifier as sent")
    language: str
    model: ModelRef
    items: list[PositionItem]


# ----------------------------------------------------------------------------- plan
class Raise(_Schema):
    """A competency a plan item raises in the projection, and what the current and the likely
    next position require (None = not in that standard)."""

    competency_id: str
    name: str
    from_level: float
    to_level: float
    required: float | None
    target_required: float | None


class PlanItem(_Schema):
    """One programme of the plan with its session (None, and no dates, for a programme taken
    any time) and why it is there."""

    program_id: str
    title: str
    modality: str
    classical: bool
    jp: int
    cost_idr: float
    session_id: str | None
    start_date: str | None = Field(description="ISO date")
    end_date: str | None = Field(description="ISO date")
    raises: list[Raise]
    reason: str
    score: float | None


class PlanAnswer(_Schema):
    """``GET /v1/employees/{employee}/development-plan``: a yearly plan of at least 20 JP
    within the budget; when none fits, ``problems`` says why (and ``items`` is empty)."""

    request_id: str
    employee: str = Field(description="the identifier as sent")
    language: str
    model: ModelRef
    year: int
    budget: float | None = Field(description="IDR; None = no budget limit")
    likely_target: str | None = Field(description="the most likely next position")
    items: list[PlanItem]
    total_jp: int
    total_cost: float
    gap_closed: float
    meets_20_jp: bool
    has_non_classical: bool
    problems: list[str]
    notes: list[str]
    status: Literal["optimal", "time_limit", "infeasible"]
    objective: float
    min_jp: int
    solve_seconds: float


# ----------------------------------------------------------------------------- events
class EventResult(_Schema):
    """A stored item of the batch: its index, event id, and whether it was new."""

    index: int
    event_id: str
    status: Literal["inserted", "duplicate"]


class EventError(_Schema):
    """One problem of one item (possibly several per item): ``field`` a dotted path, ``""``
    for the whole item; the message carries no personal data."""

    index: int
    event_id: str | None
    field: str
    message: str


class EventsAnswer(_Schema):
    """``POST /v1/events``: counts, the stored items and the problems of the others."""

    received: int
    inserted: int
    duplicates: int
    results: list[EventResult]
    errors: list[EventError]


# ----------------------------------------------------------------------------- operations
class ModelInfo(_Schema):
    """A loaded model: registry name and version, MLflow run, hash, source, load time."""

    name: str
    version: str
    run_id: str
    sha256: str
    source: Literal["mlflow", "local"]
    loaded_at: str = Field(description="ISO timestamp")


class ModelsAnswer(_Schema):
    """``GET /v1/models`` and ``POST /v1/admin/reload``: the loaded models."""

    models: list[ModelInfo]


#: Response model of every ``/v1`` operation, by (method, path): what the OpenAPI test checks.
V1_ANSWERS: dict[tuple[str, str], type[BaseModel]] = {
    ("get", "/v1/employees/{employee}/recommendations/programs"): ProgramsAnswer,
    ("get", "/v1/employees/{employee}/recommendations/positions"): PositionsAnswer,
    ("get", "/v1/employees/{employee}/development-plan"): PlanAnswer,
    ("post", "/v1/recommendations/programs"): ColdStartAnswer,
    ("post", "/v1/events"): EventsAnswer,
    ("get", "/v1/models"): ModelsAnswer,
    ("post", "/v1/admin/reload"): ModelsAnswer,
}
