"""The customer analytics and the sales aggregates apply the rules their yml states, on
the demo timeline the gold tests build (tests/integration/conftest.py: day 0 plus three
daily increments, each ingested and built with `dbt build`).

One meaning of "purchase" (a sales line that is not a return) and of "known customer"
(a line keyed to a dim_customer version) is recomputed here from gold.fct_sales and
compared with what each model holds; the RFM segments are compared with the table in
models/marts/customer/_customer__models.yml.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import PROJECT_DIR, DemoRun

CUSTOMER_YML = PROJECT_DIR / "models" / "marts" / "customer" / "_customer__models.yml"
PROJECT_YML = PROJECT_DIR / "dbt_project.yml"
SCORES = (1, 2, 3, 4, 5)
SEGMENT_ROW = re.compile(r"^\|\s*R = (\d)\s*\|(.*)\|\s*$")
MONETARY_SPLIT = re.compile(r"^(?P<high>.+) if M >= (?P<minimum>\d), else (?P<low>.+)$")
CENT = Decimal("0.01")

# a purchase (not a return) of a known customer (not the unknown member)
KNOWN_PURCHASES = "from gold.fct_sales where customer_key <> '-1' and not is_return"


def model_description(yml: Path, model: str) -> str:
    document = yaml.safe_load(yml.read_text())
    return next(entry["description"] for entry in document["models"] if entry["name"] == model)


def segment_table() -> dict[tuple[int, int], str]:
    """(recency score, frequency score) -> cell of the table in customer_rfm's description."""
    table: dict[tuple[int, int], str] = {}
    for line in model_description(CUSTOMER_YML, "customer_rfm").splitlines():
        row = SEGMENT_ROW.match(line.strip())
        if row is None:
            continue
        cells = [cell.strip() for cell in row.group(2).split("|")]
        assert len(cells) == len(SCORES), f"segment table row has {len(cells)} cells: {line}"
        for frequency, cell in zip(SCORES, cells, strict=True):
            table[(int(row.group(1)), frequency)] = cell
    return table


def documented_segment(cell: str, monetary_score: int) -> str:
    split = MONETARY_SPLIT.match(cell)
    if split is None:
        return cell
    return split["high"] if monetary_score >= int(split["minimum"]) else split["low"]


def accepted_segments() -> set[str]:
    document = yaml.safe_load(CUSTOMER_YML.read_text())
    rfm = next(entry for entry in document["models"] if entry["name"] == "customer_rfm")
    column = next(column for column in rfm["columns"] if column["name"] == "rfm_segment")
    test = next(test for test in column["data_tests"] if "accepted_values" in test)
    return set(test["accepted_values"]["arguments"]["values"])


def rounded(numerator: Decimal, denominator: int) -> Decimal:
    """Half away from zero to the cent, as the yml states for every division."""
    return (numerator / denominator).quantize(CENT, rounding=ROUND_HALF_UP)


def months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def test_segment_table_names_one_known_segment_for_every_score() -> None:
    table = segment_table()
    assert set(table) == {(r, f) for r in SCORES for f in SCORES}
    named = {documented_segment(cell, m) for cell in table.values() for m in SCORES}
    assert named == accepted_segments()


def test_every_rfm_segment_is_the_one_the_yml_table_names(demo_run: DemoRun) -> None:
    table = segment_table()
    scored = demo_run.duckdb.query(
        "select customer_id, recency_score, frequency_score, monetary_score, rfm_segment "
        "from gold.customer_rfm")
    assert scored, "gold.customer_rfm is empty"
    wrong = [
        (customer_id, r, f, m, segment, documented_segment(table[(r, f)], m))
        for customer_id, r, f, m, segment in scored
        if segment != documented_segment(table[(r, f)], m)
    ]
    assert wrong == []


