"""Ranking metrics over full candidate lists, per query, with bootstrap confidence intervals.

A query is one (year, employee). ``frame`` holds every candidate of every query with a graded
``label`` (0 = not taken) and a score; ``relevant`` holds every programme actually taken in the
query (label >= 1), including those the candidate generator missed, so that recall and the ideal
DCG are honest. Queries without any relevant programme are left out.

Definitions (k = cut-off): DCG@k = sum over the top k of (2^label - 1) / log2(rank + 1), divided
by the ideal DCG of the query's relevant labels; Recall@k = relevant in the top k / all relevant;
AP@k = mean over relevant hits in the top k of precision at their rank, divided by
min(k, relevant); RR = 1 / rank of the first relevant candidate (0 if none). Checked against
scikit-learn's ``ndcg_score`` and hand-computed cases in ``tests/model/test_metrics.py``.

NDCG by modality family (:func:`family_ndcg`): the families are ``classical`` (the LAN
classical path: classroom, leadership, technical, workshop, seminar, bimtek ...; the catalogue's
``classical`` flag), ``self_paced`` (e-learning, self-study, distance learning:
``recommender.domain.SELF_PACED``) and ``workplace`` (every other non-classical modality:
coaching, mentoring, community of practice, secondment, internship, on-the-job guidance,
benchmarking, exchange, outdoor learning).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recommender.data.modalities import MODALITIES
from recommender.domain import SELF_PACED

QUERY = ["year", "employee_id"]
FAMILIES = ("classical", "self_paced", "workplace")


def ranked(frame: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    """Frame with a 1-based ``rank`` per query by descending score (ties: input order)."""
    df = frame[[*QUERY, "program_id", "label"]].assign(score=np.asarray(score, dtype=float))
    df = df.assign(_order=np.arange(len(df)))
    df = df.sort_values(
        [*QUERY, "score", "_order"], ascending=[True, True, False, True], kind="stable"
    )
    df["rank"] = df.groupby(QUERY, sort=False).cumcount() + 1
    return df.drop(columns="_order")


def _ideal_dcg(relevant: pd.DataFrame, k: int) -> pd.Series:
    rel = relevant.sort_values([*QUERY, "label"], ascending=[True, True, False])
    rel = rel.assign(pos=rel.groupby(QUERY).cumcount() + 1)
    rel = rel[rel["pos"] <= k]
    gain = (2.0 ** rel["label"] - 1) / np.log2(rel["pos"] + 1)
    return gain.groupby([rel[q] for q in QUERY]).sum()


def query_metrics(
    frame: pd.DataFrame, relevant: pd.DataFrame, score: np.ndarray, ks: tuple[int, ...] = (5, 10)
) -> pd.DataFrame:
    """One row per query with a relevant programme: ndcg@k, recall@k, map@k, mrr."""
    df = ranked(frame, score)
    n_rel = relevant.groupby(QUERY).size().rename("n_relevant")
    out = pd.DataFrame(n_rel)
    hit = df["label"] > 0
    keys = [df[q] for q in QUERY]
    for k in ks:
        top = df["rank"] <= k
        dcg = ((2.0 ** df["label"] - 1) / np.log2(df["rank"] + 1)).where(top, 0.0)
        out[f"ndcg@{k}"] = dcg.groupby(keys).sum().reindex(out.index).fillna(0) / _ideal_dcg(
            relevant, k
        ).reindex(out.index)
        hits = (hit & top).groupby(keys).sum().reindex(out.index).fillna(0)
        out[f"recall@{k}"] = hits / out["n_relevant"]
        cum_hits = (hit & top).astype(int).groupby(keys).cumsum()
        prec = (cum_hits / df["rank"]).where(hit & top, 0.0)
        out[f"map@{k}"] = prec.groupby(keys).sum().reindex(out.index).fillna(0) / np.minimum(
            k, out["n_relevant"]
        )
    first = df[hit].groupby([df.loc[hit, q] for q in QUERY])["rank"].min()
    out["mrr"] = (1.0 / first).reindex(out.index).fillna(0.0)
    return out.drop(columns="n_relevant")


def bootstrap_ci(
    values: np.ndarray, n_boot: int = 300, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampling queries)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (n_boot, len(values)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def top_k_profile(
    frame: pd.DataFrame, score: np.ndarray, offered: int, k: int = 10
) -> dict[str, float]:
    """Catalogue coverage, share of non-classical JP and mean priority alignment in the top k.

    ``frame`` needs ``classical``, ``jp`` and ``priority_alignment``; ``offered`` is the number of
    programmes that could have been recommended. ``non_classical_jp_share`` pools the top-k
    rows of every query: sum of JP of the non-classical ones (catalogue flag ``classical`` = 0,
    i.e. the LAN non-classical path: self-paced *and* workplace modalities) / sum of JP, so a
    query whose top k holds long programmes weighs more than one with short ones.
    """
    df = ranked(frame, score)
    top = frame.loc[df.index[df["rank"] <= k]]
    jp = top["jp"].to_numpy(float)
    non_classical = 1.0 - top["classical"].to_numpy(float)
    return {
        "coverage": float(top["program_id"].nunique() / max(offered, 1)),
        "non_classical_jp_share": float((jp * non_classical).sum() / max(jp.sum(), 1e-9)),
        "priority_alignment": float(top["priority_alignment"].mean()),
    }


def modality_family(*, modality: str) -> str:
    """The family of a modality code: ``classical``, ``self_paced`` or ``workplace``.

    Raises ``KeyError`` naming the code when it is not a modality of the contract."""
    if modality not in MODALITIES:
        raise KeyError(f"modality '{modality}' is not a modality of the contract")
    if MODALITIES[modality].classical:
        return "classical"
    return "self_paced" if modality in SELF_PACED else "workplace"


def program_families(*, programs: pd.DataFrame) -> pd.Series:
    """``program_id`` -> family (Series indexed by programme) from a programmes table with
    ``program_id`` and ``modality``. Raises ``KeyError`` for an unknown modality."""
    fam = [modality_family(modality=m) for m in programs["modality"]]
    return pd.Series(fam, index=programs["program_id"].to_numpy(), name="family")


def _frame_families(frame: pd.DataFrame) -> pd.Series:
    """Family of each candidate row from the frame's ``classical`` and ``self_paced`` flags."""
    classical = frame["classical"].to_numpy(float) > 0.5
    self_paced = frame["self_paced"].to_numpy(float) > 0.5
    fam = np.where(classical, "classical", np.where(self_paced, "self_paced", "workplace"))
    return pd.Series(fam, index=frame.index)


