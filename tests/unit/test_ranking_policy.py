"""The ranking policy (recommender/ranking_policy.py): hand-made cases and a reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.ranking_policy import deadlines, guarantee_met, policy_cut, policy_scores


def _order(group: np.ndarray, values: np.ndarray, person: object) -> list[int]:
    """Input indices of one person's rows in descending stable order of ``values``."""
    rows = np.flatnonzero(np.asarray(group) == person)
    return [int(i) for i in rows[np.argsort(-values[rows], kind="stable")]]


def _reference(order: list[int], flagged: np.ndarray, k: int, guarantee: int) -> list[int]:
    """The policy written the slow way for one person: swap from the bottom of the top k."""
    top, rest = order[:k], order[k:]
    need = min(int(flagged[order].sum()), guarantee, k)
    missing = need - sum(bool(flagged[i]) for i in top)
    if missing <= 0:
        return order
    promote = [i for i in rest if flagged[i]][:missing]
    demote = [i for i in top if not flagged[i]][-missing:]
    new_top = [i for i in order if (i in top and i not in demote) or i in promote]
    return new_top + [i for i in order if i not in new_top]


def test_no_flagged_in_top_moves_the_best_flagged_up() -> None:
    score = np.array([9.0, 8, 7, 6, 5, 4, 3])
    flagged = np.array([False, False, False, False, True, False, True])
    out = policy_scores(group=np.zeros(7), score=score, flagged=flagged, k=3, guarantee=2)
    assert _order(np.zeros(7), out, 0.0) == [0, 4, 6, 1, 2, 3, 5]


def test_guarantee_already_met_changes_nothing() -> None:
    score = np.array([3.0, 2, 1, 0.5])
    flagged = np.array([False, True, False, True])
    out = policy_scores(group=np.zeros(4), score=score, flagged=flagged, k=2, guarantee=1)
    assert np.array_equal(out, score)


def test_fewer_flagged_than_the_guarantee_moves_all_of_them() -> None:
    score = np.arange(12, 0, -1, dtype=float)
    flagged = np.zeros(12, bool)
    flagged[11] = True  # m = 1 < guarantee 3
    out = policy_scores(group=np.zeros(12), score=score, flagged=flagged)
    order = _order(np.zeros(12), out, 0.0)
    assert order[:10] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 11]
    assert order[10:] == [9, 10]


def test_groups_need_not_be_contiguous_and_are_independent() -> None:
    group = np.array(["a", "b", "a", "b", "a", "b"])
    score = np.array([5.0, 5, 4, 4, 3, 3])
    flagged = np.array([False, True, False, False, True, False])
    out = policy_scores(group=group, score=score, flagged=flagged, k=1, guarantee=1)
    assert _order(group, out, "a") == [4, 0, 2]
    assert _order(group, out, "b") == [1, 3, 5]
    assert np.array_equal(out[[1, 3, 5]], score[[1, 3, 5]])  # b needs no move


def test_ties_keep_input_order() -> None:
    score = np.array([1.0, 1, 1, 1, 1])
    flagged = np.array([False, False, False, True, True])
    out = policy_scores(group=np.zeros(5), score=score, flagged=flagged, k=2, guarantee=1)
    assert _order(np.zeros(5), out, 0.0) == [0, 3, 1, 2, 4]
    assert out[2] == out[4]  # the rest keep their ties


def test_without_the_policy_the_top_k_lacks_flagged_items() -> None:
    """The case the guarantee exists for: the plain order shows nothing reachable."""
    score = np.linspace(1.0, 0.0, 20)
    flagged = np.arange(20) >= 15
    plain = _order(np.zeros(20), score, 0.0)[:10]
    served = _order(
        np.zeros(20), policy_scores(group=np.zeros(20), score=score, flagged=flagged), 0.0
    )[:10]
    assert not flagged[plain].any()
    assert flagged[served].sum() == 3
    assert served[-3:] == [15, 16, 17]


