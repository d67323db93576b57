"""Settings of the medallion DAG, read from environment variables with laptop defaults.

Everything here is cheap to compute: the DAG file calls ``load_settings()`` at parse time,
so nothing in this module touches dbt, dlt, Great Expectations or the warehouse.

The variables, their defaults and meanings are listed in the README's one table of
variables ("Point it at your own systems").

Data-quality thresholds live in ``orchestration.quality.thresholds``; the alert webhook in
``orchestration.alerts``.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR_DEFAULT = Path(__file__).resolve().parents[2]
"""The repository root: ``dags/orchestration/settings.py`` lives two folders below it."""

DBT_PROFILE_NAME = "retail_medallion"
DBT_PROJECT_NAME = "retail_medallion"
INGEST_SOURCES = ("crm", "erp", "sales")
DLT_DESTINATIONS = ("duckdb", "postgres")


@dataclass(frozen=True)
class Settings:
    """What the DAG needs to know before any task runs."""

    project_dir: Path
    manifest_path: Path
    profiles_dir: Path
    target: str
    dbt_select: tuple[str, ...]
    dbt_exclude: tuple[str, ...]
    destination: str
    duckdb_pool: str
    schedule: str | None
    start_date: datetime
    retries: int
    retry_delay_s: float
    max_retry_delay_s: float
    powerbi_conn_id: str
    powerbi_timeout_s: float
    powerbi_poll_s: float

    @property
    def profiles_yml(self) -> Path:
        """The profiles.yml dbt reads."""
        return self.profiles_dir / "profiles.yml"

    @property
    def single_writer(self) -> bool:
        """DuckDB takes one writer per file: warehouse tasks must not overlap."""
        return self.target == "duckdb" or self.destination == "duckdb"

    @property
    def warehouse_pool(self) -> str | None:
        """Pool for every task that writes the warehouse, or ``None`` (no limit)."""
        return self.duckdb_pool if self.single_writer else None


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _path(name: str, default: Path, base: Path) -> Path:
    raw = os.environ.get(name, "").strip()
    path = Path(raw).expanduser() if raw else default
    return path if path.is_absolute() else base / path


def _words(name: str) -> tuple[str, ...]:
    return tuple(shlex.split(os.environ.get(name, "")))


def _schedule(value: str) -> str | None:
    return None if value.lower() in {"none", "manual", "off"} else value


def load_settings() -> Settings:
    """Read the settings from the environment (relative paths are under the project dir)."""
    project_dir = _path("RETAIL_DBT_PROJECT_DIR", PROJECT_DIR_DEFAULT, Path.cwd()).resolve()
    target = _env("RETAIL_DBT_TARGET", "duckdb")
    destination = _env("RETAIL_DLT_DESTINATION", target if target in DLT_DESTINATIONS else "")
    if destination not in DLT_DESTINATIONS:
        raise ValueError(
            f"dbt target {target!r} has no matching dlt destination: set "
            f"RETAIL_DLT_DESTINATION to one of {', '.join(DLT_DESTINATIONS)}"
        )
    start = datetime.fromisoformat(_env("RETAIL_DAG_START_DATE", "2025-01-01"))
    return Settings(
        project_dir=project_dir,
        manifest_path=_path(
            "RETAIL_DBT_MANIFEST_PATH", project_dir / "target" / "manifest.json", project_dir
        ),
        profiles_dir=_path("RETAIL_DBT_PROFILES_DIR", project_dir, project_dir),
        target=target,
        dbt_select=_words("RETAIL_DBT_SELECT"),
        dbt_exclude=_words("RETAIL_DBT_EXCLUDE"),
        destination=destination,
        duckdb_pool=_env("RETAIL_DUCKDB_POOL", "retail_duckdb"),
        schedule=_schedule(_env("RETAIL_DAG_SCHEDULE", "@daily")),
        start_date=start if start.tzinfo else start.replace(tzinfo=UTC),
        retries=int(_env("RETAIL_DAG_RETRIES", "2")),
        retry_delay_s=float(_env("RETAIL_DAG_RETRY_DELAY_S", "60")),
        max_retry_delay_s=float(_env("RETAIL_DAG_MAX_RETRY_DELAY_S", "1800")),
        powerbi_conn_id=_env("RETAIL_POWERBI_CONN_ID", "powerbi_default"),
        powerbi_timeout_s=float(_env("RETAIL_POWERBI_TIMEOUT_S", "1800")),
        powerbi_poll_s=float(_env("RETAIL_POWERBI_POLL_S", "30")),
    )
