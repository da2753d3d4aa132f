"""The yearly development plan on hand-computed cases, and the optimum against brute force.

Hand case (levels and values worked out in the comments): competencies MK01, MK02, TK01, TK02;
current standard 4, 3, 3, - (weights 1, 1, 1.5); assessed 2, 2, 2, never; the year's priority
0.5 on MK02. Value of closing one level = (1 + priority) x weight.

=====  ==========  ====  =========  =======================  ==================================
prog   modality    JP    cost (Rp)  effect                   own value
=====  ==========  ====  =========  =======================  ==================================
P1     teknis      8     3,000,000  MK01 2 -> 3 (target 4)   1 x 1 x 1 = 1
P2     e_learning  6     200,000    MK02 2 -> 3 (target 3)   1.5 x 1 x 1 = 1.5 (priority)
P3     workshop    8     1,000,000  TK01 2 -> 2.5            1 x 1.5 x 0.5 = 0.75
P4     coaching    4     500,000    MK01 2 -> 3 (target 4)   1 (with P1: MK01 2 -> 4, 2 in all)
P5     seminar     5     100,000    nothing                  0
=====  ==========  ====  =========  =======================  ==================================

Sessions: P1 S1a 1-5 March (seats), S1b June (full); P3 S3 3 March (overlaps S1a); P5 S5
1 April. P2 (e-learning) and P4 (coaching) have no session: session-free, taken any time.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from recommender.plans import (
    COST_TIE,
    RANK_WEIGHT,
    SESSION_FREE,
    Plan,
    PlanRequest,
    make_plan,
    seats_left,
)

IDS = ["MK01", "MK02", "TK01", "TK02"]
NAMES = {"MK01": "Integritas", "MK02": "Kerja Sama", "TK01": "Pengawasan K3"}
NAN = np.nan


def programmes(
    rows: list[tuple[str, str, int, float, dict[str, tuple[float, float]]]],
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Frame and gain/target matrices from (id, modality, jp, cost, {competency: (gain,
    target)})."""
    gain = np.zeros((len(rows), len(IDS)))
    target = np.zeros((len(rows), len(IDS)))
    for i, (_, _, _, _, eff) in enumerate(rows):
        for c, (g, t) in eff.items():
            gain[i, IDS.index(c)], target[i, IDS.index(c)] = g, t
    frame = pd.DataFrame(
        {
            "program_id": [r[0] for r in rows],
            "title": [f"Pelatihan {r[0]}" for r in rows],
            "modality": [r[1] for r in rows],
            "classical": [r[1] not in NON_CLASSICAL for r in rows],
            "jp": [r[2] for r in rows],
            "cost_idr": [r[3] for r in rows],
        }
    )
    return frame, gain, target


NON_CLASSICAL = {*SESSION_FREE, "pjj", "magang", "detasering"}


