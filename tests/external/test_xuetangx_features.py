"""Pair features of the XuetangX model and the carvings they are built on: sequence features,
user-kNN, within-learner normalisation, ``split_back`` and the grouped carvings, and that no
carving lets a learner's pseudo-target reach its own features (training/external/
xuetangx_features.py, xuetangx_data.py, xuetangx.py). Small synthetic frames only: fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.external.xuetangx import XuetangxConfig, grouped_carvings
from training.external.xuetangx_collab import Tuned
from training.external.xuetangx_data import split_back, split_last
from training.external.xuetangx_features import (
    FEATURES,
    build_history,
    pair_features,
    sequence_features,
    user_knn,
)

TUNED = Tuned(ease={"l2": 10.0}, rp3beta={"alpha": 0.8, "beta": 0.1, "top_k": 0}, validation={})


def _frame(seqs: dict[str, list[str]]) -> pd.DataFrame:
    rows = [
        {"employee_id": u, "program_id": c, "strength": 1.0 + k, "seq": k}
        for u, courses in seqs.items()
        for k, c in enumerate(courses)
    ]
    return pd.DataFrame(rows)


def _random_frame(seed: int = 0, learners: int = 60, courses: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seqs = {
        f"u{i}": [f"c{j}" for j in rng.choice(courses, size=int(rng.integers(2, 7)), replace=False)]
        for i in range(learners)
    }
    return _frame(seqs)


def _indexes(frame: pd.DataFrame) -> tuple[pd.Index, pd.Index]:
    return pd.Index(frame["employee_id"].unique()), pd.Index(sorted(frame["program_id"].unique()))


def test_sequence_features_follow_the_order() -> None:
    frame = _frame({"a": ["x", "y", "z"], "b": ["x", "z"], "c": ["y", "x"]})
    learners, courses = _indexes(frame)  # courses x, y, z
    hist = build_history(frame, learners, courses)
    assert hist.last.tolist() == [2, 2, 0] and hist.prev.tolist() == [1, 0, 1]
    seq = sequence_features(hist)
    # a: second-latest y; after y came z (learner a) and x (learner c)
    assert seq["trans_prev"][0].tolist() == pytest.approx([0.5, 0.0, 0.5])
    # c: latest x: two steps after x only z (learner a)
    assert seq["skip_last"][2].tolist() == pytest.approx([0.0, 0.0, 1.0])
    # b: latest z is next to y (a) and x (b), either side
    assert seq["adjacent_last"][1].tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_user_knn_ignores_the_learner_itself() -> None:
    taken = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=bool)
    s = user_knn(taken, neighbours=1)
    assert s[1].tolist() == pytest.approx([1 / np.sqrt(2), 1 / np.sqrt(2), 0.0])
    assert s[2].tolist() == pytest.approx([0.0, 0.0, 0.0])  # no overlap with anyone


def test_pair_features_cover_the_feature_list_and_normalise_within_learner() -> None:
    frame = _random_frame()
    learners, courses = _indexes(frame)
    hist = build_history(frame, learners, courses)
    feats = pair_features(hist, TUNED)
    assert set(feats) == set(FEATURES)
    for name in FEATURES:
        assert np.shape(feats[name]) == hist.taken.shape, name
        assert np.isfinite(feats[name]).all(), name
    free = ~hist.taken
    z = np.where(free, feats["rp3_z"], np.nan)
    assert np.nanmean(z, axis=1) == pytest.approx(np.zeros(len(learners)), abs=1e-5)
    top = np.where(free, feats["rp3_to_top"], -np.inf).max(axis=1)
    assert top == pytest.approx(np.ones(len(learners)))


def test_split_back_targets_an_earlier_course_and_drops_the_later_ones() -> None:
    frame = _frame({"a": ["x", "y"], "b": ["x", "y", "z"], "c": ["x", "y", "z", "w"]})
    past, targets = split_back(frame, back=1, min_past=2)
    assert targets[["employee_id", "program_id"]].values.tolist() == [["c", "z"]]
    assert past.groupby("employee_id").size().to_dict() == {"a": 2, "b": 3, "c": 2}
    last_past, last_targets = split_last(frame, 1, min_past=2)
    back_past, back_targets = split_back(frame, back=0, min_past=2)
    assert back_past.equals(last_past) and back_targets.equals(last_targets)
    with pytest.raises(ValueError, match="back"):
        split_back(frame, back=-1)


def test_grouped_carvings_partition_the_targets() -> None:
    frame = _random_frame()
    learners, courses = _indexes(frame)
    _, targets = split_last(frame, 1, min_past=2)
    carvings = grouped_carvings(frame, targets, learners, courses, XuetangxConfig(carving_groups=3))
    assert len(carvings) == 3
    held = pd.concat([t for _, t in carvings])
    assert sorted(held["employee_id"]) == sorted(targets["employee_id"])
    for hist, part in carvings:
        # the history is the whole frame less this group's targets only
        assert hist.taken.sum() == len(frame) - len(part)


@pytest.mark.parametrize("groups", [1, 3])
def test_no_target_reaches_its_own_features(groups: int) -> None:
    """Changing the pseudo-targets of one carving leaves every feature of that carving
    unchanged, and the target is never among the learner's taken courses there."""
    frame = _random_frame(seed=2)
    learners, courses = _indexes(frame)
    _, targets = split_last(frame, 1, min_past=2)
    config = XuetangxConfig(carving_groups=groups)
    carvings = grouped_carvings(frame, targets, learners, courses, config)
    hist, part = carvings[0]
    u = learners.get_indexer(pd.Index(part["employee_id"]))
    c = courses.get_indexer(pd.Index(part["program_id"]))
    assert not hist.taken[u, c].any()
    # move group 0's targets to another course the learner does not have
    changed = frame.copy()
    for _, row in part.iterrows():
        mine = set(frame.loc[frame["employee_id"] == row["employee_id"], "program_id"])
        other = next(x for x in courses if x not in mine)
        at = (changed["employee_id"] == row["employee_id"]) & (
            changed["program_id"] == row["program_id"]
        )
        changed.loc[at, "program_id"] = other
    moved = changed.merge(targets[["employee_id", "seq"]], on=["employee_id", "seq"])
    again = grouped_carvings(changed, moved, learners, courses, config)[0]
    assert not again[1]["program_id"].equals(part["program_id"])
    before, after = pair_features(hist, TUNED), pair_features(again[0], TUNED)
    for name in FEATURES:
        np.testing.assert_array_equal(before[name], after[name], err_msg=name)
