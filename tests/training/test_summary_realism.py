"""``jenjang summary`` figures against domain.md (issue 17): managerial share, golongan mix, ages
and JF time in tier, each recomputed here person by person from the tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.data.io import load_clean
from training.summary_realism import (
    AGE_BINS,
    GOLONGAN,
    MANAGERIAL,
    realism,
    report_dates,
    tier_years,
)

NEXT_TIER = {"ahli_pertama": "ahli_muda", "ahli_muda": "ahli_madya", "ahli_madya": "ahli_utama"}


def _by_hand(tables: dict[str, pd.DataFrame], when: pd.Timestamp) -> dict[str, float]:
    """The same figures, one person at a time, without the module's helpers."""
    family = dict(
        zip(tables["positions"]["position_id"], tables["positions"]["family"], strict=True)
    )
    posts: dict[str, list[tuple[pd.Timestamp, str]]] = {}
    for row in tables["position_history"].itertuples():
        posts.setdefault(row.employee_id, []).append((row.start_date, row.position_id))
    ranks: dict[str, list[tuple[pd.Timestamp, str, str]]] = {}
    for row in tables["rank_history"].itertuples():
        ranks.setdefault(row.employee_id, []).append(
            (row.effective_date, row.from_grade, row.to_grade)
        )
    tier = dict(zip(tables["positions"]["position_id"], tables["positions"]["tier"], strict=True))
    in_tier: dict[str, list[float]] = {t: [] for t in NEXT_TIER}
    n = managerial = 0
    gol = dict.fromkeys(GOLONGAN, 0)
    ages = dict.fromkeys(AGE_BINS, 0)
    for e in tables["employees"].itertuples():
        if e.hire_date > when or (pd.notna(e.end_date) and e.end_date <= when):
            continue
        n += 1
        seq = [(d, p) for d, p in sorted(posts.get(e.employee_id, [])) if d <= when]
        held = [p for _, p in seq]
        if seq and tier[seq[-1][1]] in NEXT_TIER:
            start = seq[-1][0]
            for d, p in reversed(seq):
                if tier[p] != tier[seq[-1][1]]:
                    break
                start = d
            in_tier[tier[seq[-1][1]]].append((when - start).days / 365.25)
        managerial += bool(held) and family[held[-1]] in MANAGERIAL
        grade = e.grade
        for d, before, after in sorted(ranks.get(e.employee_id, []), reverse=True):
            grade = after if d <= when else before
            if d <= when:
                break
        gol[grade.split("/")[0]] += 1
        for lo, hi in AGE_BINS:
            ages[(lo, hi)] += lo <= when.year - e.birth_year <= hi
    out = {"active": float(n), "managerial": managerial / n}
    out.update({f"golongan_{g}": c / n for g, c in gol.items()})
    out.update({f"age_{lo}_{hi}": c / n for (lo, hi), c in ages.items()})
    out.update(
        {f"holder_years_{t}": float(pd.Series(v, dtype=float).median()) for t, v in in_tier.items()}
    )
    return out


def _tier_years_by_hand(tables: dict[str, pd.DataFrame]) -> dict[str, list[float]]:
    tier = dict(zip(tables["positions"]["position_id"], tables["positions"]["tier"], strict=True))
    years: dict[str, list[float]] = {t: [] for t in NEXT_TIER}
    for _, rows in tables["position_history"].groupby("employee_id"):
        seq = [
            (d, tier[p])
            for d, p in sorted(zip(rows["start_date"], rows["position_id"], strict=True))
        ]
        entered = None
        for i, (d, t) in enumerate(seq):
            if i == 0 or seq[i - 1][1] != t:
                if entered is not None and NEXT_TIER.get(entered[1]) == t:
                    years[entered[1]].append((d - entered[0]).days / 365.25)
                entered = (d, t)
    return years


@pytest.fixture(scope="module")
def tiny(tiny_clean: Path) -> dict[str, pd.DataFrame]:
    return load_clean(tiny_clean)


def test_figures_match_a_person_by_person_count(tiny: dict[str, pd.DataFrame]) -> None:
    result = realism(tiny)
    dates = report_dates(tiny)
    assert len(dates) == 2 and all(
        pd.Timestamp(d) <= pd.Timestamp("2026-01-01") for d in dates.values()
    )
    for label, when in dates.items():
        expected = _by_hand(tiny, when)
        got = result["dates"][label]  # type: ignore[index]
        assert got == pytest.approx(expected, nan_ok=True), label
    # on the export date the active set is the one the export marks active
    export = list(dates.values())[-1]
    active = (tiny["employees"]["status"] == "active").sum()
    assert result["dates"][list(dates)[-1]]["active"] == active, export  # type: ignore[index]
    _check_tier_years(tiny)


def _check_tier_years(tables: dict[str, pd.DataFrame]) -> int:
    by_hand = _tier_years_by_hand(tables)
    medians, counts, source = tier_years(tables)
    assert source == "position_history"
    for t, values in by_hand.items():
        assert counts[f"tier_years_{t}"] == len(values)
        if values:
            assert medians[f"tier_years_{t}"] == pytest.approx(pd.Series(values).median())
    return sum(counts.values())


