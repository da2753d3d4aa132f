"""Benchmark: the service under step load, a long soak and overload (``make bench-reliability``).

Starts ``jenjang serve`` with one worker on the demo organisation (``JENJANG_DATA_DIR``), with
its default limits, a throw-away SQLite application database and API key, on loopback. The
workload is the LMS's main call, ``GET /v1/employees/{id}/recommendations/programs`` for a
random active employee with a random ``k`` (1-50) and language (id/en): about 430,000 distinct
answers against a cache of 20,000, so nearly every request is computed and the cache stays full.

1. **Step load** (wrk, closed loop): 1, 2, 4, ... 128 connections, ``--step-seconds`` each.
   Saturation = the highest throughput of a step with no error and p99 <= 100 ms.
2. **Soak** at 60 % of saturation for ``--soak-minutes`` (default 10) from a separate process
   that sends at a fixed rate (open loop; latency counted from the planned send time, so a
   stalled server cannot hide its queue): p99 of the first vs the last minute (drift < 10 %),
   resident memory of the server process at the end of the first minute vs the end (< 5 %),
   errors (0).
3. **Overload** at twice saturation for ``--overload-seconds``, then 60 % again: the excess is
   refused (429/503) quickly and nothing else fails; the p99 of the accepted requests; recovery
   (first second after the drop from which every 5-second window has no refusal and a p99
   within 1.5x the soak's, at least + 10 ms) within 10 s. The same rule applied to the soak's
   last minute (nothing overloaded) is printed as a control: it must give 0 s.

It prints each figure next to its target with PASS/FAIL (``--json``: one JSON object). Benchmarks
are never timed assertions: the exit code is 0 whatever the verdicts, 2 when the service cannot
be benchmarked (no demo organisation or models, no wrk). The machine is shared: say so.

    python -m benchmarks.bench_reliability [--json] [--soak-minutes 10] [--step-seconds 10]
    python -m benchmarks.bench_reliability --generate PLAN.json --out RESULT.json   (internal)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_serve import (
    PROGRAMS,
    BenchError,
    Loader,
    Req,
    Server,
    _get,
    _make_key,
    active_employees,
    consumed,
    find_wrk,
)
from benchmarks.proctree import tree_rss

STEPS = (1, 2, 4, 8, 16, 32, 64, 128)
P99_BUDGET_MS = 100.0
SOAK_SHARE = 0.6
OVERLOAD_FACTOR = 2.0
DRIFT_MAX = 0.10
RSS_GROWTH_MAX = 0.05
RECOVERY_MAX_S = 10.0
#: Length of the windows judged for recovery (seconds).
RECOVERY_WINDOW_S = 5.0
REFUSAL_P99_MAX_MS = 250.0
ACCEPTED_P99_MAX_MS = 1000.0
REFUSED = (429, 503)
#: New answers computed before the soak: more than the answer cache holds (20,000).
CACHE_FILL = 22_000
#: Status of a request that failed without an answer (generator records).
TIMEOUT, CONN_ERROR = 0, -1


# ----------------------------------------------------------------------------- pure parts
def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0-100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def programme_path(employee: str, k: int) -> str:
    """``/v1/employees/{employee}/recommendations/programs?k={k}``."""
    return f"/v1/employees/{employee}/recommendations/programs?k={k}"


def distinct_requests(employees: list[str], n: int, seed: int) -> list[Req]:
    """``n`` different answers (employee, ``k`` in 1..50, language) in random order: each one
    is computed, none comes from the cache."""
    rng = random.Random(seed)
    space = len(employees) * 50 * 2
    out = []
    for code in rng.sample(range(space), min(n, space)):
        employee, rest = divmod(code, 100)
        k, lang = divmod(rest, 2)
        out.append(Req(programme_path(employees[employee], k + 1), ("id", "en")[lang]))
    return out


def saturation(steps: list[dict[str, Any]], budget_ms: float = P99_BUDGET_MS) -> dict[str, Any]:
    """The step with the highest throughput among those without errors and within the p99
    budget (``within_budget`` True); when none is within the budget, the best step without
    errors (``within_budget`` False). BenchError when every step had errors."""
    clean = [s for s in steps if s["errors"] == 0]
    good = [s for s in clean if s["p99_ms"] <= budget_ms]
    if not clean:
        raise BenchError("every step had errors: the service cannot be loaded")
    return {**max(good or clean, key=lambda s: s["rps"]), "within_budget": bool(good)}


def window(
    records: list[tuple[float, float, int]], start: float, end: float
) -> list[tuple[float, float, int]]:
    """Records planned in ``[start, end)`` seconds."""
    return [r for r in records if start <= r[0] < end]


def summary(records: list[tuple[float, float, int]]) -> dict[str, Any]:
    """Counts and latencies of ``(planned_s, latency_ms, status)`` records: ``requests``,
    ``ok`` (2xx), ``refused`` (429/503), ``errors`` (anything else), p50/p99 of the 2xx and
    p99 of the refusals."""
    ok = [lat for _, lat, st in records if 200 <= st < 300]
    refused = [lat for _, lat, st in records if st in REFUSED]
    kinds = {"timeout": TIMEOUT, "connection": CONN_ERROR}
    return {
        "requests": len(records),
        "ok": len(ok),
        "refused": len(refused),
        "errors": len(records) - len(ok) - len(refused),
        "error_kinds": {
            name: n
            for name, n in (
                *((k, sum(1 for r in records if r[2] == code)) for k, code in kinds.items()),
                ("5xx", sum(1 for r in records if r[2] >= 500 and r[2] not in REFUSED)),
                ("4xx", sum(1 for r in records if 400 <= r[2] < 500 and r[2] not in REFUSED)),
            )
            if n
        },
        "p50_ms": round(percentile(ok, 50), 2),
        "p99_ms": round(percentile(ok, 99), 2),
        "refused_p99_ms": round(percentile(refused, 99), 2) if refused else None,
    }


def recovery_seconds(
    records: list[tuple[float, float, int]],
    drop_at: float,
    end: float,
    p99_limit_ms: float,
    span: float = RECOVERY_WINDOW_S,
) -> float | None:
    """Whole seconds after ``drop_at`` until every following ``span``-second window (starting
    each second, up to ``end``) has no refusal, no error and a 2xx p99 within
    ``p99_limit_ms``; None when it never settles.

    Windows of ``span`` seconds, not single seconds: the p99 of one second (~120 answers at 60 %
    of saturation) is its second-largest latency, which one collection pause puts over the
    limit even in a steady soak (the soak's own control, :func:`recovery_limit`)."""
    starts = [float(s) for s in range(int(end - drop_at - span) + 1)]
    good = []
    for s in starts:
        w = summary(window(records, drop_at + s, drop_at + s + span))
        fine = (
            w["refused"] == 0 and w["errors"] == 0 and (w["ok"] == 0 or w["p99_ms"] <= p99_limit_ms)
        )
        good.append(fine)
    for i, s in enumerate(starts):
        if all(good[i:]):
            return s
    return None


def per_window(
    records: list[tuple[float, float, int]], seconds: float, span: float
) -> list[dict[str, Any]]:
    """p50/p99, the largest latency and the refusals of each ``span``-second window of a run
    of ``seconds`` (printed by the soak: how the tail grows over time)."""
    out = []
    for i in range(math.ceil(seconds / span)):
        recs = window(records, i * span, (i + 1) * span)
        s = summary(recs)
        worst = max((lat for _, lat, st in recs if 200 <= st < 300), default=math.nan)
        out.append(
            {
                "from_s": round(i * span),
                "requests": s["requests"],
                "p50_ms": s["p50_ms"],
                "p99_ms": s["p99_ms"],
                "max_ms": round(worst, 1),
                "refused": s["refused"],
                "errors": s["errors"],
            }
        )
    return out


def recovery_limit(soak_p99_ms: float) -> float:
    """The p99 a recovered window may have: 1.5x the soak's p99, at least 10 ms above it."""
    return max(1.5 * soak_p99_ms, soak_p99_ms + 10.0)


def verdict(
    name: str, figure: float | None, limit: float, lower_is_better: bool, unit: str
) -> dict[str, Any]:
    """One target: figure, limit and PASS/FAIL."""
    if figure is None or (isinstance(figure, float) and math.isnan(figure)):
        ok = False
    else:
        ok = figure <= limit if lower_is_better else figure >= limit
    sign = "<=" if lower_is_better else ">="
    return {
        "target": name,
        "figure": figure,
        "limit": f"{sign} {limit:g} {unit}".rstrip(),
        "result": "PASS" if ok else "FAIL",
    }


# ----------------------------------------------------------------------------- generator
@dataclass
class Plan:
    """What the load generator sends: to ``base`` with ``key``, programme requests for a random
    one of ``employees`` with a random ``k`` (1-50) and language, at the rates of ``schedule``
    (``[[seconds, requests/s], ...]``)."""

    base: str
    key: str
    employees: list[str]
    schedule: list[list[float]]
    timeout_s: float = 10.0
    max_connections: int = 512
    seed: int = 7
    records: list[tuple[float, float, int]] = field(default_factory=list)


def planned_times(schedule: list[list[float]]) -> list[float]:
    """Send times (seconds from the start) at the rates of ``schedule``, evenly spaced."""
    out: list[float] = []
    start = 0.0
    for seconds, rate in schedule:
        n = round(seconds * rate)
        out += [start + i / rate for i in range(n)] if rate > 0 else []
        start += seconds
    return out


async def _http_get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """One HTTP/1.1 exchange on a kept-alive connection: status and whether it stays open."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    if length:
        await reader.readexactly(length)
    return status, keep


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Pool:
    """Kept-alive connections to one server, at most ``size`` open; the most recently used
    idle one first."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: list[Conn] = []
        self.opened = 0
        self.free = asyncio.Condition()

    async def take(self, fresh: bool = False) -> tuple[Conn, bool]:
        """A connection and whether it was reused (an idle one may have been closed by now);
        ``fresh``: a new connection (an idle one is closed to make room when the pool is full)."""
        async with self.free:
            while not self.idle and self.opened >= self.size:
                await self.free.wait()
            if self.idle and not fresh:
                return self.idle.pop(), True
            if self.opened >= self.size:
                self.idle.pop(0)[1].close()  # the least recently used: its slot is reused
            else:
                self.opened += 1
        try:
            return await asyncio.open_connection(self.host, self.port), False
        except BaseException:
            await self.give(None)
            raise

    async def give(self, conn: Conn | None) -> None:
        """Back to the pool; None: the connection was closed (its slot is free again)."""
        async with self.free:
            if conn is None:
                self.opened -= 1
            else:
                self.idle.append(conn)
            self.free.notify()

    def close(self) -> None:
        """Close the idle connections."""
        for _, writer in self.idle:
            writer.close()


async def exchange(pool: Pool, request: bytes) -> int:
    """Send one request on a pooled connection, again on a new one when a reused connection
    turns out closed by the server (its keep-alive timeout: any HTTP client retries an idempotent
    GET then); the status."""
    for attempt in range(2):
        conn, reused = await pool.take(fresh=attempt > 0)
        try:
            status, keep = await _http_get(*conn, request)
        except (OSError, asyncio.IncompleteReadError) as exc:
            conn[1].close()
            await pool.give(None)
            closed = isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
            if reused and (closed or isinstance(exc, ConnectionResetError)):
                continue
            raise
        except BaseException:
            conn[1].close()
            await pool.give(None)
            raise
        if keep:
            await pool.give(conn)
        else:
            conn[1].close()
            await pool.give(None)
        return status
    raise ConnectionError("the connection closed twice")


async def run_plan(plan: Plan) -> list[tuple[float, float, int]]:
    """Send the plan open loop; one record ``(planned_s, latency_ms, status)`` per request,
    latency from the planned send time (a request waiting for a free connection counts)."""
    host, port = plan.base.split("//", 1)[1].split(":")
    rng = random.Random(plan.seed)
    pool = Pool(host, int(port), plan.max_connections)
    records: list[tuple[float, float, int]] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    failures: Counter[str] = Counter()

    async def one(planned: float, request: bytes) -> None:
        try:
            status = await asyncio.wait_for(exchange(pool, request), plan.timeout_s)
        except TimeoutError:
            status = TIMEOUT
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            status = CONN_ERROR
            failures[type(exc).__name__] += 1
        records.append((planned, (loop.time() - start - planned) * 1e3, status))

    def request() -> bytes:
        path = programme_path(rng.choice(plan.employees), rng.randint(1, 50))
        lang = rng.choice(("id", "en"))
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {plan.key}\r\n"
            f"Accept-Language: {lang}\r\n\r\n".encode()
        )

    # only the unfinished requests are kept: finished tasks kept to the end made the
    # generator's own full garbage collections longer as the soak went on (a pause in sending)
    pending: set[asyncio.Task[None]] = set()
    for planned in planned_times(plan.schedule):
        delay = start + planned - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(planned, request()))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    pool.close()
    if failures:
        _say(f"load generator: connection errors by exception {dict(failures)}")
    return sorted(records)


