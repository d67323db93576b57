"""The project built for real on a local Spark session (dbt-spark, method session), the
engine and SQL dialect Databricks runs, without a workspace.

Bronze comes from the demo: generated, ingested into DuckDB by the CLI, exported table by
table to parquet and registered as Spark tables (macro register_parquet_sources), the
same data DuckDB builds from. The Spark session writes plain parquet tables (Delta Lake
is not available offline), so snapshots are disabled on this target and the dimensions
hold one open version per key (macro scd2_history); fct_sales is rebuilt whole
(insert_overwrite). On a first build that is exactly what DuckDB computes, so the gold
numbers of both engines must agree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.sources import URL_VARIABLES
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.integration.test_portability_compile import (
    PROJECT_DIR,
    STEP_TIMEOUT_SECONDS,
    portability_bin,
    portability_env,
    run_dbt,
    skip_or_fail,
)

pytestmark = pytest.mark.slow

MAIN_BIN = Path(sys.executable).parent
BRONZE_SCHEMAS = ("bronze_crm", "bronze_erp", "bronze_sales")


@dataclass(frozen=True)
class SparkBuild:
    duckdb_path: Path
    warehouse_dir: Path
    manifest: dict[str, Any]
    run_results: dict[str, Any]

    def duckdb_rows(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as conn:
            return normalised(conn.execute(sql).fetchall())

    def spark_rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Reads the parquet files of the Spark tables, named schema.table in `sql`."""
        with duckdb.connect() as conn:
            for schema in ("gold", "silver"):
                conn.execute(f"create schema {schema}")
                for table_dir in (self.warehouse_dir / f"{schema}.db").iterdir():
                    if any(table_dir.glob("*.parquet")):
                        conn.execute(f"create view {schema}.{table_dir.name} as select * from "
                                     f"read_parquet('{table_dir}/*.parquet')")
            return normalised(conn.execute(sql).fetchall())


def normalised(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(Decimal(str(v)) if isinstance(v, float) else v for v in row) for row in rows]


def run_main(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                               timeout=STEP_TIMEOUT_SECONDS, check=False)
    assert completed.returncode == 0, (
        f"`{' '.join(command)}` exited with {completed.returncode}\n"
        f"{completed.stdout[-4000:]}\n{completed.stderr[-2000:]}")


def export_bronze(duckdb_path: Path, bronze_dir: Path) -> list[str]:
    """Every bronze table as parquet under bronze_dir/<schema>/<table>/; returns schema.table."""
    exported = []
    with duckdb.connect(str(duckdb_path), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {BRONZE_SCHEMAS} and not starts_with(table_name, '_dlt') "
            "order by 1, 2").fetchall()
        for schema, table in tables:
            table_dir = bronze_dir / schema / table
            table_dir.mkdir(parents=True)
            conn.execute(f"copy (select * from {schema}.{table}) "
                         f"to '{table_dir / 'part-0.parquet'}' (format parquet)")
            exported.append(f"{schema}.{table}")
    return exported


