"""Where things live, read from the environment with laptop-friendly defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import UserError

DEFAULT_ERP_LOOKBACK_MINUTES = 60
DEFAULT_CRM_TIMEOUT_S = 30.0
DEFAULT_CRM_MAX_ATTEMPTS = 5


class SettingError(UserError):
    """An environment variable holds a value the platform cannot use."""


def _int_setting(name: str, default: int, low: int, high: int, meaning: str) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SettingError(f"{name}={raw!r} is not {meaning} (set {name} to a whole number "
                           f"from {low} to {high}, or unset it for {default})")
    return value


def _float_setting(name: str, default: float, meaning: str) -> float:
    raw = os.environ.get(name) or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SettingError(f"{name}={raw!r} is not {meaning} (set {name} to a positive "
                           f"number, or unset it for {default:g})")
    return value


def _path(name: str, default: str) -> Path:
    return Path(os.environ.get(name, default)).expanduser()


@dataclass(frozen=True)
class Paths:
    demo_dir: Path
    duckdb_path: Path
    pipelines_dir: Path

    @property
    def crm_dir(self) -> Path:
        return self.demo_dir / "crm"

    @property
    def erp_sqlite_path(self) -> Path:
        return self.demo_dir / "erp" / "erp.sqlite"

    @property
    def landing_dir(self) -> Path:
        return self.demo_dir / "landing" / "sales"

    @property
    def state_path(self) -> Path:
        return self.demo_dir / "state.json"

    @property
    def planted_path(self) -> Path:
        return self.demo_dir / "planted.json"


def load_paths() -> Paths:
    duckdb_path = _path("RETAIL_DUCKDB_PATH", "warehouse/retail.duckdb")
    return Paths(
        demo_dir=_path("RETAIL_DEMO_DIR", "data/demo"),
        duckdb_path=duckdb_path,
        pipelines_dir=_path("RETAIL_DLT_PIPELINES_DIR", str(duckdb_path.parent / ".dlt")),
    )


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str
    database: str

    def sqlalchemy_url(self, database: str | None = None,
                       driver: str = "postgresql+psycopg2") -> str:
        """The URL, with user and password escaped as URLs need."""
        from sqlalchemy.engine import URL

        return URL.create(driver, username=self.user, password=self.password or None,
                          host=self.host, port=self.port,
                          database=database or self.database).render_as_string(
                              hide_password=False)

    def dlt_credentials(self) -> str:
        return self.sqlalchemy_url(driver="postgresql")


def postgres_settings() -> PostgresSettings:
    """The same variables profiles.yml reads, so dlt and dbt always agree."""
    return PostgresSettings(
        host=os.environ.get("RETAIL_PG_HOST", "127.0.0.1"),
        port=_int_setting("RETAIL_PG_PORT", 5432, 1, 65_535, "a port number"),
        user=os.environ.get("RETAIL_PG_USER", "postgres"),
        password=os.environ.get("RETAIL_PG_PASSWORD", ""),
        database=os.environ.get("RETAIL_PG_DATABASE", "retail"),
    )


def erp_lookback_minutes() -> int:
    """How far before each ERP and CRM cursor every ingest re-reads (late changes)."""
    return _int_setting("RETAIL_ERP_LOOKBACK_MINUTES", DEFAULT_ERP_LOOKBACK_MINUTES, 0,
                        7 * 24 * 60, "a number of minutes")


@dataclass(frozen=True)
class HttpSettings:
    """How patient the CRM client is: per-request timeout and attempts before giving up."""

    timeout_s: float
    max_attempts: int
    backoff_factor: float = 1.0
    max_retry_delay_s: float = 30.0


def crm_http_settings() -> HttpSettings:
    return HttpSettings(
        timeout_s=_float_setting("RETAIL_CRM_TIMEOUT_S", DEFAULT_CRM_TIMEOUT_S,
                                 "a number of seconds"),
        max_attempts=_int_setting("RETAIL_CRM_MAX_ATTEMPTS", DEFAULT_CRM_MAX_ATTEMPTS, 1, 20,
                                  "a number of attempts"),
    )
