"""The audit trail writer: served lists go to the recommendation log from a background thread
(:class:`LogWriter`), counted for Prometheus (:class:`AuditMetrics`)."""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from sqlalchemy.orm import Session, sessionmaker

from recommender.store import db, repo

log = logging.getLogger(__name__)


#: Seconds ``LogWriter.flush`` waits by default (at shutdown, with the database away).
FLUSH_TIMEOUT = 10.0
#: Seconds the writer lets served lists gather before it writes fewer than a full batch.
LINGER = 0.25


class LogWriter:
    """Writes served lists to the recommendation log from a background thread, in batches, so
    the audit trail never slows an answer down.

    The thread lets served lists gather for up to ``linger`` seconds (or until ``batch`` are
    queued, or :meth:`flush` is called) and writes them in one transaction. Writing each list
    as it came (one transaction per answer under steady load) cost the service as much CPU as
    its event loop, most of it per transaction and under the GIL, and a WAL checkpoint every
    second or two on SQLite (docs/reliability.md); ``linger`` 0 writes at once.

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
        linger: float = LINGER,
    ) -> None:
        self.factory = factory
        self.batch = batch
        self.linger = linger
        self.max_pending = max_pending
        self.retry_min, self.retry_max = retry_min, retry_max
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._records: deque[dict[str, Any]] = deque()
        self._busy = 0  # lists taken by the thread and not finished yet
        self._flushing = 0  # callers waiting in flush: write at once, without lingering
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
            if len(self._records) == 1 or len(self._records) >= self.batch:
                self._cond.notify_all()  # the thread waits for a first list or a full batch

    def pending(self) -> int:
        """Lists queued or being written."""
        with self._cond:
            return len(self._records) + self._busy

    def flush(self, timeout: float | None = FLUSH_TIMEOUT) -> bool:
        """Wait until every queued list is written: True, or False when ``timeout`` seconds
        passed first (the database is away); None waits without end."""
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                done = self._cond.wait_for(lambda: not self._records and not self._busy, timeout)
            finally:
                self._flushing -= 1
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
                self._cond.wait_for(self._ready, self.linger)
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

    def _ready(self) -> bool:
        """(With the lock held.) Write now: a full batch, a flush waiting, or closing."""
        return len(self._records) >= self.batch or self._flushing > 0 or self._closing

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
