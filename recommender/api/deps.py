"""The dependencies of the ``/v1`` routes: the service, the caller's API key and its scope,
the answer's language, the employee identifier of the path and its pseudonym.

The identifier in paths is what the LMS knows, the NIP; it is turned into the keyed pseudonym
on arrival (:func:`employee_key`) and never logged or stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from recommender.api.auth import require
from recommender.config import Settings
from recommender.data.normalize import parse_nip
from recommender.programs.reasons import language
from recommender.pseudonym import PREFIX, pseudonymise
from recommender.service import Service, UnknownEmployeeError
from recommender.store.keys import KeyInfo
from recommender.web.deps import ServiceDep, current_service, get_service

__all__ = [
    "AdminKey",
    "AnyKey",
    "EmployeeId",
    "LangDep",
    "LmsKey",
    "ServiceDep",
    "current_service",
    "employee_key",
    "get_service",
    "visible_key",
]


def employee_key(identifier: str, settings: Settings) -> str:
    """NIP (any spelling) -> pseudonym; raises UnknownEmployeeError when it is not a valid NIP."""
    if identifier.startswith(PREFIX) and settings.env != "production":
        return identifier  # development convenience: pseudonyms from the clean tables
    try:
        nip = parse_nip(identifier)
    except ValueError:
        raise UnknownEmployeeError("invalid identifier") from None
    return pseudonymise(nip, settings.pseudonym_key.get_secret_value())


def visible_key(*, employee: str, key: KeyInfo, service: Service) -> str:
    """Pseudonym of a person the key may see; UnknownEmployeeError (404) otherwise."""
    pid = employee_key(employee, service.settings)
    service.visible(pid, key.units)
    return pid


async def _lang(request: Request) -> str:
    """The answer's language from ``Accept-Language`` (Indonesian by default)."""
    accept_language = request.headers.get("accept-language")
    return language(accept_language)


EmployeeId = Annotated[str, Path(min_length=1, max_length=64, description="NIP of the employee")]
LangDep = Annotated[str, Depends(_lang)]
LmsKey = Annotated[KeyInfo, Depends(require("lms"))]
AdminKey = Annotated[KeyInfo, Depends(require("admin"))]
AnyKey = Annotated[KeyInfo, Depends(require(None))]
