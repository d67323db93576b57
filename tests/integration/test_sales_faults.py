"""Sales faults on a real timeline: corrected files, out-of-range values and a late store.

Day 0 is generated and built with the real CLI and `dbt build`. Day 1 is advanced, then a
corrected re-delivery of a day-0 file (one quantity 1 -> 7, one quarantined line fixed,
one line dropped) and a file of out-of-range lines and a sale at a store the ERP does not
know yet are dropped in the landing folder, and out-of-range orders and order lines are
written to the ERP. On day 2 the store is added to the ERP. Each
day is ingested and built once; the tests read what the warehouse holds after each day.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from ingestion.demo import erp_schema, sales_data
from ingestion.demo.state import DemoState
from ingestion.settings import Paths
from ingestion.sources import URL_VARIABLES
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.integration.conftest import (
    BIN_DIR,
    INCREMENTAL_MODELS,
    Warehouse,
    compare_incremental_with_full_refresh,
    run_step,
)

pytestmark = pytest.mark.slow

# planted kind -> quarantine rule of the generator's own faults (ingestion/README.md)
GENERATED_QUARANTINE = {
    "null_transaction_id": "null_key",
    "unparseable_quantity": "unparseable_quantity",
    "unparseable_sold_at": "unparseable_date",
    "negative_unit_price": "impossible_amount",
}
GENERATED_ERP_QUARANTINE = {
    "negative_quantity": ("order_lines", "impossible_quantity"),
    "orphan_order_line": ("order_lines", "orphan_order"),
}
PLANTED_ERP_ID = 950_000_000  # far above the generator's order and order line ids
OUT_OF_RANGE_SOLD_AT = ("1900-01-01 10:00:00", "2019-12-31 23:59:59", "2031-01-01 00:00:00")
LATE_STORE_CODE = "ST900"
UNPARSEABLE_QUANTITIES = ("two", "1,5", "?")


@dataclass
class PlantedLine:
    transaction_id: str
    line_number: str


@dataclass
class SalesFaultsRun:
    warehouse: Warehouse
    demo_dir: Path
    corrected_file: str
    corrected_file_lines: int
    corrected_line: PlantedLine
    fixed_line: PlantedLine
    dropped_line: PlantedLine
    late_store_line: PlantedLine
    planted_rules: Counter[str]
    planted_erp_rules: Counter[tuple[str, str]]
    late_store_id: int = 0
    after_day: dict[int, dict[str, Any]] = field(default_factory=dict)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.warehouse.query(sql)


def _paths(demo_dir: Path) -> Paths:
    """The demo's file layout (only the demo folder is used)."""
    return Paths(demo_dir=demo_dir, duckdb_path=demo_dir / "unused.duckdb",
                 pipelines_dir=demo_dir / "unused")


def _landing(demo_dir: Path) -> Path:
    return _paths(demo_dir).landing_dir


