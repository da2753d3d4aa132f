"""Faults (issue 8, part 3), each through real components: the application database (PostgreSQL)
going away under a running service, MLflow down at start-up, tampered models, reloads under
load, and SIGTERM with requests in flight (real ``jenjang serve`` processes on loopback).

The figures each test measured are printed (``pytest -s``) and quoted in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from recommender import bundles
from recommender.config import Settings
from recommender.programs.ranker import ProgramRanker, sha256_text
from recommender.service import Service, build_world
from recommender.store.db import make_engine, make_sessionmaker, normalise_url, upgrade
from recommender.store.keys import create_key
from recommender.store.models import Event, RecommendationLog
from tests.api.conftest import AT, bundle_of
from tests.api.servers import Served, free_port, start, tiny_env, wait_until
from tests.conftest import TEST_KEY
from tests.model.conftest import Trained

NOW = datetime.now(UTC).replace(microsecond=0).isoformat()
READS = ("recommendations/programs", "recommendations/positions", "development-plan")


def _events(prefix: str, nips: list[str], program: str, n: int) -> list[dict[str, Any]]:
    """``n`` simple click events with ids ``<prefix>-00000``..."""
    return [
        {
            "event_id": f"{prefix}-{i:05d}",
            "type": "click",
            "employee": nips[i % len(nips)],
            "program_id": program,
            "time": NOW,
        }
        for i in range(n)
    ]


def _keys(url: str, *scopes: str) -> dict[str, str]:
    """A migrated database at ``url`` with one key per scope (``"lms"``, ``"admin"``...)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            return {scope: create_key(session, [scope]) for scope in scopes}
    finally:
        engine.dispose()


def _figures(title: str, **figures: object) -> None:
    print(f"\n[{title}] " + ", ".join(f"{k}={v}" for k, v in figures.items()))


