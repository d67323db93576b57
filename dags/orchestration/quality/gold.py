"""Gold suites: the star schema, checked after dbt and before Power BI reads it.

* revenue: ``fct_sales.net_amount`` is never negative on sales lines (returns, with their
  negative quantity, are the only negative lines); returns carry a negative quantity;
* SCD2 dimensions (``dim_customer``, ``dim_product``, ``dim_store``): surrogate keys are
  unique, natural keys are present, ``valid_from <= valid_to``, and there is exactly one
  current row (``is_current``) per natural key;
* foreign keys: every key of ``fct_sales`` and ``fct_orders`` resolves to a row of its
  dimension (late-arriving facts point at the unknown member, never at nothing);
* every gold table holds at least ``gold_min_rows`` rows.

Checks are built only for the gold tables the DAG renders (``tables``), so a DAG limited
with ``RETAIL_DBT_SELECT`` checks what it builds. Fact checks read only the offending rows
(anti-joins) or a few columns, so they stay cheap on large facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestration.quality.checks import Check, select_rows
from orchestration.quality.thresholds import Thresholds
from orchestration.warehouse import quote_ident, relation

GOLD_SCHEMA = "gold"


@dataclass(frozen=True)
class Scd2Dimension:
    """An SCD2 dimension: its surrogate key and the natural key it versions."""

    table: str
    surrogate_key: str
    natural_key: str


@dataclass(frozen=True)
class ForeignKey:
    """A fact column and the dimension column it must resolve to."""

    fact: str
    column: str
    dimension: str
    dimension_key: str


SCD2_DIMENSIONS = (
    Scd2Dimension("dim_customer", "customer_key", "customer_id"),
    Scd2Dimension("dim_product", "product_key", "product_id"),
    Scd2Dimension("dim_store", "store_key", "store_id"),
)

FOREIGN_KEYS = (
    ForeignKey("fct_sales", "customer_key", "dim_customer", "customer_key"),
    ForeignKey("fct_sales", "product_key", "dim_product", "product_key"),
    ForeignKey("fct_sales", "store_key", "dim_store", "store_key"),
    ForeignKey("fct_sales", "date_key", "dim_date", "date_key"),
    ForeignKey("fct_orders", "customer_key", "dim_customer", "customer_key"),
    ForeignKey("fct_orders", "store_key", "dim_store", "store_key"),
    ForeignKey("fct_orders", "order_date_key", "dim_date", "date_key"),
)

UNIQUE_KEYS = {
    "dim_date": "date_key",
    "fct_orders": "order_key",
    "customer_rfm": "customer_id",
    "customer_lifetime_value": "customer_id",
}
"""Grain of the non-SCD2 gold tables whose grain is one column."""

SALES_CHANNELS = ("store", "online")


def gold_checks(tables: Iterable[str], thresholds: Thresholds) -> list[Check]:
    """Checks for the given gold tables (names without schema)."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    present = set(tables)
    checks: list[Check] = []
    for table in sorted(present):
        checks.append(_row_count(table, thresholds.gold_min_rows))
    for dimension in SCD2_DIMENSIONS:
        if dimension.table in present:
            checks.extend(_scd2_checks(dimension))
    for table, key in UNIQUE_KEYS.items():
        if table in present:
            checks.append(
                Check(
                    name=f"{GOLD_SCHEMA}.{table}.grain",
                    query=select_rows(GOLD_SCHEMA, table, [key]),
                    expectations=(
                        gxe.ExpectColumnValuesToNotBeNull(
                            column=key, severity=FailureSeverity.CRITICAL
                        ),
                        gxe.ExpectColumnValuesToBeUnique(
                            column=key, severity=FailureSeverity.CRITICAL
                        ),
                    ),
                )
            )
    if "fct_sales" in present:
        checks.extend(_sales_checks())
    for foreign_key in FOREIGN_KEYS:
        if foreign_key.fact in present and foreign_key.dimension in present:
            checks.append(_foreign_key_check(foreign_key))
    return checks


def _row_count(table: str, min_rows: int) -> Check:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    return Check(
        name=f"{GOLD_SCHEMA}.{table}.row_count",
        query=f"select count(*) as row_count from {relation(GOLD_SCHEMA, table)}",
        expectations=(
            gxe.ExpectColumnValuesToBeBetween(
                column="row_count", min_value=min_rows, severity=FailureSeverity.CRITICAL
            ),
        ),
    )


