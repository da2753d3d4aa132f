"""Path to eligible on hand-computed cases (JPM before and after worked out in the comments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.careers.path import apply_programme, path_to_eligible
from recommender.careers.readiness import KMS, MS

IDS = ["MK01", "MK02", "TK001", "TK002"]
NAMES = {"MK01": "Integritas", "MK02": "Kerja Sama", "TK001": "Pengawasan K3"}
NAN = np.nan


def catalogue(
    effects: dict[str, dict[str, tuple[float, float]]],
    jp: dict[str, int],
    score: dict[str, float],
    cost: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Programmes frame and gain/target matrices from {program: {competency: (gain, target)}}."""
    ids = list(effects)
    gain = np.zeros((len(ids), len(IDS)))
    target = np.zeros((len(ids), len(IDS)))
    for i, p in enumerate(ids):
        for c, (g, t) in effects[p].items():
            gain[i, IDS.index(c)], target[i, IDS.index(c)] = g, t
    frame = pd.DataFrame(
        {
            "program_id": ids,
            "title": [f"Pelatihan {p}" for p in ids],
            "jp": [jp[p] for p in ids],
            "cost_idr": [(cost or {}).get(p, 1_000_000) for p in ids],
            "score": [score[p] for p in ids],
        }
    )
    return frame, gain, target


# Standard: MK01 4 (w1), MK02 4 (w1), TK001 4 (w2); assessed 2, 2, 3.
# JPM before = (2 + 2 + 2*3) / (4 + 4 + 2*4) = 10 / 16 = 62.5 % (KMS).
REQ = np.array([4, 4, 4, 0])
W = np.array([1, 1, 2, 1])
HAVE = np.array([2, 2, 3, NAN])
FOUR = catalogue(
    {
        "P1": {"MK01": (2, 4)},  # MK01 2 -> 4: 12/16 = 75 %
        "P2": {"MK02": (1, 4)},  # MK02 2 -> 3: 11/16 = 68.75 %
        "P3": {"TK001": (1, 4)},  # TK001 3 -> 4 (w2): 12/16 = 75 %
        "P4": {"MK01": (1, 3), "MK02": (1, 3)},  # both 2 -> 3: 12/16 = 75 %
    },
    jp={"P1": 40, "P2": 40, "P3": 60, "P4": 70},
    score={"P1": 0.7, "P2": 0.5, "P3": 0.9, "P4": 0.6},
    cost={"P1": 3e6, "P2": 1e6, "P3": 4e6, "P4": 1e6},
)


def test_best_pair_beats_best_single() -> None:
    # 80 JP: best single is 75 %; P1 + P2 (80 JP): MK01 4, MK02 3 -> 13/16 = 81.25 % (MS).
    # P1 + P3 (87.5 %) needs 100 JP, so the JP limit binds. A greedy pick would start with P3
    # (75 %, best score) and then fit nothing more in 80 JP.
    path = path_to_eligible(REQ, W, HAVE, IDS, *FOUR, jp_limit=80, competency_names=NAMES)
    assert [s.program_id for s in path.steps] == ["P1", "P2"]
    assert path.before.jpm == 62.5 and path.before.category == KMS
    assert path.after.jpm == pytest.approx(81.25, abs=0.05) and path.after.category == MS
    assert path.jp_total == 80 and path.cost_total == 4e6 and path.message is None
    assert path.steps[0].closes == (("MK01", 2.0, 4.0),)
    assert path.steps[0].reason == (
        "raises Integritas from 2 to 4 (target needs 4, now met); "
        "ranked 2nd by the programme ranker"
    )
    assert path.steps[1].reason.startswith("raises Kerja Sama from 2 to 3 (target needs 4);")


def test_a_larger_jp_limit_allows_the_better_pair() -> None:
    # 100 JP: P1 + P3 -> MK01 4, TK001 4 -> (4 + 2 + 8) / 16 = 87.5 %; no trio fits (>= 140 JP).
    path = path_to_eligible(REQ, W, HAVE, IDS, *FOUR, jp_limit=100)
    assert {s.program_id for s in path.steps} == {"P1", "P3"}
    assert path.after.jpm == 87.5 and path.jp_total == 100


