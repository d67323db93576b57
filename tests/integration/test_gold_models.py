"""The silver and gold layers on a real demo timeline: day 0 plus three daily increments,
each ingested with the CLI and built with `dbt build` (which also runs every dbt test)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from tests.integration.conftest import (
    BIN_DIR,
    DEMO_DAYS,
    INCREMENTAL_MODELS,
    PROJECT_DIR,
    DemoRun,
    rows_without_run_stamp,
)

# planted kind -> quarantine rule, as documented in ingestion/README.md
QUARANTINED_KINDS = {
    "null_transaction_id": ("sales_lines", "null_key"),
    "unparseable_quantity": ("sales_lines", "unparseable_quantity"),
    "unparseable_sold_at": ("sales_lines", "unparseable_date"),
    "negative_unit_price": ("sales_lines", "impossible_amount"),
    "negative_quantity": ("order_lines", "impossible_quantity"),
    "orphan_order_line": ("order_lines", "orphan_order"),
}

GOLD_AGGREGATES = {
    "agg_sales_daily": "date_key, store_id, product_category, channel",
    "agg_sales_monthly": "year_month, store_id, product_category, channel",
    "customer_rfm": "customer_id",
    "customer_lifetime_value": "customer_id",
    "customer_cohort_retention": "cohort_month, months_since_first_purchase",
    "fct_orders": "order_id",
}


def normalised(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Values as comparable Python objects (DuckDB and psycopg2 differ in float/Decimal)."""
    return [tuple(Decimal(str(v)) if isinstance(v, float) else v for v in row) for row in rows]


def test_demo_timeline_covers_the_increments(demo_run: DemoRun) -> None:
    days = demo_run.duckdb.query(
        "select count(distinct _dlt_load_id) from bronze_sales.sales_lines")
    assert days == [(DEMO_DAYS + 1,)]


def test_quarantine_catches_exactly_what_the_generator_planted(demo_run: DemoRun) -> None:
    planted = demo_run.planted_totals()
    expected: Counter[tuple[str, str]] = Counter()
    for kind, (table, rule) in QUARANTINED_KINDS.items():
        expected[(table, rule)] += planted.get(kind, 0)
    quarantined = demo_run.duckdb.query(
        "select table_name, quarantine_rule, count(*) from silver.quarantine_sales "
        "group by 1, 2 union all "
        "select table_name, quarantine_rule, count(*) from silver.quarantine_erp group by 1, 2 "
        "union all "
        "select table_name, quarantine_rule, count(*) from silver.quarantine_crm group by 1, 2")
    assert Counter({(table, rule): n for table, rule, n in quarantined}) == expected
    assert all(count > 0 for count in expected.values())


def test_redelivered_lines_are_counted_as_duplicates(demo_run: DemoRun) -> None:
    duplicates = demo_run.duckdb.query(
        "select sum(duplicate_rows) from silver.dq_row_reconciliation "
        "where table_name = 'sales_lines'")
    assert duplicates == [(demo_run.planted_totals()["duplicate_line"],)]


def test_every_bronze_row_is_accounted_for(demo_run: DemoRun) -> None:
    unbalanced = demo_run.duckdb.query(
        "select table_name, _dlt_load_id from silver.dq_row_reconciliation "
        "where bronze_rows <> silver_rows + quarantined_rows + duplicate_rows + deleted_rows "
        "+ superseded_rows")
    loads = demo_run.duckdb.query(
        "select count(*) from silver.dq_row_reconciliation where table_name = 'sales_lines'")
    assert unbalanced == []
    assert loads == [(DEMO_DAYS + 1,)]


def test_flagged_customer_values_match_what_was_planted(demo_run: DemoRun) -> None:
    planted = demo_run.planted_totals()
    # every customer ever seen, deleted ones included, is in the snapshot
    flagged = demo_run.duckdb.query(
        "select "
        "count(distinct case when not is_email_valid then customer_id end), "
        "count(distinct case when phone is null and country_code is not null "
        "then customer_id end), "
        "count(distinct case when country_code is null then customer_id end) "
        "from snapshots.snp_crm__customers where dbt_is_deleted = 'False'")
    assert flagged == [(planted["invalid_email"], planted["unparseable_phone"],
                        planted["unknown_country"])]


