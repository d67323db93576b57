"""The Great Expectations gates on a real DuckDB warehouse, without running the DAG.

The bronze gate is fed by real dlt loads of the demo data; the gold gate by small star
schemas written here, each breaking one promise of the gold layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from ingestion.demo import crm_data
from ingestion.demo.sources import ingest_demo_source
from ingestion.settings import Paths
from orchestration.audit import (
    BronzeLoad,
    PipelineRun,
    TaskRun,
    record_pipeline_run,
    register_bronze_loads,
    unvalidated_bronze_loads,
)
from orchestration.quality.bronze import bronze_checks
from orchestration.quality.gold import gold_checks
from orchestration.quality.runner import DataQualityError, GateReport, run_checks
from orchestration.quality.thresholds import Thresholds, load_thresholds
from orchestration.warehouse import Warehouse


def ingest_all(paths: Paths) -> list[BronzeLoad]:
    """Load the three demo sources and register their loads, as the DAG's ingest tasks do."""
    loads = []
    for source in ("crm", "erp", "sales"):
        report = ingest_demo_source(source, "duckdb", paths, lambda _: None)
        for load_id in report.load_ids:
            for table, rows in report.rows.items():
                loads.append(BronzeLoad(report.dataset, table, load_id, rows))
    with Warehouse("duckdb") as warehouse:
        register_bronze_loads(warehouse, loads, "test", "test-run", datetime.now(UTC))
    return loads


def bronze_report(thresholds: Thresholds | None = None) -> GateReport:
    with Warehouse("duckdb") as warehouse:
        loads = unvalidated_bronze_loads(warehouse)
        checks = bronze_checks(loads, thresholds or load_thresholds())
        return run_checks("bronze", checks, warehouse)


def test_small_loads_tolerate_a_few_planted_rows_large_loads_a_share() -> None:
    thresholds = Thresholds(bronze_min_valid=0.99, bronze_tolerated_rows=5)

    assert thresholds.mostly(80) == pytest.approx(1 - 5 / 80)
    assert thresholds.mostly(100_000) == pytest.approx(0.99)
    assert thresholds.mostly(0) == pytest.approx(0.99)


def test_demo_loads_with_their_planted_bad_rows_pass_the_bronze_gate(workspace: Paths) -> None:
    ingest_all(workspace)

    report = bronze_report()

    assert report.success, report.failures()
    checked = {check.check for check in report.checks}
    assert {"bronze_crm.customers", "bronze_erp.order_lines", "bronze_sales.sales_lines"} <= checked
    sales = next(c for c in report.checks if c.check == "bronze_sales.sales_lines")
    quantity = next(e for e in sales.expectations if e.kwargs.get("column") == "quantity")
    assert quantity.result["unexpected_count"] > 0, "the planted unparseable quantities are seen"


def test_rows_missing_from_a_load_fail_the_row_count_expectation(workspace: Paths) -> None:
    ingest_all(workspace)
    with duckdb.connect(str(workspace.duckdb_path)) as con:
        con.execute("delete from bronze_erp.orders where order_id % 10 = 0")

    report = bronze_report()

    assert not report.success
    assert any(
        "bronze_erp.orders" in failure and "row_count" in failure for failure in report.failures()
    )
    with pytest.raises(DataQualityError, match="bronze gate failed"):
        report.raise_for_critical()


def test_lowering_the_tolerance_turns_planted_rows_into_a_failure(workspace: Paths) -> None:
    ingest_all(workspace)

    report = bronze_report(Thresholds(bronze_min_valid=1.0, bronze_tolerated_rows=0))

    assert not report.success
    assert any("quantity" in failure for failure in report.failures())


def test_type_conflicts_in_a_required_column_above_the_tolerance_stop_the_gate(
    workspace: Paths,
) -> None:
    """Every tenth customer's created_at is text that is no timestamp: dlt lands it in a
    variant column, so created_at itself is NULL for 10 % of the load."""
    crm_dir = workspace.demo_dir / "crm"
    rows = crm_data.read_customers(crm_dir).to_pylist()
    for row in rows:
        if row["customer_id"] % 10 == 3:
            row["created_at"] = "last tuesday"
    crm_data.write_crm(crm_dir, pa.Table.from_pylist(rows), crm_data.read_deletions(crm_dir))
    ingest_all(workspace)

    report = bronze_report()

    assert not report.success
    customers = next(c for c in report.checks if c.check == "bronze_crm.customers")
    failed = [e.kwargs.get("column") for e in customers.expectations if not e.success]
    assert failed == ["created_at"]
    with duckdb.connect(str(workspace.duckdb_path)) as con:
        [(variants,)] = con.execute(
            "select count(*) from bronze_crm.customers where created_at__v_text = 'last tuesday'"
        ).fetchall()
    assert variants == sum(1 for row in rows if row["customer_id"] % 10 == 3)


