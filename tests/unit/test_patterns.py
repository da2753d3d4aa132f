"""Reasons from career patterns on small hand-counted histories (min_count 5, min_cell 2)."""

from __future__ import annotations

import pandas as pd
import pytest

from recommender.careers.patterns import (
    INTO,
    POSITION,
    TIER,
    PatternTable,
    move_patterns,
    pattern_counts,
    patterns_from,
    reasons_for,
    tenure_for,
)

AT = pd.Timestamp("2024-01-01")
POSITIONS = pd.DataFrame(
    {
        "position_id": ["PL-1", "PW-A", "PW-B", "AD-X", "AD-Y", "JF-M"],
        "tier": [
            "pelaksana",
            "pengawas",
            "pengawas",
            "administrator",
            "administrator",
            "ahli_muda",
        ],
        "title": ["Pelaksana 1", "Pengawas A", "Pengawas B", "Admin X", "Admin Y", "Analis Muda"],
    }
)
TITLES = {f"C{i}": f"Pelatihan C{i}" for i in range(1, 8)}
E = [f"e{i}" for i in range(1, 7)]  # moved PW-A -> AD-X on 2022-01-01
F = ["f1", "f2", "f3"]  # moved PW-B -> AD-Y on 2022-01-01 (too few for the position pair)
Q = [f"q{i}" for i in range(1, 7)]  # equalised PW-A -> JF-M on 2021-01-01


def _moves() -> pd.DataFrame:
    rows = [(e, "PL-1", "PW-A", "2019-01-01", "vertical") for e in E]  # 3 years in PW-A
    rows += [(e, "PW-A", "AD-X", "2022-01-01", "vertical") for e in E]
    rows += [("e1", "AD-X", "PW-A", "2022-06-01", "vertical")]
    rows += [("e1", "PW-A", "AD-X", "2023-06-01", "vertical")]  # same pair again: counts once
    rows += [(f, "PW-B", "AD-Y", "2022-01-01", "vertical") for f in F]
    rows += [("g1", "PW-A", "AD-X", "2024-06-01", "vertical")]  # after AT: not counted
    rows += [(q, "PW-A", "JF-M", "2021-01-01", "equalisation") for q in Q]
    cols = ["employee_id", "from_position_id", "to_position_id", "move_date", "move_type"]
    return pd.DataFrame(rows, columns=cols).assign(move_date=lambda d: pd.to_datetime(d.move_date))


def _enrollments() -> pd.DataFrame:
    done, before, after = "completed", "2021-06-01", "2022-03-01"
    rows = [(e, "C1", before, done) for e in E[:4]]  # 4 of 6
    rows += [("e1", "C1", "2020-01-01", done)]  # twice: counts once
    rows += [(e, "C2", before, done) for e in E[:5]]  # 5 of 6: one non-completer -> hidden
    rows += [(e, "C3", before, done) for e in E]  # 6 of 6
    rows += [("e1", "C4", before, done)]  # 1 of 6 -> hidden
    rows += [(e, "C5", before, done) for e in E[:2]]  # 2 before the move ...
    rows += [(e, "C5", after, done) for e in E[2:4]]  # ... 2 after it: 2 of 6
    rows += [(e, "C6", before, "failed") for e in E[:4]]  # not completed
    rows += [(f, "C1", "2021-01-01", done) for f in F[:2]]
    rows += [(q, "C7", "2020-01-01", done) for q in Q]
    rows += [("g1", "C1", "2023-01-01", done)]
    frame = pd.DataFrame(rows, columns=["employee_id", "program_id", "end_date", "status"])
    return frame.assign(end_date=lambda d: pd.to_datetime(d.end_date))


def _programs(table: PatternTable, level: str, pair: tuple[str, str]) -> pd.DataFrame:
    p = table.programs
    return p[(p.level == level) & (p.from_id == pair[0]) & (p.to_id == pair[1])]


