"""Settings, read from the environment (prefix ``JENJANG_``) with safe local defaults.

Nothing happens at import: call :func:`get_settings` (cached) or build :class:`Settings` yourself.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The development pseudonym key. Fine for the synthetic demo; refused in production.
DEFAULT_PSEUDONYM_KEY = "jenjang-development-key-not-for-production"
PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting of the project. Environment variables: ``JENJANG_<FIELD>``.

    Raises ``pydantic.ValidationError`` when ``env`` is ``production`` and the pseudonym key is
    the development default or shorter than 32 characters.
    """

    model_config = SettingsConfigDict(env_prefix="JENJANG_", env_file=None, extra="ignore")

    env: Literal["development", "production"] = "development"
    pseudonym_key: SecretStr = SecretStr(DEFAULT_PSEUDONYM_KEY)
    data_dir: Path = PROJECT_DIR / "data" / "demo"
    models_dir: Path = PROJECT_DIR / "models"
    mlflow_tracking_uri: str = f"sqlite:///{PROJECT_DIR / 'mlruns.db'}"
    mlflow_artifact_root: str = str(PROJECT_DIR / "mlartifacts")
    database_url: str = f"sqlite:///{PROJECT_DIR / 'jenjang.db'}"
    #: The career pattern (rules file); None = the packaged Kemnaker demonstration rules.
    career_rules: Path | None = None
    #: Requests per second per API key and worker (token bucket; 0 = no per-key limit): 429.
    rate_limit_per_key: float = Field(0.0, ge=0)
    #: Tokens of that bucket (0 = two seconds' worth of the rate).
    rate_limit_burst: int = Field(0, ge=0)
    #: Requests inside one worker at once before the next is answered 503 (0 = no limit).
    max_in_flight: int = Field(32, ge=0)
    #: Threads computing answers (cache misses) off the event loop, per worker; the event loop
    #: stays free to read requests and refuse the excess at once. More than 2 only adds GIL
    #: contention on CPU-bound work; 0 computes on the event loop (no overload protection).
    compute_threads: int = Field(2, ge=0, le=64)
    #: glibc malloc arenas of a worker (0 = glibc's default of 8 per core): each thread's own
    #: arena keeps freed memory, so a worker with compute threads grows without it.
    malloc_arenas: int = Field(1, ge=0, le=64)
    #: Largest request body in bytes (413 beyond; 0 = no limit).
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=0)
    #: Longest request target, path and query string, in bytes (414 beyond; 0 = no limit).
    max_url_bytes: int = Field(8 * 1024, ge=0)
    #: Largest total of the request's header fields in bytes (431 beyond; 0 = no limit).
    max_header_bytes: int = Field(16 * 1024, ge=0)
    #: Serve the interactive API documentation ``/docs`` (Swagger UI from packaged files, never
    #: a CDN); None = on, except in production (``env=production``) where it must be turned on.
    api_docs: bool | None = None

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            key = self.pseudonym_key.get_secret_value()
            if key == DEFAULT_PSEUDONYM_KEY or len(key) < 32:
                raise ValueError(
                    "JENJANG_PSEUDONYM_KEY must be set to a secret of at least 32 characters "
                    "in production (JENJANG_ENV=production); the development key is refused"
                )
        return self

    @property
    def raw_dir(self) -> Path:
        """Raw tables of the demo organisation (as an HR export would deliver them)."""
        return self.data_dir / "raw"

    @property
    def clean_dir(self) -> Path:
        """Clean, validated, pseudonymised tables that training and serving read."""
        return self.data_dir / "clean"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once from the environment)."""
    return Settings()


def disable_telemetry() -> None:
    """Switch off MLflow's and other libraries' usage telemetry for this process (no network)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def configure_threads() -> None:
    """Let OpenMP threads sleep instead of spinning when they wait (LightGBM). On a busy
    2-core machine spinning threads made a fit up to 27x slower. Call before lightgbm loads."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