# ---------------------------------------------------------------------------- database down
def _pg_admin_engine() -> Any:
    from tests.store.conftest import PG_ADMIN_URL

    return create_engine(
        normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def _reachable(url: str, on: bool) -> None:
    """Open or close the database at ``url`` to new connections (for every role, superusers
    too); closing also ends the connections it has."""
    name = make_url(url).database
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(on).lower()}'))
            if not on:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A throw-away PostgreSQL database (skipped when no server answers)."""
    from tests.store.conftest import fresh_database

    with fresh_database("postgresql", tmp_path) as url:
        try:
            yield url
        finally:
            _reachable(url, True)


class Lms(threading.Thread):
    """An LMS sending batches of 5 events, one after another; a batch answered 503 is sent
    again (after 0.1 s: the test does not wait the ``Retry-After`` it is given)."""

    def __init__(self, client: TestClient, nips: list[str], program: str) -> None:
        super().__init__(daemon=True)
        self.client, self.nips, self.program = client, nips, program
        self.accepted: set[str] = set()
        self.batches = 0
        self.refused = 0
        self.unexpected: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        """Send until stopped; every batch ends accepted (or is recorded as unexpected)."""
        while not self.stop.is_set():
            batch = _events(f"lms-{self.batches}", self.nips, self.program, 5)
            self.batches += 1
            while True:
                r = self.client.post("/v1/events", json=batch)
                if r.status_code == 200:
                    self.accepted.update(x["event_id"] for x in r.json()["results"])
                    break
                if r.status_code == 503 and r.headers.get("retry-after"):
                    self.refused += 1
                    time.sleep(0.1)
                    continue
                self.unexpected.append(r.status_code)
                break


def _metric(metrics: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", metrics, re.M)
    assert found, name
    return float(found.group(1))


@pytest.mark.postgres
def test_database_down_reads_continue_events_503_nothing_accepted_is_lost(
    api_settings: Settings, service: Service, pg_url: str, nips: list[str]
) -> None:
    settings = api_settings.model_copy(update={"database_url": pg_url})
    keys = _keys(pg_url, "lms", "admin")
    with make_sessionmaker(make_engine(pg_url)).begin() as session:
        unseen = create_key(session, ["lms"])  # never used before the outage
    store = make_sessionmaker(make_engine(pg_url))
    svc = Service(settings, build_world(settings, AT), service.models, store)
    assert svc.log is not None
    svc.log.retry_min = svc.log.retry_max = 0.2
    program = str(svc.world.cat.ids[0])
    replayed = _events("replay", nips, program, 20)
    from recommender.api.app import create_app

    with TestClient(create_app(settings, svc), headers={"X-API-Key": keys["lms"]}) as c:
        for path in READS:  # the key is checked once while the database is there
            assert c.get(f"/v1/employees/{nips[0]}/{path}").status_code == 200
        assert c.get("/metrics", headers={"X-API-Key": keys["admin"]}).status_code == 200
        lms = Lms(c, nips, program)
        lms.start()
        wait_until(lambda: len(lms.accepted) >= 20, 30)

        _reachable(pg_url, False)
        down_at = time.monotonic()
        c.app.state.keys.ttl = 0.0  # type: ignore[attr-defined]  # every check asks the database
        wait_until(lambda: lms.refused >= 3, 30)
        served = []
        for nip in nips[:10]:
            for path in READS:
                r = c.get(f"/v1/employees/{nip}/{path}")
                assert r.status_code == 200, (path, r.status_code, r.text[:200])
                served.append(r.json()["request_id"])
        r = c.post("/v1/events", json=replayed)
        assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
        assert "database" in r.json()["detail"] and nips[0] not in r.text
        r = c.get(f"/v1/employees/{nips[0]}/development-plan", headers={"X-API-Key": unseen})
        assert r.status_code == 503 and r.headers["retry-after"], "a key never seen: 503"
        r = c.get("/units", cookies={"jenjang_session": "s" * 43}, follow_redirects=False)
        assert r.status_code == 503 and "text/html" in r.headers["content-type"]
        assert r.headers["retry-after"] and r.headers["x-frame-options"] == "DENY"
        metrics = c.get("/metrics", headers={"X-API-Key": keys["admin"]}).text
        queued = _metric(metrics, "jenjang_audit_queue")
        failures = _metric(metrics, "jenjang_audit_write_failures_total")
        assert queued >= len(served) and failures >= 1
        refused_while_down = lms.refused

        _reachable(pg_url, True)
        outage = time.monotonic() - down_at
        assert svc.log.flush(timeout=30), "the queued audit trail is written once it is back"
        lms.stop.set()
        lms.join(30)
        first = c.post("/v1/events", json=replayed).json()
        again = c.post("/v1/events", json={"events": replayed}).json()
        metrics = c.get("/metrics", headers={"X-API-Key": keys["admin"]}).text

    assert lms.unexpected == [], "no other answer than 200 or 503"
    assert first["inserted"] == len(replayed) and again["duplicates"] == len(replayed)
    with store() as session:
        logged = set(session.scalars(select(RecommendationLog.request_id)))
        stored = set(session.scalars(select(Event.event_id)))
    assert set(served) <= logged, "every list served during the outage reaches the audit trail"
    assert lms.accepted <= stored, "every event answered 200 is stored"
    assert stored == lms.accepted | {e["event_id"] for e in replayed}
    assert _metric(metrics, "jenjang_audit_dropped_total") == 0
    _figures(
        "database down",
        outage_s=round(outage, 1),
        reads_served_during_outage=len(served),
        lists_queued_at_peak=int(queued),
        failed_audit_writes=int(failures),
        lists_logged_after=len(set(served) & logged),
        lms_batches=lms.batches,
        lms_503=refused_while_down,
        events_accepted=len(lms.accepted),
        events_stored=len(stored - {e["event_id"] for e in replayed}),
    )


def test_audit_writer_counts_what_it_cannot_keep(tmp_path: Path) -> None:
    from recommender.service import LogWriter

    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    writer = LogWriter(make_sessionmaker(make_engine(url)), max_pending=3)
    item = json.dumps([{"item_id": "P1", "score": 1.0, "reasons": []}]).encode()
    record = {
        "employee_id": "e_aaaaaaaaaaaaaaaa",
        "model_name": "m",
        "model_version": "1",
        "endpoint": "programs",
        "items": item,
    }
    with writer._cond:  # hold the thread back: the queue fills up
        for i in range(5):
            writer.put({**record, "request_id": f"r{i}"})
        assert writer.dropped == 2 and writer.pending() == 3
    assert writer.flush(10) and writer.written == 3
    bad = {**record, "request_id": "r9", "employee_id": "199901012020011001"}  # refused: NIP
    writer.put(bad)
    writer.put({**record, "request_id": "r0"})  # the same request id again: no error
    assert writer.flush(10)
    assert (writer.written, writer.dropped) == (4, 3)
    writer.close()


# ---------------------------------------------------------------------------- real services
@pytest.fixture(scope="module")
def live(
    tiny_clean: Path,
    tmp_path_factory: pytest.TempPathFactory,
    trained: Trained,
    careers_ranker: ProgramRanker,
) -> Iterator[tuple[Served, dict[str, Any]]]:
    """``jenjang serve`` on the tiny organisation with MLflow down (its tracking URI a closed
    loopback port) and verified local copies (programmes version 7, careers version 4)."""
    root = tmp_path_factory.mktemp("live")
    saved = {
        bundles.PROGRAMS: bundle_of(bundles.PROGRAMS, trained.ranker, "7"),
        bundles.CAREERS: bundle_of(bundles.CAREERS, careers_ranker, "4"),
    }
    for bundle in saved.values():
        bundles.save_local(root / "models", bundle)
    url = f"sqlite:///{root / 'app.db'}"
    keys = _keys(url, "lms", "admin")
    env = tiny_env(
        tiny_clean.parent, root, mlflow_uri=f"http://127.0.0.1:{free_port()}", database_url=url
    )
    served = start(env, root / "serve.log")
    try:
        yield served, {**keys, "saved": saved, "url": url}
    finally:
        served.stop()


def test_mlflow_down_at_start_up_serves_the_verified_local_copy(
    live: tuple[Served, dict[str, Any]], nips: list[str]
) -> None:
    served, info = live
    assert httpx.get(served.base + "/readyz").status_code == 200
    models = httpx.get(served.base + "/v1/models", headers={"X-API-Key": info["lms"]}).json()
    loaded = {m["name"]: (m["version"], m["source"], m["sha256"]) for m in models["models"]}
    assert loaded == {n: (b.version, "local", b.sha256) for n, b in info["saved"].items()}
    r = httpx.get(
        f"{served.base}/v1/employees/{nips[0]}/recommendations/programs",
        headers={"X-API-Key": info["lms"]},
    )
    assert r.status_code == 200 and r.json()["model"]["version"] == "7"
    out = served.output()
    assert "jenjang-programs: serving the verified local copy, version 7" in out
    assert "unreachable" in out and served.started_in < 60
    assert nips[0] not in out
    _figures("mlflow down at start-up", start_up_s=round(served.started_in, 1))


def test_reload_under_load_fails_no_request(
    live: tuple[Served, dict[str, Any]], nips: list[str]
) -> None:
    served, info = live
    stop = threading.Event()
    answers: list[tuple[float, float, int]] = []  # (start, end, status)
    lock = threading.Lock()

    def load(worker: int) -> None:
        with httpx.Client(base_url=served.base, headers={"X-API-Key": info["lms"]}) as c:
            i = 0
            while not stop.is_set():
                nip = nips[(worker * 37 + i) % len(nips)]
                path = READS[i % 3]
                params = {"k": 1 + i % 20} if i % 3 == 0 else {}
                began = time.monotonic()
                status = c.get(f"/v1/employees/{nip}/{path}", params=params, timeout=60).status_code
                with lock:
                    answers.append((began, time.monotonic(), status))
                i += 1

    workers = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(4)]
    for w in workers:
        w.start()
    wait_until(lambda: len(answers) >= 20, 30)
    windows = []
    admin = {"X-API-Key": info["admin"]}
    for _ in range(3):
        began = time.monotonic()
        r = httpx.post(served.base + "/v1/admin/reload", headers=admin, timeout=120)
        windows.append((began, time.monotonic()))
        assert r.status_code == 200, r.text
        assert {m["version"] for m in r.json()["models"]} == {"7", "4"}
    time.sleep(0.3)
    stop.set()
    for w in workers:
        w.join(60)
    statuses = [s for _, _, s in answers]
    during = [a for a in answers if any(b < a[1] and a[0] < e for b, e in windows)]
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert len(during) >= 10, "requests overlapped the reloads"
    _figures(
        "reload under load",
        requests=len(answers),
        during_reloads=len(during),
        failed=sum(s != 200 for s in statuses),
        reloads=len(windows),
        reload_s=round(max(e - b for b, e in windows), 2),
        max_latency_s=round(max(e - b for b, e, _ in answers), 3),
    )


def _slow_post(port: int, key: str, body: bytes, sent: int) -> socket.socket:
    """A POST /v1/events whose headers and first ``sent`` body bytes are sent: the request is
    in the server's hands, its body still arriving."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-API-Key: {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body[:sent])
    return sock


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_lets_requests_in_flight_finish_and_refuses_new_ones(
    tiny_clean: Path,
    tmp_path: Path,
    trained: Trained,
    careers_ranker: ProgramRanker,
    nips: list[str],
    service: Service,
) -> None:
    for bundle in (
        bundle_of(bundles.PROGRAMS, trained.ranker),
        bundle_of(bundles.CAREERS, careers_ranker),
    ):
        bundles.save_local(tmp_path / "models", bundle)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    keys = _keys(url, "lms")
    env = tiny_env(
        tiny_clean.parent, tmp_path, mlflow_uri=f"http://127.0.0.1:{free_port()}", database_url=url
    )
    served = start(env, tmp_path / "serve.log")
    # `jenjang serve` started itself again with glibc's arenas capped (same process id)
    environ = Path(f"/proc/{served.proc.pid}/environ").read_bytes().split(b"\0")
    arenas = os.environ.get("MALLOC_ARENA_MAX", "1")
    assert f"MALLOC_ARENA_MAX={arenas}".encode() in environ
    listed = httpx.get(
        f"{served.base}/v1/employees/{nips[0]}/recommendations/programs",
        headers={"X-API-Key": keys["lms"]},
    ).json()["request_id"]
    program = str(service.world.cat.ids[0])
    bodies = [json.dumps(_events(f"term{n}", nips, program, 1000)).encode() for n in range(3)]
    socks = [_slow_post(served.port, keys["lms"], body, len(body) // 2) for body in bodies]
    time.sleep(0.3)  # the server has read the headers and started the requests

    served.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    wait_until(lambda: _refused(served.port), 10, served.output)
    refused_after = time.monotonic() - signalled
    assert served.proc.poll() is None, "still running: it waits for the requests in flight"
    time.sleep(1.0)  # slow clients: the rest of each body arrives a second later
    results = []
    for sock, body in zip(socks, bodies, strict=True):
        sock.sendall(body[len(body) // 2 :])
        response = http.client.HTTPResponse(sock)
        response.begin()
        results.append(
            (response.status, json.loads(response.read()), response.getheader("connection"))
        )
        sock.close()
    code = served.proc.wait(30)
    exited_after = time.monotonic() - signalled

    assert [s for s, _, _ in results] == [200, 200, 200]
    assert [b["inserted"] for _, b, _ in results] == [1000, 1000, 1000]
    assert all(c == "close" for _, _, c in results)
    # uvicorn ends by re-raising the signal it caught, so the exit status says "SIGTERM"
    assert code in (0, -signal.SIGTERM), served.output()
    engine = make_engine(url)
    with sessionmaker(engine)() as session:
        events = session.scalar(select(func.count()).select_from(Event))
        logged = session.get(RecommendationLog, listed)
    engine.dispose()
    assert events == 3000 and logged is not None, "accepted work is stored; the log is flushed"
    assert "Traceback" not in served.output()
    _figures(
        "SIGTERM",
        in_flight=len(socks),
        answered_200=sum(s == 200 for s, _, _ in results),
        events_stored=events,
        refused_new_after_s=round(refused_after, 2),
        exited_after_s=round(exited_after, 2),
        exit_code=code,
    )


# ---------------------------------------------------------------------------- tampered models
def _register(settings: Settings, name: str, text_: str, claimed: str | None = None) -> str:
    """Log ``text_`` as ``booster/model.txt`` with ``meta.json`` claiming ``claimed`` (default:
    its true SHA-256) in a run, register it and make it ``@champion``; returns the version."""
    from mlflow.exceptions import MlflowException

    client = bundles.mlflow_client(settings)
    experiment = client.get_experiment_by_name(name)
    exp_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(name, artifact_location=settings.mlflow_artifact_root)
    )
    run_id = client.create_run(exp_id).info.run_id
    meta = {"sha256": claimed or sha256_text(text_), "features": []}
    client.log_text(run_id, text_, "booster/model.txt")
    client.log_text(run_id, json.dumps(meta), "booster/meta.json")
    client.set_terminated(run_id)
    with contextlib.suppress(MlflowException):  # registered by an earlier call
        client.create_registered_model(name)
    version = client.create_model_version(name, f"runs:/{run_id}/booster", run_id=run_id).version
    client.set_registered_model_alias(name, "champion", version)
    return str(version)


def _tampered(text_: str) -> str:
    """The model text with one digit of the first leaf value changed: still a valid model,
    another one (what an attacker or a bad disk would do)."""
    digit = re.compile(r"\d").search(text_, text_.index("leaf_value="))
    assert digit is not None
    at = digit.start()
    return text_[:at] + ("1" if text_[at] != "1" else "2") + text_[at + 1 :]


def test_tampered_models_are_refused_not_ready_and_reload_keeps_the_old_one(
    tiny_clean: Path,
    tmp_path: Path,
    trained: Trained,
    careers_ranker: ProgramRanker,
    nips: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(
        pseudonym_key=TEST_KEY,  # type: ignore[arg-type]
        data_dir=tiny_clean.parent,
        models_dir=tmp_path / "models",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlruns.db'}",
        mlflow_artifact_root=str(tmp_path / "art"),
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
    )
    good = trained.ranker.to_text()
    _register(settings, bundles.PROGRAMS, _tampered(good), claimed=sha256_text(good))
    _register(settings, bundles.CAREERS, careers_ranker.to_text())
    keys = _keys(settings.database_url, "lms", "admin")
    admin = {"X-API-Key": keys["admin"]}
    from recommender.api.app import create_app

    def versions(c: TestClient) -> dict[str, tuple[str, str]]:
        return {
            m["name"]: (m["version"], m["source"]) for m in c.get("/v1/models").json()["models"]
        }

    caplog.set_level(logging.WARNING)
    with TestClient(create_app(settings), headers={"X-API-Key": keys["lms"]}) as c:  # start-up
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        assert versions(c) == {bundles.CAREERS: ("1", "mlflow")}
        assert c.get(f"/v1/employees/{nips[0]}/recommendations/programs").status_code == 503
        assert c.get(f"/v1/employees/{nips[0]}/recommendations/positions").status_code == 200
        assert any("SHA-256 does not match" in r.getMessage() for r in caplog.records)

        _register(settings, bundles.PROGRAMS, good)  # version 2, sound
        assert c.post("/v1/admin/reload", headers=admin).status_code == 200
        assert c.get("/readyz").status_code == 200
        assert versions(c)[bundles.PROGRAMS] == ("2", "mlflow")

        _register(settings, bundles.PROGRAMS, _tampered(good), claimed=sha256_text(good))  # v3
        assert c.post("/v1/admin/reload", headers=admin).status_code == 200
        assert versions(c)[bundles.PROGRAMS] == ("2", "local"), "v3 refused: the verified copy"

        copy = settings.models_dir / bundles.PROGRAMS / "2" / "model.txt"
        copy.write_text(_tampered(copy.read_text()))  # the local copy is tampered with too
        assert c.post("/v1/admin/reload", headers=admin).status_code == 200
        assert versions(c)[bundles.PROGRAMS] == ("2", "local"), "the loaded model stays"
        assert c.get("/readyz").status_code == 200
        r = c.get(f"/v1/employees/{nips[0]}/recommendations/programs")
        assert r.status_code == 200 and r.json()["model"]["version"] == "2"