def test_budget_limit_binds() -> None:
    # No budget, 200 JP: P1 + P2 + P3 -> 4, 3, 4 -> 15/16 = 93.75 %.
    free = path_to_eligible(REQ, W, HAVE, IDS, *FOUR, jp_limit=200)
    assert free.after.jpm == pytest.approx(93.75, abs=0.05)
    # Rp 5 M: P1 + P2 = 81.25 %, P3 + P2 = 81.25 %, P3 + P4 (Rp 5 M) -> 3, 3, 4 -> 14/16 = 87.5 %.
    capped = path_to_eligible(REQ, W, HAVE, IDS, *FOUR, jp_limit=200, budget_limit=5e6)
    assert {s.program_id for s in capped.steps} == {"P3", "P4"}
    assert capped.after.jpm == 87.5 and capped.cost_total == 5e6


def test_tie_on_jpm_goes_to_fewer_jp() -> None:
    # 93.75 % three ways with three programmes: P1 + P2 + P3 (140 JP), P1 + P3 + P4 (170 JP;
    # P4 takes MK02 to 3, P1 takes MK01 to 4) and P4, P2, P3 (170 JP; MK01 3, MK02 2 -> 3 -> 4,
    # TK001 4). The one with fewer JP wins.
    path = path_to_eligible(REQ, W, HAVE, IDS, *FOUR, jp_limit=200)
    assert {s.program_id for s in path.steps} == {"P1", "P2", "P3"} and path.jp_total == 140


# One competency: MK01 required 3 (w1), assessed 2 -> JPM 2/3 = 66.7 % (KMS).
REQ1, W1, HAVE1 = np.array([3, 0, 0, 0]), np.ones(4), np.array([2, NAN, NAN, NAN])


def test_tie_goes_to_fewer_programmes_before_fewer_jp() -> None:
    # A alone: 2 -> 3 = 100 % in 30 JP; B + C (0.5 each): 2 -> 3 = 100 % in 20 JP -> A.
    cat = catalogue(
        {"A": {"MK01": (1, 3)}, "B": {"MK01": (0.5, 3)}, "C": {"MK01": (0.5, 3)}},
        jp={"A": 30, "B": 10, "C": 10},
        score={"A": 0.1, "B": 0.9, "C": 0.8},
    )
    path = path_to_eligible(REQ1, W1, HAVE1, IDS, *cat)
    assert [s.program_id for s in path.steps] == ["A"] and path.after.jpm == 100.0


def test_tie_goes_to_fewer_jp_then_higher_score() -> None:
    # A, D, E each take MK01 from 2 to 3 (100 %): D and E have 20 JP, A 30; E scores higher.
    cat = catalogue(
        {"A": {"MK01": (1, 3)}, "D": {"MK01": (1, 3)}, "E": {"MK01": (1, 3)}},
        jp={"A": 30, "D": 20, "E": 20},
        score={"A": 0.9, "D": 0.1, "E": 0.2},
    )
    path = path_to_eligible(REQ1, W1, HAVE1, IDS, *cat)
    assert [s.program_id for s in path.steps] == ["E"]
    assert path.steps[0].rank == 2  # ranked by score when the frame has no rank column


def test_steps_come_in_the_order_that_gains_most() -> None:
    # MK01 required 5, assessed 1: JPM 1/5 = 20 %. P: +1 up to 5; Q: +3 up to 2.
    # P then Q: 1 -> 2 -> 2 (40 %); Q then P: 1 -> 2 -> 3 (60 %). Q goes first.
    cat = catalogue(
        {"P": {"MK01": (1, 5)}, "Q": {"MK01": (3, 2)}},
        jp={"P": 10, "Q": 10},
        score={"P": 0.9, "Q": 0.1},
    )
    path = path_to_eligible(np.array([5, 0, 0, 0]), W1, np.array([1, NAN, NAN, NAN]), IDS, *cat)
    assert [s.program_id for s in path.steps] == ["Q", "P"]
    assert [s.closes for s in path.steps] == [(("MK01", 1.0, 2.0),), (("MK01", 2.0, 3.0),)]
    assert path.after.jpm == 60.0
    assert any("still below" in n for n in path.notes)


