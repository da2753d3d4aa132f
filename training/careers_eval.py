"""The next-position side measured over everyone active, not only the people who moved.

Three questions on the test year (issue 17, part 4):

(a) **who moves up** in the year: a move score per person against a tenure-and-grade baseline.
    Both are logistic regressions fitted on the validation year (the year the ranker did not fit:
    its scores there are out of sample, as on the test year) and scored on the test year.
    *Baseline*: years in grade, years in post, grade rank. *Model*: the same three plus what the
    ranker and the served verdict say on 1 January — the ranker's probability mass on higher posts
    (softmax of its scores over the person's full list), its best higher-post score relative to
    its best overall, eligible now for some higher post, eligible within 12 months, and years
    until the first higher post is eligible (capped at :data:`CAP_YEARS`). ``move_auc`` /
    ``move_auc_baseline``, Brier scores, a paired bootstrap interval of the AUC difference and a
    calibration figure.
(b) **where people go**, movers only, by move type: MRR and Hit@5 of every ranker with paired
    bootstrap intervals of the model's difference to each baseline; :func:`rules_score` is the
    ``rules`` baseline (eligible higher posts in the same unit group first).
(c) **verdict validity**: of the test year's actual upward moves (first per person, move types
    :data:`UPWARD`), the share the 1 January verdict called eligible now
    (``verdict_recall_now``) or within 12 months (``verdict_recall_12m``,
    :mod:`recommender.careers.horizon`); of the people called eligible now for at least one higher
    post (a post the career pattern reaches by a vertical or diagonal rule), the share who moved up
    in the year (``verdict_precision_now``).

A higher post is a candidate whose explaining rule is vertical or diagonal (JF tier promotion,
promotion, first JF appointment, JF to managerial). People are everyone active on 1 January.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.careers.eligibility import CONDITIONS, KIND_CODE
from recommender.careers.features import FEATURES, CareerContext, candidate_frame
from recommender.careers.features import career_moves as choice_moves
from recommender.careers.horizon import HORIZON_MONTHS, horizons
from training.careers_data import per_query
from training.frames import QUERY
from training.metrics import bootstrap_ci

UPWARD = ("vertical", "diagonal", "jf_tier", "jf_first_appointment")
HIGHER_KINDS = (KIND_CODE["vertical"], KIND_CODE["diagonal"])
BASE_FEATURES = ("years_in_grade", "years_in_position", "grade_rank")
MODEL_FEATURES = (
    *BASE_FEATURES,
    "higher_mass",
    "top_higher_gap",
    "eligible_now",
    "eligible_12m",
    "years_to_eligible",
)
CAP_YEARS = 10.0
NO_HIGHER_GAP = -20.0  # score gap of someone with no higher post among the candidates
CHUNK = 400
Scorer = Callable[[pd.DataFrame], np.ndarray]


def rules_score(*, frame: pd.DataFrame) -> np.ndarray:
    """The ``rules`` baseline per candidate row: eligible now first, then higher posts (vertical
    or diagonal rule), then the person's own unit group (4 x eligible + 2 x higher + same unit
    group); ties are broken by the evaluation's seeded random order."""
    higher = np.isin(frame["move_kind"].to_numpy(float), HIGHER_KINDS)
    out: np.ndarray = (
        4.0 * frame["eligible"].to_numpy(float)
        + 2.0 * higher
        + frame["same_unit_group"].to_numpy(float)
    )
    return out