def generate(plan_file: Path, out_file: Path) -> None:
    """The separate load process: read the plan, send it, write the records as JSON."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency of the service
        pass
    raw = json.loads(plan_file.read_text())
    plan = Plan(**raw)
    records = asyncio.run(run_plan(plan))
    out_file.write_text(json.dumps(records))


def run_generator(
    work: Path, name: str, plan: Plan, sample: Any = None
) -> list[tuple[float, float, int]]:
    """Run the generator in its own process; ``sample()`` is called about every second while
    it runs. Returns its records."""
    plan_file, out_file = work / f"{name}.plan.json", work / f"{name}.out.json"
    raw = {k: v for k, v in plan.__dict__.items() if k != "records"}
    plan_file.write_text(json.dumps(raw))
    cmd = [sys.executable, "-m", "benchmarks.bench_reliability", "--generate", str(plan_file)]
    cmd += ["--out", str(out_file)]
    proc = subprocess.Popen(cmd)
    while proc.poll() is None:
        if sample is not None:
            sample()
        time.sleep(1.0)
    if proc.returncode != 0:
        raise BenchError(f"the load generator failed ({proc.returncode})")
    return [tuple(r) for r in json.loads(out_file.read_text())]  # type: ignore[misc]


# ----------------------------------------------------------------------------- the run
def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Distinct:
    """The pool of never-asked answers, used in order across the wrk loads."""

    def __init__(self, employees: list[str], seed: int) -> None:
        self.pool = distinct_requests(employees, len(employees) * 100, seed)
        self.cursor = 0

    def run(self, load: Loader, name: str, connections: int, seconds: float) -> dict[str, Any]:
        """One wrk load over the next unused answers; its figures."""
        left = self.pool[self.cursor : self.cursor + 60_000]
        if len(left) < 1_000:
            raise BenchError("the organisation has too few employees for this benchmark")
        fig = load.run(name, left, connections, max(1, round(seconds)))  # wrk: whole seconds
        self.cursor += consumed(fig["used"], fig["threads"])
        return fig


def step_load(load: Loader, fresh: Distinct, opts: argparse.Namespace) -> list[dict[str, Any]]:
    """wrk at 1, 2, 4, ... connections, every request a new answer; the figures of each step
    (stops after the first step with errors from 64 connections on)."""
    out = []
    fresh.run(load, "warmup", 4, opts.warmup)
    for conns in STEPS:
        fig = fresh.run(load, f"step{conns}", conns, opts.step_seconds)
        row = {k: fig[k] for k in ("connections", "rps", "p50_ms", "p99_ms", "requests", "errors")}
        out.append(row)
        _say(f"step {conns:>3} connections: {json.dumps(row)}")
        if fig["errors"] and conns >= 64:
            break
    return out


def fill_cache(load: Loader, fresh: Distinct, answers: int) -> float:
    """New answers at 4 connections until ``answers`` were computed in all (the answer cache
    is then full, so the soak's memory is the steady state's); the seconds it took."""
    started = time.monotonic()
    while fresh.cursor < answers:
        rate = 150.0
        seconds = min(60.0, max(5.0, (answers - fresh.cursor) / rate))
        fresh.run(load, "fill", 4, seconds)
    return time.monotonic() - started


def _rss(pid: int) -> int:
    return tree_rss(pid)


def soak(
    work: Path,
    server: Server,
    key: str,
    employees: list[str],
    rate: float,
    opts: argparse.Namespace,
) -> dict[str, Any]:
    """The soak at ``rate`` for ``opts.soak_minutes``: figures of the first and last window."""
    seconds = opts.soak_minutes * 60
    span = min(60.0, seconds / 3)
    samples: list[tuple[float, int]] = []
    loads: list[float] = []
    started = time.monotonic()

    def sample() -> None:
        samples.append((time.monotonic() - started, _rss(server.proc.pid)))
        loads.append(os.getloadavg()[0])

    plan = Plan(server.base, key, employees, [[seconds, rate]], seed=opts.seed)
    records = run_generator(work, "soak", plan, sample)
    for row in per_window(records, seconds, span):
        _say(f"soak window: {json.dumps(row)}")
    first, last = window(records, 0, span), window(records, seconds - span, seconds)
    total, head, tail = summary(records), summary(first), summary(last)
    # control: the recovery rule on the soak's last window, where nothing was overloaded
    control = recovery_seconds(
        records, seconds - span, seconds, recovery_limit(total["p99_ms"]), min(5.0, span / 3)
    )
    rss_first = next((r for t, r in samples if t >= span), samples[0][1] if samples else 0)
    rss_last = samples[-1][1] if samples else 0
    return {
        "rate_target": round(rate, 1),
        "rate_sent": round(len(records) / seconds, 1),
        "seconds": seconds,
        "window_s": span,
        "all": total,
        "first": head,
        "last": tail,
        "p99_drift": round((tail["p99_ms"] - head["p99_ms"]) / head["p99_ms"], 4),
        "control_recovery_s": control,
        "rss_first_mib": round(rss_first / 2**20, 1),
        "rss_last_mib": round(rss_last / 2**20, 1),
        "rss_peak_mib": round(max((r for _, r in samples), default=0) / 2**20, 1),
        "rss_growth": round((rss_last - rss_first) / rss_first, 4) if rss_first else None,
        "load_avg_mean": round(sum(loads) / len(loads), 2) if loads else None,
        "load_avg_max": round(max(loads), 2) if loads else None,
    }


def overload(
    work: Path,
    server: Server,
    key: str,
    employees: list[str],
    sat_rps: float,
    soak_p99: float,
    opts: argparse.Namespace,
) -> dict[str, Any]:
    """Twice saturation for ``opts.overload_seconds``, then 60 % for ``opts.recovery_seconds``."""
    high, low = OVERLOAD_FACTOR * sat_rps, SOAK_SHARE * sat_rps
    schedule = [[opts.overload_seconds, high], [opts.recovery_seconds, low]]
    plan = Plan(server.base, key, employees, schedule, seed=opts.seed + 99)
    records = run_generator(work, "overload", plan)
    drop = float(opts.overload_seconds)
    # the first seconds of the overload fill the queue: judge the steady overload
    during = summary(window(records, min(5.0, drop / 3), drop))
    limit = recovery_limit(soak_p99)
    rec = recovery_seconds(records, drop, drop + opts.recovery_seconds, limit)
    return {
        "rate_high": round(high, 1),
        "rate_low": round(low, 1),
        "during": during,
        "refused_share": round(during["refused"] / during["requests"], 3)
        if during["requests"]
        else None,
        "after": summary(window(records, drop, drop + opts.recovery_seconds)),
        "recovery_p99_limit_ms": round(limit, 1),
        "recovery_s": rec,
    }


def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the benchmark with its figure and PASS/FAIL."""
    s, o = result["soak"], result["overload"]
    during = o["during"]
    return [
        verdict(
            f"saturation step within p99 {P99_BUDGET_MS:g} ms",
            result["saturation"]["p99_ms"],
            P99_BUDGET_MS,
            True,
            "ms",
        ),
        verdict(
            "soak p99 drift, last vs first minute",
            round(100 * s["p99_drift"], 1),
            100 * DRIFT_MAX,
            True,
            "%",
        ),
        verdict(
            "soak RSS growth, end vs first minute",
            None if s["rss_growth"] is None else round(100 * s["rss_growth"], 2),
            100 * RSS_GROWTH_MAX,
            True,
            "%",
        ),
        verdict("soak errors", s["all"]["errors"] + s["all"]["refused"], 0, True, ""),
        verdict(
            "overload: excess refused (429/503), share",
            during["refused"] and o["refused_share"],
            0.01,
            False,
            "",
        ),
        verdict("overload: other errors", during["errors"], 0, True, ""),
        verdict("overload: refusal p99", during["refused_p99_ms"], REFUSAL_P99_MAX_MS, True, "ms"),
        verdict("overload: accepted p99", during["p99_ms"], ACCEPTED_P99_MAX_MS, True, "ms"),
        verdict("recovery after the load drops", o["recovery_s"], RECOVERY_MAX_S, True, "s"),
    ]