def test_counts_and_shares_for_a_position_pair() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    progs = _programs(table, POSITION, ("PW-A", "AD-X"))
    # C1 4/6, C3 6/6, C5 2/6 (the two that ended after the move do not count); C2 5/6 is hidden
    # (one non-completer), C4 1/6 is hidden (one completer), C6 was failed, not completed.
    assert dict(zip(progs.program_id, progs.completers, strict=True)) == {"C1": 4, "C3": 6, "C5": 2}
    assert set(progs.n_moves) == {6}  # e1's second move and g1's move after AT do not count
    head = "Of 6 officers who moved from Pengawas A to Admin X,"
    assert reasons_for(table, "PW-A", "AD-X", TITLES) == [
        f"{head} 100 % had first completed Pelatihan C3.",
        f"{head} 67 % had first completed Pelatihan C1.",
        f"{head} 33 % had first completed Pelatihan C5.",
    ]
    assert len(reasons_for(table, "PW-A", "AD-X", TITLES, top=1)) == 1


def test_rare_position_pair_falls_back_to_the_tier_pair() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    assert table.pairs.query("from_id == 'PW-B'").empty  # 3 officers < min_count 5
    # pengawas -> administrator: e1-e6 and f1-f3 = 9. C1: e1-e4, f1, f2 = 6 (67 %); C3: e1-e6
    # = 6 (67 %); C2: e1-e5 = 5 (56 %, 4 did not: shown); C5 2 (22 %); C4 1: hidden.
    tier = _programs(table, TIER, ("pengawas", "administrator"))
    assert dict(zip(tier.program_id, tier.completers, strict=True)) == {
        "C1": 6,
        "C2": 5,
        "C3": 6,
        "C5": 2,
    }
    assert reasons_for(table, "PW-B", "AD-Y", TITLES, top=2) == [
        "Of 9 officers who moved from pengawas to administrator, 67 % had first completed "
        "Pelatihan C1.",
        "Of 9 officers who moved from pengawas to administrator, 67 % had first completed "
        "Pelatihan C3.",
    ]


def test_min_count_suppresses_pairs() -> None:
    # min_count 7: PW-A -> AD-X (6) is hidden, the tier pair (9) is used instead.
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=7, min_cell=2)
    assert reasons_for(table, "PW-A", "AD-X", TITLES)[0].startswith(
        "Of 9 officers who moved from pengawas to administrator"
    )
    # min_count 10: nothing is shown at all.
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=10, min_cell=2)
    assert table.pairs.empty and table.programs.empty
    assert reasons_for(table, "PW-A", "AD-X", TITLES) == []


def test_min_cell_suppresses_small_groups_on_both_sides() -> None:
    # min_cell 3: C5 (2 of 6) goes; C1 (4 of 6, 2 did not) goes too; C3 (6 of 6) stays.
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=3)
    progs = _programs(table, POSITION, ("PW-A", "AD-X"))
    assert list(progs.program_id) == ["C3"]
    assert (table.programs.completers >= 3).all()
    rest = table.programs.n_moves - table.programs.completers
    assert ((rest == 0) | (rest >= 3)).all()


def test_point_in_time() -> None:
    # At 2022-01-01 the PW-A -> AD-X moves (dated that day) are not yet history.
    early = move_patterns(
        _moves(), _enrollments(), POSITIONS, pd.Timestamp("2022-01-01"), min_count=5, min_cell=2
    )
    assert early.pairs.query("to_id == 'AD-X' or to_id == 'administrator'").empty
    assert reasons_for(early, "PW-A", "AD-X", TITLES) == []
    # Completions that end on or after AT do not count even for moves before it.
    late = _enrollments().assign(end_date=pd.Timestamp("2024-02-01"))
    table = move_patterns(_moves(), late, POSITIONS, AT, min_count=5, min_cell=2)
    assert table.programs.empty and not table.pairs.empty


def test_lookback_keeps_recent_moves_only() -> None:
    # One year back from 2024-01-01 leaves e1's 2023-06-01 move only: below min_count.
    table = move_patterns(
        _moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2, lookback_years=1
    )
    assert table.pairs.empty
    table = move_patterns(
        _moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2, lookback_years=5
    )
    assert len(reasons_for(table, "PW-A", "AD-X", TITLES)) == 3


def test_equalisation_is_excluded_by_default() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    assert reasons_for(table, "PW-A", "JF-M", TITLES) == []
    table = move_patterns(
        _moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2, exclude_types=()
    )
    assert reasons_for(table, "PW-A", "JF-M", TITLES) == [
        "Of 6 officers who moved from Pengawas A to Analis Muda, 100 % had first completed "
        "Pelatihan C7."
    ]


