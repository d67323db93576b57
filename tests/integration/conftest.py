"""One demo timeline, built once per session, that the gold-layer tests read.

The real CLI generates day 0, then every day is ingested and built with `dbt build`
(seeds, snapshots, models and tests, so a failing test fails the day); days 1..DEMO_DAYS
are advanced first. The same bronze data goes to DuckDB and, when a server is reachable,
to PostgreSQL, so the two engines can be compared. After the last incremental build the
rows of every incremental model are kept, then the models are rebuilt with --full-refresh
for comparison.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from ingestion.sources import URL_VARIABLES
from tests.conftest import DEFAULT_PG_URL, TEST_SCALE, TEST_SEED, services_required
from tools.postgres_scratch import scratch_database, unreachable_reason, warehouse_settings

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
DEMO_DAYS = 3
STEP_TIMEOUT_SECONDS = 600


@dataclass
class Warehouse:
    """One engine's copy of the demo: how to run dbt against it and how to query it."""

    target: str
    env: dict[str, str]
    work_dir: Path
    sqlalchemy_url: str | None = None
    incremental_rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    full_refresh_rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.target == "duckdb":
            with duckdb.connect(self.env["RETAIL_DUCKDB_PATH"], read_only=True) as conn:
                return [tuple(row) for row in conn.execute(sql).fetchall()]
        assert self.sqlalchemy_url is not None, "a PostgreSQL run needs its URL"
        engine = sa.create_engine(self.sqlalchemy_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql)).fetchall()]
        finally:
            engine.dispose()

    def ingest(self) -> None:
        run_step([str(BIN_DIR / "python"), "-m", "ingestion", "ingest", "--source", "all",
                  "--destination", self.target], self.env)

    def dbt(self, *args: str) -> None:
        run_step([str(BIN_DIR / "dbt"), *args, "--target", self.target,
                  "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                  "--target-path", str(self.work_dir / "target"),
                  "--log-path", str(self.work_dir / "logs")], self.env)


