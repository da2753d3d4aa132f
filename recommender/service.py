"""The serving state: organisation as of today, verified models, and the answers built from them.

Everything heavy is built once (at start-up and on reload) and swapped atomically: a request
reads one immutable :class:`World` and one :class:`Models` reference. Answers for an employee
are cached until an event about that person or a reload invalidates them. MLflow is touched only
when models are (re)loaded, never on the request path.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from prometheus_client.core import CounterMetricFamily, Metric
from sqlalchemy.orm import Session, sessionmaker

from recommender import bundles
from recommender.careers.features import CareerContext, build_context
from recommender.careers.patterns import PatternTable, move_patterns
from recommender.careers.recommend import Suggestion, as_dict, next_positions
from recommender.careers.rules import load_rules
from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.events import COMPLETION_TYPES, Event, ItemError, identity_functions, parse_batch
from recommender.plans import plan_for
from recommender.programs import reasons
from recommender.programs.catalog import Catalog, build_catalog
from recommender.programs.coldstart import Profile, profile_snapshot
from recommender.programs.features import FEATURES, Usage, build_usage
from recommender.programs.ranker import ModelIntegrityError, ProgramRanker
from recommender.programs.recommend import Ranked, top_programs
from recommender.snapshot import Snapshot, build_snapshot
from recommender.store import db, repo
from recommender.store.demo import production_refusal
from recommender.store.models import utcnow

log = logging.getLogger(__name__)


NOT_VISIBLE = "no active employee with this identifier"


class UnknownEmployeeError(LookupError):
    """No active employee with this identifier (answered as 404, never echoing a NIP)."""


class ModelUnavailableError(RuntimeError):
    """A model needed for the answer is not loaded (answered as 503)."""


class UnsafeProductionError(RuntimeError):
    """A production start-up with development credentials still active (the service does not
    start)."""


@dataclass
class World:
    """The organisation as of ``snap.at``: tables, snapshot, catalogue, usage, careers context
    and career patterns."""

    tables: dict[str, pd.DataFrame]
    snap: Snapshot
    cat: Catalog
    usage: Usage
    careers: CareerContext
    patterns: PatternTable
    year: int


@dataclass(frozen=True)
class Models:
    """Verified bundles and their parsed rankers (None when a model could not be loaded)."""

    bundles: dict[str, bundles.Bundle]
    rankers: dict[str, ProgramRanker]

    def version(self, name: str) -> str | None:
        """Registry version of ``name`` or None."""
        b = self.bundles.get(name)
        return b.version if b else None


def build_world(
    settings: Settings, at: pd.Timestamp | None = None, clean_dir: Path | None = None
) -> World:
    """Load the clean tables (``clean_dir``, default ``settings.clean_dir``) and build everything
    requests need, as of ``at`` (default: today).

    Raises FileNotFoundError / DataSourceError when the clean tables are missing, RulesError
    for a broken career-rules file.
    """
    at = pd.Timestamp(at) if at is not None else pd.Timestamp.today().normalize()
    tables = load_clean(clean_dir or settings.clean_dir)
    snap = build_snapshot(tables, at)
    cat = build_catalog(tables)
    rules = load_rules(settings.career_rules)
    return World(
        tables=tables,
        snap=snap,
        cat=cat,
        usage=build_usage(tables, snap),
        careers=build_context(tables, snap, cat, rules),
        patterns=move_patterns(
            tables["career_moves"], tables["enrollments"], tables["positions"], at
        ),
        year=at.year,
    )


def load_models(settings: Settings, previous: Models | None = None) -> Models:
    """Champions of every model (registry first, else the verified local copy). A model that
    cannot be loaded or verified keeps its previous version when there is one."""
    found: dict[str, bundles.Bundle] = {}
    rankers: dict[str, ProgramRanker] = {}
    for name in bundles.MODEL_NAMES:
        try:
            bundle = bundles.resolve(settings, name)
            ranker = bundle.ranker()
            ranker.predict_threads = 1  # a request scores a few hundred rows: no thread pool
            rankers[name] = ranker
            found[name] = bundle
        except (bundles.BundleError, ModelIntegrityError) as exc:
            log.warning("model %s not loaded: %s", name, exc)
            if previous is not None and name in previous.bundles:
                found[name] = previous.bundles[name]
                rankers[name] = previous.rankers[name]
    return Models(found, rankers)


class Answer(NamedTuple):
    """A served answer, serialised: ``body`` the JSON object of the answer, ``log_items`` the
    JSON list of ``{"item_id", "score", "reasons"}`` for the audit trail, model and version.

    The cache keeps it as a plain tuple of bytes and str, which the garbage collector stops
    tracking: a large cache then costs full collections nothing (a tracked cache made every
    endpoint slower as it grew)."""

    body: bytes
    log_items: bytes
    model_name: str
    model_version: str

    @classmethod
    def of(cls, answer: dict[str, Any], item_key: str) -> Answer:
        """Serialise ``answer`` (``model``, ``items`` with ``item_key``, scores, codes)."""
        model = answer.get("model") or {}
        items = [
            {
                "item_id": str(i[item_key]),
                "score": i.get("score"),
                "reasons": i.get("reason_codes", []),
            }
            for i in answer.get("items", [])
        ]
        return cls(
            json.dumps(answer, ensure_ascii=False, default=str).encode(),
            json.dumps(items).encode(),
            str(model.get("name")),
            str(model.get("version")),
        )


class AnswerCache:
    """A bounded LRU of answers keyed by (employee_id, ...); ``forget(employee_id)`` drops a
    person's answers, ``clear()`` all of them. Thread-safe."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Hashable, ...]) -> Any | None:
        """The cached answer or None."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: tuple[Hashable, ...], value: Any) -> None:
        """Store an answer, evicting the least recently used beyond ``size``."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def forget(self, employee_id: str) -> None:
        """Drop every answer about ``employee_id``."""
        with self._lock:
            for key in [k for k in self._data if k[0] == employee_id]:
                del self._data[key]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._data.clear()


