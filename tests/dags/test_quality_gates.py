"""The Great Expectations gates on a real DuckDB warehouse, without running the DAG.

The bronze gate is fed by real dlt loads of the demo data; the gold gate by a small
gold.agg_sales_daily written here, whose latest day breaks one business expectation at a time.
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
from orchestration.quality.checks import Check
from orchestration.quality.gold import gold_checks
from orchestration.quality.runner import DataQualityError, GateReport, run_checks
from orchestration.quality.thresholds import ThresholdError, Thresholds, load_thresholds
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


def test_the_duckdb_gate_reads_one_column_at_a_time_and_judges_every_expectation_once(
    workspace: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day-0 load of millions of sales lines is validated one column at a time (3.5 GB
    instead of 12.2 GB at scale 100, docs/benchmark.md); the outcome must be the one of the
    whole suite: each expectation judged once, the planted rows still seen."""
    ingest_all(workspace)
    widths: list[int] = []
    fetch_frame = Warehouse.fetch_frame

    def counted_fetch(self: Warehouse, sql: str, params: tuple[object, ...] = ()) -> object:
        frame = fetch_frame(self, sql, params)
        widths.append(frame.shape[1])
        return frame

    monkeypatch.setattr(Warehouse, "fetch_frame", counted_fetch)
    from great_expectations.execution_engine import pandas_execution_engine

    threshold = pandas_execution_engine.HASH_THRESHOLD
    with Warehouse("duckdb") as warehouse:
        checks = bronze_checks(unvalidated_bronze_loads(warehouse), load_thresholds())
        report = run_checks("bronze", checks, warehouse)

    assert report.success, report.failures()
    assert threshold == pandas_execution_engine.HASH_THRESHOLD, "GX's fingerprints back on"
    assert widths and max(widths) == 1, "every bronze expectation reads one column"
    assert len(widths) == sum(len(check.column_batches()) for check in checks)
    for check, outcome in zip(checks, report.checks, strict=True):
        judged = sorted((e.expectation, e.kwargs.get("column") or "") for e in outcome.expectations)
        suite = sorted((str(e.expectation_type), getattr(e, "column", None) or "")
                       for e in check.expectations)
        assert judged == suite, check.name
    sales = next(c for c in report.checks if c.check == "bronze_sales.sales_lines")
    with duckdb.connect(str(workspace.duckdb_path)) as con:
        [(lines,)] = con.execute("select count(*) from bronze_sales.sales_lines").fetchall()
    assert sales.rows == lines
    row_count = next(e for e in sales.expectations if "row_count" in e.expectation)
    assert row_count.success and row_count.result["observed_value"] == lines
    quantity = next(e for e in sales.expectations if e.kwargs.get("column") == "quantity")
    assert quantity.result["unexpected_count"] > 0, "the planted unparseable quantities are seen"


def test_expectations_of_the_whole_table_go_with_the_first_column_batch() -> None:
    import great_expectations.expectations as gxe

    check = Check(
        name="t",
        query='select * from "s"."t"',
        expectations=(
            gxe.ExpectColumnValuesToNotBeNull(column="a"),
            gxe.ExpectTableRowCountToEqual(value=3),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["a", "b"]),
            gxe.ExpectColumnValuesToBeUnique(column="a"),
        ),
    )

    batches = check.column_batches()

    assert [batch.columns for batch in batches] == [("a",), ("a", "b")]
    assert [len(batch.expectations) for batch in batches] == [3, 1]
    assert "row_count" in str(batches[0].expectations[0].expectation_type)
    assert batches[1].query == 'select "a", "b" from (select * from "s"."t") as checked_rows'
    only_count = Check("t", 'select 1 from "s"."t"', (gxe.ExpectTableRowCountToEqual(value=3),))
    assert [b.query for b in only_count.column_batches()] == [
        'select 1 as row_marker from (select 1 from "s"."t") as checked_rows']


DAILY_SALES = {"store": (90, 2_300.0), "online": (24, 560.0)}
"""Lines and net revenue of a steady day per channel, about the demo's at the test scale."""


