"""Load and size limits (recommender.api.limits): the per-key token bucket (429 with
Retry-After), the in-flight limit (503 with Retry-After, at once), and oversized bodies, request
targets and headers (413/414/431), in-process and through a real uvicorn on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recommender.api.limits import KeyRateLimiter, LimitConfig, Limits, retry_after
from recommender.config import Settings
from recommender.service import Service

MB = 1024 * 1024


# ----------------------------------------------------------------------------- unit
class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_burst_then_rate() -> None:
    clock = FakeClock()
    limiter = KeyRateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert wait == pytest.approx(0.5)  # one token back after 1 / rate seconds
    assert limiter.take("b") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    clock.now += 60  # refills to the burst, not beyond
    assert [limiter.take("a") for _ in range(4)][-1] > 0


def test_refused_requests_do_not_spend_tokens() -> None:
    clock = FakeClock()
    limiter = KeyRateLimiter(rate=1.0, burst=1, clock=clock)
    assert limiter.take("a") == 0.0
    for _ in range(50):
        assert limiter.take("a") > 0
    clock.now += 1.0
    assert limiter.take("a") == 0.0  # a flood while refused does not push the next token away


def test_key_table_is_bounded() -> None:
    limiter = KeyRateLimiter(rate=1.0, burst=1, max_keys=100, clock=FakeClock())
    for i in range(1_000):
        limiter.take(f"key-{i}")
    assert len(limiter) == 100


def test_bad_limiter_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        KeyRateLimiter(rate=0, burst=1)
    with pytest.raises(ValueError):
        KeyRateLimiter(rate=1, burst=0)


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after(0.01) == 1 and retry_after(1.2) == 2 and retry_after(3.0) == 3


def test_limit_config_from_settings() -> None:
    cfg = LimitConfig.from_settings(Settings(rate_limit_per_key=5, max_in_flight=8))
    assert cfg.rate_per_key == 5 and cfg.burst == 10 and cfg.max_in_flight == 8
    assert LimitConfig.from_settings(Settings(rate_limit_per_key=5, rate_limit_burst=3)).burst == 3
    defaults = LimitConfig.from_settings(Settings())
    assert defaults.rate_per_key == 0 and defaults.max_in_flight > 16  # bench serve uses 16


# ----------------------------------------------------------------------------- in-flight
def _slow_app(gate: asyncio.Event) -> Any:
    """An ASGI app that answers 200, once ``gate`` is set except for ``/healthz``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] != "/healthz":
            await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_in_flight_limit_refuses_the_excess_at_once() -> None:
    async def scenario() -> dict[str, Any]:
        gate = asyncio.Event()
        app = Limits(_slow_app(gate), LimitConfig(max_in_flight=2))
        transport = httpx.ASGITransport(app=app)
        out: dict[str, Any] = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            held = [asyncio.create_task(client.get("/v1/models")) for _ in range(2)]
            await asyncio.sleep(0.05)
            start = time.perf_counter()
            out["refused"] = await client.get("/v1/models")
            out["took"] = time.perf_counter() - start
            out["probe"] = await client.get("/healthz")
            gate.set()
            out["held"] = [(await t).status_code for t in held]
            out["after"] = await client.get("/v1/models")
            out["in_flight"] = app.in_flight
        return out

    out = asyncio.run(scenario())
    refused = out["refused"]
    assert refused.status_code == 503 and out["took"] < 0.5
    assert int(refused.headers["retry-after"]) >= 1
    assert set(refused.json()) == {"detail", "request_id"}
    assert out["probe"].status_code == 200  # probes are never limited
    assert out["held"] == [200, 200] and out["after"].status_code == 200
    assert out["in_flight"] == 0