def family_ndcg(
    *,
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
    score: np.ndarray,
    k: int = 10,
    families: Mapping[str, str] | pd.Series | None = None,
) -> dict[str, float]:
    """NDCG@k of one ranker by modality family: ``{"classical": x, "self_paced": y,
    "workplace": z}`` (NaN for a family without any query).

    Within a family the ranking is the query's ranking restricted to that family's candidates
    (the ranker's scores, other families removed), and the ideal DCG is that of the query's
    relevant programmes of the family (so a programme the candidates missed still counts);
    queries without a relevant programme of the family are left out of its mean. ``frame`` and
    ``relevant`` as in :func:`query_metrics`; ``score`` has one value per ``frame`` row.
    ``families`` maps ``program_id`` -> family (:func:`program_families`); without it, the
    family of a programme comes from the frame's ``classical`` and ``self_paced`` columns and
    relevant programmes never seen among the candidates are left out. Raises ``ValueError``
    when ``score`` and ``frame`` differ in length or a needed column is missing.
    """
    score = np.asarray(score, dtype=float)
    if len(score) != len(frame):
        raise ValueError(f"family_ndcg: score has {len(score)} values, frame {len(frame)} rows")
    if families is None:
        if not {"classical", "self_paced"} <= set(frame.columns):
            raise ValueError("family_ndcg: frame needs 'classical' and 'self_paced' or families")
        fam_rows = _frame_families(frame)
        lookup = fam_rows.groupby(frame["program_id"].to_numpy()).first()
    else:
        lookup = pd.Series(families)
        fam_rows = pd.Series(frame["program_id"].map(lookup).to_numpy(), index=frame.index)
    fam_rel = relevant["program_id"].map(lookup).to_numpy()
    out: dict[str, float] = {}
    for fam in FAMILIES:
        rows = (fam_rows == fam).to_numpy()
        rel = relevant[fam_rel == fam]
        if rel.empty:
            out[fam] = float("nan")
            continue
        per_query = query_metrics(frame[rows], rel, score[rows], ks=(k,))
        out[fam] = float(per_query[f"ndcg@{k}"].mean())
    return out