def test_every_customer_model_dates_the_first_purchase_after_an_earlier_return(
    demo_run: DemoRun,
) -> None:
    first_purchases = dict(demo_run.duckdb.query(
        f"select customer_id, min(cast(sold_at as date)) {KNOWN_PURCHASES} group by 1"))
    first_lines = dict(demo_run.duckdb.query(
        "select customer_id, min(cast(sold_at as date)) from gold.fct_sales "
        "where customer_key <> '-1' group by 1"))
    rfm = dict(demo_run.duckdb.query(
        "select customer_id, first_purchase_date from gold.customer_rfm"))
    clv = dict(demo_run.duckdb.query(
        "select customer_id, first_purchase_date from gold.customer_lifetime_value"))
    cohort_sizes = dict(demo_run.duckdb.query(
        "select cohort_month, cohort_size from gold.customer_cohort_retention "
        "where months_since_first_purchase = 0"))

    returned_first = [c for c, day in first_purchases.items() if first_lines[c] < day]
    assert returned_first, "the timeline has no customer whose first line is a return"
    # same keys: exactly the known customers who bought something; same values: the
    # first purchase is the first line that is not a return
    assert rfm == first_purchases
    assert clv == first_purchases
    by_month: dict[date, int] = {}
    for day in first_purchases.values():
        by_month[day.replace(day=1)] = by_month.get(day.replace(day=1), 0) + 1
    assert cohort_sizes == by_month


def test_customer_lifetime_value_follows_its_documented_formulas(demo_run: DemoRun) -> None:
    months_ahead = int(yaml.safe_load(PROJECT_YML.read_text())["vars"]["clv_projection_months"])
    totals = demo_run.duckdb.query(
        "select customer_id, "
        "min(case when not is_return then cast(sold_at as date) end), "
        "count(distinct case when not is_return then sales_document_id end), "
        "sum(net_amount), "
        "(select max(cast(sold_at as date)) from gold.fct_sales) "
        "from gold.fct_sales where customer_key <> '-1' group by customer_id "
        "having count(case when not is_return then 1 end) > 0")
    expected = {}
    for customer_id, first_purchase, purchases, net, as_of in totals:
        active_months = months_between(first_purchase, as_of) + 1
        projected = rounded(net * months_ahead, active_months)
        expected[customer_id] = (
            active_months, purchases, net, rounded(net, purchases),
            rounded(net, active_months), projected, net + projected,
        )
    actual = {row[0]: tuple(row[1:]) for row in demo_run.duckdb.query(
        "select customer_id, active_months, purchase_count, net_revenue, average_order_value, "
        "average_monthly_revenue, projected_revenue, customer_lifetime_value "
        "from gold.customer_lifetime_value")}

    assert expected, "no known customer bought anything"
    assert actual == expected


def cell_customer_counts(demo_run: DemoRun, sql: str) -> dict[tuple[object, ...], int]:
    return {tuple(row[:4]): row[4] for row in demo_run.duckdb.query(sql)}


@pytest.mark.parametrize(("model", "period"), [
    ("agg_sales_daily", "date_key"),
    ("agg_sales_monthly", "year_month"),
])
def test_aggregate_customer_counts_count_known_customers_only(
    demo_run: DemoRun, model: str, period: str,
) -> None:
    unknown_ids = demo_run.duckdb.query(
        "select count(*) from gold.fct_sales "
        "where customer_key = '-1' and customer_id is not null")
    expected = cell_customer_counts(demo_run, (
        f"select dim_date.{period}, dim_store.store_id, dim_product.product_category, "
        "fct_sales.channel, "
        "count(distinct case when fct_sales.customer_key <> '-1' "
        "then fct_sales.customer_id end) "
        "from gold.fct_sales "
        "inner join gold.dim_date on fct_sales.date_key = dim_date.date_key "
        "inner join gold.dim_store on fct_sales.store_key = dim_store.store_key "
        "inner join gold.dim_product on fct_sales.product_key = dim_product.product_key "
        "group by 1, 2, 3, 4"))
    actual = cell_customer_counts(demo_run, (
        f"select {period}, store_id, product_category, channel, customer_count "
        f"from gold.{model}"))

    assert unknown_ids[0][0] > 0, "the timeline has no id the CRM does not know"
    assert actual == expected
