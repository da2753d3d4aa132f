"""``jenjang external onet`` and the standards-only scorer.

A hand-made O*NET-format folder is written in ``tmp_path`` (five occupations with a standard, one
without), small enough to rank by hand; the real O*NET files are used only when ``shared/`` lies
beside the repository.

The hand case (skills s1, s2; knowledge k1, k2; importance / job zone):

- A ``11-1011.00`` (tune half) 4 2 | 4 1, zone 2 -- source: relevant C (Index 1); B is only
  Supplemental (Index 11).
- B ``11-2011.00`` the same profile as A, zone 5: cosine puts it first for A (similarity 1);
  the model moves it down (three tiers up: two beyond the free step).
- C ``13-1011.00`` 4 2 | 3.5 1.5, zone 2.
- D ``15-1211.00`` (held-out half) 1.5 5 | 1 5, zone 2 -- source: relevant E (Index 1) and F
  (Index 2, no standard: a miss for every method).
- E ``17-1011.00`` 2 4.5 | 1.5 4.5, zone 3.
- F ``19-1011.00`` listed, job zone 1, no skills or knowledge: not a position; as a source
  (-> A) it is skipped.

So for A: cosine ranks B, C, ... (RR 1/2), the model C first (RR 1); recall@10 is 1 for both. For D
both put E first (RR 1), recall@10 = 1/2 (F cannot be ranked). Means: cosine recall 0.75, MRR
0.75; model recall 0.75, MRR 1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.careers import standards as st
from training.cli import app
from training.external import onet
from training.metrics import query_metrics as reference_metrics

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "external" / "onet"
A, B, C, D, E, F = (
    "11-1011.00",
    "11-2011.00",
    "13-1011.00",
    "15-1211.00",
    "17-1011.00",
    "19-1011.00",
)
SKILLS = ("2.A.1.a", "2.A.1.b")
KNOWLEDGE = ("2.C.1.a", "2.C.1.b")
#: importance per occupation: s1, s2, k1, k2
IMPORTANCE = {
    A: (4.0, 2.0, 4.0, 1.0),
    B: (4.0, 2.0, 4.0, 1.0),
    C: (4.0, 2.0, 3.5, 1.5),
    D: (1.5, 5.0, 1.0, 5.0),
    E: (2.0, 4.5, 1.5, 4.5),
}
ZONES = {A: 2, B: 5, C: 2, D: 2, E: 3, F: 1}
TRUTH = [(A, C, 1), (A, B, 11), (D, E, 1), (D, F, 2), (F, A, 1)]
FIGURE_KEYS = {"recall@10", "mrr", "ndcg@10", "recall@10_ci", "mrr_ci", "ndcg@10_ci", "queries"}


def _level(im: float) -> float:
    """Level ratings of the fixture: a simple function of importance (0 when unimportant)."""
    return 0.0 if im <= 1.0 else round(1.45 * im - 0.5, 2)


def write_onet(folder: Path, tier_column: bool = True) -> Path:
    """The hand case as O*NET files in ``folder``; returns the truth file."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"O*NET-SOC Code": list(ZONES), "Title": [f"Occupation {c}" for c in ZONES]}
    ).assign(Description="...").to_csv(folder / "occupations.csv.gz", index=False)
    for name, elements, offset in (("skills", SKILLS, 0), ("knowledge", KNOWLEDGE, 2)):
        rows = []
        for code, values in IMPORTANCE.items():
            for j, element in enumerate(elements):
                im = values[offset + j]
                common = {"O*NET-SOC Code": code, "Element ID": element, "Element Name": element}
                rows.append({**common, "Scale ID": "IM", "Data Value": im, "Not Relevant": ""})
                flag = "Y" if im <= 1.0 else "N"
                rows.append(
                    {**common, "Scale ID": "LV", "Data Value": _level(im), "Not Relevant": flag}
                )
        frame = pd.DataFrame(rows).assign(N=20, **{"Recommend Suppress": "N"})
        frame.to_csv(folder / f"{name}.csv.gz", index=False)
    pd.DataFrame({"O*NET-SOC Code": list(ZONES), "Job Zone": list(ZONES.values())}).to_csv(
        folder / "job_zones.csv.gz", index=False
    )
    truth = pd.DataFrame(TRUTH, columns=["O*NET-SOC Code", "Related O*NET-SOC Code", "Index"])
    if tier_column:
        truth["Relatedness Tier"] = np.where(truth["Index"] <= 5, "Primary-Short", "Supplemental")
    path = folder / "related_occupations.csv.gz"
    truth.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the hand case (its truth file is ``related_occupations.csv.gz``)."""
    return write_onet(tmp_path_factory.mktemp("onet")).parent


def _cli(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["external", "onet", *args])
    return res.exit_code, res.stdout, res.stderr


# --------------------------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------------------------


def test_level_bands() -> None:
    lv = np.array([0.0, 1.39, 1.4, 2.79, 2.8, 4.2, 5.59, 5.6, 7.0, np.nan])
    got = onet.level_from_lv(lv)
    np.testing.assert_array_equal(got[:-1], [1, 1, 2, 2, 3, 4, 4, 5, 5])
    assert np.isnan(got[-1])
    for bad in (-0.1, 7.2):
        with pytest.raises(ValueError, match="between 0 and 7"):
            onet.level_from_lv(np.array([bad]))


def test_weight_and_tier_mapping() -> None:
    np.testing.assert_array_equal(onet.weight_from_importance(np.array([1, 2.5, 5])), [0, 1.5, 4])
    with pytest.raises(ValueError):
        onet.weight_from_importance(np.array([0.5]))
    np.testing.assert_array_equal(
        onet.tier_from_job_zone(np.array([1, 2, 3, 4, 5])), [1, 2, 3, 4, 5]
    )
    assert np.isnan(onet.tier_from_job_zone(np.array([np.nan]))[0])
    for bad in (0, 6, 2.5):
        with pytest.raises(ValueError, match="1-5"):
            onet.tier_from_job_zone(np.array([bad]))


def test_load_standards_maps_the_hand_case(hand: Path) -> None:
    std = onet.load_standards(hand)
    assert std.codes == (A, B, C, D, E)  # F has no standard
    assert std.competencies == (*SKILLS, *KNOWLEDGE)
    np.testing.assert_array_equal(std.groups, [0, 0, 1, 1])
    a = std.codes.index(A)
    # importance 4 -> weight 3, level 1.45 * 4 - 0.5 = 5.3 -> band 4; importance 1 -> dropped
    np.testing.assert_array_equal(std.weight[a], [3, 1, 3, 0])
    np.testing.assert_array_equal(std.required[a], [4, 2, 4, 0])
    np.testing.assert_array_equal(std.importance[a], IMPORTANCE[A])  # the baseline's input
    np.testing.assert_array_equal(std.tier, [2, 5, 2, 2, 3])
    assert std.facts["occupations_without_standard"] == 1
    assert std.facts["dropped_not_relevant"] == 3  # A k2, B k2, D k1


# --------------------------------------------------------------------------------------------
# The scorer
# --------------------------------------------------------------------------------------------


def test_level_gap_by_hand() -> None:
    req = np.array([[3.0, 0.0], [1.0, 2.0]])
    weight = np.array([[2.0, 0.0], [1.0, 1.0]])
    # pair weights max(2, 1) = 2 and max(0, 1) = 1; differences 2 and 2 -> (4 + 2) / 3
    gap = st.level_gap(req, weight, np.array([0, 1]))
    np.testing.assert_allclose(gap, [[0.0, 2.0], [2.0, 0.0]])


def test_cosine_by_hand() -> None:
    imp = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    got = st.cosine_scores(imp, 0)
    assert got[0] == -np.inf
    np.testing.assert_allclose(got[1:], [1 / np.sqrt(2), 0.0])


def test_tier_steps_order_equal_profiles() -> None:
    """Equal standards: same tier and one step up cost nothing, a step down 0.1, two up 0.5."""
    req = np.full((5, 3), 3.0)
    weight = np.ones((5, 3))
    tiers = np.array([2.0, 2.0, 3.0, 1.0, 4.0])
    got = st.standards_scores(req, weight, tiers, 0)
    assert got[0] == -np.inf
    np.testing.assert_allclose(got[1:], [0.0, 0.0, -0.1, -0.5])
    unknown = st.standards_scores(req, weight, np.array([2.0, np.nan, 5, 2, 2]), 0)
    assert unknown[1] == 0.0  # an unknown tier adds nothing


def test_similarity_is_standardised_and_scale_free() -> None:
    rng = np.random.default_rng(0)
    req = rng.integers(0, 6, (30, 8)).astype(float)
    weight = rng.uniform(0.5, 4, (30, 8))
    tiers = rng.integers(1, 6, 30).astype(float)
    groups = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    base = st.standards_matrix(req, weight, tiers, groups=groups)
    scaled = st.standards_matrix(req, 2.5 * weight, tiers, groups=groups)
    np.testing.assert_allclose(base, scaled)  # weights in any unit
    parts = st.terms(req, weight, tiers, st.StandardsParams().prior, groups)
    sim = np.where(np.eye(30, dtype=bool), np.nan, parts.similarity)
    np.testing.assert_allclose(np.nanmean(sim, axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(np.nanstd(sim, axis=1), 1)
    one = st.standards_scores(req, weight, tiers, 7, groups=groups)
    np.testing.assert_allclose(one, base[7])


@pytest.mark.parametrize(
    ("req", "weight", "tiers", "message"),
    [
        (np.ones((3, 2)), np.ones((3, 3)), np.ones(3), "one shape"),
        (np.full((3, 2), 6.0), np.ones((3, 2)), np.ones(3), "between 0 and 5"),
        (np.ones((3, 2)), -np.ones((3, 2)), np.ones(3), "non-negative"),
        (np.ones((3, 2)), np.ones((3, 2)), np.ones(2), "tier_level"),
        (np.ones((1, 2)), np.ones((1, 2)), np.ones(1), "two positions"),
    ],
)
def test_scorer_errors(
    req: np.ndarray, weight: np.ndarray, tiers: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        st.standards_scores(req, weight, tiers, 0)


def test_source_out_of_range_and_bad_params() -> None:
    with pytest.raises(ValueError, match="out of range"):
        st.standards_scores(np.ones((3, 2)), np.ones((3, 2)), np.ones(3), 3)
    with pytest.raises(ValueError, match="out of range"):
        st.cosine_scores(np.ones((3, 2)), -1)
    with pytest.raises(ValueError, match="gap"):
        st.StandardsParams(gap=-1.0)


# --------------------------------------------------------------------------------------------
# Metrics and the run
# --------------------------------------------------------------------------------------------


def _queries(relevant: list[list[int]], n_relevant: list[int], p: int) -> onet.Queries:
    rel = np.zeros((len(relevant), p), dtype=bool)
    for q, targets in enumerate(relevant):
        rel[q, targets] = True
    n = len(relevant)
    return onet.Queries(
        np.arange(n), tuple(str(i) for i in range(n)), rel, np.array(n_relevant), np.ones(n, bool)
    )


def test_metrics_by_hand() -> None:
    scores = np.array([[-np.inf, 0.9, 0.8, 0.7, 0.1], [0.5, -np.inf, 0.5, 0.9, 0.2]])
    # query 0 ranks 1, 2, 3, 4, 0: relevant 2 (rank 2) and 4 (rank 4) plus one non-position
    # query 1 ranks 3, 0, 2 (tie kept in catalogue order), 4, 1: relevant 2 (rank 3)
    queries = _queries([[2, 4], [2]], [3, 1], 5)
    got = onet.query_metrics(scores, queries, k=2)
    np.testing.assert_allclose(got["recall@2"], [1 / 3, 0.0])
    np.testing.assert_allclose(got["mrr"], [1 / 2, 1 / 3])
    ideal = 1 + 1 / np.log2(3)
    np.testing.assert_allclose(got["ndcg@2"], [(1 / np.log2(3)) / ideal, 0.0])
    got10 = onet.query_metrics(scores, queries)
    np.testing.assert_allclose(got10["recall@10"], [2 / 3, 1.0])


def test_metrics_agree_with_the_pipeline_metrics() -> None:
    """Same figures as ``training.metrics.query_metrics`` when every relevant item is ranked."""
    rng = np.random.default_rng(3)
    n_q, p = 40, 30
    scores = rng.normal(size=(n_q, p))
    rel = rng.random((n_q, p)) < 0.2
    rel[:, 0] = True
    queries = onet.Queries(np.arange(n_q), (), rel, rel.sum(axis=1), np.ones(n_q, bool))
    ours = onet.query_metrics(scores, queries)
    q, c = np.meshgrid(np.arange(n_q), np.arange(p), indexing="ij")
    frame = pd.DataFrame(
        {"year": 0, "employee_id": q.ravel(), "program_id": c.ravel(), "label": rel.ravel() * 1}
    )
    ref = reference_metrics(frame, frame[frame["label"] > 0], scores.ravel(), ks=(10,))
    for m in ("recall@10", "mrr", "ndcg@10"):
        np.testing.assert_allclose(ours[m], ref[m].to_numpy(), err_msg=m)


def test_hand_case_figures(hand: Path) -> None:
    res = onet.run(hand / "related_occupations.csv.gz", hand)
    head = onet.headline(res)
    assert head["cosine"]["recall@10"] == pytest.approx(0.75)
    assert head["cosine"]["mrr"] == pytest.approx(0.75)
    assert head["model"]["recall@10"] == pytest.approx(0.75)
    assert head["model"]["mrr"] == pytest.approx(1.0)
    assert head["model"]["queries"] == 2
    # D is the held-out half: both methods rank E first there
    assert head["model"]["held_out"]["queries"] == 1
    assert head["model"]["held_out"]["mrr"] == head["cosine"]["held_out"]["mrr"] == 1.0
    assert head["model"]["tuned_on"]["queries"] == 1
    assert head["model"]["vs_cosine"]["all"]["mrr"]["diff"] == pytest.approx(0.25)
    data = res["data"]
    assert data["sources_without_standard"] == 1  # F
    assert data["relevant_not_positions"] == 1  # D -> F
    assert data["relevant_pairs"] == 4  # A -> B (Index 11) is not relevant


def test_split_is_fixed_and_tuning_never_sees_the_held_out_half(hand: Path) -> None:
    assert onet.split_half(A) == onet.TUNE and onet.split_half(D) == onet.HELD_OUT
    std = onet.load_standards(hand)
    queries, _ = onet.build_queries(std, onet.read_truth(hand / "related_occupations.csv.gz"))
    grid = {"prior": (0.0, 2.0), "gap": (0.0, 0.2), "up": (0.0, 0.5), "down": (0.0, 0.1)}
    params, info = onet.tune(std, queries, grid)
    assert info["combinations"] == 16
    scrambled = onet.Queries(
        queries.sources,
        queries.codes,
        np.where(queries.tune[:, None], queries.relevant, ~queries.relevant),
        queries.n_relevant,
        queries.tune,
    )
    assert onet.tune(std, scrambled, grid)[0] == params


def test_truth_without_tier_column_and_plain_csv(tmp_path: Path, hand: Path) -> None:
    truth = write_onet(tmp_path / "o", tier_column=False)
    assert "Relatedness Tier" not in pd.read_csv(truth).columns
    plain = tmp_path / "truth.csv"
    pd.read_csv(truth).to_csv(plain, index=False)
    with_tier = onet.headline(onet.run(hand / "related_occupations.csv.gz", hand))
    for path in (truth, plain):
        got = onet.headline(onet.run(path, hand))
        assert got["model"]["mrr"] == with_tier["model"]["mrr"]
        assert got["cosine"]["recall@10"] == with_tier["cosine"]["recall@10"]


@pytest.mark.parametrize("missing", [["Index"], ["O*NET-SOC Code", "Related O*NET-SOC Code"]])
def test_missing_column_names_file_and_column(
    tmp_path: Path, hand: Path, missing: list[str]
) -> None:
    truth = tmp_path / "pairs.csv.gz"
    pd.read_csv(hand / "related_occupations.csv.gz").drop(columns=missing).to_csv(
        truth, index=False
    )
    with pytest.raises(onet.ExternalDataError, match=re.escape(", ".join(missing))):
        onet.read_truth(truth)
    code, out, err = _cli("--truth", str(truth), "--onet-dir", str(hand), "--json")
    assert code == 2
    assert out == ""
    message = " ".join(err.split())
    assert "pairs.csv.gz" in message
    for column in missing:
        assert column in message


def test_bad_index_and_missing_folder(tmp_path: Path, hand: Path) -> None:
    truth = tmp_path / "bad.csv"
    frame = pd.read_csv(hand / "related_occupations.csv.gz").astype({"Index": object})
    frame.loc[2, "Index"] = "first"
    frame.to_csv(truth, index=False)
    with pytest.raises(onet.ExternalDataError, match=r"bad.csv: column Index: .* line 4"):
        onet.read_truth(truth)
    code, _out, err = _cli("--truth", str(truth), "--onet-dir", str(tmp_path / "nowhere"))
    assert code == 2
    assert "nowhere" in " ".join(err.split())


def test_value_off_scale_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "o"
    write_onet(folder)
    knowledge = pd.read_csv(folder / "knowledge.csv.gz")
    knowledge.loc[knowledge["Scale ID"] == "LV", "Data Value"] = 9.0
    knowledge.to_csv(folder / "knowledge.csv.gz", index=False)
    with pytest.raises(onet.ExternalDataError, match=r"knowledge.csv.gz: .*between 0 and 7"):
        onet.load_standards(folder)


def test_cli_json_shape(hand: Path) -> None:
    code, out, err = _cli(
        "--truth", str(hand / "related_occupations.csv.gz"), "--onet-dir", str(hand), "--json"
    )
    assert code == 0, err
    head = json.loads(out)
    assert set(head) == {"model", "cosine"}
    for figures in head.values():
        assert FIGURE_KEYS.issubset(figures)
        assert FIGURE_KEYS.issubset(figures["held_out"])
        lo, hi = figures["recall@10_ci"]
        assert lo <= figures["recall@10"] <= hi
    assert {"half", "split", "queries", "params"}.issubset(head["model"]["tuned_on"])
    assert set(head["model"]["vs_cosine"]) == {"all", "held_out"}
    assert {"lift", "diff", "diff_ci"} == set(head["model"]["vs_cosine"]["all"]["mrr"])


def test_cli_table_by_default(hand: Path) -> None:
    code, out, err = _cli(
        "--truth", str(hand / "related_occupations.csv.gz"), "--onet-dir", str(hand)
    )
    assert code == 0, err
    for word in ("model", "cosine", "held-out", "CC BY 4.0"):
        assert word in out


# --------------------------------------------------------------------------------------------
# The real O*NET 29.3 files
# --------------------------------------------------------------------------------------------

#: skipped when the shared O*NET files are missing; fails in CI (tests/conftest.py)
needs_shared = pytest.mark.shared(SHARED / "related_occupations.csv.gz")


@needs_shared
def test_real_data_model_at_least_matches_cosine() -> None:
    code, out, err = _cli("--truth", str(SHARED / "related_occupations.csv.gz"), "--json")
    assert code == 0, err
    head = json.loads(out)
    assert head["model"]["queries"] == 879
    for metric in ("recall@10", "mrr"):
        assert head["model"][metric] >= head["cosine"][metric], metric
        held = head["model"]["held_out"][metric], head["cosine"]["held_out"][metric]
        assert held[0] >= held[1], metric


@pytest.mark.slow
@needs_shared
def test_real_data_tuning_on_the_tune_half_gives_the_defaults() -> None:
    std = onet.load_standards(SHARED)
    truth = onet.read_truth(SHARED / "related_occupations.csv.gz")
    queries, _ = onet.build_queries(std, truth)
    params, _info = onet.tune(std, queries)
    assert params == st.StandardsParams()
