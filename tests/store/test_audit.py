"""The audit writer (recommender/store/audit.py): served lists gather into batches written in
one transaction each, a full batch or a flush writes at once, nothing is lost at close."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recommender.store import repo
from recommender.store.audit import LogWriter
from recommender.store.db import make_engine, make_sessionmaker, upgrade
from recommender.store.models import RecommendationLog

ITEMS = json.dumps([{"item_id": "P1", "score": 0.5, "reasons": ["gap"]}]).encode()
#: Longer than any test runs: lists are written only by a full batch, a flush or close.
FOREVER = 600.0


class Transactions:
    """Spy on ``repo.log_recommendations``: the size of each batch written, in order; ``seen``
    is set at the first one."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.seen = threading.Event()
        self._real = repo.log_recommendations

    def __call__(self, session: Session, records: Sequence[Mapping[str, Any]]) -> int:
        n = self._real(session, records)
        self.sizes.append(len(records))
        self.seen.set()
        return n


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return make_sessionmaker(make_engine(url))


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Transactions]:
    calls = Transactions()
    monkeypatch.setattr(repo, "log_recommendations", calls)
    yield calls


def _record(i: int) -> dict[str, Any]:
    return {
        "request_id": f"req{i}",
        "employee_id": "e_aaaaaaaaaaaaaaaa",
        "model_name": "jenjang-programs",
        "model_version": "1",
        "endpoint": "programs",
        "items": ITEMS,
        "language": "id",
    }


def _rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(RecommendationLog)) or 0)


def test_served_lists_gather_and_a_flush_writes_them_in_one_transaction(
    factory: sessionmaker[Session], spy: Transactions
) -> None:
    writer = LogWriter(factory, linger=FOREVER)
    for i in range(5):
        writer.put(_record(i))
    time.sleep(0.3)  # a writer without lingering has written the first list by now
    assert spy.sizes == [] and writer.pending() == 5
    assert writer.flush(10)
    assert spy.sizes == [5]
    assert (writer.written, writer.dropped, _rows(factory)) == (5, 0, 5)
    writer.close()


def test_a_full_batch_is_written_without_a_flush(
    factory: sessionmaker[Session], spy: Transactions
) -> None:
    writer = LogWriter(factory, batch=4, linger=FOREVER)
    for i in range(6):
        writer.put(_record(i))
    assert spy.seen.wait(10), "a full batch waited for the linger"
    assert spy.sizes[0] == 4
    assert writer.flush(10) and sum(spy.sizes) == 6
    assert _rows(factory) == 6
    writer.close()


def test_close_writes_the_lists_that_linger(
    factory: sessionmaker[Session], spy: Transactions
) -> None:
    writer = LogWriter(factory, linger=FOREVER)
    writer.put(_record(1))
    writer.put(_record(2))
    writer.close(timeout=10)
    assert spy.sizes == [2]
    assert (writer.written, writer.dropped, _rows(factory)) == (2, 0, 2)


def test_without_linger_a_list_is_written_at_once(
    factory: sessionmaker[Session], spy: Transactions
) -> None:
    writer = LogWriter(factory, linger=0)
    writer.put(_record(1))
    assert spy.seen.wait(10), "with linger 0 a list waits for nothing"
    assert spy.sizes == [1] and writer.flush(10)
    writer.close()


def test_the_default_writer_lingers_less_than_a_second(factory: sessionmaker[Session]) -> None:
    writer = LogWriter(factory)
    assert 0 < writer.linger < 1.0
    writer.close()
