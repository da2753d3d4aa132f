"""``jenjang external xuetangx``: interactions-only mode on XuetangX-format files.

Synthetic pairs of files are written in ``tmp_path`` in the publisher's format, so these tests do
not depend on ``shared/``; the real files are used only by the slow test, when present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import TEST_KEY
from training.cli import app
from training.external import xuetangx as xt

#: ``shared/`` lies beside the repository (a clone in CI has a copy beside it too).
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "external" / "xuetangx"
RANKERS = {"model", "popularity", "item_knn", "ease", "rp3beta"}
HEADLINE_KEYS = {"ndcg@10", "recall@10", "map@10", "mrr", "coverage"}
TRACKS, TRACK_LENGTH = 5, 6


def _learner(i: int) -> str:
    return f"learner-{i:04d}-zq"


def _course(track: int, step: int) -> str:
    return f"course-v1:SynthX+T{track}C{step}+2016_T1"


def _stamp(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms").strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def write_pair(
    folder: Path, learners: int = 240, seed: int = 0, optional: bool = True
) -> tuple[Path, Path]:
    """A train and a test file: each learner follows one track of courses in order (sometimes
    with a detour); the last one or two courses go to the test file for most learners. Rows of a
    learner are shuffled in the file: only the timestamps give the order."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for i in range(learners):
        track = int(rng.integers(TRACKS))
        start = int(rng.integers(0, 2))
        n = int(rng.integers(3, TRACK_LENGTH - start + 1))
        courses = [_course(track, start + s) for s in range(n)]
        if rng.random() < 0.3:
            courses.insert(1, _course(int(rng.integers(TRACKS)), int(rng.integers(TRACK_LENGTH))))
            courses = list(dict.fromkeys(courses))
        t0 = int(rng.integers(1_000_000_000, 40_000_000_000))
        rows = [
            {
                "username": _learner(i),
                "course_id": c,
                "interaction_strength": float(np.log1p(rng.integers(1, 200))),
                "ts_ms": _stamp(t0 + 86_400_000 * 7 * k),
            }
            for k, c in enumerate(courses)
        ]
        n_test = 0 if rng.random() < 0.1 else int(rng.integers(1, 3))
        n_test = min(n_test, len(rows) - 2)
        train += rows[: len(rows) - n_test]
        test += rows[len(rows) - n_test :]
    for j in range(5):  # learners only in the test file are not queries
        test.append(
            {
                "username": _learner(learners + j),
                "course_id": _course(0, 0),
                "interaction_strength": 1.0,
                "ts_ms": _stamp(2_000_000_000),
            }
        )
    paths = []
    for name, rows in (("train", train), ("test", test)):
        df = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
        if optional:
            codes = {u: k for k, u in enumerate(sorted(df["username"].unique()))}
            df["user_idx"] = df["username"].map(codes)
            df["item_idx"] = df["course_id"].astype("category").cat.codes
        path = folder / f"{name}.csv.gz"
        df.to_csv(path, index=False)
        paths.append(path)
    return paths[0], paths[1]


def _queries(train: Path, test: Path) -> int:
    tr, te = pd.read_csv(train), pd.read_csv(test)
    return len(set(tr["username"]) & set(te["username"]))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_pair(tmp_path_factory.mktemp("xuetangx"))


@pytest.fixture(scope="module")
def result(pair: tuple[Path, Path]) -> dict[str, Any]:
    return xt.run(*pair, TEST_KEY)


def _cli(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["external", "xuetangx", *args])
    return res.exit_code, res.stdout, res.stderr


