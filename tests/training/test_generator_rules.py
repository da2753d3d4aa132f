"""One set of rules for the generator and the verdict (issue 17, part 2): the generator moves
people under ``pola_karier.yaml``'s conditions as the 1 January verdict sees them, so the
actual upward moves of a year are called eligible (now or within 12 months) by the verdict; JF
tier promotions follow the credit points (domain.md 2.4: about 8 / 8 / 12 years in tier at a
Baik rating); nobody moves into a post beyond its formasi."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.careers.features import build_context
from recommender.careers.rules import load_rules
from recommender.data.io import load_clean
from recommender.programs.catalog import build_catalog
from recommender.snapshot import build_snapshot
from tests.conftest import TEST_KEY
from training.careers_eval import people_year, verdict_validity
from training.ingest import ingest
from training.synthetic.generate import generate

Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    """Clean tables of a 2,000-employee organisation (seed 7)."""
    root = tmp_path_factory.mktemp("rules_org")
    generate(2000, 7, root / "raw", workers=1)
    ingest(root / "raw", root / "clean", TEST_KEY)
    return load_clean(root / "clean")


@pytest.mark.slow
@pytest.mark.parametrize("year", [2023, 2025])
def test_actual_upward_moves_are_called_eligible(tables: Tables, year: int) -> None:
    snap = build_snapshot(tables, pd.Timestamp(f"{year}-01-01"))
    ctx = build_context(tables, snap, build_catalog(tables), load_rules())
    figures = verdict_validity(
        year=people_year(tables=tables, ctx=ctx, scorer=lambda f: np.zeros(len(f)))
    )
    assert figures["verdict_upward_moves"] >= 20
    assert figures["verdict_recall_12m"] >= 0.9, figures
    blocked = figures["verdict_missed_12m_blocked_by"]
    assert blocked["vacancy"] == 0 and blocked["training"] == 0, blocked


def test_jf_tier_time_follows_credit_points(tables: Tables) -> None:
    moves = tables["career_moves"]
    hist = tables["position_history"].sort_values(["employee_id", "start_date"], kind="stable")
    hist["prev_start"] = hist.groupby("employee_id")["start_date"].shift()
    tier = tables["positions"].set_index("position_id")["tier"]
    jf = moves[moves["move_type"] == "jf_tier"].merge(
        hist,
        left_on=["employee_id", "move_date", "to_position_id"],
        right_on=["employee_id", "start_date", "position_id"],
    )
    years = (jf["move_date"] - jf["prev_start"]).dt.days / 365.25
    by_tier = years.groupby(jf["from_position_id"].map(tier)).median()
    assert len(jf) >= 10
    # 100 points at 12.5 a year (Baik) = 8 years; Sangat Baik (x1.5) at best 5.3 years
    assert by_tier["ahli_pertama"] >= 5.3, by_tier
    assert years.min() >= 3.0


def test_no_post_beyond_its_formasi_after_the_equalisation(tables: Tables) -> None:
    formasi = tables["positions"].set_index("position_id")["formasi"]
    for year in (2022, 2024, 2026):
        people = build_snapshot(tables, pd.Timestamp(f"{year}-01-01")).people
        holders = people["position_id"].value_counts()
        jf = holders[holders.index.str.startswith("JF-")]
        over = jf[jf > formasi.reindex(jf.index)]
        assert over.empty, (year, over.head())


def test_deterministic_career_tables(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate(300, 3, tmp_path / name, workers=1)
    for table in ("career_moves", "position_history"):
        a = pd.read_parquet(tmp_path / "a" / f"{table}.parquet")
        b = pd.read_parquet(tmp_path / "b" / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("year", [2021, 2026])
def test_golongan_and_age_mix_near_domain(tables: Tables, year: int) -> None:
    """domain.md: golongan II about 16 % of PNS; 1.30 of 3.80 million aged 51-60 (34 %)."""
    people = build_snapshot(tables, pd.Timestamp(f"{year}-01-01")).people
    golongan = people["grade"].str.split("/").str[0].value_counts(normalize=True)
    assert 0.12 <= golongan.get("II", 0.0) <= 0.20, golongan.to_dict()
    old = people["age"].between(51, 60).mean()
    assert 0.28 <= old <= 0.40, old


def test_managerial_share_near_national(tables: Tables) -> None:
    """domain.md 2.1: structural staff about 11 % (Dec 2021); posts under a unit's head scale
    with the unit (world.MANAGERIAL_RATE), so the share holds at any size once the posts emptied
    by the 2020 equalisation are filled again."""
    tier = tables["positions"].set_index("position_id")["tier"]
    managerial = {"pengawas", "administrator", "jpt_pratama", "jpt_madya", "jpt_utama"}
    people = build_snapshot(tables, pd.Timestamp("2026-01-01")).people
    share = people["position_id"].map(tier).isin(managerial).mean()
    assert 0.07 <= share <= 0.16, share