def upward_moves(*, tables: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    """First upward career move (:data:`UPWARD`) of each person in ``year``: employee_id,
    to_position_id, move_type."""
    moves = choice_moves(tables, pd.Timestamp(f"{year + 1}-01-01"))
    moves = moves[
        (moves["move_date"] >= pd.Timestamp(f"{year}-01-01")) & moves["move_type"].isin(UPWARD)
    ]
    first = moves.sort_values("move_date").drop_duplicates("employee_id")
    return first[["employee_id", "to_position_id", "move_type"]].reset_index(drop=True)


def years_in_grade(
    *, tables: dict[str, pd.DataFrame], people: pd.DataFrame, at: pd.Timestamp
) -> pd.Series:
    """Years since the last grade change before ``at`` (rank history), else since hire, for the
    people of a snapshot (index employee_id)."""
    emp = tables["employees"].set_index("employee_id")["hire_date"].reindex(people.index)
    ranks = tables.get("rank_history")
    start = emp.copy()
    if ranks is not None and len(ranks):
        past = ranks[ranks["effective_date"] < at]
        last = past.groupby("employee_id")["effective_date"].max().reindex(people.index)
        start = last.fillna(emp)
    out: pd.Series = (at - start).dt.days / 365.25
    return out


def _person_summary(ctx: CareerContext, frame: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    """Per employee of a candidate chunk: the ranker's mass and best score on higher posts and
    the verdict's horizon on them (the :data:`MODEL_FEATURES` beyond the baseline's)."""
    f = frame[["employee_id"]].assign(score=score)
    f["higher"] = np.isin(frame["move_kind"].to_numpy(float), HIGHER_KINDS)
    top = f.groupby("employee_id")["score"].transform("max")
    f["w"] = np.exp(f["score"] - top)
    f["w_higher"] = f["w"] * f["higher"]
    f["s_higher"] = f["score"].where(f["higher"])
    g = f.groupby("employee_id", sort=False)
    out = pd.DataFrame(
        {
            "higher_mass": g["w_higher"].sum() / g["w"].sum(),
            "top_higher_gap": (g["s_higher"].max() - g["score"].max()).fillna(NO_HIGHER_GAP),
        }
    )
    higher = frame[f["higher"].to_numpy()]
    h = horizons(ctx.rules, higher, ctx.snap.at)
    days = pd.DataFrame(
        {"employee_id": higher["employee_id"].to_numpy(), "days": h.days, "in12": h.within()}
    ).groupby("employee_id")
    first = days["days"].min().reindex(out.index)
    out["eligible_now"] = (first == 0).astype(float)
    out["eligible_12m"] = days["in12"].any().reindex(out.index).fillna(False).astype(float)
    out["years_to_eligible"] = np.minimum(first.fillna(np.inf) / 365.25, CAP_YEARS)
    return out


def _target_verdicts(ctx: CareerContext, frame: pd.DataFrame, target: pd.Series) -> pd.DataFrame:
    """The 1 January verdict on each upward mover's actual target among the chunk's candidates:
    employee_id, eligible_now, within_12m, and per condition whether time alone does not meet it
    (``blocked_<condition>``)."""
    hit = frame[frame["position_id"].to_numpy() == frame["employee_id"].map(target).to_numpy()]
    h = horizons(ctx.rules, hit, ctx.snap.at)
    out = pd.DataFrame(
        {
            "employee_id": hit["employee_id"].to_numpy(),
            "eligible_now": h.eligible_now,
            "within_12m": h.within(months=HORIZON_MONTHS),
            "no_rule": h.rule < 0,
        }
    )
    for name in CONDITIONS:
        out[f"blocked_{name}"] = (h.met_in[name] == np.inf) & (h.rule >= 0)
    return out


@dataclass
class PeopleYear:
    """Everyone active on 1 January of ``year``: ``people`` (index employee_id; the
    :data:`MODEL_FEATURES` and ``moved_up`` 0/1) and ``verdicts`` on the upward movers' targets
    (:func:`_target_verdicts` columns plus ``move_type``)."""

    year: int
    people: pd.DataFrame
    verdicts: pd.DataFrame


def people_year(
    *,
    tables: dict[str, pd.DataFrame],
    ctx: CareerContext,
    scorer: Scorer,
    max_people: int | None = None,
    seed: int = 0,
) -> PeopleYear:
    """Score everyone active on ``ctx.snap.at`` (a seeded sample of ``max_people`` when given)
    in chunks of :data:`CHUNK` people: candidates, ranker scores, horizons. Raises KeyError for a
    missing clean table."""
    snap, year = ctx.snap, ctx.snap.at.year
    rows = np.arange(len(snap.people))
    if max_people is not None and len(rows) > max_people:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_people, replace=False))
    ups = upward_moves(tables=tables, year=year)
    target = ups.set_index("employee_id")["to_position_id"]
    summaries, verdicts = [], []
    for chunk in np.array_split(rows, max(1, int(np.ceil(len(rows) / CHUNK)))):
        frame = candidate_frame(ctx, chunk, detail=True)
        score = np.asarray(scorer(frame[list(FEATURES)]), float)
        summaries.append(_person_summary(ctx, frame, score))
        verdicts.append(_target_verdicts(ctx, frame, target))
    ids = snap.people.index[rows]
    people = pd.concat(summaries).reindex(ids)
    people["years_in_grade"] = years_in_grade(
        tables=tables, people=snap.people.iloc[rows], at=snap.at
    )
    people["years_in_position"] = snap.people["years_in_position"].iloc[rows]
    people["grade_rank"] = snap.people["grade_rank"].iloc[rows]
    people["moved_up"] = ids.isin(ups["employee_id"]).astype(int)
    found = pd.concat(verdicts, ignore_index=True)
    found["move_type"] = found["employee_id"].map(ups.set_index("employee_id")["move_type"])
    return PeopleYear(year, people, found)