def _erp(demo_dir: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{_paths(demo_dir).erp_sqlite_path}")


def _clean(row: dict[str, str], known_stores: set[str]) -> bool:
    return (bool(row["transaction_id"]) and row["quantity"].lstrip("-").isdigit()
            and row["sold_at"][:2] == "20" and not row["unit_price"].startswith("-")
            and row["store_code"] in known_stores and not row["sku"].startswith("SKU-9"))


def _known_stores(demo_dir: Path) -> set[str]:
    engine = _erp(demo_dir)
    with engine.connect() as conn:
        codes: set[str] = set(conn.execute(sa.select(erp_schema.stores.c.store_code)).scalars())
    engine.dispose()
    return codes


def _rows(path: Path) -> list[dict[str, str]]:
    return sales_data.read_sales_file(path).select(list(sales_data.SALES_COLUMNS)).to_pylist()


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    table = pa.table({name: pa.array([r[name] for r in rows], pa.string())
                      for name in sales_data.SALES_COLUMNS})
    sales_data.write_sales_file(path, table, [])


def plant_correction(demo_dir: Path) -> tuple[str, int, PlantedLine, PlantedLine, PlantedLine]:
    """Re-deliver a day-0 file under its name: 1 -> 7, a quarantined line fixed, a line dropped."""
    landing = _landing(demo_dir)
    files = sorted(landing.glob("sales_*.csv"))
    keys = Counter((r["transaction_id"], r["line_number"]) for f in files for r in _rows(f))
    known = _known_stores(demo_dir)
    for path in files[:-1]:
        rows = _rows(path)
        broken = [i for i, r in enumerate(rows) if r["quantity"] in UNPARSEABLE_QUANTITIES]
        unique_clean_ones = [i for i, r in enumerate(rows)
                             if _clean(r, known) and r["quantity"] == "1"
                             and keys[(r["transaction_id"], r["line_number"])] == 1]
        if broken and len(unique_clean_ones) >= 2:
            break
    else:
        raise AssertionError("no day-0 file has a line to fix and two lines to correct")
    corrected, dropped = unique_clean_ones[0], unique_clean_ones[1]
    fixed = broken[0]
    original_lines = len(rows)
    rows[corrected]["quantity"] = "7"
    rows[fixed]["quantity"] = "2"
    lines = [PlantedLine(rows[i]["transaction_id"], rows[i]["line_number"])
             for i in (corrected, fixed, dropped)]
    _write(path, [r for i, r in enumerate(rows) if i != dropped])
    return path.name, original_lines, lines[0], lines[1], lines[2]


def plant_out_of_range_lines(demo_dir: Path, day: date) -> tuple[Counter[str], PlantedLine]:
    """A file of lines silver must quarantine, and one sale at a store the ERP lacks."""
    landing = _landing(demo_dir)
    known = _known_stores(demo_dir)
    template = next(r for r in _rows(landing / sales_data.sales_file_name(day))
                    if _clean(r, known) and r["quantity"] == "1")
    planted: list[tuple[dict[str, str], str | None]] = []
    for sold_at in OUT_OF_RANGE_SOLD_AT:
        planted.append(({"sold_at": sold_at}, "date_out_of_range"))
    planted.append(({"unit_price": "999999999999.99"}, "amount_out_of_range"))
    planted.append(({"unit_price": "10.00", "discount_amount": "15.00"}, "discount_exceeds_gross"))
    planted.append(({"payment_method": "card" * 20}, "value_too_long"))
    planted.append(({"store_code": LATE_STORE_CODE}, None))
    rows = [{**template, **change, "transaction_id": f"TFAULT{i:04d}", "line_number": "1"}
            for i, (change, _) in enumerate(planted)]
    _write(landing / sales_data.sales_file_name(day, "_faults"), rows)
    late = PlantedLine(rows[-1]["transaction_id"], "1")
    return Counter(rule for _, rule in planted if rule is not None), late


def plant_erp_faults(demo_dir: Path) -> Counter[tuple[str, str]]:
    """An order dated 2031 (and its line), a line priced 5,000,000, a discount above gross."""
    stamp = DemoState.load(_paths(demo_dir).state_path).day_start() + timedelta(hours=23)
    orders, order_lines = erp_schema.orders, erp_schema.order_lines
    engine = _erp(demo_dir)
    with engine.begin() as conn:
        valid_order: int = conn.execute(sa.select(sa.func.min(orders.c.order_id))
                                   .where(orders.c.order_status == "delivered")).scalar_one()
        conn.execute(sa.insert(orders).values(
            order_id=PLANTED_ERP_ID, customer_id=None, store_id=1, order_status="placed",
            ordered_at=datetime(2031, 1, 1, 10), updated_at=stamp))
        line = {"product_id": 1, "quantity": 1, "unit_price": Decimal("10.00"),
                "discount_amount": Decimal("0.00"), "updated_at": stamp}
        conn.execute(sa.insert(order_lines), [
            {**line, "order_line_id": PLANTED_ERP_ID, "order_id": PLANTED_ERP_ID},
            {**line, "order_line_id": PLANTED_ERP_ID + 1, "order_id": valid_order,
             "unit_price": Decimal("5000000.00")},
            {**line, "order_line_id": PLANTED_ERP_ID + 2, "order_id": valid_order,
             "quantity": 2, "discount_amount": Decimal("25.00")},
        ])
    engine.dispose()
    return Counter({("orders", "date_out_of_range"): 1, ("order_lines", "orphan_order"): 1,
                    ("order_lines", "amount_out_of_range"): 1,
                    ("order_lines", "discount_exceeds_gross"): 1})


def add_late_store(demo_dir: Path) -> int:
    """The ERP opens the store the POS already sold at; returns its id."""
    state = DemoState.load(_paths(demo_dir).state_path)
    engine = _erp(demo_dir)
    stores = erp_schema.stores
    with engine.begin() as conn:
        store_id = int(conn.execute(sa.select(sa.func.max(stores.c.store_id))).scalar_one()) + 1
        conn.execute(sa.insert(stores).values(
            store_id=store_id, store_code=LATE_STORE_CODE, store_name="Late store",
            store_type="physical", region="GB-Late", city="Leeds", country="GB",
            opened_on=state.business_date() - timedelta(days=30),
            updated_at=state.day_start() + timedelta(hours=23)))
    engine.dispose()
    return store_id


def _observe(run: SalesFaultsRun, day: int) -> None:
    late, dropped = run.late_store_line, run.dropped_line
    run.after_day[day] = {
        "late_store": run.query(
            "select store_key, store_id from gold.fct_sales "
            f"where transaction_id = '{late.transaction_id}' and line_number = 1"),
        "dropped_in_silver": run.query(
            "select _withdrawn_at is not null from silver.int_sales_lines_unioned "
            f"where transaction_id = '{dropped.transaction_id}' "
            f"and line_number = {dropped.line_number}"),
        "dropped_in_gold": _fct_quantity(run, dropped),
    }


@pytest.fixture(scope="module")
def sales_faults(tmp_path_factory: pytest.TempPathFactory) -> SalesFaultsRun:
    root = tmp_path_factory.mktemp("sales-faults")
    demo_dir = root / "demo"
    env = {**os.environ,
           "RETAIL_DEMO_DIR": str(demo_dir),
           "RETAIL_DUCKDB_PATH": str(root / "retail.duckdb"),
           "RETAIL_DLT_PIPELINES_DIR": str(root / "pipelines"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for inherited in (*URL_VARIABLES.values(), "RETAIL_DBT_TARGET"):
        env.pop(inherited, None)
    warehouse = Warehouse(target="duckdb", env=env, work_dir=root)
    python = str(BIN_DIR / "python")

    run_step([python, "-m", "ingestion", "generate", "--scale", str(TEST_SCALE),
              "--seed", str(TEST_SEED)], env)
    warehouse.ingest()
    warehouse.dbt("build")

    run_step([python, "-m", "ingestion", "advance", "--days", "1"], env)
    day_1 = DemoState.load(_paths(demo_dir).state_path).business_date()
    corrected_file, corrected_file_lines, corrected, fixed, dropped = plant_correction(demo_dir)
    planted_rules, late = plant_out_of_range_lines(demo_dir, day_1)
    planted_erp_rules = plant_erp_faults(demo_dir)
    run = SalesFaultsRun(warehouse=warehouse, demo_dir=demo_dir, corrected_file=corrected_file,
                         corrected_file_lines=corrected_file_lines, corrected_line=corrected,
                         fixed_line=fixed, dropped_line=dropped, late_store_line=late,
                         planted_rules=planted_rules, planted_erp_rules=planted_erp_rules)
    warehouse.ingest()
    warehouse.dbt("build")
    _observe(run, 1)

    run_step([python, "-m", "ingestion", "advance", "--days", "1"], env)
    run.late_store_id = add_late_store(demo_dir)
    warehouse.ingest()
    warehouse.dbt("build")
    _observe(run, 2)

    compare_incremental_with_full_refresh(warehouse)
    return run


def _fct_quantity(run: SalesFaultsRun, line: PlantedLine) -> list[tuple[Any, ...]]:
    return run.query(
        "select quantity from gold.fct_sales where channel = 'store' "
        f"and transaction_id = '{line.transaction_id}' and line_number = {line.line_number}")


def test_quarantine_holds_exactly_the_planted_bad_values(sales_faults: SalesFaultsRun) -> None:
    planted: Counter[str] = Counter()
    for batch in json.loads(_paths(sales_faults.demo_dir).planted_path.read_text()):
        if batch["kind"] in GENERATED_QUARANTINE:
            planted[GENERATED_QUARANTINE[batch["kind"]]] += batch["count"]
    planted["unparseable_quantity"] -= 1  # the corrected file fixed one
    planted.update(sales_faults.planted_rules)
    quarantined = sales_faults.query(
        "select quarantine_rule, count(*) from silver.quarantine_sales group by 1")
    assert Counter(dict(quarantined)) == planted


def test_erp_quarantine_holds_exactly_the_planted_bad_values(
        sales_faults: SalesFaultsRun) -> None:
    planted: Counter[tuple[str, str]] = Counter()
    for batch in json.loads(_paths(sales_faults.demo_dir).planted_path.read_text()):
        if batch["kind"] in GENERATED_ERP_QUARANTINE:
            planted[GENERATED_ERP_QUARANTINE[batch["kind"]]] += batch["count"]
    planted.update(sales_faults.planted_erp_rules)
    quarantined = sales_faults.query(
        "select table_name, quarantine_rule, count(*) from silver.quarantine_erp group by 1, 2")
    assert Counter({(table, rule): n for table, rule, n in quarantined}) == planted


def test_out_of_range_values_show_what_was_rejected(sales_faults: SalesFaultsRun) -> None:
    rejected = sales_faults.query(
        "select quarantine_rule, rejected_value from silver.quarantine_sales "
        "where record_key like 'TFAULT%' order by record_key")
    assert rejected == [
        ("date_out_of_range", OUT_OF_RANGE_SOLD_AT[0]),
        ("date_out_of_range", OUT_OF_RANGE_SOLD_AT[1]),
        ("date_out_of_range", OUT_OF_RANGE_SOLD_AT[2]),
        ("amount_out_of_range", "999999999999.99"),
        ("discount_exceeds_gross", "15.00"),
        ("value_too_long", "card" * 20),
    ]


def test_every_bronze_row_is_accounted_for_after_a_correction(
        sales_faults: SalesFaultsRun) -> None:
    unbalanced = sales_faults.query(
        "select table_name, _dlt_load_id from silver.dq_row_reconciliation "
        "where bronze_rows <> silver_rows + quarantined_rows + duplicate_rows + deleted_rows "
        "+ superseded_rows")
    superseded = sales_faults.query(
        "select sum(superseded_rows) from silver.dq_row_reconciliation "
        "where table_name = 'sales_lines'")
    bronze_deliveries = sales_faults.query(
        "select count(distinct _dlt_load_id) from bronze_sales.sales_lines "
        f"where _source_file = '{sales_faults.corrected_file}'")
    assert unbalanced == []
    assert superseded == [(sales_faults.corrected_file_lines,)]
    assert bronze_deliveries == [(2,)]


def test_corrected_quantity_replaces_the_old_one_in_gold(sales_faults: SalesFaultsRun) -> None:
    assert _fct_quantity(sales_faults, sales_faults.corrected_line) == [(7,)]


def test_fixed_line_leaves_quarantine_for_gold(sales_faults: SalesFaultsRun) -> None:
    assert _fct_quantity(sales_faults, sales_faults.fixed_line) == [(2,)]


def test_line_dropped_by_a_correction_leaves_gold(sales_faults: SalesFaultsRun) -> None:
    """The union withdraws the line (it keeps the row, stamped) and fct_sales deletes it;
    the next day's run leaves both so."""
    assert _fct_quantity(sales_faults, sales_faults.dropped_line) == []
    assert sales_faults.after_day[1]["dropped_in_silver"] == [(True,)]
    assert sales_faults.after_day[1]["dropped_in_gold"] == []
    assert sales_faults.after_day[2]["dropped_in_silver"] == [(True,)]


def test_valid_silver_sales_lines_equal_fct_sales(sales_faults: SalesFaultsRun) -> None:
    silver = sales_faults.query("select count(*) from silver.int_sales_lines_unioned "
                                "where _withdrawn_at is null")
    gold = sales_faults.query("select count(*) from gold.fct_sales")
    store_lines = sales_faults.query(
        "select (select count(*) from silver.stg_sales__sales_lines), "
        "(select count(*) from gold.fct_sales where channel = 'store')")
    assert silver == gold
    assert store_lines[0][0] == store_lines[0][1]


def test_sale_at_a_late_store_is_kept_then_rekeyed(sales_faults: SalesFaultsRun) -> None:
    assert sales_faults.after_day[1]["late_store"] == [("-1", None)]
    store_key = sales_faults.query(
        f"select store_key from gold.dim_store where store_code = '{LATE_STORE_CODE}'")
    assert len(store_key) == 1
    assert sales_faults.after_day[2]["late_store"] == [(store_key[0][0],
                                                        sales_faults.late_store_id)]


@pytest.mark.parametrize("model", sorted(INCREMENTAL_MODELS))
def test_incremental_models_equal_a_full_refresh_after_faults(
        sales_faults: SalesFaultsRun, model: str) -> None:
    """The correction, the out-of-range lines and the late store reached each incremental
    model through its slice exactly as a rebuild from scratch gets them."""
    warehouse = sales_faults.warehouse
    assert warehouse.incremental_rows[model]
    assert warehouse.incremental_rows[model] == warehouse.full_refresh_rows[model]