def test_requests_arriving_together_are_counted_together() -> None:
    """Requests that arrive in the same loop turn all count (the limiter yields once), so a
    burst over the limit is refused even when each request would finish without waiting."""

    async def fast(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario() -> list[int]:
        app = Limits(fast, LimitConfig(max_in_flight=4))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = await asyncio.gather(*(client.get("/v1/models") for _ in range(10)))
        return [a.status_code for a in answers]

    statuses = asyncio.run(scenario())
    assert statuses.count(200) >= 4 and set(statuses) <= {200, 503} and 503 in statuses


# ----------------------------------------------------------------------------- the app
def _settings(base: Settings, **limits: Any) -> Settings:
    return base.model_copy(update=limits)


@pytest.fixture
def limited(api_settings: Settings, service: Service, keys: dict[str, str]) -> Iterator[TestClient]:
    """The app with 1 request/s and a burst of 2 per key."""
    from recommender.api.app import create_app

    app = create_app(_settings(api_settings, rate_limit_per_key=1.0, rate_limit_burst=2), service)
    with TestClient(app) as client:
        yield client


def test_rate_limit_per_key_429_with_retry_after(limited: TestClient, keys: dict[str, str]) -> None:
    lms, admin = {"X-API-Key": keys["lms"]}, {"X-API-Key": keys["admin"]}
    assert [limited.get("/v1/models", headers=lms).status_code for _ in range(2)] == [200, 200]
    r = limited.get("/v1/models", headers=lms)
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 2
    body = r.json()
    assert set(body) == {"detail", "request_id"} and body["request_id"] == r.headers["x-request-id"]
    assert keys["lms"] not in r.text
    assert limited.get("/v1/models", headers=admin).status_code == 200  # another key still passes
    bearer = {"Authorization": f"Bearer {keys['lms']}"}
    assert limited.get("/v1/models", headers=bearer).status_code == 429  # same key, other header
    assert limited.get("/healthz").status_code == 200  # probes are not limited
    metrics = limited.get("/metrics", headers=admin).text  # metrics need an admin key
    assert 'jenjang_refused_total{reason="rate"}' in metrics


def test_in_flight_limit_on_the_app(
    api_settings: Settings, service: Service, keys: dict[str, str]
) -> None:
    """A request whose body is still arriving stays in flight; the next one is refused 503
    at once, probes still answer, and the limit frees up when the request ends."""
    from recommender.api.app import create_app

    app = create_app(_settings(api_settings, max_in_flight=1), service)
    headers = {"X-API-Key": keys["lms"]}
    json_headers = {**headers, "Content-Type": "application/json"}

    async def scenario() -> dict[str, Any]:
        gate = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield b"["
            await gate.wait()
            yield b"]"

        out: dict[str, Any] = {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                post = asyncio.create_task(
                    client.post("/v1/events", content=slow_body(), headers=json_headers)
                )
                await asyncio.sleep(0.05)
                start = time.perf_counter()
                out["busy"] = await client.get("/v1/models", headers=headers)
                out["took"] = time.perf_counter() - start
                out["probe"] = await client.get("/healthz")
                gate.set()
                out["post"] = await post
                out["after"] = await client.get("/v1/models", headers=headers)
        return out

    out = asyncio.run(scenario())
    busy = out["busy"]
    assert busy.status_code == 503 and out["took"] < 0.5
    assert int(busy.headers["retry-after"]) >= 1
    assert set(busy.json()) == {"detail", "request_id"}
    assert out["probe"].status_code == 200
    assert out["post"].status_code == 200, out["post"].text
    assert out["after"].status_code == 200


@pytest.mark.parametrize("threads", [1, 2])
def test_answers_are_computed_off_the_event_loop(
    api_settings: Settings,
    service: Service,
    keys: dict[str, str],
    nips: list[str],
    monkeypatch: pytest.MonkeyPatch,
    threads: int,
) -> None:
    """While an uncached answer is being computed the event loop stays free: the next request
    over the in-flight limit is refused 503 at once and probes answer (with the work inline on
    the loop, they would wait for the computation)."""
    from recommender.api.app import create_app

    release = threading.Event()
    real = service.programs

    def held(*args: Any, **kwargs: Any) -> dict[str, Any]:
        release.wait(timeout=3.0)  # inline on the loop, this would stall every request 3 s
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "programs", held)
    service.cache.clear()
    settings = _settings(api_settings, max_in_flight=1, compute_threads=threads)
    app = create_app(settings, service)
    headers = {"X-API-Key": keys["lms"]}

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                path = f"/v1/employees/{nips[0]}/recommendations/programs?k=7"
                answer = asyncio.create_task(client.get(path, headers=headers))
                await asyncio.sleep(0.1)
                start = time.perf_counter()
                out["busy"] = await client.get("/v1/models", headers=headers)
                out["probe"] = await client.get("/healthz")
                out["took"] = time.perf_counter() - start
                release.set()
                out["answer"] = await answer
        return out

    out = asyncio.run(scenario())
    assert out["took"] < 1.0, out["took"]
    assert out["busy"].status_code == 503 and out["probe"].status_code == 200
    assert out["answer"].status_code == 200, out["answer"].text
    assert len(out["answer"].json()["items"]) == 7


# ----------------------------------------------------------------------------- sizes
def test_oversized_body_with_length_is_413(client: TestClient) -> None:
    big = b"[" + b'"x",' * (10 * MB // 4) + b'"x"]'
    r = client.post("/v1/events", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert set(r.json()) == {"detail", "request_id"}


def test_oversized_chunked_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(10 * 16):
            yield b'"x",' * (64 * 1024 // 4)
        yield b'"x"]'

    r = client.post("/v1/events", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert set(r.json()) == {"detail", "request_id"}


def test_body_under_the_limit_still_reaches_the_route(client: TestClient) -> None:
    body = json.dumps([{"type": "click"}] * 1_001).encode()  # 1,001 items: the batch limit
    r = client.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "1000" in r.text.replace(",", "")


def test_long_request_target_is_414(client: TestClient) -> None:
    r = client.get("/v1/models?x=" + "a" * 10_000)
    assert r.status_code == 414 and set(r.json()) == {"detail", "request_id"}
    r = client.get("/v1/employees/" + "1" * 10_000 + "/recommendations/programs")
    assert r.status_code == 414


def test_large_or_many_headers_are_431(client: TestClient) -> None:
    r = client.get("/v1/models", headers={"X-Big": "a" * 20_000})
    assert r.status_code == 431 and set(r.json()) == {"detail", "request_id"}
    many = {f"X-H{i}": "v" for i in range(150)}
    assert client.get("/v1/models", headers=many).status_code == 431


# ----------------------------------------------------------------------------- real server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(api_settings: Settings, service: Service) -> Iterator[tuple[str, int]]:
    """The app on uvicorn (httptools), on a loopback port, in a thread."""
    import uvicorn

    from recommender.api.app import create_app

    app: FastAPI = create_app(api_settings, service)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http="httptools")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(10)


def _raw(address: tuple[str, int], head: bytes, body_chunks: Iterator[bytes] | None = None) -> int:
    """Send a raw request, then its body chunks (stopping when the server answers); the
    status code, or 0 when the connection was closed without an answer."""
    with socket.create_connection(address, timeout=20) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks or ():
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while b"\r\n" not in data:
                more = sock.recv(4096)
                if not more:
                    break
                data += more
        except (ConnectionResetError, TimeoutError):
            pass
    if not data.startswith(b"HTTP/1.1 "):
        return 0
    return int(data.split(b" ", 2)[1])


def test_real_server_refuses_oversized_requests(
    live: tuple[str, int], keys: dict[str, str]
) -> None:
    key = keys["lms"].encode()
    host = b"Host: 127.0.0.1\r\nX-API-Key: " + key + b"\r\n"
    ten_mb = 10 * MB
    head = b"POST /v1/events HTTP/1.1\r\n" + host
    head += b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % ten_mb
    assert _raw(live, head, iter([b"[" + b" " * (ten_mb - 2) + b"]"])) == 413

    def chunked() -> Iterator[bytes]:
        piece = b" " * (256 * 1024)
        for _ in range(40):
            yield b"%x\r\n" % len(piece) + piece + b"\r\n"
        yield b"0\r\n\r\n"

    head = b"POST /v1/events HTTP/1.1\r\n" + host
    head += b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _raw(live, head, chunked()) == 413

    long_target = b"GET /v1/models?q=" + b"a" * 100_000 + b" HTTP/1.1\r\n" + host + b"\r\n"
    assert _raw(live, long_target) in (414, 431, 400)
    big_header = b"GET /v1/models HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    assert _raw(live, big_header) in (431, 400)
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(500))
    assert _raw(live, b"GET /v1/models HTTP/1.1\r\n" + host + many + b"\r\n") in (431, 400)
    # still serving
    ok = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert _raw(live, ok) == 200