def test_hand_made_history() -> None:
    """Two runs at ahli pertama (a move between units at the same tier keeps the run), then
    ahli muda after 8 years; a grade on a date before any rank change is the first from_grade."""
    positions = pd.DataFrame(
        {
            "position_id": ["P1", "P1b", "M1", "S1"],
            "family": ["fungsional", "fungsional", "fungsional", "pengawas"],
            "tier": ["ahli_pertama", "ahli_pertama", "ahli_muda", "pengawas"],
        }
    )
    d = pd.Timestamp
    history = pd.DataFrame(
        {
            "employee_id": ["a", "a", "a", "b"],
            "position_id": ["P1", "P1b", "M1", "S1"],
            "start_date": [d("2010-01-01"), d("2014-01-01"), d("2018-01-01"), d("2012-01-01")],
        }
    )
    employees = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "grade": ["III/c", "III/b"],
            "birth_year": [1970, 1990],
            "hire_date": [d("2010-01-01"), d("2012-01-01")],
            "end_date": [pd.NaT, pd.NaT],
            "status": ["active", "active"],
        }
    )
    ranks = pd.DataFrame(
        {
            "employee_id": ["a"],
            "from_grade": ["II/d"],
            "to_grade": ["III/c"],
            "effective_date": [d("2019-04-01")],
        }
    )
    moves = pd.DataFrame(columns=["employee_id", "move_date"])
    tables = {
        "positions": positions,
        "position_history": history,
        "employees": employees,
        "rank_history": ranks,
        "career_moves": moves,
    }
    medians, counts, _ = tier_years(tables)
    assert counts["tier_years_ahli_pertama"] == 1
    assert medians["tier_years_ahli_pertama"] == pytest.approx(8.0, abs=0.01)
    result = realism(tables)
    # last history year 2018 (the last post start); export = the last dated event (rank change)
    assert list(result["dates"]) == ["1 Jan 2018", "export 2019-04-01"]  # type: ignore[call-overload]
    jan = result["dates"]["1 Jan 2018"]  # type: ignore[index]
    assert result["dates"]["export 2019-04-01"]["golongan_III"] == 1.0  # type: ignore[index]
    assert jan["managerial"] == 0.5 and jan["golongan_II"] == 0.5 and jan["golongan_III"] == 0.5
    assert jan["age_41_50"] == 0.5 and jan["age_18_30"] == 0.5
    assert result["in_range"]["jf"]["tier_years_ahli_pertama"] is True  # type: ignore[index]


def test_falls_back_to_career_moves(tiny: dict[str, pd.DataFrame]) -> None:
    without = {k: v for k, v in tiny.items() if k != "position_history"}
    result = realism(without)
    assert result["jf_source"] == "career_moves"
    for figures in result["dates"].values():  # type: ignore[attr-defined]
        assert 0 <= figures["managerial"] <= 1


def test_cli_prints_the_figures_and_json(tiny_clean: Path) -> None:
    from training.cli import app

    text = CliRunner().invoke(app, ["summary", "--data", str(tiny_clean)])
    assert text.exit_code == 0, text.output
    assert "Against domain.md" in text.output and "golongan_I " in text.output
    out = CliRunner().invoke(app, ["summary", "--data", str(tiny_clean), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) == {"stats", "realism"}
    assert data["realism"]["targets"]["managerial"]["low"] == 0.07


@pytest.fixture(scope="module")
def demo_2000(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Clean tables of a generated 2,000-employee organisation (seed 7)."""
    from tests.conftest import TEST_KEY
    from training.ingest import ingest
    from training.synthetic.generate import generate

    root = tmp_path_factory.mktemp("summary2000")
    generate(2000, 7, root / "raw")
    ingest(root / "raw", root / "clean", TEST_KEY)
    return load_clean(root / "clean")


def test_tier_years_match_a_person_by_person_count(demo_2000: dict[str, pd.DataFrame]) -> None:
    """The tiny organisation has no JF tier promotion: check the median on 2,000 people."""
    assert _check_tier_years(demo_2000) > 0
    assert realism(demo_2000)["dates"]  # type: ignore[index]


def test_generated_organisation_is_in_the_documented_ranges(
    demo_2000: dict[str, pd.DataFrame],
) -> None:
    result = realism(demo_2000)
    flags: dict[str, dict[str, bool]] = result["in_range"]  # type: ignore[assignment]
    for label, ok in flags.items():
        if label == "jf":
            continue
        for key in (
            "managerial",
            "golongan_I",
            "golongan_II",
            "golongan_III",
            "golongan_IV",
            "age_51_60",
        ):
            assert ok[key], (label, key, result["dates"][label][key])  # type: ignore[index]
    for key in ("tier_years_ahli_pertama", "tier_years_ahli_muda", "tier_years_ahli_madya"):
        assert flags["jf"][key], (key, result["jf_tier_years"])
