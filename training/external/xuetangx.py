"""XuetangX MOOC interactions: the programme ranker in interactions-only mode.

Two files in the XuetangX format (``username``, ``course_id``, ``interaction_strength``,
``ts_ms``; optional ``user_idx``, ``item_idx``) are mapped onto the interactions-only data
contract (``employee_id``, ``program_id``, ``ts``, ``strength``), checked with it, and the learner
ids are pseudonymised at once: no learner id reaches the features, the model or the output.

Evaluation (the publisher's task): for every learner present in both files, rank every course of
the train file that the learner has not taken there; each course in the learner's test rows is a
hit. The test file is read for nothing else.

Training never touches the test file. Inside the train file, the last ``holdout`` interactions of
each learner (in time order, always leaving at least one) are pseudo-targets; features are built
from the earlier part only, LambdaRank is fitted with one query per learner and early-stopped on a
held-out share of learners. For the test the same feature code runs on the whole train file.

Timestamps: the publisher garbled their absolute values but kept their order within a learner, so
only that order is used. The contract normalises ``ts`` to a calendar date between 1900 and 2100;
its problems are counted and reported but do not drop a row (a row whose time cannot be read sorts
first in its learner's history, so it is never a pseudo-target). Rows whose learner, course or
strength fail the contract, or that repeat a (learner, course, ts) key, are dropped and counted.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table as RichTable

from recommender.data.schema import TABLES
from recommender.data.validate import Problem, check_table
from recommender.programs.features import item_similarity
from recommender.programs.ranker import ProgramRanker
from recommender.pseudonym import pseudonymise_series
from training.evaluate import compare
from training.metrics import bootstrap_ci, query_metrics, ranked

REQUIRED = ("username", "course_id", "interaction_strength", "ts_ms")
OPTIONAL = ("user_idx", "item_idx")
TO_CONTRACT = {
    "username": "employee_id",
    "course_id": "program_id",
    "ts_ms": "ts",
    "interaction_strength": "strength",
}
K = 10
#: Below this many fitting rows LightGBM runs on one thread: extra threads only add overhead.
SMALL_FIT = 100_000
BASELINES = ("popularity", "item_knn")
HEADLINE = ("ndcg@5", "ndcg@10", "recall@10", "map@10", "mrr")
FEATURES = (
    "pop_log",
    "pop_next",
    "pop_last",
    "course_position",
    "course_strength",
    "knn_sum",
    "knn_max",
    "knn_last",
    "knn_strength",
    "trans_last",
    "trans_sum",
    "history_length",
    "mean_strength",
    "last_strength",
)


class ExternalDataError(ValueError):
    """A file cannot be read or lacks required columns (the message names the file)."""


@dataclass(frozen=True)
class XuetangxConfig:
    """Settings of a run. ``holdout``: pseudo-targets per learner in the train file;
    ``valid_share``: share of learners kept for early stopping (all their candidates);
    ``train_negatives``: random untaken courses kept per fitting learner (None: all), which
    only makes fitting cheaper: the test always ranks every untaken course."""

    holdout: int = 1
    valid_share: float = 0.15
    train_negatives: int | None = 50
    seed: int = 7
    n_boot: int = 300
    n_estimators: int = 300
    learning_rate: float = 0.1
    num_leaves: int = 31
    min_child_samples: int = 100
    early_stopping_rounds: int = 30
    n_jobs: int = 2


@dataclass(frozen=True)
class Interactions:
    """One file as clean interactions: ``frame`` has ``employee_id`` (pseudonym), ``program_id``,
    ``strength`` and ``seq`` (0-based order within the learner). ``problems`` counts contract
    problems as ``"rule:column"``; ``dropped`` rows were left out."""

    path: str
    frame: pd.DataFrame
    rows: int
    dropped: int
    problems: dict[str, int]


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------


def read_file(path: str | Path) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) as text; raise ExternalDataError naming the file when it
    is missing, unreadable or lacks a required column."""
    path = Path(path)
    if not path.is_file():
        raise ExternalDataError(f"{path}: file not found")
    try:
        raw = pd.read_csv(path, dtype=str, compression="infer")
    except (
        OSError,
        EOFError,
        UnicodeDecodeError,
        zlib.error,
        gzip.BadGzipFile,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
    ) as exc:
        raise ExternalDataError(f"{path}: cannot be read as CSV: {exc}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ExternalDataError(
            f"{path}: missing required column(s): {', '.join(missing)} "
            f"(needs {', '.join(REQUIRED)}; {', '.join(OPTIONAL)} are optional)"
        )
    return raw