def test_json_shape(pair: tuple[Path, Path]) -> None:
    code, out, err = _cli("--train", str(pair[0]), "--test", str(pair[1]), "--json")
    assert code == 0, err
    head = json.loads(out)
    assert set(head) == RANKERS
    for name, figures in head.items():
        assert HEADLINE_KEYS.issubset(figures), name
        for key in HEADLINE_KEYS:
            assert 0.0 <= figures[key] <= 1.0, (name, key)
        lo, hi = figures["ndcg@10_ci"]
        assert lo <= figures["ndcg@10"] <= hi
        assert figures["queries"] == _queries(*pair)
    assert head["model"]["best_baseline"] in RANKERS - {"model"}
    assert set(head["ease"]["params"]) == {"l2"}
    assert set(head["rp3beta"]["params"]) == {"alpha", "beta", "top_k"}
    ratio = head["model"]["ratio_vs_best_collab"]
    best = max(head["ease"]["ndcg@10"], head["rp3beta"]["ndcg@10"])
    assert ratio["ndcg@10"] == pytest.approx(head["model"]["ndcg@10"] / best)


def test_new_baselines_have_the_same_keys_as_the_old(pair: tuple[Path, Path]) -> None:
    code, out, err = _cli("--train", str(pair[0]), "--test", str(pair[1]), "--json")
    assert code == 0, err
    head = json.loads(out)
    for name in ("ease", "rp3beta"):
        assert set(head["item_knn"]).issubset(head[name]), name
        assert set(head[name]) - set(head["item_knn"]) == {"params", "validation"}


def test_table_by_default(pair: tuple[Path, Path]) -> None:
    code, out, err = _cli("--train", str(pair[0]), "--test", str(pair[1]))
    assert code == 0, err
    for name in RANKERS:
        assert name in out
    assert f"{_queries(*pair)} query learners" in out
    assert "EASE l2 =" in " ".join(out.split())


def test_learner_ids_never_in_output(pair: tuple[Path, Path], result: dict[str, Any]) -> None:
    ids = set(pd.read_csv(pair[0])["username"]) | set(pd.read_csv(pair[1])["username"])
    texts = [json.dumps(result)]
    for extra in ((), ("--json",)):
        code, out, err = _cli("--train", str(pair[0]), "--test", str(pair[1]), *extra)
        assert code == 0, err
        texts += [out, err]
    for text in texts:
        assert "learner-" not in text
        assert not any(u in text for u in ids)


def test_synthetic_tracks_are_learned(result: dict[str, Any]) -> None:
    """On data with a clear order (tracks), the model beats popularity by a wide margin."""
    rankers = result["rankers"]
    assert rankers["model"]["ndcg@10"] > rankers["popularity"]["ndcg@10"] + 0.1
    assert result["data"]["test_learners_not_in_train"] == 5


@pytest.mark.parametrize("missing", [["ts_ms"], ["username", "interaction_strength"]])
def test_missing_column_names_file_and_column(tmp_path: Path, missing: list[str]) -> None:
    train, test = write_pair(tmp_path, learners=40)
    pd.read_csv(test).drop(columns=missing).to_csv(test, index=False)
    code, out, err = _cli("--train", str(train), "--test", str(test), "--json")
    assert code == 2
    assert out == ""
    message = " ".join(err.split())  # rich may wrap long lines
    assert test.name in message
    for column in missing:
        assert column in message
    with pytest.raises(xt.ExternalDataError, match=", ".join(missing)):
        xt.load_interactions(test, TEST_KEY)


