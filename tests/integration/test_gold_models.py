"""The silver and gold layers on a real demo timeline: day 0 plus three daily increments,
each ingested with the CLI and built with `dbt build` (which also runs every dbt test)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.conftest import DEMO_DAYS, DemoRun

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
def test_incremental_fct_sales_equals_a_full_refresh(demo_run: DemoRun, target: str) -> None:
    warehouse = demo_run.warehouse(target)
    assert warehouse.fct_sales_incremental, "fct_sales is empty"
    assert warehouse.fct_sales_incremental == warehouse.fct_sales_full_refresh


@pytest.mark.postgres
@pytest.mark.parametrize("model", sorted(GOLD_AGGREGATES))
def test_gold_aggregates_are_identical_on_duckdb_and_postgres(demo_run: DemoRun,
                                                               model: str) -> None:
    postgres = demo_run.warehouse("postgres")
    order_by = GOLD_AGGREGATES[model]
    sql = f"select * from gold.{model} order by {order_by}"
    duck_rows = normalised(demo_run.duckdb.query(sql))
    assert duck_rows, f"gold.{model} is empty"
    assert duck_rows == normalised(postgres.query(sql))
