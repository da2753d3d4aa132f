"""Next-position recommendations for an employee."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from recommender.api.answers import cached_answer, respond
from recommender.api.deps import EmployeeId, LangDep, LmsKey, ServiceDep, visible_key
from recommender.api.errors import COMMON_ERRORS, EMPLOYEE_ERRORS
from recommender.api.schemas import PositionsAnswer

router = APIRouter(prefix="/v1", tags=["recommendations"], responses=COMMON_ERRORS)


@router.get(
    "/employees/{employee}/recommendations/positions",
    response_model=PositionsAnswer,
    responses=EMPLOYEE_ERRORS,
)
async def positions(
    request: Request,
    service: ServiceDep,
    key: LmsKey,
    lang: LangDep,
    employee: EmployeeId,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Response:
    """Next positions with eligibility in words, readiness (JPM, category, gaps), reasons."""
    pid = visible_key(employee=employee, key=key, service=service)
    answer = await cached_answer(
        request=request,
        service=service,
        key=(pid, "positions", k, lang),
        build=lambda: service.positions(pid, k, lang),
        item_key="position_id",
    )
    service.record(request.state.request_id, pid, "positions", answer, lang)
    return respond(request=request, sent_id=employee, answer=answer, lang=lang)
