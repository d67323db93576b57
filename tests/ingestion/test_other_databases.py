"""ERP read from real MariaDB and PostgreSQL servers; PostgreSQL as the bronze destination."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ingestion.demo import generator
from ingestion.demo.sources import ingest_demo_source
from ingestion.erp import PRIMARY_KEYS
from ingestion.ingest import SOURCES
from ingestion.settings import Paths, postgres_settings
from tests.ingestion.bronze import counts, postgres_counts


def _source_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        result: dict[str, int] = {t: conn.execute(sa.text(f"select count(*) from {t}")).scalar_one()
                  for t in PRIMARY_KEYS}
    engine.dispose()
    return result


def _erp_round_trip(workspace: Paths, erp_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_ERP_URL", erp_url)
    generator.generate(workspace, scale=0.05, seed=5)
    ingest_demo_source("erp", "duckdb", workspace, lambda _: None)
    loaded = counts(workspace.duckdb_path)
    source = _source_counts(erp_url)
    assert source["order_lines"] > 1_000
    for table, rows in source.items():
        assert loaded[f"bronze_erp.{table}"] == rows

    generator.advance(workspace, days=1)
    report = ingest_demo_source("erp", "duckdb", workspace, lambda _: None)
    assert 0 < report.total_rows < sum(source.values())
    loaded = counts(workspace.duckdb_path)
    for table, rows in _source_counts(erp_url).items():
        assert loaded[f"bronze_erp.{table}"] == rows
    assert ingest_demo_source("erp", "duckdb", workspace, lambda _: None).total_rows == 0


@pytest.mark.mariadb
def test_erp_reads_from_mariadb(workspace: Paths, mysql_database: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    _erp_round_trip(workspace, mysql_database, monkeypatch)


@pytest.mark.postgres
def test_erp_reads_from_postgres(workspace: Paths, pg_database: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _erp_round_trip(workspace, pg_database, monkeypatch)


@pytest.mark.postgres
def test_postgres_destination_matches_duckdb(workspace: Paths, pg_database: str) -> None:
    for name in SOURCES:
        ingest_demo_source(name, "postgres", workspace, lambda _: None)
        ingest_demo_source(name, "duckdb", workspace, lambda _: None)
    in_duckdb = {t: n for t, n in counts(workspace.duckdb_path).items() if n}
    assert postgres_counts(postgres_settings().sqlalchemy_url()) == in_duckdb
    generator.advance(workspace, days=1)
    for name in SOURCES:
        ingest_demo_source(name, "postgres", workspace, lambda _: None)
        ingest_demo_source(name, "duckdb", workspace, lambda _: None)
    in_duckdb = {t: n for t, n in counts(workspace.duckdb_path).items() if n}
    assert postgres_counts(postgres_settings().sqlalchemy_url()) == in_duckdb
    assert all(ingest_demo_source(name, "postgres", workspace, lambda _: None).total_rows == 0
               for name in SOURCES)
