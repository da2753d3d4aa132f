"""Settings refuse unsafe production secrets; the CLI says so and exits 2."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from recommender.config import DEFAULT_PSEUDONYM_KEY, Settings, get_settings
from recommender.pseudonym import pseudonymise, pseudonymise_series
from training.cli import app


def test_development_accepts_the_default_key() -> None:
    assert Settings(env="development").pseudonym_key.get_secret_value() == DEFAULT_PSEUDONYM_KEY


@pytest.mark.parametrize("key", [DEFAULT_PSEUDONYM_KEY, "short-key"], ids=["default", "short"])
def test_production_refuses_weak_keys(key: str) -> None:
    with pytest.raises(ValidationError, match="JENJANG_PSEUDONYM_KEY"):
        Settings(env="production", pseudonym_key=key)


def test_production_accepts_a_real_key() -> None:
    assert Settings(env="production", pseudonym_key="x" * 40).env == "production"


def test_cli_refuses_to_start_in_production_with_default_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JENJANG_ENV", "production")
    monkeypatch.delenv("JENJANG_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["summary"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "JENJANG_PSEUDONYM_KEY" in result.output


def test_pseudonyms_are_keyed_and_stable() -> None:
    nip = "198501012010011001"
    assert pseudonymise(nip, "k1") == pseudonymise(nip, "k1")
    assert pseudonymise(nip, "k1") != pseudonymise(nip, "k2")
    assert nip not in pseudonymise(nip, "k1")
    out = pseudonymise_series(pd.Series([nip, None, nip]), "k1")
    assert out[0] == out[2] and out[1] is None