def table(result: dict[str, Any]) -> str:
    """Markdown: the steps, the soak and overload figures, the targets, the conditions."""
    lines = [
        "| connections | req/s | p50 ms | p99 ms | requests | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for st in result["steps"]:
        lines.append(
            f"| {st['connections']} | {st['rps']:,.1f} | {st['p50_ms']:.1f} | {st['p99_ms']:.1f} | "
            f"{st['requests']:,} | {st['errors']:,} |"
        )
    sat = result["saturation"]
    s, o = result["soak"], result["overload"]
    lines += [
        "",
        f"saturation: {sat['rps']:,.1f} req/s at {sat['connections']} connections "
        f"(p99 {sat['p99_ms']:.1f} ms"
        + ("" if sat.get("within_budget", True) else f"; no step within {P99_BUDGET_MS:g} ms")
        + ")",
        f"soak: {s['rate_sent']} req/s (target {s['rate_target']}) for {s['seconds'] / 60:g} min; "
        f"p99 first {s['first']['p99_ms']} ms, last {s['last']['p99_ms']} ms; RSS first "
        f"{s['rss_first_mib']} MiB, last {s['rss_last_mib']} MiB, peak {s['rss_peak_mib']} MiB; "
        f"{s['all']['requests']:,} requests, {s['all']['errors']} errors, "
        f"{s['all']['refused']} refused; machine load average {s.get('load_avg_mean')} "
        f"(max {s.get('load_avg_max')}) on {os.cpu_count()} CPUs",
        f"overload: {o['rate_high']} req/s: {o['during']['requests']:,} requests, "
        f"{o['during']['ok']:,} accepted (p50 {o['during']['p50_ms']} ms, "
        f"p99 {o['during']['p99_ms']} ms), "
        f"{o['during']['refused']:,} refused (p99 {o['during']['refused_p99_ms']} ms), "
        f"{o['during']['errors']} other errors; then {o['rate_low']} req/s: recovered after "
        f"{o['recovery_s']} s (every {RECOVERY_WINDOW_S:g}-s window from then: "
        f"p99 <= {o['recovery_p99_limit_ms']} ms, no refusal; the same rule on the soak's "
        f"last minute, nothing overloaded: {s.get('control_recovery_s')} s)",
        "",
        "| target | figure | limit | result |",
        "|---|---:|---|---|",
    ]
    for v in result["verdicts"]:
        lines.append(f"| {v['target']} | {v['figure']} | {v['limit']} | {v['result']} |")
    lines.append("")
    lines += [f"{k}: {v}" for k, v in result["notes"].items()]
    return "\n".join(lines)


def bench(opts: argparse.Namespace) -> dict[str, Any]:
    """Start the service and run the three phases; the figures, verdicts and notes."""
    import pandas as pd

    from recommender.config import get_settings

    started = time.perf_counter()
    load_before = os.getloadavg()
    settings = get_settings()
    if not (settings.clean_dir / "employees.parquet").exists():
        raise BenchError(f"no clean organisation at {settings.clean_dir}: run make demo models")
    wrk = find_wrk(install=not opts.no_install)
    employees = active_employees(settings.clean_dir, pd.Timestamp.today().normalize())
    with tempfile.TemporaryDirectory(prefix="jenjang-bench-reliability-") as tmp:
        work = Path(tmp)
        db_url = f"sqlite:///{work / 'bench.db'}"
        key = _make_key(db_url)
        server = Server(work, db_url)
        try:
            server.wait_ready()
            status, body = _get(f"{server.base}/v1/models", key)
            if status != 200 or PROGRAMS not in {m.get("name") for m in json.loads(body)["models"]}:
                raise BenchError(f"{PROGRAMS} is not loaded: run make models first")
            rss_start = _rss(server.proc.pid)
            load = Loader(wrk, server.base, key, work, opts.threads)
            fresh = Distinct(employees, opts.seed)
            steps = step_load(load, fresh, opts)
            sat = saturation(steps)
            filled_s = fill_cache(load, fresh, CACHE_FILL)
            load.settle()
            _say(f"saturation {sat['rps']} req/s; soak at {SOAK_SHARE * sat['rps']:.0f} req/s")
            soaked = soak(work, server, key, employees, SOAK_SHARE * sat["rps"], opts)
            _say("soak: " + json.dumps({k: v for k, v in soaked.items() if k != "all"}))
            load.settle()
            over = overload(work, server, key, employees, sat["rps"], soaked["all"]["p99_ms"], opts)
            _say("overload: " + json.dumps(over))
            _status, metrics = _get(f"{server.base}/metrics", key)
            refused = [
                line
                for line in metrics.decode().splitlines()
                if line.startswith("jenjang_refused_total{")
            ]
            alive = server.proc.poll() is None
        finally:
            server.stop()
    limits = {k: getattr(settings, k) for k in ("rate_limit_per_key", "max_in_flight")}
    result: dict[str, Any] = {
        "steps": steps,
        "saturation": sat,
        "soak": soaked,
        "overload": over,
        "notes": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, "
            f"Python {platform.python_version()}",
            "load avg before/after": f"{load_before[0]:.2f} / {os.getloadavg()[0]:.2f}",
            "service": "jenjang serve --workers 1 (uvicorn), loopback, throw-away SQLite app DB, "
            f"default limits {limits}",
            "workload": "GET programmes, random active employee (of "
            f"{len(employees):,}), k 1-50, id/en",
            "server RSS at start MiB": round(rss_start / 2**20, 1),
            "answers computed before the soak": f"{fresh.cursor:,} (cache of 20,000 full; "
            f"fill took {filled_s:.0f} s)",
            "refusals counted by the server": ", ".join(refused) or "none",
            "server alive at the end": alive,
            "bench took s": round(time.perf_counter() - started, 1),
        },
    }
    result["verdicts"] = verdicts(result)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --generate, be the load generator)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--soak-minutes", type=float, default=10.0)
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds of load before the steps"
    )
    parser.add_argument("--overload-seconds", type=float, default=30.0)
    parser.add_argument("--recovery-seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.generate:
        generate(opts.generate, opts.out)
        return 0
    if opts.soak_minutes <= 0 or opts.step_seconds <= 0 or opts.overload_seconds < 6:
        parser.error("--soak-minutes and --step-seconds > 0, --overload-seconds >= 6")
    try:
        result = bench(opts)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if opts.json:
        print(json.dumps(result))
        _say(table(result))
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