@pytest.fixture
def gold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[duckdb.DuckDBPyConnection]:
    """Eight steady days of gold.agg_sales_daily, two stores per channel and day; tests
    change the latest day (2025-06-08) to break one business expectation each."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(path))
    with duckdb.connect(str(path)) as con:
        con.execute("create schema gold")
        con.execute(
            "create table gold.agg_sales_daily (sale_date date, store_id bigint, channel "
            "varchar, line_count bigint, net_amount decimal(18, 2))"
        )
        for day in range(1, 9):
            for channel, (lines, revenue) in DAILY_SALES.items():
                wobble = 1 + 0.05 * ((day % 3) - 1)
                for store_id in (1, 2):
                    con.execute(
                        "insert into gold.agg_sales_daily values (?, ?, ?, ?, ?)",
                        [f"2025-06-0{day}", store_id, channel, round(lines * wobble / 2),
                         round(revenue * wobble / 2, 2)],
                    )
        yield con


def gold_report(thresholds: Thresholds | None = None) -> GateReport:
    with Warehouse("duckdb") as warehouse:
        checks = gold_checks(["agg_sales_daily", "fct_sales"], thresholds or load_thresholds())
        return run_checks("gold", checks, warehouse)


def failed_columns(report: GateReport) -> list[str | None]:
    return [
        expectation.kwargs.get("column")
        for check in report.checks
        for expectation in check.expectations
        if not expectation.success
    ]


def test_thresholds_are_the_vars_of_dbt_project_yml() -> None:
    thresholds = load_thresholds()

    assert (thresholds.bronze_min_valid, thresholds.bronze_tolerated_rows) == (0.99, 5)
    assert (thresholds.recent_days, thresholds.daily_min_ratio, thresholds.daily_max_ratio) == (
        7, 0.5, 2.0)


def test_a_threshold_out_of_range_names_the_var(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text(
        "vars:\n  dq_bronze_min_valid: 1.5\n  dq_bronze_tolerated_rows: 5\n"
        "  dq_recent_days: 7\n  dq_daily_min_ratio: 0.5\n  dq_daily_max_ratio: 2.0\n"
    )

    with pytest.raises(ThresholdError, match=r"dq_bronze_min_valid .* is 1\.5"):
        load_thresholds(tmp_path)


def test_a_steady_latest_day_passes_the_gold_gate(gold: duckdb.DuckDBPyConnection) -> None:
    report = gold_report()

    assert report.success, report.failures()
    [check] = report.checks
    assert check.rows == len(DAILY_SALES), "one row per channel"


def test_a_half_delivered_day_fails_on_volume_and_revenue(
    gold: duckdb.DuckDBPyConnection,
) -> None:
    gold.execute("delete from gold.agg_sales_daily where sale_date = '2025-06-08' "
                 "and channel = 'store' and store_id = 2")
    gold.execute("update gold.agg_sales_daily set line_count = 10, net_amount = 250 "
                 "where sale_date = '2025-06-08' and channel = 'store'")

    report = gold_report()

    assert not report.success
    assert failed_columns(report) == ["volume_ratio", "revenue_ratio"]
    with pytest.raises(DataQualityError, match="latest_day_against_recent_days"):
        report.raise_for_critical()


def test_prices_in_cents_fail_on_revenue_only(gold: duckdb.DuckDBPyConnection) -> None:
    gold.execute("update gold.agg_sales_daily set net_amount = net_amount * 100 "
                 "where sale_date = '2025-06-08' and channel = 'online'")

    assert failed_columns(gold_report()) == ["revenue_ratio"]


def test_a_channel_silent_on_the_latest_day_fails(gold: duckdb.DuckDBPyConnection) -> None:
    gold.execute("delete from gold.agg_sales_daily "
                 "where sale_date = '2025-06-08' and channel = 'online'")

    assert failed_columns(gold_report()) == ["volume_ratio", "revenue_ratio"]


def test_the_ratios_come_from_dbt_project_yml(gold: duckdb.DuckDBPyConnection) -> None:
    gold.execute("update gold.agg_sales_daily set line_count = line_count * 3 "
                 "where sale_date = '2025-06-08' and channel = 'store'")

    assert failed_columns(gold_report()) == ["volume_ratio"]
    assert gold_report(Thresholds(daily_max_ratio=4.0)).success


def test_the_first_day_of_a_warehouse_has_nothing_to_compare_and_passes(
    gold: duckdb.DuckDBPyConnection,
) -> None:
    gold.execute("delete from gold.agg_sales_daily where sale_date < '2025-06-08'")

    report = gold_report()

    assert report.success and report.checks[0].rows == 0


def test_a_missing_gold_table_fails_the_gold_gate(gold: duckdb.DuckDBPyConnection) -> None:
    gold.execute("drop table gold.agg_sales_daily")

    failures = gold_report().failures()

    assert failures and all("query_runs" in failure for failure in failures)
    assert any("agg_sales_daily" in failure for failure in failures)


def test_a_dag_that_builds_no_daily_sales_has_no_gold_check() -> None:
    assert gold_checks(["dim_customer", "fct_sales"], Thresholds()) == []


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

        daily_sales = gold_checks(["agg_sales_daily"], load_thresholds())
        missing = run_checks("gold", daily_sales, warehouse)
        assert not missing.success
        assert any("agg_sales_daily" in failure for failure in missing.failures())
        warehouse.execute("create schema gold")
        warehouse.execute("create table gold.agg_sales_daily (sale_date date, channel text, "
                          "line_count bigint, net_amount numeric(18, 2))")
        warehouse.execute("insert into gold.agg_sales_daily values ('2025-06-01', 'store', "
                          "10, 100.00), ('2025-06-02', 'store', 11, 90.00), "
                          "('2025-06-03', 'store', 2, 100.00)")
        warehouse.commit()
        daily = run_checks("gold", daily_sales, warehouse)
        assert [e.kwargs.get("column") for c in daily.checks for e in c.expectations
                if not e.success] == ["volume_ratio"], "PostgreSQL ran the same SQL"

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
