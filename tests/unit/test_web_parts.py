"""Parts of the HR pages that need no app: words, safe redirects, throttling, figures."""

from __future__ import annotations

import time

import pytest

from recommender.web import auth
from recommender.web.i18n import TEXTS, text
from recommender.web.models_page import figures_from_metrics


def test_both_languages_have_the_same_words() -> None:
    assert set(TEXTS["id"]) == set(TEXTS["en"])
    for key in TEXTS["id"]:
        assert TEXTS["id"][key].count("{") == TEXTS["en"][key].count("{"), key


def test_text_formats_and_falls_back_to_indonesian() -> None:
    assert text("en", "jp_year", year=2026) == "JP 2026 so far"
    assert text("xx", "login") == "Masuk"
    with pytest.raises(KeyError):
        text("id", "no-such-word")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/units/X", "/units/X"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_only_local_paths_after_sign_in(given: str | None, expected: str) -> None:
    assert auth.safe_next(given) == expected


def test_throttle_counts_failures_per_client_in_a_window() -> None:
    t = auth.Throttle(window=10, limit=3)
    for i in range(3):
        assert not t.blocked("a", now=float(i))
        t.failed("a", now=float(i))
    assert t.blocked("a", now=3.0)
    assert not t.blocked("b", now=3.0)
    assert not t.blocked("a", now=13.5), "old failures leave the window"


def test_same_token_needs_both_and_equal() -> None:
    assert auth.same_token("abc", "abc")
    assert not auth.same_token("abc", "abd")
    assert not auth.same_token("", "")
    assert not auth.same_token(None, "abc")


def test_figures_table_puts_the_model_first() -> None:
    f = figures_from_metrics(
        {
            "test.popularity.ndcg_at_10": 0.12,
            "test.model.ndcg_at_10": 0.21,
            "test.model.recall_at_10": 0.3,
            "test.model.queries": 4000,
            "test.model.vs_popularity.lift": 0.7,
            "online.click_rate": 0.1,
            "train.loss": 1.0,
        }
    )
    assert f.columns == ["ndcg_at_10", "recall_at_10"]
    assert f.rows == [("model", [0.21, 0.3]), ("popularity", [0.12, None])]
    assert f.online == {"online.click_rate": 0.1}


def test_run_figures_read_a_real_mlflow_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    from recommender.config import Settings
    from recommender.web.models_page import RunFigures

    settings = Settings(
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'ml.db'}",
        mlflow_artifact_root=str(tmp_path / "art"),
    )
    client = mlflow.MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    experiment = client.create_experiment("pages", artifact_location=str(tmp_path / "art"))
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "test.model.ndcg_at_10", 0.21)
    client.log_metric(run.info.run_id, "test.popularity.ndcg_at_10", 0.12)
    client.set_terminated(run.info.run_id)
    figures = RunFigures(settings).get(run.info.run_id)
    assert figures is not None
    assert figures.rows == [("model", [0.21]), ("popularity", [0.12])]
    assert RunFigures(settings).get("0" * 32) is None, "an unknown run: no figures, no error"
    down = RunFigures(Settings(mlflow_tracking_uri="http://127.0.0.1:9/"), timeout=0.5)
    started = time.monotonic()
    assert down.get(run.info.run_id) is None, "MLflow down: the page says so"
    assert down.get(run.info.run_id) is None
    assert time.monotonic() - started < 5, "and it does not wait for the client's retries"
