"""xAPI 1.0.x statements (see :mod:`recommender.events` for the conventions)."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import urlsplit

from recommender.events.common import (
    IRI,
    TIME_MESSAGE,
    Context,
    StatementError,
    check_time,
    holds_nip,
    parse_time,
    program_from_iri,
)
from recommender.events.record import Event, EventType, ObjectKind

#: Namespace of the UUID5 ids given to statements that come without an ``id``.
XAPI_NAMESPACE: Final = uuid.UUID("6b1f3c3e-2f59-5c57-9a43-5a0d8e1c7a10")
ADL_VERBS: Final = "http://adlnet.gov/expapi/verbs/"
VOIDED: Final = ADL_VERBS + "voided"
VERB_TYPES: Final[dict[str, EventType]] = {
    ADL_VERBS + "completed": "complete",
    ADL_VERBS + "passed": "pass",
    ADL_VERBS + "failed": "fail",
    ADL_VERBS + "scored": "score",
    ADL_VERBS + "registered": "enrol",
    VOIDED: "void",
}
_IFI_KEYS: Final = ("mbox", "mbox_sha1sum", "openid", "account")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _uuid(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise StatementError(field, "must be a UUID")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise StatementError(field, "must be a UUID") from None


def statement_id_or_none(stmt: dict[str, Any]) -> str | None:
    try:
        return _statement_id(stmt)
    except StatementError:
        return None


def _statement_id(stmt: dict[str, Any]) -> str:
    """The statement's ``id`` (canonical UUID) or the UUID5 of its canonical JSON."""
    if "id" in stmt and stmt["id"] is not None:
        return _uuid(stmt["id"], "id")
    try:
        text = _canonical(stmt)
    except (TypeError, ValueError):
        raise StatementError("", "is not plain JSON") from None
    return str(uuid.uuid5(XAPI_NAMESPACE, text))


def _object(stmt: Mapping[str, Any], name: str, path: str) -> dict[str, Any]:
    value = stmt.get(name)
    if value is None:
        raise StatementError(_join(path, name), "required")
    if not isinstance(value, dict):
        raise StatementError(_join(path, name), "must be an object")
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _iri(value: Any, field: str) -> str:
    if not isinstance(value, str) or not IRI.match(value.strip()):
        raise StatementError(field, "must be an IRI (e.g. http://...)")
    return value.strip()


def _ifi(agent: Mapping[str, Any], path: str) -> str | None:
    """The agent's single IFI as text (see the module docstring), None when it has none.

    Raises StatementError when it has several or a malformed one.
    """
    present = [k for k in _IFI_KEYS if agent.get(k) is not None]
    if len(present) > 1:
        raise StatementError(path, f"has {len(present)} identifiers ({', '.join(present)}); one")
    if not present:
        return None
    key = present[0]
    value = agent[key]
    field = _join(path, key)
    if key == "mbox":
        if not isinstance(value, str) or not value.startswith("mailto:") or "@" not in value:
            raise StatementError(field, "must be a mailto: IRI")
        return f"mbox:{value.strip()}"
    if key == "mbox_sha1sum":
        if not isinstance(value, str) or not _SHA1.match(value):
            raise StatementError(field, "must be 40 hexadecimal digits")
        return f"mbox_sha1sum:{value.lower()}"
    if key == "openid":
        return f"openid:{_iri(value, field)}"
    if not isinstance(value, dict):
        raise StatementError(field, "must be an object with homePage and name")
    home, name = value.get("homePage"), value.get("name")
    if not isinstance(home, str) or not home.strip():
        raise StatementError(_join(field, "homePage"), "required (text)")
    if not isinstance(name, str) or not name.strip():
        raise StatementError(_join(field, "name"), "required (text)")
    return f"account:{home.strip()} {name.strip()}"


class _Actor(NamedTuple):
    kind: Literal["agent", "group"]
    employee_id: str | None
    key: str


def _actor(agent: dict[str, Any], path: str, ctx: Context) -> _Actor:
    """Validate an Agent or Group; return its kind, employee pseudonym (or None) and key."""
    kind = agent.get("objectType", "Agent")
    if kind not in ("Agent", "Group"):
        raise StatementError(_join(path, "objectType"), "must be Agent or Group")
    ifi = _ifi(agent, path)
    if kind == "Agent":
        if ifi is None:
            raise StatementError(path, "needs one of mbox, mbox_sha1sum, openid, account")
        account = agent.get("account")
        if isinstance(account, dict):
            employee_id = ctx.pseudonymise(str(account["name"]).strip())
            if employee_id is not None:
                return _Actor("agent", employee_id, employee_id)
        return _Actor("agent", None, ctx.hash_ifi(ifi))
    members = agent.get("member")
    if members is not None and not isinstance(members, list):
        raise StatementError(_join(path, "member"), "must be a list of Agents")
    if ifi is None:
        if not members:
            raise StatementError(path, "an anonymous Group needs members")
        ifis = []
        for i, m in enumerate(members):
            mpath = f"{path}.member.{i}"
            if not isinstance(m, dict) or m.get("objectType", "Agent") != "Agent":
                raise StatementError(mpath, "must be an Agent")
            member_ifi = _ifi(m, mpath)
            if member_ifi is None:
                raise StatementError(mpath, "needs one of mbox, mbox_sha1sum, openid, account")
            ifis.append(member_ifi)
        ifi = "group:" + "\n".join(sorted(ifis))
    return _Actor("group", None, ctx.hash_ifi(ifi))


