"""`make bench`'s PostgreSQL builds: their database, an unreachable server, the report's rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import DEFAULT_PG_URL
from tools.airflow_deployment import free_port
from tools.benchmark.postgres import (
    URL_VARIABLE,
    bench_database,
    bench_postgres_builds,
    postgres_env,
    postgres_rows,
)


@pytest.mark.postgres
def test_each_run_builds_in_a_new_database_dropped_afterwards(tmp_path: Path) -> None:
    admin_url = os.environ.get("RETAIL_TEST_PG_URL", DEFAULT_PG_URL)
    with bench_database(admin_url) as database:
        env = postgres_env({}, database, tmp_path)
        engine = sa.create_engine(database)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select current_database()")).scalar() \
                == env["RETAIL_PG_DATABASE"]
            assert conn.execute(sa.text(
                "select count(*) from information_schema.tables "
                "where table_schema not in ('pg_catalog', 'information_schema')")).scalar() == 0
        engine.dispose()
    admin = sa.create_engine(admin_url)
    with admin.connect() as conn:
        left = conn.execute(sa.text("select count(*) from pg_database where datname = :name"),
                            {"name": database.database}).scalar()
    admin.dispose()
    assert left == 0
    assert env["RETAIL_DBT_TARGET"] == "postgres"
    assert env["RETAIL_DEMO_DIR"] == str(tmp_path / "demo")


def test_an_unreachable_server_is_reported_as_not_measured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_VARIABLE,
                       f"postgresql+psycopg2://bench:hunter2@127.0.0.1:{free_port()}/postgres")
    measured = bench_postgres_builds(1.0, 42, {}, tmp_path / "postgres", tmp_path / "log",
                                     "python", "dbt")
    assert set(measured) == {"unavailable"}
    assert "not reachable" in measured["unavailable"]
    assert "hunter2" not in measured["unavailable"]
    assert not (tmp_path / "postgres").exists()
    (row,) = postgres_rows(1.0, measured)
    assert "not measured" in row and "hunter2" not in row


def test_the_rows_give_both_builds_and_the_increments_share() -> None:
    measured = {"full": {"seconds": 40.0, "peak_rss_mb": 300, "nodes": {}},
                "daily": {"seconds": 10.0, "peak_rss_mb": 250, "nodes": {}}}
    full, daily = postgres_rows(1.0, measured)
    assert full.startswith("| 1.0 | dbt build on PostgreSQL, full | 40.0 |")
    assert daily.startswith("| 1.0 | dbt build on PostgreSQL, one daily increment | 10.0 |")
    assert "(25% of its full build)" in daily