def sessions(rows: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    """Sessions from (session_id, program_id, start, end, seats_left)."""
    return pd.DataFrame(
        {
            "session_id": [r[0] for r in rows],
            "program_id": [r[1] for r in rows],
            "start_date": pd.to_datetime([r[2] for r in rows]),
            "end_date": pd.to_datetime([r[3] for r in rows]),
            "seats_left": [r[4] for r in rows],
        }
    )


PROGS = programmes(
    [
        ("P1", "teknis", 8, 3_000_000, {"MK01": (1, 4)}),
        ("P2", "e_learning", 6, 200_000, {"MK02": (1, 3)}),
        ("P3", "workshop", 8, 1_000_000, {"TK01": (0.5, 3)}),
        ("P4", "coaching", 4, 500_000, {"MK01": (1, 4)}),
        ("P5", "seminar", 5, 100_000, {}),
    ]
)
SESSIONS = sessions(
    [
        ("S1a", "P1", "2025-03-01", "2025-03-05", 10),
        ("S1b", "P1", "2025-06-01", "2025-06-05", 0),
        ("S3", "P3", "2025-03-03", "2025-03-03", 5),
        ("S5", "P5", "2025-04-01", "2025-04-01", 30),
    ]
)


def request(**changes: object) -> PlanRequest:
    """The hand case (module docstring), with ``changes``."""
    frame, gain, target = PROGS
    base = PlanRequest(
        levels=np.array([2, 2, 2, NAN]),
        required=np.array([4, 3, 3, 0]),
        weight=np.array([1, 1, 1.5, 1]),
        priority=np.array([0, 0.5, 0, 0]),
        competency_ids=IDS,
        programs=frame,
        gain=gain,
        target=target,
        sessions=SESSIONS,
        year=2025,
        competency_names=NAMES,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def chosen(plan: Plan) -> set[str]:
    return {i.program_id for i in plan.items}


# --- the hand case -----------------------------------------------------------------------------


def test_best_plan_with_the_20_jp_constraint_binding() -> None:
    # Value: P1 + P4 close MK01 2 -> 4 (2), P2 closes MK02 (1.5): 3.5 with 18 JP. P3 (0.75)
    # cannot join P1 (S3 on 3 March falls in S1a, S1b is full). 18 < 20 JP, so the cheapest
    # filler that keeps the value joins: P5 (5 JP, Rp 100,000) -> 23 JP.
    plan = make_plan(request())
    assert plan.problems == ()
    assert chosen(plan) == {"P1", "P2", "P4", "P5"}
    assert plan.total_jp == 23 and plan.meets_20_jp and plan.has_non_classical
    assert plan.total_cost == 3_800_000
    assert plan.gap_closed == pytest.approx(3.5)
    # dated items first (S1a 1 March, S5 1 April), then session-free ones by own value
    assert [i.program_id for i in plan.items] == ["P1", "P5", "P2", "P4"]
    p1, p5, p2, p4 = plan.items
    assert (p1.session_id, p1.start_date, p1.end_date) == (
        "S1a",
        *pd.to_datetime(["2025-03-01", "2025-03-05"]).date,
    )
    assert p2.session_id is None and p2.start_date is None
    assert [(r.competency_id, r.from_level, r.to_level) for r in p4.raises] == [("MK01", 3, 4)]
    assert p5.raises == () and p5.reason.startswith("Menambah 5 JP menuju minimal 20 JP setahun")
    # the linearised objective: gap 3.5 minus the cost tie-break (costs / dearest option)
    assert plan.objective == pytest.approx(3.5 - COST_TIE * 3_800_000 / 3_000_000, abs=1e-6)


def test_without_the_jp_minimum_no_filler_is_added() -> None:
    plan = make_plan(request(min_jp=0))
    assert chosen(plan) == {"P1", "P2", "P4"}
    assert plan.total_jp == 18 and not plan.meets_20_jp and plan.problems == ()


def test_budget_binding_changes_the_plan() -> None:
    # Rp 2,000,000 leaves out P1 (Rp 3,000,000): P2 + P3 + P4 = 3.25 with 18 JP, + P5 -> 23 JP,
    # Rp 1,800,000.
    plan = make_plan(request(budget=2_000_000))
    assert chosen(plan) == {"P2", "P3", "P4", "P5"}
    assert plan.total_cost == 1_800_000 <= 2_000_000
    assert plan.gap_closed == pytest.approx(1.5 + 0.75 + 1)


def test_budget_too_small_for_20_jp_says_the_cheapest_way() -> None:
    # Sets reaching 20 JP: P2+P3+P4+P5 (23 JP, Rp 1,800,000) and P1+P2+P4+P5 (Rp 3,800,000)
    plan = make_plan(request(budget=1_000_000))
    assert plan.items == () and plan.status == "infeasible" and not plan.meets_20_jp
    assert plan.problems == (
        "Anggaran Rp 1.000.000 tidak cukup untuk mencapai 20 JP: cara termurah adalah "
        "Pelatihan P3, Pelatihan P5, Pelatihan P2, Pelatihan P4 (23 JP) dengan biaya "
        "Rp 1.800.000.",
    )
    en = make_plan(request(budget=1_000_000, language="en"))
    assert en.problems == (
        "The budget of Rp 1,000,000 cannot reach 20 JP: the cheapest way to 20 JP is "
        "Pelatihan P3, Pelatihan P5, Pelatihan P2, Pelatihan P4 (23 JP) at Rp 1,800,000.",
    )


def test_overlapping_sessions_are_never_both_chosen() -> None:
    # Move S3 after S1a: P1 and P3 can both be taken; value 3.5 + 0.75 with 26 JP, no filler.
    moved = SESSIONS.copy()
    moved.loc[moved["session_id"] == "S3", ["start_date", "end_date"]] = pd.Timestamp("2025-03-06")
    plan = make_plan(request(sessions=moved))
    assert chosen(plan) == {"P1", "P2", "P3", "P4"} and plan.total_jp == 26
    # a session ending on the day another starts overlaps it (dates are inclusive)
    touching = SESSIONS.copy()
    touching.loc[touching["session_id"] == "S3", ["start_date", "end_date"]] = pd.Timestamp(
        "2025-03-05"
    )
    assert {"P1", "P3"} - chosen(make_plan(request(sessions=touching, min_jp=0)))


def test_full_sessions_are_excluded() -> None:
    # S1a full too: P1 has no seat left, so P3 takes its place (P2 + P3 + P4 + P5, 23 JP)
    full = SESSIONS.assign(seats_left=[0, 0, 5, 30])
    plan = make_plan(request(sessions=full))
    assert "P1" not in chosen(plan) and chosen(plan) == {"P2", "P3", "P4", "P5"}


def test_no_session_with_seats_is_explained() -> None:
    frame, gain, target = PROGS
    classical = frame["classical"].to_numpy()
    full = SESSIONS.assign(seats_left=0)
    plan = make_plan(
        request(
            programs=frame[classical].reset_index(drop=True),
            gain=gain[classical],
            target=target[classical],
            sessions=full[full["program_id"] != "P5"],
        )
    )
    assert plan.items == ()
    assert plan.problems == (
        "Ada 3 program yang dapat diikuti, tetapi tidak satu pun memiliki angkatan dengan kursi "
        "tersisa pada tahun 2025 (1 tanpa angkatan, 2 dengan angkatan penuh).",
    )


def test_empty_catalogue_is_explained_in_both_languages() -> None:
    frame, gain, target = PROGS
    empty = {"programs": frame.iloc[:0], "gain": gain[:0], "target": target[:0]}
    plan = make_plan(request(**empty))
    assert plan.items == () and plan.total_jp == 0
    assert plan.problems == (
        "Katalog tidak memiliki program yang dapat diikuti pegawai ini pada tahun 2025.",
    )
    en = make_plan(request(language="en", **empty))
    assert en.problems == ("The catalogue has no programme this person can take in 2025.",)


def test_calendar_cannot_reach_20_jp() -> None:
    # one item at most: the largest is 8 JP
    plan = make_plan(request(max_items=1))
    assert plan.items == ()
    assert plan.problems[0].startswith(
        "Bahkan tanpa batas anggaran, angkatan yang tersedia hanya mencapai 8 JP"
    )


def test_reasons_in_indonesian_and_english() -> None:
    plan_id = make_plan(request())
    plan_en = make_plan(request(language="en"))
    assert plan_id.language == "id" and plan_en.language == "en"
    reasons_id = {i.program_id: i.reason for i in plan_id.items}
    reasons_en = {i.program_id: i.reason for i in plan_en.items}
    assert reasons_id["P2"] == (
        "Menaikkan Kerja Sama dari 2 ke 3 (jabatan saat ini memerlukan 3, terpenuhi); "
        "selaras dengan prioritas organisasi tahun 2025; jalur nonklasikal (E-Learning); "
        "dapat diikuti kapan saja tanpa angkatan"
    )
    assert reasons_en["P2"] == (
        "Raises Kerja Sama from 2 to 3 (current position needs 3, now met); "
        "aligned with the organisation's priorities for 2025; non-classical route (e-learning); "
        "can be taken any time, no session needed"
    )
    assert reasons_en["P1"] == "Raises Integritas from 2 to 3 (current position needs 4)"
    assert reasons_en["P5"] == "Adds 5 JP toward the minimum of 20 JP a year"
    # TK02 is never assessed but in no standard here: nothing to note
    assert plan_en.notes == ()


def test_levels_and_money_follow_the_language() -> None:
    gain = PROGS[1]
    gain = gain.copy()
    gain[2, IDS.index("TK01")] = 0.25  # TK01 2 -> 2.25
    plan = make_plan(request(gain=gain, budget=2_000_000))
    p3 = next(i for i in plan.items if i.program_id == "P3")
    assert p3.reason.startswith("Menaikkan Pengawasan K3 dari 2 ke 2,25 (")
    en = make_plan(request(gain=gain, budget=2_000_000, language="en"))
    assert next(i for i in en.items if i.program_id == "P3").reason.startswith(
        "Raises Pengawasan K3 from 2 to 2.25 ("
    )


def test_likely_next_position_counts_and_is_named() -> None:
    # target position needs TK02 at 3 (weight 0.5); P6 (bimtek, 20 JP, Rp 500,000) raises TK02
    # 1 -> 2: 0.5 x 1 = 0.5, and only counts through the target
    rows = [
        ("P5", "seminar", 5, 100_000, {}),
        ("P6", "bimtek", 20, 500_000, {"TK02": (1, 3)}),
        ("P7", "bimtek", 20, 400_000, {}),
        ("P8", "e_learning", 3, 10_000, {}),
    ]
    frame, gain, target = programmes(rows)
    sess = sessions(
        [
            ("S5", "P5", "2025-04-01", "2025-04-01", 30),
            ("S6", "P6", "2025-05-01", "2025-05-03", 30),
            ("S7", "P7", "2025-05-01", "2025-05-03", 30),
        ]
    )
    base = request(programs=frame, gain=gain, target=target, sessions=sess, language="en")
    no_target = make_plan(base)
    assert chosen(no_target) == {"P7", "P8"}  # cheaper 20 JP when TK02 is not a gap
    lv = np.array([2, 2, 2, 1])
    with_target = make_plan(
        replace(
            base,
            levels=lv,
            target_required=np.array([4, 3, 3, 3]),
            target_weight=np.array([0.5, 0.5, 0.75, 0.5]),
        )
    )
    assert chosen(with_target) == {"P6", "P8"}
    assert with_target.gap_closed == pytest.approx(0.5)
    p6 = next(i for i in with_target.items if i.program_id == "P6")
    assert p6.reason == "Raises TK02 from 1 to 2 (likely next position needs 3)"


def test_non_classical_item_required_when_available() -> None:
    # Q1 classical 20 JP closes MK01 2 -> 4 (value 2); Q2 e-learning 3 JP closes nothing.
    rows = [
        ("Q1", "teknis", 20, 1_000_000, {"MK01": (2, 4)}),
        ("Q2", "e_learning", 3, 50_000, {}),
        ("Q3", "teknis", 20, 1_000_000, {"MK02": (1, 3)}),
    ]
    frame, gain, target = programmes(rows)
    sess = sessions(
        [
            ("T1", "Q1", "2025-02-01", "2025-02-03", 5),
            ("T3", "Q3", "2025-02-02", "2025-02-02", 5),
        ]
    )
    base = request(programs=frame, gain=gain, target=target, sessions=sess, language="en")
    plan = make_plan(base)
    assert chosen(plan) == {"Q1", "Q2"} and plan.has_non_classical
    assert plan.items[1].reason == (
        "Adds 3 JP toward the minimum of 20 JP a year; non-classical route (e-learning); "
        "can be taken any time, no session needed"
    )
    # without the rule Q2 would not be there: it closes nothing and costs something
    only = [0, 2]
    classical_only = make_plan(
        replace(
            base,
            programs=frame.iloc[only].reset_index(drop=True),
            gain=gain[only],
            target=target[only],
        )
    )
    assert chosen(classical_only) == {"Q1"} and not classical_only.has_non_classical
    assert any("No non-classical programme is available" in n for n in classical_only.notes)
    # Q2 dearer than the budget on its own: no non-classical candidate, same note
    dear = frame.assign(cost_idr=[1_000_000, 2_000_000, 1_000_000])
    plan = make_plan(replace(base, programs=dear, budget=1_500_000))
    assert chosen(plan) == {"Q1"}
    assert any("No non-classical programme is available" in n for n in plan.notes)
    # Q2 affordable alone but not with 20 classical JP: dropped, and the plan says so
    mid = frame.assign(cost_idr=[1_000_000, 600_000, 1_000_000])
    plan = make_plan(replace(base, programs=mid, budget=1_500_000))
    assert chosen(plan) == {"Q1"} and not plan.has_non_classical
    assert plan.notes[0].startswith("No plan with a non-classical programme reaches 20 JP")


def test_ranker_score_breaks_ties_but_never_adds_items() -> None:
    # P1 and P4 are both MK01 2 -> 3 alone; with min_jp 0 and a budget for one of them only,
    # the better-scored one is chosen.
    frame = PROGS[0]
    for best, scores in (("P1", [0.9, 0.5, 0.5, 0.1, 0.7]), ("P4", [0.1, 0.5, 0.5, 0.9, 0.7])):
        cheap = frame.assign(score=scores, cost_idr=[500_000, 200_000, 1_000_000, 500_000, 1])
        plan = make_plan(request(programs=cheap, min_jp=0, budget=700_000))
        assert chosen(plan) == {best, "P2"}
        assert next(i for i in plan.items if i.program_id == best).score == max(scores)
    # P5 (no gap, the best score) is still not added when nothing requires it
    scored = frame.assign(score=[0.1, 0.2, 0.3, 0.4, 5.0])
    plan = make_plan(request(programs=scored, min_jp=0))
    assert "P5" not in chosen(plan)
    assert next(i for i in plan.items if i.program_id == "P1").reason.endswith(
        "peringkat ke-5 menurut pemeringkat program"
    )


def test_nothing_to_close_gives_the_cheapest_20_jp_with_a_note() -> None:
    plan = make_plan(request(levels=np.full(4, NAN), language="en"))
    assert plan.gap_closed == 0 and plan.total_jp >= 20
    # nothing projected, so the cheapest 20 JP with a non-classical item: P2 + P3 + P4 + P5
    # (23 JP, Rp 1,800,000); P1 instead of P3 would cost Rp 3,800,000
    assert chosen(plan) == {"P2", "P3", "P4", "P5"} and plan.total_cost == 1_800_000
    assert plan.notes[0] == (
        "No measured competency gap can be closed by the available programmes. "
        "The plan is built to meet 20 JP."
    )
    assert plan.notes[1] == (
        "Competencies never assessed are not projected: Integritas, Kerja Sama, Pengawasan K3."
    )


def test_plan_to_dict_is_json_ready() -> None:
    data = make_plan(request()).to_dict()
    text = json.dumps(data)
    assert '"session_id": "S1a"' in text and '"start_date": "2025-03-01"' in text
    assert data["total_jp"] == 23 and data["language"] == "id"


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"levels": np.zeros(3)}, "levels must have shape"),
        ({"gain": np.zeros((5, 3))}, "gain and target"),
        ({"language": "fr"}, "language"),
        ({"budget": -1.0}, "budget"),
        ({"max_items": 0}, "max_items"),
        ({"target_required": np.zeros(4)}, "both or neither"),
        ({"sessions": SESSIONS.drop(columns=["seats_left"])}, "missing columns"),
        ({"sessions": SESSIONS.assign(end_date=pd.Timestamp("2025-01-01"))}, "start_date"),
        ({"sessions": pd.concat([SESSIONS, SESSIONS.iloc[:1]])}, "session_id must be unique"),
    ],
)
def test_inconsistent_inputs_raise_value_error(changes: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_plan(request(**changes))


def test_programme_frame_errors() -> None:
    frame = PROGS[0]
    with pytest.raises(ValueError, match="unique"):
        make_plan(request(programs=frame.assign(program_id="P1")))
    with pytest.raises(ValueError, match="missing columns"):
        make_plan(request(programs=frame.drop(columns=["modality"])))
    with pytest.raises(ValueError, match="jp must be a number"):
        make_plan(request(programs=frame.assign(jp=[8, -1, 8, 4, 5])))


def test_seats_left_counts_live_bookings_only() -> None:
    sess = pd.DataFrame({"session_id": ["A", "B"], "seats": [2, 3]})
    enr = pd.DataFrame(
        {
            "session_id": ["A", "A", "A", "B"],
            "status": ["registered", "registered", "registered", "completed"],
        }
    )
    assert seats_left(sess, enr)["seats_left"].tolist() == [0, 3]


# --- brute force over every set of options -----------------------------------------------------


def random_request(seed: int) -> PlanRequest:
    """A small random request: 7 programmes, up to 2 sessions each in March, some full."""
    rng = np.random.default_rng(seed)
    mods = ["teknis", "workshop", "seminar", "e_learning", "coaching", "pjj", "bimtek"]
    rows, sess = [], []
    for i in range(7):
        mod = str(rng.choice(mods))
        eff = {
            c: (float(rng.choice([0.25, 0.5, 1.0, 1.5])), float(rng.integers(2, 5)))
            for c in rng.choice(IDS, size=int(rng.integers(0, 3)), replace=False)
        }
        rows.append((f"R{i}", mod, int(rng.integers(2, 16)), float(rng.integers(1, 30)) * 1e5, eff))
        n_sessions = 0 if mod in SESSION_FREE and rng.random() < 0.7 else int(rng.integers(0, 3))
        for j in range(n_sessions):
            start = pd.Timestamp("2025-03-01") + pd.Timedelta(days=int(rng.integers(0, 20)))
            end = start + pd.Timedelta(days=int(rng.integers(0, 4)))
            seats = int(rng.choice([0, 3, 10]))
            sess.append((f"R{i}-{j}", f"R{i}", str(start.date()), str(end.date()), seats))
    frame, gain, target = programmes(rows)
    frame["score"] = rng.normal(size=len(frame))
    return PlanRequest(
        levels=rng.choice([1.0, 2.0, 3.0, NAN], size=4),
        required=rng.choice([0, 3, 4], size=4).astype(float),
        weight=rng.choice([1.0, 1.5], size=4),
        priority=rng.choice([0.0, 0.5, 1.0], size=4),
        competency_ids=IDS,
        programs=frame,
        gain=gain,
        target=target,
        sessions=sessions(sess),
        target_required=rng.choice([0, 4, 5], size=4).astype(float),
        target_weight=rng.choice([0.5, 0.75], size=4),
        budget=None if rng.random() < 0.3 else float(rng.integers(10, 80)) * 1e5,
        min_jp=20,
        max_items=4,
        language="en",
    )


Option = tuple[int, str | None, pd.Timestamp | None, pd.Timestamp | None]


def all_options(req: PlanRequest) -> list[Option]:
    """(programme row, session, start, end): sessions with seats, or any time for a
    session-free programme without sessions."""
    p, s = req.programs, req.sessions
    opts: list[Option] = []
    for i, pid in enumerate(p["program_id"]):
        mine = s[s["program_id"] == pid]
        if mine.empty and p["modality"].iloc[i] in SESSION_FREE:
            opts.append((i, None, None, None))
        for _, row in mine[mine["seats_left"] > 0].iterrows():
            opts.append((i, row["session_id"], row["start_date"], row["end_date"]))
    return opts


def linear_value(req: PlanRequest, rows: list[int], dearest: float) -> float:
    """The documented objective of a set of programme rows."""
    a = req.levels
    assert req.target_required is not None and req.target_weight is not None
    raised = np.maximum(a, np.minimum(np.minimum(req.target, a + req.gain), 5))
    delta = np.nan_to_num(np.where(req.target > 0, raised, a) - a)
    value = 0.0
    for c in range(len(IDS)):
        if np.isnan(a[c]):
            continue
        total = delta[rows, c].sum()
        touching = [r for r in rows if req.target[r, c] > 0]
        for need, w in (
            (req.required[c], req.weight[c]),
            (req.target_required[c], req.target_weight[c]),
        ):
            if need <= 0 or a[c] >= need:
                continue
            ceiling = max((min(req.target[r, c], need) - a[c] for r in touching), default=0)
            value += (1 + req.priority[c]) * w * min(need - a[c], total, max(ceiling, 0))
    score = req.programs["score"].to_numpy()
    bonus = (score - score.min()) / (score.max() - score.min())
    cost = req.programs["cost_idr"].to_numpy()
    return value + sum(RANK_WEIGHT * (bonus[r] - 1) - COST_TIE * cost[r] / dearest for r in rows)


def brute_force(req: PlanRequest) -> tuple[float | None, list[set[tuple[str, str | None]]], float]:
    """Over every subset of options, written independently of the module from its documented
    objective and constraints: the best objective (None = infeasible), every option set
    reaching it (ties: another session of the same programme), and the cheapest cost of
    ``min_jp`` ignoring the budget (inf when the calendar cannot reach it)."""
    p = req.programs
    opts = all_options(req)
    dearest = max(p["cost_idr"].iloc[o[0]] for o in opts)
    budget = np.inf if req.budget is None else req.budget
    classical = p["classical"].to_numpy()
    nc_possible = any(not classical[o[0]] and p["cost_idr"].iloc[o[0]] <= budget for o in opts)
    feasible: list[tuple[float, bool, set[tuple[str, str | None]]]] = []
    cheapest = np.inf
    for k in range(req.max_items + 1):
        for subset in itertools.combinations(range(len(opts)), k):
            rows = [opts[o][0] for o in subset]
            dated = [(opts[o][2], opts[o][3]) for o in subset if opts[o][2] is not None]
            if len(set(rows)) < k or p["jp"].iloc[rows].sum() < req.min_jp:
                continue
            if any(
                s1 <= e2 and s2 <= e1 for (s1, e1), (s2, e2) in itertools.combinations(dated, 2)
            ):
                continue
            cost = p["cost_idr"].iloc[rows].sum()
            cheapest = min(cheapest, cost)
            if cost <= budget:
                ids = {(p["program_id"].iloc[opts[o][0]], opts[o][1]) for o in subset}
                value = linear_value(req, rows, dearest)
                feasible.append((value, any(not classical[r] for r in rows), ids))
    if nc_possible and any(nc for _, nc, _ in feasible):
        feasible = [f for f in feasible if f[1]]
    if not feasible:
        return None, [], cheapest
    best = max(f[0] for f in feasible)
    return best, [ids for value, _, ids in feasible if value >= best - 1e-7], cheapest


@pytest.mark.parametrize("seed", range(30))
def test_optimum_equals_brute_force(seed: int) -> None:
    req = random_request(seed)
    best, optimal, cheapest = brute_force(req)
    plan = make_plan(req)
    if best is None:
        assert plan.items == () and len(plan.problems) == 1
        if np.isfinite(cheapest):  # the budget is the reason: the cheapest way is named
            assert plan.problems[0].startswith(f"The budget of Rp {req.budget:,.0f} cannot")
            assert plan.problems[0].endswith(f" at Rp {cheapest:,.0f}.")
        else:
            assert plan.problems[0].startswith("Even without a budget limit")
        return
    assert plan.problems == ()
    assert plan.objective == pytest.approx(best, abs=1e-5)
    assert {(i.program_id, i.session_id) for i in plan.items} in optimal
    assert plan.total_jp >= 20 and (req.budget is None or plan.total_cost <= req.budget)
    dated = [(i.start_date, i.end_date) for i in plan.items if i.start_date is not None]
    assert all(e1 < s2 or e2 < s1 for (s1, e1), (s2, e2) in itertools.combinations(dated, 2))