def test_unknown_keys_point_at_the_unknown_members(demo_run: DemoRun) -> None:
    planted = demo_run.planted_totals()
    unknown_skus = demo_run.duckdb.query(
        "select count(*) from gold.fct_sales where channel = 'store' and product_key = '-1'")
    unknown_customers = demo_run.duckdb.query(
        "select count(*) from gold.fct_sales "
        "where channel = 'store' and customer_key = '-1' and customer_id is not null")
    unknown_stores = demo_run.duckdb.query(
        "select count(*) from gold.fct_sales where channel = 'store' and store_key = '-1'")
    assert unknown_skus == [(planted["unknown_sku"],)]
    assert unknown_customers == [(planted["unknown_customer"],)]
    assert unknown_stores == [(planted["unknown_store"],)]


def test_dimensions_have_history_and_one_unknown_member(demo_run: DemoRun) -> None:
    for dimension, natural_key in (("dim_customer", "customer_id"), ("dim_product", "product_id")):
        versions = demo_run.duckdb.query(
            f"select count(*) - count(distinct {natural_key}), "
            f"sum(case when {natural_key} = -1 then 1 else 0 end) from gold.{dimension}")
        changed_keys, unknown_members = versions[0]
        assert changed_keys > 0, f"{dimension} has no SCD2 history after {DEMO_DAYS} days"
        assert unknown_members == 1


@pytest.mark.parametrize("target", [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
])
@pytest.mark.parametrize("model", sorted(INCREMENTAL_MODELS))
def test_incremental_models_equal_a_full_refresh(demo_run: DemoRun, target: str,
                                                 model: str) -> None:
    warehouse = demo_run.warehouse(target)
    assert warehouse.incremental_rows[model], f"{model} is empty"
    assert warehouse.incremental_rows[model] == warehouse.full_refresh_rows[model]


@pytest.mark.postgres
@pytest.mark.parametrize("model", sorted(GOLD_AGGREGATES))
def test_gold_aggregates_are_identical_on_duckdb_and_postgres(demo_run: DemoRun,
                                                               model: str) -> None:
    postgres = demo_run.warehouse("postgres")
    order_by = GOLD_AGGREGATES[model]
    duck_rows = normalised(rows_without_run_stamp(demo_run.duckdb, "gold", model, order_by))
    assert duck_rows, f"gold.{model} is empty"
    assert duck_rows == normalised(rows_without_run_stamp(postgres, "gold", model, order_by))


@pytest.mark.postgres
def test_postgres_tables_dbt_builds_get_planner_statistics(demo_run: DemoRun) -> None:
    """Every table of silver, gold, the snapshots and the seeds was analyzed once built (a
    manual ANALYZE: autovacuum's own is `last_autoanalyze`), so the planner knows its
    size; without it a daily build planned the union's pre-hook as nested loops."""
    postgres = demo_run.warehouse("postgres")
    tables = postgres.query(
        "select schemaname, relname, last_analyze is not null from pg_stat_user_tables "
        "where schemaname in ('silver', 'gold', 'snapshots', 'reference') "
        "order by schemaname, relname")
    assert len(tables) > 30, tables
    assert [f"{schema}.{table}" for schema, table, analyzed in tables if not analyzed] == []

    # the planner's estimate of the held web lines the union's pre-hook reads (without
    # statistics: 1 row) is their number
    held_web_lines = ("from silver.int_sales_lines_unioned "
                      "where channel = 'online' and _withdrawn_at is null")
    (actual,), = postgres.query(f"select count(*) {held_web_lines}")
    (plan,), = postgres.query(f"explain (format json) select * {held_web_lines}")
    estimated = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]
    assert actual > 1_000
    assert abs(estimated - actual) <= actual * 0.1, (estimated, actual)


def plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A node of an `explain (format json)` plan and every node below it."""
    return [node, *(below for child in node.get("Plans", []) for below in plan_nodes(child))]


@pytest.mark.postgres
def test_fct_sales_daily_slice_runs_no_subquery_per_line_on_postgres(
        demo_run: DemoRun, tmp_path: Path) -> None:
    """The daily slice of fct_sales finds the lines waiting for a dimension by a join. As a
    subquery under its `or`, PostgreSQL ran it once per held line, scanning the waiting
    lines, whenever it expected more of them than fit in work_mem (at scale 20 the build
    did not end); with the least work_mem the plan must still hold no such subquery."""
    postgres = demo_run.warehouse("postgres")
    work = tmp_path / "compile"
    completed = subprocess.run(
        [str(BIN_DIR / "dbt"), "compile", "--select", "fct_sales", "--target", "postgres",
         "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        cwd=PROJECT_DIR, env=postgres.env, capture_output=True, text=True, timeout=600,
        check=False)
    assert completed.returncode == 0, completed.stdout[-4000:]
    (compiled,) = (work / "target" / "compiled").rglob("fct_sales.sql")
    query = compiled.read_text()
    assert "waiting_for_dimensions" in query, "not the incremental slice"

    assert postgres.sqlalchemy_url is not None
    engine = sa.create_engine(postgres.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("set work_mem = '64kB'"))
            plan = conn.execute(sa.text(f"explain (format json) {query}")).scalar()
    finally:
        engine.dispose()
    nodes = plan_nodes((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    per_row = [node.get("Subplan Name") for node in nodes
               if str(node.get("Subplan Name", "")).startswith("SubPlan")]
    assert per_row == []


def dbt_on_duckdb(env: dict[str, str], work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one dbt command (`args`) on DuckDB with its own target and log folders in `work`."""
    return subprocess.run(
        [str(BIN_DIR / "dbt"), *args, "--target", "duckdb",
         "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600, check=False)


def dbt_test_outcomes(env: dict[str, str], work: Path, *args: str) -> dict[str, tuple[str, int]]:
    """Run `dbt test` with these arguments; test name -> (status, failures)."""
    dbt_on_duckdb(env, work, "test", *args)
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results
            if r["unique_id"].startswith("test.")}


def daily_and_full_outcomes(env: dict[str, str], work: Path, *args: str
                            ) -> tuple[dict[str, tuple[str, int]], dict[str, tuple[str, int]]]:
    """The outcomes of these dbt tests as a daily run checks, then with `full_checks`."""
    return (dbt_test_outcomes(env, work / "daily", *args),
            dbt_test_outcomes(env, work / "full", *args, "--vars", "{full_checks: true}"))


def dbt_run(env: dict[str, str], work: Path, *args: str) -> None:
    """Run `dbt run` with these arguments on DuckDB; it must succeed."""
    completed = dbt_on_duckdb(env, work, "run", *args)
    assert completed.returncode == 0, completed.stdout[-4000:]


def demo_warehouse_copy(demo_run: DemoRun, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the demo's DuckDB warehouse to break, and the environment that points at it."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_run.duckdb.env["RETAIL_DUCKDB_PATH"], copy)
    return copy, {**demo_run.duckdb.env, "RETAIL_DUCKDB_PATH": str(copy)}


def test_row_wise_tests_of_incremental_models_check_the_latest_run_unless_full_checks(
        demo_run: DemoRun, tmp_path: Path) -> None:
    """A daily run checks the rows it wrote: on a copy of the demo warehouse, half of
    fct_sales is stamped as written by an earlier run, and one bad row is planted on each
    side. Row-wise tests (signs, required columns) see only the latest run's bad row; the
    unique key is checked for the keys the latest run wrote, each against every row (an old
    row written again under a latest key is caught, two old copies of an old key are not);
    `full_checks` checks every row."""
    copy, env = demo_warehouse_copy(demo_run, tmp_path)
    with duckdb.connect(str(copy)) as conn:
        [(median_key,)] = conn.execute(
            "select quantile_disc(sales_line_key, 0.5) from gold.fct_sales").fetchall()
        conn.execute("update gold.fct_sales set _built_at = _built_at - interval 1 day "
                     f"where sales_line_key < '{median_key}'")
        for side in ("<", ">"):  # a negative sale among the earlier and the latest rows
            conn.execute("update gold.fct_sales set net_amount = -1 where sales_line_key = ("
                         "select min(sales_line_key) from gold.fct_sales where not is_return "
                         f"and sales_line_key {side} '{median_key}')")
        # an earlier sale without its time, and an earlier return written twice
        conn.execute("update gold.fct_sales set sold_at = null where sales_line_key = ("
                     "select max(sales_line_key) from gold.fct_sales where not is_return "
                     f"and sales_line_key < '{median_key}')")
        conn.execute("insert into gold.fct_sales select * from gold.fct_sales "
                     "where sales_line_key = (select min(sales_line_key) from gold.fct_sales "
                     f"where is_return and sales_line_key < '{median_key}')")
        # a latest line also held under an earlier run's stamp
        conn.execute("insert into gold.fct_sales select * replace ("
                     "_built_at - interval 1 day as _built_at) from gold.fct_sales "
                     "where sales_line_key = (select max(sales_line_key) from gold.fct_sales)")
    selection = ("--select", "fct_sales,test_name:sales_line_signs",
                 "fct_sales,test_name:not_null_columns", "fct_sales,test_name:unique")

    daily, full = daily_and_full_outcomes(env, tmp_path, *selection)

    def by_kind(outcomes: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
        return {name.split("_fct_sales")[0]: result for name, result in outcomes.items()}

    assert by_kind(daily) == {"sales_line_signs": ("fail", 1),
                              "not_null_columns": ("pass", 0),
                              "unique": ("fail", 1)}
    assert by_kind(full) == {"sales_line_signs": ("fail", 2),
                             "not_null_columns": ("fail", 1),
                             "unique": ("fail", 2)}


def test_unique_sales_line_id_checks_the_transaction_lines_silver_classified_last(
        demo_run: DemoRun, tmp_path: Path) -> None:
    """base_sales__sales_lines writes every copy of a transaction line in the same run, so a
    daily run's unique test of stg_sales__sales_lines checks the keys it classified, each
    against every row: on a copy of the demo warehouse, a valid line held twice under an
    earlier stamp is found by `full_checks` only, a line of the latest run held again under
    an earlier stamp by both."""
    copy, env = demo_warehouse_copy(demo_run, tmp_path)
    with duckdb.connect(str(copy)) as conn:
        [(latest,)] = conn.execute(
            "select max(_built_at) from silver.base_sales__sales_lines").fetchall()
        conn.execute("update silver.base_sales__sales_lines "
                     "set _built_at = _built_at - interval 1 day where transaction_id < "
                     "(select quantile_disc(transaction_id, 0.5) "
                     "from silver.base_sales__sales_lines)")
        for side in ("<", "="):  # an earlier line, then a latest one, held again earlier
            conn.execute(
                "insert into silver.base_sales__sales_lines select * replace (_built_at - "
                "interval 1 day as _built_at, _source_row + 1000000 as _source_row) "
                "from silver.base_sales__sales_lines where rowid = (select min(rowid) from "
                "silver.base_sales__sales_lines where row_status = 'valid' "
                f"and _built_at {side} ?)", [latest])
    selection = ("--select", "stg_sales__sales_lines,test_name:unique")

    daily, full = daily_and_full_outcomes(env, tmp_path, *selection)

    assert list(daily.values()) == [("fail", 1)]
    assert list(full.values()) == [("fail", 2)]


def test_fct_sales_deletes_what_the_union_withdrew_or_no_longer_holds(
        demo_run: DemoRun, tmp_path: Path) -> None:
    """fct_sales deletes the lines the union withdrew since fct_sales' last run (the union
    keeps them, stamped); after the union alone was rebuilt whole (no such record), it
    deletes every line the union does not hold as a current line."""
    copy, env = demo_warehouse_copy(demo_run, tmp_path)

    def gold_and_current_silver(conn: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        [(gold, silver)] = conn.execute(
            "select (select count(*) from gold.fct_sales), (select count(*) from "
            "silver.int_sales_lines_unioned where _withdrawn_at is null)").fetchall()
        return gold, silver

    with duckdb.connect(str(copy)) as conn:
        conn.execute("insert into gold.fct_sales select * replace ('stale' as sales_line_key) "
                     "from gold.fct_sales limit 1")
        before, silver = gold_and_current_silver(conn)
    assert before == silver + 1
    dbt_run(env, tmp_path / "rebuilt", "--full-refresh", "--select", "int_sales_lines_unioned")
    dbt_run(env, tmp_path / "after-rebuild", "--select", "fct_sales")
    with duckdb.connect(str(copy)) as conn:
        assert conn.execute("select count(*) from gold.fct_sales "
                            "where sales_line_key = 'stale'").fetchall() == [(0,)]
        assert gold_and_current_silver(conn) == (silver, silver)
        [(withdrawn_key,)] = conn.execute(
            "select min(sales_line_key) from silver.int_sales_lines_unioned").fetchall()
        conn.execute("update silver.int_sales_lines_unioned set _withdrawn_at = "
                     "(select max(_built_at) from gold.fct_sales) + interval 1 second "
                     f"where sales_line_key = '{withdrawn_key}'")
    dbt_run(env, tmp_path / "after-withdrawal", "--select", "fct_sales")
    with duckdb.connect(str(copy)) as conn:
        assert conn.execute("select count(*) from gold.fct_sales "
                            f"where sales_line_key = '{withdrawn_key}'").fetchall() == [(0,)]
        assert gold_and_current_silver(conn) == (silver - 1, silver - 1)


def test_dbt_tests_catch_broken_scd2_windows_and_sales_signs(demo_run: DemoRun,
                                                             tmp_path: Path) -> None:
    """The gold invariants live in dbt tests (the gold gate no longer repeats them): on a copy
    of the demo warehouse, break each one and the matching dbt test fails, the others pass.
    A model's required columns share one not_null_columns test: a null in any of them fails it."""
    broken, env = demo_warehouse_copy(demo_run, tmp_path)
    with duckdb.connect(str(broken)) as conn:
        # a product's first version now ends after its next version starts (overlap)
        [(product_id,)] = conn.execute(
            "select product_id from gold.dim_product where product_id <> -1 group by 1 "
            "having count(*) > 1 order by 1 limit 1").fetchall()
        conn.execute(
            "update gold.dim_product set valid_to = valid_to + interval 1 day "
            f"where product_id = {product_id} and not is_current "
            "and valid_from = (select min(valid_from) from gold.dim_product "
            f"where product_id = {product_id})")
        # a customer's closed version is current again: two current versions
        conn.execute(
            "update gold.dim_customer set is_current = true where customer_key = ("
            "select min(customer_key) from gold.dim_customer where not is_current "
            "and customer_id in (select customer_id from gold.dim_customer where is_current "
            "and customer_id <> -1))")
        # a sale with a negative net amount, and a return that gives back nothing
        conn.execute("update gold.fct_sales set net_amount = -1 where sales_line_key = ("
                     "select min(sales_line_key) from gold.fct_sales where not is_return)")
        conn.execute("update gold.fct_sales set quantity = 1 where sales_line_key = ("
                     "select min(sales_line_key) from gold.fct_sales where is_return)")
        # a sale without its time: one of the columns fct_sales' not_null_columns lists
        conn.execute("update gold.fct_sales set sold_at = null where sales_line_key = ("
                     "select max(sales_line_key) from gold.fct_sales)")
    outcome = dbt_test_outcomes(env, tmp_path, "--select", "test_name:scd2_windows",
                                "test_name:sales_line_signs", "test_name:not_null_columns")
    not_null = {name: result for name, result in outcome.items()
                if name.startswith("not_null_columns_")}
    assert {name: result for name, result in not_null.items() if result != ("pass", 0)} == {
        next(name for name in not_null if name.startswith("not_null_columns_fct_sales_")):
            ("fail", 1)}
    assert len(not_null) > 20
    outcome = {name: result for name, result in outcome.items() if name not in not_null}
    assert outcome == {
        "scd2_windows_dim_customer_is_hard_deleted__customer_id": ("fail", 1),
        "scd2_windows_dim_product_product_id": ("fail", 1),
        "scd2_windows_dim_store_store_id": ("pass", 0),
        "sales_line_signs_fct_sales_": ("fail", 2),
    }


def _documented(warehouse_dir: Path, model: str) -> tuple[str, str]:
    """The model's description and its first documented column's, as dbt parsed them."""
    manifest = json.loads((warehouse_dir / "target" / "manifest.json").read_text())
    node = manifest["nodes"][f"model.retail_medallion.{model}"]
    column = next(c for c in node["columns"].values() if c["description"])
    return node["description"], column["name"]


def test_descriptions_become_comments_on_postgres_and_stay_in_the_docs_on_duckdb(
        demo_run: DemoRun) -> None:
    """persist_docs: on PostgreSQL, where BI tools and catalogs read comments, every build
    writes them; on DuckDB the docs site shows them and the builds leave them out."""
    pg = demo_run.warehouse("postgres")
    description, column = _documented(pg.work_dir, "fct_sales")
    assert description.strip()
    comments = pg.query(
        "select obj_description('gold.fct_sales'::regclass, 'pg_class'), "
        "col_description('gold.fct_sales'::regclass, (select attnum from pg_attribute where "
        f"attrelid = 'gold.fct_sales'::regclass and attname = '{column}'))")
    assert comments[0][0] is not None and comments[0][0].strip() == description.strip()
    assert comments[0][1]
    duck = demo_run.duckdb.query(
        "select comment from duckdb_tables() where schema_name = 'gold' "
        "and table_name = 'fct_sales'")
    assert duck == [(None,)]


def test_duckdb_writes_comments_when_asked(tmp_path: Path) -> None:
    """RETAIL_PERSIST_DOCS=true turns the comments on for DuckDB too (the parsed config)."""
    done = subprocess.run(
        [str(BIN_DIR / "dbt"), "parse", "--quiet", "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target", "duckdb", "--target-path",
         str(tmp_path)],
        env={**os.environ, "RETAIL_PERSIST_DOCS": "true", "RETAIL_DUCKDB_PATH":
             str(tmp_path / "retail.duckdb")}, capture_output=True, text=True, timeout=300,
        check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    node = json.loads((tmp_path / "manifest.json").read_text())["nodes"][
        "model.retail_medallion.fct_sales"]
    assert node["config"]["persist_docs"] == {"relation": True, "columns": True}