def _move_model(features: tuple[str, ...]) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)
    )


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def _auc_diff_ci(
    y: np.ndarray, model: np.ndarray, base: np.ndarray, n_boot: int, seed: int
) -> list[float]:
    """Paired bootstrap (people resampled) 95 % interval of AUC(model) - AUC(base)."""
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        diffs.append(_auc(y[i], model[i]) - _auc(y[i], base[i]))
    d = np.asarray(diffs)
    d = d[np.isfinite(d)]
    if not len(d):
        return [float("nan"), float("nan")]
    return [float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))]


@dataclass
class MoveResult:
    """(a) on the test year: ``figures`` (JSON-able) and the per-person ``curves`` (columns
    moved_up, model, baseline) behind the calibration figure."""

    figures: dict[str, Any]
    curves: pd.DataFrame


def move_scores(*, fit: pd.DataFrame, test: pd.DataFrame, n_boot: int, seed: int) -> MoveResult:
    """Fit the baseline and the model move score on ``fit`` (validation-year people) and score
    ``test`` (both :class:`PeopleYear.people` frames): AUC, Brier, the paired interval of the
    AUC difference, people and the share who moved up. Raises ValueError when ``fit`` has a
    single class."""
    from sklearn.metrics import brier_score_loss

    y_fit = fit["moved_up"].to_numpy()
    if not 0 < y_fit.sum() < len(y_fit):
        raise ValueError("the fitting year needs people who moved up and people who did not")
    y = test["moved_up"].to_numpy()
    p: dict[str, np.ndarray] = {}
    for name, cols in (("model", MODEL_FEATURES), ("baseline", BASE_FEATURES)):
        est = _move_model(cols).fit(fit[list(cols)].to_numpy(float), y_fit)
        p[name] = est.predict_proba(test[list(cols)].to_numpy(float))[:, 1]
    figures = {
        "move_auc": _auc(y, p["model"]),
        "move_auc_baseline": _auc(y, p["baseline"]),
        "move_auc_diff_ci": _auc_diff_ci(y, p["model"], p["baseline"], n_boot, seed),
        "move_brier": float(brier_score_loss(y, p["model"])),
        "move_brier_baseline": float(brier_score_loss(y, p["baseline"])),
        "move_people": len(y),
        "move_rate": float(y.mean()) if len(y) else float("nan"),
        "move_fit_people": len(y_fit),
    }
    curves = pd.DataFrame({"moved_up": y, "model": p["model"], "baseline": p["baseline"]})
    return MoveResult(figures, curves)


def verdict_validity(*, year: PeopleYear) -> dict[str, Any]:
    """(c) on one year: recall of the verdict on the actual upward moves (now, within 12
    months), precision of "eligible now for a higher post", by move type, and for the moves
    missed at 12 months the conditions time alone does not meet (a move may count under
    several)."""
    v, people = year.verdicts, year.people
    called = people["eligible_now"] == 1
    called12 = people["eligible_12m"] == 1
    missed = v[~v["within_12m"]]
    blocked = {name: int(missed[f"blocked_{name}"].sum()) for name in CONDITIONS}
    blocked["no_rule"] = int(missed["no_rule"].sum())
    return {
        "verdict_recall_12m": float(v["within_12m"].mean()) if len(v) else float("nan"),
        "verdict_recall_now": float(v["eligible_now"].mean()) if len(v) else float("nan"),
        "verdict_precision_now": float(people.loc[called, "moved_up"].mean())
        if called.any()
        else float("nan"),
        "verdict_precision_12m": float(people.loc[called12, "moved_up"].mean())
        if called12.any()
        else float("nan"),
        "verdict_upward_moves": len(v),
        "verdict_called_now": int(called.sum()),
        "verdict_called_12m": int(called12.sum()),
        "verdict_by_move_type": {
            str(k): {
                "n": len(g),
                "recall_now": float(g["eligible_now"].mean()),
                "recall_12m": float(g["within_12m"].mean()),
            }
            for k, g in v.groupby("move_type")
        },
        "verdict_missed_12m_blocked_by": blocked,
    }