def test_guarantee_zero_and_empty_input() -> None:
    score = np.array([2.0, 1.0])
    flagged = np.array([False, True])
    assert np.array_equal(
        policy_scores(group=np.zeros(2), score=score, flagged=flagged, k=1, guarantee=0), score
    )
    assert len(policy_scores(group=np.zeros(0), score=np.zeros(0), flagged=np.zeros(0, bool))) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"group": np.zeros(2), "score": np.zeros(3), "flagged": np.zeros(3, bool)}, "length"),
        ({"group": np.zeros(1), "score": np.array([np.nan]), "flagged": np.zeros(1, bool)}, "NaN"),
        (
            {"group": np.zeros(1), "score": np.zeros(1), "flagged": np.zeros(1, bool), "k": 0},
            "k >= 1",
        ),
    ],
)
def test_bad_input_raises(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        policy_scores(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 3), st.integers(-3, 3), st.booleans()), min_size=0, max_size=40
    ),
    k=st.integers(1, 6),
    guarantee=st.integers(0, 4),
)
def test_agrees_with_the_slow_reference(
    rows: list[tuple[int, int, bool]], k: int, guarantee: int
) -> None:
    group = np.array([r[0] for r in rows], dtype=int)
    score = np.array([r[1] / 2 for r in rows], dtype=float)  # many ties
    flagged = np.array([r[2] for r in rows], dtype=bool)
    out = policy_scores(group=group, score=score, flagged=flagged, k=k, guarantee=guarantee)
    for person in set(group.tolist()):
        plain = _order(group, score, person)
        assert _order(group, out, person) == _reference(plain, flagged, k, guarantee)
        top = _order(group, out, person)[:k]
        m = int(flagged[plain].sum())
        assert flagged[top].sum() >= min(m, guarantee, k)
    after = guarantee_met(group=group, score=out, flagged=flagged, k=k, guarantee=guarantee)
    assert after.all()
    before = guarantee_met(group=group, score=score, flagged=flagged, k=k, guarantee=guarantee)
    same = [
        np.array_equal(out[group == g], score[group == g]) for g in dict.fromkeys(group.tolist())
    ]
    assert before.tolist() == same  # a group is re-ranked exactly when it misses the guarantee


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, (1, 0)),
        (2, (2, 1)),
        (4, (4, 1)),
        (5, (5, 2)),
        (8, (8, 2)),
        (9, (9, 3)),
        (10, (10, 3)),
        (25, (10, 3)),
    ],
)
def test_policy_cut_scales_short_answers(k: int, expected: tuple[int, int]) -> None:
    assert policy_cut(k=k) == expected


def test_policy_cut_rejects_bad_k() -> None:
    with pytest.raises(ValueError, match="k >= 1"):
        policy_cut(k=0)


def test_guarantee_met_per_group_in_first_appearance_order() -> None:
    group = np.array(["b", "a", "b", "a"])
    score = np.array([2.0, 2.0, 1.0, 1.0])
    flagged = np.array([False, True, True, False])
    met = guarantee_met(group=group, score=score, flagged=flagged, k=1, guarantee=1)
    assert met.tolist() == [False, True]  # b's flagged row is second, a's first


# ---------------------------------------------------------------------- spread placement
def _spread_reference(
    order: list[int], flagged: np.ndarray, k: int, guarantee: int, step: int
) -> list[int]:
    """The spread policy the slow way: insert the j-th best flagged item at its deadline."""
    out = list(order)
    best = [i for i in order if flagged[i]]
    need = min(len(best), guarantee, k)
    for j, item in enumerate(best[:need], start=1):
        deadline = min(step * j, k - need + j)  # 1-based
        if out.index(item) + 1 > deadline:
            out.remove(item)
            out.insert(deadline - 1, item)
    return out


def test_spread_puts_the_flagged_at_ranks_3_6_9() -> None:
    score = np.arange(20, 0, -1, dtype=float)
    flagged = np.arange(20) >= 12  # the plain top 10 shows none
    out = policy_scores(group=np.zeros(20), score=score, flagged=flagged, spread=3)
    order = _order(np.zeros(20), out, 0.0)
    assert order[:10] == [0, 1, 12, 2, 3, 13, 4, 5, 14, 6]
    assert order[10:] == [7, 8, 9, 10, 11, *range(15, 20)]
    assert np.array_equal(out[:2], score[:2])  # the ranks ahead of the first move keep scores