def test_missing_file(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    gone = tmp_path / "nowhere.csv.gz"
    code, _out, err = _cli("--train", str(gone), "--test", str(pair[1]))
    assert code == 2
    message = " ".join(err.split())
    assert "nowhere.csv.gz" in message
    assert "file not found" in message


def test_optional_columns_and_plain_csv(tmp_path: Path) -> None:
    train, test = write_pair(tmp_path, learners=80, optional=False)
    plain = tmp_path / "train.csv"
    pd.read_csv(train).to_csv(plain, index=False)
    res = xt.run(plain, test, TEST_KEY)
    assert res["rankers"]["model"]["queries"] == _queries(train, test)


def test_order_comes_from_timestamps_not_file(tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    pd.DataFrame(
        {
            "username": ["a", "a", "a", "b"],
            "course_id": ["c3", "c1", "c2", "c1"],
            "interaction_strength": [1.0, 2.0, 3.0, 1.0],
            "ts_ms": [
                "1970-03-01 00:00:00.000",
                "1970-01-01 00:00:00.000",
                "1970-02-01 00:00:00.000",
                "",
            ],
        }
    ).to_csv(path, index=False)
    got = xt.load_interactions(path, TEST_KEY)
    a = got.frame[got.frame["employee_id"] == got.frame["employee_id"].iloc[0]]
    assert list(a.sort_values("seq")["program_id"]) == ["c1", "c2", "c3"]
    assert got.problems == {"required_value:ts": 1}  # reported, not dropped
    assert got.dropped == 0
    past, targets = xt.split_last(got.frame, holdout=1)
    assert list(targets["program_id"]) == ["c3"]  # b has one course: nothing held out
    assert len(past) == 3


def test_fit_never_reads_the_test_file_and_key_is_irrelevant(
    tmp_path: Path, pair: tuple[Path, Path], result: dict[str, Any]
) -> None:
    """The fit is the same whatever the test file holds, and figures do not depend on the
    pseudonym key."""
    other = write_pair(tmp_path, seed=5)[1]
    again = xt.run(pair[0], other, TEST_KEY)
    assert again["fit"] == result["fit"]
    assert again["tuning"] == result["tuning"]  # EASE / RP3beta settings: train file only
    assert again["rankers"] != result["rankers"]  # the test file did change the figures
    rekeyed = xt.run(*pair, "another-key-0123456789abcdef0123456789")
    assert rekeyed["rankers"] == result["rankers"]


def test_extra_carvings_add_fitting_queries_only(
    pair: tuple[Path, Path], result: dict[str, Any]
) -> None:
    """More carvings change the fit but not the tuning nor the early-stopping queries."""
    more = xt.run(*pair, TEST_KEY, xt.XuetangxConfig(extra_carvings=1))
    groups = xt.XuetangxConfig().carving_groups
    assert result["fit"]["carvings"] == groups and more["fit"]["carvings"] == groups + 1
    assert more["tuning"] == result["tuning"]
    assert more["fit"]["learners_with_target"] == result["fit"]["learners_with_target"]
    assert more["fit"]["candidate_rows"] > result["fit"]["candidate_rows"]
    for name in ("popularity", "item_knn", "ease", "rp3beta"):
        assert more["fit"]["internal"][name] == result["fit"]["internal"][name]


def test_grouped_carvings_shared_stop_and_blend(
    pair: tuple[Path, Path], result: dict[str, Any]
) -> None:
    """Grouped carvings score the same learners as one carving; shared stopping gives every
    fold model the same round; the blend weight comes from the grid (or 0); the tuning and the
    baselines' settings do not change."""
    config = xt.XuetangxConfig(carving_groups=3, shared_stop=True, blend_grid=(0.5, 2.0))
    more = xt.run(*pair, TEST_KEY, config)
    fit = more["fit"]
    assert fit["carvings"] == 3
    assert fit["learners_with_target"] == result["fit"]["learners_with_target"]
    assert fit["pseudo_targets"] == result["fit"]["pseudo_targets"]
    assert len(set(fit["best_iterations"])) == 1
    assert fit["blend_rp3_rank"] in (0.0, 0.5, 2.0)
    assert more["tuning"] == result["tuning"]
    assert more["rankers"]["model"]["ndcg@10"] > more["rankers"]["popularity"]["ndcg@10"]


@pytest.mark.slow
@pytest.mark.shared(SHARED / "train.csv.gz")  # skipped when missing; fails in CI
def test_real_files_model_beats_baselines() -> None:
    code, out, err = _cli(
        "--train", str(SHARED / "train.csv.gz"), "--test", str(SHARED / "val.csv.gz"), "--json"
    )
    assert code == 0, err
    head = json.loads(out)
    assert head["model"]["queries"] == 3098
    for base in ("popularity", "item_knn"):
        for metric in ("ndcg@10", "recall@10"):
            assert head["model"][metric] > head[base][metric], (base, metric)
    for base in ("ease", "rp3beta"):
        assert head[base]["queries"] == 3098
        assert head[base]["ndcg@10"] > head["item_knn"]["ndcg@10"], base
