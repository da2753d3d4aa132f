"""Behavioural tests of the programme recommender (in the spirit of Made With ML / CheckList):
business rules hold whatever the model scores, closing a gap moves the right programmes in the
right direction, cold-start people are served, and the estimator keeps its contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from recommender.programs.catalog import ASSIGNMENT_ONLY, Catalog, build_catalog
from recommender.programs.features import FEATURES, Usage, build_usage, candidate_frame, eligible
from recommender.programs.ranker import ModelIntegrityError, ProgramRanker, sha256_text
from recommender.programs.recommend import recommend
from recommender.snapshot import Snapshot, build_snapshot
from tests.model.conftest import Trained, spread_people
from training.baselines import baseline_scores
from training.datasets import concat
from training.frames import query_groups, with_positives
from training.programs import fit_ranker

YEAR = 2025
AT = pd.Timestamp(f"{YEAR}-01-01")
ALL = 1000  # k larger than any candidate list: recommend() returns every candidate

Tables = dict[str, pd.DataFrame]


@dataclasses.dataclass
class Serving:
    tables: Tables
    snap: Snapshot
    cat: Catalog
    usage: Usage


@pytest.fixture(scope="module")
def serving(clean_tables_once: Tables) -> Serving:
    snap = build_snapshot(clean_tables_once, AT)
    return Serving(
        clean_tables_once,
        snap,
        build_catalog(clean_tables_once),
        build_usage(clean_tables_once, snap),
    )


def _completed(tables: Tables, employee_id: str, at: pd.Timestamp) -> set[str]:
    enr = tables["enrollments"]
    done = enr[
        (enr["employee_id"] == employee_id)
        & (enr["status"] == "completed")
        & (enr["end_date"] < at)
    ]
    return set(done["program_id"])


def _why_not(program: pd.Series, tier: str, done: set[str], year: int) -> list[str]:
    """Independent re-statement of the eligibility rules on the raw programme row."""
    reasons = []
    to = program["active_to"]
    if program["active_from"] > year or (not pd.isna(to) and year > to):
        reasons.append("not offered")
    if tier not in str(program["target_tiers"]).split(";"):
        reasons.append("tier")
    if program["program_id"] in done:
        reasons.append("completed")
    pre = program["prerequisites"]
    if isinstance(pre, str) and not set(pre.split(";")) <= done:
        reasons.append("prerequisites")
    if program["modality"] in ("latsar", "pkp", "pka", "pkn_i", "pkn_ii", "fungsional_dasar"):
        reasons.append("assignment-only")
    return reasons


def test_assignment_only_modalities_are_the_ones_of_the_career_path() -> None:
    assert {"latsar", "pkp", "pka", "pkn_i", "pkn_ii", "fungsional_dasar"} == set(ASSIGNMENT_ONLY)


def test_recommendations_are_always_eligible(serving: Serving, trained: Trained) -> None:
    """Every candidate of 30 people (all returned) passes every rule; ranks are 1..n."""
    programs = serving.tables["programs"].set_index("program_id", drop=False)
    blocked = {
        "not offered": 0,
        "tier": 0,
        "completed": 0,
        "prerequisites": 0,
        "assignment-only": 0,
    }
    for emp in spread_people(serving.snap):
        tier = serving.snap.people.loc[emp, "tier"]
        done = _completed(serving.tables, emp, AT)
        recs = recommend(serving.snap, serving.cat, serving.usage, trained.ranker, emp, YEAR, ALL)
        assert len(recs) > 0, emp
        assert recs["program_id"].is_unique
        assert recs["rank"].tolist() == list(range(1, len(recs) + 1))
        # the served order: the ranker's, except that the ranking policy may swap a few
        # programmes into the top 10 (recommender/ranking_policy.py); each block stays sorted
        assert recs["score"].iloc[:10].is_monotonic_decreasing
        assert recs["score"].iloc[10:].is_monotonic_decreasing
        for pid in recs["program_id"]:
            assert _why_not(programs.loc[pid], tier, done, YEAR) == [], (emp, pid)
        # what the rules kept out for this person (so the rules are exercised)
        for _, program in programs.iterrows():
            for reason in _why_not(program, tier, done, YEAR):
                if reason in blocked:
                    blocked[reason] += 1
    assert all(count > 0 for count in blocked.values()), blocked
    # Latsar and PKP are in the catalogue, offered this year and aimed at people's tiers
    for modality in ("latsar", "pkp"):
        rows = programs[programs["modality"] == modality]
        assert len(rows) > 0
        assert (rows["active_from"] <= YEAR).all()
        assert (rows["active_to"].isna() | (rows["active_to"] >= YEAR)).all()


def test_a_completed_programme_is_never_recommended(serving: Serving, trained: Trained) -> None:
    snap, cat = serving.snap, serving.cat
    otherwise_eligible = 0
    for emp in spread_people(snap):
        row = snap.row(emp)
        recs = recommend(snap, cat, serving.usage, trained.ranker, emp, YEAR, k=10)
        assert len(recs) == 10
        cols = snap.programs.get_indexer(recs["program_id"])
        assert not snap.completed[row, cols].any(), emp
        assert not set(recs["program_id"]) & _completed(serving.tables, emp, AT)
        # without their completion, some of this person's programmes would be eligible
        free = dataclasses.replace(snap, completed=np.zeros_like(snap.completed))
        again = eligible(free, cat, YEAR, np.array([row]))[0] & snap.completed[row]
        otherwise_eligible += int(again.sum())
    assert otherwise_eligible > 20


def test_completing_a_programme_removes_it_and_a_prerequisite_unlocks(serving: Serving) -> None:
    snap, cat = serving.snap, serving.cat
    with_pre = [p for p, pre in enumerate(cat.prereq) if len(pre)]
    assert with_pre
    found = False
    for row in range(len(snap.people)):
        ok = eligible(snap, cat, YEAR, np.array([row]))[0]
        for p in with_pre:
            pre = cat.prereq[p]
            if ok[p] or snap.completed[row, p] or snap.completed[row, pre].all():
                continue
            unlocked = snap.completed.copy()
            unlocked[row, pre] = True
            now = eligible(
                dataclasses.replace(snap, completed=unlocked), cat, YEAR, np.array([row])
            )
            if not now[0, p]:
                continue  # blocked by something else (tier, year)
            found = True
            # and once the programme itself is completed it is out again
            unlocked[row, p] = True
            done = eligible(
                dataclasses.replace(snap, completed=unlocked), cat, YEAR, np.array([row])
            )
            assert not done[0, p]
            break
        if found:
            break
    assert found, "no person with a programme locked only by its prerequisites"


def _gap_cases(snap: Snapshot, cat: Catalog, n: int) -> list[tuple[int, int, float]]:
    """(row, competency, weighted gap) for people with an assessed level below the standard of
    their position on a competency that candidate programmes aim at."""
    pos = pd.Index(cat.positions["position_id"]).get_indexer(snap.people["position_id"])
    out = []
    for row in range(0, len(snap.people), 3):
        req, w, lvl = cat.req[pos[row]], cat.req_weight[pos[row]], snap.levels[row]
        gap = np.where(np.isnan(lvl), 0, np.clip(req - np.nan_to_num(lvl), 0, None) * w)
        aimed = (cat.gain > 0).sum(axis=0)
        cand = np.nonzero((gap > 0) & (aimed > 0))[0]
        if len(cand):
            c = int(cand[np.argmax(gap[cand])])
            out.append((row, c, float(gap[c])))
        if len(out) == n:
            break
    return out


def _close_gap(snap: Snapshot, row: int, c: int) -> Snapshot:
    levels = snap.levels.copy()
    levels[row, c] = 5.0  # the top level: no gap left on this competency
    return dataclasses.replace(snap, levels=levels)


def _before_after(serving: Serving, row: int, c: int) -> pd.DataFrame:
    """Candidates of ``row`` before and after closing the gap on ``c`` (common programmes)."""
    kw = {"rows": np.array([row]), "max_candidates": ALL}
    before = candidate_frame(serving.snap, serving.cat, serving.usage, YEAR, **kw)
    after = candidate_frame(
        _close_gap(serving.snap, row, c), serving.cat, serving.usage, YEAR, **kw
    )
    both = before.merge(after, on=["employee_id", "program_id"], suffixes=("", "_after"))
    aimed = serving.cat.gain[serving.cat.ids.get_indexer(both["program_id"]), c]
    return both.assign(aimed_gain=aimed)


def _after(both: pd.DataFrame) -> pd.DataFrame:
    return both[[f"{f}_after" for f in FEATURES]].set_axis(list(FEATURES), axis=1)


def test_closing_a_gap_lowers_gap_coverage_and_gap_rule_rank(serving: Serving) -> None:
    checked = pushed_down = 0
    for row, c, gap in _gap_cases(serving.snap, serving.cat, 16):
        both = _before_after(serving, row, c)
        aimed = both["aimed_gain"].to_numpy() > 0
        if not aimed.any():
            continue  # no candidate aimed at this competency
        checked += 1
        # exactly the programme's gain on c times the weighted gap that was closed
        np.testing.assert_allclose(
            both["gap_coverage"] - both["gap_coverage_after"],
            both["aimed_gain"] * gap,
            rtol=1e-4,
            atol=1e-5,
        )
        assert (both.loc[aimed, "gap_rule_after"] < both.loc[aimed, "gap_rule"]).all()
        np.testing.assert_array_equal(
            both.loc[~aimed, "gap_rule_after"], both.loc[~aimed, "gap_rule"]
        )
        # gap_rule baseline: no aimed programme climbs over a programme not aimed at the gap
        before = baseline_scores(both)["gap_rule"]
        after = baseline_scores(both.assign(gap_rule=both["gap_rule_after"]))["gap_rule"]
        for i in np.nonzero(aimed)[0]:
            above_before = int(((before > before[i]) & ~aimed).sum())
            above_after = int(((after > after[i]) & ~aimed).sum())
            assert above_after >= above_before, (row, c, both["program_id"].iloc[i])
            pushed_down += above_after > above_before
        rank_b = pd.Series(before).rank(ascending=False, method="first")
        rank_a = pd.Series(after).rank(ascending=False, method="first")
        assert rank_a[aimed].mean() >= rank_b[aimed].mean()
    assert checked >= 10
    assert pushed_down > 0


def test_closing_a_gap_lowers_model_scores_of_aimed_programmes_on_average(
    serving: Serving, trained: Trained
) -> None:
    """The model is not monotone in the gap for every programme (other features such as
    ``level_delta`` move too), but on average over people and competencies the programmes
    aimed at a closed gap score lower, and the others do not move at all."""
    per_case = []
    for row, c, _ in _gap_cases(serving.snap, serving.cat, 36):
        both = _before_after(serving, row, c)
        aimed = both["aimed_gain"].to_numpy() > 0
        if not aimed.any():
            continue
        before = trained.ranker.predict(both[list(FEATURES)])
        change = trained.ranker.predict(_after(both)) - before
        np.testing.assert_allclose(change[~aimed], 0.0, atol=1e-12)
        per_case.append(change[aimed].mean())
    per_case_arr = np.array(per_case)
    assert len(per_case_arr) >= 20
    assert per_case_arr.mean() < -0.05
    assert (per_case_arr > 0).mean() <= 0.25


def _without_history(tables: Tables, emp: str) -> Tables:
    out = {k: v.copy() for k, v in tables.items()}
    for name in ("assessments", "enrollments", "appraisals", "talent_box"):
        out[name] = out[name][out[name]["employee_id"] != emp].reset_index(drop=True)
    return out


@pytest.mark.parametrize("pick", [0, 1, 2])
def test_someone_without_history_still_gets_k_eligible_programmes(
    serving: Serving, trained: Trained, pick: int
) -> None:
    people = serving.snap.people
    emp = people.groupby("tier").head(1).sort_values("tier_level").index[pick * 2]
    tables = _without_history(serving.tables, emp)
    snap = build_snapshot(tables, AT)
    row = snap.row(emp)
    assert np.isnan(snap.levels[row]).all()
    assert not snap.taken[row].any()
    assert snap.people.loc[emp, "n_enrolments"] == 0
    assert pd.isna(snap.people.loc[emp, "last_rating"])
    cat = serving.cat
    recs = recommend(snap, cat, build_usage(tables, snap), trained.ranker, emp, YEAR, k=10)
    assert len(recs) == 10
    assert recs["program_id"].is_unique
    assert np.isfinite(recs["score"]).all()
    ok = eligible(snap, cat, YEAR, np.array([row]))[0]
    assert ok[cat.ids.get_indexer(recs["program_id"])].all()
    assert recs["item_knn"].eq(0).all()  # no co-enrolment signal without history


def test_same_seed_same_model_and_another_seed_another(trained: Trained) -> None:
    train, valid = concat(trained.frames["train"]), concat(trained.frames["validation"])
    again = fit_ranker(train, valid, trained.cfg)
    assert again.to_text() == trained.ranker.to_text()
    other = fit_ranker(train, valid, trained.cfg.model_copy(update={"seed": 8}))
    assert other.to_text() != trained.ranker.to_text()


def test_text_round_trip_scores_the_same(trained: Trained) -> None:
    text = trained.ranker.to_text()
    loaded = ProgramRanker.from_text(text, expected_sha256=sha256_text(text))
    assert loaded.feature_names_ == list(FEATURES)
    assert loaded.best_iteration_ == trained.ranker.best_iteration_
    X = concat(trained.frames["test"])[list(FEATURES)]
    np.testing.assert_array_equal(loaded.predict(X), trained.ranker.predict(X))


def test_from_text_refuses_a_wrong_sha256(trained: Trained) -> None:
    text = trained.ranker.to_text()
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        ProgramRanker.from_text(text, expected_sha256="0" * 64)
    tampered = text.replace("learning_rate", "learning_rate ", 1)
    with pytest.raises(ModelIntegrityError):
        ProgramRanker.from_text(tampered, expected_sha256=sha256_text(text))
    assert issubclass(ModelIntegrityError, ValueError)


def test_predict_names_a_missing_feature_column(trained: Trained) -> None:
    X = concat(trained.frames["test"])[list(FEATURES)].head(50)
    with pytest.raises(ValueError, match="gap_rule"):
        trained.ranker.predict(X.drop(columns="gap_rule"))
    with pytest.raises(ValueError, match=r"age, item_knn"):
        trained.ranker.predict(X.drop(columns=["item_knn", "age"]))
    # extra and reordered columns are fine
    shuffled = X[list(reversed(FEATURES))].assign(extra=1.0)
    np.testing.assert_array_equal(trained.ranker.predict(shuffled), trained.ranker.predict(X))


def test_fit_refuses_group_sizes_that_do_not_add_up(trained: Trained) -> None:
    df = with_positives(concat(trained.frames["validation"]))
    X, y, group = df[list(FEATURES)], df["label"].to_numpy(), query_groups(df)
    ranker = ProgramRanker(n_estimators=2)
    with pytest.raises(ValueError, match=rf"group sizes add up to {len(X) - 1}, .* {len(X)} rows"):
        ranker.fit(X, y, np.append(group[:-1], group[-1] - 1))
    with pytest.raises(ValueError, match="eval_group"):
        ranker.fit(X, y, group, X, y, np.append(group, 3))
    with pytest.raises(NotFittedError):
        ranker.predict(X)
