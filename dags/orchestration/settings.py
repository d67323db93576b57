"""Settings of the medallion DAG, read from environment variables with laptop defaults.

Everything here is cheap to compute: the DAG file calls ``load_settings()`` at parse time,
so nothing in this module touches dbt, dlt, Great Expectations or the warehouse. Variables
are read through the helpers of ``ingestion.settings``, the one settings module of the
platform, so the DAG treats blank values and bad numbers as the ingestion does. Importing it
also applies ``ingestion.runtime``'s process defaults (telemetry off) at parse time.

The variables, their defaults and meanings are listed in the README's one table of
variables ("Point it at your own systems").

Data-quality thresholds live in ``orchestration.quality.thresholds``; the alert webhook in
``orchestration.alerts``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingestion.settings import (
    SettingError,
    float_setting,
    int_setting,
    path_setting,
    text_setting,
)

PROJECT_DIR_DEFAULT = Path(__file__).resolve().parents[2]
"""The repository root: ``dags/orchestration/settings.py`` lives two folders below it."""

DBT_PROFILE_NAME = "retail_medallion"
DBT_PROJECT_NAME = "retail_medallion"
INGEST_SOURCES = ("crm", "erp", "sales")
DLT_DESTINATIONS = ("duckdb", "postgres")
DBT_EXECUTION_MODES = ("local", "watcher")
"""cosmos' execution modes the DAG supports (dags/README.md, "Execution mode")."""
MAX_RETRIES = 100
"""More retries than this is a typo, not a policy: a failing task would retry for days."""


@dataclass(frozen=True)
class Settings:
    """What the DAG needs to know before any task runs."""

    project_dir: Path
    manifest_path: Path
    profiles_dir: Path
    target: str
    dbt_select: tuple[str, ...]
    dbt_exclude: tuple[str, ...]
    dbt_execution_mode: str
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


def _path(name: str, default: Path, base: Path) -> Path:
    path = path_setting(name, default)
    return path if path.is_absolute() else base / path


def _words(name: str) -> tuple[str, ...]:
    return tuple(shlex.split(text_setting(name, "")))


def _execution_mode(name: str) -> str:
    mode = text_setting(name, DBT_EXECUTION_MODES[0]).lower()
    if mode not in DBT_EXECUTION_MODES:
        raise SettingError(f"{name}={mode!r} is not an execution mode: set it to one of "
                           f"{', '.join(DBT_EXECUTION_MODES)}, or unset it for "
                           f"{DBT_EXECUTION_MODES[0]}")
    return mode


def _schedule(value: str) -> str | None:
    return None if value.lower() in {"none", "manual", "off"} else value


def _start_date(name: str, default: str) -> datetime:
    raw = text_setting(name, default)
    try:
        start = datetime.fromisoformat(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a date (set {name} to an ISO date such as "
                           f"2025-01-01, or unset it for {default})") from None
    return start if start.tzinfo else start.replace(tzinfo=UTC)


def load_settings() -> Settings:
    """Read the settings from the environment (relative paths are under the project dir).

    A value the DAG cannot use raises ``SettingError`` naming the variable and what it takes.
    """
    project_dir = _path("RETAIL_DBT_PROJECT_DIR", PROJECT_DIR_DEFAULT, Path.cwd()).resolve()
    target = text_setting("RETAIL_DBT_TARGET", "duckdb")
    destination = text_setting("RETAIL_DLT_DESTINATION",
                               target if target in DLT_DESTINATIONS else "")
    if destination not in DLT_DESTINATIONS:
        raise SettingError(
            f"dbt target {target!r} has no matching dlt destination: set "
            f"RETAIL_DLT_DESTINATION to one of {', '.join(DLT_DESTINATIONS)}"
        )
    return Settings(
        project_dir=project_dir,
        manifest_path=_path(
            "RETAIL_DBT_MANIFEST_PATH", project_dir / "target" / "manifest.json", project_dir
        ),
        profiles_dir=_path("RETAIL_DBT_PROFILES_DIR", project_dir, project_dir),
        target=target,
        dbt_select=_words("RETAIL_DBT_SELECT"),
        dbt_exclude=_words("RETAIL_DBT_EXCLUDE"),
        dbt_execution_mode=_execution_mode("RETAIL_DBT_EXECUTION_MODE"),
        destination=destination,
        duckdb_pool=text_setting("RETAIL_DUCKDB_POOL", "retail_duckdb"),
        schedule=_schedule(text_setting("RETAIL_DAG_SCHEDULE", "@daily")),
        start_date=_start_date("RETAIL_DAG_START_DATE", "2025-01-01"),
        retries=int_setting("RETAIL_DAG_RETRIES", 2, 0, MAX_RETRIES, "a number of retries"),
        retry_delay_s=float_setting("RETAIL_DAG_RETRY_DELAY_S", 60.0, "a number of seconds",
                                    allow_zero=True),
        max_retry_delay_s=float_setting("RETAIL_DAG_MAX_RETRY_DELAY_S", 1800.0,
                                        "a number of seconds", allow_zero=True),
        powerbi_conn_id=text_setting("RETAIL_POWERBI_CONN_ID", "powerbi_default"),
        powerbi_timeout_s=float_setting("RETAIL_POWERBI_TIMEOUT_S", 1800.0, "a number of seconds"),
        powerbi_poll_s=float_setting("RETAIL_POWERBI_POLL_S", 30.0, "a number of seconds"),
    )
