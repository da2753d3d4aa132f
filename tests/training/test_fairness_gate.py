"""Exposure figures logged by training, the promotion rule on them, ``jenjang fairness`` and the
model page (figures of a real run, rendered), on the tiny organisation in a temporary MLflow store.

One scenario (training is the slow part): train a deliberately weak programme ranker (version
1) and a careers ranker; promote version 1 with its logged sex ratio set to 0.75 (refused: below
0.8), then as it is (promoted, no champion yet, floor 0); train a better ranker (version 2) and
promote it against a champion whose logged ratio was made 1.0 (refused: worse than the
champion) while its NDCG@10 beats the champion's. The judged ratios are those of attainable
exposure; the raw ones are logged beside them, not gated; a champion logged before attainable
exposure (raw figures only) is not compared, and the reasons say so. Groups of the 300-person
organisation are small, so the runs judge groups of at least 20 people (``fairness_min_group``).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.config import Settings, get_settings
from tests.conftest import isolated_settings
from training import careers, fairness, programs, tracking
from training.pipeline import recompute_fairness

WEAK = programs.ProgramsConfig(
    n_estimators=1, num_leaves=2, n_boot=20, fairness_min_group=20, min_parity=0.0
)
BETTER = programs.ProgramsConfig(n_estimators=30, n_boot=20, fairness_min_group=20, min_parity=0.0)
CAREERS = careers.CareersConfig(n_estimators=30, n_boot=20, fairness_min_group=20, min_parity=0.0)


@dataclass
class Scenario:
    settings: Settings
    data: Path
    root: Path
    weak: dict[str, Any] = field(default_factory=dict)
    better: dict[str, Any] = field(default_factory=dict)
    careers: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags_after_refusal: dict[str, str] = field(default_factory=dict)
    tampered: str = ""


def _settings(root: Path) -> Settings:
    return isolated_settings(root)


def _set_metric(s: Scenario, run_id: str, key: str, value: float, step: int) -> None:
    """Log ``key`` again on a run (a later step wins when the run's metrics are read)."""
    tracking.client(s.settings).log_metric(run_id, key, value, int(time.time() * 1000), step)


def _judged(summary: dict[str, Any]) -> list[tuple[str, float]]:
    report = fairness.Report.from_dict(summary["fairness"])
    return [(a.attribute, a.ratio) for a in report.attributes if math.isfinite(a.ratio)]


@pytest.fixture(scope="module")
def scenario(tiny_clean: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    root = tmp_path_factory.mktemp("fairness")
    s = Scenario(_settings(root), tiny_clean, root)
    quiet = lambda _: None  # noqa: E731
    s.weak = programs.train(s.settings, tiny_clean, WEAK, progress=quiet)
    s.careers = careers.train(s.settings, tiny_clean, CAREERS, progress=quiet)
    run = s.weak["run_id"]
    logged = tracking.run_metrics(s.settings, run)
    for name, value in (("ratio", 0.75), ("ratio_ci_low", 0.74), ("ratio_ci_high", 0.76)):
        _set_metric(s, run, f"fairness.programs.sex.{name}", value, step=1)
    default_floor = WEAK.model_copy(update={"min_exposure_ratio": 0.8})
    s.decisions["below"] = programs.promote(s.settings, default_floor, "1")
    s.tags_after_refusal = dict(tracking.client(s.settings).get_run(run).data.tags)
    for name in ("ratio", "ratio_ci_low", "ratio_ci_high"):
        key = f"fairness.programs.sex.{name}"
        _set_metric(s, run, key, logged[key], step=2)
    no_floor = WEAK.model_copy(update={"min_exposure_ratio": 0.0})
    s.decisions["first"] = programs.promote(s.settings, no_floor, "1")
    s.better = programs.train(s.settings, tiny_clean, BETTER, progress=quiet)
    s.tampered = _judged(s.better)[0][0]
    _set_metric(s, run, f"fairness.programs.{s.tampered}.ratio", 1.0, step=3)
    s.decisions["worse"] = programs.promote(s.settings, no_floor, "2")
    yield s
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _metrics(s: Scenario, summary: dict[str, Any]) -> dict[str, float]:
    return tracking.run_metrics(s.settings, summary["run_id"])


def test_training_logs_the_figures_of_both_models(scenario: Scenario) -> None:
    for summary, kind in ((scenario.better, "programs"), (scenario.careers, "careers")):
        report = fairness.Report.from_dict(summary["fairness"])
        assert report.kind == kind and report.years == (2025,) and report.min_group == 20
        assert report.measure == "attainable" and report.people > 50
        assert report.raw_people == (report.people + report.none_attainable + report.excluded_legal)
        assert report.policy and report.gate_version == fairness.GATE_VERSION
        assert [a.attribute for a in report.attributes] == list(fairness.ATTRIBUTES)
        metrics = _metrics(scenario, summary)
        assert fairness.has_attainable(metrics, kind) and fairness.has_gate_figures(metrics, kind)
        assert metrics[f"fairness.{kind}.excluded_legal"] == report.excluded_legal
        assert metrics[f"fairness.{kind}.none_attainable"] == report.none_attainable
        for attr, ratio in _judged(summary):
            assert metrics[f"fairness.{kind}.{attr}.ratio"] == pytest.approx(ratio)
        for a in report.attributes:
            assert a.raw is not None, "raw figures beside the attainable ones"
            if math.isfinite(a.raw.ratio):
                assert metrics[f"fairness.{kind}.raw.{a.attribute}.ratio"] == pytest.approx(
                    a.raw.ratio
                )
        assert _judged(summary), "some attribute has two groups of 20+"
        for a in report.attributes:
            for g in a.groups:
                key = f"fairness.{kind}.{a.attribute}.{g.group}"
                assert metrics[f"{key}.n"] == g.n
                assert metrics[f"{key}.small"] == (0.0 if g.judged else 1.0)
                assert metrics[f"{key}.none_attainable"] == g.none_attainable
                assert metrics[f"{key}.excluded_legal"] == g.excluded_legal
            assert a.unconstrained is not None, "the ranker's own order beside the served one"
            assert a.adjusted == (a.attribute in fairness.ADJUSTED)
        logged = fairness.load(scenario.settings, summary["run_id"], kind)
        assert logged is not None and logged.to_dict() == summary["fairness"]


def test_logged_tables_hold_no_person(scenario: Scenario) -> None:
    import mlflow

    tracking.client(scenario.settings)
    for summary, kind in ((scenario.better, "programs"), (scenario.careers, "careers")):
        uri = f"runs:/{summary['run_id']}/{fairness.artifact_path(kind, 'csv')}"
        text = mlflow.artifacts.load_text(uri)
        assert text.startswith("attribute,group,n,exposure,ci_low,ci_high,judged,small,ratio")
        assert ",none_attainable,excluded_legal,adjusted,ratio_ci_low,ratio_ci_high," in text
        assert ",raw_n,raw_exposure,raw_ci_low,raw_ci_high,raw_ratio" in text
        assert not re.search(r"\be_[a-z0-9]{8,}|\d{18}", text), "no pseudonym, no NIP"


def test_promote_refuses_a_ratio_below_0_8(scenario: Scenario) -> None:
    below = scenario.decisions["below"]
    assert below["decision"] == "refused"
    failed = (
        "failed: attainable exposure ratio by sex 0.750 [0.740, 0.760]: the whole 95 % interval "
        "is below 0.8 ("
    )
    assert any(r.startswith(failed) for r in below["reasons"])
    assert [r for r in below["failed"]] == [r for r in below["reasons"] if r.startswith(failed)]
    assert any(r.startswith("no champion yet; NDCG@10") for r in below["reasons"])
    tags = scenario.tags_after_refusal
    assert tags["promotion.decision"] == "refused"
    assert "attainable exposure ratio by sex 0.750 [0.740, 0.760]" in tags["promotion.reasons"]
    first = scenario.decisions["first"]
    assert first["decision"] == "promoted" and str(first["version"]) == "1"


def test_promote_refuses_a_ratio_worse_than_the_champions(scenario: Scenario) -> None:
    worse = scenario.decisions["worse"]
    attr = scenario.tampered
    report = fairness.Report.from_dict(scenario.better["fairness"])
    figure = report.attribute(attr)
    assert worse["decision"] == "refused" and str(worse["champion_before"]) == "1"
    expected = (
        f"failed: exposure ratio by {attr} {figure.ratio:.3f} (interval up to "
        f"{figure.ratio_ci[1]:.3f}) is below the champion's 1.000"
    )
    assert expected in worse["reasons"] and expected in worse["failed"]
    assert any("NDCG@10" in r and "beats the champion's" in r for r in worse["reasons"])
    champion = tracking.version_for(scenario.settings, programs.MODEL_NAME, tracking.CHAMPION)
    assert champion is not None and str(champion.version) == "1"


def test_recomputing_a_version_gives_the_logged_figures(scenario: Scenario) -> None:
    report, same = recompute_fairness(
        settings=scenario.settings,
        kind="programs",
        run_id=scenario.better["run_id"],
        data=scenario.data,
        progress=lambda _: None,
    )
    assert same and report.to_dict() == scenario.better["fairness"]


def _invoke(scenario: Scenario, args: list[str]) -> Any:
    from training.cli import app

    env = {
        "JENJANG_MLFLOW_TRACKING_URI": scenario.settings.mlflow_tracking_uri,
        "JENJANG_MLFLOW_ARTIFACT_ROOT": scenario.settings.mlflow_artifact_root,
        "JENJANG_DATA_DIR": str(scenario.root / "no-demo-data"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()


def test_fairness_command_prints_the_logged_table(scenario: Scenario) -> None:
    out = _invoke(scenario, ["fairness", "careers", "--version", "1", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["source"] == "logged" and data["version"] == "1" and data["kind"] == "careers"
    assert data["attributes"] == scenario.careers["fairness"]["attributes"]
    text = _invoke(scenario, ["fairness", "programs"])  # the champion, version 1
    assert text.exit_code == 0, text.output
    assert "jenjang-programs version 1" in text.output
    for attr in fairness.ATTRIBUTES:
        shown = "attainable (adjusted) " if attr in fairness.ADJUSTED else "attainable "
        assert f"{attr}: {shown}ratio" in text.output or (
            f"{attr}: {shown}not judged" in text.output
        )
    missing = _invoke(scenario, ["fairness", "programs", "--version", "9"])
    assert missing.exit_code == 2 and "no model jenjang-programs version 9" in missing.output


def test_fairness_command_recomputes_and_logs_a_run_without_figures(
    scenario: Scenario, tmp_path: Path
) -> None:
    old = _register_version_2_again(
        scenario.settings,
        {"n_boot": 20, "fairness_min_group": 20, "data_fingerprint": "elsewhere"},
        0.1,
    )
    assert fairness.load(scenario.settings, old.run_id, "programs") is None
    # a table logged before attainable exposure (raw only) is recomputed too
    raw_only = {k: v for k, v in scenario.better["fairness"].items() if k != "measure"}
    tracking.client(scenario.settings).log_dict(
        old.run_id, raw_only, fairness.artifact_path("programs")
    )
    assert fairness.Report.from_dict(raw_only).measure == "raw"
    assert fairness.load(scenario.settings, old.run_id, "programs") is None
    args = ["fairness", "programs", "--version", old.version, "--data", str(scenario.data)]
    out = _invoke(scenario, [*args, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output.strip().splitlines()[-1])
    assert data["source"] == "recomputed" and data["same_data"] is False
    assert data["attributes"] == scenario.better["fairness"]["attributes"]  # same booster
    assert fairness.load(scenario.settings, old.run_id, "programs") is not None
    assert "fairness.programs.sex.P.exposure" in tracking.run_metrics(scenario.settings, old.run_id)
    again = _invoke(scenario, [*args, "--json"])
    assert json.loads(again.output)["source"] == "logged"


def _render_models_page(models: list[dict[str, Any]], lang: str) -> str:
    """The model page's template with the context the route gives it."""
    from recommender.web.i18n import text
    from recommender.web.render import TEMPLATES
    from recommender.web.render import fmt_number as _fmt_number

    return TEMPLATES.env.get_template("models.html").render(
        t=lambda key, **values: text(lang, key, **values),
        lang=lang,
        other_lang="id" if lang == "en" else "en",
        here="/models",
        viewer=None,
        csrf="",
        num=lambda v, d=0: _fmt_number(v, lang, d),
        models=models,
    )


def test_model_page_shows_ratio_per_attribute_and_small_groups(scenario: Scenario) -> None:
    from recommender.web.models_page import RunFigures

    figures = RunFigures(scenario.settings, timeout=30.0)
    served = [
        {
            "name": name,
            "version": summary["version"],
            "run_id": summary["run_id"],
            "sha256": "0" * 64,
            "source": "mlflow",
            "loaded_at": "now",
            "figures": figures.get(summary["run_id"]),
        }
        for name, summary in (
            (programs.MODEL_NAME, scenario.better),
            (careers.MODEL_NAME, scenario.careers),
        )
    ]
    html = _render_models_page(served, "en")
    assert "Exposure of career-advancing items (top 10)" in html
    assert "Attainable ratio (judged)" in html and "Raw ratio (not judged)" in html
    for (name, summary), kind in zip(
        ((programs.MODEL_NAME, scenario.better), (careers.MODEL_NAME, scenario.careers)),
        ("programs", "careers"),
        strict=True,
    ):
        section = html.split(f'id="fairness-{name}"', 1)[1].split("</table>", 1)[0]
        report = fairness.Report.from_dict(summary["fairness"])
        for a in report.attributes:
            row = section.split(f'data-attribute="{a.attribute}"', 1)[1].split("</tr>", 1)[0]
            if math.isfinite(a.ratio):
                assert f"{a.ratio:.3f}" in row, (kind, a.attribute)
                assert ("&lt; 0.8" in row) == (a.ratio_ci[1] < 0.8)
                assert f"[{a.ratio_ci[0]:.3f}, {a.ratio_ci[1]:.3f}]" in row
            else:
                assert "not judged" in row
            assert a.raw is not None
            if math.isfinite(a.raw.ratio):
                assert f"raw {a.raw.ratio:.3f}" in row, (kind, a.attribute)
            for g in a.small:
                assert f"⚑ {g.group} (n = {g.n})" in row
    # a run trained before the fairness step says so
    old = dict(served[0], figures=figures_without_fairness(served[0]["figures"]))
    assert "has no exposure figures" in _render_models_page([old], "en")
    assert "Keterpaparan butir yang memajukan karier" in _render_models_page(served, "id")


def figures_without_fairness(found: Any) -> Any:
    """The same figures with the exposure part left out."""
    from dataclasses import replace

    return replace(found, fairness=[])


def test_an_explicit_reason_overrides_only_the_exposure_rule() -> None:
    """`jenjang promote ... --accept-fairness-risk REASON`: a model failing only the exposure
    rule is promoted with the failure and the reason in the logged reasons; the reason does
    not rescue a model that fails the other checks."""
    from training import registry

    new = {
        "fairness.programs.none_attainable": 0.0,
        "fairness.programs.gate_version": float(fairness.GATE_VERSION),
        "fairness.programs.sex.ratio": 0.5,
        "fairness.programs.sex.ratio_ci_high": 0.6,
        "fairness.programs.region.ratio": 0.9,
        "fairness.programs.region.ratio_ci_high": 0.95,
    }
    rule = fairness.exposure_rule(kind="programs", min_ratio=0.8, tolerance=0.0)
    passing = registry.with_fairness(check=lambda n, o: (True, ["NDCG ok"]), fairness_check=rule)
    ok, reasons = passing(new, None)
    assert not ok and any(r.startswith("failed: attainable exposure ratio by sex") for r in reasons)
    accepted = registry.with_fairness(
        check=lambda n, o: (True, ["NDCG ok"]), fairness_check=rule, override="demo organisation"
    )
    ok, reasons = accepted(new, None)
    assert ok and any(r.startswith("failed: attainable exposure ratio by sex") for r in reasons)
    assert reasons[-1] == "exposure rule overridden: demo organisation"
    failing = registry.with_fairness(
        check=lambda n, o: (False, ["NDCG worse"]),
        fairness_check=rule,
        override="demo organisation",
    )
    assert failing(new, None)[0] is False


def test_promote_against_a_champion_logged_before_attainable_exposure(scenario: Scenario) -> None:
    """A champion whose run has only the old raw figures (no attainable marker) does not crash
    promotion; its raw ratios are not compared with the candidate's attainable ones, and the
    reasons say what was compared."""
    s = scenario
    old = _register_version_2_again(s.settings, {"n_boot": 20}, 0.0)
    metrics = tracking.run_metrics(s.settings, s.better["run_id"])
    for key, value in metrics.items():  # the old layout: raw figures under the judged names
        if key.startswith("fairness.programs.raw."):
            name = key.replace("fairness.programs.raw.", "fairness.programs.", 1)
            _set_metric(s, old.run_id, name, 1.0 if name.endswith(".ratio") else value, 0)
    assert not fairness.has_attainable(tracking.run_metrics(s.settings, old.run_id), "programs")
    tracking.set_alias(s.settings, programs.MODEL_NAME, tracking.CHAMPION, old.version)
    try:
        no_floor = WEAK.model_copy(update={"min_exposure_ratio": 0.0})
        decision = programs.promote(s.settings, no_floor, "2")
    finally:
        tracking.set_alias(s.settings, programs.MODEL_NAME, tracking.CHAMPION, "1")
    reasons = decision["reasons"]
    assert decision["decision"] == "promoted", reasons  # raw 1.0 ratios were not compared
    assert not any("below the champion" in r for r in reasons)
    assert (
        f"note: the champion has no exposure figures of this rule (version "
        f"{fairness.GATE_VERSION}): not compared with it, only the floor applied"
    ) in reasons


def test_promote_command_exits_3_and_prints_the_failed_checks(scenario: Scenario) -> None:
    """A real failing case: version 2's booster registered again, with the exposure figures of
    a ranker that puts advancing programmes last for women and first for men (computed by the
    measure on the test year, served through the ranking policy); `jenjang promote` refuses it,
    prints the failed check and exits 3. The champion stays."""
    from recommender.data.io import load_clean
    from recommender.programs.catalog import build_catalog
    from training.cli.models import REFUSED_EXIT
    from training.datasets import concat

    s = scenario
    tables = load_clean(s.data)
    frame = concat(programs.build_test_frames(tables=tables, cfg=BETTER, progress=lambda _: None))
    cat = build_catalog(tables)
    first, people = fairness.programmes_scored(tables, cat, frame, np.zeros(len(frame)))
    women = people["sex"].reindex(pd.MultiIndex.from_frame(first[fairness.PERSON])) == "P"
    advancing = first["advancing"].to_numpy(float)
    unfair = np.where(women.to_numpy(), -advancing, advancing)
    scored, people = fairness.programmes_scored(tables, cat, frame, unfair)
    report = fairness.measure(
        "programs", fairness.both_exposures(scored), people, n_boot=20, min_group=20
    )
    sex = report.attribute("sex")
    assert sex.ratio_ci[1] < 0.8, "an unfair ranker fails by sex even with the policy"
    version = _register_version_2_again(s.settings, {"n_boot": 20}, 0.99)
    fairness.log(s.settings, version.run_id, report)
    out = _invoke(s, ["promote", "programs", "--model", str(version.version)])
    assert out.exit_code == REFUSED_EXIT, out.output
    assert f"refused: version {version.version}" in out.output
    assert "failed checks:" in out.output
    assert "failed: attainable exposure ratio by sex" in out.output
    assert "the whole 95 % interval is below 0.8" in out.output
    champion = tracking.version_for(s.settings, programs.MODEL_NAME, tracking.CHAMPION)
    assert champion is not None and str(champion.version) == "1"


def _register_version_2_again(settings: Any, params: dict[str, Any], ndcg: float) -> Any:
    """Version 2's booster registered again as a new version with ``params`` and no
    fairness figures (as a model trained before they existed); its model version."""
    from training import registry

    ranker, _mv = programs.load_registered(settings, "2")
    frame = pd.DataFrame([[0.0] * len(ranker.feature_names_)], columns=ranker.feature_names_)
    return registry.log_and_register(
        settings,
        programs.EXPERIMENT,
        programs.MODEL_NAME,
        ranker,
        params,
        {"model": {"ndcg@10": ndcg}},
        {},
        frame,
    )