@dataclass
class DemoRun:
    demo_dir: Path
    duckdb: Warehouse
    postgres: Warehouse | None
    postgres_missing_reason: str | None

    def planted_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for batch in json.loads((self.demo_dir / "planted.json").read_text()):
            totals[batch["kind"]] = totals.get(batch["kind"], 0) + batch["count"]
        return totals

    def warehouse(self, target: str) -> Warehouse:
        if target == "duckdb":
            return self.duckdb
        if self.postgres is None:
            skip_or_fail(self.postgres_missing_reason or "PostgreSQL is not available")
        assert self.postgres is not None
        return self.postgres


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (RETAIL_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def run_step(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True,
                               text=True, timeout=STEP_TIMEOUT_SECONDS, check=False)
    if completed.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` exited with {completed.returncode}\n"
            f"--- stdout (tail) ---\n{completed.stdout[-6000:]}\n"
            f"--- stderr (tail) ---\n{completed.stderr[-3000:]}"
        )


INCREMENTAL_MODELS = {
    "base_crm__customers": ("silver", "_dlt_load_id, _dlt_id"),
    "base_sales__sales_lines": ("silver", "_dlt_load_id, _source_file, _source_row"),
    "int_sales_lines_unioned": ("silver", "sales_line_key"),
    "fct_sales": ("gold", "sales_line_key"),
    "agg_sales_daily": ("gold", "date_key, store_id, product_category, channel"),
    "agg_sales_monthly": ("gold", "year_month, store_id, product_category, channel"),
}
"""Every incremental model: its schema and the columns that order all its rows."""

RUN_STAMP = "_built_at"
"""When the run that wrote a row started: the one column a full refresh cannot reproduce."""

CURRENT_ROWS = {"int_sales_lines_unioned": "_withdrawn_at is null"}
"""Models that keep the rows they withdrew (a full refresh has none): their current rows."""


def rows_without_run_stamp(warehouse: Warehouse, schema: str, table: str,
                           order_by: str, where: str = "true") -> list[tuple[Any, ...]]:
    """Every row of a table (or those `where` says) in a stable order, without the run
    stamp (``_built_at``)."""
    columns = [name for (name,) in warehouse.query(
        "select column_name from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{table}' "
        "order by ordinal_position") if name != RUN_STAMP]
    assert columns, f"{schema}.{table} has no columns"
    return warehouse.query(
        f"select {', '.join(columns)} from {schema}.{table} where {where} order by {order_by}")


def model_rows(warehouse: Warehouse, model: str) -> list[tuple[Any, ...]]:
    """Every current row of an incremental model in a stable order, without the run stamp."""
    schema, order_by = INCREMENTAL_MODELS[model]
    return rows_without_run_stamp(warehouse, schema, model, order_by,
                                  CURRENT_ROWS.get(model, "true"))


def compare_incremental_with_full_refresh(warehouse: Warehouse) -> None:
    """Keep the rows the increments built, rebuild the incremental models from scratch and
    keep those rows too: the two must be equal."""
    warehouse.incremental_rows = {model: model_rows(warehouse, model)
                                  for model in INCREMENTAL_MODELS}
    # PostgreSQL drops a rebuilt table's dependent views (cascade): build those again too
    warehouse.dbt("run", "--full-refresh", "--select", *INCREMENTAL_MODELS,
                  *(f"{model}+,config.materialized:view" for model in INCREMENTAL_MODELS))
    warehouse.full_refresh_rows = {model: model_rows(warehouse, model)
                                   for model in INCREMENTAL_MODELS}


def postgres_admin_url() -> tuple[str | None, str | None]:
    """The server URL, or None and the reason it cannot be used."""
    url = os.environ.get("RETAIL_TEST_PG_URL", DEFAULT_PG_URL)
    reason = unreachable_reason(url)
    return (None, reason) if reason else (url, None)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[tuple[str | None, str | None]]:
    """A private database for the session's demo timeline (url, None), or (None, why not)."""
    with private_postgres_database() as database:
        yield database


@contextmanager
def private_postgres_database() -> Iterator[tuple[str | None, str | None]]:
    """A new, empty database (url, None), or (None, why not); dropped after."""
    admin_url, reason = postgres_admin_url()
    if admin_url is None:
        yield None, reason
        return
    with scratch_database(admin_url, "retail_it_") as database:
        yield database.render_as_string(hide_password=False), None


def postgres_warehouse(url: str, root: Path, base_env: dict[str, str]) -> Warehouse:
    """The PostgreSQL copy of a timeline: its database in RETAIL_PG_*, its own dlt state."""
    return Warehouse(
        target="postgres",
        work_dir=root / "postgres",
        sqlalchemy_url=url,
        env={**base_env,
             "RETAIL_DUCKDB_PATH": str(root / "postgres" / "unused.duckdb"),
             "RETAIL_DLT_PIPELINES_DIR": str(root / "postgres" / "pipelines"),
             **warehouse_settings(sa.make_url(url))},
    )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory,
             postgres_database: tuple[str | None, str | None]) -> DemoRun:
    root = tmp_path_factory.mktemp("gold")
    demo_dir = root / "demo"
    base_env = {
        **os.environ,
        "RETAIL_DEMO_DIR": str(demo_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONPATH": str(PROJECT_DIR),
    }
    for inherited in (*URL_VARIABLES.values(), "RETAIL_DBT_TARGET"):
        base_env.pop(inherited, None)

    duck = Warehouse(
        target="duckdb",
        work_dir=root / "duckdb",
        env={**base_env,
             "RETAIL_DUCKDB_PATH": str(root / "duckdb" / "retail.duckdb"),
             # dlt keeps cursors per pipeline name: one pipelines folder per destination
             "RETAIL_DLT_PIPELINES_DIR": str(root / "duckdb" / "pipelines")},
    )
    pg_url, pg_reason = postgres_database
    pg = postgres_warehouse(pg_url, root, base_env) if pg_url else None
    warehouses = [w for w in (duck, pg) if w is not None]

    python = str(BIN_DIR / "python")
    run_step([python, "-m", "ingestion", "generate", "--scale", str(TEST_SCALE),
              "--seed", str(TEST_SEED)], base_env)
    for day in range(DEMO_DAYS + 1):
        if day > 0:
            run_step([python, "-m", "ingestion", "advance", "--days", "1"], base_env)
        for warehouse in warehouses:
            warehouse.ingest()
            warehouse.dbt("build")

    for warehouse in warehouses:
        # the daily builds checked the rows each run wrote; now every row, once
        warehouse.dbt("test", "--vars", "{full_checks: true}")
        compare_incremental_with_full_refresh(warehouse)
    return DemoRun(demo_dir=demo_dir, duckdb=duck, postgres=pg, postgres_missing_reason=pg_reason)
