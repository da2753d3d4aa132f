"""The yearly development plan of an employee."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from recommender.api.answers import cached_answer, respond
from recommender.api.deps import EmployeeId, LangDep, LmsKey, ServiceDep, visible_key
from recommender.api.errors import COMMON_ERRORS, EMPLOYEE_ERRORS
from recommender.api.schemas import PlanAnswer

router = APIRouter(prefix="/v1", tags=["recommendations"], responses=COMMON_ERRORS)


@router.get(
    "/employees/{employee}/development-plan",
    response_model=PlanAnswer,
    responses=EMPLOYEE_ERRORS,
)
async def development_plan(
    request: Request,
    service: ServiceDep,
    key: LmsKey,
    lang: LangDep,
    employee: EmployeeId,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    budget: Annotated[float | None, Query(ge=0, le=1e12, description="IDR")] = None,
) -> Response:
    """A yearly plan of at least 20 JP within the budget; when none fits, why not."""
    pid = visible_key(employee=employee, key=key, service=service)
    answer = await cached_answer(
        request=request,
        service=service,
        key=(pid, "plan", year, budget, lang),
        build=lambda: service.plan(pid, year, budget, lang),
        item_key="program_id",
    )
    service.record(request.state.request_id, pid, "plan", answer, lang)
    return respond(request=request, sent_id=employee, answer=answer, lang=lang)