def test_gain_is_capped_at_the_programme_target_and_at_5() -> None:
    levels = np.array([2.0, 4.0, 4.5, NAN])
    gain = np.array([2.0, 2.0, 0.2, 2.0])
    target = np.array([3.0, 5.0, 4.0, 4.0])
    # 2 + 2 capped at target 3; 4 + 2 capped at 5; 4.5 already above target 4 stays; NaN stays.
    out = apply_programme(levels, gain, target)
    assert out[:3].tolist() == [3.0, 5.0, 4.5] and np.isnan(out[3])
    cat = catalogue({"X": {"MK01": (2, 3), "MK02": (2, 5)}}, jp={"X": 20}, score={"X": 1.0})
    path = path_to_eligible(
        np.array([5, 5, 0, 0]), W1, np.array([2, 4, NAN, NAN]), IDS, *cat, competency_names=NAMES
    )
    # before (2 + 4) / 10 = 60 %; after (3 + 5) / 10 = 80 %
    assert path.steps[0].closes == (("MK01", 2.0, 3.0), ("MK02", 4.0, 5.0))
    assert path.before.jpm == 60.0 and path.after.jpm == 80.0


def test_unknown_competencies_stay_unknown() -> None:
    # TK002 required 3 never assessed; Y raises MK01 2 -> 3 and would touch TK002; Z only TK002.
    cat = catalogue(
        {"Y": {"MK01": (1, 3), "TK002": (2, 4)}, "Z": {"TK002": (2, 4)}},
        jp={"Y": 20, "Z": 20},
        score={"Y": 0.1, "Z": 0.9},
    )
    req = np.array([3, 0, 0, 3])
    path = path_to_eligible(req, W1, np.array([2, NAN, NAN, NAN]), IDS, *cat)
    assert [s.program_id for s in path.steps] == ["Y"]  # Z closes no known gap
    assert path.steps[0].closes == (("MK01", 2.0, 3.0),)
    assert path.after.unknown == ("TK002",) and path.after.jpm == 100.0
    assert path.after.coverage == 0.5
    assert any("TK002" in n and "not projected" in n for n in path.notes)


def test_already_meets_the_standard() -> None:
    # (4 + 4 + 2*3) / 16 = 87.5 % -> MS already: no path.
    path = path_to_eligible(REQ, W, np.array([4, 4, 3, NAN]), IDS, *FOUR)
    assert path.steps == () and path.after == path.before and path.jp_total == 0
    assert path.message is not None and path.message.startswith("already meets the standard")


def test_nothing_assessed() -> None:
    path = path_to_eligible(REQ, W, np.full(4, NAN), IDS, *FOUR)
    assert path.steps == () and path.before.jpm is None
    assert path.message is not None and "nothing assessed" in path.message


def test_nobody_helps_gives_a_message_not_an_error() -> None:
    # Only TK002 (not in the standard) is touched: no programme closes a gap.
    cat = catalogue({"N": {"TK002": (1, 4)}}, jp={"N": 10}, score={"N": 1.0})
    path = path_to_eligible(REQ, W, HAVE, IDS, *cat, competency_names=NAMES)
    assert path.steps == () and path.after == path.before
    assert path.message == (
        "no programme in the ranker's list closes these gaps "
        "(Integritas, Kerja Sama, Pengawasan K3)"
    )
    # P3 closes a gap but needs 60 JP: over a 50 JP limit.
    only_p3 = FOUR[0].iloc[[2]], FOUR[1][[2]], FOUR[2][[2]]
    path = path_to_eligible(REQ, W, HAVE, IDS, *only_p3, jp_limit=50, budget_limit=2e6)
    assert path.steps == ()
    assert path.message is not None and path.message.endswith("fits within 50 JP and Rp 2,000,000")
    # An empty ranker list is no error either.
    empty = FOUR[0].iloc[:0], FOUR[1][:0], FOUR[2][:0]
    assert path_to_eligible(REQ, W, HAVE, IDS, *empty).message is not None


