"""The pure parts of ``benchmarks/bench_reliability.py`` (``make bench-reliability``):
percentiles, the distinct-answer pool, saturation, windows, recovery, verdicts and the table,
and the open-loop generator against a tiny HTTP server on loopback."""

from __future__ import annotations

import asyncio
import math

import pytest

from benchmarks import bench_reliability as b
from benchmarks.bench_serve import BenchError


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert b.percentile(values, 50) == 50 and b.percentile(values, 99) == 99
    assert b.percentile([3.0], 99) == 3.0
    assert math.isnan(b.percentile([], 99))


def test_distinct_requests_are_distinct_and_valid() -> None:
    reqs = b.distinct_requests(["e_a", "e_b", "e_c"], 250, seed=1)
    assert len(reqs) == 250 and len({(r.path, r.lang) for r in reqs}) == 250
    assert all(r.lang in ("id", "en") and "/v1/employees/e_" in r.path for r in reqs)
    ks = {int(r.path.rsplit("=", 1)[1]) for r in reqs}
    assert min(ks) >= 1 and max(ks) <= 50
    assert len(b.distinct_requests(["e_a"], 10_000, seed=1)) == 100  # the whole space


def test_saturation_is_the_best_step_within_budget() -> None:
    steps = [
        {"connections": 1, "rps": 100.0, "p99_ms": 10.0, "errors": 0},
        {"connections": 4, "rps": 300.0, "p99_ms": 40.0, "errors": 0},
        {"connections": 16, "rps": 320.0, "p99_ms": 150.0, "errors": 0},
        {"connections": 128, "rps": 400.0, "p99_ms": 50.0, "errors": 12},
    ]
    best = b.saturation(steps)
    assert best["connections"] == 4 and best["within_budget"]
    slow = b.saturation(steps[2:])  # none within the budget: the best without errors
    assert slow["connections"] == 16 and not slow["within_budget"]
    with pytest.raises(BenchError):
        b.saturation([{"connections": 1, "rps": 1.0, "p99_ms": 5.0, "errors": 3}])


def test_summary_counts_refusals_and_error_kinds() -> None:
    records = [(0.0, 5.0, 200), (0.1, 7.0, 200), (0.2, 1.0, 503), (0.3, 2.0, 429)]
    records += [(0.4, 10_000.0, b.TIMEOUT), (0.5, 3.0, b.CONN_ERROR), (0.6, 4.0, 500)]
    s = b.summary(records)
    assert (s["requests"], s["ok"], s["refused"], s["errors"]) == (7, 2, 2, 3)
    assert s["error_kinds"] == {"timeout": 1, "connection": 1, "5xx": 1}
    assert s["p99_ms"] == 7.0 and s["refused_p99_ms"] == 2.0
    assert b.summary([])["refused_p99_ms"] is None


def test_window_and_recovery() -> None:
    records = [(t / 10, 500.0 if t < 35 else 5.0, 503 if t < 32 else 200) for t in range(100)]
    assert len(b.window(records, 1.0, 2.0)) == 10
    # the load drops at 3 s; refusals until 3.2 s and slow answers until 3.5 s: settled at 4 s
    assert b.recovery_seconds(records, 3.0, 10.0, p99_limit_ms=20.0, span=1.0) == 1.0
    never = [(t / 10, 5.0, 503) for t in range(100)]
    assert b.recovery_seconds(never, 3.0, 10.0, p99_limit_ms=20.0) is None
    # 5-second windows: two slow answers in a steady stream do not count as not recovered...
    steady = [(t / 100, 40.0 if t in (700, 750) else 5.0, 200) for t in range(2000)]
    assert b.recovery_seconds(steady, 0.0, 20.0, p99_limit_ms=20.0) == 0.0
    assert b.recovery_seconds(steady, 0.0, 20.0, p99_limit_ms=20.0, span=1.0) == 8.0
    # ...but a refusal does, and so does a slow stretch (p99 of the window over the limit)
    refused = [(t, lat, 503 if t == 12.0 else st) for t, lat, st in steady]
    assert b.recovery_seconds(refused, 0.0, 20.0, p99_limit_ms=20.0) == 13.0
    slow = [(t, 40.0 if 6.0 <= t < 7.0 else lat, st) for t, lat, st in steady]
    assert b.recovery_seconds(slow, 0.0, 20.0, p99_limit_ms=20.0) == 7.0
    assert b.recovery_limit(20.0) == 30.0 and b.recovery_limit(4.0) == 14.0


