"""What the routes call: answers from the serving state, cached, with an audit trail.

A request reads one immutable :class:`~recommender.state.World` and one
:class:`~recommender.state.Models` reference (built once, swapped atomically on reload, see
:mod:`recommender.state`). Answers for an employee are cached serialised
(:mod:`recommender.cache`) until an event about that person or a reload invalidates them; their
rows come from :mod:`recommender.answers` (shared with the batch). With a store, every served
list goes to the audit trail (:mod:`recommender.store.audit`) and LMS events
(:mod:`recommender.events`) are stored and mark completions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from recommender import answers, bundles
from recommender.cache import Answer, AnswerCache
from recommender.careers.recommend import Suggestion, next_positions
from recommender.config import Settings
from recommender.events import COMPLETION_TYPES
from recommender.plans import plan_for
from recommender.programs.coldstart import Profile, profile_snapshot
from recommender.programs.ranker import ProgramRanker
from recommender.programs.recommend import top_programs
from recommender.snapshot import Snapshot
from recommender.state import Models, World, build_world, load_models, settle_memory
from recommender.store import db, repo
from recommender.store.audit import FLUSH_TIMEOUT, AuditMetrics, LogWriter
from recommender.store.demo import production_refusal
from recommender.store.ingest import NOT_VISIBLE, ingest_events
from recommender.store.models import LEGACY_SENDER, utcnow
from recommender.units import unit_ancestors, unit_visible

__all__ = [
    "FLUSH_TIMEOUT",
    "NOT_VISIBLE",
    "Answer",
    "AnswerCache",
    "AuditMetrics",
    "LogWriter",
    "ModelUnavailableError",
    "Models",
    "Service",
    "UnknownEmployeeError",
    "UnsafeProductionError",
    "World",
    "build_world",
    "load_models",
    "refuse_demo_credentials",
    "settle_memory",
    "unit_ancestors",
]

log = logging.getLogger(__name__)


class UnknownEmployeeError(LookupError):
    """No active employee with this identifier (answered as 404, never echoing a NIP)."""


class ModelUnavailableError(RuntimeError):
    """A model needed for the answer is not loaded (answered as 503)."""


class UnsafeProductionError(RuntimeError):
    """A production start-up with development credentials still active (the service does not
    start)."""


def refuse_demo_credentials(store: sessionmaker[Session]) -> None:
    """Raise UnsafeProductionError while the demo's accounts or API keys are active (their
    secrets lie in clear in the demo folder)."""
    with store() as session:
        message = production_refusal(session)
    if message is not None:
        raise UnsafeProductionError(message)


class Service:
    """What the routes call: holds the current world and models, answers, caches, reloads;
    with a store, logs every served list and keeps completions from events."""

    def __init__(
        self,
        settings: Settings,
        world: World,
        models: Models,
        store: sessionmaker[Session] | None = None,
    ) -> None:
        if settings.env == "production" and store is not None:
            refuse_demo_credentials(store)
        self.settings = settings
        self.world = world
        self.models = models
        self.cache = AnswerCache()
        self.store = store
        self.log = LogWriter(store) if store is not None else None
        self._lock = threading.Lock()
        self._ancestors = unit_ancestors(world.tables["units"])
        self.apply_stored_completions()
        settle_memory()

    # ----------------------------------------------------------------- people and units
    def unit_of(self, employee_id: str) -> str:
        """Unit of an active employee; raises UnknownEmployeeError."""
        snap = self.world.snap
        units = snap.memo(
            "unit_of", lambda: dict(zip(snap.people.index, snap.people["unit_id"], strict=True))
        )
        unit = units.get(employee_id)
        if unit is None:
            raise UnknownEmployeeError(employee_id)
        return str(unit)

    def visible(self, employee_id: str, units: frozenset[str] | None) -> None:
        """Raise UnknownEmployeeError unless the person is active and in one of ``units`` (or a
        unit below one of them); ``units`` None = every unit."""
        if not self.unit_visible(self.unit_of(employee_id), units, known_only=False):
            raise UnknownEmployeeError(employee_id)

    def unit_visible(
        self, unit_id: str, units: frozenset[str] | None, *, known_only: bool = True
    ) -> bool:
        """True when ``unit_id`` is one of ``units`` or below one (``units`` None = every unit);
        with ``known_only`` a unit missing from the units table is never visible."""
        return unit_visible(
            ancestors=self._ancestors, unit_id=unit_id, units=units, known_only=known_only
        )

    def ready(self) -> bool:
        """True when the programme model is loaded (the organisation always is): what
        ``/readyz`` reports. Without it, programme answers and plans are 503."""
        return bundles.PROGRAMS in self.models.rankers

    # ----------------------------------------------------------------- events and the log
    def stored_completions(self) -> list[tuple[str, str]]:
        """Every stored, not voided programme completion as (employee_id, program_id).
        Raises StoreUnavailableError when the database cannot be reached."""
        if self.store is None:
            return []
        with db.reachable("stored completions could not be read"), self.store() as session:
            rows = repo.program_completions(session)
        return [(str(e), str(p)) for e, p in rows]

    def apply_stored_completions(self, rows: list[tuple[str, str]] | None = None) -> int:
        """Mark every stored, not voided programme completion (``rows``, default read from the
        database) in the served snapshot."""
        rows = self.stored_completions() if rows is None else rows
        for employee_id, program_id in rows:
            self.mark_completed(employee_id, program_id)
        return len(rows)

    def peek(self, key: tuple[Hashable, ...]) -> Answer | None:
        """The cached answer for ``key``, or None (nothing is computed)."""
        hit = self.cache.get(key)
        return None if hit is None else Answer._make(hit)

    def cached(
        self, key: tuple[Hashable, ...], build: Callable[[], dict[str, Any]], item_key: str
    ) -> Answer:
        """The answer for ``key`` (``key[0]`` is the employee id), built by ``build()`` on a
        miss and kept serialised (a few bytes objects: the garbage collector has nothing to
        walk and a hit needs no JSON encoding)."""
        hit = self.cache.get(key)
        if hit is None:
            hit = tuple(Answer.of(build(), item_key))  # a plain tuple: untracked by the GC
            self.cache.put(key, hit)
        return Answer._make(hit)

    def record(
        self, request_id: str, employee_id: str, endpoint: str, answer: Answer, lang: str
    ) -> None:
        """Queue a served list for the audit trail (ids, scores, reason codes)."""
        if self.log is None:
            return
        self.log.put(
            {
                "request_id": request_id,
                "employee_id": employee_id,
                "model_name": answer.model_name,
                "model_version": answer.model_version,
                "endpoint": endpoint,
                "items": answer.log_items,
                "language": lang,
                "created_at": utcnow(),
            }
        )

    # ----------------------------------------------------------------- lifecycle
    def reload(self) -> dict[str, Any]:
        """Reload models (keeping a model whose new version fails verification) and rebuild the
        world; swap both atomically and clear the cache. Returns the loaded model descriptions.
        Raises StoreUnavailableError, swapping nothing, when the stored completions cannot be
        read (the new world would recommend programmes people have completed)."""
        models = load_models(self.settings, previous=self.models)
        world = build_world(self.settings, self.world.snap.at)
        completions = self.stored_completions()
        with self._lock:
            self.models, self.world = models, world
            self._ancestors = unit_ancestors(world.tables["units"])
            self.cache.clear()
        self.apply_stored_completions(completions)
        settle_memory()
        return self.describe_models()

    def describe_models(self) -> dict[str, Any]:
        """``{"models": [...]}`` for ``GET /v1/models``."""
        return {"models": [b.describe() for b in self.models.bundles.values()]}

    def mark_completed(self, employee_id: str, program_id: str) -> None:
        """An event says the person completed a programme: it shows in their next answers."""
        w = self.world
        try:
            row = w.snap.row(employee_id)
        except KeyError:
            return
        col = w.cat.ids.get_indexer(pd.Index([program_id]))[0]
        if col >= 0:
            with self._lock:
                w.snap.completed[row, col] = True
                w.snap.taken[row, col] = True
        self.cache.forget(employee_id)

    def _row(self, employee_id: str, snap: Snapshot | None = None) -> int:
        """Row of ``employee_id`` in ``snap`` (default: the current world's snapshot)."""
        try:
            return (snap or self.world.snap).row(employee_id)
        except KeyError:
            raise UnknownEmployeeError(employee_id) from None

    def _ranker(self, name: str) -> tuple[ProgramRanker, str]:
        models = self.models
        if name not in models.rankers:
            raise ModelUnavailableError(f"model {name} is not loaded: train and promote it first")
        return models.rankers[name], models.bundles[name].version

    def ingest_events(
        self, items: list[Any], units: frozenset[str] | None, sender: str = LEGACY_SENDER
    ) -> dict[str, Any]:
        """Store a batch of simple events / xAPI statements (see
        :func:`recommender.store.ingest.ingest_events`); completions show in the person's next
        answers. Raises ModelUnavailableError without a store, BatchTooLargeError (a
        ValueError), and StoreUnavailableError when the database cannot be reached."""
        if self.store is None:
            raise ModelUnavailableError("no application database is configured")
        done = ingest_events(
            store=self.store,
            key=self.settings.pseudonym_key.get_secret_value(),
            items=items,
            sender=sender,
            visible=None if units is None else lambda e: self._sees(e, units),
        )
        for event in done.inserted:
            if event.employee_id and event.item_id:
                if event.type in COMPLETION_TYPES and event.item_kind == "program":
                    self.mark_completed(event.employee_id, event.item_id)
                self.cache.forget(event.employee_id)
        return dict(done.answer)

    def _sees(self, employee_id: str, units: frozenset[str]) -> bool:
        try:
            self.visible(employee_id, units)
        except UnknownEmployeeError:
            return False
        return True

    # ----------------------------------------------------------------- answers
    def programs(
        self,
        employee_id: str,
        k: int = 10,
        modality: str | None = None,
        accredited_only: bool = False,
        year: int | None = None,
        lang: str = "id",
    ) -> dict[str, Any]:
        """Top ``k`` programmes with scores, reason codes and reasons. Raises UnknownEmployeeError,
        ModelUnavailableError."""
        w = self.world  # read once: a reload swaps it, and one answer uses one world
        row = self._row(employee_id, w.snap)
        ranker, version = self._ranker(bundles.PROGRAMS)
        year = year or w.year
        ranked = top_programs(
            w.snap, w.cat, w.usage, ranker, employee_id, year, k, accredited_only, modality
        )
        return {
            "model": {"name": bundles.PROGRAMS, "version": version},
            "year": year,
            "items": answers.program_items(
                world=w, ranked=ranked, snap=w.snap, row=row, year=year, lang=lang
            ),
        }

    def cold_start(
        self,
        profile: Profile,
        k: int = 10,
        modality: str | None = None,
        accredited_only: bool = False,
        year: int | None = None,
        lang: str = "id",
    ) -> dict[str, Any]:
        """Top ``k`` programmes for a person not in the data, from an inline profile (same
        candidates and features as for known people). Raises ProfileError (422)."""
        w = self.world
        ranker, version = self._ranker(bundles.PROGRAMS)
        snap, who = profile_snapshot(
            profile, w.snap, w.cat, w.tables["positions"], w.tables["units"], w.snap.at
        )
        year = year or w.year
        ranked = top_programs(snap, w.cat, w.usage, ranker, who, year, k, accredited_only, modality)
        return {
            "model": {"name": bundles.PROGRAMS, "version": version},
            "year": year,
            "items": answers.program_items(
                world=w, ranked=ranked, snap=snap, row=0, year=year, lang=lang
            ),
        }

    def plan(
        self, employee_id: str, year: int | None, budget: float | None, lang: str = "id"
    ) -> dict[str, Any]:
        """The yearly development plan (>= 20 JP within the budget, priority-weighted gaps of
        the current and the most likely next position); an infeasible plan says why."""
        w, models = self.world, self.models  # read once (a reload swaps them)
        self._row(employee_id, w.snap)
        year = year or w.year
        scores = None
        version = None
        if bundles.PROGRAMS in models.rankers:
            ranker = models.rankers[bundles.PROGRAMS]
            version = models.bundles[bundles.PROGRAMS].version
            top = top_programs(w.snap, w.cat, w.usage, ranker, employee_id, year, 150)
            scores = pd.Series(top.score, index=top.candidates.program_ids)
        found = next_positions(w.careers, models.rankers.get(bundles.CAREERS), employee_id, 1)
        plan = plan_for(
            w.snap,
            w.cat,
            w.tables["sessions"],
            employee_id,
            year,
            budget,
            likely_target_row=_likely_target(found, w.cat.positions),
            scores=scores,
            language=lang,
            competency_names=w.cat.memo(
                "competency_names", lambda: answers.competency_names(world=w)
            ),
        )
        answer = {
            "model": {"name": bundles.PROGRAMS, "version": version},
            "year": year,
            "budget": budget,
            "likely_target": found[0].position_id if found else None,
            **plan.to_dict(),
        }
        return answer

    def positions(self, employee_id: str, k: int = 5, lang: str = "id") -> dict[str, Any]:
        """Top ``k`` next positions with eligibility, readiness and reasons. Raises
        UnknownEmployeeError (the careers model is optional: standards-only ranking without it)."""
        w, models = self.world, self.models  # read once (a reload swaps them)
        self._row(employee_id, w.snap)
        ranker = models.rankers.get(bundles.CAREERS)
        found = next_positions(w.careers, ranker, employee_id, k, w.patterns, lang=lang)
        return {
            "model": {"name": bundles.CAREERS, "version": models.version(bundles.CAREERS)},
            "items": answers.position_items(found=found),
        }


def _likely_target(found: list[Suggestion], positions: pd.DataFrame) -> int | None:
    if not found:
        return None
    rows = pd.Index(positions["position_id"]).get_indexer(pd.Index([found[0].position_id]))
    return int(rows[0]) if rows[0] >= 0 else None