def test_median_years_in_previous_post() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    # e1-e6 entered PW-A on 2019-01-01 and left on 2022-01-01: 1096 days = 3.0 years.
    assert tenure_for(table, "PW-A", "AD-X") == (
        "Officers who moved from Pengawas A to Admin X had spent a median of 3.0 years "
        "in their previous post."
    )
    # PW-B -> AD-Y is too rare; the tier pair has 6 known durations (>= 5): 3.0 years.
    assert tenure_for(table, "PW-B", "AD-Y") is not None
    assert "from pengawas to administrator" in str(tenure_for(table, "PW-B", "AD-Y"))
    # PL-1 -> PW-A: how long they were in PL-1 is not in the history.
    assert tenure_for(table, "PL-1", "PW-A") is None
    pairs = table.pairs.set_index(["level", "from_id", "to_id"])
    assert pairs.loc[(POSITION, "PL-1", "PW-A"), "n_moves"] == 6


def test_unknown_pairs_and_empty_input_give_no_reasons() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    assert reasons_for(table, "NOPE", "AD-X", TITLES) == []
    empty = move_patterns(
        _moves().iloc[:0], _enrollments().iloc[:0], POSITIONS.iloc[:0], AT, min_count=5
    )
    assert empty.pairs.empty and empty.programs.empty
    assert reasons_for(empty, "PW-A", "AD-X", TITLES) == []
    assert tenure_for(empty, "PW-A", "AD-X") is None
    cols = ["employee_id", "from_position_id", "to_position_id", "move_date", "move_type"]
    bare = move_patterns(
        pd.DataFrame(columns=cols),
        pd.DataFrame(columns=["employee_id", "program_id", "end_date", "status"]),
        pd.DataFrame(columns=["position_id", "tier", "title"]),
        AT,
    )
    assert reasons_for(bare, "PW-A", "AD-X", TITLES) == []


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="moves is missing columns"):
        move_patterns(_moves().drop(columns="move_type"), _enrollments(), POSITIONS, AT)
    with pytest.raises(ValueError, match="at least 1"):
        move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_cell=0)
    with pytest.raises(ValueError, match="lookback_years"):
        move_patterns(_moves(), _enrollments(), POSITIONS, AT, lookback_years=0)


# --- Indonesian words (expected sentences written by hand) ------------------------------------


def test_reasons_in_indonesian() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    head = "Dari 6 pegawai yang pindah dari Pengawas A ke Admin X,"
    assert reasons_for(table, "PW-A", "AD-X", TITLES, language="id") == [
        f"{head} 100 % lebih dulu menyelesaikan Pelatihan C3.",
        f"{head} 67 % lebih dulu menyelesaikan Pelatihan C1.",
        f"{head} 33 % lebih dulu menyelesaikan Pelatihan C5.",
    ]
    # The rare position pair falls back to the tier pair (9 officers, C1 6 of them).
    assert reasons_for(table, "PW-B", "AD-Y", TITLES, top=1, language="id") == [
        "Dari 9 pegawai yang pindah dari pengawas ke administrator, 67 % lebih dulu "
        "menyelesaikan Pelatihan C1."
    ]


def test_tenure_in_indonesian() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    assert tenure_for(table, "PW-A", "AD-X", language="id") == (
        "Median lama pegawai yang pindah dari Pengawas A ke Admin X menduduki jabatan "
        "sebelumnya adalah 3,0 tahun."
    )
    assert tenure_for(table, "PL-1", "PW-A", language="id") is None


def _hand_table(level: str, pair: tuple[str, str], n: int, share: float) -> PatternTable:
    """One pair with one programme (C1) and a median of 2.5 years, as if already suppressed."""
    pairs = pd.DataFrame(
        {"level": [level], "from_id": [pair[0]], "to_id": [pair[1]], "n_moves": [n]}
    ).assign(median_years=2.5)
    programs = pairs[["level", "from_id", "to_id"]].assign(
        program_id="C1", completers=round(share * n), n_moves=n, share=share
    )
    positions = POSITIONS.set_index("position_id")[["tier", "title"]]
    return PatternTable(pairs, programs, positions, AT, min_count=1, min_cell=1)