def _order_key(ts: pd.Series) -> np.ndarray:
    """Sortable float per timestamp (epoch milliseconds or date-time text); unreadable -> -inf."""
    text = ts.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() >= text.notna().sum():
        key = numbers.to_numpy(dtype=float)
    else:
        when = pd.to_datetime(text, errors="coerce", format="ISO8601")
        key = np.where(when.isna(), np.nan, when.to_numpy(dtype="datetime64[ns]").astype(float))
    return np.where(np.isnan(key), -np.inf, key)


def _problem_counts(problems: list[Problem]) -> dict[str, int]:
    counts = Counter(f"{p.rule}:{p.column}" for p in problems)
    return dict(sorted(counts.items()))


def load_interactions(path: str | Path, key: str) -> Interactions:
    """Read one file, map it onto the interactions contract, validate it, pseudonymise the
    learner and order each learner's courses in time (first occurrence of a course kept)."""
    raw = read_file(path)
    mapped = raw[list(REQUIRED)].rename(columns=TO_CONTRACT)
    problems: list[Problem] = []
    result = check_table(TABLES["interactions"], mapped, problems)
    assert result.parsed is not None  # the required columns are present
    bad = np.zeros(len(mapped), dtype=bool)
    rows = [p.row - 1 for p in problems if p.row is not None and p.column != "ts"]
    bad[np.array(rows, dtype=int)] = True
    parsed = result.parsed
    frame = pd.DataFrame(
        {
            "employee_id": pseudonymise_series(parsed["employee_id"], key),
            "program_id": parsed["program_id"].astype(object),
            "strength": parsed["strength"].astype(float),
            "_when": _order_key(mapped["ts"]),
            "_pos": np.arange(len(mapped)),
        }
    )[~bad]
    frame["_learner"] = frame.groupby("employee_id")["_pos"].transform("min")
    order = ["_learner", "_when", "_pos"]  # learners in file order, each in time order
    frame = frame.sort_values(order, kind="stable")
    frame = frame.groupby(["employee_id", "program_id"], sort=False, as_index=False).agg(
        strength=("strength", "max"), **{c: (c, "first") for c in order}
    )
    frame = frame.sort_values(order, kind="stable")
    frame["seq"] = frame.groupby("employee_id").cumcount()
    frame = frame.drop(columns=order).reset_index(drop=True)
    return Interactions(
        str(path), frame, len(raw), len(raw) - len(frame), _problem_counts(problems)
    )


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------


@dataclass
class History:
    """Learner x course matrices of one set of interactions. ``last`` is the index of each
    learner's latest course (-1 when the learner has none)."""

    taken: np.ndarray
    strength: np.ndarray
    last: np.ndarray
    length: np.ndarray
    transitions: np.ndarray
    position: np.ndarray


def build_history(frame: pd.DataFrame, learners: pd.Index, courses: pd.Index) -> History:
    """Matrices of ``frame`` (clean interactions) over ``learners`` x ``courses``; rows of other
    learners or courses are ignored."""
    u, c = _codes(frame, learners, courses)
    keep = (u >= 0) & (c >= 0)
    df = pd.DataFrame(
        {"u": u[keep], "c": c[keep], "s": frame["strength"].to_numpy(float)[keep]},
    ).assign(seq=frame["seq"].to_numpy()[keep])
    df = df.sort_values(["u", "seq"], kind="stable")
    n_u, n_c = len(learners), len(courses)
    taken = np.zeros((n_u, n_c), dtype=bool)
    taken[df["u"], df["c"]] = True
    strength = np.zeros((n_u, n_c), dtype=np.float32)
    strength[df["u"], df["c"]] = df["s"]
    length = np.bincount(df["u"], minlength=n_u)
    last = np.full(n_u, -1, dtype=int)
    ends = df.groupby("u")["c"].last()
    last[ends.index.to_numpy()] = ends.to_numpy()
    nxt = df.groupby("u")["c"].shift(-1)
    pairs = df.assign(nxt=nxt).dropna(subset=["nxt"])
    transitions = np.zeros((n_c, n_c), dtype=np.float32)
    np.add.at(transitions, (pairs["c"].to_numpy(), pairs["nxt"].to_numpy(int)), 1.0)
    rank = df.groupby("u").cumcount().to_numpy(float)
    span = np.maximum(length[df["u"].to_numpy()] - 1, 1)
    position = np.full((n_u, n_c), np.nan, dtype=np.float32)
    position[df["u"], df["c"]] = rank / span
    return History(taken, strength, last, length, transitions, position)