def by_move_type(
    *, frame: pd.DataFrame, scores: dict[str, np.ndarray], n_boot: int
) -> dict[str, dict[str, Any]]:
    """(b) per move type of the true move: MRR, Hit@5 and queries of every ranker in ``scores``
    (``model`` first), and ``model_vs_<baseline>`` paired bootstrap 95 % intervals of the
    model's MRR and Hit@5 differences."""
    kinds = frame.drop_duplicates(QUERY).set_index(QUERY)["move_type"]
    pq = {name: per_query(frame, s).join(kinds) for name, s in scores.items()}
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted(kinds.dropna().unique()):
        row: dict[str, Any] = {}
        for name, q in pq.items():
            sel = q[q["move_type"] == kind]
            row[name] = {"mrr": float(sel["mrr"].mean()), "hit@5": float(sel["hit@5"].mean())}
            row["n"] = len(sel)
        model = pq["model"][pq["model"]["move_type"] == kind]
        for name, q in pq.items():
            if name == "model":
                continue
            base = q.reindex(model.index)
            row[f"model_vs_{name}"] = {
                f"{m}_diff_ci": list(bootstrap_ci((model[m] - base[m]).to_numpy(), n_boot))
                for m in ("mrr", "hit@5")
            }
        out[str(kind)] = row
    return out


def calibration_figure(*, curves: pd.DataFrame, bins: int = 10) -> Any:
    """Reliability diagram of the move scores (``curves``: moved_up, model, baseline): the
    share who moved up against the mean score in equal-count bins, with the diagonal."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.subplots()
    top = 0.05
    for name, color in (("model", "#3b7dd8"), ("baseline", "#d8843b")):
        q = pd.qcut(curves[name].rank(method="first"), bins, labels=False)
        g = curves.groupby(q).agg(p=(name, "mean"), y=("moved_up", "mean"))
        ax.plot(g["p"], g["y"], marker="o", color=color, label=name)
        top = max(top, 1.1 * float(g[["p", "y"]].to_numpy().max()))
    ax.plot([0, top], [0, top], color="#999999", lw=1, ls="--", label="perfect")
    ax.set_xlabel("mean predicted probability of moving up")
    ax.set_ylabel("share who moved up in the test year")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


@dataclass
class Everyone:
    """The evaluation over everyone: ``figures`` (the top-level keys of ``evaluate careers
    --json``) and the calibration ``curves`` of the test year."""

    figures: dict[str, Any]
    curves: pd.DataFrame


def evaluate_everyone(
    *,
    tables: dict[str, pd.DataFrame],
    fit_context: CareerContext,
    test_context: CareerContext,
    scorer: Scorer,
    n_boot: int,
    seed: int,
    max_people: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Everyone:
    """(a) and (c) of the module docstring: the move scores fitted on everyone of
    ``fit_context``'s year and measured, with the verdict, on everyone of ``test_context``'s
    year (``max_people``: a seeded sample of each year, for tests). Raises ValueError when the
    fitting year has no upward move."""
    progress(f"everyone active {fit_context.snap.at.year}")
    fit = people_year(
        tables=tables, ctx=fit_context, scorer=scorer, max_people=max_people, seed=seed
    )
    progress(f"everyone active {test_context.snap.at.year}")
    test = people_year(
        tables=tables, ctx=test_context, scorer=scorer, max_people=max_people, seed=seed
    )
    move = move_scores(fit=fit.people, test=test.people, n_boot=n_boot, seed=seed)
    figures = {
        **move.figures,
        **verdict_validity(year=test),
        "everyone_year": test.year,
        "move_fit_year": fit.year,
    }
    return Everyone(figures, move.curves)


def flat_figures(*, figures: dict[str, Any], prefix: str = "everyone") -> dict[str, float]:
    """The finite numbers of ``figures`` (nested dicts flattened with dots, ``@`` as ``_at_``)
    for MLflow metrics."""
    out: dict[str, float] = {}

    def walk(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{key}.{k}", v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
            out[key.replace("@", "_at_")] = float(value)

    walk(prefix, figures)
    return out