def _score(result: Mapping[str, Any]) -> float | None:
    score = result.get("score")
    if score is None:
        return None
    if not isinstance(score, dict):
        raise StatementError("result.score", "must be an object")
    numbers: dict[str, float] = {}
    for name in ("scaled", "raw", "min", "max"):
        value = score.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StatementError(f"result.score.{name}", "must be a number")
        try:  # an integer of 400 digits is a JSON number, but no float
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise StatementError(f"result.score.{name}", "must be a finite number")
        numbers[name] = number
    if "scaled" in numbers and not -1.0 <= numbers["scaled"] <= 1.0:
        raise StatementError("result.score.scaled", "must lie between -1 and 1")
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and low >= high:
        raise StatementError("result.score.max", "must be greater than min")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise StatementError("result.score.raw", "must lie between min and max")
    if "scaled" in numbers:
        return numbers["scaled"]
    if raw is not None and low is not None and high is not None:
        return (raw - low) / (high - low)
    return None


def _flag(result: Mapping[str, Any], name: str) -> bool | None:
    value = result.get(name)
    if value is not None and not isinstance(value, bool):
        raise StatementError(f"result.{name}", "must be true or false")
    return value


def _request_id(stmt: Mapping[str, Any]) -> str | None:
    context = stmt.get("context")
    if context is None:
        return None
    if not isinstance(context, dict):
        raise StatementError("context", "must be an object")
    extensions = context.get("extensions")
    if not isinstance(extensions, dict):
        return None
    for iri, value in extensions.items():
        try:
            path = urlsplit(str(iri)).path
        except ValueError:  # e.g. "http://[::1": an unclosed IPv6 host
            raise StatementError("context.extensions", "every key must be an IRI") from None
        if path.rstrip("/").rsplit("/", 1)[-1] == "request_id":
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= 128:
                raise StatementError("context.extensions.request_id", "must be 1-128 characters")
            if holds_nip(value):
                raise StatementError("context.extensions.request_id", "must not contain a NIP")
            return value.strip()
    return None


def _occurred_at(stmt: Mapping[str, Any], now: datetime) -> datetime:
    for name in ("timestamp", "stored"):
        value = stmt.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise StatementError(name, TIME_MESSAGE)
            try:
                when = parse_time(value)
            except ValueError as exc:
                raise StatementError(name, str(exc)) from None
            return check_time(when, now, name)
    return now


def _target(obj: dict[str, Any], ctx: Context) -> tuple[ObjectKind, str | None]:
    """Validate the statement's object; return (item_kind, item_id)."""
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        iri = _iri(obj.get("id"), "object.id")
        program_id = program_from_iri(iri)
        return ("program", program_id) if program_id is not None else ("activity", iri)
    if kind == "StatementRef":
        return "statement", _uuid(obj.get("id"), "object.id")
    if kind in ("Agent", "Group"):
        actor = _actor(obj, "object", ctx)
        return actor.kind, actor.key
    if kind == "SubStatement":
        for name in ("actor", "verb", "object"):
            _object(obj, name, "object")
        _actor(obj["actor"], "object.actor", ctx)
        _iri(obj["verb"].get("id"), "object.verb.id")
        if obj["object"].get("objectType") == "SubStatement":
            raise StatementError("object.object.objectType", "a SubStatement cannot nest another")
        return "substatement", None
    raise StatementError(
        "object.objectType", "must be Activity, Agent, Group, StatementRef or SubStatement"
    )


def parse_statement(stmt: dict[str, Any], ctx: Context) -> Event:
    event_id = _statement_id(stmt)
    actor = _actor(_object(stmt, "actor", ""), "actor", ctx)
    verb = _iri(_object(stmt, "verb", "").get("id"), "verb.id")
    obj = _object(stmt, "object", "")
    item_kind, item_id = _target(obj, ctx)
    event_type = VERB_TYPES.get(verb, "other")
    voids = None
    if event_type == "void":
        if item_kind != "statement":
            raise StatementError("object.objectType", "a voided statement must name a StatementRef")
        voids = item_id
    result = stmt.get("result")
    if result is not None and not isinstance(result, dict):
        raise StatementError("result", "must be an object")
    result = result or {}
    return Event(
        event_id=event_id,
        request_id=_request_id(stmt),
        source="xapi",
        type=event_type,
        verb=verb,
        employee_id=actor.employee_id,
        actor_key=actor.key,
        item_kind=item_kind,
        item_id=item_id,
        score=_score(result),
        success=_flag(result, "success"),
        completion=_flag(result, "completion"),
        occurred_at=_occurred_at(stmt, ctx.now),
        voids=voids,
        raw=_scrub(stmt, ctx),
    )


def _looks_like_agent(value: Mapping[str, Any]) -> bool:
    return value.get("objectType") in ("Agent", "Group") or any(k in value for k in _IFI_KEYS)


def _scrub(value: Any, ctx: Context) -> Any:
    """Copy of ``value``, every Agent/Group replaced by ``{"objectType", "key"[, "member"]}``."""
    if isinstance(value, list):
        return [_scrub(v, ctx) for v in value]
    if not isinstance(value, dict):
        return value
    if not _looks_like_agent(value):
        return {k: _scrub(v, ctx) for k, v in value.items()}
    kind = value.get("objectType") if value.get("objectType") in ("Agent", "Group") else "Agent"
    out: dict[str, Any] = {"objectType": kind}
    try:
        out["key"] = _actor(value, "", ctx).key
    except StatementError:  # malformed agent outside the validated positions: hash what is there
        ids = {k: value[k] for k in _IFI_KEYS if k in value}
        if ids:
            out["key"] = ctx.hash_ifi("malformed:" + json.dumps(ids, sort_keys=True, default=str))
    members = value.get("member")
    if isinstance(members, list):
        out["member"] = [_scrub(m, ctx) for m in members]
    return out