def test_spread_moves_only_what_misses_its_deadline() -> None:
    score = np.arange(12, 0, -1, dtype=float)
    flagged = np.zeros(12, bool)
    flagged[[1, 7, 11]] = True  # ranks 2 (in time), 8 (> 6: moves to 6), 12 (> 9: moves to 9)
    out = policy_scores(group=np.zeros(12), score=score, flagged=flagged, spread=3)
    order = _order(np.zeros(12), out, 0.0)
    assert order == [0, 1, 2, 3, 4, 7, 5, 6, 11, 8, 9, 10]
    met = guarantee_met(group=np.zeros(12), score=score, flagged=flagged, spread=3)
    assert met.tolist() == [False]
    plain = guarantee_met(group=np.zeros(12), score=score, flagged=flagged, k=12)
    assert plain.tolist() == [True]  # the count alone is met in a top 12


def test_spread_met_changes_nothing() -> None:
    score = np.array([5.0, 4, 3, 2, 1])
    flagged = np.array([False, True, False, False, True])  # ranks 2 and 5 <= 3 and 6
    out = policy_scores(group=np.zeros(5), score=score, flagged=flagged, spread=3)
    assert np.array_equal(out, score)


def test_short_answer_caps_the_deadlines() -> None:
    assert deadlines(need=2, k=5, spread=3) == [3, 5]
    assert deadlines(need=3, k=10, spread=3) == [3, 6, 9]
    assert deadlines(need=3, k=3, spread=3) == [1, 2, 3]
    assert deadlines(need=3, k=10) == [8, 9, 10]  # without spread: the bottom of the top k
    score = np.arange(8, 0, -1, dtype=float)
    flagged = np.arange(8) >= 6
    out = policy_scores(group=np.zeros(8), score=score, flagged=flagged, k=5, guarantee=2, spread=3)
    assert _order(np.zeros(8), out, 0.0)[:5] == [0, 1, 6, 2, 7]


def test_spread_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="spread"):
        policy_scores(group=np.zeros(1), score=np.zeros(1), flagged=np.ones(1, bool), spread=0)
    with pytest.raises(ValueError, match="need"):
        deadlines(need=4, k=3)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 3), st.integers(-3, 3), st.booleans()), min_size=0, max_size=40
    ),
    k=st.integers(1, 8),
    guarantee=st.integers(0, 4),
    step=st.integers(1, 5),
)
def test_spread_agrees_with_the_slow_reference(
    rows: list[tuple[int, int, bool]], k: int, guarantee: int, step: int
) -> None:
    group = np.array([r[0] for r in rows], dtype=int)
    score = np.array([r[1] / 2 for r in rows], dtype=float)  # many ties
    flagged = np.array([r[2] for r in rows], dtype=bool)
    out = policy_scores(
        group=group, score=score, flagged=flagged, k=k, guarantee=guarantee, spread=step
    )
    bottom = policy_scores(group=group, score=score, flagged=flagged, k=k, guarantee=guarantee)
    met = guarantee_met(
        group=group, score=score, flagged=flagged, k=k, guarantee=guarantee, spread=step
    )
    for i, person in enumerate(dict.fromkeys(group.tolist())):
        plain = _order(group, score, person)
        served = _order(group, out, person)
        assert served == _spread_reference(plain, flagged, k, guarantee, step)
        m = int(flagged[plain].sum())
        assert flagged[served[:k]].sum() >= min(m, guarantee, k)  # the count guarantee holds
        if step >= k:  # the deadlines are the bottom placement's
            assert served == _order(group, bottom, person)
        assert met[i] == np.array_equal(out[group == person], score[group == person])
    after = guarantee_met(
        group=group, score=out, flagged=flagged, k=k, guarantee=guarantee, spread=step
    )
    assert after.all()