#: Seconds ``LogWriter.flush`` waits by default (at shutdown, with the database away).
FLUSH_TIMEOUT = 10.0


class LogWriter:
    """Writes served lists to the recommendation log from a background thread, in batches, so
    the audit trail never slows an answer down.

    While the database cannot be reached, the lists stay queued (up to ``max_pending``) and the
    thread retries with a pause that doubles from ``retry_min`` to ``retry_max`` seconds, so an
    outage loses nothing that fits the queue. A list that does not fit, a list the database
    refuses for good (bad data), and what is still queued when :meth:`close` gives up are
    dropped, counted in ``dropped`` and logged by number (never by content). ``written``,
    ``dropped`` and ``failures`` (failed write attempts) are exported by :class:`AuditMetrics`.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        batch: int = 200,
        max_pending: int = 100_000,
        retry_min: float = 0.5,
        retry_max: float = 5.0,
    ) -> None:
        self.factory = factory
        self.batch = batch
        self.max_pending = max_pending
        self.retry_min, self.retry_max = retry_min, retry_max
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._records: deque[dict[str, Any]] = deque()
        self._busy = 0  # lists taken by the thread and not finished yet
        self._closing = False
        self._outage = False  # the last write failed because the database was away
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="jenjang-log", daemon=True)
        self._thread.start()

    def put(self, record: dict[str, Any]) -> None:
        """Queue one served list (the keyword arguments of ``repo.log_recommendation``); never
        blocks: a list beyond ``max_pending`` is dropped and counted."""
        with self._cond:
            if len(self._records) + self._busy >= self.max_pending:
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.error("audit trail full: %d served lists dropped so far", self.dropped)
                return
            self._records.append(record)
            self._cond.notify_all()

    def pending(self) -> int:
        """Lists queued or being written."""
        with self._cond:
            return len(self._records) + self._busy

    def flush(self, timeout: float | None = FLUSH_TIMEOUT) -> bool:
        """Wait until every queued list is written: True, or False when ``timeout`` seconds
        passed first (the database is away); None waits without end."""
        with self._cond:
            done = self._cond.wait_for(lambda: not self._records and not self._busy, timeout)
        if not done:
            log.warning("audit trail: %d served lists still wait for the database", self.pending())
        return done

    def close(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Write what is queued (waiting at most ``timeout`` seconds) and stop the thread; what
        could not be written by then is dropped and counted."""
        self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        pause = self.retry_min
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._records) or self._closing)
                if self._closing:
                    self._drop_all()
                    return
                take = min(self.batch, len(self._records))
                chunk = [self._records.popleft() for _ in range(take)]
                self._busy = len(chunk)
            retry = self._write(chunk)
            with self._cond:
                self._records.extendleft(reversed(retry))
                self._busy = 0
                self._cond.notify_all()
                if retry:  # the database is away: wait, unless the writer is being closed
                    self._cond.wait_for(lambda: self._closing, pause)
            pause = min(pause * 2, self.retry_max) if retry else self.retry_min

    def _drop_all(self) -> None:
        """(With the lock held.) Count what is still queued as dropped."""
        if self._records:
            self.dropped += len(self._records)
            log.error("audit trail: %d served lists not written at close", len(self._records))
            self._records.clear()

    def _write(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write ``records`` in one transaction; returns those to retry later (all of them
        while the database is away). A batch refused for another reason is written one list
        at a time and the lists refused are dropped."""
        for record in records:
            if isinstance(record["items"], bytes):
                record["items"] = json.loads(record["items"])
        try:
            with self.factory.begin() as session:
                repo.log_recommendations(session, records)
        except Exception as exc:  # the audit trail must never take the service down
            if db.unavailable(exc):
                self._failed(exc, len(records))
                return records
            if len(records) > 1:
                return [r for one in records for r in self._write([one])]
            with self._cond:
                self.dropped += 1
            log.error("audit trail: one served list refused (%s), dropped", type(exc).__name__)
            return []
        if self._outage:
            self._outage = False
            log.warning("audit trail: the database is back after %d failed writes", self.failures)
        self.written += len(records)
        return []

    def _failed(self, exc: BaseException, count: int) -> None:
        """Count a failed write; log the first one of an outage (by type, never content)."""
        self.failures += 1
        if not self._outage:
            self._outage = True
            log.error(
                "audit trail: the database is unavailable (%s); %d served lists kept, retrying",
                type(exc).__name__,
                count + len(self._records),
            )


class AuditMetrics:
    """Prometheus collector of a :class:`LogWriter`: ``jenjang_audit_written_total``,
    ``jenjang_audit_dropped_total`` and ``jenjang_audit_write_failures_total``."""

    def __init__(self, writer: LogWriter) -> None:
        self.writer = writer

    def collect(self) -> Iterator[Metric]:
        """The three counters, read at scrape time."""
        w = self.writer
        yield CounterMetricFamily(
            "jenjang_audit_written", "Served lists written to the recommendation log", w.written
        )
        yield CounterMetricFamily(
            "jenjang_audit_dropped",
            "Served lists dropped: queue full, refused by the database, or unwritten at exit",
            w.dropped,
        )
        yield CounterMetricFamily(
            "jenjang_audit_write_failures",
            "Failed attempts to write the recommendation log (database unavailable)",
            w.failures,
        )


def refuse_demo_credentials(store: sessionmaker[Session]) -> None:
    """Raise UnsafeProductionError while the demo's accounts or API keys are active (their
    secrets lie in clear in the demo folder)."""
    with store() as session:
        message = production_refusal(session)
    if message is not None:
        raise UnsafeProductionError(message)


def settle_memory() -> None:
    """After building the long-lived state: collect once, then move everything alive into the
    permanent generation so later full collections do not walk it (on the demo, full
    collections over ~350,000 long-lived objects paused the process ~200 ms each)."""
    gc.collect()
    gc.freeze()


def unit_ancestors(units: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Unit -> itself and every unit above it (a key limited to a unit covers its sub-units)."""
    parent = dict(zip(units["unit_id"], units["parent_id"], strict=True))
    out: dict[str, frozenset[str]] = {}
    for unit in parent:
        chain, u = [unit], parent.get(unit)
        while isinstance(u, str) and u not in chain:
            chain.append(u)
            u = parent.get(u)
        out[str(unit)] = frozenset(chain)
    return out


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
        chain = self._ancestors.get(unit_id)
        if chain is None:
            if known_only:
                return False
            chain = frozenset({unit_id})
        return units is None or bool(chain & units)

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

    def ingest_events(self, items: list[Any], units: frozenset[str] | None) -> dict[str, Any]:
        """Store a batch of simple events / xAPI statements; every bad item is reported with its
        index while the good ones are kept; a replayed event id changes nothing. Completions
        show in the person's next answers. Raises BatchTooLargeError (a ValueError), and
        StoreUnavailableError when the database cannot be reached (then nothing is stored)."""
        if self.store is None:
            raise ModelUnavailableError("no application database is configured")
        ids = identity_functions(self.settings.pseudonym_key.get_secret_value())
        parsed = parse_batch(items, ids.pseudonymise, datetime.now(UTC), hash_ifi=ids.hash_ifi)
        errors = list(parsed.errors)
        accepted = [i for i in range(parsed.received) if i not in set(parsed.rejected)]
        new: list[tuple[int, Event]] = []
        for index, event in zip(accepted, parsed.events, strict=True):
            problem = self._event_problem(index, event.employee_id, units, event.event_id)
            if problem is not None:
                errors.append(problem)
                continue
            try:
                repo.check_event(event, f"items[{index}]")
            except ValueError as exc:
                errors.append(ItemError(index=index, event_id=None, field="", message=str(exc)))
                continue
            new.append((index, event))
        # the database away: nothing of the batch is stored, 503, and the LMS sends it again
        with db.reachable("the events were not stored"), self.store.begin() as session:
            results = repo.add_events(session, [e for _, e in new])
        for (_index, stored), result in zip(new, results, strict=True):
            if result.status == "inserted" and stored.employee_id and stored.item_id:
                if stored.type in COMPLETION_TYPES and stored.item_kind == "program":
                    self.mark_completed(stored.employee_id, stored.item_id)
                self.cache.forget(stored.employee_id)
        return {
            "received": parsed.received,
            "inserted": sum(r.status == "inserted" for r in results),
            "duplicates": sum(r.status == "duplicate" for r in results),
            "results": [
                {"index": i, "event_id": r.event_id, "status": r.status}
                for (i, _), r in zip(new, results, strict=True)
            ],
            "errors": [e.model_dump() for e in sorted(errors, key=lambda e: e.index)],
        }

    def _event_problem(
        self, index: int, employee_id: str | None, units: frozenset[str] | None, event_id: str
    ) -> ItemError | None:
        if units is None or employee_id is None:
            return None
        try:
            self.visible(employee_id, units)
        except UnknownEmployeeError:
            return ItemError(index=index, event_id=event_id, field="employee", message=NOT_VISIBLE)
        return None

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
        answer = {
            "model": {"name": bundles.PROGRAMS, "version": version},
            "year": year,
            "items": self._program_items(w, ranked, w.snap, row, year, lang),
        }
        return answer

    def _program_items(
        self, w: World, ranked: Ranked, snap: Snapshot, row: int, year: int, lang: str
    ) -> list[dict[str, Any]]:
        cat = w.cat
        info = cat.memo("program_info", lambda: _program_info(cat))
        names = cat.memo("competency_labels", lambda: _competency_labels(w))
        posidx = cat.memo("position_index", lambda: pd.Index(cat.positions["position_id"]))
        p = int(posidx.get_indexer(pd.Index([snap.people["position_id"].iat[row]]))[0])
        nxt = int(cat.next_position[p]) if p >= 0 else -1
        where = cat.memo("program_rows", lambda: {str(x): i for i, x in enumerate(cat.ids)})
        prows = np.array([where[str(x)] for x in ranked.candidates.program_ids], dtype=int)
        levels = snap.levels[row]
        cur = _top_gaps(cat, prows, p, levels, names)
        tgt = _top_gaps(cat, prows, nxt, levels, names) if nxt != p else [""] * len(prows)
        cols = [FEATURES.index(f) for f in reasons.REASON_FEATURES]
        values = ranked.candidates.X[:, cols]
        items = []
        for i, prow in enumerate(prows.tolist()):
            feats = dict(zip(reasons.REASON_FEATURES, values[i], strict=True))
            codes = reasons.codes_for(feats)[:3]
            items.append(
                {
                    "rank": i + 1,
                    **info[prow],
                    "score": round(float(ranked.score[i]), 6),
                    "reason_codes": codes,
                    "reasons": reasons.render(codes, lang, cur[i], tgt[i], year),
                }
            )
        return items

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
            "items": self._program_items(w, ranked, snap, 0, year, lang),
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
            competency_names=w.cat.memo("competency_names", lambda: _competency_names(w)),
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
        answer = {
            "model": {"name": bundles.CAREERS, "version": models.version(bundles.CAREERS)},
            "items": [as_dict(s) for s in found],
        }
        return answer


