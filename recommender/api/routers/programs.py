"""Programme recommendations: for an employee (``GET``) and for an inline profile (``POST``,
cold start)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from recommender.api.answers import as_json, cached_answer, compute, respond
from recommender.api.deps import EmployeeId, LangDep, LmsKey, ServiceDep, visible_key
from recommender.api.errors import COMMON_ERRORS, EMPLOYEE_ERRORS, SCOPE_ERROR
from recommender.api.schemas import ColdStartAnswer, ProgramsAnswer
from recommender.programs.coldstart import Profile

router = APIRouter(prefix="/v1", tags=["recommendations"], responses=COMMON_ERRORS)


@router.get(
    "/employees/{employee}/recommendations/programs",
    response_model=ProgramsAnswer,
    responses=EMPLOYEE_ERRORS,
)
async def programs(
    request: Request,
    service: ServiceDep,
    key: LmsKey,
    lang: LangDep,
    employee: EmployeeId,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
    modality: Annotated[str | None, Query(max_length=40)] = None,
    accredited_only: bool = False,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    """Ranked programmes for one employee, with scores, reason codes and reasons."""
    pid = visible_key(employee=employee, key=key, service=service)
    answer = await cached_answer(
        request=request,
        service=service,
        key=(pid, "programs", k, modality, accredited_only, year, lang),
        build=lambda: service.programs(pid, k, modality, accredited_only, year, lang),
        item_key="program_id",
    )
    service.record(request.state.request_id, pid, "programs", answer, lang)
    return respond(request=request, sent_id=employee, answer=answer, lang=lang)


class ColdStartRequest(BaseModel):
    """``POST /v1/recommendations/programs``: a profile and the usual options."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    k: int = Field(10, ge=1, le=50)
    modality: str | None = Field(None, max_length=40)
    accredited_only: bool = False
    year: int | None = Field(None, ge=2000, le=2100)


@router.post("/recommendations/programs", response_model=ColdStartAnswer, responses=SCOPE_ERROR)
async def cold_start(
    request: Request,
    service: ServiceDep,
    _key: LmsKey,
    lang: LangDep,
    body: ColdStartRequest,
) -> Response:
    """Programmes for a person not yet in the data, from an inline profile (position,
    grade, education, assessed levels, completed programmes...). A profile that does not fit
    the organisation (an unknown position, say) is 422."""
    answer = await compute(
        request=request,
        work=lambda: service.cold_start(
            body.profile, body.k, body.modality, body.accredited_only, body.year, lang
        ),
    )
    return as_json({"request_id": request.state.request_id, "language": lang, **answer})