def _scd2_checks(dimension: Scd2Dimension) -> list[Check]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    name = f"{GOLD_SCHEMA}.{dimension.table}"
    versions = Check(
        name=f"{name}.versions",
        query=select_rows(
            GOLD_SCHEMA,
            dimension.table,
            [dimension.surrogate_key, dimension.natural_key, "valid_from", "valid_to"],
        ),
        expectations=(
            gxe.ExpectColumnValuesToNotBeNull(
                column=dimension.surrogate_key, severity=FailureSeverity.CRITICAL
            ),
            gxe.ExpectColumnValuesToBeUnique(
                column=dimension.surrogate_key, severity=FailureSeverity.CRITICAL
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column=dimension.natural_key, severity=FailureSeverity.CRITICAL
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="valid_to",
                column_B="valid_from",
                or_equal=True,
                severity=FailureSeverity.CRITICAL,
            ),
        ),
    )
    current = Check(
        name=f"{name}.current",
        query=select_rows(
            GOLD_SCHEMA, dimension.table, [dimension.natural_key], quote_ident("is_current")
        ),
        expectations=(
            gxe.ExpectColumnValuesToBeUnique(
                column=dimension.natural_key, severity=FailureSeverity.CRITICAL
            ),
            gxe.ExpectTableRowCountToBeBetween(min_value=1, severity=FailureSeverity.CRITICAL),
        ),
    )
    return [versions, current]


def _sales_checks() -> list[Check]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    is_return = quote_ident("is_return")
    sales = Check(
        name=f"{GOLD_SCHEMA}.fct_sales.sales_revenue",
        query=select_rows(GOLD_SCHEMA, "fct_sales", ["net_amount", "quantity"], f"not {is_return}"),
        expectations=(
            gxe.ExpectColumnValuesToNotBeNull(
                column="net_amount", severity=FailureSeverity.CRITICAL
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="net_amount", min_value=0, severity=FailureSeverity.CRITICAL
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="quantity", min_value=1, severity=FailureSeverity.CRITICAL
            ),
        ),
    )
    returns = Check(
        name=f"{GOLD_SCHEMA}.fct_sales.returns",
        query=select_rows(GOLD_SCHEMA, "fct_sales", ["quantity"], is_return),
        expectations=(
            gxe.ExpectColumnValuesToBeBetween(
                column="quantity", max_value=-1, severity=FailureSeverity.CRITICAL
            ),
        ),
    )
    channels = Check(
        name=f"{GOLD_SCHEMA}.fct_sales.channels",
        query=(
            f"select distinct {quote_ident('channel')} from {relation(GOLD_SCHEMA, 'fct_sales')}"
        ),
        expectations=(
            gxe.ExpectColumnValuesToNotBeNull(column="channel", severity=FailureSeverity.CRITICAL),
            gxe.ExpectColumnValuesToBeInSet(
                column="channel", value_set=list(SALES_CHANNELS), severity=FailureSeverity.CRITICAL
            ),
        ),
    )
    return [sales, returns, channels]


def _foreign_key_check(foreign_key: ForeignKey) -> Check:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    fact_column = f"facts.{quote_ident(foreign_key.column)}"
    dimension_column = f"dimension.{quote_ident(foreign_key.dimension_key)}"
    query = (
        f"select {fact_column} as unresolved_key "
        f"from {relation(GOLD_SCHEMA, foreign_key.fact)} as facts "
        f"left join {relation(GOLD_SCHEMA, foreign_key.dimension)} as dimension "
        f"on {fact_column} = {dimension_column} "
        f"where {dimension_column} is null"
    )
    expectations: tuple[Any, ...] = (
        gxe.ExpectTableRowCountToEqual(value=0, severity=FailureSeverity.CRITICAL),
    )
    return Check(
        name=(
            f"{GOLD_SCHEMA}.{foreign_key.fact}.{foreign_key.column}"
            f" -> {foreign_key.dimension}.{foreign_key.dimension_key}"
        ),
        query=query,
        expectations=expectations,
    )