def test_pool_keeps_the_best_ranked_candidates() -> None:
    # pool=1 keeps P3 (best score) only: TK001 3 -> 4 = 75 %.
    path = path_to_eligible(REQ, W, HAVE, IDS, *FOUR, pool=1)
    assert [s.program_id for s in path.steps] == ["P3"] and path.after.jpm == 75.0


def test_bad_input_is_refused() -> None:
    frame, gain, target = FOUR
    with pytest.raises(ValueError, match="programmes x competencies"):
        path_to_eligible(REQ, W, HAVE, IDS, frame, gain[:, :3], target)
    with pytest.raises(ValueError, match="missing columns"):
        path_to_eligible(REQ, W, HAVE, IDS, frame.drop(columns="score"), gain, target)
    with pytest.raises(ValueError, match="must not be negative"):
        path_to_eligible(REQ, W, HAVE, IDS, frame, gain, target, jp_limit=-1)
    with pytest.raises(ValueError, match="must not be negative"):
        path_to_eligible(REQ, W, HAVE, IDS, frame, gain, target, budget_limit=-5)
    with pytest.raises(ValueError, match="must not be negative"):
        path_to_eligible(REQ, W, HAVE, IDS, frame, gain, target, max_programs=-1)
    with pytest.raises(ValueError, match="orderings"):
        path_to_eligible(REQ, W, HAVE, IDS, frame, gain, target, max_programs=8, pool=30)
    with pytest.raises(ValueError, match="one length"):
        path_to_eligible(REQ[:3], W, HAVE, IDS, frame, gain, target)


# --- Indonesian words (expected sentences written by hand) ------------------------------------


def test_step_reasons_in_indonesian() -> None:
    # Same path as test_best_pair_beats_best_single. By score P3 0.9, P1 0.7, P4 0.6, P2 0.5:
    # P1 is ranked 2nd, P2 4th.
    path = path_to_eligible(
        REQ, W, HAVE, IDS, *FOUR, jp_limit=80, competency_names=NAMES, language="id"
    )
    assert [s.program_id for s in path.steps] == ["P1", "P2"]
    assert [s.reason for s in path.steps] == [
        "menaikkan Integritas dari 2 ke 4 (jabatan tujuan memerlukan 4, kini terpenuhi); "
        "peringkat ke-2 dari pemeringkat program",
        "menaikkan Kerja Sama dari 2 ke 3 (jabatan tujuan memerlukan 4); "
        "peringkat ke-4 dari pemeringkat program",
    ]
    # TK002 is never assessed (but not required): no note; the path ends in MS: no note.
    assert path.message is None and path.notes == ()


def test_levels_use_a_decimal_comma_in_indonesian() -> None:
    # MK01 required 3.5, assessed 2: +0.5 up to 4 -> 2.5; ranked 1st (only programme).
    cat = catalogue({"H": {"MK01": (0.5, 4)}}, jp={"H": 10}, score={"H": 1.0})
    req = np.array([3.5, 0, 0, 0])
    en = path_to_eligible(req, W1, HAVE1, IDS, *cat, competency_names=NAMES)
    idn = path_to_eligible(req, W1, HAVE1, IDS, *cat, competency_names=NAMES, language="id")
    assert en.steps[0].reason == (
        "raises Integritas from 2 to 2.5 (target needs 3.5); ranked 1st by the programme ranker"
    )
    assert idn.steps[0].reason == (
        "menaikkan Integritas dari 2 ke 2,5 (jabatan tujuan memerlukan 3,5); "
        "peringkat ke-1 dari pemeringkat program"
    )