def _likely_target(found: list[Suggestion], positions: pd.DataFrame) -> int | None:
    if not found:
        return None
    rows = pd.Index(positions["position_id"]).get_indexer(pd.Index([found[0].position_id]))
    return int(rows[0]) if rows[0] >= 0 else None


def _program_info(cat: Catalog) -> list[dict[str, Any]]:
    """Per programme row: the fields an answer shows."""
    p = cat.programs
    return [
        {
            "program_id": str(pid),
            "title": str(title),
            "modality": str(mod),
            "jp": int(jp),
            "cost_idr": int(cost),
            "lan_accredited": bool(acc),
        }
        for pid, title, mod, jp, cost, acc in zip(
            p["program_id"],
            p["title"],
            p["modality"],
            p["jp"],
            p["cost_idr"],
            p["lan_accredited"],
            strict=True,
        )
    ]


def _competency_names(w: World) -> dict[str, str]:
    comps = w.tables["competencies"]
    return dict(zip(comps["competency_id"].astype(str), comps["name"].astype(str), strict=True))


def _competency_labels(w: World) -> np.ndarray:
    """Competency names in catalogue column order (object array)."""
    names = _competency_names(w)
    return np.array([names.get(str(c), str(c)) for c in w.cat.competencies], dtype=object)


def _top_gaps(
    cat: Catalog, prows: np.ndarray, pos: int, levels: np.ndarray, labels: np.ndarray
) -> list[str]:
    """Per programme row: the name of the competency with the largest weighted gap of
    position ``pos`` that the programme addresses ("" when none; NaN levels count as no gap)."""
    if pos < 0:
        return [""] * len(prows)
    gap = np.where(np.isnan(levels), 0.0, np.maximum(cat.req[pos] - levels, 0.0))
    score = np.where(cat.gain[prows] > 0, gap * cat.req_weight[pos], 0.0)
    best = score.argmax(axis=1)
    has = score.max(axis=1, initial=0.0) > 0
    return [str(labels[b]) if h else "" for b, h in zip(best, has, strict=True)]
