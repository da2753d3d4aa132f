"""EASE / RP3beta tuning on the carved slice, the fast full-ranking metric, the carving itself
and the recency-weighted history (training/external/xuetangx_collab.py, _data.py, _features.py).
Small synthetic matrices only: fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.external import xuetangx_collab as xc
from training.external.xuetangx_data import split_last, split_random
from training.external.xuetangx_features import build_history, recency_history
from training.metrics import query_metrics


def _matrices(seed: int = 0, users: int = 120, items: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """(taken, relevant): users follow one of three blocks of items; one held-out item each."""
    rng = np.random.default_rng(seed)
    taken = np.zeros((users, items), dtype=bool)
    relevant = np.zeros_like(taken)
    for u in range(users):
        block = np.arange(items)[u % 3 :: 3]
        picks = rng.choice(block, size=3, replace=False)
        taken[u, picks[:2]] = True
        relevant[u, picks[2]] = True
        if rng.random() < 0.3:
            taken[u, rng.integers(items)] = True
    return taken, relevant


def test_full_ranking_metrics_match_query_metrics() -> None:
    taken, relevant = _matrices()
    rng = np.random.default_rng(1)
    score = rng.random(taken.shape)
    ndcg, recall = xc.full_ranking_metrics(score=score, taken=taken, relevant=relevant)
    u, c = np.nonzero(~taken)
    frame = pd.DataFrame({"year": 0, "employee_id": u, "program_id": c})
    frame["label"] = (relevant & ~taken)[u, c].astype(int)
    ru, rc = np.nonzero(relevant & ~taken)
    rel = pd.DataFrame({"year": 0, "employee_id": ru, "program_id": rc, "label": 1})
    q = query_metrics(frame, rel, score[u, c], ks=(10,))
    assert ndcg.mean() == pytest.approx(q["ndcg@10"].mean())
    assert recall.mean() == pytest.approx(q["recall@10"].mean())


def test_tune_picks_grid_values_and_beats_a_bad_setting() -> None:
    taken, relevant = _matrices()
    tuned = xc.tune(taken=taken, relevant=relevant)
    assert tuned.ease["l2"] in xc.EASE_GRID
    assert tuned.rp3beta["alpha"] in xc.RP3_ALPHA
    assert tuned.rp3beta["beta"] in xc.RP3_BETA
    assert tuned.rp3beta["top_k"] in xc.RP3_TOP_K
    best = max(g["ndcg@10"] for g in tuned.grid["rp3beta"])
    assert tuned.validation["rp3beta"]["ndcg@10"] == best
    assert len(tuned.grid["ease"]) == len(xc.EASE_GRID)
    # block structure: the tuned models rank the held-out item far above chance
    assert tuned.validation["ease"]["ndcg@10"] > 0.3
    assert tuned.validation["rp3beta"]["recall@10"] > 0.8


def test_tune_depends_only_on_what_it_is_given() -> None:
    taken, relevant = _matrices()
    a = xc.tune(taken=taken, relevant=relevant)
    b = xc.tune(taken=taken.copy(), relevant=relevant.copy())
    assert a == b


def test_tune_refuses_an_empty_slice() -> None:
    taken, _ = _matrices()
    with pytest.raises(ValueError, match="no learner has a held-out course"):
        xc.tune(taken=taken, relevant=np.zeros_like(taken))


def _frame(sizes: dict[str, int]) -> pd.DataFrame:
    rows = [
        {"employee_id": u, "program_id": f"c{k}", "strength": 1.0, "seq": k}
        for u, n in sizes.items()
        for k in range(n)
    ]
    return pd.DataFrame(rows)


def test_split_last_min_past_and_share() -> None:
    frame = _frame({"a": 2, "b": 3, "c": 9, "d": 14})
    past, targets = split_last(frame, 1, min_past=2)
    assert targets.groupby("employee_id").size().to_dict() == {"b": 1, "c": 1, "d": 1}
    past, targets = split_last(frame, 1, share=0.2, min_past=2)
    assert targets.groupby("employee_id").size().to_dict() == {"b": 1, "c": 2, "d": 3}
    assert len(past) + len(targets) == len(frame)
    # targets are always each learner's latest courses
    last = frame.groupby("employee_id")["seq"].max()
    assert (targets["seq"].to_numpy() <= last[targets["employee_id"]].to_numpy()).all()
    first_target = targets.groupby("employee_id")["seq"].min()
    last_past = past.groupby("employee_id")["seq"].max().reindex(first_target.index)
    assert (last_past < first_target).all()
    with pytest.raises(ValueError, match="min_past"):
        split_last(frame, 1, min_past=0)


def test_recency_history_weights_latest_most() -> None:
    frame = _frame({"a": 3, "b": 1})
    learners, courses = pd.Index(["a", "b"]), pd.Index(["c0", "c1", "c2"])
    recent = recency_history(build_history(frame, learners, courses))
    assert recent[0].tolist() == pytest.approx([0.25, 0.5, 1.0])
    assert recent[1].tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_split_random_one_target_per_learner_and_deterministic() -> None:
    frame = _frame({"a": 2, "b": 3, "c": 9})
    past, targets = split_random(frame, seed=3, min_past=2)
    assert targets.groupby("employee_id").size().to_dict() == {"b": 1, "c": 1}
    assert len(past) + len(targets) == len(frame)
    again = split_random(frame, seed=3, min_past=2)[1]
    assert again.equals(targets)
    picks = {tuple(split_random(frame, seed=s, min_past=2)[1]["seq"].tolist()) for s in range(20)}
    assert len(picks) > 1  # not always the latest course
    with pytest.raises(ValueError, match="min_past"):
        split_random(frame, seed=0, min_past=0)
