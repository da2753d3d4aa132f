"""The unit training-needs report: figures against direct pandas computations and hand cases,
and the CSV/XLSX exports against the report.

World: the tiny organisation (300 employees) as of 2026-03-01. The unit is the one with the
most direct staff. Hand case (enrolments of 2026 of four people replaced by these):

======  ===========================================  ==========  ================================
person  HR record of 2026 (before 2026-03-01 unless  LMS extra   plan
        said)
======  ===========================================  ==========  ================================
A       X2 completed 12 JP credited                  -           CL (classical, jp >= 8) + NC
B       CL completed, credit empty (0); CL failed;   -           CL
        NC completed 2026-03-05 (after: not counted)
C       NC completed 25 JP credited                  NC, NC2,    -
                                                     NC2 again
D       -                                            -           CL, NC, CL again (counted once)
======  ===========================================  ==========  ================================

So A realises 12 (< 20) and crosses 20 only with the plan; C realises 25 + jp(NC2) (the LMS
NC is already in the HR record); cohorts CL 3 participants (capacity set to 2: 2 batches), NC
2 participants (capacity removed: DEFAULT_CAPACITY).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from recommender.config import Settings
from recommender.domain import MIN_JP_PER_YEAR
from recommender.reports import (
    DEFAULT_BUDGET_PER_EMPLOYEE,
    DEFAULT_CAPACITY,
    NeedsReport,
    UnknownUnitError,
    build_needs,
    default_budget,
    to_csv,
    to_xlsx,
    unit_employees,
)
from recommender.state import World, build_world
from tests.conftest import TEST_KEY

AT = pd.Timestamp("2026-03-01")
YEAR = 2026


@pytest.fixture(scope="module")
def world(tiny_clean: Path) -> World:
    return build_world(
        Settings(data_dir=tiny_clean.parent, pseudonym_key=TEST_KEY),  # type: ignore[arg-type]
        at=AT,
    )


@pytest.fixture(scope="module")
def unit(world: World) -> str:
    return str(world.snap.people["unit_id"].value_counts().index[0])


def _programme(world: World, classical: bool, min_jp: int, exclude: tuple[str, ...] = ()) -> str:
    """A catalogue programme with the given classical flag and JP >= min_jp (lowest id)."""
    p = world.cat.programs
    ok = (p["classical"].astype(bool) == classical) & (p["jp"] >= min_jp) & (p["jp"] <= 60)
    ok &= ~p["program_id"].isin(exclude)
    return str(p.loc[ok, "program_id"].sort_values().iloc[0])


def _jp(world: World, program_id: str) -> int:
    p = world.cat.programs.set_index("program_id")
    return int(p.loc[program_id, "jp"])


def _cost(world: World, program_id: str) -> float:
    p = world.cat.programs.set_index("program_id")
    return float(p.loc[program_id, "cost_idr"])


@pytest.fixture(scope="module")
def case(world: World, unit: str) -> dict[str, Any]:
    """The hand case of the module docstring: a world with those enrolments and capacities,
    the plans, extras and the programme ids."""
    ids = unit_employees(world, unit)
    assert len(ids) >= 6, "the largest unit of the tiny organisation should have >= 6 people"
    a, b, c, d = ids[:4]
    cl = _programme(world, classical=True, min_jp=8)
    x2 = _programme(world, classical=True, min_jp=1, exclude=(cl,))
    nc = _programme(world, classical=False, min_jp=1)
    nc2 = _programme(world, classical=False, min_jp=1, exclude=(nc,))
    enr = world.tables["enrollments"]
    four = enr["employee_id"].isin([a, b, c, d]) & (enr["end_date"].dt.year == YEAR)
    # d trained nothing the year before: the previous year's compliance is below 1 whatever
    # the generated history (the generator's year-end push brings most people to 20 JP)
    four |= (enr["employee_id"] == d) & (enr["end_date"].dt.year == YEAR - 1)
    rows = [
        (a, x2, "2026-02-01", "2026-02-10", "completed", 12),
        (b, cl, "2026-01-10", "2026-01-15", "completed", None),
        (b, cl, "2026-02-01", "2026-02-05", "failed", None),
        (b, nc, "2026-03-01", "2026-03-05", "completed", 10),
        (c, nc, "2026-01-05", "2026-02-20", "completed", 25),
    ]
    extra = pd.DataFrame(
        {
            "enrollment_id": [f"EN-TEST-{i}" for i in range(len(rows))],
            "employee_id": [r[0] for r in rows],
            "program_id": [r[1] for r in rows],
            "session_id": [None] * len(rows),
            "start_date": pd.to_datetime([r[2] for r in rows]),
            "end_date": pd.to_datetime([r[3] for r in rows]),
            "status": [r[4] for r in rows],
            "jp_credited": pd.array([r[5] for r in rows], dtype="Int64"),
        }
    )
    tables = {**world.tables, "enrollments": pd.concat([enr[~four], extra], ignore_index=True)}
    progs = world.cat.programs.copy()
    cap = progs["capacity_per_batch"].astype("Int64")
    cap[progs["program_id"] == cl] = 2
    cap[progs["program_id"] == nc] = pd.NA
    progs["capacity_per_batch"] = cap
    hand = replace(world, tables=tables, cat=replace(world.cat, programs=progs))
    plans = {
        a: {"year": YEAR, "items": [{"program_id": cl}, {"program_id": nc}]},
        b: {"year": YEAR, "items": [{"program_id": cl}]},
        d: {"items": [{"program_id": cl}, {"program_id": nc}, {"program_id": cl}]},
    }
    extras = {c: [nc, nc2, nc2], "e_not_in_unit": [nc2]}
    return {
        "world": hand,
        "ids": ids,
        "who": (a, b, c, d),
        "cl": cl,
        "x2": x2,
        "nc": nc,
        "nc2": nc2,
        "plans": plans,
        "extras": extras,
    }


@pytest.fixture(scope="module")
def report(case: dict[str, Any], unit: str) -> NeedsReport:
    return build_needs(
        case["world"], unit, case["plans"], budget=50_000_000, extra_completions=case["extras"]
    )


# ------------------------------------------------------------------------------ unit, people


def test_unit_employees_are_the_direct_active_staff(world: World, unit: str) -> None:
    emp = world.tables["employees"]
    active = (emp["hire_date"] < AT) & (emp["end_date"].isna() | (emp["end_date"] >= AT))
    moves = world.tables["career_moves"]
    moved_later = set(moves.loc[moves["move_date"] >= AT, "employee_id"])
    direct = emp[active & (emp["unit_id"] == unit) & ~emp["employee_id"].isin(moved_later)]
    ids = unit_employees(world, unit)
    assert ids == sorted(ids)
    assert set(direct["employee_id"]) <= set(ids)
    assert set(ids) == set(world.snap.people.index[world.snap.people["unit_id"] == unit])
    # sub-units are not included
    units = world.tables["units"]
    children = set(units.loc[units["parent_id"] == unit, "unit_id"])
    below = world.snap.people.index[world.snap.people["unit_id"].isin(children)]
    assert not set(below) & set(ids)


def test_unknown_unit(world: World) -> None:
    with pytest.raises(UnknownUnitError, match="NO-SUCH-UNIT") as err:
        build_needs(world, "NO-SUCH-UNIT", {}, budget=0)
    assert isinstance(err.value, KeyError)
    with pytest.raises(KeyError):
        unit_employees(world, "NO-SUCH-UNIT")


def test_unit_without_staff(world: World) -> None:
    units = world.tables["units"]["unit_id"]
    empty = sorted(set(units) - set(world.snap.people["unit_id"]))
    assert empty, "the tiny organisation has units without direct staff"
    r = build_needs(world, empty[0], {}, budget=1_000)
    assert r.headcount == 0 and r.rows == [] and r.competencies == []
    assert r.people_with_gap.shape == (0, 0)
    assert r.compliance_realised == r.compliance_planned == r.compliance_previous_year == 0.0
    assert r.total_cost == 0 and r.remaining_budget == 1_000 and not r.over_budget
    assert r.cohorts.empty and r.cohorts.columns[0] == "program_id"
    to_csv(r)
    to_xlsx(r)


# ------------------------------------------------------------------------------ gaps


def _direct_gaps(world: World, unit: str, priority: dict[str, float]) -> pd.DataFrame:
    """Per (employee, competency) of the unit: required, level, weight, from the tables."""
    t = world.tables
    staff = world.snap.people[world.snap.people["unit_id"] == unit]
    ass = t["assessments"]
    ass = ass[(ass["assessed_on"] < AT) & ass["employee_id"].isin(staff.index)]
    last = ass.sort_values("assessed_on").drop_duplicates(
        ["employee_id", "competency_id"], keep="last"
    )
    frame = staff[["position_id"]].rename_axis("employee_id").reset_index()
    req = t["position_requirements"]
    req = req[req["required_level"] > 0]
    m = frame.merge(req, on="position_id").merge(
        last[["employee_id", "competency_id", "level"]],
        on=["employee_id", "competency_id"],
        how="left",
    )
    m["level"] = m["level"].astype(float)
    m["required_level"] = m["required_level"].astype(float)
    m["prio"] = m["competency_id"].map(priority).fillna(0.0)
    m["gap"] = m["level"].notna() & (m["level"] < m["required_level"])
    m["wgap"] = np.where(
        m["gap"], (m["required_level"] - m["level"]) * m["weight"] * (1 + m["prio"]), 0.0
    )
    return m


def _year_priority(world: World, year: int) -> tuple[dict[str, float], int]:
    pr = world.tables["priorities"]
    used = int(pr.loc[pr["year"] <= year, "year"].max())
    return pr[pr["year"] == used].groupby("competency_id")["weight"].max().to_dict(), used


def _matrix(report: NeedsReport, values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        values,
        index=[r[0] for r in report.rows],
        columns=[c for c, _ in report.competencies],
    )


def test_heatmap_counts_match_pandas(world: World, unit: str) -> None:
    prio, used = _year_priority(world, YEAR)
    r = build_needs(world, unit, {}, budget=0)
    m = _direct_gaps(world, unit, prio)
    assert r.priority_year == used
    assert r.headcount == len(unit_employees(world, unit))
    staff = world.snap.people[world.snap.people["unit_id"] == unit]
    assert sum(n for _, _, n in r.rows) == r.headcount
    assert dict((p, n) for p, _, n in r.rows) == staff["position_id"].value_counts().to_dict()
    assert [n for _, _, n in r.rows] == sorted((n for _, _, n in r.rows), reverse=True)
    titles = world.tables["positions"].set_index("position_id")["title"]
    assert all(t == titles[p] for p, t, _ in r.rows)

    gaps = m[m["gap"]]
    expected = gaps.groupby(["position_id", "competency_id"]).size()
    got = _matrix(r, r.people_with_gap).stack()
    got = got[got > 0]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert {c for c, _ in r.competencies} == set(gaps["competency_id"])
    assert r.people_with_gap.sum() > 0, "the unit should have gaps to show"

    wexp = m.groupby(["position_id", "competency_id"])["wgap"].sum()
    wgot = _matrix(r, r.weighted_gap).stack()
    for key, value in wgot.items():
        assert value == pytest.approx(float(wexp.get(key, 0.0)), rel=1e-5, abs=1e-6)
    totals = r.weighted_gap.sum(axis=0)
    assert list(totals) == sorted(totals, reverse=True)
    names = world.tables["competencies"].set_index("competency_id")["name"]
    assert all(n == names[c] for c, n in r.competencies)

    unassessed = m[m["level"].isna()]["employee_id"].nunique()
    assert r.unassessed == unassessed


def test_priority_weighting_and_year_fallback(world: World, unit: str) -> None:
    plain = replace(world, tables={**world.tables, "priorities": world.tables["priorities"][:0]})
    base = build_needs(plain, unit, {}, budget=0)
    assert base.priority_year is None
    # the top competency gets priority 1.0 in 2024 only (and 0.9 in a later year, not used)
    top = base.competencies[0][0]
    second = base.competencies[1][0]
    pr = pd.DataFrame(
        {
            "year": pd.array([2024, 2024, 2024, 2027], dtype="Int64"),
            "theme": ["RB", "DIGITAL", "RB", "RB"],
            "competency_id": [top, top, second, second],
            "weight": [0.3, 1.0, 0.5, 0.9],
        }
    )
    weighted = build_needs(
        replace(world, tables={**world.tables, "priorities": pr}), unit, {}, budget=0
    )
    assert weighted.priority_year == 2024
    b = _matrix(base, base.weighted_gap)
    w = _matrix(weighted, weighted.weighted_gap)
    # max over themes: x (1 + 1.0) on top, x (1 + 0.5) on second, others unchanged
    np.testing.assert_allclose(w[top], 2.0 * b[top])
    np.testing.assert_allclose(w[second], 1.5 * b[second])
    others = [c for c in b.columns if c not in (top, second)]
    np.testing.assert_allclose(w[others], b[others])
    np.testing.assert_array_equal(
        _matrix(weighted, weighted.people_with_gap)[b.columns].to_numpy(),
        _matrix(base, base.people_with_gap).to_numpy(),
    )


# ------------------------------------------------------------------------------ plans


def test_cohorts_from_plans(report: NeedsReport, case: dict[str, Any]) -> None:
    w, cl, nc = case["world"], case["cl"], case["nc"]
    co = report.cohorts.set_index("program_id")
    assert list(report.cohorts["program_id"]) == [cl, nc]  # 3 participants, then 2
    assert co.loc[cl, "participants"] == 3 and co.loc[nc, "participants"] == 2
    assert co.loc[cl, "batches"] == 2  # capacity 2 -> ceil(3 / 2)
    assert co.loc[nc, "batches"] == math.ceil(2 / DEFAULT_CAPACITY) == 1
    assert co.loc[cl, "jp"] == _jp(w, cl) and co.loc[cl, "jp_total"] == 3 * _jp(w, cl)
    assert co.loc[nc, "cost_total"] == 2 * _cost(w, nc)
    assert bool(co.loc[cl, "classical"]) and not bool(co.loc[nc, "classical"])
    total_cost = 3 * _cost(w, cl) + 2 * _cost(w, nc)
    total_jp = 3 * _jp(w, cl) + 2 * _jp(w, nc)
    assert report.total_cost == total_cost
    assert report.total_jp == total_jp
    assert report.total_participants == 5
    assert report.remaining_budget == 50_000_000 - total_cost
    assert report.over_budget == (total_cost > 50_000_000)
    assert report.non_classical_share_planned == pytest.approx(2 * _jp(w, nc) / total_jp)
    assert report.employees["jp_planned"].sum() == total_jp


def test_over_budget(case: dict[str, Any], unit: str) -> None:
    r = build_needs(case["world"], unit, case["plans"], budget=1.0)
    assert r.over_budget and r.remaining_budget == 1.0 - r.total_cost < 0
    r0 = build_needs(case["world"], unit, case["plans"], budget=r.total_cost)
    assert not r0.over_budget and r0.remaining_budget == 0


def test_realised_and_compliance(report: NeedsReport, case: dict[str, Any]) -> None:
    w = case["world"]
    a, b, c, d = case["who"]
    cl, nc, nc2 = case["cl"], case["nc"], case["nc2"]
    emp = report.employees.set_index("employee_id")
    assert emp.loc[a, "jp_realised"] == 12 < MIN_JP_PER_YEAR
    assert emp.loc[a, "jp_planned"] == _jp(w, cl) + _jp(w, nc)
    assert emp.loc[a, "meets_20_planned"]  # crosses 20 only with the plan
    assert emp.loc[b, "jp_realised"] == 0  # no credit, a failure, a completion after the date
    assert emp.loc[b, "jp_planned"] == _jp(w, cl)
    assert emp.loc[b, "meets_20_planned"] == (_jp(w, cl) >= MIN_JP_PER_YEAR)
    # nc from the HR record (25 credited, not the catalogue JP), nc2 once from the LMS
    assert emp.loc[c, "jp_realised"] == 25 + _jp(w, nc2)
    assert emp.loc[d, "jp_planned"] == _jp(w, cl) + _jp(w, nc)  # cl counted once
    assert report.jp_realised[c] == 25 + _jp(w, nc2)

    # everyone else: completed enrolments of 2026 before the date, from the tables
    enr = w.tables["enrollments"]
    done = enr[
        (enr["status"] == "completed")
        & (enr["end_date"].dt.year == YEAR)
        & (enr["end_date"] < AT)
        & enr["employee_id"].isin(case["ids"])
    ]
    direct = done.groupby("employee_id")["jp_credited"].sum().reindex(case["ids"], fill_value=0)
    direct[c] += _jp(w, nc2)
    assert emp["jp_realised"].to_dict() == direct.astype(int).to_dict()
    n = len(case["ids"])
    assert report.compliance_realised == pytest.approx((direct >= 20).sum() / n)
    planned = emp["jp_realised"] + emp["jp_planned"]
    assert report.compliance_planned == pytest.approx((planned >= 20).sum() / n)
    assert report.compliance_planned > report.compliance_realised

    prev = enr[
        (enr["status"] == "completed")
        & (enr["end_date"].dt.year == YEAR - 1)
        & enr["employee_id"].isin(case["ids"])
    ]
    prev_jp = prev.groupby("employee_id")["jp_credited"].sum().reindex(case["ids"], fill_value=0)
    assert 0 < report.compliance_previous_year < 1
    assert report.compliance_previous_year == pytest.approx((prev_jp >= 20).sum() / n)
    assert emp["jp_previous_year"].to_dict() == prev_jp.astype(int).to_dict()

    classical = w.cat.programs.set_index("program_id")["classical"].astype(bool)
    nc_jp = done.loc[~done["program_id"].map(classical).to_numpy(), "jp_credited"].sum()
    nc_jp += _jp(w, nc2)
    assert report.non_classical_share_realised == pytest.approx(nc_jp / direct.sum())


def test_extra_completions_not_double_counted(case: dict[str, Any], unit: str) -> None:
    a, _, c, _ = case["who"]
    w, nc, nc2, x2 = case["world"], case["nc"], case["nc2"], case["x2"]
    without = build_needs(w, unit, case["plans"], budget=0).employees.set_index("employee_id")
    assert without.loc[c, "jp_realised"] == 25
    with_extra = build_needs(
        w, unit, case["plans"], budget=0, extra_completions={c: [nc], a: x2}
    ).employees.set_index("employee_id")
    # both already in the HR record this year: nothing added (a bare id is one programme)
    assert with_extra.loc[c, "jp_realised"] == 25
    assert with_extra.loc[a, "jp_realised"] == 12
    more = build_needs(
        w, unit, case["plans"], budget=0, extra_completions={c: (nc2, nc2, "UNKNOWN")}
    ).employees.set_index("employee_id")
    assert more.loc[c, "jp_realised"] == 25 + _jp(w, nc2)


def test_bad_plans(case: dict[str, Any], unit: str) -> None:
    w, cl = case["world"], case["cl"]
    a = case["who"][0]
    with pytest.raises(ValueError, match="not direct staff"):
        build_needs(w, unit, {"e_someone_else": {"items": []}}, budget=0)
    with pytest.raises(ValueError, match="2025"):
        build_needs(w, unit, {a: {"year": 2025, "items": [{"program_id": cl}]}}, budget=0)
    with pytest.raises(ValueError, match="unknown programme"):
        build_needs(w, unit, {a: {"items": [{"program_id": "NOPE"}]}}, budget=0)
    with pytest.raises(ValueError, match="budget"):
        build_needs(w, unit, {}, budget=-1)


def test_real_plan_dict(world: World, unit: str) -> None:
    """A plan as the service builds it (``plan_for(...).to_dict()``) is read as is."""
    from recommender.plans import plan_for

    who = unit_employees(world, unit)[0]
    plan = plan_for(world.snap, world.cat, world.tables["sessions"], who, YEAR, 10_000_000)
    answer = {"year": YEAR, **plan.to_dict()}
    r = build_needs(world, unit, {who: answer}, budget=10_000_000)
    assert r.total_jp == plan.total_jp
    assert r.total_cost == pytest.approx(plan.total_cost)
    assert r.total_participants == len(plan.items)


def test_default_budget() -> None:
    assert DEFAULT_BUDGET_PER_EMPLOYEE == 6_000_000
    assert default_budget(10) == 60_000_000
    assert default_budget(3, per_employee=1_000) == 3_000
    with pytest.raises(ValueError):
        default_budget(-1)


# ------------------------------------------------------------------------------ exports


def _csv_blocks(text: str) -> tuple[list[list[str]], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    blank = rows.index([])
    return rows[:blank], rows[blank + 1 :]


def test_csv_total_row_and_summary(report: NeedsReport, case: dict[str, Any]) -> None:
    table, summary = _csv_blocks(to_csv(report))
    header, body, total = table[0], table[1:-1], table[-1]
    assert header[:3] == ["ID program", "Judul program", "Modalitas"]
    assert "Peserta" in header and "Jumlah biaya (Rp)" in header
    assert [row[0] for row in body] == list(report.cohorts["program_id"])
    assert total[0] == "JUMLAH"
    assert int(total[header.index("Peserta")]) == report.total_participants == 5
    assert int(total[header.index("Jumlah JP")]) == report.total_jp
    assert float(total[header.index("Jumlah biaya (Rp)")]) == report.total_cost
    assert body[0][header.index("Klasikal")] == "ya"
    assert sum(int(row[header.index("Peserta")]) for row in body) == report.total_participants
    assert summary[0] == ["Ukuran", "Nilai"]
    values = dict((label, value) for label, value in summary[1:])
    assert values["ID unit"] == report.unit_id
    assert int(values["Jumlah pegawai"]) == report.headcount
    assert float(values["Anggaran (Rp)"]) == report.budget
    assert float(values["Sisa anggaran (Rp)"]) == report.remaining_budget
    assert float(values["Pegawai >= 20 JP (realisasi + rencana)"]) == pytest.approx(
        report.compliance_planned, abs=1e-6
    )
    assert values["Melebihi anggaran"] == "tidak"


def test_csv_english(report: NeedsReport) -> None:
    table, summary = _csv_blocks(to_csv(report, "en"))
    assert table[0][0] == "Programme ID" and "Participants" in table[0]
    assert table[-1][0] == "TOTAL"
    assert summary[0] == ["Figure", "Value"]
    assert int(dict((a, b) for a, b in summary[1:])["Headcount"]) == report.headcount
    with pytest.raises(ValueError):
        to_csv(report, "fr")


def _sheet_rows(ws: Any) -> list[tuple[Any, ...]]:
    return [r for r in ws.iter_rows(values_only=True)]


def test_xlsx_indonesian(report: NeedsReport) -> None:
    wb = load_workbook(io.BytesIO(to_xlsx(report)))
    assert wb.sheetnames == ["Ringkasan", "Kohort", "Kesenjangan", "Pegawai"]
    rows = _sheet_rows(wb["Kohort"])
    header, total = list(rows[0]), rows[-1]
    assert header[0] == "ID program" and total[0] == "JUMLAH"
    assert total[header.index("Peserta")] == report.total_participants
    assert total[header.index("Jumlah JP")] == report.total_jp
    assert total[header.index("Jumlah biaya (Rp)")] == report.total_cost
    assert isinstance(total[header.index("Jumlah biaya (Rp)")], int | float)
    assert rows[1][header.index("Klasikal")] is True

    summary = {r[0]: r[1] for r in _sheet_rows(wb["Ringkasan"])[1:]}
    assert summary["ID unit"] == report.unit_id
    assert summary["Jumlah pegawai"] == report.headcount
    assert summary["Anggaran (Rp)"] == report.budget
    assert summary["Jumlah biaya (Rp)"] == report.total_cost
    assert summary["Sisa anggaran (Rp)"] == report.remaining_budget
    assert summary["Jumlah JP direncanakan"] == report.total_jp
    # shares: Excel keeps 15 significant digits
    shares = {
        "Pegawai >= 20 JP terealisasi": report.compliance_realised,
        "Pegawai >= 20 JP tahun lalu": report.compliance_previous_year,
        "Pegawai >= 20 JP (realisasi + rencana)": report.compliance_planned,
        "Porsi JP nonklasikal (rencana)": report.non_classical_share_planned,
        "Porsi JP nonklasikal (realisasi)": report.non_classical_share_realised,
    }
    for label, share in shares.items():
        assert summary[label] == pytest.approx(share, rel=1e-12, abs=1e-15)
    assert 0 < report.non_classical_share_planned < 1

    gaps = _sheet_rows(wb["Kesenjangan"])
    k = len(report.competencies)
    assert list(gaps[1][3 : 3 + k]) == [c for c, _ in report.competencies]
    assert list(gaps[2][3 : 3 + k]) == [n for _, n in report.competencies]
    matrix = [list(r[3 : 3 + k]) for r in gaps[3 : 3 + len(report.rows)]]
    assert matrix == report.people_with_gap.tolist()
    start = 3 + len(report.rows) + 1  # second block: title, header, names, rows
    weighted = [list(r[3 : 3 + k]) for r in gaps[start + 3 : start + 3 + len(report.rows)]]
    np.testing.assert_allclose(np.array(weighted, dtype=float), report.weighted_gap)

    emp = _sheet_rows(wb["Pegawai"])
    assert emp[0][0] == "ID pegawai (pseudonim)"
    assert [r[0] for r in emp[1:]] == list(report.employees["employee_id"])
    assert [r[4] for r in emp[1:]] == list(report.employees["jp_realised"])


def test_xlsx_english(report: NeedsReport) -> None:
    wb = load_workbook(io.BytesIO(to_xlsx(report, "en")))
    assert wb.sheetnames == ["Summary", "Cohorts", "Gaps", "Employees"]
    rows = _sheet_rows(wb["Cohorts"])
    assert rows[0][0] == "Programme ID" and rows[-1][0] == "TOTAL"
    assert rows[-1][list(rows[0]).index("Participants")] == report.total_participants
    summary = {r[0]: r[1] for r in _sheet_rows(wb["Summary"])[1:]}
    assert summary["Headcount"] == report.headcount
    assert summary["Total cost (IDR)"] == report.total_cost


def test_xlsx_gaps_sheet_guards_formulas(report: NeedsReport) -> None:
    """Position and competency texts starting with = + - @ are written as text in the gaps
    sheet, as in the other sheets (issue 22: a spreadsheet must not run them)."""
    formulas = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]
    k = len(report.competencies)
    competencies = [(formulas[i % 4], formulas[(i + 1) % 4]) for i in range(k)]
    rows = [(formulas[i % 4], formulas[(i + 2) % 4], n) for i, (_, _, n) in enumerate(report.rows)]
    hostile = replace(report, competencies=competencies, rows=rows)
    wb = load_workbook(io.BytesIO(to_xlsx(hostile)))
    ws = wb["Kesenjangan"]
    texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    written = {c.value for c in texts}
    assert all(c.data_type != "f" for c in texts), "no cell is a formula"
    assert {"'" + f for f in formulas} <= written
    assert not written & set(formulas), "every formula-like text carries the apostrophe"


def test_no_names_or_nips_in_exports(
    report: NeedsReport, case: dict[str, Any], tiny_raw: Path
) -> None:
    raw = pd.read_parquet(tiny_raw / "employees.parquet")
    clean = case["world"].tables["employees"]
    names = set(clean.loc[clean["employee_id"].isin(case["ids"]), "name"].astype(str))
    nips = set(raw["nip"].astype(str))
    text = to_csv(report) + to_csv(report, "en")
    assert names and not any(name in text for name in names)
    assert not any(nip in text for nip in nips)
    wb = load_workbook(io.BytesIO(to_xlsx(report)))
    cells = {str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row}
    assert not cells & names and not cells & nips
    assert "name" not in report.employees.columns
    assert set(report.employees["employee_id"]) == set(case["ids"])


def test_jp_realised_function(report: NeedsReport, case: dict[str, Any]) -> None:
    """The per-person figure the unit page shows is the report's."""
    from recommender.reports import jp_realised

    ids = case["ids"]
    got = jp_realised(case["world"], [*ids, ids[0]], extra_completions=case["extras"])
    assert list(got.index) == ids
    assert got.to_dict() == report.jp_realised.to_dict()
    c = case["who"][2]
    assert jp_realised(case["world"], [c])[c] == 25  # without the LMS completions
    assert jp_realised(case["world"], ["e_unknown"]).to_dict() == {"e_unknown": 0}
