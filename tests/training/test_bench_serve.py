"""The pure parts of ``benchmarks/bench_serve.py`` (``jenjang bench serve``): the wrk Lua script,
the paths file, the uncached keys, parsing wrk's output into the JSON shape, medians and
verdicts. Nothing here starts the service or runs wrk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_serve as b

SCRIPT_LINE = (
    'JENJANG_WRK {"requests": 954, "duration_us": 10020000, "bytes": 3911000, '
    '"errors": {"connect": 0, "read": 0, "write": 0, "status": 2, "timeout": 1}, '
    '"latency_us": {"p50": 41110.0, "p90": 53530.5, "p99": 168910.0, "max": 277350.0, '
    '"mean": 42000.0}, "used": [480, 478], "wrapped": 0}'
)

WRK_TEXT = """Running 10s test @ http://127.0.0.1:8000
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.45ms   39.62ms 217.17ms   90.95%
    Req/Sec   826.35    226.04     1.09k    80.00%
  Latency Distribution
     50%  912.00us
     75%   10.96ms
     90%   47.21ms
     99%    1.20s
  15490 requests in 10.00s, 18.91MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   1548.83
Transfer/sec:      6.30MB
"""


def test_lua_script_rotates_paths_with_key_and_language(tmp_path: Path) -> None:
    paths = tmp_path / "load.paths"
    script = b.lua_script(paths, 'jk_a"b', threads=2)
    assert json.dumps(str(paths)) in script  # quoted as a string literal
    assert r'"jk_a\"b"' in script  # the key is escaped, never breaks the script
    assert "local step = 2" in script
    for fn in ("function setup(thread)", "function init(args)", "function request()"):
        assert fn in script
    assert "function done(summary, latency, requests)" in script
    assert 'wrk.format("GET", paths[i], headers[langs[i]])' in script
    assert '["Accept-Language"] = "en"' in script and '["X-API-Key"]' in script
    assert "latency:percentile(99)" in script and b.MARKER in script
    assert script.count("(") == script.count(")") and script.count("{") == script.count("}")
    with pytest.raises(ValueError):
        b.lua_script(paths, "k", threads=0)


def test_paths_file_and_uncached_keys_are_distinct() -> None:
    text = b.paths_text([b.Req("/v1/a?k=10"), b.Req("/v1/b?k=10", "en")])
    assert text == "id\t/v1/a?k=10\nen\t/v1/b?k=10\n"
    with pytest.raises(ValueError):
        b.paths_text([b.Req("/v1/a", "fr")])
    with pytest.raises(ValueError):
        b.paths_text([b.Req("no-slash")])
    assert b.program_path("e_x") == "/v1/employees/e_x/recommendations/programs?k=10"
    assert b.program_path("e_x", 5, 2026).endswith("?k=5&year=2026")
    reqs = b.uncached_requests(["e_1", "e_2", "e_3"], 2026)
    assert len(reqs) == len(set(reqs)) == 3 * 8
    # same work first: every employee in Indonesian, then English, then with the year spelled out
    assert [r.lang for r in reqs[:6]] == ["id"] * 3 + ["en"] * 3
    assert all("year" not in r.path for r in reqs[:6]) and "year=2026" in reqs[6].path
    assert all("k=10" in r.path for r in reqs)


def test_parse_script_line_into_the_json_shape() -> None:
    fig = b.parse_wrk("Running 10s test\n" + SCRIPT_LINE + "\nRequests/sec: 95.21\n", 4)
    assert fig["rps"] == pytest.approx(95.2, abs=0.05)
    assert (fig["p50_ms"], fig["p90_ms"], fig["p99_ms"]) == (41.11, 53.53, 168.91)
    assert fig["requests"] == 954 and fig["errors"] == 3 and fig["connections"] == 4
    assert fig["used"] == [480, 478] and fig["wrapped"] == 0
    out = b.headline(fig)
    assert {"rps", "p50_ms", "p99_ms"} <= out.keys()
    assert "used" not in out and "wrapped" not in out
    json.dumps(out)


def test_parse_plain_wrk_latency_output() -> None:
    fig = b.parse_wrk(WRK_TEXT, 16)
    assert fig["rps"] == 1548.83
    assert fig["p50_ms"] == 0.91 and fig["p90_ms"] == 47.21 and fig["p99_ms"] == 1200.0
    assert fig["max_ms"] == 217.17 and fig["requests"] == 15490
    assert fig["errors"] == 7 + 3 + 2
    with pytest.raises(ValueError):
        b.parse_wrk("unable to connect to 127.0.0.1:8000 Connection refused\n")


def test_consumed_lines_of_a_strided_file() -> None:
    assert b.consumed([3, 3], 2) == 6  # lines 0,2,4 and 1,3,5
    assert b.consumed([1, 4], 2) == 8  # thread 1 went to line 7
    assert b.consumed([0, 0], 2) == 0


def _fig(rps: float, p50: float, p99: float, conns: int = 16) -> dict[str, object]:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": 10, "errors": 0,
            "connections": conns}  # fmt: skip


def test_medians_verdicts_and_table() -> None:
    runs = [
        {
            "trivial": _fig(1800 + d, 8, 180),
            "cached": _fig(700 + d, 21, 130),
            "uncached": _fig(70 + d, 230, 450),
            "uncached_c4": _fig(95, 41, 160 + d, 4),
        }
        for d in (0, 10, 20)
    ]
    med = b.median_figures(runs)
    assert list(med) == list(b.LOADS)
    assert med["trivial"]["rps"] == 1810 and med["uncached_c4"]["p99_ms"] == 170
    assert med["uncached_c4"]["connections"] == 4 and med["cached"]["errors"] == 0
    runs[0]["trivial"]["threads"] = 2
    assert b.median_figures(runs[:1])["trivial"]["threads"] == 2  # a condition, kept as is
    shape = json.loads(json.dumps(med))
    assert set(shape) == {"trivial", "cached", "uncached", "uncached_c4"}
    assert all({"rps", "p50_ms", "p99_ms"} <= set(v) for v in shape.values())
    verdict = {v["target"]: v for v in b.verdicts(med)}
    assert verdict["uncached p99 at 4 connections"]["result"] == "MISS"
    assert verdict["uncached throughput at saturation"]["margin_pct"] == pytest.approx(-68.0)
    share = verdict["cached / trivial throughput"]
    assert share["figure"] == pytest.approx(710 / 1810, abs=1e-3) and share["result"] == "MISS"
    good = {**med, "cached": _fig(1000, 10, 20), "uncached": _fig(300, 50, 60)}
    good["uncached_c4"] = _fig(120, 10, 25, 4)
    assert {v["result"] for v in b.verdicts(good)} == {"PASS"}
    text = b.table(med, {"date": "2026-11-28"})
    assert "| uncached_c4 | 4 |" in text and "MISS" in text and "date: 2026-11-28" in text


def test_trivial_route_only_in_bench_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from recommender.api.app import create_app
    from recommender.config import Settings

    monkeypatch.delenv("JENJANG_BENCH", raising=False)
    plain = TestClient(create_app(Settings()))  # no lifespan: no service is built
    assert plain.get("/v1/bench/trivial").status_code == 404
    bench = TestClient(create_app(Settings(), bench=True))
    r = bench.get("/v1/bench/trivial?k=10")
    assert r.status_code == 200
    body = r.json()
    assert len(body["items"]) == 10 and body["items"][9]["rank"] == 10
    assert {"request_id", "employee", "model", "year", "items"} <= body.keys()
    assert 3800 <= len(r.content) <= 4400  # the size of a demo programme answer for k=10
    assert bench.get("/v1/bench/trivial?k=0").status_code == 422
    monkeypatch.setenv("JENJANG_BENCH", "1")
    assert TestClient(create_app(Settings())).get("/v1/bench/trivial?k=1").status_code == 200