def test_pair_labels_in_both_languages() -> None:
    # Between units in the same position.
    table = _hand_table(POSITION, ("JF-M", "JF-M"), 12, 0.5)
    assert reasons_for(table, "JF-M", "JF-M", TITLES) == [
        "Of 12 officers who moved between units as Analis Muda, 50 % had first completed "
        "Pelatihan C1."
    ]
    assert reasons_for(table, "JF-M", "JF-M", TITLES, language="id") == [
        "Dari 12 pegawai yang pindah antarunit sebagai Analis Muda, 50 % lebih dulu "
        "menyelesaikan Pelatihan C1."
    ]
    assert tenure_for(table, "JF-M", "JF-M", language="id") == (
        "Median lama pegawai yang pindah antarunit sebagai Analis Muda menduduki jabatan "
        "sebelumnya adalah 2,5 tahun."
    )
    # From a tier into a position (no position pair shown).
    table = _hand_table(INTO, ("pelaksana", "PW-A"), 10, 0.645)
    assert reasons_for(table, "PL-1", "PW-A", TITLES) == [
        "Of 10 officers who moved from pelaksana to Pengawas A, 65 % had first completed "
        "Pelatihan C1."
    ]
    assert reasons_for(table, "PL-1", "PW-A", TITLES, language="id") == [
        "Dari 10 pegawai yang pindah dari pelaksana ke Pengawas A, 65 % lebih dulu "
        "menyelesaikan Pelatihan C1."
    ]
    # Within one tier, with a single officer.
    table = _hand_table(TIER, ("pengawas", "pengawas"), 1, 1.0)
    assert reasons_for(table, "PW-A", "PW-B", TITLES) == [
        "Of 1 officer who moved within pengawas, 100 % had first completed Pelatihan C1."
    ]
    assert reasons_for(table, "PW-A", "PW-B", TITLES, language="id") == [
        "Dari 1 pegawai yang pindah antarjabatan dalam jenjang pengawas, 100 % lebih dulu "
        "menyelesaikan Pelatihan C1."
    ]
    assert tenure_for(table, "PW-A", "PW-B") == (
        "Officers who moved within pengawas had spent a median of 2.5 years in their previous post."
    )
    assert tenure_for(table, "PW-A", "PW-B", language="id") == (
        "Median lama pegawai yang pindah antarjabatan dalam jenjang pengawas menduduki jabatan "
        "sebelumnya adalah 2,5 tahun."
    )


def test_unknown_language_is_refused() -> None:
    table = move_patterns(_moves(), _enrollments(), POSITIONS, AT, min_count=5, min_cell=2)
    with pytest.raises(ValueError, match="language"):
        reasons_for(table, "PW-A", "AD-X", TITLES, language="fr")
    with pytest.raises(ValueError, match="language"):
        tenure_for(table, "PW-A", "AD-X", language="")


@pytest.mark.parametrize("groups", [2, 3, 7])
def test_counts_of_groups_of_officers_add_up_to_the_whole(groups: int) -> None:
    """Any split of the officers (all of one officer's rows together) gives the same table:
    the batch sums the counts of its partitions (training/batch_data.py)."""
    moves, enrolments = _moves(), _enrollments()
    people = sorted(set(moves["employee_id"]) | set(enrolments["employee_id"]))
    group = {e: i % groups for i, e in enumerate(people)}
    total = None
    for g in range(groups):
        m = moves[moves["employee_id"].map(group) == g]
        n = enrolments[enrolments["employee_id"].map(group) == g]
        counts = pattern_counts(m, n, POSITIONS, AT)
        total = counts if total is None else total + counts
    assert total is not None
    got = patterns_from(total, POSITIONS, AT, min_count=5, min_cell=2)
    want = move_patterns(moves, enrolments, POSITIONS, AT, min_count=5, min_cell=2)
    pd.testing.assert_frame_equal(got.pairs, want.pairs, check_exact=True)
    pd.testing.assert_frame_equal(got.programs, want.programs, check_exact=True)
    assert len(got.pairs) and len(got.programs)
