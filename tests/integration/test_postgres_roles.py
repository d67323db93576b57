"""Least privilege on PostgreSQL, done the README's way: docs/postgres-roles.sql, then dlt as
the loader, dbt as the transformer with RETAIL_PG_READER_ROLE, and the BI reader reading gold
after two consecutive builds (a rebuild recreates every gold table; the grant must survive)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingestion.settings import Paths

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
ROLES_SQL = PROJECT_DIR / "docs" / "postgres-roles.sql"


def _run(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True,
                               text=True, timeout=900, check=False)
    assert completed.returncode == 0, (
        f"`{' '.join(command)}` exited with {completed.returncode}\n"
        f"{completed.stdout[-5000:]}\n{completed.stderr[-3000:]}")


def _as_role(database_url: str, role: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(database_url).set(username=role, password=None))


def _gold_relations(database_url: str) -> list[str]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        names = conn.execute(sa.text(
            "select table_name from information_schema.tables where table_schema = 'gold' "
            "order by table_name")).scalars().all()
    engine.dispose()
    return list(names)


def _rows_the_reader_sees(database_url: str, relations: list[str]) -> dict[str, int]:
    reader = _as_role(database_url, "retail_reader")
    with reader.connect() as conn:
        seen = {name: conn.execute(sa.text(f'select count(*) from gold."{name}"')).scalar_one()
                for name in relations}
    reader.dispose()
    return seen


@pytest.mark.slow
def test_bi_reader_keeps_select_on_gold_across_rebuilds(
        pg_database: str, workspace: Paths, tmp_path: Path) -> None:
    admin = sa.create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cursor = conn.connection.cursor()  # as psql runs it: no parameter interpolation
        cursor.execute(ROLES_SQL.read_text())
        cursor.execute(ROLES_SQL.read_text())  # the file says it can run twice
        cursor.close()
    admin.dispose()

    base_env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                # dlt asks for a password even where the server trusts local users
                "RETAIL_PG_PASSWORD": secrets.token_urlsafe(12)}
    loader_env = {**base_env, "RETAIL_PG_USER": "retail_loader"}
    transformer_env = {**base_env, "RETAIL_PG_USER": "retail_transformer",
                       "RETAIL_DBT_TARGET": "postgres", "RETAIL_PG_READER_ROLE": "retail_reader"}
    python, dbt = str(BIN_DIR / "python"), str(BIN_DIR / "dbt")
    dbt_build = [dbt, "build", "--project-dir", str(PROJECT_DIR), "--profiles-dir",
                 str(PROJECT_DIR), "--target-path", str(tmp_path / "target"),
                 "--log-path", str(tmp_path / "logs")]
    ingest = [python, "-m", "ingestion", "ingest", "--destination", "postgres"]

    _run(ingest, loader_env)
    _run(dbt_build, transformer_env)
    relations = _gold_relations(pg_database)
    assert {"fct_sales", "dim_customer", "agg_sales_daily"} <= set(relations)
    first = _rows_the_reader_sees(pg_database, relations)
    assert first["fct_sales"] > 0

    _run([python, "-m", "ingestion", "advance", "--days", "1"], base_env)
    _run(ingest, loader_env)
    _run(dbt_build, transformer_env)
    second = _rows_the_reader_sees(pg_database, relations)
    assert second["fct_sales"] > first["fct_sales"]

    reader = _as_role(pg_database, "retail_reader")
    with reader.connect() as conn:
        for forbidden in ("select count(*) from silver.stg_sales__sales_lines",
                          "select count(*) from bronze_sales.sales_lines",
                          "delete from gold.fct_sales"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(forbidden))
            conn.rollback()
    reader.dispose()