def test_planned_times_follow_the_schedule() -> None:
    times = b.planned_times([[2.0, 10.0], [1.0, 100.0]])
    assert len(times) == 120
    assert times[0] == 0.0 and times[19] == pytest.approx(1.9) and times[20] == 2.0
    assert times[-1] == pytest.approx(2.99)


def _result() -> dict:  # type: ignore[type-arg]
    during = {
        "requests": 600,
        "ok": 300,
        "refused": 300,
        "errors": 0,
        "error_kinds": {},
        "p50_ms": 50.0,
        "p99_ms": 120.0,
        "refused_p99_ms": 30.0,
    }
    first = {**during, "refused": 0, "p99_ms": 20.0}
    return {
        "steps": [
            {
                "connections": 1,
                "rps": 300.0,
                "p50_ms": 3.0,
                "p99_ms": 9.0,
                "requests": 3000,
                "errors": 0,
            }
        ],
        "saturation": {"connections": 1, "rps": 300.0, "p99_ms": 9.0},
        "soak": {
            "rate_target": 180.0,
            "rate_sent": 180.0,
            "seconds": 600,
            "all": {**first, "errors": 0},
            "first": first,
            "last": {**first, "p99_ms": 21.0},
            "p99_drift": 0.05,
            "rss_first_mib": 600.0,
            "rss_last_mib": 606.0,
            "rss_peak_mib": 610.0,
            "rss_growth": 0.01,
        },
        "overload": {
            "rate_high": 600.0,
            "rate_low": 180.0,
            "during": during,
            "refused_share": 0.5,
            "recovery_p99_limit_ms": 31.5,
            "recovery_s": 2.0,
        },
        "notes": {"date": "today"},
    }


def test_verdicts_and_table() -> None:
    result = _result()
    result["verdicts"] = b.verdicts(result)
    assert [v["result"] for v in result["verdicts"]] == ["PASS"] * 9
    text = b.table(result)
    assert "saturation: 300.0 req/s" in text and "| recovery after the load drops | 2.0 |" in text
    result["overload"]["recovery_s"] = None
    result["soak"]["rss_growth"] = 0.2
    failed = {v["target"] for v in b.verdicts(result) if v["result"] == "FAIL"}
    assert failed == {"recovery after the load drops", "soak RSS growth, end vs first minute"}


async def _serve(statuses: list[int]) -> tuple[asyncio.Server, int, list[str]]:
    """A tiny HTTP/1.1 server answering the given statuses in turn; closes every third
    connection after its first answer (so the generator meets closed kept-alive ones)."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(head.split(b" ")[1].decode())
                status = statuses[len(seen) % len(statuses)]
                body = b"{}"
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)
                )
                await writer.drain()
                served += 1
                if served == 1 and len(seen) % 3 == 0:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


def test_generator_sends_the_plan_open_loop() -> None:
    async def scenario() -> tuple[list[tuple[float, float, int]], list[str]]:
        server, port, seen = await _serve([200, 200, 503])
        plan = b.Plan(f"http://127.0.0.1:{port}", "jk_x", ["e_a", "e_b"], [[1.0, 60.0]])
        records = await b.run_plan(plan)
        server.close()
        return records, seen

    records, seen = asyncio.run(scenario())
    assert len(records) == 60 and [r[0] for r in records] == sorted(r[0] for r in records)
    statuses = {r[2] for r in records}
    assert statuses <= {200, 503} and 503 in statuses  # closed connections were retried
    assert all(p.startswith("/v1/employees/e_") for p in seen)


def test_a_retry_after_a_closed_kept_alive_connection_uses_a_new_one() -> None:
    """A server that silently closes every connection after one answer (as a keep-alive
    timeout does): every idle connection in the pool is stale, and none may count as an error
    (the retry of a stale reused connection must not take another stale one)."""

    async def scenario() -> list[int]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = b.Pool("127.0.0.1", port, size=4)
        request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        # four idle connections at once, then each reused after the server closed it
        first = await asyncio.gather(*(b.exchange(pool, request) for _ in range(4)))
        await asyncio.sleep(0.05)
        later = [await b.exchange(pool, request) for _ in range(8)]
        pool.close()
        server.close()
        return [*first, *later]

    assert asyncio.run(scenario()) == [200] * 12
