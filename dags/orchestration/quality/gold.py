"""Gold suite: the business checks across days that no dbt test can see.

dbt owns the invariants of each model (keys, SCD2 windows, foreign keys, signs of sales and
returns), and Cosmos runs those tests right after each model is built. What a single build
cannot judge is whether the day makes sense against the days before it: a sales feed that
delivered half a day, a store system that sent every line twice, a price file in cents. So
after dbt, before Power BI reads gold, this suite compares the latest sale date with the
recent ones, per channel, from ``gold.agg_sales_daily``:

* volume: the day's sales lines are between ``dq_daily_min_ratio`` and
  ``dq_daily_max_ratio`` times their average over the ``dq_recent_days`` days before;
* revenue: the same bounds for the day's net revenue.

A channel that sold on the recent days and not on the latest one has ratio 0 and fails. The
first day of a warehouse has no recent days to compare with, and passes. The thresholds are
vars of ``dbt_project.yml`` (``orchestration.quality.thresholds``). The query returns one
row per channel, so the gate stays cheap however large the facts grow.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestration.quality.checks import Check
from orchestration.quality.thresholds import Thresholds
from orchestration.warehouse import relation

GOLD_SCHEMA = "gold"
DAILY_SALES = "agg_sales_daily"


def gold_checks(tables: Iterable[str], thresholds: Thresholds) -> list[Check]:
    """Checks for the given gold tables (names without schema) that the DAG builds."""
    if DAILY_SALES not in set(tables):
        return []
    return [_latest_day_against_recent_days(thresholds)]


def daily_ratios_query(recent_days: int) -> str:
    """One row per channel: the latest sale date's volume and revenue over the recent average.

    Plain SQL for DuckDB and PostgreSQL (``date - integer`` is a date on both), written with
    derived tables rather than CTEs: GX takes a query asset only if it starts with SELECT.
    """
    daily_sales = relation(GOLD_SCHEMA, DAILY_SALES)
    latest_date = f"(select max(sale_date) from {daily_sales})"
    return f"""select
    recent.channel,
    cast(coalesce(latest_day.line_count, 0) as double precision)
        / cast(recent.line_count as double precision) as volume_ratio,
    case when recent.net_amount > 0 then
        cast(coalesce(latest_day.net_amount, 0) as double precision)
        / cast(recent.net_amount as double precision)
    end as revenue_ratio
from (
    select daily.channel, avg(daily.line_count) as line_count,
        avg(daily.net_amount) as net_amount
    from (
        select sale_date, channel, sum(line_count) as line_count,
            sum(net_amount) as net_amount
        from {daily_sales}
        where sale_date < {latest_date}
            and sale_date >= {latest_date} - {int(recent_days)}
        group by sale_date, channel
    ) as daily
    group by daily.channel
) as recent
left join (
    select channel, sum(line_count) as line_count, sum(net_amount) as net_amount
    from {daily_sales}
    where sale_date = {latest_date}
    group by channel
) as latest_day on recent.channel = latest_day.channel
"""


def _latest_day_against_recent_days(thresholds: Thresholds) -> Check:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    return Check(
        name=f"{GOLD_SCHEMA}.{DAILY_SALES}.latest_day_against_recent_days",
        query=daily_ratios_query(thresholds.recent_days),
        expectations=(
            gxe.ExpectColumnValuesToNotBeNull(column="channel", severity=FailureSeverity.CRITICAL),
            *(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column,
                    min_value=thresholds.daily_min_ratio,
                    max_value=thresholds.daily_max_ratio,
                    severity=FailureSeverity.CRITICAL,
                )
                for column in ("volume_ratio", "revenue_ratio")
            ),
        ),
    )