def _knn_max(taken: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """Per learner and course, the largest similarity to one of the learner's courses."""
    out = np.zeros(taken.shape, dtype=np.float32)
    u, c = np.nonzero(taken)
    np.maximum.at(out, u, sim[c])
    return out


def pair_features(hist: History) -> dict[str, np.ndarray]:
    """Learner x course matrices of every feature in :data:`FEATURES`, from ``hist`` only."""
    n_u, n_c = hist.taken.shape
    taken = hist.taken.astype(np.float32)
    counts = taken.sum(axis=0)
    non_first = counts - np.bincount(
        _first_courses(hist), minlength=n_c
    )  # times taken after another course
    ended = np.bincount(hist.last[hist.last >= 0], minlength=n_c)
    sim = item_similarity(hist.taken)
    out_deg = hist.transitions.sum(axis=1, keepdims=True)
    trans = hist.transitions / np.maximum(out_deg, 1.0)
    has_last = hist.last >= 0
    last = np.where(has_last, hist.last, 0)
    mean_strength = hist.strength.sum(axis=1) / np.maximum(hist.length, 1)
    last_strength = np.where(has_last, hist.strength[np.arange(n_u), last], 0.0)
    position_sum = np.where(hist.taken, hist.position, 0.0).sum(axis=0)
    course_position = np.where(counts > 0, position_sum / np.maximum(counts, 1), 0.5)
    course_strength = hist.strength.sum(axis=0) / np.maximum(counts, 1)

    def row(v: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(v, dtype=np.float32)[None, :], (n_u, n_c))

    def col(v: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(v, dtype=np.float32)[:, None], (n_u, n_c))

    return {
        "pop_log": row(np.log1p(counts)),
        "pop_next": row(np.log1p(non_first)),
        "pop_last": row(np.log1p(ended)),
        "course_position": row(course_position),
        "course_strength": row(course_strength),
        "knn_sum": taken @ sim,
        "knn_max": _knn_max(hist.taken, sim),
        "knn_last": np.where(has_last[:, None], sim[last], 0.0),
        "knn_strength": hist.strength @ sim,
        "trans_last": np.where(has_last[:, None], trans[last], 0.0),
        "trans_sum": taken @ trans,
        "history_length": col(hist.length),
        "mean_strength": col(mean_strength),
        "last_strength": col(last_strength),
    }


def _first_courses(hist: History) -> np.ndarray:
    """Index of each learner's first course (learners with no history left out)."""
    pos = np.where(hist.taken, hist.position, np.inf)
    first: np.ndarray = np.argmin(pos, axis=1)[hist.length > 0]
    return first


def candidate_frame(
    feats: dict[str, np.ndarray], taken: np.ndarray, rows: np.ndarray
) -> pd.DataFrame:
    """One row per (learner in ``rows``, course not taken), sorted by learner: ``year`` (0),
    ``employee_id`` and ``program_id`` as integer codes, and every feature."""
    sub_u, c = np.nonzero(~taken[rows])
    u = rows[sub_u]
    frame = pd.DataFrame({"year": 0, "employee_id": u, "program_id": c})
    for name in FEATURES:
        frame[name] = feats[name][u, c]
    return frame


def baseline_scores(feats: dict[str, np.ndarray], frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """``popularity`` (learners per course) and ``item_knn`` (sum of cosine similarities to the
    learner's courses, ties broken by popularity), on the rows of ``frame``."""
    pop = np.rint(np.expm1(frame["pop_log"].to_numpy(float)))
    tie = 1e-6 * pop / (1 + pop.max(initial=0.0))
    return {"popularity": pop, "item_knn": frame["knn_sum"].to_numpy(float) + tie}


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def split_last(frame: pd.DataFrame, holdout: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(past, targets): each learner's last ``holdout`` courses become targets, always leaving
    at least one course in the past; learners with a single course keep it in the past."""
    size = frame.groupby("employee_id")["seq"].transform("size")
    keep = np.maximum(size - holdout, 1)
    target = frame["seq"] >= keep
    return frame[~target].reset_index(drop=True), frame[target].reset_index(drop=True)


def _labels(
    frame: pd.DataFrame, u: np.ndarray, c: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """1 for candidate rows whose (learner code, course code) is among the pairs ``(u, c)``."""
    hits = np.zeros(shape, dtype=bool)
    ok = (u >= 0) & (c >= 0)
    hits[u[ok], c[ok]] = True
    labels: np.ndarray = hits[frame["employee_id"].to_numpy(), frame["program_id"].to_numpy()]
    return labels.astype(int)


def _codes(
    frame: pd.DataFrame, learners: pd.Index, courses: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """Learner and course codes of ``frame`` (-1 when outside ``learners`` / ``courses``)."""
    return (
        learners.get_indexer(pd.Index(frame["employee_id"])),
        courses.get_indexer(pd.Index(frame["program_id"])),
    )


def _sample_negatives(
    frame: pd.DataFrame, y: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Mask keeping every positive and ``n`` random negatives per learner (order kept)."""
    draw = pd.Series(rng.random(len(frame)), index=frame.index).where(y == 0)
    pick = draw.groupby(frame["employee_id"].to_numpy()).rank(method="first") <= n
    return (y > 0) | pick.to_numpy()


def _groups(frame: pd.DataFrame) -> np.ndarray:
    """Sizes of consecutive learner groups (``frame`` is sorted by learner)."""
    return frame.groupby("employee_id", sort=False).size().to_numpy()


def fit_model(
    train: pd.DataFrame, learners: pd.Index, courses: pd.Index, config: XuetangxConfig
) -> tuple[ProgramRanker, dict[str, Any]]:
    """Fit LambdaRank on pseudo-targets of the train file; early stopping on ``valid_share`` of
    the learners. Returns the ranker and facts about the fit, including the internal figures
    (NDCG@10 of model and baselines on the early-stopping learners' pseudo-targets)."""
    past, targets = split_last(train, config.holdout)
    hist = build_history(past, learners, courses)
    feats = pair_features(hist)
    with_target = np.unique(learners.get_indexer(pd.Index(targets["employee_id"])))
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(with_target)
    n_valid = max(1, round(config.valid_share * len(order)))
    valid_rows, fit_rows = np.sort(order[:n_valid]), np.sort(order[n_valid:])
    fit_frame = candidate_frame(feats, hist.taken, fit_rows)
    valid_frame = candidate_frame(feats, hist.taken, valid_rows)
    t_u, t_c = _codes(targets, learners, courses)
    shape = (len(learners), len(courses))
    fit_y = _labels(fit_frame, t_u, t_c, shape)
    if config.train_negatives is not None:
        keep = _sample_negatives(fit_frame, fit_y, config.train_negatives, rng)
        fit_frame, fit_y = fit_frame[keep].reset_index(drop=True), fit_y[keep]
    valid_y = _labels(valid_frame, t_u, t_c, shape)
    ranker = ProgramRanker(
        n_estimators=config.n_estimators,
        learning_rate=config.learning_rate,
        num_leaves=config.num_leaves,
        min_child_samples=config.min_child_samples,
        early_stopping_rounds=config.early_stopping_rounds,
        eval_at=K,
        random_state=config.seed,
        n_jobs=config.n_jobs if len(fit_frame) >= SMALL_FIT else 1,
    )
    ranker.fit(
        fit_frame[list(FEATURES)],
        fit_y,
        _groups(fit_frame),
        valid_frame[list(FEATURES)],
        valid_y,
        _groups(valid_frame),
    )
    valid_frame = valid_frame.assign(label=valid_y)
    relevant = pd.DataFrame({"year": 0, "employee_id": t_u, "program_id": t_c, "label": 1})
    relevant = relevant[relevant["employee_id"].isin(valid_rows)]
    scores = {"model": ranker.predict(valid_frame), **baseline_scores(feats, valid_frame)}
    internal = {
        name: float(query_metrics(valid_frame, relevant, s, ks=(K,))[f"ndcg@{K}"].mean())
        for name, s in scores.items()
    }
    facts = {
        "fit_learners": len(fit_rows),
        "early_stopping_learners": len(valid_rows),
        "pseudo_targets": len(targets),
        "fit_rows": len(fit_frame),
        "best_iteration": ranker.best_iteration_,
        "internal_ndcg@10": internal,
        "feature_gain": {k: float(v) for k, v in ranker.feature_importance().items()},
    }
    return ranker, facts


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _coverage(frame: pd.DataFrame, score: np.ndarray, n_courses: int) -> float:
    """Distinct courses in all top-K lists / courses in the catalogue."""
    df = ranked(frame, score)
    return float(df.loc[df["rank"] <= K, "program_id"].nunique() / max(n_courses, 1))


def score_rankers(
    frame: pd.DataFrame,
    relevant: pd.DataFrame,
    scores: dict[str, np.ndarray],
    n_courses: int,
    n_boot: int,
) -> dict[str, dict[str, Any]]:
    """Figures of every ranker on the same candidates; the model also gets ``vs_<baseline>``
    (relative NDCG@10 lift and the paired bootstrap interval of the difference)."""
    per_query = {name: query_metrics(frame, relevant, s, ks=(5, K)) for name, s in scores.items()}
    out: dict[str, dict[str, Any]] = {}
    for name, q in per_query.items():
        figures: dict[str, Any] = {m: float(q[m].mean()) for m in HEADLINE}
        figures["coverage"] = _coverage(frame, scores[name], n_courses)
        figures["ndcg@10_ci"] = list(bootstrap_ci(q["ndcg@10"].to_numpy(), n_boot))
        figures["recall@10_ci"] = list(bootstrap_ci(q["recall@10"].to_numpy(), n_boot))
        figures["queries"] = len(q)
        out[name] = figures
    for base in BASELINES:
        vs: dict[str, Any] = dict(compare(per_query["model"], per_query[base], n_boot))
        model_q = per_query["model"]
        recall_diff = model_q["recall@10"] - per_query[base]["recall@10"].reindex(model_q.index)
        vs["recall@10_diff"] = float(recall_diff.mean())
        vs["recall@10_diff_ci"] = list(bootstrap_ci(recall_diff.to_numpy(), n_boot))
        out["model"][f"vs_{base}"] = vs
    return out


def run(
    train_path: str | Path,
    test_path: str | Path,
    key: str,
    config: XuetangxConfig | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load, validate, fit on the train file, rank for the test learners and score the model,
    ``popularity`` and ``item_knn``. Returns ``{"rankers": ..., "data": ..., "fit": ...,
    "config": ...}``; raises ExternalDataError for a missing or malformed file."""
    config = config or XuetangxConfig()
    say = step or (lambda _text: None)
    say("reading files")
    train = load_interactions(train_path, key)
    test = load_interactions(test_path, key)
    learners = pd.Index(train.frame["employee_id"].unique())  # file order: key-independent
    courses = pd.Index(sorted(train.frame["program_id"].unique()))
    if len(courses) < 2 or len(learners) < 2:
        raise ExternalDataError(f"{train_path}: too few learners or courses to train on")
    say("fitting the ranker on pseudo-targets of the train file")
    ranker, fit = fit_model(train.frame, learners, courses, config)
    say("ranking every untaken course for the test learners")
    hist = build_history(train.frame, learners, courses)
    feats = pair_features(hist)
    u, c = _codes(test.frame, learners, courses)
    relevant = pd.DataFrame({"year": 0, "employee_id": u, "program_id": c, "label": 1})
    relevant = relevant[relevant["employee_id"] >= 0]  # c = -1: a course not in the catalogue
    already = (relevant["program_id"] >= 0).to_numpy() & hist.taken[
        relevant["employee_id"], relevant["program_id"].clip(lower=0)
    ]
    relevant = relevant[~already]
    rows = np.unique(relevant["employee_id"].to_numpy())
    frame = candidate_frame(feats, hist.taken, rows)
    shape = (len(learners), len(courses))
    frame["label"] = _labels(
        frame, relevant["employee_id"].to_numpy(), relevant["program_id"].to_numpy(), shape
    )
    scores = {"model": ranker.predict(frame), **baseline_scores(feats, frame)}
    say("scoring")
    rankers = score_rankers(frame, relevant, scores, len(courses), config.n_boot)
    data = {
        "train": _describe(train),
        "test": _describe(test),
        "catalogue_courses": len(courses),
        "query_learners": len(rows),
        "test_learners_not_in_train": int(test.frame["employee_id"].nunique() - len(rows)),
        "relevant_outside_catalogue": int((relevant["program_id"] < 0).sum()),
        "test_rows_already_taken": int(already.sum()),
        "candidates": len(frame),
    }
    return {"rankers": rankers, "data": data, "fit": fit, "config": asdict(config)}


def _describe(part: Interactions) -> dict[str, Any]:
    return {
        "rows": part.rows,
        "kept": len(part.frame),
        "dropped": part.dropped,
        "learners": int(part.frame["employee_id"].nunique()),
        "courses": int(part.frame["program_id"].nunique()),
        "problems": part.problems,
    }


def headline(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON printed by ``jenjang external xuetangx --json``, shaped like
    ``jenjang evaluate programs --json``: ``{"model": ..., "popularity": ..., "item_knn": ...}``."""
    rankers = result["rankers"]
    keys = (*HEADLINE, "coverage", "ndcg@10_ci", "recall@10_ci", "queries")
    out = {name: {k: rankers[name][k] for k in keys} for name in ("model", *BASELINES)}
    best = max(BASELINES, key=lambda b: rankers[b]["ndcg@10"])
    model = out["model"]
    model["best_baseline"] = best
    model["lift_vs_best"] = rankers["model"][f"vs_{best}"]["lift"]
    model["diff_ci_vs_best"] = rankers["model"][f"vs_{best}"]["diff_ci"]
    model["lift_vs_popularity"] = rankers["model"]["vs_popularity"]["lift"]
    for base in BASELINES:
        model[f"diff_ci_vs_{base}"] = rankers["model"][f"vs_{base}"]["diff_ci"]
        model[f"recall@10_diff_ci_vs_{base}"] = rankers["model"][f"vs_{base}"]["recall@10_diff_ci"]
    return out


def report_table(result: dict[str, Any]) -> tuple[RichTable, list[str]]:
    """The rich table printed by ``jenjang external xuetangx`` and the lines under it."""
    head = headline(result)
    cols = ("ndcg@10", "recall@10", "map@10", "mrr", "coverage")
    table = RichTable(title="XuetangX test file (every untaken course ranked, interactions only)")
    table.add_column("ranker")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("ndcg@10 CI", justify="right")
    for name, figures in head.items():
        lo, hi = figures["ndcg@10_ci"]
        table.add_row(name, *(f"{figures[c]:.4f}" for c in cols), f"[{lo:.4f}, {hi:.4f}]")
    data, fit = result["data"], result["fit"]
    lines = [
        f"{data['query_learners']:,} query learners (in both files); "
        f"{data['catalogue_courses']:,} courses; {data['candidates']:,} candidates",
    ]
    for base in BASELINES:
        lo, hi = head["model"][f"diff_ci_vs_{base}"]
        lift = result["rankers"]["model"][f"vs_{base}"]["lift"]
        r_lo, r_hi = head["model"][f"recall@10_diff_ci_vs_{base}"]
        lines.append(
            f"model vs {base}: {100 * lift:+.1f} % NDCG@10, difference 95 % CI "
            f"[{lo:.4f}, {hi:.4f}]; Recall@10 difference 95 % CI [{r_lo:.4f}, {r_hi:.4f}]"
        )
    for part in ("train", "test"):
        d = data[part]
        problems = ", ".join(f"{k} x{v}" for k, v in d["problems"].items()) or "none"
        lines.append(
            f"{part}: {d['rows']:,} rows, {d['dropped']:,} dropped, {d['learners']:,} learners; "
            f"contract problems: {problems}"
        )
    lines.append(
        f"fit: {fit['fit_learners']:,} learners ({fit['fit_rows']:,} rows), early stopping on "
        f"{fit['early_stopping_learners']:,} at iteration {fit['best_iteration']}"
    )
    return table, lines
