"""NDCG@k by modality family (issue 16, part 3) on a hand-made frame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from training.metrics import family_ndcg, modality_family, program_families

#: programme -> (classical, self_paced)
FLAGS = {"C1": (1, 0), "C2": (1, 0), "E1": (0, 1), "W1": (0, 0), "W2": (0, 0)}


def _frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two queries over five candidates; W3 (workplace) is relevant but not a candidate."""
    rows = []
    labels = {("a", "C1"): 2, ("a", "W1"): 3, ("a", "E1"): 1, ("b", "C2"): 3, ("b", "W2"): 1}
    for emp in ("a", "b"):
        for prog, (classical, self_paced) in FLAGS.items():
            rows.append((2025, emp, prog, labels.get((emp, prog), 0), classical, self_paced))
    cols = ["year", "employee_id", "program_id", "label", "classical", "self_paced"]
    frame = pd.DataFrame(rows, columns=cols)
    relevant = pd.DataFrame(
        [(2025, e, p, lab) for (e, p), lab in labels.items()] + [(2025, "b", "W3", 2)],
        columns=["year", "employee_id", "program_id", "label"],
    )
    return frame, relevant


def _dcg(labels: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(labels))


def test_family_ndcg_by_hand() -> None:
    frame, relevant = _frame()
    # scores per query in candidate order C1, C2, E1, W1, W2
    score = np.array([5, 4, 3, 2, 1, 1, 2, 3, 4, 5], dtype=float)
    families = pd.Series({"C1": "classical", "C2": "classical", "E1": "self_paced"})
    families = pd.concat([families, pd.Series({"W1": "workplace", "W2": "workplace"})])
    families["W3"] = "workplace"
    got = family_ndcg(frame=frame, relevant=relevant, score=score, families=families)
    # classical: a ranks C1 (2) first -> 1; b ranks C2 (3) first among C1, C2 -> 1
    assert got["classical"] == pytest.approx(1.0)
    # self-paced: only a has a relevant one, E1 is its only candidate -> 1
    assert got["self_paced"] == pytest.approx(1.0)
    # workplace: a has W1 (3) at rank 1 -> 1; b ranks W2 (1) first, W1 (0), W3 missed:
    # DCG = 1, ideal = labels (2, 1)
    b = _dcg([1, 0]) / _dcg([2, 1])
    assert got["workplace"] == pytest.approx((1.0 + b) / 2)
    # reversing a's workplace order lowers only the workplace figure
    worse = score.copy()
    worse[3], worse[4] = 1, 2
    again = family_ndcg(frame=frame, relevant=relevant, score=worse, families=families)
    assert again["classical"] == got["classical"]
    assert again["workplace"] < got["workplace"]


def test_family_ndcg_from_frame_flags_leaves_unseen_programmes_out() -> None:
    frame, relevant = _frame()
    score = np.array([5, 4, 3, 2, 1, 1, 2, 3, 4, 5], dtype=float)
    got = family_ndcg(frame=frame, relevant=relevant, score=score)
    # W3 never appears among the candidates: b's workplace ideal is W2 alone, ranked first
    assert got["workplace"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="score has 3 values"):
        family_ndcg(frame=frame, relevant=relevant, score=score[:3])


def test_families_of_modalities() -> None:
    assert modality_family(modality="teknis") == "classical"
    assert modality_family(modality="seminar") == "classical"
    assert modality_family(modality="pjj") == "self_paced"
    for m in ("coaching", "mentoring", "komunitas_belajar", "detasering", "magang"):
        assert modality_family(modality=m) == "workplace"
    assert modality_family(modality="patok_banding") == "workplace"
    with pytest.raises(KeyError, match="'zoom'"):
        modality_family(modality="zoom")
    progs = pd.DataFrame({"program_id": ["P", "Q"], "modality": ["bimbingan_kerja", "e_learning"]})
    assert program_families(programs=progs).to_dict() == {"P": "workplace", "Q": "self_paced"}