def test_notes_in_indonesian() -> None:
    # Below MS after the path (Q then P: 60 %, KMS) and TK002 (required) never assessed:
    # MK01 5 (w1), TK002 3 (w1) -> JPM over MK01 only: 1/5 = 20 % before, 3/5 = 60 % after.
    cat = catalogue(
        {"P": {"MK01": (1, 5)}, "Q": {"MK01": (3, 2)}},
        jp={"P": 10, "Q": 10},
        score={"P": 0.9, "Q": 0.1},
    )
    req = np.array([5, 0, 0, 3])
    path = path_to_eligible(req, W1, np.array([1, NAN, NAN, NAN]), IDS, *cat, language="id")
    assert path.notes == (
        "belum pernah dinilai, sehingga tidak diproyeksikan dan tidak masuk JPM: TK002; "
        "penilaian akan menunjukkan apakah ada kesenjangan",
        "belum mencapai Memenuhi Syarat setelah jalur ini (JPM 60,0 %, Kurang Memenuhi Syarat)",
    )


def test_empty_path_messages_in_indonesian() -> None:
    # Already MS: (4 + 4 + 2*3) / 16 = 87.5 %.
    path = path_to_eligible(REQ, W, np.array([4, 4, 3, NAN]), IDS, *FOUR, language="id")
    assert path.message == "sudah memenuhi standar (JPM 87,5 %, Memenuhi Syarat); tidak perlu jalur"
    # Nothing assessed.
    path = path_to_eligible(REQ, W, np.full(4, NAN), IDS, *FOUR, language="id")
    assert path.message == (
        "belum pernah dinilai: kesiapan untuk jabatan ini belum dapat diukur, "
        "sehingga jalur belum dapat diproyeksikan"
    )
    # No programme touches a gap.
    cat = catalogue({"N": {"TK002": (1, 4)}}, jp={"N": 10}, score={"N": 1.0})
    path = path_to_eligible(REQ, W, HAVE, IDS, *cat, competency_names=NAMES, language="id")
    assert path.message == (
        "tidak ada program dalam daftar pemeringkat yang menutup kesenjangan ini "
        "(Integritas, Kerja Sama, Pengawasan K3)"
    )


def test_limits_in_indonesian_number_format() -> None:
    # P3 closes a gap but needs 60 JP: over 50 JP, with and without a budget.
    only_p3 = FOUR[0].iloc[[2]], FOUR[1][[2]], FOUR[2][[2]]
    path = path_to_eligible(REQ, W, HAVE, IDS, *only_p3, jp_limit=50, language="id")
    assert path.message == (
        "tidak ada program penutup kesenjangan ini (MK01, MK02, TK001) yang masih dalam batas 50 JP"
    )
    path = path_to_eligible(
        REQ, W, HAVE, IDS, *only_p3, jp_limit=50, budget_limit=2e6, language="id"
    )
    assert path.message == (
        "tidak ada program penutup kesenjangan ini (MK01, MK02, TK001) "
        "yang masih dalam batas 50 JP dan anggaran Rp2.000.000"
    )


def test_no_programme_raises_the_jpm_in_both_languages() -> None:
    # MK01 has weight 0: G closes its gap (a candidate) but leaves the JPM at MK02's 2/4 = 50 %,
    # so the empty set wins.
    cat = catalogue({"G": {"MK01": (2, 4)}}, jp={"G": 10}, score={"G": 1.0})
    req, w, have = np.array([4, 4, 0, 0]), np.array([0, 1, 1, 1]), np.array([2, 2, NAN, NAN])
    en = path_to_eligible(req, w, have, IDS, *cat, budget_limit=1_500_000.5)
    idn = path_to_eligible(req, w, have, IDS, *cat, budget_limit=1_500_000.5, language="id")
    assert en.steps == () and en.before.jpm == 50.0
    assert en.message == "no programme within 80 JP and Rp 1,500,000 raises the JPM"
    assert idn.message == (
        "tidak ada program dalam batas 80 JP dan anggaran Rp1.500.000 yang menaikkan JPM"
    )


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        path_to_eligible(REQ, W, HAVE, IDS, *FOUR, language="fr")
    with pytest.raises(ValueError, match="language"):
        path_to_eligible(REQ, W, HAVE, IDS, *FOUR, language="ID")
