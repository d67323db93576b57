"""The one place environment variables become typed settings, for ingestion and the DAG alike.

Every ``RETAIL_*`` variable goes through the small helper family below, so they all behave
the same way: surrounding whitespace is dropped and an empty value counts as unset (the
default applies), numbers are checked against a range, and a bad value stops the run with a
``SettingError`` that names the variable, what it accepts and its default. Secrets are the
one exception to the whitespace rule: ``secret`` hands them on exactly as given, as dbt's
``env_var`` does in ``profiles.yml``, so dbt and the Python side log in with the same value.

The variables, their defaults and meanings are listed in the README's one table of
variables ("Point it at your own systems"). ``profiles.yml`` repeats some defaults because
dbt reads that file itself; keep the two in step.

Nothing here imports dbt, dlt or Airflow: the DAG file reads its settings at parse time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import UserError

DEFAULT_DUCKDB_PATH = "warehouse/retail.duckdb"
"""The DuckDB warehouse, relative to the working directory (``profiles.yml`` repeats it)."""
DEFAULT_DEMO_DIR = "data/demo"
DEFAULT_ERP_LOOKBACK_MINUTES = 60
DEFAULT_CRM_TIMEOUT_S = 30.0
DEFAULT_CRM_MAX_ATTEMPTS = 5
DEFAULT_CRM_PAGE_SIZE = 10_000

SYNAPSE_AUTHENTICATIONS = ("ServicePrincipal", "SqlPassword")
"""What both dbt-synapse and dlt's synapse destination can log in with: an Entra service
principal (client id and secret), or a SQL login (user and password). Token-based choices of
dbt-synapse (``CLI``, ``auto``, ``environment``) have no counterpart in dlt, which always
sends a user name and password to the ODBC driver."""


class SettingError(UserError, ValueError):
    """An environment variable holds a value the platform cannot use.

    A ``ValueError`` too, so callers that caught the bare ``int()``/``float()`` errors of
    earlier versions still catch it.
    """


# -- the helper family -------------------------------------------------------------------


def setting(name: str, default: str | None = None) -> str | None:
    """A variable without surrounding whitespace; unset or blank gives ``default``."""
    value = os.environ.get(name, "").strip()
    return value or default


def text_setting(name: str, default: str) -> str:
    """``setting`` for a variable that always has a value."""
    return setting(name) or default


def secret(name: str) -> str | None:
    """A password, token or client secret exactly as given (``None`` when unset or empty).

    Never stripped: dbt reads the same variable verbatim, and both must present one value.
    """
    return os.environ.get(name) or None


def path_setting(name: str, default: str | Path) -> Path:
    """A path, ``~`` expanded; unset or blank gives ``default``."""
    return Path(setting(name) or default).expanduser()


def int_setting(name: str, default: int, low: int, high: int, meaning: str) -> int:
    """A whole number from ``low`` to ``high``; unset or blank gives ``default``."""
    raw = setting(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SettingError(f"{name}={raw!r} is not {meaning} (set {name} to a whole number "
                           f"from {low} to {high}, or unset it for {default})")
    return value


def float_setting(name: str, default: float, meaning: str, *, allow_zero: bool = False) -> float:
    """A finite number above zero (or from zero, with ``allow_zero``); unset gives ``default``."""
    raw = setting(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    in_range = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and in_range):
        accepted = "a number from 0 up" if allow_zero else "a positive number"
        raise SettingError(f"{name}={raw!r} is not {meaning} (set {name} to {accepted}, "
                           f"or unset it for {default:g})")
    return value


def choice_setting(name: str, default: str, choices: Sequence[str]) -> str:
    """One of ``choices``, matched without regard to case and returned as spelled there."""
    raw = setting(name)
    if raw is None:
        return default
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise SettingError(f"{name}={raw!r} is not one of {', '.join(choices)} (set {name} to "
                       f"one of them, or unset it for {default})")


# -- the settings ------------------------------------------------------------------------


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
    duckdb_path = path_setting("RETAIL_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)
    return Paths(
        demo_dir=path_setting("RETAIL_DEMO_DIR", DEFAULT_DEMO_DIR),
        duckdb_path=duckdb_path,
        pipelines_dir=path_setting("RETAIL_DLT_PIPELINES_DIR", duckdb_path.parent / ".dlt"),
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
        host=text_setting("RETAIL_PG_HOST", "127.0.0.1"),
        port=int_setting("RETAIL_PG_PORT", 5432, 1, 65_535, "a port number"),
        user=text_setting("RETAIL_PG_USER", "postgres"),
        password=secret("RETAIL_PG_PASSWORD") or "",
        database=text_setting("RETAIL_PG_DATABASE", "retail"),
    )


def erp_lookback_minutes() -> int:
    """How far before each ERP and CRM cursor every ingest re-reads (late changes)."""
    return int_setting("RETAIL_ERP_LOOKBACK_MINUTES", DEFAULT_ERP_LOOKBACK_MINUTES, 0,
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
        timeout_s=float_setting("RETAIL_CRM_TIMEOUT_S", DEFAULT_CRM_TIMEOUT_S,
                                "a number of seconds"),
        max_attempts=int_setting("RETAIL_CRM_MAX_ATTEMPTS", DEFAULT_CRM_MAX_ATTEMPTS, 1, 20,
                                 "a number of attempts"),
    )


def crm_page_size() -> int:
    """Records the CRM client asks for per page (the API may cap it)."""
    return int_setting("RETAIL_CRM_PAGE_SIZE", DEFAULT_CRM_PAGE_SIZE, 1, 1_000_000,
                       "a number of records")


def synapse_authentication() -> str:
    """How dlt and dbt log in to Synapse: ``ServicePrincipal`` (default) or ``SqlPassword``.

    ``profiles.yml`` turns ``SqlPassword`` into dbt-synapse's own word for it, ``sql``.
    """
    return choice_setting("RETAIL_SYNAPSE_AUTHENTICATION", SYNAPSE_AUTHENTICATIONS[0],
                          SYNAPSE_AUTHENTICATIONS)