@pytest.fixture
def gold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[duckdb.DuckDBPyConnection]:
    """A tiny star schema that passes every gold expectation; tests break one thing each."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(path))
    with duckdb.connect(str(path)) as con:
        con.execute("create schema gold")
        for dim, key, natural in (
            ("dim_customer", "customer_key", "customer_id"),
            ("dim_product", "product_key", "product_id"),
            ("dim_store", "store_key", "store_id"),
        ):
            con.execute(
                f"create table gold.{dim} as select * from (values "
                "('k-1', -1, timestamp '1900-01-01', timestamp '9999-12-31', true), "
                "('k1a', 1, timestamp '2025-01-01', timestamp '2025-06-01', false), "
                "('k1b', 1, timestamp '2025-06-01', timestamp '9999-12-31', true)) "
                f"as t({key}, {natural}, valid_from, valid_to, is_current)"
            )
        con.execute(
            "create table gold.dim_date as select * from (values (20250601), (20250602)) "
            "as t(date_key)"
        )
        con.execute(
            "create table gold.fct_sales as select * from (values "
            "('k1b', 'k1b', 'k1b', 20250601, 'store', false, 2, 19.90), "
            "('k-1', 'k1b', 'k1b', 20250602, 'online', false, 1, 5.00), "
            "('k1b', 'k1b', 'k1b', 20250602, 'store', true, -1, -9.95)) "
            "as t(customer_key, product_key, store_key, date_key, channel, is_return, "
            "quantity, net_amount)"
        )
        yield con


def gold_report() -> GateReport:
    tables = ["dim_customer", "dim_product", "dim_store", "dim_date", "fct_sales"]
    with Warehouse("duckdb") as warehouse:
        return run_checks("gold", gold_checks(tables, load_thresholds()), warehouse)


def test_a_consistent_star_schema_passes_the_gold_gate(gold: duckdb.DuckDBPyConnection) -> None:
    report = gold_report()

    assert report.success, report.failures()


def test_negative_revenue_on_a_sale_fails_but_on_a_return_passes(
    gold: duckdb.DuckDBPyConnection,
) -> None:
    gold.execute(
        "update gold.fct_sales set net_amount = -1 where not is_return and channel = 'store'"
    )

    failures = gold_report().failures()

    assert len(failures) == 1
    assert "fct_sales.sales_revenue" in failures[0] and "net_amount" in failures[0]


def test_two_current_rows_for_one_customer_fail_the_gold_gate(
    gold: duckdb.DuckDBPyConnection,
) -> None:
    gold.execute("update gold.dim_customer set is_current = true where customer_key = 'k1a'")

    failures = gold_report().failures()

    assert failures
    assert all("dim_customer.current" in failure for failure in failures)


def test_fact_keys_that_resolve_to_no_dimension_row_fail_the_gold_gate(
    gold: duckdb.DuckDBPyConnection,
) -> None:
    gold.execute("update gold.fct_sales set product_key = 'nowhere' where channel = 'online'")

    failures = gold_report().failures()

    assert len(failures) == 1
    assert "fct_sales.product_key -> dim_product.product_key" in failures[0]
    assert "observed_value=1" in failures[0]


def test_a_missing_gold_table_fails_the_gold_gate(gold: duckdb.DuckDBPyConnection) -> None:
    gold.execute("drop table gold.dim_store")

    failures = gold_report().failures()

    assert failures and all("query_runs" in failure for failure in failures)
    assert any("dim_store" in failure for failure in failures)


@pytest.mark.postgres
def test_gates_and_audit_work_on_postgres_through_sql(workspace: Paths, pg_database: str) -> None:
    loads = []
    for source in ("crm", "erp", "sales"):
        ingested = ingest_demo_source(source, "postgres", workspace, lambda _: None)
        loads += [
            BronzeLoad(ingested.dataset, table, load_id, rows)
            for load_id in ingested.load_ids
            for table, rows in ingested.rows.items()
        ]
    with Warehouse("postgres") as warehouse:
        register_bronze_loads(warehouse, loads, "test", "test-run", datetime.now(UTC))
        pending = unvalidated_bronze_loads(warehouse)
        report = run_checks("bronze", bronze_checks(pending, load_thresholds()), warehouse)
        assert report.success, report.failures()
        sales = next(c for c in report.checks if c.check == "bronze_sales.sales_lines")
        assert sales.rows == sum(load.rows for load in loads if load.table == "sales_lines"), (
            "GX's SQL path read the rows of the load"
        )

        warehouse.execute("delete from bronze_erp.stores where store_id = 1")
        warehouse.commit()
        broken = run_checks("bronze", bronze_checks(pending, load_thresholds()), warehouse)
        assert [f for f in broken.failures() if "bronze_erp.stores" in f]

        missing = run_checks("gold", gold_checks(["fct_sales"], load_thresholds()), warehouse)
        assert not missing.success
        assert any("fct_sales" in failure for failure in missing.failures())

        now = datetime.now(UTC)
        run = PipelineRun(
            dag_id="retail_medallion",
            run_id="r1",
            logical_date=now,
            data_interval_start=now,
            data_interval_end=now,
            run_type="manual",
            target="postgres",
            started_at=now,
            ended_at=now,
            status="failed",
            failed_tasks=("bronze_gate",),
        )
        tasks = [
            TaskRun(
                "bronze_gate",
                "failed",
                rows=broken.rows,
                dq_success=False,
                dq_results=broken.as_dict(),
            )
        ]
        record_pipeline_run(warehouse, run, tasks, recorded_at=now)
        record_pipeline_run(warehouse, run, tasks, recorded_at=now)  # a cleared run, again
        assert warehouse.fetch_all("select status, failed_tasks from audit.pipeline_runs") == [
            ("failed", "bronze_gate")
        ]
        [(results,)] = warehouse.fetch_all(
            "select dq_results -> 'failed_critical' from audit.task_runs"
        )
        assert results >= 1