@pytest.fixture(scope="module")
def spark_build(tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    bin_dir = portability_bin()
    if shutil.which("java") is None:
        skip_or_fail("a local Spark session needs Java 17 (java is not on PATH)")
    root = tmp_path_factory.mktemp("spark")
    duckdb_path = root / "duckdb" / "retail.duckdb"
    main_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "PYTHONPATH": str(PROJECT_DIR), "RETAIL_DEMO_DIR": str(root / "demo"),
                "RETAIL_DUCKDB_PATH": str(duckdb_path),
                "RETAIL_DLT_PIPELINES_DIR": str(root / "duckdb" / "pipelines")}
    for inherited in (*URL_VARIABLES.values(), "RETAIL_DBT_TARGET"):
        main_env.pop(inherited, None)
    python = str(MAIN_BIN / "python")
    run_main([python, "-m", "ingestion", "generate", "--scale", str(TEST_SCALE),
              "--seed", str(TEST_SEED)], main_env)
    run_main([python, "-m", "ingestion", "ingest", "--source", "all",
              "--destination", "duckdb"], main_env)
    run_main([str(MAIN_BIN / "dbt"), "build", "--target", "duckdb",
              "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
              "--target-path", str(root / "duckdb" / "target"),
              "--log-path", str(root / "duckdb" / "logs")], main_env)
    tables = export_bronze(duckdb_path, root / "bronze")

    spark_dir = root / "spark"
    spark_dir.mkdir()
    env = portability_env(spark_dir,
                          RETAIL_SPARK_WAREHOUSE_DIR=str(spark_dir / "tables"),
                          RETAIL_SPARK_METASTORE_DIR=str(spark_dir / "metastore"))
    run_dbt(bin_dir, "spark", spark_dir, env, "run-operation", "register_parquet_sources",
            "--args", json.dumps({"root": str(root / "bronze"), "tables": tables}))
    run_dbt(bin_dir, "spark", spark_dir, env, "build")
    return SparkBuild(
        duckdb_path=duckdb_path,
        warehouse_dir=spark_dir / "tables",
        manifest=json.loads((spark_dir / "target" / "manifest.json").read_text()),
        run_results=json.loads((spark_dir / "target" / "run_results.json").read_text()),
    )


def test_every_model_seed_and_test_builds_on_spark(spark_build: SparkBuild) -> None:
    results = spark_build.run_results["results"]
    statuses = {result["unique_id"]: result["status"] for result in results}
    models = {uid for uid, node in spark_build.manifest["nodes"].items()
              if node["resource_type"] == "model"}
    tests = {uid for uid, node in spark_build.manifest["nodes"].items()
             if node["resource_type"] in ("test", "unit_test")}
    assert models <= statuses.keys()
    assert len(tests) > 120
    assert {uid: status for uid, status in statuses.items()
            if status not in ("success", "pass") and not uid.startswith("exposure.")} == {}


def test_snapshots_are_disabled_and_dimensions_read_current_versions(
        spark_build: SparkBuild) -> None:
    built = {result["unique_id"] for result in spark_build.run_results["results"]}
    assert not any(uid.startswith("snapshot.") for uid in built)
    dim_customer = spark_build.manifest["nodes"]["model.retail_medallion.dim_customer"]
    assert dim_customer["depends_on"]["nodes"] == [
        "model.retail_medallion.stg_crm__customers",
        "model.retail_medallion.stg_crm__customer_deletions",
    ]


@pytest.mark.parametrize("query", [
    "select channel, count(*), sum(quantity), sum(net_amount), sum(cost_amount), "
    "sum(case when customer_key = '-1' then 1 else 0 end) "
    "from gold.fct_sales group by 1 order by 1",
    "select count(*), sum(net_amount), sum(returned_amount), sum(customer_count) "
    "from gold.agg_sales_daily",
    "select count(*), sum(net_amount), min(year_month), max(year_month) "
    "from gold.agg_sales_monthly",
    "select rfm_segment, count(*), sum(monetary_value) from gold.customer_rfm "
    "group by 1 order by 1",
    "select count(*), sum(customer_lifetime_value) from gold.customer_lifetime_value",
    "select count(*), sum(active_customers), sum(retention_rate) "
    "from gold.customer_cohort_retention",
    "select count(*), sum(net_amount), sum(line_count) from gold.fct_orders",
    "select count(*), min(date_key), max(date_key), sum(fiscal_month), sum(iso_week), "
    "sum(day_of_week) from gold.dim_date",
    "select table_name, row_count, completeness, uniqueness, validity from silver.dq_scores "
    "order by 1",
    "select quarantine_rule, count(*) from silver.quarantine_sales group by 1 order by 1",
    "select table_name, quarantine_rule, count(*) from silver.quarantine_erp "
    "group by 1, 2 order by 1, 2",
])
def test_gold_numbers_match_duckdb(spark_build: SparkBuild, query: str) -> None:
    assert spark_build.spark_rows(query) == spark_build.duckdb_rows(query)
