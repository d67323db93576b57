"""Where things live, read from the environment with laptop-friendly defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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


def erp_url(paths: Paths) -> str:
    """SQLAlchemy URL of the ERP; the demo's SQLite file unless RETAIL_ERP_URL is set."""
    return os.environ.get("RETAIL_ERP_URL") or f"sqlite:///{paths.erp_sqlite_path.resolve()}"


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str
    database: str

    def sqlalchemy_url(self, database: str | None = None) -> str:
        auth = self.user if not self.password else f"{self.user}:{self.password}"
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{database or self.database}"

    def dlt_credentials(self) -> str:
        return self.sqlalchemy_url().replace("postgresql+psycopg2://", "postgresql://", 1)


def postgres_settings() -> PostgresSettings:
    """The same variables profiles.yml reads, so dlt and dbt always agree."""
    return PostgresSettings(
        host=os.environ.get("RETAIL_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("RETAIL_PG_PORT", "5432")),
        user=os.environ.get("RETAIL_PG_USER", "postgres"),
        password=os.environ.get("RETAIL_PG_PASSWORD", ""),
        database=os.environ.get("RETAIL_PG_DATABASE", "retail"),
    )
